"""Public market data into the engine: ``UpdatePrices`` (last = last trade, else the mid of bid
and ask; mark for perpetuals), at most one per symbol every ``price_every_s`` and only when a price
changed, so the journal is not flooded by ticks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal

from atlas_oms.core.ports import VenueMarketData
from atlas_oms.model import commands as c
from atlas_oms.model.venue import PriceTick
from atlas_oms.runtime.gateway.nodeport import NodePort

log = logging.getLogger("atlas.gateway")
TWO = Decimal(2)


class PriceThrottle:
    """Decides which ticks reach the engine (per symbol: changed, and not too soon)."""

    def __init__(self, every_s: float, now: Callable[[], float]) -> None:
        self.every_s = every_s
        self.now = now
        self.sent: dict[str, tuple[float, Decimal | None, Decimal | None]] = {}
        self.pending: dict[str, tuple[Decimal | None, Decimal | None]] = {}

    @staticmethod
    def prices(tick: PriceTick) -> tuple[Decimal | None, Decimal | None]:
        last = tick.last
        if last is None and tick.bid is not None and tick.ask is not None:
            last = (tick.bid + tick.ask) / TWO
        return last, tick.mark

    def offer(self, symbol: str, last: Decimal | None, mark: Decimal | None) -> bool:
        """Whether to send now; a change held back is kept as pending (:meth:`due`)."""
        previous = self.sent.get(symbol)
        if previous is not None:
            at, sent_last, sent_mark = previous
            last = sent_last if last is None else last
            mark = sent_mark if mark is None else mark
            if (last, mark) == (sent_last, sent_mark):
                self.pending.pop(symbol, None)
                return False
            if self.now() - at < self.every_s:
                self.pending[symbol] = (last, mark)
                return False
        self.sent[symbol] = (self.now(), last, mark)
        self.pending.pop(symbol, None)
        return True

    def due(self) -> list[tuple[str, Decimal | None, Decimal | None]]:
        now = self.now()
        out = []
        for symbol, (last, mark) in list(self.pending.items()):
            at = self.sent[symbol][0]
            if now - at >= self.every_s:
                self.sent[symbol] = (now, last, mark)
                del self.pending[symbol]
                out.append((symbol, last, mark))
        return out


async def run_prices(
    node: NodePort,
    source: VenueMarketData,
    symbols: list[str],
    every_s: float,
    quotes: dict[str, PriceTick] | None = None,
    on_tick: Callable[[PriceTick], None] | None = None,
) -> None:
    """Feed ``symbols``' prices from ``source`` into ``node`` until cancelled; ``quotes`` keeps
    the latest tick of each symbol as it came (bid, ask, last, mark: what the API shows);
    ``on_tick`` sees every tick (the trade statistics, runtime/market/trade_stats.py)."""
    loop = asyncio.get_running_loop()
    throttle = PriceThrottle(every_s, loop.time)

    def send(symbol: str, last: Decimal | None, mark: Decimal | None) -> None:
        if last is None and mark is None:
            return
        node.process(c.UpdatePrices(ts=node.clock.now(), symbol=symbol, last=last, mark=mark))

    async def flush_pending() -> None:
        while True:
            await asyncio.sleep(every_s)
            for symbol, last, mark in throttle.due():
                send(symbol, last, mark)

    async with asyncio.TaskGroup() as group:
        group.create_task(flush_pending())
        async for tick in source.prices(symbols):
            if on_tick is not None:
                on_tick(tick)
            if quotes is not None:
                known = quotes.get(tick.symbol)
                quotes[tick.symbol] = (
                    tick
                    if known is None
                    else PriceTick(
                        symbol=tick.symbol,
                        ts=tick.ts,
                        bid=tick.bid if tick.bid is not None else known.bid,
                        ask=tick.ask if tick.ask is not None else known.ask,
                        last=tick.last if tick.last is not None else known.last,
                        mark=tick.mark if tick.mark is not None else known.mark,
                        bid_qty=tick.bid_qty if tick.bid is not None else known.bid_qty,
                        ask_qty=tick.ask_qty if tick.ask is not None else known.ask_qty,
                    )
                )
            last, mark = throttle.prices(tick)
            if (last is not None or mark is not None) and throttle.offer(tick.symbol, last, mark):
                send(tick.symbol, *throttle.sent[tick.symbol][1:])
        raise RuntimeError("the market data stream ended")
