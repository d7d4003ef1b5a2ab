"""Upbit's public order book as :class:`VenueBook` s (issue 16, ``VenueBooks``).

The public WebSocket (``ws_url``, no key) type ``orderbook``: the request names each market
with its unit count (``KRW-BTC.15``: 1, 5, 15 or 30, the least that covers ``depth``); every
message is the market's whole top ``count`` (``orderbook_units``: one ask and one bid a unit,
best first; prices and sizes are JSON numbers, read exactly as Decimals, never through a float),
so there is no diff to keep and no sequence number (``update_id`` 0). A unit whose side is
empty (``0`` price or size) is no level. ``ts`` is the message's ``timestamp`` (ms) in ns. A
reconnect starts with the ``SNAPSHOT`` message of each market.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from atlas_oms.model.route_book import VenueBook
from atlas_oms.venues.book_ws import levels
from atlas_oms.venues.upbit import parse as p

#: The unit counts Upbit serves (since 2025-07-02); a request for another gets 30.
COUNTS = (1, 5, 15, 30)


def unit_count(depth: int) -> int:
    return next((n for n in COUNTS if n >= depth), COUNTS[-1])


def subscribe(markets: Iterable[str], depth: int) -> str:
    n = unit_count(depth)
    return json.dumps(
        [
            {"ticket": f"atlas-{uuid.uuid4().hex[:12]}"},
            {"type": "orderbook", "codes": [f"{m}.{n}" for m in markets]},
            {"format": "DEFAULT"},
        ]
    )


def parse_orderbook(msg: Any, ctx: p.Context, venue: str, depth: int) -> list[VenueBook]:
    """The :class:`VenueBook` of one ``orderbook`` message (REST row or WebSocket message)."""
    if not isinstance(msg, dict):
        return []
    if "error" in msg:
        error = msg["error"] or {}
        raise ValueError(f"upbit orderbook: {error.get('name')} {error.get('message')}")
    if msg.get("type", "orderbook") != "orderbook" or "orderbook_units" not in msg:
        return []
    market = str(msg.get("code") or msg.get("market") or "")
    bids: list[tuple[Decimal, Decimal]] = []
    asks: list[tuple[Decimal, Decimal]] = []
    for unit in msg.get("orderbook_units") or ():
        bid, bid_size = _dec(unit.get("bid_price")), _dec(unit.get("bid_size"))
        ask, ask_size = _dec(unit.get("ask_price")), _dec(unit.get("ask_size"))
        if bid > 0 and bid_size > 0:
            bids.append((bid, bid_size))
        if ask > 0 and ask_size > 0:
            asks.append((ask, ask_size))
    return [
        VenueBook(
            venue=venue,
            symbol=ctx.symbol(market),
            bids=levels(bids, depth, descending=True),
            asks=levels(asks, depth, descending=False),
            ts=int(msg.get("timestamp") or 0) * 1_000_000,
        )
    ]


def _dec(value: Any) -> Decimal:
    """A JSON number already decoded as a Decimal (or an int), or a string: exact."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str | float) and value:
        return Decimal(str(value))
    return Decimal(0)
