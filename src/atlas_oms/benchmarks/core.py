"""Engine and journal throughput and latency, measured in-process on one core.

Every workload goes through :meth:`Node.process` with commands built before the clock starts, so
the figures are what the engine, the built-in exchange and the journal cost per order (a client
front end adds its own parsing on top).
"""

from __future__ import annotations

import gc
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from atlas_oms.core.engine import Engine
from atlas_oms.model.commands import CancelOrder, SubmitOrder
from atlas_oms.model.enums import OrderStatus, OrderType, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.risk import MarketOrderReason
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.snapshots import recover
from atlas_oms.store.base import Journal
from atlas_oms.store.sqlite import SqliteJournal

SYMBOL = "BTC/USDT"
START_NS = 1_767_623_400_000_000_000  # 2026-01-05 14:30 UTC
MID = Decimal(50_000)
TICK = Decimal("0.01")
QTY = Decimal("0.01")
MAKERS = 10
TAKERS = 10

N_ORDERS = 100_000
N_ORDERS_QUICK = 2_000
N_LATENCY = 20_000
N_LATENCY_QUICK = 1_000


def instrument() -> Instrument:
    return Instrument.spot(
        SYMBOL, tick_size="0.01", lot_size="0.0001", maker_fee="0.0005", taker_fee="0.001"
    )


def make_node(journal: Journal | None = None) -> Node:
    """A node with the instrument, makers ``m0..`` and takers ``t0..``, funded, and a last price."""
    clock = ManualClock(START_NS)
    node = Node(journal, clock=clock) if journal is not None else Node.in_memory(clock=clock)
    node.add_instrument(instrument())
    for i in range(MAKERS):
        node.open_account(f"m{i}")
        node.deposit(f"m{i}", "BTC", 1_000_000)
        node.deposit(f"m{i}", "USDT", 10_000_000_000)
    for i in range(TAKERS):
        node.open_account(f"t{i}")
        node.deposit(f"t{i}", "USDT", 10_000_000_000)
        node.deposit(f"t{i}", "BTC", 1_000_000)
    node.update_prices(SYMBOL, last=MID)
    return node


def rest_asks(node: Node, n: int, ts: int) -> None:
    """Rest ``n`` maker asks of ``QTY`` over 100 price levels just above the mid (not timed)."""
    process = node.process
    for i in range(n):
        process(
            SubmitOrder(
                ts=ts,
                account_id=f"m{i % MAKERS}",
                symbol=SYMBOL,
                side=Side.SELL,
                order_type=OrderType.LIMIT,
                qty=QTY,
                price=MID + TICK * (1 + i % 100),
            )
        )


def market_buys(
    n: int, ts: int, spacing_ns: int = 1, market_reason: MarketOrderReason | None = None
) -> list[SubmitOrder]:
    """``n`` market buys of ``QTY`` from the takers in turn: each takes exactly one maker ask.

    They are ``spacing_ns`` apart; ``market_reason`` is what the market-order policy asks for.
    """
    return [
        SubmitOrder(
            ts=ts + i * spacing_ns,
            account_id=f"t{i % TAKERS}",
            symbol=SYMBOL,
            side=Side.BUY,
            order_type=OrderType.MARKET,
            qty=QTY,
            market_reason=market_reason,
        )
        for i in range(n)
    ]


def settle_gc() -> None:
    """After set-up: collect, then move every survivor out of the collector's sight."""
    gc.collect()
    gc.freeze()


def _run_market(
    node: Node,
    n: int,
    prepare: Callable[[Node], None] | None = None,
    spacing_ns: int = 1,
    market_reason: MarketOrderReason | None = None,
) -> tuple[float, int]:
    """Rest ``n`` asks, then time ``n`` market buys through ``node``; return (seconds, seq).

    ``prepare(node)`` runs between the two, untimed (the risk benchmark sets its limits there).
    """
    rest_asks(node, n, START_NS)
    if prepare is not None:
        prepare(node)
    node.flush()
    commands = market_buys(n, START_NS + 1_000_000_000, spacing_ns, market_reason)
    settle_gc()
    process = node.process
    started = time.perf_counter()
    for cmd in commands:
        process(cmd)
    node.flush()
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    _check_all_filled(node, n)
    return elapsed, node.seq


