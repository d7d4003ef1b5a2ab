"""Stop maintenance (seed 001 §10) and TRAIL_ONLY (§7): the decision side of the trailing stop.

* **Active from the bracket** (§5 "Trailing-Policy aktivieren"): ``TradeTrailingStarted`` records
  the entry ATR (the symbol's ATR at the bracket). A trade bracketed before the ATR warmed up
  takes the first ATR that becomes available (``TradeEntryAtrSet``); until then it has no
  ``trailCandidate`` term (the other terms work).
* **On every 1-minute bar close** (§10.1) of its symbol, and after every target fill, each
  trailing trade with a working, untriggered stop gets
  ``effectiveStop = max(prevStop, stop0, trailCandidate, mfeLockStop, runnerTrailCandidate)``
  (``stops.py``, factors from ``trailing.*``; ``min`` for a short). ``currentHigh`` and the MFE
  come from the highs (lows) of the bars that began after the entry (``trail_extreme``, booked by
  the fold in ``bar_book.py``): the bar the entry traded in is left out, because its high may
  predate the entry (a pre-entry spike would lock in profit never made). ATR, EMA and the swing
  points are the symbol's, whatever the entry time.
* **If it tightens**, the stop order is modified (trigger, and limit ``stop-limit-offset-pct``
  beyond it) and ``TradeStopMoved(cause="TRAIL")`` records the winning term (``source``), every
  term (``terms``) and what ran the maintenance (``reason``). It never loosens (``prevStop`` is a
  term).
* **CRITICAL monitor event** (§10.1 "Bei CRITICAL Monitor Event (z.B. Blow-off -> tighten)"):
  ``TightenTradeStop`` runs the maintenance at once, with an optional level as one more term
  (``cause="TIGHTEN"`` when it wins).
* **TRAIL_ONLY** (§7): an intent with it gets no targets (``trade_exits.place_bracket``); an open
  trade switched to it (``SetTradeTargetPolicy``) has every open target canceled
  (``TradeTargetCanceled`` cause ``TRAIL_ONLY``), the stop sized to the whole remaining position,
  and trails.

Bars are ``trailing.bar-interval-ms`` long (one minute, §10.1). Bar closes on time: the engine calls :func:`close_due` before a message whose ``ts`` reached the
end of a bar in progress of a symbol with trailing trades; :func:`next_bar_close` names that end
as a deadline, so the runtime's timer closes the bar on time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import round_to_tick
from atlas_oms.core.policy import stops, trade_exits
from atlas_oms.core.policy.bar_book import SymbolBars, interval_ns
from atlas_oms.core.policy.bars import Bar, BarRefused, check_bar, minute_start
from atlas_oms.core.policy.indicators import IndicatorState
from atlas_oms.core.policy.trade_orders import move_stop, params
from atlas_oms.core.policy.trade_state import TradeState
from atlas_oms.core.refusals import reject_command
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus, Side
from atlas_oms.model.reasons import Reason

_NO_INDICATORS = IndicatorState()
_BUSY = (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE)
TRAIL_ONLY = "TRAIL_ONLY"


# ------------------------------------------------------------------------------ bar closes
def close_due(ctx: Context, ts: int) -> None:
    """Close every bar in progress whose minute ended at or before ``ts``, of the symbols with
    trailing trades (``BarClosed``; the maintenance follows in :func:`on_event`)."""
    state = ctx.state
    for symbol, sb in sorted(state.bar_book.symbols.items()):
        bar = sb.bars.current
        if bar is None or not sb.trailing or ts < bar.end_ns:
            continue
        ctx.emit(
            ev.BarClosed(
                seq=state.seq + 1,
                ts_event=ts,
                symbol=symbol,
                start_ns=bar.start_ns,
                open=bar.open,
                high=bar.high,
                low=bar.low,
                close=bar.close,
                volume=bar.volume,
                trades=bar.trades,
            )
        )


def next_bar_close(state: Any, after: int) -> int | None:
    """DEADLINE_HOOK: the end of the earliest bar in progress of a symbol with trailing trades."""
    book = getattr(state, "bar_book", None)
    due = book.next_close if book is not None else None
    return due if due is not None and due > after else None


def apply_bar(ctx: Context, c: cmd.ApplyBar) -> None:
    """Handle ``ApplyBar``: a complete bar as market data (refused if inconsistent)."""
    state = ctx.state
    if c.symbol not in state.instruments:
        reject_command(ctx, c, Reason.UNKNOWN_INSTRUMENT, f"instrument {c.symbol} does not exist")
        return
    try:
        check_bar(Bar(c.start_ns, c.open, c.high, c.low, c.close, c.volume, 0, interval_ns(state)))
    except BarRefused as refused:
        reject_command(ctx, c, Reason.INVALID_FIELD, f"{refused.reason}: {refused.sentence}")
        return
    ctx.emit(
        ev.BarApplied(
            seq=state.seq + 1,
            ts_event=c.ts,
            symbol=c.symbol,
            start_ns=c.start_ns,
            open=c.open,
            high=c.high,
            low=c.low,
            close=c.close,
            volume=c.volume,
        )
    )


# ------------------------------------------------------------------------------ maintenance
def on_event(ctx: Context, event: ev.EventBase) -> None:
    """EVENT_HOOK: start trailing at the bracket; maintain on a bar close and a target fill."""
    cls = event.__class__
    if cls is ev.BarClosed or cls is ev.BarApplied:
        symbol: str = event.symbol  # type: ignore[attr-defined]
        sb = ctx.state.bar_book.symbols.get(symbol)
        if sb is None or sb.bars.last_closed_start != event.start_ns:  # type: ignore[attr-defined]
            return  # a late bar changed nothing
        reason = "BAR_CLOSE"
        for trade_id in list(sb.trailing):
            maintain(ctx, ctx.state.trades[trade_id], event.ts_event, reason)
    elif cls is ev.TradeBracketPlaced:
        _start(ctx, event)  # type: ignore[arg-type]
    elif cls is ev.TradeStopResized and event.cause == "TARGET_FILL":  # type: ignore[attr-defined]
        t = ctx.state.trades[event.trade_id]  # type: ignore[attr-defined]
        maintain(ctx, t, event.ts_event, "TARGET_FILL")


def _start(ctx: Context, e: ev.TradeBracketPlaced) -> None:
    state = ctx.state
    t: TradeState = state.trades[e.trade_id]
    if t.trailing:
        return
    sb = state.bar_book.symbols.get(t.symbol)
    interval = sb.bars.interval_ns if sb is not None else interval_ns(state)
    ctx.emit(
        ev.TradeTrailingStarted(
            seq=state.seq + 1,
            ts_event=e.ts_event,
            trade_id=t.trade_id,
            entry_atr=sb.ind.atr if sb is not None else None,
            extremes_from_ns=minute_start(e.ts_event, interval) + interval,
        )
    )


def _indicators(sb: SymbolBars | None) -> IndicatorState:
    return sb.ind if sb is not None else _NO_INDICATORS


def maintain(
    ctx: Context, t: TradeState, ts: int, reason: str, tighten: Decimal | None = None
) -> bool:
    """§10.2 for one trade: move its stop if the effective stop tightens; whether it moved."""
    state = ctx.state
    if not t.trailing or not t.is_open or t.stop_order_id is None or t.entry_px is None:
        return False
    stop = state.orders.get(t.stop_order_id)
    if stop is None or not stop.is_live or stop.triggered or stop.status in _BUSY:
        return False
    ind = _indicators(state.bar_book.symbols.get(t.symbol))
    if t.entry_atr is None and ind.atr is not None:
        ctx.emit(
            ev.TradeEntryAtrSet(
                seq=state.seq + 1, ts_event=ts, trade_id=t.trade_id, entry_atr=ind.atr
            )
        )
    long = t.side is Side.BUY
    side: stops.Side = "long" if long else "short"
    tick = state.instruments[t.symbol].tick_size
    trail, lock, runner = stops.candidates(
        side,
        params(state).trailing,
        entry=t.entry_px,
        stop0=t.stop0,
        extreme=t.trail_extreme,
        entry_atr=t.entry_atr,
        ema9_close=ind.ema,
        swing=ind.last_higher_low if long else ind.last_lower_high,
        tick=tick,
    )
    if tighten is not None:
        tighten = round_to_tick(tighten, tick, up=not long)
    move = stops.effective_stop(side, t.stop_trigger, t.stop0, trail, lock, runner, tighten)
    if not move.moved:
        return False
    terms = (("trail", trail), ("mfe_lock", lock), ("runner", runner), ("tighten", tighten))
    return move_stop(
        ctx,
        t,
        ts,
        move.stop,
        "TIGHTEN" if move.source == "tighten" else "TRAIL",
        source=move.source,
        terms=tuple((name, v) for name, v in terms if v is not None),
        reason=reason,
    )


# ------------------------------------------------------------------------------ commands
def _open_trade(ctx: Context, c: Any) -> TradeState | None:
    t: TradeState | None = ctx.state.trades.get(c.trade_id)
    if t is None or not t.is_open:
        reject_command(ctx, c, Reason.INVALID_FIELD, f"trade {c.trade_id} is not an open trade")
        return None
    return t


def tighten_stop(ctx: Context, c: cmd.TightenTradeStop) -> None:
    """Handle ``TightenTradeStop`` (a CRITICAL monitor event, §10.1): maintain at once."""
    t = _open_trade(ctx, c)
    if t is None:
        return
    if c.stop is not None and not (c.stop.is_finite() and c.stop > 0):
        reject_command(ctx, c, Reason.INVALID_PRICE, f"stop {c.stop} is not a valid price")
        return
    if not t.trailing:
        reject_command(ctx, c, Reason.INVALID_FIELD, f"trade {c.trade_id} has no stop yet")
        return
    maintain(ctx, t, c.ts, f"CRITICAL: {c.reason}", c.stop)


def set_target_policy(ctx: Context, c: cmd.SetTradeTargetPolicy) -> None:
    """Handle ``SetTradeTargetPolicy``: only a switch to TRAIL_ONLY (§7) is possible (targets
    once canceled are not placed again); the same policy again changes nothing."""
    t = _open_trade(ctx, c)
    if t is None:
        return
    if c.target_policy == t.target_policy:
        return
    if c.target_policy != TRAIL_ONLY:
        reject_command(
            ctx, c, Reason.INVALID_FIELD, f"a trade can only switch to {TRAIL_ONLY} (section 7)"
        )
        return
    state = ctx.state
    ctx.emit(
        ev.TradeTargetPolicySet(
            seq=state.seq + 1,
            ts_event=c.ts,
            trade_id=t.trade_id,
            target_policy=TRAIL_ONLY,
            reason=c.reason,
        )
    )
    trade_exits.cancel_targets(ctx, t, c.ts, TRAIL_ONLY)
    if t.stop_order_id is not None:
        trade_exits.resize_stop(ctx, t, c.ts, TRAIL_ONLY, None)
        maintain(ctx, t, c.ts, TRAIL_ONLY)
