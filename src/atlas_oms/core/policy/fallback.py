"""A managed trade's emergency exits at market (seed 001 sections 2, 3.2, 4, 9.1, 9.3).

Every market order of a trade goes out here, through one path, with its ``MarketOrderReason``
(§3.2: the audit classifies each by it):

* **Stop-market fallback (§4 row 1)**: when the trade's stop-limit triggers, the trigger time is
  journaled (``TradeStopTriggered``, ``fallback_ts`` = trigger + ``stop-market-fallback-ms``), a
  deadline. If the stop still works then (not or not fully filled), it is canceled and the rest
  closed at market (STOP_MARKET_FALLBACK). Decided: a market order, not a STOP_MARKET order -- the
  trigger is already crossed (a stop-market would fire at once anyway), the market order carries
  the reason §3.2's audit needs, and it saves a round trip.
* **Partial stop fill (§9.1)**: the rest of the stop and every target are canceled and the
  remaining position closed at market at once (STOP_PARTIAL_FILL_EMERGENCY).
* **Refused stop (§2, §9.3)**: a protective stop refused or rejected while a position is open is
  a CRITICAL ``RiskAlert`` (``STOP_REJECTED_UNPROTECTED``); it is retried at most
  ``stop-reject-retries`` times, then the position is closed at market (STOP_MARKET_FALLBACK,
  cause STOP_REJECTED). Decided: close the one trade rather than trip the account's kill switch
  -- the fault is one order's, and a market close ends the exposure just as fast without
  blocking the account's other trades (§9.3 says "ggf. Kill-Switch": the forced close's
  "cannot liquidate" is where Atlas trips it).
* **Gap opening (§4 row 2)** and **LULD resume (§4 row 3)**: a trade journals the session status
  it sees (``TradeSessionObserved``; on every ``AdvanceTime``, price update and
  ``MarketStatusChanged`` of its symbol -- so a scheduled 09:30 open is seen on the first tick or
  price after it, and an operator's or the runtime's ``SetMarketStatus`` at once). When the
  status becomes OPEN after CLOSED or PRE_MARKET and the last price lies beyond the stop (or the
  stop triggered unfilled meanwhile), the trade closes at market at once (GAP_OPENING). After a
  HALT only the trades whose stop triggered or whose price crossed the stop during the halt close
  at market on resume (STOP_MARKET_FALLBACK, cause LULD_RESUME): the row belongs to §4's
  stop-fallback table (a stop that could not fill), and §3.2 allows no market order for a halt
  as such, so a healthy position keeps its stop. While HALTED (or not OPEN) nothing is sent.

**How the market order waits for cancels.** An exit first cancels the stop, the targets, a
working entry and a forced-close limit (``TradeExitStarted``); the market order goes out only
once none of them works any more (each cancel confirmation, fill or rejection of one of them
re-checks). So a venue that locks quantity for resting sells (spot, cash equities) has released
it before the market sell arrives, and stop plus market never sell more than the position. On
the built-in exchange the cancels are confirmed within the same ``process`` call. Until then,
and while the market order works, the trade is protected by this exit policy (§5.2 "interner
Stop + sofortige Exit-Policy"). A market exit that ends unfilled (no liquidity) raises a
CRITICAL alert and is sent again on the next tick, price update or new order on the symbol.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.orders.amend import cancel_for
from atlas_oms.core.policy import trade_exits
from atlas_oms.core.policy.trade_orders import (
    MS,
    market_exit,
    params,
    place_stop,
)
from atlas_oms.core.policy.trade_state import CLOSED, TradeState
from atlas_oms.core.risk.gates import market_status
from atlas_oms.model import events as ev
from atlas_oms.model import events_exits as ex
from atlas_oms.model.enums import OrderStatus, Side
from atlas_oms.model.risk import AlertLevel, MarketOrderReason, MarketStatus

_OPEN = MarketStatus.OPEN
_CLOSED_BEFORE = (MarketStatus.CLOSED.value, MarketStatus.PRE_MARKET.value)
_HALTED = MarketStatus.HALTED.value
_GONE = (ev.OrderCanceled, ev.OrderRejected, ev.OrderExpired, ev.OrderDenied)


def _cancel(ctx: Context, order_id: int | None, ts: int) -> bool:
    order = ctx.state.orders.get(order_id) if order_id else None
    if order is None or not order.is_live or order.status is OrderStatus.PENDING_CANCEL:
        return False
    cancel_for(ctx, order, ts, None)
    return True


def _others(t: TradeState) -> tuple[int | None, ...]:
    return (*t.targets, t.stop_order_id, t.entry_order_id, t.fc_order_id, *t.exit_limits)


def start_exit(ctx: Context, t: TradeState, ts: int, reason: MarketOrderReason, cause: str) -> None:
    """Close the trade's position at market: cancel every other order of it now, send the
    market order once they are gone (:func:`try_send`). Nothing happens if an exit runs."""
    if t.exit_reason is not None or t.phase == CLOSED:
        return
    state = ctx.state
    canceled = [oid for oid in _others(t) if oid and _cancel(ctx, oid, ts)]
    ctx.emit(
        ex.TradeExitStarted(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            reason=reason.value,
            cause=cause,
            canceled=tuple(canceled),
        )
    )
    try_send(ctx, t, ts)


def _waiting(ctx: Context, t: TradeState) -> bool:
    """Whether any order of the trade still works: also targets whose cancel is not confirmed
    yet (``TradeTargetCanceled`` and ``TradeExitStarted`` drop them from ``t.targets`` when the
    cancel is *requested*; until it is confirmed they still lock what they sell on a spot
    wallet, and a market exit sent now would be refused for want of balance)."""
    orders = ctx.state.orders
    for order_id in (*_others(t), *t.exit_orders, *t.entry_orders, t.exit_order_id):
        order = orders.get(order_id) if order_id else None
        if order is not None and order.is_live:
            return True
    return False


def try_send(ctx: Context, t: TradeState, ts: int) -> None:
    """Send the market exit of a trade in exit if nothing of it works any more and the market is
    open; close the trade when its position is gone."""
    if t.exit_reason is None or t.phase == CLOSED or _waiting(ctx, t):
        return
    state = ctx.state
    position = t.position(state)
    if position <= 0:
        trade_exits.close(ctx, t, ts, t.exit_cause or "EXIT")
        return
    if market_status(state, state.instruments[t.symbol], ts) is not _OPEN:
        return  # halted or closed: no action possible, the open / resume sends it
    attempt = t.exit_attempts + 1
    reason = MarketOrderReason(t.exit_reason)
    order_id = market_exit(ctx, t, ts, position, reason, f"{t.trade_id}-x{attempt}")
    ctx.emit(
        ex.TradeExitOrderPlaced(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            order_id=order_id or 0,
            qty=position,
            reason=reason.value,
            attempt=attempt,
        )
    )
    if order_id is None:
        _alert(ctx, t, ts, "EXIT_REFUSED", f"the market exit of trade {t.trade_id} was refused")


def _alert(
    ctx: Context, t: TradeState, ts: int, code: str, message: str, order_id: int | None = None
) -> None:
    ctx.emit(
        ev.RiskAlert(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            level=AlertLevel.CRITICAL,
            code=code,
            message=message,
            account_id=t.account_id,
            order_id=order_id,
            symbol=t.symbol,
        )
    )


# ------------------------------------------------------------------ refused stops (§2, §9.3)
def count_refusal(ctx: Context, t: TradeState, order_id: int, ts: int, message: str) -> bool:
    """A protective stop was refused with the position open: CRITICAL alert, counted; True when
    the retries are spent and the trade went to a market exit."""
    state = ctx.state
    retries = params(state).execution.stop_reject_retries
    attempt = t.stop_rejects + 1
    _alert(
        ctx,
        t,
        ts,
        "STOP_REJECTED_UNPROTECTED",
        f"trade {t.trade_id}: the protective stop was refused ({message}); "
        f"position {t.position(state)} {t.symbol} unprotected (refusal {attempt}, "
        f"{retries} retries)",
        order_id or None,
    )
    ctx.emit(
        ex.TradeStopRejected(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            order_id=order_id,
            attempt=attempt,
            retries=retries,
            message=message,
        )
    )
    if attempt > retries:
        start_exit(ctx, t, ts, MarketOrderReason.STOP_MARKET_FALLBACK, "STOP_REJECTED")
        return True
    return False


def _denial(ctx: Context, order_id: int) -> str:
    for event in reversed(ctx.out):
        if isinstance(event, ev.OrderDenied | ev.OrderRejected) and event.order_id == order_id:
            return f"{event.reason}: {event.message}"
    return "refused"


def stop_refused(
    ctx: Context, t: TradeState, ts: int, qty: Decimal, trigger: Decimal, limit: Decimal
) -> None:
    """A replacement stop was refused at once: retry (a limited number of times), then close at
    market. A stop that goes out is journaled as ``TradeStopPlaced`` (cause STOP_RETRY)."""
    state = ctx.state
    while True:
        refused_id = state.next_order_id - 1
        if count_refusal(ctx, t, 0, ts, _denial(ctx, refused_id)):
            return
        n = len(t.stop_history) + t.stop_rejects
        coid = f"{t.trade_id}-s{n}"
        if place_stop(ctx, t, ts, qty, trigger, limit, coid, "STOP_RETRY") is not None:
            return


# ------------------------------------------------------------------ sessions (§4 rows 2, 3)
def _beyond_stop(ctx: Context, t: TradeState) -> bool:
    last = ctx.state.last.get(t.symbol)
    if last is None or t.stop_trigger is None:
        return False
    return last <= t.stop_trigger if t.side is Side.BUY else last >= t.stop_trigger


def observe(ctx: Context, t: TradeState, ts: int) -> None:
    """Journal a change of the trade's session; at an opening, close at market when the price
    lies beyond the stop (gap) or the stop triggered unfilled (halt)."""
    state = ctx.state
    status = market_status(state, state.instruments[t.symbol], ts)
    previous = t.session_status
    if status.value == previous or (previous is None and status is _OPEN):
        return
    ctx.emit(
        ex.TradeSessionObserved(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            status=status.value,
            previous=previous,
        )
    )
    if status is not _OPEN or t.exit_reason is not None:
        try_send(ctx, t, ts)
        return
    if t.position(state) <= 0 or not (t.stop_fallback_ts is not None or _beyond_stop(ctx, t)):
        return
    if previous == _HALTED:
        start_exit(ctx, t, ts, MarketOrderReason.STOP_MARKET_FALLBACK, "LULD_RESUME")
    elif previous in _CLOSED_BEFORE:
        start_exit(ctx, t, ts, MarketOrderReason.GAP_OPENING, "GAP_OPENING")


# ------------------------------------------------------------------ hooks
def _open_trades(ctx: Context) -> list[TradeState]:
    return [t for t in ctx.state.trades.values() if t.phase != CLOSED]


def on_tick(ctx: Context, ts: int) -> None:
    """``AdvanceTime``: sessions seen, due stop-market fallbacks, market exits to retry."""
    state = ctx.state
    for t in _open_trades(ctx):
        if t.stop_order_id is not None or t.exit_reason is not None:
            observe(ctx, t, ts)
        if t.phase == CLOSED:
            continue
        if t.exit_reason is not None:
            try_send(ctx, t, ts)
            continue
        due = t.stop_fallback_ts
        if due is None or ts < due or not t.is_open:
            continue
        stop = state.orders.get(t.stop_order_id or 0)
        if stop is None or not stop.is_live or not stop.leaves_qty:
            continue
        if market_status(state, state.instruments[t.symbol], ts) is not _OPEN:
            continue  # halted or closed: the resume / the open closes it (observe)
        start_exit(ctx, t, ts, MarketOrderReason.STOP_MARKET_FALLBACK, "STOP_LIMIT_UNFILLED")


def on_event(ctx: Context, event: ev.EventBase) -> None:
    """React to one event: a stop triggered, an exit's cancels confirmed, its market order
    filled or ended, a session change, new liquidity for a waiting exit, a bracket whose stop
    was refused."""
    state = ctx.state
    cls = event.__class__
    ts = event.ts_event
    if cls is ev.PricesUpdated or cls is ev.MarketStatusChanged:
        symbol = event.symbol  # type: ignore[attr-defined]
        for each in _open_trades(ctx):
            if each.symbol == symbol and (
                each.stop_order_id is not None or each.exit_reason is not None
            ):
                observe(ctx, each, ts)
                try_send(ctx, each, ts)
        return
    if cls is ev.TradeBracketPlaced:
        _bracket_placed(ctx, event)  # type: ignore[arg-type]
        return
    order_id = getattr(event, "order_id", None)
    if order_id is None:
        return
    trade_id = state.trade_orders.get(order_id)
    if trade_id is None:
        if cls is ev.OrderAccepted:
            _new_liquidity(ctx, order_id, ts)
        return
    t: TradeState = state.trades[trade_id]
    if t.phase == CLOSED:
        return
    if cls is ev.OrderTriggered:
        if order_id == t.stop_order_id and t.exit_reason is None and t.stop_fallback_ts is None:
            ctx.emit(
                ex.TradeStopTriggered(
                    seq=state.seq + 1,
                    ts_event=ts,
                    trade_id=t.trade_id,
                    order_id=order_id,
                    fallback_ts=ts + params(state).execution.stop_market_fallback_ms * MS,
                )
            )
        return
    if t.exit_reason is None:
        return
    if order_id == t.exit_order_id:
        if cls is ev.OrderFilled and t.position(state) <= 0:
            trade_exits.close(ctx, t, ts, t.exit_cause or "EXIT")
        elif isinstance(event, _GONE) and t.position(state) > 0:
            _alert(
                ctx,
                t,
                ts,
                "EXIT_UNFILLED",
                f"the market exit of trade {t.trade_id} ended with {t.position(state)} "
                f"{t.symbol} open: sent again on the next tick, price or order",
                order_id,
            )
        return
    if isinstance(event, _GONE) or cls is ev.OrderFilled:
        try_send(ctx, t, ts)


def _new_liquidity(ctx: Context, order_id: int, ts: int) -> None:
    order = ctx.state.orders.get(order_id)
    if order is None:
        return
    for t in _open_trades(ctx):
        if t.exit_reason is not None and t.symbol == order.symbol:
            try_send(ctx, t, ts)


def _bracket_placed(ctx: Context, e: ev.TradeBracketPlaced) -> None:
    if e.stop_order_id:
        return
    t: TradeState = ctx.state.trades[e.trade_id]
    status = market_status(ctx.state, ctx.state.instruments[t.symbol], e.ts_event)
    if status in (MarketStatus.PRE_MARKET, MarketStatus.POST_MARKET):
        return  # extended hours take no stop order: extended.py protects until the open
    if t.phase != CLOSED and t.position(ctx.state) > 0:
        stop_refused(ctx, t, e.ts_event, e.position_qty, e.stop_trigger, e.stop_limit)


def next_deadline(state: Any, after: int) -> int | None:
    """The earliest stop-market fallback due later than ``after``."""
    best: int | None = None
    for t in state.trades.values():
        due = t.stop_fallback_ts
        if due is None or due <= after or t.exit_reason is not None or t.phase == CLOSED:
            continue
        if best is None or due < best:
            best = due
    return best
