"""Paper trading: the same strategies and the same :class:`MarketDriver` as a backtest, on a live
asyncio loop, fed by an async source of market events.

Sources:

- a recorded feed (:func:`write_feed` / :func:`read_feed`: one JSON object a line) played back by
  :func:`replay` with its time gaps scaled by ``speed`` (2.0 = twice as fast; 0 = no waiting);
- any async iterator of market events, e.g. a venue adapter's public ticks turned into book
  snapshots and trade prints by :func:`from_price_ticks`.

**The clock.** The node's clock is a :class:`ManualClock` that the driver sets to each event's
``ts``, in paper mode as in a backtest: the venue's timestamp (or the recording's) is the time of
every decision the event sets off, so a decision depends only on the data, never on when the loop
got to it. That is what makes paper and backtest give the same journal on the same data
(``tests/backtest/test_parity.py``); wall-clock time only paces the playback.

A session is set up exactly as a backtest (:meth:`Backtest.build`: instruments on the simulated
venue, accounts funded by their capital or allocation, strategies), from ``start_ns`` on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from atlas_oms.backtest.runner import AccountSpec, Backtest, BacktestResult
from atlas_oms.model.venue import PriceTick
from atlas_oms.runtime.executor import ExecutionMode
from atlas_oms.simulation.feed import (
    feed_line,
    instruments_path,
    read_feed,
    read_instruments,
    write_feed,
    write_instruments,
)
from atlas_oms.simulation.market import Bar, BookSnapshot, MarketEvent, TradePrint

__all__ = [
    "PaperSession",
    "bars_of",
    "feed_line",
    "from_price_ticks",
    "instruments_path",
    "monotonic",
    "read_feed",
    "read_instruments",
    "recording",
    "replay",
    "write_feed",
    "write_instruments",
]


# ------------------------------------------------------------------------------ recorded feeds
async def recording(
    source: AsyncIterable[MarketEvent], path: str | Path
) -> AsyncIterator[MarketEvent]:
    """Pass ``source`` through, appending each event to the feed file ``path`` (created empty)
    as it goes by, flushed a line at a time: a session stopped at any point leaves a feed that
    :func:`read_feed` reads back, the events the session applied."""
    with Path(path).open("w") as fh:
        async for event in source:
            fh.write(feed_line(event))
            fh.flush()
            yield event


async def monotonic(source: AsyncIterable[MarketEvent]) -> AsyncIterator[MarketEvent]:
    """``source`` with times that never go back (a venue's book ticker and trade streams are
    stamped by different clocks): an event older than the one before it takes that one's time.
    The session's clock follows the events' times, and a clock cannot go back."""
    last: int | None = None
    async for event in source:
        if last is not None and event.ts < last:
            if isinstance(event, Bar):
                event = msgspec.structs.replace(event, ts=last, start_ns=min(event.start_ns, last))
            else:
                event = msgspec.structs.replace(event, ts=last)
        last = event.ts
        yield event


async def replay(
    events: Iterable[MarketEvent],
    speed: float = 1.0,
    *,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> AsyncIterator[MarketEvent]:
    """Yield ``events`` paced by their time gaps divided by ``speed`` (0: as fast as the loop
    goes, still yielding to it between events)."""
    previous: int | None = None
    for event in events:
        if previous is not None:
            gap = (event.ts - previous) / 1e9
            await sleep(gap / speed if speed > 0 and gap > 0 else 0)
        previous = event.ts
        yield event


async def from_price_ticks(
    ticks: AsyncIterable[PriceTick], symbols: dict[str, str] | None = None
) -> AsyncIterator[MarketEvent]:
    """A venue adapter's public ticks as market events: a tick with bid and ask becomes a
    one-level :class:`BookSnapshot`, one with a last price a :class:`TradePrint` (quantity 0:
    a ticker gives none). ``symbols`` maps the venue's symbols to Atlas's."""
    async for t in ticks:
        symbol = (symbols or {}).get(t.symbol, t.symbol)
        if t.bid is not None and t.ask is not None:
            yield BookSnapshot(
                symbol=symbol,
                ts=t.ts,
                bids=((t.bid, t.bid_qty or Decimal(0)),),
                asks=((t.ask, t.ask_qty or Decimal(0)),),
            )
        if t.last is not None:
            yield TradePrint(symbol=symbol, ts=t.ts, price=t.last, qty=Decimal(0), side=None)


async def bars_of(
    source: AsyncIterable[MarketEvent], interval_ns: int
) -> AsyncIterator[MarketEvent]:
    """``source``'s ticks as bars of ``interval_ns`` (aligned on the epoch), per symbol: OHLC of
    the bar's trade prices (its book mids when it had no trade), volume the trades' quantities
    (0 from a ticker stream, which gives none). A bar is yielded when the first event at or after
    its end arrives (a quiet market's bar comes late; an unfinished bar at the end is dropped);
    bars that come in go through as they are. So a bar strategy runs unchanged in paper mode, on
    the data a backtest on bar files sees."""
    open_bars: dict[str, list[Any]] = {}  # symbol -> [start, o, h, l, c, volume, from_trades]
    async for event in source:
        if isinstance(event, Bar):
            yield event
            continue
        symbol, ts = event.symbol, event.ts
        start = ts - ts % interval_ns
        current = open_bars.get(symbol)
        if current is not None and start > current[0]:
            b0, o, h, lo, cl, vol, _ = current
            yield Bar(
                symbol=symbol, start_ns=b0, ts=b0 + interval_ns, open=o, high=h, low=lo,
                close=cl, volume=vol,
            )  # fmt: skip
            current = None
            del open_bars[symbol]
        if isinstance(event, TradePrint):
            price, qty, trade = event.price, event.qty, True
        elif isinstance(event, BookSnapshot) and event.bids and event.asks:
            price, qty, trade = (event.bids[0][0] + event.asks[0][0]) / 2, Decimal(0), False
        else:
            continue
        if current is None or (trade and not current[6]):
            # a new bar; or the first trade of a bar that had only mids: trades make it
            current = open_bars[symbol] = [start, price, price, price, price, Decimal(0), trade]
        elif trade or not current[6]:
            current[2] = max(current[2], price)
            current[3] = min(current[3], price)
            current[4] = price
        current[5] += qty


# ------------------------------------------------------------------------------ the session
class PaperSession:
    """Strategies trading paper accounts on the simulated venue from a live source of market
    data, through the same driver as a backtest."""

    def __init__(
        self,
        accounts: Sequence[AccountSpec],
        *,
        symbols: Sequence[str],
        start_ns: int,
        **settings: Any,
    ) -> None:
        """``settings``: what :class:`Backtest` takes besides data (``instruments``,
        ``total_capital``, ``allocation``, ``fills``, ``journal``, ``venue_name``,
        ``venue_factory``, ``policy_overrides``, ``stress``); the executors run in PAPER mode
        unless ``mode`` says otherwise."""
        settings.setdefault("mode", ExecutionMode.PAPER)
        self._setup = Backtest(accounts, events=(), progress=False, **settings)
        self.start_ns = start_ns
        built = self._setup.build(symbols=symbols, start_ns=start_ns)
        self.node, self.venue, self.driver, self.recorder, self.capitals = built
        self.events = 0
        self.bars = 0
        self._last_ts = start_ns
        self._elapsed = 0.0

    async def run(self, source: AsyncIterable[MarketEvent], *, limit: int | None = None) -> int:
        """Apply every event of ``source`` (at most ``limit``) as it comes; return how many.
        The strategies' ``on_stop`` runs when the source ends (or at :meth:`stop`)."""
        driver = self.driver
        sample = self.recorder.sample
        exposed_accounts = driver.exposed_accounts
        driver.start()
        n = 0
        t0 = time.perf_counter()
        try:
            async for event in source:
                driver.apply(event)
                if event.__class__ is Bar:
                    self.bars += 1
                sample(event.ts, exposed_accounts())
                self._last_ts = event.ts
                n += 1
                if limit is not None and n >= limit:
                    break
        finally:
            self._elapsed += time.perf_counter() - t0
            self.events += n
        return n

    def stop(self) -> None:
        """End the session: the strategies' ``on_stop``."""
        self.driver.stop()

    def result(self) -> BacktestResult:
        """The session's fills, round trips and equity so far (as a backtest's result)."""
        return self._setup.result(
            self.node,
            self.recorder,
            self.capitals,
            events=self.events,
            bars=self.bars,
            start_ns=self.start_ns,
            end_ns=self._last_ts,
            elapsed_s=self._elapsed,
        )
