"""``algo_slice_us``: the cost of the parent-order framework for one TWAP slice on the built-in
exchange: the timer tick that finds the slice due, decides its size (catch-up) and price (the
best opposite resting order, 5 bps through), places the IOC child (every pre-trade check) and
fills it against a market maker's resting ask, with the parent's bookkeeping. Parents of 100
slices run one after another on one node (each parent's children stay in its state, as they
would), so the figure includes a parent's per-slice sums over its children. The p99
(``algo_slice_us``) and the median (``algo_slice_p50_us``) of single ticks, in µs."""

from __future__ import annotations

import gc
import time
from typing import Any

from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node

SEC = 1_000_000_000
SLICES = 100


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def bench_algo_slice(quick: bool) -> dict[str, Any]:
    parents = 3 if quick else 20
    clock = ManualClock(1_000 * SEC)
    node = Node(clock=clock)
    node.add_instrument(Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.001"))
    for account in ("mm", "t1"):
        node.open_account(account)
        node.deposit(account, "USDT", 10**12)
        node.deposit(account, "BTC", 10**9)
    node.sell("mm", "BTC/USDT", "1000000", "30000")
    node.buy("mm", "BTC/USDT", "1000000", "29990")
    times: list[float] = []
    perf = time.perf_counter_ns
    gc.collect()
    gc.freeze()
    try:
        for p in range(parents):
            start = clock.now()
            node.submit_algo(
                "t1",
                "BTC/USDT",
                "BUY",
                "10",
                "TWAP",
                algo_id=f"tw{p}",
                start_ts=start,
                end_ts=start + SLICES * SEC + 1,
                slices=SLICES,
                slice_aggression_bps=5,
            )  # fmt: skip  (slice 0 starts with the submit: not timed)
            for k in range(1, SLICES):
                clock.set(start + k * SEC)
                t0 = perf()
                node.tick()
                times.append((perf() - t0) / 1000)
            clock.set(start + SLICES * SEC + 1)
            node.tick()
            view = node.algo(f"tw{p}")
            assert view.status == "DONE", (view.status, view.cum_qty)
    finally:
        gc.unfreeze()
    return {
        "algo_slice_us": round(_percentile(times, 0.99), 1),
        "algo_slice_p50_us": round(_percentile(times, 0.50), 1),
        "n": {"algo_slices": len(times), "algo_parents": parents},
    }
