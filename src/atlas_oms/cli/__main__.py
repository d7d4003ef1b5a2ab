"""``python -m atlas_oms.cli``: the ``atlas`` command."""

import sys

from atlas_oms.cli import main

sys.exit(main())
