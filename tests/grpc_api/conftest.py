"""The end-to-end gRPC tests start ``atlas serve`` with tests/service/serving.py's helpers."""

from __future__ import annotations

import sys
from pathlib import Path

_SERVICE = str(Path(__file__).resolve().parents[1] / "service")
if _SERVICE not in sys.path:
    sys.path.append(_SERVICE)
