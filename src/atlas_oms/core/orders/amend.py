"""Cancel and modify (cancel/replace) of live orders: refuse, act at once on a held order, or
ask its venue and wait for the answer (a pending state)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, plain
from atlas_oms.core.equities.checks import check_modify
from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.pricing import protect, reserve_unit
from atlas_oms.core.orders.transitions import Tx, next_status
from atlas_oms.core.orders.triggers import fire_if_reached
from atlas_oms.core.orders.validation import check_price, check_qty
from atlas_oms.core.refusals import Refusal
from atlas_oms.core.risk.pretrade import risk_modify
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import (
    MARKET_TYPES,
    TRAILING_TYPES,
    InstrumentKind,
    OrderStatus,
    OrderType,
    Side,
)
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import CancelAtVenue, ModifyAtVenue


def cancel_request(order: Order, ts: int) -> CancelAtVenue:
    """Ask the order's venue to take it off the book."""
    return CancelAtVenue(
        order_id=order.order_id,
        account_id=order.account_id,
        symbol=order.symbol,
        venue=order.venue,
        ts=ts,
        venue_order_id=order.venue_order_id,
    )


# ---------------------------------------------------------------------------------- cancel
def cancel(ctx: Context, c: cmd.CancelOrder) -> None:
    """Handle ``CancelOrder``: refused, canceled at once (held), or pending at the venue."""
    state = ctx.state
    order = state.find_order(c.account_id, c.order_id, c.client_order_id)
    refusal: Refusal | None = None
    if order is None:
        refusal = (
            Reason.UNKNOWN_ORDER,
            f"account {c.account_id} has no order {c.order_id or c.client_order_id}",
        )
    elif not order.is_live:
        refusal = (
            Reason.ORDER_NOT_LIVE,
            f"order {order.order_id} is {order.status}: nothing to cancel",
        )
    elif order.status is OrderStatus.PENDING_CANCEL:
        refusal = Reason.ORDER_PENDING, f"order {order.order_id} already has a cancel in flight"
    elif order.order_id in state.liq.orders:
        refusal = (
            Reason.LIQUIDATION_IN_PROGRESS,
            f"order {order.order_id} is a liquidation order: only the venue ends it",
        )
    if refusal is not None:
        ctx.emit(
            ev.OrderCancelRejected(
                seq=state.seq + 1,
                ts_event=c.ts,
                account_id=c.account_id,
                reason=refusal[0],
                message=refusal[1],
                order_id=order.order_id if order else c.order_id,
                client_order_id=c.client_order_id,
                order_status=order.status if order else None,  # unchanged
            )
        )
        return
    assert order is not None
    cancel_for(ctx, order, c.ts, None)


def cancel_for(ctx: Context, order: Order, ts: int, reason: Reason | None) -> None:
    """Cancel a live order: a held one at once, a working one by asking its venue. ``reason`` is
    the engine's own (kill switch, liquidation, settlement); None: the user asked."""
    if order.held:
        ctx.emit(
            ev.OrderCanceled(
                seq=ctx.state.seq + 1,
                ts_event=ts,
                order_id=order.order_id,
                reason=reason or Reason.CANCELED_BY_USER,
            )
        )
        return
    ctx.emit(
        ev.OrderPendingCancel(
            seq=ctx.state.seq + 1, ts_event=ts, order_id=order.order_id, reason=reason
        )
    )
    ctx.outbox.append(cancel_request(order, ts))


# ---------------------------------------------------------------------------------- modify
class ModifyPlan(msgspec.Struct, frozen=True, gc=False):
    """An accepted modify: the new quantity and prices, and what it locks."""

    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reserve_unit: Decimal
    protection_price: Decimal | None
    reserve_extra: Decimal


def modify(ctx: Context, c: cmd.ModifyOrder) -> None:
    """Handle ``ModifyOrder``: refused, replaced at once (held), or pending at the venue."""
    state = ctx.state
    order = state.find_order(c.account_id, c.order_id, c.client_order_id)
    plan = _plan_modify(ctx, c, order)
    if not isinstance(plan, ModifyPlan):
        ctx.emit(
            ev.OrderModifyRejected(
                seq=state.seq + 1,
                ts_event=c.ts,
                account_id=c.account_id,
                reason=plan[0],
                message=plan[1],
                order_id=order.order_id if order else c.order_id,
                client_order_id=c.client_order_id,
                order_status=order.status if order else None,  # unchanged
            )
        )
        return
    assert order is not None
    if order.held:
        # In no venue's queue: replaced at once, its priority is not at stake.
        ctx.emit(
            ev.OrderReplaced(
                seq=state.seq + 1,
                ts_event=c.ts,
                order_id=order.order_id,
                qty=plan.qty,
                price=plan.price,
                trigger_price=plan.trigger_price,
                reserve_unit=plan.reserve_unit,
                protection_price=plan.protection_price,
                order_status=next_status(order, Tx.REPLACE),
                loses_priority=False,
            )
        )
        fire_if_reached(ctx, order, c.ts)
        return
    ctx.emit(
        ev.OrderPendingReplace(
            seq=state.seq + 1,
            ts_event=c.ts,
            order_id=order.order_id,
            qty=plan.qty,
            price=plan.price,
            trigger_price=plan.trigger_price,
            reserve_extra=plan.reserve_extra,
        )
    )
    ctx.outbox.append(
        ModifyAtVenue(
            order_id=order.order_id,
            account_id=order.account_id,
            symbol=order.symbol,
            venue=order.venue,
            ts=c.ts,
            venue_order_id=order.venue_order_id,
            qty=plan.qty,
            leaves_qty=plan.qty - order.cum_qty,
            price=plan.price,
            post_only=order.post_only,
        )
    )


