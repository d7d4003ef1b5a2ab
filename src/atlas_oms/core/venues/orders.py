"""One venue order against Atlas's: book what is missing (acknowledgement, amend, fills by trade
id, inferred fills, cancel, expiry, rejection) through the ordinary report logic, and adopt an
order Atlas does not know as an external order.

Every execution is keyed ``f"{venue}:{trade_id}"``, the same from the stream, a query and a
reconciliation: a second copy of an execution is skipped and books nothing.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import plain, round_money
from atlas_oms.core.orders import reports
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import LiquiditySide, OrderStatus, OrderType, PositionSide
from atlas_oms.model.reasons import Reason
from atlas_oms.model.venue import ApplyOrderUpdate, FactSource, VenueFill, VenueOrder
from atlas_oms.model.venue import VenueOrderState as VS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from atlas_oms.core.orders.order import Order
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)
S = OrderStatus
#: Statuses in which the venue's new quantity or price is booked as a replace.
_REPLACEABLE = frozenset({S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED, S.PENDING_REPLACE})
_WORKING_AT_VENUE = (VS.NEW, VS.PARTIALLY_FILLED, VS.FILLED)
#: Difference kind of each corrective event.
_KINDS: dict[type, str] = {
    ev.OrderAccepted: "ORDER_ACCEPTED",
    ev.OrderFilled: "ORDER_FILL",
    ev.OrderCanceled: "ORDER_CANCELED",
    ev.OrderExpired: "ORDER_EXPIRED",
    ev.OrderRejected: "ORDER_REJECTED",
    ev.OrderReplaced: "ORDER_REPLACED",
    ev.ExternalOrderAdopted: "EXTERNAL_ORDER",
    ev.VenueReportIgnored: "IGNORED",
}

Diffs = list[ev.VenueDifference] | None


def exec_id_of(venue: str, trade_id: str) -> str:
    """The execution id of a venue trade: the deduplication key across every source."""
    return f"{venue}:{trade_id}"


def apply_order_update(ctx: Context, r: ApplyOrderUpdate) -> None:
    """Handle ``ApplyOrderUpdate``: one venue order update (stream, command answer, query)."""
    u = r.update
    sync_order(ctx, u.order, (u.fill,) if u.fill is not None else (), u.source, r.ts, None, False)


def find_order(state: State, vo: VenueOrder | VenueFill, venue: str) -> Order | None:
    """Atlas's order for a venue order: one it adopted, or its own by id (same account and
    venue); None when Atlas does not know it."""
    adopted = state.venues.adopted.get((venue, vo.account_id, vo.venue_order_id))
    if adopted is not None:
        return state.orders.get(adopted)
    if vo.order_id is not None:
        order = state.orders.get(vo.order_id)
        if order is not None and order.account_id == vo.account_id and order.venue == venue:
            return order
    return None


def sync_order(
    ctx: Context,
    vo: VenueOrder,
    fills: Sequence[VenueFill],
    source: FactSource,
    ts: int,
    diffs: Diffs,
    infer: bool,
) -> None:
    """Bring Atlas's order to the venue's view ``vo`` with its executions ``fills``; with
    ``infer`` (a reconciliation), fill what the venue's cumulative quantity says the fills do not
    cover at the price that makes the average match the venue's."""
    state = ctx.state
    src = source.value
    order = find_order(state, vo, vo.venue)
    if order is None:
        qty = max(vo.qty, vo.cum_qty, sum((f.qty for f in fills), ZERO))
        order = adopt(ctx, vo, qty, src, ts, diffs)
        if order is None:
            return
    oid = order.order_id
    # The acknowledgement (a fill alone also acknowledges: its venue order id is kept).
    if (
        order.is_live
        and vo.state in _WORKING_AT_VENUE
        and order.venue_order_id != vo.venue_order_id
    ):
        mark = len(ctx.out)
        reports.on_accepted(
            ctx,
            rep.VenueAccepted(order_id=oid, ts=ts, venue_order_id=vo.venue_order_id),
            source=src,
        )
        _note(ctx, diffs, mark, order, vo, order.status, vo.state, "booked")
    # An amend at the venue (its quantity or price changed).
    if (
        order.status in _REPLACEABLE
        and vo.state is not VS.REJECTED
        and vo.qty > ZERO
        and (vo.qty != order.qty or (vo.price and order.price and vo.price != order.price))
    ):
        mark = len(ctx.out)
        atlas = f"{plain(order.qty)} @ {order.price}"
        reports.on_modified(
            ctx,
            rep.VenueModified(
                order_id=oid,
                ts=ts,
                qty=vo.qty,
                leaves_qty=vo.qty - vo.cum_qty,
                price=vo.price if vo.price else order.price,
            ),
            source=src,
        )
        _note(ctx, diffs, mark, order, vo, atlas, f"{plain(vo.qty)} @ {vo.price}", "booked")
    book_fills(ctx, order, vo.venue, fills, src, ts, diffs)
    if infer and vo.cum_qty > order.cum_qty:
        infer_fill(ctx, order, vo, ts, diffs)
    # The end of the order at the venue.
    if order.is_live:
        mark = len(ctx.out)
        before = order.status
        if vo.state is VS.CANCELED or (vo.state is VS.REJECTED and order.cum_qty > ZERO):
            reason = vo.reason or "CANCELED"
            reports.on_canceled(
                ctx, rep.VenueCanceled(order_id=oid, ts=ts, reason=reason), source=src
            )
        elif vo.state is VS.EXPIRED:
            reports.on_expired(ctx, rep.VenueExpired(order_id=oid, ts=ts), source=src)
        elif vo.state is VS.REJECTED:
            message = vo.reason or vo.venue_status or "the venue rejected the order"
            reports.on_rejected(
                ctx,
                rep.VenueRejected(
                    order_id=oid, ts=ts, reason=Reason.VENUE_REJECTED, message=message
                ),
                source=src,
            )
        _note(ctx, diffs, mark, order, vo, before, vo.state, "booked")
    elif diffs is not None and vo.state.is_open:
        diffs.append(_difference("STATUS_MISMATCH", "none", order, vo, order.status, vo.state, ()))


