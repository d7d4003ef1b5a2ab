"""Paper sessions (backtest/paper.py): live async sources through the same driver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

from atlas_oms.backtest.paper import PaperSession, from_price_ticks
from atlas_oms.backtest.runner import AccountSpec
from atlas_oms.backtest.strategy import Strategy, StrategyContext
from atlas_oms.model import events as ev
from atlas_oms.model.venue import PriceTick
from atlas_oms.simulation.market import BookSnapshot, TradePrint

D = Decimal
T0 = 1_735_689_600_000_000_000


class BuyOnce(Strategy):
    def __init__(self) -> None:
        self.seen: list[object] = []
        self.fills: list[ev.OrderFilled] = []
        self.stopped = False

    def on_book(self, ctx: StrategyContext, book: BookSnapshot) -> None:
        self.seen.append(book)
        if sum(isinstance(x, BookSnapshot) for x in self.seen) == 2:
            ctx.buy("BTCUSDT", "0.01")

    def on_trade(self, ctx: StrategyContext, print_: TradePrint) -> None:
        self.seen.append(print_)

    def on_fill(self, ctx: StrategyContext, fill: ev.OrderFilled) -> None:
        self.fills.append(fill)

    def on_stop(self, ctx: StrategyContext) -> None:
        self.stopped = True


async def venue_ticks() -> AsyncIterator[PriceTick]:
    for i in range(3):
        await asyncio.sleep(0)
        yield PriceTick(
            symbol="BTC-USDT",
            ts=T0 + i * 1_000_000_000,
            bid=D(42_000) + i,
            ask=D(42_001) + i,
            last=D("42000.5") + i,
            bid_qty=D(2),
            ask_qty=D(3),
        )


def test_a_paper_session_trades_from_a_venues_ticks_on_the_feeds_clock() -> None:
    strategy = BuyOnce()
    session = PaperSession(
        [AccountSpec("paper-1", strategy, capital=D(10_000))],
        symbols=["BTCUSDT"],
        start_ns=T0,
    )

    async def main() -> int:
        n = await session.run(from_price_ticks(venue_ticks(), {"BTC-USDT": "BTCUSDT"}))
        session.stop()
        return n

    assert asyncio.run(main()) == 6  # a book snapshot and a trade print per tick
    assert [type(x).__name__ for x in strategy.seen[:2]] == ["BookSnapshot", "TradePrint"]
    assert len(strategy.fills) == 1 and strategy.stopped
    fill = strategy.fills[0]
    # the decision's time is the feed's (the second tick's), not the wall clock's
    assert fill.ts_event == T0 + 1_000_000_000
    assert D(42_001) <= fill.last_px <= D(42_100)  # bought near the ask, not at a stale price
    result = session.result()
    assert result.accounts["paper-1"].fills[0].qty == D("0.01")
    assert result.events == 6
