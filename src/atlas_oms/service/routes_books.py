"""REST views of the consolidated market data (issue 16, MD-1; runtime/market/):

- ``GET /v1/books/{symbol}/consolidated?depth=&account_id=``: the merged levels of every venue
  listing the symbol's base asset (each with its venue and Atlas symbol, the venue's price, the
  price normalized to the reference quote, the fee-adjusted price for ``account_id`` and the
  quantity), and each venue's best bid and ask with its age;
- ``GET /v1/market/{symbol}/stats``: rolling VWAP and TWAP of each venue's trades per window, and
  consolidated (per quote currency).

Any authenticated key may read them (market data); ``account_id`` must be visible to the key (its
fee tier is the account's own).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from atlas_oms.model.route_book import unified_symbol
from atlas_oms.runtime.market.consolidated import MergedLevel, split_symbol
from atlas_oms.runtime.market.hub import MarketData
from atlas_oms.runtime.market.trade_stats import WindowStats
from atlas_oms.service.app import JSON, Key, Problem, Service, service_of

__all__ = ["consolidated_view", "register", "stats_view"]

MS = 1_000_000


def _market_data(service: Service) -> MarketData:
    md = service.market_data
    if md is None:
        raise Problem(503, "NOT_READY", "the consolidated market data is not running yet")
    return md


def _level(level: MergedLevel) -> dict[str, Any]:
    return {
        "venue": level.venue,
        "symbol": level.symbol,
        "quote": level.quote,
        "price": level.price,
        "normalized_price": level.normalized,
        "fee_adjusted_price": level.fee_adjusted,
        "qty": level.qty,
    }


def consolidated_view(
    md: MarketData, symbol: str, depth: int, account_id: str | None = None
) -> dict[str, Any] | None:
    """The consolidated book of ``symbol``'s group as the API shows it (None: no venue book)."""
    book = md.book
    venues = book.best(symbol)
    if not venues:
        return None
    return {
        "symbol": unified_symbol(symbol),
        "quote": book.reference_quote(symbol),
        "account_id": account_id,
        "ts": book.now(),
        "bids": [_level(x) for x in book.levels(symbol, "bid", depth, account_id)],
        "asks": [_level(x) for x in book.levels(symbol, "ask", depth, account_id)],
        "venues": [
            {
                "venue": b.venue,
                "symbol": b.symbol,
                "quote": b.quote,
                "bid": b.bid,
                "bid_qty": b.bid_qty,
                "ask": b.ask,
                "ask_qty": b.ask_qty,
                "bid_normalized": b.bid_normalized,
                "ask_normalized": b.ask_normalized,
                "age_ms": b.age_ns // MS,
                "stale": b.stale,
            }
            for b in venues
        ],
    }


def _window(w: WindowStats) -> dict[str, Any]:
    return {
        "window_s": w.window_s,
        "vwap": w.vwap,
        "twap": w.twap,
        "volume": w.volume,
        "trades": w.trades,
    }


def stats_view(md: MarketData, symbol: str) -> dict[str, Any]:
    """VWAP/TWAP of each venue instrument of ``symbol``'s unified symbol, and consolidated per
    quote currency."""
    now = md.node.clock.now()
    stats = md.stats
    symbols = md.trade_symbols(symbol)
    by_quote: dict[str, list[str]] = {}
    venues = []
    for s in symbols:
        inst = md.node.instrument(s)
        quote = inst.quote if inst is not None else split_symbol(s)[1]
        by_quote.setdefault(quote, []).append(s)
        venues.append(
            {
                "venue": stats.venue_of(s),
                "symbol": s,
                "quote": quote,
                "windows": [_window(w) for w in stats.stats(s, now)],
            }
        )
    return {
        "symbol": unified_symbol(symbol),
        "ts": now,
        "windows_s": list(stats.windows_s),
        "venues": venues,
        "consolidated": [
            {"quote": q, "windows": [_window(stats.window(names, w, now)) for w in stats.windows_s]}
            for q, names in sorted(by_quote.items())
        ],
    }


def register(app: FastAPI) -> None:
    @app.get("/v1/books/{symbol:path}/consolidated", tags=["market data"])
    async def consolidated(
        request: Request,
        symbol: str,
        key: Key,
        depth: int = Query(10, ge=1, le=100),
        account_id: str | None = None,
    ) -> Response:
        """The consolidated order book of a symbol across every venue (and the built-in
        exchange), prices normalized and, with ``account_id``, fee-adjusted."""
        service = service_of(request)
        if account_id is not None:
            service.require_account(key, account_id)
        view = consolidated_view(_market_data(service), symbol, depth, account_id)
        if view is None:
            raise Problem(404, "NO_BOOK", f"no venue has a book of {unified_symbol(symbol)} yet")
        return JSON(view)

    @app.get("/v1/market/{symbol:path}/stats", tags=["market data"])
    async def stats(request: Request, symbol: str, key: Key) -> Response:
        """Rolling VWAP and TWAP of each venue's trades of a symbol, per window."""
        return JSON(stats_view(_market_data(service_of(request)), symbol))