def _check_all_filled(node: Node, n: int) -> None:
    filled = len(node.orders(status=OrderStatus.FILLED))
    if filled != 2 * n:  # every taker and every maker
        raise RuntimeError(f"benchmark workload broken: {filled} orders filled, expected {2 * n}")


def bench_market_orders(quick: bool) -> dict[str, Any]:
    n = N_ORDERS_QUICK if quick else N_ORDERS
    node = make_node()
    elapsed, _ = _run_market(node, n)
    return {"market_orders_per_s": round(n / elapsed), "n": {"market_orders": n}}


def bench_limit_cancel(quick: bool) -> dict[str, Any]:
    n = N_ORDERS_QUICK if quick else N_ORDERS
    node = make_node()
    ts = START_NS + 1_000_000_000
    submits = [
        SubmitOrder(
            ts=ts,
            account_id=f"t{i % TAKERS}",
            symbol=SYMBOL,
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            qty=QTY,
            price=MID - TICK * (1 + i % 500),
        )
        for i in range(n)
    ]
    first_id = node.next_order_id
    cancels = [
        CancelOrder(ts=ts + 1, account_id=f"t{i % TAKERS}", order_id=first_id + i) for i in range(n)
    ]
    settle_gc()
    process = node.process
    started = time.perf_counter()
    for submit in submits:
        process(submit)
    for cancel in cancels:
        process(cancel)
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    canceled = len(node.orders(status=OrderStatus.CANCELED))
    if canceled != n:
        raise RuntimeError(f"benchmark workload broken: {canceled} canceled, expected {n}")
    return {"limit_cancel_orders_per_s": round(n / elapsed), "n": {"limit_cancel_orders": n}}


def bench_durable_and_replay(quick: bool) -> dict[str, Any]:
    n = N_ORDERS_QUICK if quick else N_ORDERS
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        node = make_node(SqliteJournal(path))
        elapsed, seq = _run_market(node, n)
        digest = node.digest()
        node.close()
        del node
        gc.collect()
        events, replay_s, replayed = _replay(path)
        if replayed != (seq, digest):
            raise RuntimeError("replay of the benchmark journal does not reproduce the digest")
    return {
        "durable_orders_per_s": round(n / elapsed),
        "replay_events_per_s": round(events / replay_s),
        "n": {"durable_orders": n, "replay_events": events},
    }


def _replay(path: Path) -> tuple[int, float, tuple[int, str]]:
    """Rebuild a fresh engine from the journal at ``path`` the way a restarting node does
    (:func:`atlas_oms.runtime.snapshots.recover`, snapshots ignored), timed; return (events,
    seconds, (seq, digest) of the engine after it). Reading and decoding the journal is timed
    with the fold, as a restart pays for both.
    """
    journal = SqliteJournal(path, readonly=True)
    engine = Engine()
    settle_gc()
    started = time.perf_counter()
    recovery = recover(engine, journal, use_snapshot=False)
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    journal.close()
    return recovery.events_replayed, elapsed, (engine.seq, engine.digest())


def bench_submit_latency(quick: bool) -> dict[str, Any]:
    n = N_LATENCY_QUICK if quick else N_LATENCY
    node = make_node()
    ts = START_NS + 1_000_000_000
    commands = [
        SubmitOrder(
            ts=ts + i,
            account_id=f"t{i % TAKERS}",
            symbol=SYMBOL,
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            qty=QTY,
            price=MID - TICK * (1 + i % 500),
            tif=TimeInForce.GTC,
        )
        for i in range(n)
    ]
    samples = [0] * n
    settle_gc()
    process = node.process
    clock = time.perf_counter_ns
    for i, cmd in enumerate(commands):
        t0 = clock()
        process(cmd)
        samples[i] = clock() - t0
    gc.unfreeze()
    last = node.order(node.next_order_id - 1)
    if last.status is not OrderStatus.ACCEPTED:
        raise RuntimeError(f"benchmark workload broken: last order is {last.status}")
    samples.sort()
    return {
        "submit_p50_us": round(samples[n // 2] / 1000, 2),
        "submit_p99_us": round(samples[min(n - 1, n * 99 // 100)] / 1000, 2),
        "submit_max_us": round(samples[-1] / 1000, 2),
        "n": {"submit_latency_samples": n},
    }
