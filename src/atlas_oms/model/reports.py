"""Venue execution reports: what a venue says happened to an order (inputs to the engine).

A report names the order by the engine's ``order_id`` (sent to the venue as its client order id).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.model.enums import LiquiditySide


class Report(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    order_id: int
    ts: int = 0


class VenueAccepted(Report, frozen=True):
    venue_order_id: str


class VenueRejected(Report, frozen=True):
    reason: str
    message: str = ""


class VenueFilled(Report, frozen=True):
    """One execution. ``exec_id`` is unique per venue and is the deduplication key."""

    exec_id: str
    trade_id: str
    last_qty: Decimal
    last_px: Decimal
    liquidity_side: LiquiditySide
    fee: Decimal
    fee_asset: str
    venue_order_id: str | None = None


class VenueCanceled(Report, frozen=True):
    reason: str
    canceled_qty: Decimal | None = None


class VenueCancelRejected(Report, frozen=True):
    reason: str
    message: str = ""


class VenueModified(Report, frozen=True):
    """The venue replaced the order: ``qty`` is the new total quantity, ``leaves_qty`` what works."""

    qty: Decimal
    leaves_qty: Decimal
    price: Decimal | None = None


class VenueModifyRejected(Report, frozen=True):
    reason: str
    message: str = ""


class VenueExpired(Report, frozen=True):
    pass


class VenueFillBusted(Report, frozen=True):
    """The venue broke (busted) an earlier execution: its effects are reversed."""

    exec_id: str


class VenueFillCorrected(Report, frozen=True):
    """The venue corrected an earlier execution's quantity, price and fee (FIX ExecType G)."""

    exec_id: str
    last_qty: Decimal
    last_px: Decimal
    fee: Decimal


ReportMsg = (
    VenueAccepted
    | VenueRejected
    | VenueFilled
    | VenueCanceled
    | VenueCancelRejected
    | VenueModified
    | VenueModifyRejected
    | VenueExpired
    | VenueFillBusted
    | VenueFillCorrected
)
