"""The order state machine: one table of (state, transition) -> next state.

Each unusual edge carries a one-line comment on the venue reality it serves. The decision side
checks a transition here before it emits the event; the fold books the status the event carries.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from atlas_oms.model.enums import OrderStatus

if TYPE_CHECKING:
    from atlas_oms.core.orders.order import Order

S = OrderStatus


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
    # (and a FILLED order that a bust or correction leaves below its quantity reopens)
    (S.FILLED, Tx.ACCEPT): S.FILLED,  # late ack
    (S.FILLED, Tx.CANCEL): S.FILLED,  # cancel ack for an order that had already filled
    (S.FILLED, Tx.CANCEL_REJECT): S.FILLED,  # "too late to cancel": it filled first
    (S.FILLED, Tx.MODIFY_REJECT): S.FILLED,
    # an execution broken or corrected after the fact that leaves the order below its quantity
    # reopens it (FIX ExecType H/G: OrdStatus follows the open quantity, LeavesQty = qty - cum);
    # a correction that keeps it complete leaves it FILLED (see execution_changed)
    (S.FILLED, Tx.BUST): RESTORE,
    (S.FILLED, Tx.CORRECT): RESTORE,
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
    if isinstance(target, OrderStatus):
        return target
    return order.working_status()  # RESTORE


def execution_changed(order: Order, tx: Tx, cum: Decimal) -> OrderStatus:
    """The status a bust or correction (``tx``) that leaves ``cum`` filled takes ``order`` to;
    raise :class:`IllegalTransition` if the table has no such edge.

    An order (live, or FILLED) that is complete afterwards is FILLED. One that reopens goes back
    to its working status for the quantity still filled: PARTIALLY_FILLED when ``cum`` > 0, else
    TRIGGERED, ACCEPTED or SUBMITTED as its trigger and acknowledgement say (FIX: a trade cancel
    on a filled order leaves it open for qty - cum). Canceled and expired orders stay so."""
    target = TRANSITIONS.get((order.status, tx))
    if target is None:
        raise IllegalTransition(
            f"order {order.order_id}: {tx.value} is not allowed in {order.status}"
        )
    if cum == order.qty and (order.is_live or order.status is S.FILLED):
        return S.FILLED
    if isinstance(target, OrderStatus):
        return target
    if cum > 0:
        return S.PARTIALLY_FILLED
    if order.triggered:
        return S.TRIGGERED
    return S.ACCEPTED if order.accepted else S.SUBMITTED
