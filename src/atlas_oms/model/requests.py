"""Outbound requests from the engine to a venue adapter."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.model.enums import Side, TimeInForce


class VenueRequest(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    order_id: int
    account_id: str
    symbol: str
    venue: str
    ts: int = 0


class SubmitToVenue(VenueRequest, frozen=True):
    """Work ``qty`` at the venue: a limit when ``price`` is set, else a market order.

    ``protection_price`` bounds a market order (never fill a buy above it or a sell below it).
    """

    side: Side
    qty: Decimal
    price: Decimal | None = None
    protection_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    #: The venue's own liquidation order (the built-in exchange charges it no trading fee).
    liquidation: bool = False
    #: Work in the extended-hours sessions too (US equities; Alpaca: limit DAY orders only).
    extended_hours: bool = False
    #: A native iceberg: only this much shows in the venue's book at a time (None: all).
    display_qty: Decimal | None = None


class CancelAtVenue(VenueRequest, frozen=True):
    venue_order_id: str | None = None


class ModifyAtVenue(VenueRequest, frozen=True):
    """Replace: new total ``qty``; ``leaves_qty`` is what should work after it (<= 0: nothing)."""

    venue_order_id: str | None
    qty: Decimal
    leaves_qty: Decimal
    price: Decimal | None = None
    #: A post-only order must not take liquidity through a modify either.
    post_only: bool = False


class NeedRouteBook(VenueRequest, frozen=True):
    """Not for a venue: the engine asks the runtime for a route book of unified ``symbol`` for
    parent order ``algo_id`` (``order_id`` 0, ``venue`` ``"SMART"``); the runtime answers with
    ``RouteAlgo`` (``model/algos.py``). ``strategy``: the parent's routing rule."""

    algo_id: str
    side: Side
    qty: Decimal
    strategy: str | None = None
