"""Micro benchmark of the matching book; prints JSON.

Run: ``.venv/bin/python benchmarks/bench_book.py [--quick]``.

- ``market_single_fill``: market orders of qty 1 against a deep ask book (makers of qty 5, 100
  orders per level, 2,000 levels): each order is one ``submit`` producing one fill; one in five
  removes its maker (and now and then a whole level).
- ``market_sweep_5_makers``: market orders that each take 5 makers of qty 1 (5 fills per order).
- ``limit_cross_top``: marketable limit orders (IOC) hitting the top of book, one fill each.
- ``add_cancel``: rest a non-crossing limit order (random-looking but seeded price over 100
  levels) and cancel it; reported as add+cancel pairs/s.
"""

from __future__ import annotations

import gc
import json
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path

try:
    from atlas_oms.matching import OrderBook
except ModuleNotFoundError:  # running from a checkout without an installed package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from atlas_oms.matching import OrderBook

from atlas_oms.model.enums import Side, TimeInForce


def _ask_book(levels: int, per_level: int, maker_qty: Decimal) -> OrderBook:
    book = OrderBook("BENCH")
    base = Decimal("100.00")
    tick = Decimal("0.01")
    oid = 0
    for i in range(levels):
        price = base + tick * i
        for _ in range(per_level):
            oid += 1
            book.submit(oid, f"mm{oid % 7}", Side.SELL, maker_qty, price)
    return book


def _timed(fn, n: int) -> float:
    # As the node does after start-up: freeze the set-up objects, keep the collector running.
    gc.collect()
    gc.freeze()
    try:
        t0 = time.perf_counter()
        fn(n)
        return time.perf_counter() - t0
    finally:
        gc.unfreeze()


def bench_market_single_fill(n: int) -> dict:
    book = _ask_book(levels=2_000, per_level=100, maker_qty=Decimal(5))
    assert n <= 2_000 * 100 * 5
    one = Decimal(1)
    buy = Side.BUY
    submit = book.submit
    oid0 = 10_000_000

    def run(count: int) -> None:
        for i in range(count):
            submit(oid0 + i, "taker", buy, one, None)

    elapsed = _timed(run, n)
    return {"orders_per_s": round(n / elapsed), "fills_per_s": round(n / elapsed), "n": n}


def bench_market_sweep(n: int) -> dict:
    makers_needed = n * 5
    book = _ask_book(levels=makers_needed // 100 + 1, per_level=100, maker_qty=Decimal(1))
    five = Decimal(5)
    buy = Side.BUY
    submit = book.submit
    oid0 = 10_000_000

    def run(count: int) -> None:
        for i in range(count):
            submit(oid0 + i, "taker", buy, five, None)

    elapsed = _timed(run, n)
    return {"orders_per_s": round(n / elapsed), "fills_per_s": round(5 * n / elapsed), "n": n}


def bench_limit_cross_top(n: int) -> dict:
    book = _ask_book(levels=2_000, per_level=100, maker_qty=Decimal(5))
    one = Decimal(1)
    limit = Decimal("1000.00")
    buy = Side.BUY
    ioc = TimeInForce.IOC
    submit = book.submit
    oid0 = 10_000_000

    def run(count: int) -> None:
        for i in range(count):
            submit(oid0 + i, "taker", buy, one, limit, ioc)

    elapsed = _timed(run, n)
    return {"orders_per_s": round(n / elapsed), "n": n}


def bench_add_cancel(n: int) -> dict:
    book = _ask_book(levels=100, per_level=50, maker_qty=Decimal(5))
    # Bids below the asks so nothing crosses; prices cycle through 100 levels (seeded, no RNG).
    prices = [Decimal("99.99") - Decimal("0.01") * ((i * 37) % 100) for i in range(1_000)]
    qty = Decimal(3)
    buy = Side.BUY
    submit = book.submit
    cancel = book.cancel
    oid0 = 10_000_000
    window = 1_000  # keep ~1,000 of our own orders resting, cancel in FIFO order

    def run(count: int) -> None:
        for i in range(count):
            submit(oid0 + i, "mm", buy, qty, prices[i % 1_000])
            if i >= window:
                cancel(oid0 + i - window)

    elapsed = _timed(run, n)
    return {"add_cancel_pairs_per_s": round(n / elapsed), "n": n}


def main() -> None:
    quick = "--quick" in sys.argv
    n = 50_000 if quick else 500_000
    results = {
        "python": platform.python_version(),
        "market_single_fill": bench_market_single_fill(n),
        "market_sweep_5_makers": bench_market_sweep(n // 5),
        "limit_cross_top": bench_limit_cross_top(n),
        "add_cancel": bench_add_cancel(n),
    }
    for key in ("market_single_fill", "limit_cross_top"):
        results[key]["us_per_order"] = round(1e6 / results[key]["orders_per_s"], 3)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
