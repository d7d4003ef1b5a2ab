"""Events of external venues (issue 12): adopted orders, reconciled positions, the exception
report, venue status, unknown outcomes. Part of the union in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.model.enums import (
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from atlas_oms.model.event_base import EventBase
from atlas_oms.model.venue import VenuePosition


# ---------------------------------------------------------------------- external venues
class VenueDifference(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """One difference a reconciliation found between Atlas and a venue, and what was done.

    ``kind``: ORDER_ACCEPTED, ORDER_FILL, INFERRED_FILL, ORDER_CANCELED, ORDER_EXPIRED,
    ORDER_REJECTED, ORDER_REPLACED, EXTERNAL_ORDER, STATUS_MISMATCH, NOT_FOUND, POSITION,
    BALANCE. ``action``: what the engine did (``booked``, ``adopted``, ``set``, ``applied``,
    ``seen, waiting for confirmation``, ``left to the gateway``, ``none``); ``seqs``: the events it
    emitted for it."""

    kind: str
    action: str
    order_id: int | None = None
    client_order_id: str | None = None
    venue_order_id: str | None = None
    symbol: str | None = None
    asset: str | None = None
    position_side: PositionSide | None = None
    atlas: str = ""
    venue: str = ""
    seqs: tuple[int, ...] = ()


class ExternalOrderAdopted(EventBase, frozen=True):
    """A venue order Atlas did not place (web UI, another program, the venue's auto-close) is
    now an order of ``account_id``: created ACCEPTED with nothing filled and nothing reserved; its
    fills and its end follow as ordinary events."""

    order_id: int
    account_id: str
    symbol: str
    venue: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    venue_order_id: str
    client_order_id: str | None = None
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False
    position_side: PositionSide = PositionSide.BOTH
    source: str | None = None


class PositionReconciled(EventBase, frozen=True):
    """A position set to the venue's quantity at the venue's entry price (one lot), with the
    margin it holds (derivatives). ``previous_qty`` is what Atlas had."""

    account_id: str
    venue: str
    symbol: str
    position_side: PositionSide
    qty: Decimal
    entry_price: Decimal
    previous_qty: Decimal
    margin: Decimal = Decimal(0)


class VenueReconciled(EventBase, frozen=True):
    """The end of one reconciliation of a venue account: the exception report. ``pending``: the
    balance differences seen for the first time while orders were working, (asset, Atlas total,
    venue total), applied when the next reconciliation sees them again."""

    venue: str
    account_id: str
    reason: str
    differences: tuple[VenueDifference, ...] = ()
    not_found: tuple[int, ...] = ()
    pending: tuple[tuple[str, Decimal, Decimal], ...] = ()
    orders: int = 0
    fills: int = 0
    fills_booked: int = 0
    positions: int = 0
    balances: int = 0
    #: The venue's own figures of each position it reported (liquidation price, mark,
    #: maintenance and initial margin, margin ratio; issue 15 §2), as its position report gave
    #: them: shown next to Atlas's estimate, decided on by nothing. Only positions that carry a
    #: figure; journaled so that a replay shows the same.
    position_figures: tuple[VenuePosition, ...] = ()


class VenueStatusChanged(EventBase, frozen=True):
    """Whether Atlas may send new orders to a venue account, and why (CONNECTING, RECONCILING,
    DISCONNECTED, CLOCK_SKEW, BANNED, POSITION_MODE_MISMATCH, READY)."""

    venue: str
    account_id: str
    tradable: bool
    reason: str
    message: str = ""


class OrderOutcomeUnknown(EventBase, frozen=True):
    """A place, cancel or amend (``action``) got no definitive answer; the order keeps its status
    and is in doubt until the venue's word arrives (audit)."""

    order_id: int
    action: str
    reason: str
    message: str = ""
