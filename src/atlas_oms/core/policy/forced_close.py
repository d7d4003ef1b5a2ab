"""Forced close of managed trades before the session ends (seed 001 §11, §3.1, §3.2 item 1).

* **From ``forced-close-start``** (default 15:45 in ``forced-close-timezone``, New York time
  with its DST rule, ``core/sessions.py::new_york_offset``) a new intent on an instrument with a
  session schedule is refused (``FORCED_CLOSE_WINDOW``) and a working entry is abandoned (cause
  FORCED_CLOSE_WINDOW; a partial fill stays as a position and is closed like the others).
* **Open positions are closed one by one**: the targets are canceled (their quantity is the
  exit's) and an aggressive reduce-only limit for the whole position goes out at the best bid
  (the best ask for a short; without a quote, the last price). Every ``exit-repricing-interval-ms``
  it is moved to the then best bid (a modify: never two exits working at once). After
  ``forced-close-market-after-reprices`` unfilled repricings (default 2, i.e. 15 s) the trade
  closes at market (``MarketOrderReason.FORCED_CLOSE``, through ``fallback.start_exit``). The
  protective stop is canceled when the limit goes out (both on the whole position could sell it
  twice in one sweep); while the limit works, an internal stop at the stop level (a last price
  at or beyond it) sends the trade to the market exit at once (§5.2 "interner Stop + sofortige
  Exit-Policy").
* **"Cannot Liquidate"**: a position still open at ``forced-close-end`` (15:55) raises an
  EMERGENCY ``RiskAlert`` and a ``TradeCannotLiquidate`` escalation event; the trade hands the
  position to the account's kill switch (``trip_kill`` with flatten, as ``TripKillSwitch``) and
  is closed with cause CANNOT_LIQUIDATE.

**Calendar (decided).** The core stays pure: the window is the New York local time of each
``ts`` (``new_york_offset``). The calendar's exceptions are a policy parameter,
``execution.session-calendar`` (``2026-11-27=13:00,2026-12-25=CLOSED``), so they enter through the
journal (``SetPolicyParams`` -> ``PolicyParamsSet``, in snapshots and the digest) and a replay
decides alike: an early close moves the window by as much as the close moved (13:00 -> 12:45 to
12:55: close - 15 min / close - 5 min with the defaults); a holiday has no window. An instrument
an operator or the runtime set CLOSED (``SetMarketStatus``) has no forced close either (nothing
could trade). The ``exchange_calendars`` package was not added: it pulls numpy and pandas (~29 MB
of wheels) for one table of dates a year, which the parameter file holds. Trades on instruments
without a schedule (``session`` None: 24/7 markets) have no forced close. Only America/New_York
is implemented as ``forced-close-timezone``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.orders.amend import modify
from atlas_oms.core.policy import fallback, trade_exits
from atlas_oms.core.policy.trade_orders import (
    MS,
    abandon_entry,
    cancel_if_working,
    exit_quote,
    limit_exit,
    params,
)
from atlas_oms.core.policy.trade_state import CLOSED, ENTERING, TradeState
from atlas_oms.core.risk.gates import market_status
from atlas_oms.core.risk.kill import trip_kill
from atlas_oms.core.sessions import SECOND_NS, civil_from_days, new_york_offset
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model import events_exits as ex
from atlas_oms.model.enums import Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.risk import AlertLevel, MarketOrderReason, MarketStatus, Scope

_DAY = 86400
_SESSION_END_MIN = 20 * 60  # the forced-close window ends with the session day (post-market)
_REGULAR_CLOSE_MIN = 16 * 60  # XNYS's regular close (core/sessions.py)


def _local(ts: int) -> tuple[int, int]:
    """(New York day number since 1970-01-01, minute of the day) at ``ts``."""
    utc_s = ts // SECOND_NS
    local = utc_s + new_york_offset(utc_s)
    return local // _DAY, (local % _DAY) // 60


def window_of(state: Any, day: int) -> tuple[int, int] | None:
    """The forced-close (start, end) minutes of a New York day, None when it has no session
    (weekend, or a holiday in ``execution.session-calendar``). An early close there moves both
    by as much as the close moved from 16:00."""
    if (day + 3) % 7 >= 5:
        return None
    ex_params = params(state).execution
    start = ex_params.forced_close_start.minutes
    end = ex_params.forced_close_end.minutes
    if ex_params.session_calendar:
        y, m, d = civil_from_days(day)
        text = f"{y:04d}-{m:02d}-{d:02d}"
        for special in ex_params.session_calendar:
            if special.day == text:
                if special.close is None:
                    return None
                shift = special.close.minutes - _REGULAR_CLOSE_MIN
                return start + shift, end + shift
    return start, end


def in_window(state: Any, inst: Instrument, ts: int) -> bool:
    """Whether ``ts`` lies in the forced-close window of ``inst``'s session day."""
    if inst.session is None:
        return False
    day, minute = _local(ts)
    window = window_of(state, day)
    if window is None or not window[0] <= minute < _SESSION_END_MIN:
        return False
    return market_status(state, inst, ts) is not MarketStatus.CLOSED


