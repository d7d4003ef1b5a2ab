"""``consolidated_book_update_us``: one venue's 10-level book update of a symbol listed on 5
venues (``ConsolidatedBook.apply``) plus reading the merged top of book (best bid and ask across
the venues, normalized; one venue quotes in KRW through a conversion). The figure is the p99 of
one update-and-read, in µs; the p50 is reported beside it (runtime/market/consolidated.py)."""

from __future__ import annotations

import gc
import time
from decimal import Decimal
from typing import Any

from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.runtime.market.config import MarketDataConfig
from atlas_oms.runtime.market.consolidated import ConsolidatedBook

VENUES = (
    ("binance", "BTC/USDT", Decimal(1)),
    ("bybit", "BTC/USDT@bybit", Decimal(1)),
    ("okx", "BTC/USDT@okx", Decimal(1)),
    ("alpaca", "BTC/USD@alpaca", Decimal(1)),
    ("upbit", "BTC/KRW@upbit", Decimal(2000)),
)
LEVELS = 10


def _book(venue: str, symbol: str, scale: Decimal, i: int, ts: int) -> VenueBook:
    mid = (Decimal(100_000) + Decimal(i % 97)) * scale
    tick = scale / 10
    return VenueBook(
        venue=venue,
        symbol=symbol,
        bids=tuple(BookLevel(mid - tick * (k + 1), Decimal("0.5") + k) for k in range(LEVELS)),
        asks=tuple(BookLevel(mid + tick * (k + 1), Decimal("0.5") + k) for k in range(LEVELS)),
        ts=ts,
        update_id=i + 1,
    )


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def bench_consolidated_book(quick: bool) -> dict[str, Any]:
    updates = 2_000 if quick else 50_000
    config = MarketDataConfig(
        depth=LEVELS, rates={"KRW/USDT": Decimal("0.0005"), "USDT/USD": Decimal(1)}
    )
    book = ConsolidatedBook(config, now=lambda: 1)
    for venue, symbol, scale in VENUES:
        book.apply(_book(venue, symbol, scale, 0, 1))
    stream = [_book(*VENUES[i % len(VENUES)], i, 1) for i in range(1, updates + 1)]
    apply, levels = book.apply, book.levels
    times: list[float] = []
    clock = time.perf_counter_ns
    gc.collect()
    gc.freeze()
    try:
        for update in stream:
            start = clock()
            apply(update)
            bid = levels("BTC/USDT", "bid", 1)
            ask = levels("BTC/USDT", "ask", 1)
            times.append((clock() - start) / 1000)
            assert bid and ask
    finally:
        gc.unfreeze()
    return {
        "consolidated_book_update_us": round(_percentile(times, 0.99), 1),
        "consolidated_book_update_p50_us": round(_percentile(times, 0.50), 1),
        "n": {
            "consolidated_book_updates": updates,
            "consolidated_book_venues": len(VENUES),
            "consolidated_book_levels": LEVELS,
        },
    }
