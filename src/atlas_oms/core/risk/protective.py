"""Protective-order failures (RSK-4): when the venue rejects a stop while its position has no
other stop, raise a CRITICAL alert and retry it; when the retries run out, trip the account's
kill switch (flattening it unless the limits say otherwise)."""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.submit import submit
from atlas_oms.core.risk.kill import trip_kill
from atlas_oms.core.risk.limits import limits_for
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import MARKET_TYPES, TRAILING_TYPES, OrderType, PositionSide, Side
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import AlertLevel, MarketOrderReason, Scope

#: Retries of a rejected protective order when no limit says otherwise.
DEFAULT_PROTECTIVE_RETRIES = 3
PROTECTIVE_TYPES = frozenset(
    {
        OrderType.STOP_MARKET,
        OrderType.STOP_LIMIT,
        OrderType.TRAILING_STOP_MARKET,
        OrderType.TRAILING_STOP_LIMIT,
    }
)


def protective_rejected(ctx: Context, order: Order, reason: str, ts: int) -> None:
    """The venue refused the stop ``order``: alert, then retry it or trip the kill switch."""
    state = ctx.state
    pos = state.positions.get((order.account_id, order.symbol, order.position_side))
    if pos is None or not pos.qty or (pos.qty > 0) != (order.side is Side.SELL):
        return  # nothing to protect
    for other in state.orders.values():
        if (
            other.is_live
            and other.account_id == order.account_id
            and other.symbol == order.symbol
            and other.side is order.side
            and other.position_side is order.position_side
            and other.order_type in PROTECTIVE_TYPES
        ):
            return  # still protected by another stop
    risk = state.risk
    root = risk.retry_root.get(order.order_id, order.order_id)
    done = risk.retries.get(root, 0)
    lim = limits_for(ctx, order.account_id, order.symbol, order.tag)
    limit = (
        lim.protective_retry_limit
        if lim is not None and lim.protective_retry_limit is not None
        else DEFAULT_PROTECTIVE_RETRIES
    )
    retry = done < limit
    ctx.emit(
        ev.RiskAlert(
            seq=state.seq + 1,
            ts_event=ts,
            level=AlertLevel.CRITICAL,
            code=Reason.PROTECTIVE_ORDER_REJECTED,
            message=(
                f"the venue rejected protective {order.order_type} #{order.order_id} "
                f"({reason}); the {order.symbol} position {pos.qty} is unprotected: "
                + (f"retry {done + 1} of {limit}" if retry else "no retries left")
            ),
            account_id=order.account_id,
            order_id=order.order_id,
            symbol=order.symbol,
        )
    )
    if retry:
        submit(
            ctx,
            cmd.SubmitOrder(
                ts=ts,
                account_id=order.account_id,
                symbol=order.symbol,
                side=order.side,
                order_type=order.order_type,
                qty=order.qty - order.cum_qty,
                price=None if order.order_type in TRAILING_TYPES else order.price,
                trigger_price=order.trigger_price,
                trigger_type=order.trigger_type,
                trailing_offset=order.trailing_offset,
                trailing_offset_type=order.trailing_offset_type,
                limit_offset=order.limit_offset,
                reduce_only=order.reduce_only,
                position_side=(
                    None if order.position_side is PositionSide.BOTH else order.position_side
                ),
                tag=order.tag,
                market_reason=(
                    MarketOrderReason.STOP_MARKET_FALLBACK
                    if order.order_type in MARKET_TYPES
                    else None
                ),
                retry_of=order.order_id,
            ),
        )
        return
    flatten = lim.protective_failure_flatten if lim is not None else True
    trip_kill(
        ctx,
        Scope.ACCOUNT,
        order.account_id,
        "risk",
        f"{Reason.PROTECTIVE_RETRIES_EXHAUSTED}: protective order #{root} rejected "
        f"{done + 1} times",
        flatten,
        ts,
    )
