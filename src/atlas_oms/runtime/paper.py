"""Paper trading beside live trading in one node (issue 14 §1, SIM-1).

A paper account trades on a :class:`~atlas_oms.simulation.venue.SimulatedVenue` named after the
real venue (``paper-binance`` for ``binance``); the simulated venue fills its orders against the
real venue's public market data (book ticker and trades, :class:`~atlas_oms.model.venue.PriceTick`)
or against a recorded feed (:mod:`atlas_oms.runtime.paper_replay`). The account, its risk limits and the execution policy are the live
ones: the node is the same, only the venue differs.

Instruments. A node keys instruments by symbol, and the live venue already lists ``BTC/USDT``; the
paper venue's copy is ``BTC/USDT@paper-binance`` (:func:`paper_symbol`), with
``venue="paper-binance"`` and ``venue_symbol`` the real unified symbol whose data it follows; tick,
lot, fees and limits are the real instrument's.

Feeding (:class:`PaperFeed`, one message at a time on the service's loop, like the gateway):

1. a tick becomes market events: a one-level :class:`BookSnapshot` from bid/ask (and their
   quantities when the venue gives them), a :class:`TradePrint` from the last trade;
2. each event goes through :meth:`MarketCore.on_market
   <atlas_oms.runtime.market_driver.MarketCore.on_market>`, the per-event function a backtest
   and a paper session use too: ``venue.on_market`` and every report it returns to ``node.feed``,
   then ``UpdatePrices`` for every tick while the core holds live orders (held stops and
   take-profits fire on it), open managed trades or derivative positions on the symbol;
3. otherwise the core gets ``UpdatePrices`` for the paper symbol (last trade, else mid; mark) when
   a price changed, at most every ``every_s``: the reference price of the next order's risk
   checks (a backtest's strategy brings it up to date before an order instead).

After a restart :func:`attach_paper` rebuilds the simulated venue's resting orders from the
node's (as ``Node`` does for the built-in exchange), so a paper account's resting orders survive.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.model import commands as c
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.venue import PriceTick
from atlas_oms.runtime.gateway.marketdata import PriceThrottle
from atlas_oms.runtime.market_driver import MarketCore
from atlas_oms.runtime.node import Node
from atlas_oms.simulation.market import BookSnapshot, MarketEvent, TradePrint
from atlas_oms.simulation.venue import SimulatedVenue

log = logging.getLogger("atlas.paper")
TWO = Decimal(2)


def paper_venue_name(venue: str) -> str:
    """The simulated venue that paper-trades ``venue``'s market."""
    return f"paper-{venue}"


def paper_symbol(symbol: str, venue: str) -> str:
    """The paper venue's symbol for a real unified ``symbol`` (``BTC/USDT@paper-binance``)."""
    return f"{symbol}@{venue}"


def paper_instrument(real: Instrument, venue: str) -> Instrument:
    """A copy of ``real`` listed on the paper ``venue`` (same tick, lot, fees and limits)."""
    return msgspec.structs.replace(
        real, symbol=paper_symbol(real.symbol, venue), venue=venue, venue_symbol=real.symbol
    )


def attach_paper(node: Node, venue: SimulatedVenue) -> SimulatedVenue:
    """Register ``venue`` with ``node`` (its requests go there), give it the node's instruments,
    and put back the orders resting on it (a restart)."""
    node.venues[venue.name] = venue
    venue.bind(node.engine.state.instruments)
    venue.restore(
        (o.symbol, o.order_id, o.account_id, o.side, o.price, o.leaves_qty)
        for o in node.resting_orders(venue.name)
        if o.price is not None
    )
    return venue


def tick_events(tick: PriceTick, symbol: str) -> list[MarketEvent]:
    """The market events of one tick, for the paper ``symbol``."""
    out: list[MarketEvent] = []
    if tick.bid is not None or tick.ask is not None:
        bids = ((tick.bid, tick.bid_qty or Decimal(0)),) if tick.bid is not None else ()
        asks = ((tick.ask, tick.ask_qty or Decimal(0)),) if tick.ask is not None else ()
        out.append(BookSnapshot(symbol=symbol, ts=tick.ts, bids=bids, asks=asks))
    if tick.last is not None:
        out.append(TradePrint(symbol=symbol, ts=tick.ts, price=tick.last, qty=Decimal(0)))
    return out


