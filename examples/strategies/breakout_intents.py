"""A breakout strategy that trades through managed trade intents (issue 13): it only says
"long here, stop there, risk R"; Atlas sizes the trade, enters it, places the stop and the
targets, trails the stop on each 1-minute bar and exits.

    atlas backtest --strategy examples/strategies/breakout_intents.py:BreakoutIntents \
        --data examples/data/BTCUSDT-1m-sample.csv --account demo=10000 --out out/
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from atlas_oms.backtest.strategy import Strategy, StrategyContext
from atlas_oms.simulation.market import Bar


class BreakoutIntents(Strategy):
    def __init__(self, lookback: int = 30, risk: str = "15", cooldown: int = 30) -> None:
        self.lookback = lookback
        self.risk = Decimal(risk)
        self.cooldown = cooldown
        self._bars: deque[Bar] = deque(maxlen=lookback)
        self._wait = 0

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        window = list(self._bars)
        self._bars.append(bar)
        if self._wait:
            self._wait -= 1
            return
        if len(window) < self.lookback or ctx.trades(open_only=True):
            return
        if bar.close > max(b.high for b in window):
            # below the last 10 bars' low, and at least 0.3% away (bounds the size R / distance)
            stop = min(
                *(b.low for b in window[-10:]),
                (bar.close * Decimal("0.997")).quantize(Decimal("0.01")),
            )
            if stop >= bar.close:
                return
            ctx.submit_intent(
                bar.symbol,
                "BUY",
                entry_ideal=bar.close,
                entry_max=(bar.close * Decimal("1.002")).quantize(Decimal("0.01")),
                stop=stop,
                risk_amount=self.risk,
            )
            self._wait = self.cooldown