def refusal(state: Any, inst: Instrument, ts: int) -> str | None:
    """The sentence refusing a new intent in the forced-close window, or None."""
    if not in_window(state, inst, ts):
        return None
    window = window_of(state, _local(ts)[0])
    start = window[0] if window is not None else 0
    return f"no new entries from {start // 60:02d}:{start % 60:02d} ET (forced close, seed 001 §11)"


def _past_end(state: Any, ts: int) -> bool:
    day, minute = _local(ts)
    window = window_of(state, day)
    return window is not None and minute >= window[1]


def best_bid(ctx: Context, t: TradeState) -> Decimal | None:
    """The best quote the trade's exit meets (``trade_orders.exit_quote``)."""
    return exit_quote(ctx.state, t)


def _limit(ctx: Context, t: TradeState, ts: int, reprice: int) -> None:
    state = ctx.state
    price = best_bid(ctx, t)
    position = t.position(state)
    if price is None:
        fallback.start_exit(ctx, t, ts, MarketOrderReason.FORCED_CLOSE, "FORCED_CLOSE")
        return
    order_id: int | None
    current = state.orders.get(t.fc_order_id or 0)
    if current is not None and current.is_live:
        modify(
            ctx,
            cmd.ModifyOrder(ts=ts, account_id=t.account_id, order_id=current.order_id, price=price),
        )
        order_id = current.order_id
    else:
        coid = f"{t.trade_id}-f{reprice}"
        order_id = limit_exit(ctx, t, ts, position, price, coid, reduce_only=True)
    ctx.emit(
        ex.TradeForcedCloseOrder(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            order_id=order_id or 0,
            price=price,
            qty=position,
            reprice=reprice,
            next_ts=ts + params(state).execution.exit_repricing_interval_ms * MS,
        )
    )


def _cannot_liquidate(ctx: Context, t: TradeState, ts: int) -> None:
    state = ctx.state
    position = t.position(state)
    end = params(state).execution.forced_close_end
    message = (
        f"cannot liquidate trade {t.trade_id}: {position} {t.symbol} still open at {end} ET; "
        f"account {t.account_id}'s kill switch flattens it"
    )
    ctx.emit(
        ex.TradeCannotLiquidate(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            account_id=t.account_id,
            symbol=t.symbol,
            position=position,
            message=message,
        )
    )
    ctx.emit(
        ev.RiskAlert(
            seq=state.seq + 1,
            ts_event=ts,
            level=AlertLevel.EMERGENCY,
            code="CANNOT_LIQUIDATE",
            message=message,
            account_id=t.account_id,
            symbol=t.symbol,
        )
    )
    trade_exits.close(ctx, t, ts, "CANNOT_LIQUIDATE")
    trip_kill(ctx, Scope.ACCOUNT, t.account_id, "policy:forced-close", "CANNOT_LIQUIDATE", True, ts)


