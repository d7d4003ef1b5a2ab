"""Market data and time: a price update fires and trails held orders and, on a mark price of a
derivative this venue liquidates, checks liquidations; a timer tick expires DAY and GTD orders
(time in force by the clock), settles funding and measures circuit breakers."""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.core.derivatives.liquidation import check_liquidations
from atlas_oms.core.derivatives.settlement import settle_funding_due
from atlas_oms.core.equities.session_queue import release_due
from atlas_oms.core.orders.amend import cancel_request
from atlas_oms.core.orders.triggers import check_triggers
from atlas_oms.core.orders.validation import bad_number
from atlas_oms.core.refusals import reject_command
from atlas_oms.core.retention import archive_due, archive_due_ts
from atlas_oms.core.risk.breaker import sweep
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.archive import RestoreOrder
from atlas_oms.model.enums import DERIVATIVE_KINDS, TriggerType
from atlas_oms.model.reasons import Reason


def update_prices(ctx: Context, c: cmd.UpdatePrices) -> None:
    state = ctx.state
    inst = state.instruments.get(c.symbol)
    if inst is None:
        reject_command(ctx, c, Reason.UNKNOWN_INSTRUMENT, f"instrument {c.symbol} does not exist")
        return
    for value in (c.last, c.mark):
        if value is not None and bad_number(value, "price"):
            reject_command(
                ctx, c, Reason.INVALID_PRICE, f"price update {value} is not a valid price"
            )
            return
    if c.last is None and c.mark is None:
        return
    ctx.emit(
        ev.PricesUpdated(
            seq=state.seq + 1, ts_event=c.ts, symbol=c.symbol, last=c.last, mark=c.mark
        )
    )
    if c.last is not None:
        check_triggers(ctx, c.symbol, TriggerType.LAST, c.last, c.ts)
    if c.mark is not None:
        check_triggers(ctx, c.symbol, TriggerType.MARK, c.mark, c.ts)
        if inst.venue in ctx.liq_venues and inst.kind in DERIVATIVE_KINDS:
            check_liquidations(ctx, c.symbol, c.ts)


def advance_time(ctx: Context, c: cmd.AdvanceTime) -> None:
    expire_due(ctx, c.ts)
    state = ctx.state
    if state.equities.us.queued:
        release_due(ctx, c.ts)
    if state.liq.funding_rate:
        settle_funding_due(ctx, c.ts)
    if state.risk.breakers:
        sweep(ctx, c.ts)
    due = archive_due_ts(state, ctx.config)
    if due is not None and due <= c.ts:
        archive_due(ctx, c.ts)


#: Larger than any order id: the upper bound of the expiry index's (expire_ts, order_id) keys.
_NO_ID = 1 << 62


def expire_due(ctx: Context, ts: int) -> None:
    """Expire every live order whose expiry is at or before ``ts``, in expiry order; one working
    at a venue is also canceled there. (The fold takes it out of the expiry index.)"""
    state = ctx.state
    due = [order_id for _, order_id in state.expiries.irange(maximum=(ts, _NO_ID))]
    orders = state.orders
    for order_id in due:
        order = orders[order_id]
        if not order.is_live:
            continue
        at_venue = not order.held
        ctx.emit(ev.OrderExpired(seq=state.seq + 1, ts_event=ts, order_id=order_id))
        if at_venue:
            ctx.outbox.append(cancel_request(order, ts))


def restore_order(ctx: Context, c: RestoreOrder) -> None:
    """Handle ``RestoreOrder``: load the record back unless the order is in memory."""
    state = ctx.state
    if c.order.order_id in state.orders or c.order.order_id >= state.next_order_id:
        return
    ctx.emit(ev.OrderRestored(seq=state.seq + 1, ts_event=c.ts, order=c.order))
