"""Venue execution reports: what venues say happened to orders.

Every report is checked against the order state table before it becomes an event; one that
cannot apply (unknown order, duplicate execution, overfill, illegal transition) is journaled as
``VenueReportIgnored`` with its reason. The event carries the status the order reaches.
"""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.pricing import reserve_unit
from atlas_oms.core.orders.transitions import (
    TRANSITIONS,
    IllegalTransition,
    Tx,
    execution_changed,
    next_status,
)
from atlas_oms.core.orders.triggers import check_triggers
from atlas_oms.core.risk.breaker import SYSTEM_ERRORS
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import OrderStatus, TriggerType
from atlas_oms.model.reasons import Reason

ZERO = Decimal(0)
_FILL_FULL = Tx.FILL_FULL
_FILL_PARTIAL = Tx.FILL_PARTIAL
_LAST = TriggerType.LAST


def _known(ctx: Context, r: rep.Report) -> Order | None:
    order = ctx.state.orders.get(r.order_id)
    if order is None:
        _ignore(ctx, r, Reason.UNKNOWN_ORDER, f"no order {r.order_id}")
    return order


def _ignore(ctx: Context, r: rep.Report, reason: Reason, message: str) -> None:
    ctx.emit(
        ev.VenueReportIgnored(
            seq=ctx.state.seq + 1,
            ts_event=r.ts,
            order_id=r.order_id,
            report=type(r).__name__,
            reason=reason,
            message=message,
        )
    )


def _target(ctx: Context, order: Order, tx: Tx, r: rep.Report) -> OrderStatus | None:
    """The status ``tx`` takes the order to; None (and the report ignored) if it is illegal."""
    try:
        return next_status(order, tx)
    except IllegalTransition as exc:
        _ignore(ctx, r, Reason.ILLEGAL_TRANSITION, str(exc))
        return None


def on_accepted(ctx: Context, r: rep.VenueAccepted, source: str | None = None) -> None:
    order = _known(ctx, r)
    if order is None:
        return
    if order.accepted and order.venue_order_id == r.venue_order_id and not order.triggered:
        return  # a duplicate acknowledgement changes nothing
    if order.triggered and order.venue_order_id == r.venue_order_id:
        return
    if _target(ctx, order, Tx.ACCEPT, r) is not None:
        ctx.emit(
            ev.OrderAccepted(
                seq=ctx.state.seq + 1,
                ts_event=r.ts,
                order_id=r.order_id,
                venue_order_id=r.venue_order_id,
                source=source,
            )
        )


def on_rejected(ctx: Context, r: rep.VenueRejected, source: str | None = None) -> None:
    order = _known(ctx, r)
    if (
        order is not None
        and order.status is not OrderStatus.REJECTED
        and _target(ctx, order, Tx.REJECT, r) is not None
    ):
        ctx.emit(
            ev.OrderRejected(
                seq=ctx.state.seq + 1,
                ts_event=r.ts,
                order_id=r.order_id,
                reason=r.reason,
                message=r.message,
                system_error=r.reason in SYSTEM_ERRORS,
                source=source,
            )
        )


