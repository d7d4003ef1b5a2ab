"""Let the matching tests run from a checkout where ``atlas_oms`` is not installed."""

import sys
from pathlib import Path

try:
    import atlas_oms  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
