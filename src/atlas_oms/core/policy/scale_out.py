"""Exits the OMS decides now (seed 001 §3.1 "Normal Exit (Tranchen): Limit Order, Preis =
aktueller Bid, Repricing alle 5s"; §6.2 "Parabolic/Exhaustion Events: Scale-Out-Ladder triggert
sofort").

``TriggerScaleOut`` takes the trade's working targets now: they are canceled (``SCALE_OUT``),
``TradeScaleOutStarted`` records the quantity, and a limit at the best bid (a short's: the best ask)
sells it; every ``execution.exit-repricing-interval-ms`` an unfilled rest is canceled and placed
again at the bid of that moment, until it is sold. No market order: §3.2 allows none here. The
runner stays on the stop and is trailed. Where sells lock what they sell (cover.py), an exit
that cannot be placed yet (the targets' cancels not confirmed) is tried again at the next
deadline. :func:`start_exit` is the reusable part (any module may start such an exit).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO
from atlas_oms.core.policy.trade_orders import (
    MS,
    abandon_entry,
    cancel_if_working,
    exit_quote,
    limit_exit,
    params,
)
from atlas_oms.core.policy.trade_state import TradeState
from atlas_oms.core.refusals import reject_command
from atlas_oms.core.risk.gates import market_status
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import MarketStatus

_EXTENDED = (MarketStatus.PRE_MARKET, MarketStatus.POST_MARKET)


def best_bid_for(state: Any, t: TradeState) -> Decimal | None:
    """Where the trade's exit sells now (``trade_orders.exit_quote``)."""
    return exit_quote(state, t)


def exit_remaining(state: Any, t: TradeState) -> Decimal:
    """What a started exit still has to sell: its quantity minus what its limits sold, never
    more than the position."""
    sold = ZERO
    for order_id in t.exit_limits:
        order = state.orders.get(order_id)
        if order is not None:
            sold += order.cum_qty
    return max(min(t.exit_qty - sold, t.position(state)), ZERO)


def _held(state: Any, t: TradeState) -> bool:
    """Whether another exit of the trade (a target whose cancel is not confirmed yet: the
    targets are dropped from ``t.targets`` when the cancel is *requested*) still works besides
    its stop: where sells lock what they sell it still holds what the exit would sell, so the
    exit waits for its cancel (``on_event``) instead of being refused for want of balance."""
    orders = state.orders
    for order_id in t.exit_orders:
        if order_id == t.stop_order_id or order_id in t.exit_limits:
            continue
        order = orders.get(order_id)
        if order is not None and order.is_live:
            return True
    return False


def trigger_scale_out(ctx: Context, c: cmd.TriggerScaleOut) -> None:
    """Handle ``TriggerScaleOut``."""
    state = ctx.state
    t: TradeState | None = state.trades.get(c.trade_id)
    if t is None:
        reject_command(ctx, c, Reason.UNKNOWN_TRADE, f"managed trade {c.trade_id} does not exist")
        return
    if not t.is_open or t.stop_order_id is None or t.stop_fired or t.exit_reason is not None:
        reject_command(
            ctx, c, Reason.TRADE_NOT_OPEN, f"managed trade {c.trade_id} holds no protected position"
        )
        return
    orders = state.orders
    qty = ZERO
    for order_id in list(t.targets):
        order = orders.get(order_id)
        if order is not None and order.is_live:
            qty += order.leaves_qty
    if qty <= 0:
        reject_command(
            ctx, c, Reason.TRADE_NOT_OPEN, f"managed trade {c.trade_id} has no working target"
        )
        return
    from atlas_oms.core.policy.trade_exits import cancel_targets

    if t.entry_order_id is not None:  # the exit would meet the trade's own entry
        abandon_entry(ctx, t, c.ts, "SCALE_OUT")
    cancel_targets(ctx, t, c.ts, "SCALE_OUT")
    start_exit(ctx, t, c.ts, qty, "SCALE_OUT", c.reason)


