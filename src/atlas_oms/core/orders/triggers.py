"""Held stop, take-profit and trailing orders: when a price reaches them, and what firing does
(the order is released to its venue as a limit, or as a market order bounded by the collar)."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, round_to_tick
from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.pricing import protect, trail
from atlas_oms.core.orders.trigger_index import fires_on_rise
from atlas_oms.core.state.state import State
from atlas_oms.model import events as ev
from atlas_oms.model.enums import (
    LIMIT_TYPES,
    TRAILING_TYPES,
    OrderType,
    Side,
    TriggerType,
)
from atlas_oms.model.requests import SubmitToVenue

_BUY = Side.BUY
_SELL = Side.SELL


def trigger_source(state: State, symbol: str, trigger_type: TriggerType) -> Decimal | None:
    """The price a trigger of ``trigger_type`` watches (mark or last)."""
    if trigger_type is TriggerType.MARK:
        return state.mark.get(symbol)
    return state.last.get(symbol)


def would_fire(order: Order, price: Decimal) -> bool:
    """Whether ``price`` reaches the order's trigger."""
    trig = order.trigger_price
    if trig is None:
        return False
    if order.order_type in TRAILING_TYPES:
        return price >= trig if order.side is _BUY else price <= trig
    return price >= trig if fires_on_rise(order.side, order.order_type) else price <= trig


def check_triggers(
    ctx: Context, symbol: str, trigger_type: TriggerType, price: Decimal, ts: int
) -> None:
    """A new ``price`` of ``symbol``: trail the trailing stops, fire what it reaches."""
    state = ctx.state
    book = state.triggers.book(symbol, trigger_type)
    if not book:
        return
    if book.trailing:
        _trail_orders(ctx, book.trailing, price, ts)
    orders = state.orders
    for order_id in state.triggers.fired(symbol, trigger_type, price):
        fire(ctx, orders[order_id], price, ts)


def fire_if_reached(ctx: Context, order: Order, ts: int) -> None:
    """Fire a held order at once if its price source is already at its trigger."""
    price = trigger_source(ctx.state, order.symbol, order.trigger_type)
    if (
        price is not None
        and order.held
        and would_fire(order, price)
        and order.session_release is None  # queued for its session: not watching yet
    ):
        fire(ctx, order, price, ts)


def _trail_orders(ctx: Context, trailing: dict[int, None], price: Decimal, ts: int) -> None:
    state = ctx.state
    orders = state.orders
    for order_id in list(trailing):
        order = orders[order_id]
        wm = order.watermark
        sell = order.side is _SELL
        if wm is None or (price > wm if sell else price < wm):
            offset = order.trailing_offset
            assert offset is not None
            trailed = trail(
                order.side,
                price,
                offset,
                order.trailing_offset_type,
                state.instruments[order.symbol].tick_size,
            )
            trig = order.trigger_price
            if trig is not None:
                trailed = max(trig, trailed) if sell else min(trig, trailed)  # never loosens
            ctx.emit(
                ev.OrderTrailingUpdated(
                    seq=state.seq + 1,
                    ts_event=ts,
                    order_id=order_id,
                    watermark=price,
                    trigger_price=trailed,
                )
            )
        if would_fire(order, price):
            fire(ctx, order, price, ts)


def fire(ctx: Context, order: Order, price: Decimal, ts: int) -> None:
    """Release a held order to its venue: a limit at its price (a trailing stop-limit's offset
    from the trigger), or a market order bounded by the collar from the trigger."""
    trig = order.trigger_price
    assert trig is not None
    inst = ctx.state.instruments[order.symbol]
    otype = order.order_type
    protection = None
    limit: Decimal | None
    if otype is OrderType.TRAILING_STOP_LIMIT:
        off = order.limit_offset or ZERO
        limit = (
            round_to_tick(trig + off, inst.tick_size, up=True)
            if order.side is _BUY
            else max(round_to_tick(trig - off, inst.tick_size, up=False), inst.tick_size)
        )
    elif otype in LIMIT_TYPES:
        limit = order.price
    else:
        limit = None
        protection = protect(ctx, order.side, trig, inst.tick_size)
        if order.side is _BUY and order.protection_price is not None:
            protection = min(protection, order.protection_price)  # stay within what is reserved
    ctx.emit(
        ev.OrderTriggered(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            order_id=order.order_id,
            trigger_price=trig,
            last_px=price,
            price=limit,
            protection_price=protection,
        )
    )
    ctx.outbox.append(
        SubmitToVenue(
            order_id=order.order_id,
            account_id=order.account_id,
            symbol=order.symbol,
            venue=order.venue,
            ts=ts,
            side=order.side,
            qty=order.leaves_qty,
            price=limit,
            protection_price=protection,
            tif=order.tif,
            reduce_only=order.reduce_only,
        )
    )
