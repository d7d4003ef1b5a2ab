"""Shared helpers of the venue tests live in this folder (``books_helpers``, ``fake_vault``): the
venue test folders are not all packages, so this folder is put on ``sys.path`` for every one."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