def on_filled(ctx: Context, r: rep.VenueFilled, source: str | None = None) -> None:
    state = ctx.state
    order = state.orders.get(r.order_id)
    if order is None:
        _ignore(ctx, r, Reason.UNKNOWN_ORDER, f"no order {r.order_id}")
        return
    if r.exec_id in state.fills:
        _ignore(ctx, r, Reason.DUPLICATE_EXECUTION, f"execution {r.exec_id} was already applied")
        return
    qty, px = r.last_qty, r.last_px
    if not (qty.is_finite() and px.is_finite() and r.fee.is_finite() and qty > ZERO and px > ZERO):
        _ignore(ctx, r, Reason.INVALID_REPORT, f"fill {r.exec_id}: bad quantity, price or fee")
        return
    cum = order.cum_qty + qty
    if cum > order.qty:
        _ignore(
            ctx,
            r,
            Reason.OVERFILL,
            f"fill {r.exec_id} of {qty} would take order {order.order_id} past its "
            f"quantity {order.qty} (filled {order.cum_qty})",
        )
        return
    target = TRANSITIONS.get((order.status, _FILL_FULL if cum == order.qty else _FILL_PARTIAL))
    if target is None:
        _ignore(
            ctx,
            r,
            Reason.ILLEGAL_TRANSITION,
            f"order {order.order_id} cannot fill in {order.status}",
        )
        return
    assert isinstance(target, OrderStatus)  # no fill restores a working status
    ctx.emit(
        ev.OrderFilled(
            seq=state.seq + 1,
            ts_event=r.ts,
            order_id=order.order_id,
            account_id=order.account_id,
            symbol=order.symbol,
            side=order.side,
            exec_id=r.exec_id,
            trade_id=r.trade_id,
            last_qty=qty,
            last_px=px,
            liquidity_side=r.liquidity_side,
            fee=r.fee,
            fee_asset=r.fee_asset,
            venue_order_id=r.venue_order_id if order.venue_order_id is None else None,
            order_status=target,
            source=source,
        )
    )
    if state.triggers.active:
        check_triggers(ctx, order.symbol, _LAST, px, r.ts)


def on_canceled(ctx: Context, r: rep.VenueCanceled, source: str | None = None) -> None:
    order = _known(ctx, r)
    if order is None:
        return
    if not order.is_live:
        return  # the venue confirms what is already final here (e.g. our expiry cancel)
    if _target(ctx, order, Tx.CANCEL, r) is not None:
        ctx.emit(
            ev.OrderCanceled(
                seq=ctx.state.seq + 1,
                ts_event=r.ts,
                order_id=r.order_id,
                # A cancel the engine asked for (kill switch) keeps its own reason.
                reason=order.reason
                if order.status is OrderStatus.PENDING_CANCEL and order.reason
                else r.reason,
                source=source,
            )
        )


def on_cancel_rejected(ctx: Context, r: rep.VenueCancelRejected) -> None:
    _venue_refused(ctx, r, Tx.CANCEL_REJECT, ev.OrderCancelRejected, "the cancel")


def _venue_refused(
    ctx: Context,
    r: rep.VenueCancelRejected | rep.VenueModifyRejected,
    tx: Tx,
    event: type[ev.OrderCancelRejected] | type[ev.OrderModifyRejected],
    what: str,
) -> None:
    """The venue refused a cancel or a modify: the order goes back to what the table says."""
    order = _known(ctx, r)
    if order is None:
        return
    status = _target(ctx, order, tx, r)
    if status is not None:
        ctx.emit(
            event(
                seq=ctx.state.seq + 1,
                ts_event=r.ts,
                account_id=order.account_id,
                reason=r.reason,
                message=r.message or f"the venue refused {what}",
                order_id=order.order_id,
                client_order_id=order.client_order_id,
                order_status=status,
            )
        )


def on_modified(ctx: Context, r: rep.VenueModified, source: str | None = None) -> None:
    order = _known(ctx, r)
    if order is None:
        return
    qty = r.qty if r.qty > order.cum_qty else order.cum_qty
    status = _target(ctx, order, Tx.REPLACE if qty > order.cum_qty else Tx.REPLACE_COMPLETE, r)
    if status is None:
        return
    pending = order.pending
    price = r.price if r.price is not None else (pending[1] if pending else order.price)
    trigger = pending[2] if pending else order.trigger_price
    inst = ctx.state.instruments[order.symbol]
    _, unit = reserve_unit(ctx, order.account_id, inst, order.side, order.reduce_only, price)
    ctx.emit(
        ev.OrderReplaced(
            seq=ctx.state.seq + 1,
            ts_event=r.ts,
            order_id=order.order_id,
            qty=qty,
            price=price,
            trigger_price=trigger,
            reserve_unit=order.reserve_unit if unit is None else unit,
            protection_price=order.protection_price,
            order_status=status,
            # The venue keeps a smaller quantity at the same price where it was in its queue;
            # a new price or more quantity goes to the back (the built-in book does the same).
            loses_priority=price != order.price or qty - order.cum_qty > order.leaves_qty,
            source=source,
        )
    )