def on_tick(ctx: Context, ts: int) -> None:
    """``AdvanceTime``: in the window, abandon entries, start, reprice or escalate the close."""
    state = ctx.state
    for t in list(state.trades.values()):
        if t.phase == CLOSED or t.cannot_liquidate:
            continue
        inst = state.instruments[t.symbol]
        if not in_window(state, inst, ts):
            continue
        if t.phase == ENTERING and t.entry_order_id is not None and t.exit_reason is None:
            abandon_entry(ctx, t, ts, "FORCED_CLOSE_WINDOW")
        if t.position(state) <= 0:
            continue
        if _past_end(state, ts):
            _cannot_liquidate(ctx, t, ts)
            continue
        if t.exit_reason is not None:
            continue  # a market exit runs (fallback.py)
        if t.fc_next_ts is None and t.fc_order_id is None:
            trade_exits.cancel_targets(ctx, t, ts, "FORCED_CLOSE")
            # the limit sells the whole position: a stop beside it could sell it a second time
            # (both can trade in one sweep); the internal stop (on_event) takes its place
            cancel_if_working(ctx, t.stop_order_id, ts)
            _limit(ctx, t, ts, 0)
        elif t.fc_next_ts is not None and ts >= t.fc_next_ts:
            if t.fc_reprices >= params(state).execution.forced_close_market_after_reprices:
                fallback.start_exit(ctx, t, ts, MarketOrderReason.FORCED_CLOSE, "FORCED_CLOSE")
            else:
                _limit(ctx, t, ts, t.fc_reprices + 1)


def on_event(ctx: Context, event: ev.EventBase) -> None:
    """A forced-close limit filled (resize the stop or close), or the stop triggered while it
    works (market at once)."""
    cls = event.__class__
    state = ctx.state
    if cls is ev.PricesUpdated or cls is ev.OrderFilled:
        _internal_stop(ctx, event)
    if cls is not ev.OrderFilled and cls is not ev.OrderTriggered:
        return
    order_id: int = event.order_id  # type: ignore[attr-defined]
    trade_id = state.trade_orders.get(order_id)
    if trade_id is None:
        return
    t: TradeState = state.trades[trade_id]
    if t.phase == CLOSED or t.fc_order_id is None or t.exit_reason is not None:
        return
    ts = event.ts_event
    if cls is ev.OrderTriggered:
        if order_id == t.stop_order_id:
            fallback.start_exit(ctx, t, ts, MarketOrderReason.FORCED_CLOSE, "FORCED_CLOSE")
        return
    if order_id != t.fc_order_id:
        return
    if t.position(state) <= 0:
        trade_exits.close(ctx, t, ts, "FORCED_CLOSE")
    else:
        trade_exits.resize_stop(ctx, t, ts, "FORCED_CLOSE_FILL", None)


def _internal_stop(ctx: Context, event: ev.EventBase) -> None:
    """While a forced-close limit works in place of the stop, a last price at or beyond the
    stop level sends the trade to market at once (seed 001 §5.2 "interner Stop + sofortige
    Exit-Policy")."""
    state = ctx.state
    symbol = event.symbol  # type: ignore[attr-defined]
    price = event.last if event.__class__ is ev.PricesUpdated else event.last_px  # type: ignore[attr-defined]
    if price is None:
        return
    for t in list(state.trades.values()):
        if (
            t.symbol != symbol
            or t.fc_order_id is None
            or t.phase == CLOSED
            or t.exit_reason is not None
            or t.stop_trigger is None
        ):
            continue
        crossed = price <= t.stop_trigger if t.side is Side.BUY else price >= t.stop_trigger
        if crossed and t.position(state) > 0:
            fallback.start_exit(
                ctx, t, event.ts_event, MarketOrderReason.FORCED_CLOSE, "FORCED_CLOSE"
            )


def _boundaries(state: Any, after: int) -> int | None:
    """The first forced-close start or end later than ``after`` (within the next week)."""
    utc_s = after // SECOND_NS
    offset = new_york_offset(utc_s)
    today = (utc_s + offset) // _DAY
    for day in range(today, today + 8):
        window = window_of(state, day)
        if window is None:
            continue
        for minute in window:
            local = day * _DAY + minute * 60
            ts = (local - new_york_offset(local - offset)) * SECOND_NS
            if ts > after:
                return ts
    return None


def next_deadline(state: Any, after: int) -> int | None:
    """The next forced-close start, end or repricing of a trade with a session schedule."""
    best: int | None = None
    boundary: int | None = None
    for t in state.trades.values():
        if t.phase == CLOSED or t.cannot_liquidate:
            continue
        if state.instruments[t.symbol].session is None:
            continue
        if boundary is None:
            boundary = _boundaries(state, after)
        for due in (t.fc_next_ts, boundary):
            if due is not None and due > after and (best is None or due < best):
                best = due
    return best
