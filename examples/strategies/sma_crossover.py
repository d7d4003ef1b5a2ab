"""An SMA crossover with market orders: long when the fast average crosses above the slow one,
flat when it crosses back below. ``on``: the prices it averages: each bar's close (``bar``, the
default), each trade print's price (``trade``) or each book snapshot's mid (``book``), so that
``atlas paper`` on a venue's ticks (trades and book, no bars) trades too.

    atlas backtest --strategy examples/strategies/sma_crossover.py:SmaCrossover \
        --data examples/data/BTCUSDT-1m-sample.csv --account demo=10000 --out out/
    atlas paper --venue binance --symbol BTC/USDT --strategy ...:SmaCrossover --param on=trade \
        --param fast=5 --param slow=20 --param qty=0.001 --account demo=10000 --out out/paper
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from atlas_oms.backtest.strategy import Strategy, StrategyContext
from atlas_oms.simulation.market import Bar, BookSnapshot, TradePrint


class SmaCrossover(Strategy):
    def __init__(self, fast: int = 10, slow: int = 30, qty: str = "0.05", on: str = "bar") -> None:
        if fast >= slow:
            raise ValueError("fast must be shorter than slow")
        if on not in ("bar", "trade", "book"):
            raise ValueError("on must be bar, trade or book")
        self.on = on
        self.fast, self.slow, self.qty = fast, slow, Decimal(str(qty))  # str: a YAML 0.001
        self._closes: deque[Decimal] = deque(maxlen=slow)
        self._above: bool | None = None

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        if self.on == "bar":
            self._price(ctx, bar.symbol, bar.close)

    def on_trade(self, ctx: StrategyContext, print_: TradePrint) -> None:
        if self.on == "trade":
            self._price(ctx, print_.symbol, print_.price)

    def on_book(self, ctx: StrategyContext, book: BookSnapshot) -> None:
        if self.on == "book" and book.bids and book.asks:
            self._price(ctx, book.symbol, (book.bids[0][0] + book.asks[0][0]) / 2)

    def _price(self, ctx: StrategyContext, symbol: str, price: Decimal) -> None:
        self._closes.append(price)
        if len(self._closes) < self.slow:
            return
        closes = list(self._closes)
        fast = sum(closes[-self.fast :], Decimal(0)) / self.fast
        slow = sum(closes, Decimal(0)) / self.slow
        above = fast > slow
        if self._above is not None and above != self._above:
            held = ctx.position_qty(symbol)
            if above and held <= 0:
                ctx.buy(symbol, self.qty)
            elif not above and held > 0:
                ctx.sell(symbol, held)
        self._above = above