def on_modify_rejected(ctx: Context, r: rep.VenueModifyRejected) -> None:
    _venue_refused(ctx, r, Tx.MODIFY_REJECT, ev.OrderModifyRejected, "the modification")


def on_expired(ctx: Context, r: rep.VenueExpired, source: str | None = None) -> None:
    order = _known(ctx, r)
    if order is not None and order.is_live and _target(ctx, order, Tx.EXPIRE, r) is not None:
        ctx.emit(
            ev.OrderExpired(
                seq=ctx.state.seq + 1, ts_event=r.ts, order_id=r.order_id, source=source
            )
        )


def _after_change(
    ctx: Context, order: Order, tx: Tx, cum: Decimal, r: rep.Report
) -> OrderStatus | None:
    """The status a bust or correction leaving ``cum`` filled takes the order to (a FILLED order
    left below its quantity reopens); None (and the report ignored) if it is illegal."""
    try:
        return execution_changed(order, tx, cum)
    except IllegalTransition as exc:
        _ignore(ctx, r, Reason.ILLEGAL_TRANSITION, str(exc))
        return None


def on_fill_busted(ctx: Context, r: rep.VenueFillBusted) -> None:
    order = _known(ctx, r)
    if order is None:
        return
    fill = _live_execution(ctx, r, order, r.exec_id)
    if fill is None:
        return
    status = _after_change(ctx, order, Tx.BUST, order.cum_qty - fill.last_qty, r)
    if status is not None:
        ctx.emit(
            ev.OrderFillBusted(
                seq=ctx.state.seq + 1,
                ts_event=r.ts,
                order_id=order.order_id,
                exec_id=r.exec_id,
                order_status=status,
                takes_back_lot=True,
            )
        )


def on_fill_corrected(ctx: Context, r: rep.VenueFillCorrected) -> None:
    order = _known(ctx, r)
    if order is None:
        return
    fill = _live_execution(ctx, r, order, r.exec_id)
    if fill is None:
        return
    qty, px = r.last_qty, r.last_px
    if not (qty.is_finite() and px.is_finite() and r.fee.is_finite() and qty > ZERO and px > ZERO):
        _ignore(
            ctx, r, Reason.INVALID_REPORT, f"correction of {r.exec_id}: bad quantity, price or fee"
        )
        return
    cum = order.cum_qty - fill.last_qty + qty
    if cum > order.qty:
        _ignore(
            ctx,
            r,
            Reason.OVERFILL,
            f"correction of {r.exec_id} to {qty} would take order {order.order_id} past its "
            f"quantity {order.qty}",
        )
        return
    status = _after_change(ctx, order, Tx.CORRECT, cum, r)
    if status is None:
        return
    ctx.emit(
        ev.OrderFillCorrected(
            seq=ctx.state.seq + 1,
            ts_event=r.ts,
            order_id=order.order_id,
            exec_id=r.exec_id,
            last_qty=qty,
            last_px=px,
            fee=r.fee,
            order_status=status,
            takes_back_lot=True,
        )
    )


def _live_execution(
    ctx: Context, r: rep.Report, order: Order, exec_id: str
) -> ev.OrderFilled | None:
    """The order's execution ``exec_id`` if it stands (not busted); else ignore the report."""
    fill = ctx.state.fills.get(exec_id)
    if fill is None or fill.order_id != order.order_id or exec_id in ctx.state.busted:
        _ignore(ctx, r, Reason.UNKNOWN_ORDER, f"no live execution {exec_id} on order {r.order_id}")
        return None
    return fill