def book_fills(
    ctx: Context,
    order: Order,
    venue: str,
    fills: Sequence[VenueFill],
    src: str,
    ts: int,
    diffs: Diffs,
) -> None:
    """Book the executions Atlas has not booked yet (by trade id); skip the copies."""
    booked = ctx.state.fills
    for f in fills:
        exec_id = exec_id_of(venue, f.trade_id)
        other = booked.get(exec_id)
        if other is not None and other.order_id != order.order_id:
            # A self-trade: both sides of one trade are this account's orders and carry the
            # same trade id; the second side is keyed by its venue order id too.
            exec_id = f"{exec_id}:{f.venue_order_id}"
        if exec_id in booked:
            continue  # a copy (stream and snapshot overlap, a replay): nothing more to book
        mark = len(ctx.out)
        reports.on_filled(
            ctx,
            rep.VenueFilled(
                order_id=order.order_id,
                ts=ts,
                exec_id=exec_id,
                trade_id=f.trade_id,
                last_qty=f.qty,
                last_px=f.px,
                liquidity_side=f.liquidity_side,
                fee=f.fee,
                fee_asset=f.fee_asset,
                venue_order_id=f.venue_order_id,
            ),
            source=src,
        )
        if diffs is not None:
            for e in ctx.out[mark:]:
                diffs.append(
                    ev.VenueDifference(
                        kind=_KINDS.get(type(e), type(e).__name__),
                        action="booked" if isinstance(e, ev.OrderFilled) else "ignored",
                        order_id=order.order_id,
                        client_order_id=f.client_order_id,
                        venue_order_id=f.venue_order_id,
                        symbol=f.symbol,
                        atlas="missing",
                        venue=f"trade {f.trade_id}: {plain(f.qty)} @ {plain(f.px)}",
                        seqs=(e.seq,),
                    )
                )


def infer_fill(ctx: Context, order: Order, vo: VenueOrder, ts: int, diffs: Diffs) -> None:
    """The venue says more traded than the fills Atlas has (its fill history is shorter than the
    order's age): book the rest as one execution with a deterministic trade id, at the price
    that makes Atlas's average price the venue's."""
    state = ctx.state
    missing = vo.cum_qty - order.cum_qty
    px: Decimal | None = None
    if vo.avg_px:
        px = round_money((vo.avg_px * vo.cum_qty - order.cum_notional) / missing, ROUND_HALF_EVEN)
    if px is None or not px.is_finite() or px <= ZERO:
        px = vo.avg_px or vo.price or state.reference_price(order.symbol)
    trade_id = f"recon:{vo.venue_order_id}:{plain(vo.cum_qty)}"
    if px is None:
        if diffs is not None:
            diffs.append(
                _difference(
                    "INFERRED_FILL", "none: no price", order, vo, order.cum_qty, vo.cum_qty, ()
                )
            )
        return
    if exec_id_of(vo.venue, trade_id) in state.fills:
        return
    inst = state.instruments[order.symbol]
    mark = len(ctx.out)
    atlas = order.cum_qty
    reports.on_filled(
        ctx,
        rep.VenueFilled(
            order_id=order.order_id,
            ts=ts,
            exec_id=exec_id_of(vo.venue, trade_id),
            trade_id=trade_id,
            last_qty=missing,
            last_px=px,
            liquidity_side=LiquiditySide.TAKER,
            fee=ZERO,
            fee_asset=inst.settle_asset,
            venue_order_id=vo.venue_order_id,
        ),
        source=FactSource.RECONCILIATION.value,
    )
    if diffs is not None:
        seqs = tuple(e.seq for e in ctx.out[mark:])
        action = (
            "booked" if any(isinstance(e, ev.OrderFilled) for e in ctx.out[mark:]) else "ignored"
        )
        diffs.append(_difference("INFERRED_FILL", action, order, vo, atlas, vo.cum_qty, seqs))


