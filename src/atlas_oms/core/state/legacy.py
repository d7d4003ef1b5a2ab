"""Decisions that journals written before schema 2 did not carry in their events.

Events now carry every decision (``order_status`` after a fill, a correction, a replace or a
refused cancel, and since issue 11 after a bust; ``loses_priority``; ``flatten_accounts``; ``system_error``; ``funding_from_ts``).
An event from an older journal decodes those fields as None; the fold then calls the function
here, which reaches the decision exactly as the fold of that time did, from the state before the
event. New events never take this path (their decision side always fills the field in where it
matters), so these rules are frozen: change a rule on the decision side, never here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.transitions import TRANSITIONS, Tx, next_status
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus
from atlas_oms.model.reasons import Reason

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

#: Rejections that counted as system errors for a circuit breaker (business outcomes did not).
SYSTEM_ERRORS = frozenset({Reason.VENUE_REJECTED, Reason.VENUE_TIMEOUT})

#: The decision fields events gained in schema 2, per event type; each decodes as None from an
#: older journal and is then decided here.
DECISION_FIELDS: dict[type, tuple[str, ...]] = {
    ev.OrderFilled: ("order_status",),
    ev.OrderFillCorrected: ("order_status",),
    ev.OrderFillBusted: ("order_status",),
    ev.OrderReplaced: ("order_status", "loses_priority"),
    ev.OrderCancelRejected: ("order_status",),
    ev.OrderModifyRejected: ("order_status",),
    ev.OrderRejected: ("system_error",),
    ev.KillSwitchTripped: ("flatten_accounts",),
    ev.FundingRateSet: ("funding_from_ts",),
}


def fill_status(order: Order, e: ev.OrderFilled) -> OrderStatus:
    """A fill's target: full when it reaches the order's quantity, else partial."""
    full = order.cum_qty + e.last_qty >= order.qty
    target = TRANSITIONS[(order.status, Tx.FILL_FULL if full else Tx.FILL_PARTIAL)]
    return target if isinstance(target, OrderStatus) else order.working_status()


#: Where a bust or a correction took an order before events carried the decision: a partially
#: filled order back to its working status, every other status unchanged (a FILLED order stayed
#: FILLED whatever it had left; the decision side now reopens it). Frozen here, apart from the
#: transition table, which has changed since.
_LEGACY_RESTORED_BY_EXECUTION_CHANGE = frozenset({OrderStatus.PARTIALLY_FILLED})


def correction_status(order: Order, e: ev.OrderFillCorrected, old: ev.OrderFilled) -> OrderStatus:
    """A correction completes a live order that it brings to its quantity; else the order's
    status after a correction (its working status, a filled quantity being left)."""
    cum = order.cum_qty + e.last_qty - old.last_qty
    if order.is_live and cum == order.qty:
        return next_status(order, Tx.FILL_FULL)
    if order.status in _LEGACY_RESTORED_BY_EXECUTION_CHANGE:
        return OrderStatus.PARTIALLY_FILLED if cum > 0 else order.working_status()
    return order.status


def bust_status(order: Order) -> OrderStatus:
    """The order's status after a bust, ``order`` already carrying the quantity the bust left:
    a partially filled order went back to its working status; any other kept its status."""
    if order.status in _LEGACY_RESTORED_BY_EXECUTION_CHANGE:
        return order.working_status()
    return order.status


def replace_status(order: Order, e: ev.OrderReplaced) -> OrderStatus:
    """A replace to no more than the filled quantity completes the order."""
    qty = e.qty if e.qty > order.cum_qty else order.cum_qty
    return next_status(order, Tx.REPLACE if qty > order.cum_qty else Tx.REPLACE_COMPLETE)


def loses_priority(order: Order, e: ev.OrderReplaced) -> bool:
    """The rule of schema 1: a new price or more leaves lost the queue position (held orders
    included, though they were in no queue)."""
    qty = e.qty if e.qty > order.cum_qty else order.cum_qty
    return e.price != order.price or qty - order.cum_qty > order.leaves_qty


def rejected_cancel_status(
    state: State, e: ev.OrderCancelRejected | ev.OrderModifyRejected, pending: OrderStatus
) -> OrderStatus | None:
    """A refusal restored an order waiting for the venue (``pending``) unless it refused a second
    request (ORDER_PENDING: the first one is still in flight)."""
    order = state.orders.get(e.order_id) if e.order_id is not None else None
    if order is None:
        return None
    if order.status is pending and e.reason != Reason.ORDER_PENDING:
        tx = Tx.CANCEL_REJECT if pending is OrderStatus.PENDING_CANCEL else Tx.MODIFY_REJECT
        return next_status(order, tx)
    return order.status


def system_error(e: ev.OrderRejected) -> bool:
    return e.reason in SYSTEM_ERRORS


def flatten_accounts(state: State, e: ev.KillSwitchTripped) -> list[str]:
    """The accounts in the scope holding a position when the kill switch tripped."""
    if not e.flatten:
        return []
    return sorted(
        {
            p.account_id
            for p in state.positions.values()
            if p.qty and state.in_scope(e.scope, e.scope_id, p.account_id, None)
        }
    )


def funding_from(state: State, e: ev.FundingRateSet) -> int | None:
    """Funding counted from the boundary at or before a perpetual's first rate."""
    if e.symbol in state.liq.last_funding:
        return None
    interval = state.instruments[e.symbol].funding_interval_min * 60_000_000_000
    return e.ts_event - e.ts_event % interval if interval else 0