class PaperFeed:
    """Feeds one paper venue from the real venue's ticks (see the module)."""

    def __init__(
        self,
        node: Node,
        venue: SimulatedVenue,
        *,
        every_s: float = 0.25,
        now: Callable[[], float] | None = None,
        only: Iterable[str] | None = None,
    ) -> None:
        self.node = node
        self.venue = venue
        #: The venue-and-core half of the market driver, as a backtest's (venue fills, then the
        #: core's prices while it holds orders, trades or derivative positions there); the
        #: node's clock and its timers stay the service's.
        self.core = MarketCore(node, venue, follow_clock=False, advance_time=False)
        #: The real symbols this venue lists and follows (None: all the real venue's).
        self.only: frozenset[str] | None = frozenset(only) if only else None
        self.throttle = PriceThrottle(every_s, now or _monotonic)
        self._primed: set[str] = set()

    def symbols(self) -> dict[str, str]:
        """Real unified symbol -> paper symbol, for every instrument listed on the paper venue
        (and in :attr:`only` when it is set)."""
        only = self.only
        out: dict[str, str] = {}
        for i in self.node.instruments():
            real = i.venue_symbol or i.symbol
            if i.venue == self.venue.name and (only is None or real in only):
                out[real] = i.symbol
        return out

    def list_instruments(self, real: Iterable[Instrument]) -> int:
        """List (or update) the paper copies of the real venue's instruments; return how many
        changed."""
        changed = 0
        for inst in real:
            if self.only is not None and inst.symbol not in self.only:
                continue
            copy = paper_instrument(inst, self.venue.name)
            if self.node.instrument(copy.symbol) != copy:
                self.node.process(c.AddInstrument(ts=self.node.clock.now(), instrument=copy))
                changed += 1
        return changed

    def on_tick(self, tick: PriceTick, symbol: str | None = None) -> None:
        """One tick of the real symbol ``tick.symbol`` (or for the paper ``symbol`` given)."""
        target = self._target(symbol or tick.symbol, symbol is not None)
        if target is None:
            return
        for event in tick_events(tick, target):
            self.core.on_market(event)
        last = tick.last
        if last is None and tick.bid is not None and tick.ask is not None:
            last = (tick.bid + tick.ask) / TWO
        self._offer(target, last, tick.mark)

    def on_event(self, event: MarketEvent) -> None:
        """One recorded market event of the real symbol ``event.symbol`` (a recorded feed:
        :mod:`atlas_oms.runtime.paper_replay`), as :meth:`on_tick` does a tick."""
        target = self._target(event.symbol, False)
        if target is None:
            return
        self.core.on_market(msgspec.structs.replace(event, symbol=target))
        if isinstance(event, TradePrint):
            last: Decimal | None = event.price
        elif isinstance(event, BookSnapshot):
            last = (
                (event.bids[0][0] + event.asks[0][0]) / TWO if event.bids and event.asks else None
            )
        else:
            last = event.close
        self._offer(target, last, None)

    def _target(self, symbol: str, paper: bool) -> str | None:
        """The paper symbol of real ``symbol`` (``paper``: it is one), learnt by the core."""
        target = symbol if paper else self.symbols().get(symbol)
        if target is not None and target not in self._primed:
            self._primed.add(target)
            self.core.prime([target])
        return target

    def _offer(self, target: str, last: Decimal | None, mark: Decimal | None) -> None:
        """The core's reference price of ``target``, throttled."""
        if mark is None and target in self.core.need_prices:
            return  # the core has this tick's price already
        if (last is not None or mark is not None) and self.throttle.offer(target, last, mark):
            self._send(target, *self.throttle.sent[target][1:])

    def flush(self) -> None:
        """Send the price changes the throttle held back."""
        for symbol, last, mark in self.throttle.due():
            self._send(symbol, last, mark)

    def _send(self, symbol: str, last: Decimal | None, mark: Decimal | None) -> None:
        if last is None and mark is None:
            return
        inst = self.node.instrument(symbol)
        if last is not None and inst is not None:  # a mid can fall between two ticks
            last = (last / inst.tick_size).to_integral_value() * inst.tick_size
        self.node.process(
            c.UpdatePrices(ts=self.node.clock.now(), symbol=symbol, last=last, mark=mark)
        )


def _monotonic() -> float:
    return asyncio.get_running_loop().time()


async def run_paper(
    feed: PaperFeed,
    source: Any,
    *,
    retry_s: float = 1.0,
    retry_max_s: float = 30.0,
) -> None:
    """Keep ``feed`` fed from ``source`` (a venue adapter: ``instruments()`` and
    ``prices(symbols)``) until cancelled: list the paper instruments, then stream; reconnect
    after a failure, waiting ``retry_s`` doubling up to ``retry_max_s``."""
    backoff = retry_s
    while True:
        try:
            listed = await source.instruments()
            feed.list_instruments(vi.instrument for vi in listed)
            symbols = list(feed.symbols())
            if symbols:
                await _stream(feed, source.prices(symbols), feed.throttle.every_s)
            backoff = retry_s
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("paper market data of %s failed: %s", feed.venue.name, exc)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, retry_max_s)


async def _stream(feed: PaperFeed, ticks: AsyncIterator[PriceTick], every_s: float) -> None:
    async def flush() -> None:
        while True:
            await asyncio.sleep(every_s)
            feed.flush()

    async with asyncio.TaskGroup() as group:
        flusher = group.create_task(flush())
        try:
            async for tick in ticks:
                feed.on_tick(tick)
        finally:
            flusher.cancel()
    raise RuntimeError("the market data stream ended")
