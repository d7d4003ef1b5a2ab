"""Seed 001 §10 stop maintenance at scale: one 1-minute bar close that tightens the trailing stop
of 1,000 open managed trades (``policy_bar_close_1k_trades_ms``, target <= 20 ms).

Set-up (not timed): one symbol on the built-in exchange, 14 warm-up bars (so the ATR, EMA and
every §10.2 term exist), then 1,000 TRAIL_ONLY longs of 100 at 100 (stop0 98), one per account
(a pipeline holds one open trade), each filled at once against a maker. Timed: ``Node.process(ApplyBar)`` of a bar whose high rises by 1 each
time, so every trade's trail candidate (high - 2 x ATR) tightens: per trade one stop MODIFY (the
held stop-limit is replaced at once) and one ``TradeStopMoved``, all journaled. The last price is
moved above the bar before each one (not timed), so no stop triggers. The figure is the median of
``BARS`` bar closes.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal
from typing import Any

from atlas_oms.benchmarks.core import settle_gc
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node

N_TRADES = 1_000
N_TRADES_QUICK = 50
BARS = 7
BARS_QUICK = 3
SYMBOL = "XYZ/USD"
MINUTE_NS = 60_000_000_000
#: 30 s into a minute.
START_NS = 1_767_623_400_000_000_000 + 30_000_000_000
D = Decimal


def _node(n: int) -> Node:
    node = Node.in_memory(clock=ManualClock(START_NS))
    node.add_instrument(Instrument.spot(SYMBOL, tick_size="0.01", lot_size="1"))
    # one trade per account: a pipeline (account, symbol) holds one open trade (seed 001 §12)
    for account in ("maker", *(f"trader{i}" for i in range(n))):
        node.open_account(account)
        node.deposit(account, "USD", 10_000_000 if account != "maker" else 10_000_000_000)
        node.deposit(account, "XYZ", 100_000 if account != "maker" else 100_000_000)
    node.update_prices(SYMBOL, last=100)
    first = START_NS - START_NS % MINUTE_NS - 20 * MINUTE_NS
    for i in range(14):  # ATR 0.5, EMA 100, no swing points
        node.apply_bar(SYMBOL, first + i * MINUTE_NS, 100, "100.25", "99.75", 100, 100)
    node.sell("maker", SYMBOL, 100 * n, 100)
    for i in range(n):
        node.trade(
            f"t{i}",
            f"trader{i}",
            SYMBOL,
            Side.BUY,
            entry_ideal=100,
            entry_max=101,
            stop=98,
            risk_amount=200,
            target_policy="TRAIL_ONLY",
        )
    protected = sum(t.phase == "PROTECTED" for t in node.managed_trades())
    if protected != n:
        raise RuntimeError(f"only {protected} of {n} trades are protected")
    return node


def bench_bar_close(quick: bool) -> dict[str, Any]:
    n = N_TRADES_QUICK if quick else N_TRADES
    bars = BARS_QUICK if quick else BARS
    node = _node(n)
    minute = START_NS - START_NS % MINUTE_NS
    samples: list[float] = []
    settle_gc()
    for k in range(1, bars + 1):
        high = D(102 + k)
        node.update_prices(SYMBOL, last=high + 1)
        command = c.ApplyBar(
            ts=node.clock.now(),
            symbol=SYMBOL,
            start_ns=minute + k * MINUTE_NS,
            open=high - 1,
            high=high,
            low=high - 1,
            close=high,
            volume=D(100),
        )
        t0 = time.perf_counter_ns()
        events = node.process(command)
        samples.append((time.perf_counter_ns() - t0) / 1e6)
        moved = sum(isinstance(e, ev.TradeStopMoved) for e in events)
        if moved != n:
            raise RuntimeError(f"a bar close moved {moved} of {n} stops")
    return {
        "policy_bar_close_1k_trades_ms": round(statistics.median(samples), 3),
        "policy_bar_close_max_ms": round(max(samples), 3),
        "n": {"policy_trailing_trades": n, "policy_bar_closes": bars},
    }
