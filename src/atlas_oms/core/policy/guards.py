"""The guards around a managed trade's entry (issue 13): slippage control (seed 001 §14) and
repricing degradation (§8.2), wiring the pure ``slippage.py`` and ``repricing.py`` into the
trade. Both are per account (the desk, ``desk.py``); every decision is an event.

**Slippage (§14).** The intent price of an entry is the intent's ideal price (the price R was
sized for). When the trade is first protected (``TradeBracketPlaced``) its entry fills so far
(their average, ``entry_px``) are compared with it: ``TradeSlippageRecorded`` (the adverse
fraction), then the rolling windows of :class:`~atlas_oms.core.policy.slippage.SlippageMonitor`
decide (``SlippageEscalated``): average > ``slippage.warn-avg-pct`` over ``warn-trades`` trades
→ SLIPPAGE_WARN (a monitoring warning, edge-triggered, cleared when it falls back); average >
``reduce-avg-pct`` over ``reduce-trades`` → SLIPPAGE_REDUCE_SIZE_25 (the next intents' largest
position × (1 - ``reduce-size-pct``), ``cycles.admit``) until it falls back. A single entry above
``single-fill-max-pct``: "Stop anpassen" = the stop moves so the risk per share from the real
fill is the planned one (``|ideal - stop0|``), never loosening (SLIPPAGE_ADJUST_STOP,
``TradeStopMoved`` cause SLIPPAGE); "R/R zerstoert" = even so, the nearest target's reward/risk
from the fill is below ``slippage.min-reward-risk`` (TRAIL_ONLY: no target, never destroyed):
SLIPPAGE_EXIT_RR_DESTROYED, and the trade exits at once **through its own stop**: the stop's
trigger moves up to the last price (a tightening), so the stop-limit triggers and sells with its
limit offset (an aggressive limit; §4's stop-market fallback takes over if it does not fill) —
no market order, which §3.2 does not allow for this. Exits are not judged: they are limit
orders (targets, stop-limits) whose price bounds their slippage.

**Degradation (§8.2).** The windows of the desk (entry orders, entry cancel/replaces, executed
attempts, attempt outcomes) are judged by ``repricing.step`` after every entry event and on the
timer while a mode holds; each mode entered or left is a ``RepricingDegraded`` event. In force:
SLOW_REPRICING → the entry reprices every ``repricing.degraded-interval-ms``; SINGLE_CYCLE →
``repricing.degraded-max-cycles`` cycles and no abandon retry (an intent on a pipeline whose last
cycle today was abandoned unfilled is refused, ``REPRICING_NO_RETRY``); LOW_FILL_RATE → the
size is multiplied by ``repricing.fill-rate-size-factor`` (the seed's "halbieren"; OBSERVING is
not used) until the strategy's next cycle, the operator command ``ResumeTrading``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.context import Context
from atlas_oms.core.policy import repricing as rp
from atlas_oms.core.policy.desk import DeskState, desk_of
from atlas_oms.core.policy.slippage import (
    SlippageAction,
    SlippageConfig,
    SlippageMonitor,
    adverse_fraction,
    single_fill_decision,
)
from atlas_oms.core.policy.trade_orders import move_stop
from atlas_oms.core.policy.trade_state import SEEKING, TradeState
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

_ENTRY_EVENTS = (
    ev.TradeEntryPlaced,
    ev.TradeEntryRepriced,
    ev.TradeBracketPlaced,
    ev.TradeEntryAbandoned,
)


# ------------------------------------------------------------------ what the entry reads
def interval_ms(state: State, t: TradeState) -> int:
    """The entry's repricing interval: slow while SLOW_REPRICING holds (§8.2)."""
    desk = desk_of(state, t.account_id)
    if desk is not None and rp.Mode.SLOW_REPRICING in desk.modes:
        return state.policy.repricing.degraded_interval_ms
    return state.policy.execution.repricing_interval_ms


