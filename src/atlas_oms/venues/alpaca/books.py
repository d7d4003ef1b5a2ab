"""Alpaca's NBBO as a one-level :class:`VenueBook` (issue 16, ``VenueBooks``).

US equities give no depth through Alpaca: the market data API's quote is the NBBO, one level a
side (``bp``/``bs``, ``ap``/``as``). Its sizes count **round lots** (100 shares: Alpaca's own
answer, "an ask size of 15 means 1500 shares"), so a level's ``qty`` is ``size ×``
:data:`ROUND_LOT` shares. A ``0`` price or size is an empty side. ``ts`` is the quote's ``t``
(RFC 3339, ns). ``update_id`` is 0 (no sequence numbers).

The stream (``wss://stream.data.alpaca.markets/v2/{feed}``: ``auth``, then ``subscribe``
``quotes``) sends changes only, so each session starts from ``GET /v2/stocks/quotes/latest``
once the subscription is confirmed; its ``q`` messages follow. Numbers are read exactly
(Decimals, never floats).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.venues.alpaca.parse import ROUND_LOT, ts_ns

STREAM_URL = "wss://stream.data.alpaca.markets/v2"


def auth(key: str, secret: str) -> str:
    return json.dumps({"action": "auth", "key": key, "secret": secret})


def subscribe(symbols: list[str]) -> str:
    return json.dumps({"action": "subscribe", "quotes": symbols})


def book_of_quote(symbol: str, quote: Any, venue: str) -> VenueBook | None:
    """The one-level book of a quote (a stream ``q`` or a REST ``quote``)."""
    if not isinstance(quote, dict):
        return None
    bids = _level(quote.get("bp"), quote.get("bs"))
    asks = _level(quote.get("ap"), quote.get("as"))
    return VenueBook(
        venue=venue,
        symbol=symbol,
        bids=bids,
        asks=asks,
        ts=ts_ns(quote.get("t")),
    )


def check(message: Any) -> list[dict[str, Any]]:
    """The objects of one stream message (an array); an ``error`` raises (a new session)."""
    items = message if isinstance(message, list) else [message]
    out = [m for m in items if isinstance(m, dict)]
    for m in out:
        if m.get("T") == "error":
            raise ValueError(f"alpaca data stream: {m.get('code')} {m.get('msg')}")
    return out


def _level(price: Any, size: Any) -> tuple[BookLevel, ...]:
    px, lots = _dec(price), _dec(size)
    if px <= 0 or lots <= 0:
        return ()
    return (BookLevel(px, lots * ROUND_LOT),)


def _dec(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str | float) and value:
        return Decimal(str(value))
    return Decimal(0)