def _plan_modify(ctx: Context, c: cmd.ModifyOrder, order: Order | None) -> Refusal | ModifyPlan:
    state = ctx.state
    if order is None:
        return (
            Reason.UNKNOWN_ORDER,
            f"account {c.account_id} has no order {c.order_id or c.client_order_id}",
        )
    if not order.is_live:
        return (
            Reason.ORDER_NOT_LIVE,
            f"order {order.order_id} is {order.status}: it cannot be modified",
        )
    if order.status in (
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
        OrderStatus.SUBMITTED,
    ):
        return (
            Reason.ORDER_PENDING,
            f"order {order.order_id} is {order.status}: wait for the venue's answer",
        )
    inst = state.instruments[order.symbol]
    works_at_price = order.price is not None
    if not order.held and not works_at_price:
        return Reason.ORDER_NOT_MODIFIABLE, f"order {order.order_id} works as a market order"
    if c.qty is None and c.price is None and c.trigger_price is None:
        return Reason.NOTHING_TO_MODIFY, "give a new quantity, price or trigger price"
    qty = order.qty if c.qty is None else c.qty
    if c.qty is not None:
        refusal = check_qty(inst, c.qty)
        if refusal:
            return refusal
    price = order.price
    if c.price is not None:
        if not works_at_price:
            return Reason.PRICE_NOT_ALLOWED, f"order {order.order_id} has no limit price"
        refusal = check_price(inst, c.price)
        if refusal:
            return refusal
        price = c.price
    trigger = order.trigger_price
    if c.trigger_price is not None:
        if not order.held or order.order_type in TRAILING_TYPES:
            return (
                Reason.PRICE_NOT_ALLOWED,
                f"order {order.order_id} has no trigger price to change",
            )
        refusal = check_price(inst, c.trigger_price, "trigger price")
        if refusal:
            return refusal
        trigger = c.trigger_price
    if qty == order.qty and price == order.price and trigger == order.trigger_price:
        return Reason.NOTHING_TO_MODIFY, "the order already has these values"
    protection = order.protection_price
    if order.held and order.order_type in MARKET_TYPES and trigger != order.trigger_price:
        assert trigger is not None
        protection = protect(ctx, order.side, trigger, inst.tick_size)
    worst: Decimal | None
    if price is not None:
        worst = price
    elif order.order_type is OrderType.TRAILING_STOP_LIMIT and trigger is not None:
        worst = trigger + (order.limit_offset or ZERO) if order.side is Side.BUY else trigger
    elif trigger is not None and order.held:
        worst = trigger * ctx.collar_up
    else:
        worst = None
    if worst is not None and qty * worst * inst.multiplier < inst.min_notional:
        return (
            Reason.NOTIONAL_BELOW_MIN,
            f"notional {plain(qty * worst * inst.multiplier)} is below the minimum "
            f"{plain(inst.min_notional)}",
        )
    if state.liq.frozen and state.liq.is_frozen(order.account_id, order.symbol):
        return (
            Reason.LIQUIDATION_IN_PROGRESS,
            f"account {order.account_id} is being liquidated on {order.symbol}",
        )
    refusal = risk_modify(ctx, order, inst, qty, price, trigger, worst, c.ts)
    if refusal:
        return refusal
    ref = protection if order.side is Side.BUY and protection is not None else worst
    asset, unit = reserve_unit(ctx, order.account_id, inst, order.side, order.reduce_only, ref)
    if unit is None:
        unit = order.reserve_unit
    if inst.kind is InstrumentKind.EQUITY:
        refusal = check_modify(state, order, inst, qty, price, trigger, protection, unit, c.ts)
        if refusal:
            return refusal
    leaves = qty - order.cum_qty
    extra = ZERO
    if asset is not None and order.reserved_asset == asset:
        extra = leaves * unit - order.reserved if leaves > 0 else ZERO
        if extra < 0:
            extra = ZERO
        free = state.free(order.account_id, asset)
        if extra > 0 and extra > free:  # a change that needs nothing more is never refused
            return (
                Reason.INSUFFICIENT_BALANCE,
                f"the change needs {plain(extra)} {asset} more but only {plain(free)} is free",
            )
    return ModifyPlan(qty, price, trigger, unit, protection, extra)
