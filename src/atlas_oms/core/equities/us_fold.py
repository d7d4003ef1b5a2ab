"""The fold's appliers of the US-market events (calendars, corporate actions, close equity)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.core.equities.calendar import apply_session_calendar_set
from atlas_oms.core.equities.day_trades import apply_close_equity_recorded
from atlas_oms.core.orders.transitions import Tx, next_status
from atlas_oms.core.state.fold_orders import apply_canceled
from atlas_oms.core.state.positions import Lot, Position
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)


def apply_corporate_action_applied(state: State, e: ev.CorporateActionApplied) -> None:
    inst = state.instruments[e.symbol]
    state.equities.us.actions.append(e.action_id)
    if e.kind != "DIVIDEND" and e.ratio is not None:
        factor = e.ratio if e.kind == "SPLIT" else 1 + e.ratio
        state.equities.us.share_actions.setdefault(e.symbol, []).append((e.action_id, factor))
    for account_id, before, after, cash in e.holdings:
        bal = state.balance(account_id, inst.base)
        bal.total += after - before
        if cash:
            state.balance(account_id, inst.quote).total += cash
        for pos in state.account_positions.get(account_id, ()):
            if pos.symbol != e.symbol or not pos.qty:
                continue
            if e.kind == "SPLIT":
                assert e.ratio is not None
                _split(pos, e.ratio)
            elif e.kind == "BONUS":
                assert e.ratio is not None
                _bonus(pos, e.ratio, e.ts_event)
            elif cash:
                pos.realized_pnl += cash
                cash = ZERO  # once per holder (a hedge-mode holder's first position)
    if e.kind == "SPLIT":
        assert e.ratio is not None
        for prices in (state.last, state.mark):
            if e.symbol in prices:
                prices[e.symbol] /= e.ratio
    if e.kind != "DIVIDEND":
        _firm(state, e.symbol)


def _firm(state: State, symbol: str) -> None:
    firm = state.firm.get(symbol)
    if firm is not None:
        net = gross = ZERO
        for pos in state.symbol_positions.get(symbol, ()):
            net += pos.qty
            gross += abs(pos.qty)
        firm.net, firm.gross = net, gross


def apply_position_qty_adopted(state: State, e: ev.PositionQtyAdopted) -> None:
    """Rescale the lots to the adopted quantity, keeping their total cost."""
    pos = state.positions.get((e.account_id, e.symbol, e.position_side))
    if pos is None or not pos.qty or pos.qty != e.qty_before:  # pragma: no cover - decided so
        return
    ratio = e.qty_after / e.qty_before
    left = e.qty_after
    lots = pos.lots
    for i, lot in enumerate(lots):
        qty = left if i == len(lots) - 1 else lot.qty * ratio  # the last takes the remainder
        left -= qty
        if qty:
            lot.price = lot.qty * lot.price / qty  # the lot's cost is kept
        lot.qty = qty
    pos.qty = e.qty_after
    _firm(state, e.symbol)


def _split(pos: Position, ratio: Decimal) -> None:
    pos.qty *= ratio
    cost = ZERO
    for lot in pos.lots:
        lot.qty *= ratio
        lot.price /= ratio
        cost += abs(lot.qty) * lot.price
    pos.cost = cost


def _bonus(pos: Position, ratio: Decimal, ts: int) -> None:
    added = pos.qty * ratio
    pos.lots.append(Lot(added, ZERO, 0, ts))
    pos.qty += added


# ------------------------------------ orders queued for their session (session_queue.py)
def apply_session_queued(state: State, e: ev.OrderSessionQueued) -> None:
    order = state.orders[e.order_id]
    order.status = next_status(order, Tx.ACCEPT)
    order.accepted = True
    order.held = True  # in no venue's queue: canceled, modified and expired by Atlas
    order.session_release = e.release_ts
    order.ts_last = e.ts_event
    state.equities.us.queued[e.order_id] = e.release_ts


def apply_session_released(state: State, e: ev.OrderSessionReleased) -> None:
    order = state.orders[e.order_id]
    state.equities.us.queued.pop(e.order_id, None)
    order.session_release = None
    order.status = e.order_status
    order.ts_last = e.ts_event
    if e.order_status is OrderStatus.SUBMITTED:
        order.held = False
        order.accepted = False  # the venue's acknowledgement comes next
    elif order.trigger_price is not None:
        state.triggers.add(
            order.order_id,
            order.symbol,
            order.trigger_type,
            order.side,
            order.order_type,
            order.trigger_price,
        )


def apply_session_release_refused(state: State, e: ev.OrderSessionReleaseRefused) -> None:
    """Canceled by Atlas at its release (``finish`` drops it from the queue, frees its funds)."""
    apply_canceled(
        state,
        ev.OrderCanceled(seq=e.seq, ts_event=e.ts_event, order_id=e.order_id, reason=e.reason),
    )


US_MARKET_APPLIERS: dict[type, Callable[[Any, Any], None]] = {
    ev.SessionCalendarSet: apply_session_calendar_set,
    ev.CorporateActionApplied: apply_corporate_action_applied,
    ev.CloseEquityRecorded: apply_close_equity_recorded,
    ev.OrderSessionQueued: apply_session_queued,
    ev.OrderSessionReleased: apply_session_released,
    ev.OrderSessionReleaseRefused: apply_session_release_refused,
    ev.PositionQtyAdopted: apply_position_qty_adopted,
}
