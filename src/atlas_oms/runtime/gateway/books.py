"""Public order books into the consolidated book (issue 16, MD-1): one ``books(symbols, depth)``
stream per venue (not per account: the books are public), taken from the first of its venue
accounts whose adapter has them (``core/ports.py::VenueBooks``), each :class:`VenueBook` handed to
the sinks (``runtime/market/hub.py::MarketData.apply``). A stream that fails or ends is restarted
with doubling backoff; a sink that raises is logged, never stops the stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from atlas_oms.core.ports import VenueBooks
from atlas_oms.model.route_book import VenueBook

log = logging.getLogger("atlas.gateway")

Sink = Callable[[VenueBook], None]


async def run_books(
    source: VenueBooks, symbols: list[str], depth: int, sinks: Sequence[Sink]
) -> None:
    """Hand every book ``source`` streams to ``sinks`` until the stream ends or fails."""
    async for book in source.books(symbols, depth):
        for sink in sinks:
            try:
                sink(book)
            except Exception:
                log.exception("a consolidated book sink failed on %s", book.symbol)
    raise RuntimeError("the order book stream ended")


async def keep_books(
    source: Callable[[], VenueBooks | None],
    symbols: Callable[[], list[str]],
    depth: int,
    sinks: Sequence[Sink],
    *,
    initial_s: float,
    max_s: float,
    venue: str = "",
) -> None:
    """:func:`run_books` until cancelled, restarted after a failure with a delay doubling from
    ``initial_s`` to ``max_s`` (back to ``initial_s`` after a stream that delivered books)."""
    delay = initial_s
    while True:
        adapter = source()
        names = symbols()
        counter = _Counter()
        try:
            if adapter is not None and names:
                await run_books(adapter, names, depth, [counter, *sinks])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("order books of %s failed: %s", venue, exc)
        if counter.n:
            delay = initial_s
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_s)


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, _: VenueBook) -> None:
        self.n += 1
