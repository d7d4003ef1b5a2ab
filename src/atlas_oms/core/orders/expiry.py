"""Time in force by the clock: DAY and GTD orders end when their time comes."""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.core.orders.amend import cancel_request
from atlas_oms.model import events as ev

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
