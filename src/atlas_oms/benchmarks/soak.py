"""Soak: does memory stay bounded while orders keep coming? ``python -m atlas_oms.benchmarks.soak``.

A fresh interpreter runs a :class:`~atlas_oms.runtime.node.Node` on a SQLite journal (with its
history store) and a manual clock, against the built-in exchange. Each round is five orders, all
with client order ids: the market maker rests an ask, a trader buys it at market, the maker rests
a bid, the trader sells into it at market, and the trader rests a limit buy and cancels it.
Simulated time moves ``step_ns`` per order and the node gets a timer tick (``node.tick()``) every
``TICK_EVERY`` orders, so the retention windows pass and orders are actually archived.

The full run uses the default windows (orders: 1 hour, client order ids: 24 hours) with two
simulated seconds per order; the warm-up (60,000 orders, 33 simulated hours) passes both windows,
then 100,000 orders are measured. ``--quick`` passes short windows (60 s and 600 s) and runs
2,000 + 4,000 orders. Reported: the growth of the current RSS (``VmRSS``) over the measured
orders, per 100,000 orders, and the rate held (orders per second of wall time, ticks, archives,
journal and history writes included). Prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

S = 1_000_000_000
TICK_EVERY = 100
FULL: dict[str, Any] = {"warmup": 60_000, "measured": 100_000, "step_ns": 2 * S, "retention": None}
QUICK: dict[str, Any] = {
    "warmup": 2_000,
    "measured": 4_000,
    "step_ns": S,
    "retention": (60 * S, 600 * S),
}


def current_rss_mb() -> float:
    """Resident set size of this process now, in MiB (Linux ``VmRSS``; else the peak)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    from atlas_oms.benchmarks.memory import rss_mb

    return rss_mb()


def measure(
    warmup: int, measured: int, step_ns: int, retention: Sequence[int] | None
) -> dict[str, Any]:
    from atlas_oms.benchmarks.core import START_NS, SYMBOL, instrument
    from atlas_oms.core.config import EngineConfig
    from atlas_oms.model.commands import CancelOrder, SubmitOrder
    from atlas_oms.model.enums import OrderType, Side
    from atlas_oms.runtime.clock import ManualClock
    from atlas_oms.runtime.node import Node
    from atlas_oms.store.sqlite import SqliteJournal

    config = (
        EngineConfig()
        if retention is None
        else EngineConfig(order_retention_ns=retention[0], client_id_retention_ns=retention[1])
    )
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(START_NS)
        node = Node(SqliteJournal(Path(tmp) / "soak.db"), clock=clock, config=config)
        node.add_instrument(instrument())
        for account in ("mm", "trader"):
            node.open_account(account)
            node.deposit(account, "USDT", 100_000_000_000)
            node.deposit(account, "BTC", 10_000_000)
        node.update_prices(SYMBOL, last="50000")
        process = node.process
        qty = Decimal("0.001")
        ask, bid, low = Decimal("50000.01"), Decimal("49999.99"), Decimal("49000")
        orders = 0
        sample: dict[str, float] = {}

        def submit(account: str, side: Side, kind: OrderType, price: Decimal | None) -> None:
            nonlocal orders
            orders += 1
            clock.advance(step_ns)
            process(
                SubmitOrder(
                    ts=clock.now(),
                    account_id=account,
                    symbol=SYMBOL,
                    side=side,
                    order_type=kind,
                    qty=qty,
                    price=price,
                    client_order_id=f"c{orders}",
                )
            )
            if orders % TICK_EVERY == 0:
                node.tick()

        total = warmup + measured
        started = 0.0
        while orders < total:
            if not sample and orders >= warmup:
                node.flush()
                gc.collect()
                sample = {
                    "rss": current_rss_mb(),
                    "orders": orders,
                    "in_memory": node.orders_in_memory(),
                }
                started = time.perf_counter()
            submit("mm", Side.SELL, OrderType.LIMIT, ask)
            submit("trader", Side.BUY, OrderType.MARKET, None)
            submit("mm", Side.BUY, OrderType.LIMIT, bid)
            submit("trader", Side.SELL, OrderType.MARKET, None)
            submit("trader", Side.BUY, OrderType.LIMIT, low)
            process(
                CancelOrder(ts=clock.now(), account_id="trader", order_id=node.next_order_id - 1)
            )
        elapsed = time.perf_counter() - started
        node.flush()
        gc.collect()
        rss = current_rss_mb()
        done = orders - int(sample["orders"])
        in_memory = node.orders_in_memory()
        if in_memory > total // 2:
            raise RuntimeError(
                f"soak workload broken: {in_memory} of {total} orders still in memory"
            )
        node.close()
    return {
        "rss_start_mb": round(sample["rss"], 1),
        "rss_end_mb": round(rss, 1),
        "rss_mb_per_100k": round((rss - sample["rss"]) * 100_000 / done, 2),
        "orders_per_s": round(done / elapsed),
        "measured_orders": done,
        "orders_in_memory": in_memory,
    }


def bench_soak(quick: bool) -> dict[str, Any]:
    """Run :func:`measure` in a fresh interpreter and return its figures."""
    spec = QUICK if quick else FULL
    proc = subprocess.run(
        [sys.executable, "-m", "atlas_oms.benchmarks.soak", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"soak benchmark failed:\n{proc.stderr}")
    out = json.loads(proc.stdout)
    return {
        "soak_rss_mb_per_100k_orders": out["rss_mb_per_100k"],
        "soak_orders_per_s": out["orders_per_s"],
        "soak_rss_start_mb": out["rss_start_mb"],
        "soak_rss_end_mb": out["rss_end_mb"],
        "soak_orders_in_memory": out["orders_in_memory"],
        "n": {"soak_warmup_orders": spec["warmup"], "soak_measured_orders": out["measured_orders"]},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    spec = json.loads(args[0]) if args else FULL
    print(json.dumps(measure(spec["warmup"], spec["measured"], spec["step_ns"], spec["retention"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
