"""Events of an order's life: submitted, accepted, triggered, modified, canceled, filled, busted
or corrected, and venue reports that could not apply. Part of the union in
:mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import (
    LiquiditySide,
    OrderStatus,
    Side,
)
from atlas_oms.model.event_base import EventBase


class OrderDenied(EventBase, frozen=True):
    """The engine refused the order before it reached any venue."""

    order_id: int
    intent: SubmitOrder
    reason: str
    message: str


class OrderSubmitted(EventBase, frozen=True):
    """The order's intent, recorded before anything is sent to a venue.

    ``reserved`` of ``reserved_asset`` is locked for it: ``reserve_unit`` per unit of leaves.
    ``protection_price`` bounds its market execution; ``trigger_price`` is its initial trigger.
    """

    order_id: int
    intent: SubmitOrder
    reserved_asset: str | None
    reserve_unit: Decimal
    protection_price: Decimal | None
    trigger_price: Decimal | None
    expire_ts: int | None


class OrderDuplicateIgnored(EventBase, frozen=True):
    """A submit reused a client order id: the existing order stands, nothing else happened."""

    order_id: int
    account_id: str
    client_order_id: str


class OrderAccepted(EventBase, frozen=True):
    order_id: int
    venue_order_id: str | None
    #: Where an external venue's word came from (stream, query, reconciliation); None otherwise.
    source: str | None = None


class OrderRejected(EventBase, frozen=True):
    """The venue refused the order. ``system_error``: the refusal counts as a system error for
    circuit breakers (a venue failure, not a business outcome such as a post-only cross)."""

    order_id: int
    reason: str
    message: str
    system_error: bool | None = None
    source: str | None = None


class OrderTriggered(EventBase, frozen=True):
    """A held order's trigger fired; ``price`` is the limit it now works at (None: market)."""

    order_id: int
    trigger_price: Decimal
    last_px: Decimal
    price: Decimal | None
    protection_price: Decimal | None = None


class OrderTrailingUpdated(EventBase, frozen=True):
    """A trailing stop tightened (it never loosens)."""

    order_id: int
    watermark: Decimal
    trigger_price: Decimal


class OrderPendingCancel(EventBase, frozen=True):
    """A cancel was sent; ``reason`` says who wanted it when it was not the user (kill switch)."""

    order_id: int
    reason: str | None = None


class OrderCancelRejected(EventBase, frozen=True):
    """A cancel was refused: by the engine (the order is unchanged) or by the venue (a pending
    cancel goes back to the order's working status). ``order_status`` is the order's status after
    it (None: no such order)."""

    account_id: str
    reason: str
    message: str
    order_id: int | None = None
    client_order_id: str | None = None
    order_status: OrderStatus | None = None


class OrderCanceled(EventBase, frozen=True):
    order_id: int
    reason: str
    source: str | None = None


class OrderPendingReplace(EventBase, frozen=True):
    """A modify was sent; ``reserve_extra`` more funds are locked until the venue answers."""

    order_id: int
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reserve_extra: Decimal


class OrderReplaced(EventBase, frozen=True):
    """The order now has this quantity and prices (quantity <= filled completes it).

    ``order_status`` is its status after the replace; ``loses_priority``: it went to the back of
    its price level's queue at the venue (a new price, or more quantity)."""

    order_id: int
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reserve_unit: Decimal
    protection_price: Decimal | None = None
    order_status: OrderStatus | None = None
    loses_priority: bool | None = None
    source: str | None = None


class OrderModifyRejected(EventBase, frozen=True):
    """A modify was refused: by the engine (the order is unchanged) or by the venue (a pending
    replace goes back to the order's working status). ``order_status`` is the order's status after
    it (None: no such order)."""

    account_id: str
    reason: str
    message: str
    order_id: int | None = None
    client_order_id: str | None = None
    order_status: OrderStatus | None = None


class OrderExpired(EventBase, frozen=True):
    order_id: int
    source: str | None = None


class OrderFilled(EventBase, frozen=True):
    """One execution of an order; positions and balances follow from it. ``order_status`` is the
    order's status after it (FIX OrdStatus): a partial or a full fill, or a late fill that leaves a
    canceled or expired order as it was."""

    order_id: int
    account_id: str
    symbol: str
    side: Side
    exec_id: str
    trade_id: str
    last_qty: Decimal
    last_px: Decimal
    liquidity_side: LiquiditySide
    fee: Decimal
    fee_asset: str
    venue_order_id: str | None = None
    order_status: OrderStatus | None = None
    source: str | None = None


class OrderFillBusted(EventBase, frozen=True):
    """The venue broke an earlier execution; its effects on order, position and balances reverse.
    ``order_status`` is the order's status after it (FIX ExecType H): a FILLED order that it
    leaves below its quantity reopens (PARTIALLY_FILLED, or its working status with nothing
    filled); a canceled or expired one stays so. None in journals written before it was added."""

    order_id: int
    exec_id: str
    order_status: OrderStatus | None = None
    #: The reversal comes out of the lot the execution opened, if it still holds it (nothing
    #: realized); False in older journals, which booked it as a FIFO closing trade.
    takes_back_lot: bool = False


class OrderFillCorrected(EventBase, frozen=True):
    """The venue corrected an earlier execution: its old effects reverse, the corrected ones apply.
    ``order_status`` is the order's status after it (a correction may complete the order)."""

    order_id: int
    exec_id: str
    last_qty: Decimal
    last_px: Decimal
    fee: Decimal
    order_status: OrderStatus | None = None
    #: As :attr:`OrderFillBusted.takes_back_lot`, for the reversal of the execution as it was.
    takes_back_lot: bool = False


class VenueReportIgnored(EventBase, frozen=True):
    """A venue report that could not apply (unknown order, duplicate, would overfill), kept for audit."""

    order_id: int
    report: str
    reason: str
    message: str
