"""One push after an operation, however many changes it made: the fakes' book and quote streams
send what changed once the order operation that changed it is done (not once per change)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class PushSoon:
    """Call ``push`` once, soon (``call_soon``) after the first :meth:`request` since the last
    push; outside a running event loop a request is nothing (nobody is subscribed there)."""

    __slots__ = ("_push", "_scheduled")

    def __init__(self, push: Callable[[], None]) -> None:
        self._push = push
        self._scheduled = False

    def request(self) -> None:
        if self._scheduled:
            return
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().call_soon(self._run)
            self._scheduled = True

    def _run(self) -> None:
        self._scheduled = False
        self._push()
