"""The backtest runner's speed: bars per second through the whole per-bar loop.

- ``backtest_bars_per_s`` (target >= 100,000): one instrument, one account whose strategy looks
  at every bar and never orders;
- ``backtest_bars_per_s_orders`` (target >= 20,000): the same with a market order every 10 bars
  (buy, then sell it back 10 bars later), filled by the simulated venue's default fill model.

Timed: :meth:`Backtest.drive`, i.e. per bar the :class:`MarketDriver` (the intra-bar ticks to
the simulated venue, the core's messages when something is live, the strategy's callbacks and
fills) and the recorder's equity sample. Not timed: making the bars (generated in memory, a
seeded random walk: file loading is excluded) and setting up the node, venue and accounts.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any

from atlas_oms.backtest.runner import AccountSpec, Backtest
from atlas_oms.backtest.strategy import Strategy, StrategyContext
from atlas_oms.benchmarks.core import settle_gc
from atlas_oms.simulation.market import Bar

BARS = 200_000
BARS_QUICK = 5_000
SYMBOL = "BTCUSDT"
START_NS = 1_704_067_200_000_000_000
MINUTE_NS = 60_000_000_000


def make_bars(n: int, seed: int = 14) -> list[Bar]:
    """``n`` one-minute bars of a seeded random walk around 40,000 (cents)."""
    rng = random.Random(seed)
    cents = 4_000_000
    out = []
    for i in range(n):
        o = cents
        c = max(100, o + rng.randint(-2_000, 2_000))
        h = max(o, c) + rng.randint(0, 1_000)
        lo = min(o, c) - rng.randint(0, 1_000)
        out.append(
            Bar(
                symbol=SYMBOL,
                start_ns=START_NS + i * MINUTE_NS,
                ts=START_NS + (i + 1) * MINUTE_NS,
                open=Decimal(o).scaleb(-2),
                high=Decimal(h).scaleb(-2),
                low=Decimal(lo).scaleb(-2),
                close=Decimal(c).scaleb(-2),
                volume=Decimal(rng.randint(1_000, 30_000)).scaleb(-3),
            )
        )
        cents = c
    return out


class Watcher(Strategy):
    """Looks at every bar, never orders."""

    name = "watcher"

    def __init__(self) -> None:
        self.last = Decimal(0)

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self.last = bar.close


class EveryTen(Strategy):
    """A market order every 10 bars: buy 0.01, then sell it back."""

    name = "every-ten"

    def __init__(self) -> None:
        self.n = 0
        self.long = False
        self.qty = Decimal("0.01")

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self.n += 1
        if self.n % 10:
            return
        if self.long:
            ctx.sell(bar.symbol, self.qty)
        else:
            ctx.buy(bar.symbol, self.qty)
        self.long = not self.long


def _rate(strategy: Strategy, bars: list[Bar]) -> tuple[float, int]:
    backtest = Backtest(
        [AccountSpec("bench", strategy, capital=Decimal(10_000_000))],
        events=bars,
        progress=False,
    )
    _node, _venue, driver, recorder, _cap = backtest.build(bars)
    settle_gc()
    t0 = time.perf_counter()
    Backtest.drive(driver, recorder, bars, False)
    elapsed = time.perf_counter() - t0
    fills = len(recorder.fills["bench"])
    return len(bars) / elapsed, fills


def bench_backtest(quick: bool) -> dict[str, Any]:
    n = BARS_QUICK if quick else BARS
    bars = make_bars(n)
    idle, _ = _rate(Watcher(), bars)
    busy, fills = _rate(EveryTen(), bars)
    return {
        "backtest_bars_per_s": round(idle),
        "backtest_bars_per_s_orders": round(busy),
        "backtest_orders_filled": fills,
        "n": {"backtest_bars": n},
    }
