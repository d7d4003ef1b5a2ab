"""The orders a managed trade sends (seed 001 sections 3, 4, 5): small helpers shared by the
policy modules (entry, exits, trailing, fallback, forced close, cycles).

Every order of a trade is an ordinary Atlas order tagged ``trade:<id>`` (so risk checks apply);
its client order id is ``<trade id>-<role><n>``. The policy parameters are read from the state
(:func:`params`), which a journaled ``PolicyParamsSet`` event sets, so a replay decides alike.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import round_to_tick
from atlas_oms.core.orders.amend import cancel_for, modify
from atlas_oms.core.orders.submit import submit
from atlas_oms.core.policy.params import PolicyParams
from atlas_oms.core.policy.trade_state import TradeState
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus, OrderType, Side
from atlas_oms.model.risk import MarketOrderReason

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

#: Nanoseconds per millisecond (parameters are in ms, timestamps in ns).
MS = 1_000_000


def params(state: State) -> PolicyParams:
    """The policy parameters in force (seed defaults until a ``PolicyParamsSet`` event)."""
    return state.policy


def place(ctx: Context, c: cmd.SubmitOrder) -> int | None:
    """Submit ``c``; its order id, or None when it was refused (the refusal is journaled)."""
    state = ctx.state
    order_id = state.next_order_id
    submit(ctx, c)
    order = state.orders.get(order_id)
    return order_id if order is not None and order.is_live else None


def best_price(state: State, symbol: str, side: Side, exclude_account: str) -> Decimal | None:
    """The best resting ``side`` price of ``symbol`` from any account but ``exclude_account``
    (the highest buy, the lowest sell) on the built-in book; without one, the last price (an
    external venue's book is not in the state)."""
    best: Decimal | None = None
    buy = side is Side.BUY
    for order in state.orders.values():
        if (
            order.symbol != symbol
            or order.side is not side
            or order.account_id == exclude_account
            or order.price is None
            or order.held
            or not order.is_live
        ):
            continue
        if best is None or (order.price > best if buy else order.price < best):
            best = order.price
    return best if best is not None else state.last.get(symbol)


def exit_quote(state: State, t: TradeState) -> Decimal | None:
    """Where the trade's exit sells now: the best bid for a long (the best ask for a short)."""
    return best_price(state, t.symbol, t.side, t.account_id)


def cancel_if_working(ctx: Context, order_id: int | None, ts: int) -> bool:
    """Cancel the order if it still works; whether a cancel was sent."""
    order = ctx.state.orders.get(order_id) if order_id is not None else None
    if order is None or not order.is_live or order.status is OrderStatus.PENDING_CANCEL:
        return False
    cancel_for(ctx, order, ts, None)
    return True


def exit_side(t: TradeState) -> Side:
    """The side that reduces the trade's position."""
    return Side.SELL if t.side is Side.BUY else Side.BUY


def stop_prices(ctx: Context, t: TradeState, trigger: Decimal) -> tuple[Decimal, Decimal]:
    """(trigger, limit) of a stop-limit at ``trigger``: the limit lies ``stop-limit-offset-pct``
    beyond the trigger (below it for a long's stop), on the tick grid away from the market."""
    tick = ctx.state.instruments[t.symbol].tick_size
    off = trigger * params(ctx.state).execution.stop_limit_offset_pct
    if t.side is Side.BUY:  # a long's stop sells: its limit lies below the trigger
        return trigger, round_to_tick(trigger - off, tick, up=False)
    return trigger, round_to_tick(trigger + off, tick, up=True)


def _exit_order(
    ctx: Context,
    t: TradeState,
    ts: int,
    order_type: OrderType,
    qty: Decimal,
    client_order_id: str,
    **fields: Any,
) -> int | None:
    """Submit an order on the trade's exit side, tagged with the trade."""
    return place(
        ctx,
        cmd.SubmitOrder(
            ts=ts,
            account_id=t.account_id,
            symbol=t.symbol,
            side=exit_side(t),
            order_type=order_type,
            qty=qty,
            client_order_id=client_order_id,
            tag=f"trade:{t.trade_id}",
            **fields,
        ),
    )


def stop_order(
    ctx: Context,
    t: TradeState,
    ts: int,
    qty: Decimal,
    trigger: Decimal,
    limit: Decimal,
    client_order_id: str,
) -> int | None:
    """Submit the trade's protective stop-limit for ``qty`` (seed 001 §4)."""
    return _exit_order(
        ctx, t, ts, OrderType.STOP_LIMIT, qty, client_order_id, price=limit, trigger_price=trigger
    )


def place_stop(
    ctx: Context,
    t: TradeState,
    ts: int,
    qty: Decimal,
    trigger: Decimal,
    limit: Decimal,
    client_order_id: str,
    cause: str,
) -> int | None:
    """Submit a protective stop and journal it as the trade's stop (``TradeStopPlaced`` with
    ``cause``); its order id, or None when it was refused (nothing is journaled then)."""
    new_id = stop_order(ctx, t, ts, qty, trigger, limit, client_order_id)
    if new_id is not None:
        ctx.emit(
            ev.TradeStopPlaced(
                seq=ctx.state.seq + 1,
                ts_event=ts,
                trade_id=t.trade_id,
                order_id=new_id,
                qty=qty,
                trigger=trigger,
                limit=limit,
                cause=cause,
            )
        )
    return new_id


def move_stop(
    ctx: Context, t: TradeState, ts: int, trigger: Decimal, cause: str, **fields: Any
) -> bool:
    """Modify the trade's working stop to ``trigger`` (its limit ``stop-limit-offset-pct``
    beyond) and journal ``TradeStopMoved`` with ``cause`` and ``fields``; a modify the venue
    path refuses journals nothing (the stop stays where it is). Whether it moved."""
    stop = ctx.state.orders.get(t.stop_order_id or 0)
    if stop is None or not stop.is_live:
        return False
    trigger, limit = stop_prices(ctx, t, trigger)
    out = ctx.out
    start = len(out)
    modify(
        ctx,
        cmd.ModifyOrder(
            ts=ts,
            account_id=t.account_id,
            order_id=stop.order_id,
            price=limit,
            trigger_price=trigger,
        ),
    )
    if len(out) == start or out[start].__class__ is ev.OrderModifyRejected:
        return False
    ctx.emit(
        ev.TradeStopMoved(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            order_id=stop.order_id,
            trigger=trigger,
            limit=limit,
            cause=cause,
            **fields,
        )
    )
    return True


def limit_exit(
    ctx: Context,
    t: TradeState,
    ts: int,
    qty: Decimal,
    price: Decimal,
    client_order_id: str,
    *,
    reduce_only: bool = False,
    extended_hours: bool = False,
) -> int | None:
    """Submit a limit order reducing the trade's position (a target, a scale-out or a
    forced-close exit); its order id, or None when it was refused."""
    return _exit_order(
        ctx,
        t,
        ts,
        OrderType.LIMIT,
        qty,
        client_order_id,
        price=price,
        reduce_only=reduce_only,
        extended_hours=extended_hours,
    )


def market_exit(
    ctx: Context,
    t: TradeState,
    ts: int,
    qty: Decimal,
    reason: MarketOrderReason,
    client_order_id: str,
) -> int | None:
    """Submit a reduce-only market order closing ``qty`` of the trade's position, for one of the
    reasons seed 001 §3.2 allows (the reason is journaled on the order). The order is recorded
    as one of the trade's exits by the caller's event."""
    return _exit_order(
        ctx, t, ts, OrderType.MARKET, qty, client_order_id, reduce_only=True, market_reason=reason
    )


def abandon_entry(ctx: Context, t: TradeState, ts: int, reason: str) -> None:
    """Give the entry up: cancel what works and journal why (the trade seeks entry again, or
    stays protected with what filled)."""
    state = ctx.state
    cancel_if_working(ctx, t.entry_order_id, ts)
    ctx.emit(
        ev.TradeEntryAbandoned(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            reason=reason,
            filled_qty=t.entry_filled(state),
        )
    )
