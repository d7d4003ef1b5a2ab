"""The fold of the emergency-exit and forced-close events (``model/events_exits.py``): it only
books what ``fallback.py`` and ``forced_close.py`` decided."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas_oms.model import events_exits as ex

if TYPE_CHECKING:
    from atlas_oms.core.policy.trade_state import TradeState
    from atlas_oms.core.state.state import State


def _trade(state: State, trade_id: str) -> TradeState:
    trades: dict[str, TradeState] = state.trades
    return trades[trade_id]


def apply_stop_triggered(state: State, e: ex.TradeStopTriggered) -> None:
    _trade(state, e.trade_id).stop_fallback_ts = e.fallback_ts


def apply_exit_started(state: State, e: ex.TradeExitStarted) -> None:
    t = _trade(state, e.trade_id)
    t.exit_reason = e.reason
    t.exit_cause = e.cause
    t.stop_fallback_ts = None
    t.fc_next_ts = None
    t.entry_order_id = None
    t.next_reprice_ts = None
    t.entry_cancel_ts = None
    for order_id in e.canceled:
        t.targets.pop(order_id, None)


def apply_exit_order_placed(state: State, e: ex.TradeExitOrderPlaced) -> None:
    t = _trade(state, e.trade_id)
    t.exit_attempts = e.attempt
    if e.order_id:
        t.exit_order_id = e.order_id
        t.exit_orders.append(e.order_id)
        state.trade_orders[e.order_id] = e.trade_id


def apply_stop_rejected(state: State, e: ex.TradeStopRejected) -> None:
    _trade(state, e.trade_id).stop_rejects = e.attempt


def apply_session_observed(state: State, e: ex.TradeSessionObserved) -> None:
    _trade(state, e.trade_id).session_status = e.status


def apply_forced_close_order(state: State, e: ex.TradeForcedCloseOrder) -> None:
    t = _trade(state, e.trade_id)
    t.fc_reprices = e.reprice
    t.fc_next_ts = e.next_ts
    t.fc_order_id = e.order_id or None
    if e.order_id and e.order_id not in t.exit_orders:  # a repricing modifies the same order
        t.exit_orders.append(e.order_id)
        state.trade_orders[e.order_id] = e.trade_id


def apply_cannot_liquidate(state: State, e: ex.TradeCannotLiquidate) -> None:
    t = _trade(state, e.trade_id)
    t.cannot_liquidate = True
    t.fc_next_ts = None


EXIT_APPLIERS: dict[type, Any] = {
    ex.TradeStopTriggered: apply_stop_triggered,
    ex.TradeExitStarted: apply_exit_started,
    ex.TradeExitOrderPlaced: apply_exit_order_placed,
    ex.TradeStopRejected: apply_stop_rejected,
    ex.TradeSessionObserved: apply_session_observed,
    ex.TradeForcedCloseOrder: apply_forced_close_order,
    ex.TradeCannotLiquidate: apply_cannot_liquidate,
}
