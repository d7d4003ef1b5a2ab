"""Keep a ccxt.pro ``watch_*`` call going: each call returns at the venue's next message, so it
is called again; a failure waits and retries with a doubling delay (the backoff's
``reconnect_min_s`` .. ``reconnect_max_s``, read at each step, so a changed setting applies).

A ``CancelledError`` that is not this task's own cancellation (ccxt cancels a watch's future
when its connection is closed under it) is a retry too; the task's own cancellation ends it.
Every adapter's private-stream and public-price subscriptions run through :func:`keep_watching`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol


class Backoff(Protocol):
    reconnect_min_s: float
    reconnect_max_s: float


async def keep_watching(
    watch: Callable[[], Awaitable[Any]],
    backoff: Backoff,
    on_error: Callable[[], None] | None = None,
) -> None:
    """Call ``watch()`` until this task is cancelled; ``on_error`` is told of each failure
    before the wait (a private stream reports itself lost)."""
    delay = backoff.reconnect_min_s
    while True:
        try:
            await watch()
            delay = backoff.reconnect_min_s
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            await asyncio.sleep(delay)
        except Exception:
            if on_error is not None:
                on_error()
            await asyncio.sleep(delay)
            delay = min(delay * 2, backoff.reconnect_max_s)
