"""The gates in front of every new order: the instrument's session, kill switches, circuit
breakers (an open one refuses; a closed one may trip on the order rate) and trading states."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.equities.calendar import session_status
from atlas_oms.core.refusals import Refusal
from atlas_oms.core.risk.book import scope_keys, scope_name
from atlas_oms.core.risk.breaker import auto_reset, rate_trip
from atlas_oms.core.state.state import State
from atlas_oms.model import commands as cmd
from atlas_oms.model.enums import OrderType, PositionSide, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import BreakerState, MarketOrderReason, MarketStatus, TradingState

_OPEN = BreakerState.OPEN
_CLOSED = BreakerState.CLOSED
_KILL_REASON = MarketOrderReason.KILL_SWITCH


def market_status(state: State, inst: Instrument, ts: int) -> MarketStatus:
    """The instrument's session now: an operator's override, else its schedule."""
    status = state.risk.market_status.get(inst.symbol)
    if status is not None:
        return status
    if inst.session is None:
        return MarketStatus.OPEN
    return session_status(state.equities.us, inst.session, ts)


def session_refusal(c: cmd.SubmitOrder, inst: Instrument, status: MarketStatus) -> Refusal | None:
    """Outside the regular session: halted and closed refuse; pre- and post-market take only
    limit orders flagged for extended hours."""
    if status is MarketStatus.HALTED:
        return Reason.INSTRUMENT_HALTED, f"{inst.symbol} is halted"
    if status is MarketStatus.CLOSED:
        return Reason.MARKET_CLOSED, f"the market for {inst.symbol} is closed"
    if not c.extended_hours:
        return (
            Reason.EXTENDED_HOURS_REQUIRED,
            f"{inst.symbol} is in its {status.value.lower().replace('_', '-')} session: "
            "set extended_hours to trade outside regular hours",
        )
    if c.order_type is not OrderType.LIMIT:
        return (
            Reason.MARKET_CLOSED,
            f"only limit orders trade in {inst.symbol}'s extended-hours session",
        )
    return None


def gates_refusal(ctx: Context, c: cmd.SubmitOrder, inst: Instrument) -> Refusal | None:
    """Kill switches, circuit breakers and trading states, tightest first."""
    state = ctx.state
    risk = state.risk
    tag = c.tag
    own_flatten = c.market_reason is _KILL_REASON and c.reduce_only
    if risk.kills and not own_flatten:
        for key in scope_keys(risk.chain(c.account_id), tag):
            kill = risk.kills.get(key)
            if kill is not None:
                return (
                    Reason.KILL_SWITCH_ACTIVE,
                    f"the {scope_name(key)} kill switch is active ({kill.reason}, by {kill.actor})",
                )
    if risk.breakers:
        for key, b in risk.breakers_of(c.account_id, tag):
            if b.state is _OPEN and not auto_reset(ctx, key, b, c.ts):
                return (
                    Reason.CIRCUIT_BREAKER_OPEN,
                    f"the {scope_name(key)} circuit breaker is open ({b.cause}: {b.message})",
                )
            if b.state is _CLOSED and not own_flatten and rate_trip(ctx, key, b, c.ts):
                return (
                    Reason.CIRCUIT_BREAKER_OPEN,
                    f"the {scope_name(key)} circuit breaker tripped: {b.message}",
                )
    if risk.states and not own_flatten and c.retry_of is None:
        tightest = None
        for key in scope_keys(risk.chain(c.account_id), tag):
            change = risk.states.get(key)
            if change is not None and (tightest is None or change.state is TradingState.HALTED):
                tightest = (key, change)
        if tightest is not None:
            key, change = tightest
            if change.state is TradingState.HALTED:
                return (
                    Reason.TRADING_HALTED,
                    f"trading is halted for {scope_name(key)} ({change.reason}, by {change.actor})",
                )
            if not reduces(
                state, c.account_id, inst, c.side, c.position_side or PositionSide.BOTH, c.qty
            ):
                return (
                    Reason.TRADING_REDUCING,
                    f"{scope_name(key)} may only reduce exposure: {c.side} {c.qty} {c.symbol} "
                    "does not",
                )
    return None


def modify_gates_refusal(
    ctx: Context, account_id: str, tag: str | None, added: Decimal, ts: int
) -> Refusal | None:
    """A modify is a new promise: no kill switch, no halt, no growth while reducing, no open
    circuit breaker."""
    risk = ctx.state.risk
    chain = risk.chain(account_id)
    for key in scope_keys(chain, tag):
        kill = risk.kills.get(key)
        if kill is not None:
            return (
                Reason.KILL_SWITCH_ACTIVE,
                f"the {scope_name(key)} kill switch is active ({kill.reason})",
            )
        change = risk.states.get(key)
        if change is not None and (change.state is TradingState.HALTED or added > 0):
            reason = (
                Reason.TRADING_HALTED
                if change.state is TradingState.HALTED
                else Reason.TRADING_REDUCING
            )
            return reason, f"{scope_name(key)} is {change.state}: the order may not grow"
    for key, b in risk.breakers_of(account_id, tag):
        if b.state is _OPEN and not auto_reset(ctx, key, b, ts):
            return (
                Reason.CIRCUIT_BREAKER_OPEN,
                f"the {scope_name(key)} circuit breaker is open ({b.cause})",
            )
    return None


def reduces(
    state: State, account_id: str, inst: Instrument, side: Side, pside: PositionSide, qty: Decimal
) -> bool:
    """Whether an order only reduces the position, counting the reducing orders already open."""
    pos = state.positions.get((account_id, inst.symbol, pside))
    if pos is None or not pos.qty:
        return False
    if side is Side.SELL:
        return pos.qty > 0 and qty + pos.open_sell <= pos.qty
    return pos.qty < 0 and qty + pos.open_buy <= -pos.qty
