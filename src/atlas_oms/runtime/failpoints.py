"""Failpoints: named places where a crash can be injected to prove recovery (as databases do).

``ATLAS_FAILPOINTS=gateway.before_send`` (a comma-separated list) makes :func:`hit` kill the process
with SIGKILL (a real ``kill -9``, sent by the process to itself) when the named point is reached: no
``finally`` blocks, no flush, no goodbye, exactly what a power cut or the OOM killer leaves. The
crash tests of the venue gateway use it to stop Atlas between journaling an order and sending it,
which no outside signal can hit reliably. Unset (always, in production) a failpoint costs one
frozenset lookup.
"""

from __future__ import annotations

import os
import signal
import sys

ENV = "ATLAS_FAILPOINTS"
_ARMED = frozenset(p.strip() for p in os.environ.get(ENV, "").split(",") if p.strip())


def armed(name: str) -> bool:
    return name in _ARMED


def hit(name: str) -> None:
    """Crash here if the failpoint ``name`` is armed."""
    if name in _ARMED:
        sys.stderr.write(f"failpoint {name}: kill -9\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
