"""An SMA crossover with market orders: long when the fast average crosses above the slow one,
flat when it crosses back below.

    atlas backtest --strategy examples/strategies/sma_crossover.py:SmaCrossover \
        --data examples/data/BTCUSDT-1m-sample.csv --account demo=10000 --out out/
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from atlas_oms.backtest.strategy import Strategy, StrategyContext
from atlas_oms.simulation.market import Bar


class SmaCrossover(Strategy):
    def __init__(self, fast: int = 10, slow: int = 30, qty: str = "0.05") -> None:
        if fast >= slow:
            raise ValueError("fast must be shorter than slow")
        self.fast, self.slow, self.qty = fast, slow, Decimal(qty)
        self._closes: deque[Decimal] = deque(maxlen=slow)
        self._above: bool | None = None

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self._closes.append(bar.close)
        if len(self._closes) < self.slow:
            return
        closes = list(self._closes)
        fast = sum(closes[-self.fast :], Decimal(0)) / self.fast
        slow = sum(closes, Decimal(0)) / self.slow
        above = fast > slow
        if self._above is not None and above != self._above:
            held = ctx.position_qty(bar.symbol)
            if above and held <= 0:
                ctx.buy(bar.symbol, self.qty)
            elif not above and held > 0:
                ctx.sell(bar.symbol, held)
        self._above = above
