"""Risk operations, an operator's commands: set limits, trading states, kill switches (trip and
reset), reset a circuit breaker, halt or reopen an instrument. Each needs an actor; a refusal is
``CommandRejected`` naming who asked."""

from __future__ import annotations

import math
from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.refusals import Refusal, operator_reject
from atlas_oms.core.risk import breaker
from atlas_oms.core.risk.book import scope_name
from atlas_oms.core.risk.kill import trip_kill
from atlas_oms.core.risk.limits import limits_refusal
from atlas_oms.core.sessions import iso_utc
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import BreakerState, Scope, TradingState

_TRADING_SCOPES = (Scope.GLOBAL, Scope.ACCOUNT, Scope.STRATEGY)


def _scope_refusal(ctx: Context, c: Any, allowed: tuple[Scope, ...]) -> Refusal | None:
    if not isinstance(c.actor, str) or not c.actor.strip():
        return Reason.MISSING_ACTOR, "say who acts: actor must not be empty"
    scope = c.scope
    if scope not in allowed:
        return (
            Reason.INVALID_SCOPE,
            f"{type(c).__name__} applies to scopes {', '.join(s.value for s in allowed)}",
        )
    sid = c.scope_id
    state = ctx.state
    if scope is Scope.GLOBAL and sid:
        return Reason.INVALID_SCOPE, "the global scope has no id"
    if scope is Scope.ACCOUNT and sid not in state.accounts:
        return Reason.UNKNOWN_ACCOUNT, f"account {sid} does not exist"
    if scope is Scope.INSTRUMENT and sid not in state.instruments:
        return Reason.UNKNOWN_INSTRUMENT, f"instrument {sid} does not exist"
    if scope is Scope.STRATEGY and not sid:
        return Reason.INVALID_SCOPE, "a strategy scope needs the strategy's tag"
    return None


def set_risk_limits(ctx: Context, c: cmd.SetRiskLimits) -> None:
    risk = ctx.state.risk
    refusal = _scope_refusal(ctx, c, tuple(Scope)) or limits_refusal(c.scope, c.limits)
    key = (c.scope, c.scope_id)
    b = risk.breakers.get(key)
    if (
        refusal is None
        and b is not None
        and b.state is BreakerState.OPEN
        and c.limits.breaker is None
    ):
        refusal = (
            Reason.INVALID_LIMITS,
            f"the {scope_name(key)} circuit breaker is open: reset it before removing it",
        )
    if refusal:
        operator_reject(ctx, c, refusal)
        return
    ctx.emit(
        ev.RiskLimitsSet(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            scope=c.scope,
            scope_id=c.scope_id,
            limits=c.limits,
            actor=c.actor,
            reason=c.reason,
        )
    )
    b = risk.breakers.get(key)
    if b is not None and b.day is None:
        equity = breaker.equity(ctx.state, c.scope, c.scope_id)
        if equity is not None:
            breaker.mark_equity(ctx, key, b, equity, c.ts)


def set_trading_state(ctx: Context, c: cmd.SetTradingState) -> None:
    refusal = _scope_refusal(ctx, c, _TRADING_SCOPES)
    if refusal is None and not isinstance(c.state, TradingState):
        refusal = Reason.INVALID_FIELD, f"unknown trading state {c.state!r}"
    if refusal:
        operator_reject(ctx, c, refusal)
        return
    ctx.emit(
        ev.TradingStateChanged(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            scope=c.scope,
            scope_id=c.scope_id,
            state=c.state,
            actor=c.actor,
            reason=c.reason,
        )
    )


def trip_kill_switch(ctx: Context, c: cmd.TripKillSwitch) -> None:
    refusal = _scope_refusal(ctx, c, _TRADING_SCOPES)
    if refusal is None and c.flatten and c.scope is Scope.STRATEGY:
        refusal = (
            Reason.INVALID_SCOPE,
            "positions belong to accounts, not strategies: flatten an account or globally",
        )
    if refusal:
        operator_reject(ctx, c, refusal)
        return
    trip_kill(ctx, c.scope, c.scope_id, c.actor, c.reason, c.flatten, c.ts)


def reset_kill_switch(ctx: Context, c: cmd.ResetKillSwitch) -> None:
    refusal = _scope_refusal(ctx, c, _TRADING_SCOPES)
    if refusal is None and (c.scope, c.scope_id) not in ctx.state.risk.kills:
        refusal = (
            Reason.KILL_SWITCH_NOT_ACTIVE,
            f"no kill switch is active for {scope_name((c.scope, c.scope_id))}",
        )
    if refusal is None and not c.reason.strip():
        refusal = Reason.INVALID_FIELD, "resetting a kill switch needs a reason"
    if refusal:
        operator_reject(ctx, c, refusal)
        return
    ctx.emit(
        ev.KillSwitchReset(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            scope=c.scope,
            scope_id=c.scope_id,
            actor=c.actor,
            reason=c.reason,
        )
    )


def reset_circuit_breaker(ctx: Context, c: cmd.ResetCircuitBreaker) -> None:
    refusal = _scope_refusal(ctx, c, (Scope.ACCOUNT, Scope.STRATEGY))
    key = (c.scope, c.scope_id)
    b = ctx.state.risk.breakers.get(key)
    if refusal is None and b is None:
        refusal = Reason.INVALID_SCOPE, f"no circuit breaker is configured for {scope_name(key)}"
    if refusal is None and b is not None:
        if b.state is not BreakerState.OPEN:
            refusal = (
                Reason.BREAKER_NOT_OPEN,
                f"the {scope_name(key)} circuit breaker is not open",
            )
        elif b.cooldown_until is not None and c.ts < b.cooldown_until:
            refusal = (
                Reason.BREAKER_COOLING_DOWN,
                f"the {scope_name(key)} circuit breaker cools down until "
                f"{iso_utc(b.cooldown_until)} "
                f"({math.ceil((b.cooldown_until - c.ts) / breaker.MINUTE_NS)} min left)",
            )
    if refusal:
        operator_reject(ctx, c, refusal)
        return
    assert b is not None
    breaker.reset(ctx, key, b, c.actor, c.reason, c.ts, automatic=False)


def set_market_status(ctx: Context, c: cmd.SetMarketStatus) -> None:
    refusal: Refusal | None = None
    if not isinstance(c.actor, str) or not c.actor.strip():
        refusal = Reason.MISSING_ACTOR, "say who acts: actor must not be empty"
    elif c.symbol not in ctx.state.instruments:
        refusal = Reason.UNKNOWN_INSTRUMENT, f"instrument {c.symbol} does not exist"
    if refusal:
        operator_reject(ctx, c, refusal)
        return
    ctx.emit(
        ev.MarketStatusChanged(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            symbol=c.symbol,
            status=c.status,
            actor=c.actor,
            reason=c.reason,
        )
    )
