"""The fold of an order's life before and around its executions: created, denied, acknowledged,
rejected, triggered, trailed, cancel and replace requested, answered, expired.

Each applier books what its event says; the transition it names is looked up in the one table
(:mod:`atlas_oms.core.orders.transitions`), and where the decision side chose among transitions
the event carries the resulting status. Executions are booked in :mod:`.booking`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.transitions import Tx, next_status
from atlas_oms.core.state import legacy
from atlas_oms.core.state.booking import finish, refs_of, release_pending, track
from atlas_oms.model import events as ev
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import TRIGGERED_TYPES, OrderStatus, PositionSide, Side

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)
ONE = Decimal(1)
S_INITIALIZED = OrderStatus.INITIALIZED
_BUY = Side.BUY
_PENDING_CANCEL = OrderStatus.PENDING_CANCEL
_PENDING_REPLACE = OrderStatus.PENDING_REPLACE


def new_order(state: State, order_id: int, intent: SubmitOrder, venue: str, ts: int) -> Order:
    """Create the order an intent describes (INITIALIZED) and index its client order id."""
    order = Order(  # positional, in field order: keyword construction costs five times as much
        order_id,
        intent.account_id,
        intent.symbol,
        venue,
        intent.side,
        intent.order_type,
        intent.qty,
        intent.price,
        intent.trigger_price,
        intent.trigger_type,
        intent.trailing_offset,
        intent.trailing_offset_type,
        intent.limit_offset,
        intent.tif,
        intent.expire_ts,
        intent.post_only,
        intent.reduce_only,
        intent.position_side or PositionSide.BOTH,
        intent.client_order_id,
        intent.tag,
        ts,
        ts,
        S_INITIALIZED,
        ZERO,
        intent.qty,
    )
    state.orders[order_id] = order
    if intent.client_order_id is not None:
        state.client_ids[(intent.account_id, intent.client_order_id)] = order_id
        state.client_id_queue.append((ts, intent.account_id, intent.client_order_id, order_id))
        order.intent = intent
    elif (
        intent.extended_hours or intent.market_reason is not None or intent.display_qty is not None
    ):
        order.intent = intent
    if order_id >= state.next_order_id:
        state.next_order_id = order_id + 1
    return order


def apply_denied(state: State, e: ev.OrderDenied) -> None:
    inst = state.instruments.get(e.intent.symbol)
    order = new_order(state, e.order_id, e.intent, inst.venue if inst else "", e.ts_event)
    order.status = next_status(order, Tx.DENY)
    order.leaves_qty = ZERO
    order.reason = e.reason
    state.terminal[e.order_id] = e.ts_event


def apply_submitted(state: State, e: ev.OrderSubmitted) -> None:
    intent = e.intent
    order = new_order(state, e.order_id, intent, state.instruments[intent.symbol].venue, e.ts_event)
    order.status = next_status(order, Tx.SUBMIT)
    order.trigger_price = e.trigger_price
    order.protection_price = e.protection_price
    order.expire_ts = e.expire_ts
    order.held = intent.order_type in TRIGGERED_TYPES
    order.reserved_asset = e.reserved_asset
    order.reserve_unit = e.reserve_unit
    # The position and balances its fills and reservation will move.
    refs = order.refs = refs_of(state, intent.account_id, intent.symbol, order.position_side)
    if e.reserved_asset is not None and e.reserve_unit:
        unit = e.reserve_unit
        # Share the quantity object when the unit is one (a spot sell): memory per order.
        reserved = order.reserved = intent.qty if unit == ONE else intent.qty * unit
        quote = refs.quote
        bal = quote if quote is not None and order.side is _BUY else refs.balance
        assert bal.asset == e.reserved_asset, (bal.asset, e.reserved_asset)
        bal.locked += reserved
    if e.expire_ts is not None:
        state.expiries.add((e.expire_ts, e.order_id))
    track(state, order, ZERO)
    risk = state.risk
    if risk.count_rates or risk.count_ratios or risk.dup_window_ns or intent.retry_of:
        risk.on_submitted(e.order_id, intent, e.ts_event)


def apply_accepted(state: State, e: ev.OrderAccepted) -> None:
    order = state.orders[e.order_id]
    order.status = next_status(order, Tx.ACCEPT)
    order.accepted = True
    order.ts_last = e.ts_event
    if state.risk.breakers:
        state.risk.on_accepted(order.account_id, order.tag)
    if e.venue_order_id is not None:
        order.venue_order_id = e.venue_order_id
        if not order.priority_seq:
            order.priority_seq = e.seq  # its place in the venue's queue
    if order.held and order.trigger_price is not None and order.order_id not in state.triggers:
        state.triggers.add(
            order.order_id,
            order.symbol,
            order.trigger_type,
            order.side,
            order.order_type,
            order.trigger_price,
        )


def apply_rejected(state: State, e: ev.OrderRejected) -> None:
    order = state.orders[e.order_id]
    old = order.leaves_qty
    order.status = next_status(order, Tx.REJECT)
    order.reason = e.reason
    order.ts_last = e.ts_event
    finish(state, order)
    track(state, order, old)
    if state.risk.breakers:
        system_error = e.system_error if e.system_error is not None else legacy.system_error(e)
        state.risk.on_rejected(order.account_id, order.tag, system_error, e.seq)


def apply_triggered(state: State, e: ev.OrderTriggered) -> None:
    order = state.orders[e.order_id]
    order.status = next_status(order, Tx.TRIGGER)
    order.triggered = True
    order.held = False
    order.trigger_price = e.trigger_price
    order.price = e.price
    order.protection_price = e.protection_price
    order.ts_last = e.ts_event
    state.triggers.remove(order.order_id)


def apply_trailing_updated(state: State, e: ev.OrderTrailingUpdated) -> None:
    order = state.orders[e.order_id]
    order.watermark = e.watermark
    order.trigger_price = e.trigger_price
    order.ts_last = e.ts_event


def apply_pending_cancel(state: State, e: ev.OrderPendingCancel) -> None:
    order = state.orders[e.order_id]
    order.status = next_status(order, Tx.PENDING_CANCEL)
    order.ts_last = e.ts_event
    if e.reason is not None:
        order.reason = e.reason  # the venue's confirmation will carry its own wording
    if state.risk.count_ratios:
        state.risk.on_cancel_request(order.account_id, e.ts_event)


def apply_cancel_rejected(state: State, e: ev.OrderCancelRejected) -> None:
    status = e.order_status
    if status is None:
        status = legacy.rejected_cancel_status(state, e, _PENDING_CANCEL)
    order = state.orders.get(e.order_id) if e.order_id is not None else None
    if order is not None and status is not None and status is not order.status:
        order.status = status  # the venue kept the order working
        order.ts_last = e.ts_event


def apply_canceled(state: State, e: ev.OrderCanceled) -> None:
    order = state.orders[e.order_id]
    was_live = order.is_live
    old = order.leaves_qty
    if order.held and state.risk.count_ratios:
        state.risk.on_cancel_request(order.account_id, e.ts_event)  # no pending step
    order.status = next_status(order, Tx.CANCEL)
    if was_live:
        order.reason = e.reason
        order.ts_last = e.ts_event
        finish(state, order)
        track(state, order, old)


def apply_pending_replace(state: State, e: ev.OrderPendingReplace) -> None:
    order = state.orders[e.order_id]
    order.status = next_status(order, Tx.PENDING_REPLACE)
    order.pending = (e.qty, e.price, e.trigger_price, e.reserve_extra)
    if e.reserve_extra and order.reserved_asset is not None:
        state.balance(order.account_id, order.reserved_asset).locked += e.reserve_extra
    order.ts_last = e.ts_event
    risk = state.risk
    if risk.count_rates or risk.count_ratios:
        risk.on_modify_request(order.account_id, order.tag, e.ts_event)


def apply_replaced(state: State, e: ev.OrderReplaced) -> None:
    order = state.orders[e.order_id]
    old = order.leaves_qty
    status = e.order_status or legacy.replace_status(order, e)
    loses = e.loses_priority
    if loses is None:
        loses = legacy.loses_priority(order, e)
    if order.pending is not None:
        release_pending(state, order)
    elif state.risk.count_rates or state.risk.count_ratios:  # held: replaced without a pending step
        state.risk.on_modify_request(order.account_id, order.tag, e.ts_event)
    qty = e.qty if e.qty > order.cum_qty else order.cum_qty
    if loses:
        order.priority_seq = e.seq  # to the back of its price level's queue
    order.qty = qty
    order.leaves_qty = qty - order.cum_qty
    order.price = e.price
    order.protection_price = e.protection_price
    order.ts_last = e.ts_event
    order.status = status
    new_reserved = order.leaves_qty * e.reserve_unit
    if order.reserved_asset is not None:
        state.balance(order.account_id, order.reserved_asset).locked += (
            new_reserved - order.reserved
        )
    order.reserved = new_reserved
    order.reserve_unit = e.reserve_unit
    if e.trigger_price != order.trigger_price:
        order.trigger_price = e.trigger_price
        if e.trigger_price is not None and order.order_id in state.triggers:
            state.triggers.remove(order.order_id)
            state.triggers.add(
                order.order_id,
                order.symbol,
                order.trigger_type,
                order.side,
                order.order_type,
                e.trigger_price,
            )
    if not order.leaves_qty:
        finish(state, order)
    track(state, order, old)


def apply_modify_rejected(state: State, e: ev.OrderModifyRejected) -> None:
    status = e.order_status
    if status is None:
        status = legacy.rejected_cancel_status(state, e, _PENDING_REPLACE)
    order = state.orders.get(e.order_id) if e.order_id is not None else None
    if order is not None and status is not None and status is not order.status:
        order.status = status  # the venue kept the order as it was
        if order.pending is not None:
            release_pending(state, order)
        order.ts_last = e.ts_event


def apply_expired(state: State, e: ev.OrderExpired) -> None:
    order = state.orders[e.order_id]
    old = order.leaves_qty
    order.status = next_status(order, Tx.EXPIRE)
    order.reason = "EXPIRED"
    order.ts_last = e.ts_event
    finish(state, order)
    track(state, order, old)


def apply_nothing(state: State, e: ev.EventBase) -> None:
    """Events kept for the record that change no state (refusals, ignored reports)."""