def start_exit(ctx: Context, t: TradeState, ts: int, qty: Decimal, cause: str, reason: str) -> None:
    """Sell ``qty`` of the trade now by a limit at the bid, repriced until filled."""
    ctx.emit(
        ev.TradeScaleOutStarted(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            qty=qty,
            cause=cause,
            reason=reason,
        )
    )
    _place(ctx, t, ts)


def _place(ctx: Context, t: TradeState, ts: int) -> None:
    state = ctx.state
    if t.exit_reason is not None:
        return  # an emergency exit at market took over (fallback.py)
    qty = exit_remaining(state, t)
    if qty <= 0:
        return
    price = best_bid_for(state, t)
    due = ts + params(state).execution.exit_repricing_interval_ms * MS
    order_id = None
    if price is not None and not _held(state, t):
        # outside the regular session only extended-hours limits trade
        extended = market_status(state, state.instruments[t.symbol], ts) in _EXTENDED
        coid = f"{t.trade_id}-x{state.next_order_id}"
        order_id = limit_exit(ctx, t, ts, qty, price, coid, extended_hours=extended)
    ctx.emit(
        ev.TradeScaleOutPlaced(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            order_id=order_id or 0,
            price=price if price is not None else ZERO,
            qty=qty,
            next_reprice_ts=due,
        )
    )


def end_exit(ctx: Context, t: TradeState, ts: int, cause: str) -> None:
    """Stop a started exit: cancel its working limit; nothing is repriced any more."""
    if t.next_exit_ts is None and not any(
        ctx.state.orders[o].is_live for o in t.exit_limits if o in ctx.state.orders
    ):
        return
    for order_id in t.exit_limits:
        cancel_if_working(ctx, order_id, ts)
    ctx.emit(
        ev.TradeScaleOutEnded(seq=ctx.state.seq + 1, ts_event=ts, trade_id=t.trade_id, cause=cause)
    )


def on_tick(ctx: Context, ts: int) -> None:
    """Reprice every due exit at the bid of now (or place one that could not be placed)."""
    state = ctx.state
    for t in list(state.trades.values()):
        if t.next_exit_ts is None or ts < t.next_exit_ts or not t.is_open:
            continue
        if exit_remaining(state, t) <= 0:
            continue
        working = t.exit_limits[-1] if t.exit_limits else None
        order = state.orders.get(working) if working is not None else None
        if order is not None and order.is_live:
            if order.price == best_bid_for(state, t):
                ctx.emit(  # the bid has not moved: the order keeps its place
                    ev.TradeScaleOutPlaced(
                        seq=state.seq + 1,
                        ts_event=ts,
                        trade_id=t.trade_id,
                        order_id=0,
                        price=order.price or ZERO,
                        qty=order.leaves_qty,
                        next_reprice_ts=ts
                        + params(state).execution.exit_repricing_interval_ms * MS,
                    )
                )
                continue
            cancel_if_working(ctx, order.order_id, ts)
            if state.orders[order.order_id].is_live:
                continue  # the replacement goes out when the cancel is confirmed (on_event)
        _place(ctx, t, ts)


def on_event(ctx: Context, event: ev.EventBase) -> None:
    """A cancel confirmed: a repriced exit's rest goes out at the bid of now, and an exit that
    waited for its targets' cancels (sells that lock what they sell) goes out once none works."""
    if event.__class__ is not ev.OrderCanceled or event.reason != Reason.CANCELED_BY_USER:
        return  # a venue's own cancel (self-trade prevention, a halt) waits for the next tick
    state = ctx.state
    order_id = event.order_id
    trade_id = state.trade_orders.get(order_id)
    if trade_id is None:
        return
    t: TradeState = state.trades[trade_id]
    if t.next_exit_ts is None or not t.is_open:
        return
    orders = state.orders
    if any(orders[o].is_live for o in t.exit_limits if o in orders) or _held(state, t):
        return
    if exit_remaining(state, t) > 0:
        _place(ctx, t, event.ts_event)


def next_deadline(state: Any, after: int) -> int | None:
    best: int | None = None
    for t in state.trades.values():
        due = t.next_exit_ts
        if due is not None and due > after and t.is_open and (best is None or due < best):
            best = due
    return best
