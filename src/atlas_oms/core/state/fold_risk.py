"""The fold of risk operations: limits, trading states, kill switches, circuit breakers, alerts,
flattening, market status. The risk book (:mod:`atlas_oms.core.risk.book`) does the booking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlas_oms.core.state import legacy
from atlas_oms.model import events as ev

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State


def apply_risk_limits_set(state: State, e: ev.RiskLimitsSet) -> None:
    state.risk.on_limits(e)


def apply_trading_state_changed(state: State, e: ev.TradingStateChanged) -> None:
    state.risk.on_trading_state(e)


def apply_kill_switch_tripped(state: State, e: ev.KillSwitchTripped) -> None:
    accounts = e.flatten_accounts
    if accounts is None:
        accounts = legacy.flatten_accounts(state, e)
    state.risk.on_kill(e, accounts)


def apply_kill_switch_reset(state: State, e: ev.KillSwitchReset) -> None:
    state.risk.on_kill_reset(e)


def apply_breaker_tripped(state: State, e: ev.CircuitBreakerTripped) -> None:
    state.risk.on_breaker_tripped(e)


def apply_breaker_reset(state: State, e: ev.CircuitBreakerReset) -> None:
    state.risk.on_breaker_reset(e)


def apply_breaker_equity_marked(state: State, e: ev.BreakerEquityMarked) -> None:
    state.risk.on_equity_marked(e)


def apply_risk_alert(state: State, e: ev.RiskAlert) -> None:
    state.risk.on_alert(e)


def apply_account_flattening(state: State, e: ev.AccountFlattening) -> None:
    state.risk.on_flattening(e.account_id)


def apply_market_status_changed(state: State, e: ev.MarketStatusChanged) -> None:
    state.risk.on_market_status(e.symbol, e.status)
