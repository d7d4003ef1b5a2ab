"""The order: its mutable state inside the engine, and the one table of its legal transitions."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec

from atlas_oms.model.enums import (
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)

S = OrderStatus
ZERO = Decimal(0)


class Tx(StrEnum):
    """What happens to an order: the column of the transition table."""

    SUBMIT = "SUBMIT"
    DENY = "DENY"
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    TRIGGER = "TRIGGER"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCEL = "CANCEL"
    CANCEL_REJECT = "CANCEL_REJECT"
    PENDING_REPLACE = "PENDING_REPLACE"
    REPLACE = "REPLACE"
    REPLACE_COMPLETE = "REPLACE_COMPLETE"
    MODIFY_REJECT = "MODIFY_REJECT"
    EXPIRE = "EXPIRE"
    FILL_PARTIAL = "FILL_PARTIAL"
    FILL_FULL = "FILL_FULL"
    BUST = "BUST"
    CORRECT = "CORRECT"


#: Target meaning "back to the working state the order was in": SUBMITTED, ACCEPTED, TRIGGERED
#: or PARTIALLY_FILLED, whichever its acknowledgement, trigger and fills say.
RESTORE = "RESTORE"

#: (state, transition) -> next state. Anything absent is illegal and changes nothing.
TRANSITIONS: dict[tuple[OrderStatus, Tx], OrderStatus | str] = {
    (S.INITIALIZED, Tx.SUBMIT): S.SUBMITTED,
    (S.INITIALIZED, Tx.DENY): S.DENIED,
    # --- sent, not yet acknowledged
    (S.SUBMITTED, Tx.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, Tx.REJECT): S.REJECTED,
    (S.SUBMITTED, Tx.FILL_PARTIAL): S.PARTIALLY_FILLED,  # a fill may overtake the ack
    (S.SUBMITTED, Tx.FILL_FULL): S.FILLED,
    (S.SUBMITTED, Tx.PENDING_CANCEL): S.PENDING_CANCEL,  # cancel before ack (FIX D.8)
    (S.SUBMITTED, Tx.CANCEL): S.CANCELED,  # IOC remainder canceled before the ack arrives
    (S.SUBMITTED, Tx.EXPIRE): S.EXPIRED,
    # --- working at the venue, or held by the engine until its trigger fires
    (S.ACCEPTED, Tx.ACCEPT): S.ACCEPTED,  # duplicate ack
    (S.ACCEPTED, Tx.TRIGGER): S.TRIGGERED,
    (S.ACCEPTED, Tx.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.ACCEPTED, Tx.FILL_FULL): S.FILLED,
    (S.ACCEPTED, Tx.PENDING_CANCEL): S.PENDING_CANCEL,
    (S.ACCEPTED, Tx.CANCEL): S.CANCELED,  # unsolicited: venue or engine canceled it
    (S.ACCEPTED, Tx.PENDING_REPLACE): S.PENDING_REPLACE,
    (S.ACCEPTED, Tx.REPLACE): RESTORE,  # held orders are replaced at once; or venue-initiated
    (S.ACCEPTED, Tx.EXPIRE): S.EXPIRED,
    # --- a released stop working at the venue
    (S.TRIGGERED, Tx.ACCEPT): S.TRIGGERED,  # the venue acknowledges the released order
    (S.TRIGGERED, Tx.REJECT): S.REJECTED,
    (S.TRIGGERED, Tx.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.TRIGGERED, Tx.FILL_FULL): S.FILLED,
    (S.TRIGGERED, Tx.PENDING_CANCEL): S.PENDING_CANCEL,
    (S.TRIGGERED, Tx.CANCEL): S.CANCELED,
    (S.TRIGGERED, Tx.PENDING_REPLACE): S.PENDING_REPLACE,
    (S.TRIGGERED, Tx.REPLACE): RESTORE,
    (S.TRIGGERED, Tx.EXPIRE): S.EXPIRED,
    # --- partially filled
    (S.PARTIALLY_FILLED, Tx.ACCEPT): S.PARTIALLY_FILLED,  # late ack after a fill
    (S.PARTIALLY_FILLED, Tx.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, Tx.FILL_FULL): S.FILLED,
    (S.PARTIALLY_FILLED, Tx.PENDING_CANCEL): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, Tx.CANCEL): S.CANCELED,
    (S.PARTIALLY_FILLED, Tx.PENDING_REPLACE): S.PENDING_REPLACE,
    (S.PARTIALLY_FILLED, Tx.REPLACE): RESTORE,
    (S.PARTIALLY_FILLED, Tx.REPLACE_COMPLETE): S.FILLED,  # venue cut qty to the filled qty
    (S.PARTIALLY_FILLED, Tx.EXPIRE): S.EXPIRED,
    (S.PARTIALLY_FILLED, Tx.BUST): RESTORE,
    (S.PARTIALLY_FILLED, Tx.CORRECT): RESTORE,  # trade correction (FIX ExecType G)
    # --- cancel requested
    (
        S.PENDING_CANCEL,
        Tx.ACCEPT,
    ): S.PENDING_CANCEL,  # ack of the order arrives after the cancel request
    (S.PENDING_CANCEL, Tx.REJECT): S.REJECTED,  # the venue rejected the order itself
    (S.PENDING_CANCEL, Tx.CANCEL): S.CANCELED,
    (S.PENDING_CANCEL, Tx.CANCEL_REJECT): RESTORE,  # too late / unknown at venue: still working
    (S.PENDING_CANCEL, Tx.FILL_PARTIAL): S.PENDING_CANCEL,  # a fill raced the cancel (FIX D.10)
    (S.PENDING_CANCEL, Tx.FILL_FULL): S.FILLED,  # filled before the cancel arrived
    (S.PENDING_CANCEL, Tx.EXPIRE): S.EXPIRED,
    (S.PENDING_CANCEL, Tx.BUST): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, Tx.CORRECT): S.PENDING_CANCEL,
    # --- replace requested
    (S.PENDING_REPLACE, Tx.ACCEPT): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, Tx.REPLACE): RESTORE,
    (S.PENDING_REPLACE, Tx.REPLACE_COMPLETE): S.FILLED,  # qty reduced to the filled qty
    (S.PENDING_REPLACE, Tx.MODIFY_REJECT): RESTORE,
    (S.PENDING_REPLACE, Tx.FILL_PARTIAL): S.PENDING_REPLACE,  # a fill raced the replace (FIX D.13)
    (S.PENDING_REPLACE, Tx.FILL_FULL): S.FILLED,
    (S.PENDING_REPLACE, Tx.PENDING_CANCEL): S.PENDING_CANCEL,  # cancel while a replace is out
    (S.PENDING_REPLACE, Tx.CANCEL): S.CANCELED,
    (S.PENDING_REPLACE, Tx.EXPIRE): S.EXPIRED,
    (S.PENDING_REPLACE, Tx.BUST): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, Tx.CORRECT): S.PENDING_REPLACE,
    # --- terminal states absorb; only the venue's late word about a real execution is recorded
    (S.FILLED, Tx.ACCEPT): S.FILLED,  # late ack
    (S.FILLED, Tx.CANCEL): S.FILLED,  # cancel ack for an order that had already filled
    (S.FILLED, Tx.CANCEL_REJECT): S.FILLED,  # "too late to cancel": it filled first
    (S.FILLED, Tx.MODIFY_REJECT): S.FILLED,
    # an execution broken or corrected after the fact: quantities change, the state stays
    (S.FILLED, Tx.BUST): S.FILLED,
    (S.FILLED, Tx.CORRECT): S.FILLED,
    (S.CANCELED, Tx.ACCEPT): S.CANCELED,
    (S.CANCELED, Tx.CANCEL): S.CANCELED,  # duplicate cancel ack
    (S.CANCELED, Tx.CANCEL_REJECT): S.CANCELED,
    (S.CANCELED, Tx.MODIFY_REJECT): S.CANCELED,
    (S.CANCELED, Tx.FILL_PARTIAL): S.CANCELED,  # executed before the cancel took effect: it counts
    (S.CANCELED, Tx.FILL_FULL): S.FILLED,  # the whole order had executed before the cancel
    (S.CANCELED, Tx.BUST): S.CANCELED,
    (S.CANCELED, Tx.CORRECT): S.CANCELED,
    (S.EXPIRED, Tx.ACCEPT): S.EXPIRED,
    (S.EXPIRED, Tx.CANCEL): S.EXPIRED,  # the venue confirms our expiry cancel
    (S.EXPIRED, Tx.CANCEL_REJECT): S.EXPIRED,
    (S.EXPIRED, Tx.FILL_PARTIAL): S.EXPIRED,  # executed before the expiry reached the venue
    (S.EXPIRED, Tx.FILL_FULL): S.FILLED,
    (S.EXPIRED, Tx.BUST): S.EXPIRED,
    (S.EXPIRED, Tx.CORRECT): S.EXPIRED,
    (S.REJECTED, Tx.REJECT): S.REJECTED,  # duplicate reject
}

#: States in which an order can still trade.
LIVE_STATUSES = frozenset(
    {S.SUBMITTED, S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_REPLACE}
)


class IllegalTransition(Exception):
    """A transition absent from :data:`TRANSITIONS` was attempted: the caller refuses it."""


def next_status(order: Order, tx: Tx) -> OrderStatus:
    """Return the state ``order`` moves to on ``tx``; raise :class:`IllegalTransition` if none."""
    target = TRANSITIONS.get((order.status, tx))
    if target is None:
        raise IllegalTransition(
            f"order {order.order_id}: {tx.value} is not allowed in {order.status}"
        )
    if target is RESTORE:
        return order.working_status()
    return target  # type: ignore[return-value]


class Order(msgspec.Struct, gc=False):
    """One order as the engine tracks it. Mutated only by the engine's event appliers.

    A ``msgspec.Struct`` without garbage-collector tracking (it holds no reference cycles): a
    million resting orders cost the cyclic collector nothing. The engine builds it positionally:
    keyword construction of a struct this wide costs five times as much (~1 µs).
    """

    order_id: int
    account_id: str
    symbol: str
    venue: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    trigger_type: TriggerType
    trailing_offset: Decimal | None
    trailing_offset_type: TrailingOffsetType
    limit_offset: Decimal | None
    tif: TimeInForce
    expire_ts: int | None
    post_only: bool
    reduce_only: bool
    position_side: PositionSide
    client_order_id: str | None
    tag: str | None
    ts_init: int
    ts_last: int = 0
    status: OrderStatus = S.INITIALIZED
    cum_qty: Decimal = ZERO
    leaves_qty: Decimal = ZERO
    cum_notional: Decimal = ZERO
    fees: Decimal = ZERO
    fee_asset: str | None = None
    fill_count: int = 0
    venue_order_id: str | None = None
    accepted: bool = False
    held: bool = False
    triggered: bool = False
    watermark: Decimal | None = None
    protection_price: Decimal | None = None
    reserved_asset: str | None = None
    reserve_unit: Decimal = ZERO
    reserved: Decimal = ZERO
    #: A modify in flight: (qty, price, trigger price, extra funds locked for it).
    pending: tuple[Decimal, Decimal | None, Decimal | None, Decimal] | None = None
    reason: str | None = None
    #: Seq of the event at which the order took its current place in the venue's queue.
    priority_seq: int = 0
    #: Cached (instrument, position, balance, balance) this order's fills move; not state.
    book_refs: tuple[Any, ...] | None = None

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def avg_px(self) -> Decimal | None:
        """Average fill price: exact notional over filled quantity (None before any fill)."""
        return self.cum_notional / self.cum_qty if self.cum_qty else None

    def working_status(self) -> OrderStatus:
        if self.cum_qty > 0:
            return S.PARTIALLY_FILLED
        if self.triggered:
            return S.TRIGGERED
        if self.accepted:
            return S.ACCEPTED
        return S.SUBMITTED

    def view(self) -> OrderView:
        return OrderView(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            account_id=self.account_id,
            symbol=self.symbol,
            venue=self.venue,
            side=self.side,
            order_type=self.order_type,
            status=self.status,
            qty=self.qty,
            price=self.price,
            trigger_price=self.trigger_price,
            tif=self.tif,
            cum_qty=self.cum_qty,
            leaves_qty=self.leaves_qty,
            avg_px=self.avg_px,
            fees=self.fees,
            fee_asset=self.fee_asset,
            post_only=self.post_only,
            reduce_only=self.reduce_only,
            position_side=self.position_side,
            venue_order_id=self.venue_order_id,
            reason=self.reason,
            tag=self.tag,
            ts_init=self.ts_init,
            ts_last=self.ts_last,
        )


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    """A read-only picture of an order, as the API and the blotter show it."""

    order_id: int
    client_order_id: str | None
    account_id: str
    symbol: str
    venue: str
    side: Side
    order_type: OrderType
    status: OrderStatus
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    tif: TimeInForce
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal | None
    fees: Decimal
    fee_asset: str | None
    post_only: bool
    reduce_only: bool
    position_side: PositionSide
    venue_order_id: str | None
    reason: str | None
    tag: str | None
    ts_init: int
    ts_last: int
    duplicate: bool = False