def adopt(
    ctx: Context, vo: VenueOrder, qty: Decimal, src: str, ts: int, diffs: Diffs
) -> Order | None:
    """Adopt a venue order Atlas does not know as an external order of its account."""
    state = ctx.state
    inst = state.instruments.get(vo.symbol)
    if inst is None or inst.venue != vo.venue or qty <= ZERO:
        ctx.emit(
            ev.VenueReportIgnored(
                seq=state.seq + 1,
                ts_event=ts,
                order_id=vo.order_id or 0,
                report="ExternalOrder",
                reason=Reason.UNKNOWN_INSTRUMENT if inst is None else Reason.INVALID_REPORT,
                message=f"{vo.venue} order {vo.venue_order_id} of account {vo.account_id}: "
                + (
                    f"no instrument {vo.symbol} on {vo.venue}"
                    if inst is None or inst.venue != vo.venue
                    else "no quantity"
                )
                + ": it cannot be adopted",
            )
        )
        if diffs is not None:
            diffs.append(
                _difference(
                    "EXTERNAL_ORDER", "ignored", None, vo, "unknown", vo.state, (state.seq,)
                )
            )
        return None
    try:
        otype = OrderType(vo.order_type.upper())
    except ValueError:
        otype = OrderType.LIMIT if vo.price else OrderType.MARKET
    order_id = state.next_order_id
    ctx.emit(
        ev.ExternalOrderAdopted(
            seq=state.seq + 1,
            ts_event=ts,
            order_id=order_id,
            account_id=vo.account_id,
            symbol=vo.symbol,
            venue=vo.venue,
            side=vo.side,
            order_type=otype,
            qty=qty,
            price=vo.price or None,
            venue_order_id=vo.venue_order_id,
            client_order_id=vo.client_order_id,
            tif=vo.tif,
            reduce_only=vo.reduce_only,
            post_only=vo.post_only,
            position_side=vo.position_side or PositionSide.BOTH,
            source=src,
        )
    )
    order = state.orders[order_id]
    if diffs is not None:
        diffs.append(
            _difference(
                "EXTERNAL_ORDER",
                "adopted",
                order,
                vo,
                "unknown",
                f"{vo.state} {plain(vo.cum_qty)}/{plain(vo.qty)}",
                (state.seq,),
            )
        )
    return order


def _note(
    ctx: Context,
    diffs: Diffs,
    mark: int,
    order: Order,
    vo: VenueOrder,
    atlas: object,
    venue: object,
    action: str,
) -> None:
    """Record, for a reconciliation's report, each event emitted since ``mark``."""
    if diffs is None:
        return
    for e in ctx.out[mark:]:
        act = "ignored" if isinstance(e, ev.VenueReportIgnored) else action
        diffs.append(
            _difference(
                _KINDS.get(type(e), type(e).__name__), act, order, vo, atlas, venue, (e.seq,)
            )
        )


def _difference(
    kind: str,
    action: str,
    order: Order | None,
    vo: VenueOrder,
    atlas: object,
    venue: object,
    seqs: tuple[int, ...],
) -> ev.VenueDifference:
    return ev.VenueDifference(
        kind=kind,
        action=action,
        order_id=order.order_id if order is not None else vo.order_id,
        client_order_id=vo.client_order_id,
        venue_order_id=vo.venue_order_id,
        symbol=vo.symbol,
        atlas=_text(atlas),
        venue=_text(venue),
        seqs=seqs,
    )


def _text(value: object) -> str:
    return plain(value) if isinstance(value, Decimal) else str(value)