def max_cycles(state: State, t: TradeState) -> int:
    """The entry's repricing cycles: pre-market's (§13), one while SINGLE_CYCLE holds (§8.2)."""
    p = state.policy
    if t.premarket:
        return p.premarket.max_repricing_cycles
    desk = desk_of(state, t.account_id)
    if desk is not None and rp.Mode.SINGLE_CYCLE in desk.modes:
        return min(p.repricing.degraded_max_cycles, p.execution.max_repricing_cycles)
    return p.execution.max_repricing_cycles


def retry_refusal(state: State, desk: DeskState | None, last: TradeState | None) -> str | None:
    """§8.2 "kein Abandon-Retry": while SINGLE_CYCLE holds, no new attempt after an abandon."""
    if (
        desk is not None
        and rp.Mode.SINGLE_CYCLE in desk.modes
        and last is not None
        and last.phase == SEEKING
    ):
        return (
            f"the order/trade ratio is high: no retry after the abandoned entry of {last.trade_id}"
        )
    return None


# ------------------------------------------------------------------------ degradation
def _config(state: State) -> rp.RepricingConfig:
    p = state.policy
    return rp.RepricingConfig(
        interval_ms=p.execution.repricing_interval_ms,
        degraded_interval_ms=p.repricing.degraded_interval_ms,
        max_cycles=p.execution.max_repricing_cycles,
        degraded_max_cycles=p.repricing.degraded_max_cycles,
        cancel_replace_warn=p.risk.cancel_replace_rate_warn,
        cancel_replace_clear=p.repricing.cancel_replace_rate_recover,
        cancel_replace_window_min=max(p.repricing.cancel_replace_window_ms // 60_000, 1),
        order_trade_warn=p.risk.order_trade_ratio_warn,
        order_trade_clear=p.repricing.order_trade_ratio_recover,
        order_trade_window_min=max(p.repricing.order_trade_window_ms // 60_000, 1),
        fill_rate_min=p.repricing.fill_rate_min,
        fill_rate_attempts=p.repricing.fill_rate_attempts,
        low_fill_size_factor=p.repricing.fill_rate_size_factor,
    )


def _machine(state: State, desk: DeskState) -> rp.RepricingState:
    return rp.RepricingState(
        _config(state),
        0,
        tuple(desk.orders),
        tuple(desk.cancel_replaces),
        tuple(desk.fills),
        tuple(desk.attempts),
        frozenset(rp.Mode(m) for m in desk.modes),
    )


def judge(ctx: Context, desk: DeskState, ts: int, activity: rp.Activity) -> None:
    """Judge the desk's windows at ``ts``; journal every mode entered or left."""
    _, decisions = rp.step(_machine(ctx.state, desk), ts, activity)
    for d in decisions:
        ctx.emit(
            ev.RepricingDegraded(
                seq=ctx.state.seq + 1,
                ts_event=ts,
                account_id=desk.account_id,
                mode=d.mode.value,
                entered=d.entered,
                reason=d.reason.value,
                value=d.value,
                message=d.text,
            )
        )


def on_tick(ctx: Context, ts: int) -> None:
    """Let a degraded mode recover while nothing happens."""
    for desk in list(ctx.state.cycles.desks.values()):
        if desk.modes:
            judge(ctx, desk, ts, rp.Activity.TICK)


def resume_trading(ctx: Context, c: cmd.ResumeTrading) -> None:
    """``ResumeTrading``: the strategy's next cycle ends the low-fill-rate mode (§8.2)."""
    desk = desk_of(ctx.state, c.account_id)
    if desk is None:
        return
    judge(ctx, desk, c.ts, rp.Activity.NEW_CYCLE)
    ctx.emit(
        ev.TradingResumed(
            seq=ctx.state.seq + 1, ts_event=c.ts, account_id=c.account_id, actor=c.actor
        )
    )


# ---------------------------------------------------------------------------- slippage
def _slippage_config(state: State) -> SlippageConfig:
    p = state.policy.slippage
    return SlippageConfig(
        warn_avg=p.warn_avg_pct,
        warn_trades=p.warn_trades,
        reduce_avg=p.reduce_avg_pct,
        reduce_trades=p.reduce_trades,
        reduce_factor=1 - p.reduce_size_pct,
        single_fill=p.single_fill_max_pct,
        min_rr=p.min_reward_risk,
    )


def _escalate(
    ctx: Context, t: TradeState, ts: int, action: str, value: Decimal, text: str, stop: object
) -> None:
    ctx.emit(
        ev.SlippageEscalated(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            account_id=t.account_id,
            trade_id=t.trade_id,
            action=action,
            value=value,
            message=text,
            new_stop=stop if isinstance(stop, Decimal) else None,
        )
    )


def on_protected(ctx: Context, t: TradeState, e: ev.TradeBracketPlaced) -> None:
    """§14: measure the entry's slippage, escalate, adjust the stop or exit."""
    state = ctx.state
    desk = desk_of(state, t.account_id)
    if desk is None:
        return
    is_buy = t.side is Side.BUY
    ts = e.ts_event
    adverse = adverse_fraction(is_buy, e.entry_px, t.entry_ideal)
    ctx.emit(
        ev.TradeSlippageRecorded(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            account_id=t.account_id,
            intent_price=t.entry_ideal,
            fill_price=e.entry_px,
            adverse=adverse,
        )
    )
    cfg = _slippage_config(state)
    monitor = SlippageMonitor(
        cfg, tuple(desk.slippage[:-1]), desk.slippage_warning, desk.slippage_reduced
    )
    for d in monitor.record(adverse)[1]:
        _escalate(ctx, t, ts, d.action.value, d.value, d.text, None)
    prices = [price for _, _, price in t.targets.values()]
    nearest = (min(prices) if is_buy else max(prices)) if prices else None
    decision = single_fill_decision(
        is_buy=is_buy,
        intent_price=t.entry_ideal,
        fill_price=e.entry_px,
        stop=t.stop_trigger if t.stop_trigger is not None else t.stop0,
        r=abs(t.entry_ideal - t.stop0),
        first_target=nearest,
        tick=state.instruments[t.symbol].tick_size,
        config=cfg,
    )
    if decision is None:
        return
    _escalate(ctx, t, ts, decision.action.value, decision.value, decision.text, decision.new_stop)
    if decision.action is SlippageAction.ADJUST_STOP and decision.new_stop is not None:
        _move_stop(ctx, t, ts, decision.new_stop, "SLIPPAGE")
    elif decision.action is SlippageAction.EXIT_IF_RR_DESTROYED:
        last = state.last.get(t.symbol)
        if last is not None:
            tighter = (
                last > (t.stop_trigger or t.stop0) if is_buy else last < (t.stop_trigger or t.stop0)
            )
            if tighter:
                _move_stop(ctx, t, ts, last, "SLIPPAGE_EXIT")


def _move_stop(ctx: Context, t: TradeState, ts: int, trigger: Decimal, cause: str) -> None:
    if trigger != t.stop_trigger:
        move_stop(ctx, t, ts, trigger, cause)


# ------------------------------------------------------------------------------- hooks
def on_event(ctx: Context, e: ev.EventBase) -> None:
    """The event hook: slippage at protection, degradation after every entry event."""
    if not isinstance(e, _ENTRY_EVENTS):
        return
    state = ctx.state
    t: TradeState | None = state.trades.get(e.trade_id)
    if t is None:
        return
    if e.__class__ is ev.TradeBracketPlaced:
        assert isinstance(e, ev.TradeBracketPlaced)
        on_protected(ctx, t, e)
    desk = desk_of(state, t.account_id)
    if desk is not None:
        judge(ctx, desk, e.ts_event, rp.Activity.TICK)
