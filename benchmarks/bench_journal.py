"""Micro benchmark of the journals; prints JSON.

Run: ``.venv/bin/python benchmarks/bench_journal.py [--quick]``.

Each order is one engine step of four events (OrderSubmitted, OrderAccepted, two OrderFilled),
with Decimal prices, quantities and fees, built before timing starts.

- ``append_*``: append every step, flushing every ``flush_every`` orders (1 = a durable commit per
  order, the node's worst case; the batch limit still commits every 1,000 events) and at the end.
  SQLite runs with ``synchronous=NORMAL``; the file journal fsyncs on every flush.
- ``read_*``: replay the whole journal (read + CRC + decode) with ``read_batches``, and with
  ``read`` (one event at a time).
"""

from __future__ import annotations

import gc
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

try:
    from atlas_oms.store import FileJournal, Journal, SqliteJournal
except ModuleNotFoundError:  # running from a checkout without an installed package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from atlas_oms.store import FileJournal, Journal, SqliteJournal

from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import LiquiditySide, OrderType, Side
from atlas_oms.model.events import Event, OrderAccepted, OrderFilled, OrderSubmitted

EVENTS_PER_ORDER = 4


def order_step(order_id: int, seq: int) -> list[Event]:
    """Return the four events of one order's life, numbered from ``seq``."""
    ts = 1_700_000_000_000_000_000 + order_id * 1_000
    px = Decimal("64123.45") + Decimal(order_id % 100) / 100
    intent = SubmitOrder(
        ts=ts,
        account_id=f"acc-{order_id % 50}",
        symbol="BTC/USDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.015"),
        price=px,
        client_order_id=f"c-{order_id}",
    )
    common = {"order_id": order_id, "account_id": intent.account_id, "symbol": "BTC/USDT"}
    fills = [
        OrderFilled(
            seq=seq + 2 + i,
            ts_event=ts,
            side=Side.BUY,
            exec_id=f"e-{order_id}-{i}",
            trade_id=f"t-{order_id}-{i}",
            last_qty=qty,
            last_px=px,
            liquidity_side=LiquiditySide.TAKER,
            fee=qty * px * Decimal("0.0004"),
            fee_asset="USDT",
            **common,
        )
        for i, qty in enumerate((Decimal("0.010"), Decimal("0.005")))
    ]
    return [
        OrderSubmitted(
            seq=seq,
            ts_event=ts,
            order_id=order_id,
            intent=intent,
            reserved_asset="USDT",
            reserve_unit=px,
            protection_price=None,
            trigger_price=None,
            expire_ts=None,
        ),
        OrderAccepted(seq=seq + 1, ts_event=ts, order_id=order_id, venue_order_id=f"v{order_id}"),
        *fills,
    ]


def _timed(fn: Callable[[], object]) -> float:
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    finally:
        gc.enable()
        gc.unfreeze()


def bench_append(open_journal: Callable[[], Journal], steps: list[list[Event]], every: int) -> dict:
    journal = open_journal()

    def run() -> None:
        for i, step in enumerate(steps, 1):
            journal.append(step)
            if i % every == 0:
                journal.flush()
        journal.flush()

    seconds = _timed(run)
    journal.close()
    orders = len(steps)
    return {
        "flush_every": every,
        "orders_per_s": round(orders / seconds),
        "events_per_s": round(orders * EVENTS_PER_ORDER / seconds),
    }


def bench_read(open_journal: Callable[[], Journal], events: int) -> dict:
    with open_journal() as journal:
        batches = _timed(lambda: sum(len(batch) for batch in journal.read_batches()))
        one_by_one = _timed(lambda: sum(1 for _ in journal.read()))
    return {
        "read_batches_events_per_s": round(events / batches),
        "read_events_per_s": round(events / one_by_one),
    }


def main() -> None:
    quick = "--quick" in sys.argv
    orders = 20_000 if quick else 100_000
    steps = [order_step(i, i * EVENTS_PER_ORDER + 1) for i in range(orders)]
    events = orders * EVENTS_PER_ORDER
    results: dict[str, object] = {
        "python": platform.python_version(),
        "orders": orders,
        "events_per_order": EVENTS_PER_ORDER,
    }
    with tempfile.TemporaryDirectory() as folder:
        for every in (1, 10, 100):
            path = Path(folder) / f"append-{every}.db"
            results[f"append_sqlite_flush_{every}"] = bench_append(
                lambda path=path: SqliteJournal(path), steps, every
            )
        for every in (10, 100):
            path = Path(folder) / f"append-{every}.journal"
            results[f"append_file_fsync_flush_{every}"] = bench_append(
                lambda path=path: FileJournal(path), steps, every
            )
        path = Path(folder) / "append-nofsync.journal"
        results["append_file_nofsync_flush_1"] = bench_append(
            lambda: FileJournal(path, fsync=False), steps, 1
        )
        results["read_sqlite"] = bench_read(
            lambda: SqliteJournal(Path(folder) / "append-100.db"), events
        )
        results["read_file"] = bench_read(
            lambda: FileJournal(Path(folder) / "append-100.journal", readonly=True), events
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
