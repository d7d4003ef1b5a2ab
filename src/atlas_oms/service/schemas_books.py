"""Answer shapes of the consolidated market data routes (service/routes_books.py), for the OpenAPI
document (service/openapi.py). Decimals travel as strings."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class ConsolidatedLevel(msgspec.Struct, kw_only=True):
    """One venue's level: ``price`` in its ``quote``, normalized to the book's reference quote,
    fee-adjusted for the account asked about (= normalized without one)."""

    venue: str
    symbol: str
    quote: str
    price: Decimal
    normalized_price: Decimal
    fee_adjusted_price: Decimal
    qty: Decimal


class VenueTop(msgspec.Struct, kw_only=True):
    """A venue instrument's best bid and ask, and how old its book is."""

    venue: str
    symbol: str
    quote: str
    bid: Decimal | None
    bid_qty: Decimal | None
    ask: Decimal | None
    ask_qty: Decimal | None
    bid_normalized: Decimal | None
    ask_normalized: Decimal | None
    age_ms: int
    stale: bool


class ConsolidatedBookDoc(msgspec.Struct, kw_only=True):
    """Every venue's book of the symbol's base asset merged, best first."""

    symbol: str
    quote: str
    account_id: str | None
    ts: int
    bids: list[ConsolidatedLevel]
    asks: list[ConsolidatedLevel]
    venues: list[VenueTop]


class WindowStatsDoc(msgspec.Struct, kw_only=True):
    window_s: int
    vwap: Decimal | None
    twap: Decimal | None
    volume: Decimal
    trades: int


class VenueStatsDoc(msgspec.Struct, kw_only=True):
    venue: str
    symbol: str
    quote: str
    windows: list[WindowStatsDoc]


class QuoteStatsDoc(msgspec.Struct, kw_only=True):
    quote: str
    windows: list[WindowStatsDoc]


class MarketStatsDoc(msgspec.Struct, kw_only=True):
    """Rolling VWAP/TWAP of each venue's trades, and consolidated per quote currency."""

    symbol: str
    ts: int
    windows_s: list[int]
    venues: list[VenueStatsDoc]
    consolidated: list[QuoteStatsDoc]
