"""``route_decision_us``: one smart-order-router decision (``core/sor/route.py::decide_route``)
on a consolidated book of 5 venues x 10 levels, 2 accounts each (10 candidates), for an order
that walks about half of the visible depth (a split across every venue). The figures are the
p99 (``route_decision_us``) and the median (``route_decision_p50_us``) of single decisions, in µs."""

from __future__ import annotations

import gc
import time
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.model.enums import Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.route_book import BookLevel, RouteBook, VenueBook
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.route_decision import route_decision

VENUES = 5
LEVELS = 10
ACCOUNTS = ("acct0", "acct1")


def setup() -> tuple[Node, RouteBook]:
    """A node with the 5 venue instruments and 2 funded accounts, and the route book."""
    node = Node(clock=ManualClock(1))
    base = Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.0001", taker_fee="0.001")
    books = []
    for v in range(VENUES):
        symbol = "BTC/USDT" if v == 0 else f"BTC/USDT@v{v}"
        fee = Decimal("0.001") + Decimal(v) / 10_000
        node.add_instrument(msgspec.structs.replace(base, symbol=symbol, taker_fee=fee))
        asks = tuple(
            BookLevel(Decimal(30_000) + Decimal(v) + Decimal(i) * Decimal("2.5"), Decimal("0.4"))
            for i in range(LEVELS)
        )
        books.append(VenueBook(venue="sim", symbol=symbol, asks=asks, ts=1))
    for acc in ACCOUNTS:
        node.open_account(acc)
        node.deposit(acc, "USDT", 10**6)
    book = RouteBook(symbol="BTC/USDT", quote="USDT", ts=1, books=tuple(books), accounts=ACCOUNTS)
    return node, book


def bench_route_decision(quick: bool) -> dict[str, Any]:
    node, book = setup()
    qty = Decimal("10")  # half of the 20 BTC shown
    limit = Decimal(30_100)
    margin = Decimal(10)
    n = 500 if quick else 5_000
    for _ in range(50):  # warm-up
        route_decision(
            node,
            account_id="acct0",
            side=Side.BUY,
            qty=qty,
            limit_price=limit,
            book=book,
            depth_margin_pct=margin,
        )
    times: list[int] = []
    gc.collect()
    gc.freeze()
    try:
        clock = time.perf_counter_ns
        for _ in range(n):
            start = clock()
            d = route_decision(
                node,
                account_id="acct0",
                side=Side.BUY,
                qty=qty,
                limit_price=limit,
                book=book,
                depth_margin_pct=margin,
            )
            times.append(clock() - start)
    finally:
        gc.unfreeze()
    assert d.unallocated == 0 and len({a.symbol for a in d.allocations}) == VENUES
    times.sort()
    return {
        "route_decision_us": round(times[min(n - 1, n * 99 // 100)] / 1000, 1),
        "route_decision_p50_us": round(times[n // 2] / 1000, 1),
        "route_decision_children": len(d.allocations),
        "n": {
            "route_decision_venues": VENUES,
            "route_decision_levels": LEVELS,
            "route_decision_accounts": len(ACCOUNTS),
            "route_decision_decisions": n,
        },
    }
