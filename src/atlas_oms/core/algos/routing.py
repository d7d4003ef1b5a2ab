"""Routed slices: a parent whose venue is SMART asks the router (``core/sor/route.py``) where
each slice goes, and handles the unfilled rest of its routed children.

The core holds no market data: a slice is routed from ``SubmitAlgo.book`` when the command
carries one (the first route only), else the engine journals ``AlgoRouteRequested`` and puts a
:class:`~atlas_oms.model.requests.NeedRouteBook` in the outbox; the runtime answers with
``RouteAlgo`` (the Node from its ``route_books`` provider). The decision is journaled whole
(``AlgoRouted``: the best-execution rationale), then each allocation becomes a child: a GTC limit
at the allocation's limit price (the worst level the router walked), on the allocation's venue
instrument and account.

**Remainder** (``SubmitAlgo.remainder``), when a routed child ends unfilled (rejected, canceled,
expired by its venue) or has rested unfilled ``reroute_after_ms`` (it is then canceled first):
``STAY`` leaves it (a resting child rests; an ended one is gone: a SMART parent with nothing left
working ends EXPIRED); ``REROUTE`` routes the parent's remainder again from a fresh book (at most
:data:`MAX_REROUTES` times), leaving out the venue accounts where a child of this parent was
rejected by the venue (``VENUE_REJECTED`` in the decision); ``CANCEL`` cancels every child and
ends the parent CANCELED.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.algos.children import cancel_children, lot_down, place_child
from atlas_oms.core.algos.state import MS, AlgoState, filled, working
from atlas_oms.core.context import Context
from atlas_oms.core.orders.amend import cancel_for
from atlas_oms.core.refusals import reject_command
from atlas_oms.core.sor.route import decide_route
from atlas_oms.model import events as ev
from atlas_oms.model import events_algos as ea
from atlas_oms.model.algos import AlgoKind, AlgoStatus, Remainder, RouteAlgo
from atlas_oms.model.enums import OrderStatus, TimeInForce
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import NeedRouteBook
from atlas_oms.model.route_book import RouteBook, unified_symbol

#: Re-routes of one parent before it gives up (EXPIRED, ``REROUTE_LIMIT``).
MAX_REROUTES = 20
_SMART = AlgoKind.SMART.value


def _rest(ctx: Context, a: AlgoState) -> Decimal:
    done, _ = filled(ctx.state, a)
    return a.qty - done - working(ctx.state, a)


def route_rest(
    ctx: Context,
    a: AlgoState,
    slice_no: int,
    ts: int,
    book: RouteBook | None,
    *,
    qty: Decimal | None = None,
) -> None:
    """Route ``qty`` (default: what is neither filled nor working) now from ``book``, or ask
    the runtime for a book."""
    state = ctx.state
    lot = state.instruments[a.symbol].lot_size
    qty = lot_down(_rest(ctx, a) if qty is None else qty, lot)
    if qty <= 0:
        return
    if book is not None:
        route_with(ctx, a, slice_no, qty, book, ts)
        return
    request_book(ctx, a, slice_no, qty, ts, "SMART")


def request_book(
    ctx: Context, a: AlgoState, slice_no: int, qty: Decimal, ts: int, venue: str
) -> None:
    """Journal ``AlgoRouteRequested`` and ask the runtime for a book (``NeedRouteBook``):
    ``venue`` SMART = every venue of the unified symbol (a routed slice); a venue's name = that
    venue's book only (a slice on an external venue, priced from it: ``algo.py``)."""
    ctx.emit(
        ea.AlgoRouteRequested(
            seq=ctx.state.seq + 1, ts_event=ts, algo_id=a.algo_id, slice_no=slice_no, qty=qty
        )
    )
    ctx.outbox.append(
        NeedRouteBook(
            order_id=0,
            account_id=a.account_id,
            symbol=unified_symbol(a.symbol),
            venue=venue,
            ts=ts,
            algo_id=a.algo_id,
            side=a.side,
            qty=qty,
            strategy=a.strategy,
        )
    )


def route_with(
    ctx: Context, a: AlgoState, slice_no: int, qty: Decimal, book: RouteBook, ts: int
) -> None:
    """Decide, journal the decision, place its children."""
    state = ctx.state
    avoid = frozenset(
        f"{o.venue}/{o.account_id}"
        for o in (state.orders.get(i) for i, _ in a.children)
        if o is not None and o.status is OrderStatus.REJECTED
    )
    decision = decide_route(
        state,
        account_id=a.account_id,
        side=a.side,
        qty=qty,
        limit_price=a.limit_price,
        book=book,
        depth_margin_pct=a.depth_margin_pct,
        avoid=avoid,
    )
    ctx.emit(
        ea.AlgoRouted(
            seq=state.seq + 1, ts_event=ts, algo_id=a.algo_id, slice_no=slice_no, decision=decision
        )
    )
    for alloc in decision.allocations:
        place_child(
            ctx,
            a,
            slice_no,
            alloc.qty,
            alloc.limit_price,
            ts,
            symbol=alloc.symbol,
            account_id=alloc.account_id,
            tif=TimeInForce.GTC,
        )
    if a.kind == _SMART and a.is_open and not working(state, a):
        done, _ = filled(state, a)
        if done < a.qty:
            _end(ctx, a, ts, AlgoStatus.EXPIRED.value, "NO_ROUTE")


def route_algo(ctx: Context, c: RouteAlgo) -> None:
    """Handle ``RouteAlgo``: route the waiting slice (a book nobody waits for is refused)."""
    a = ctx.state.algos.get(c.algo_id)
    if a is None or a.route_pending is None or a.status != AlgoStatus.WORKING.value:
        reject_command(
            ctx,
            c,
            Reason.UNKNOWN_ORDER,
            f"algo order {c.algo_id} waits for no route",
            a.account_id if a is not None else None,
        )
        return
    slice_no, qty = a.route_pending
    lot = ctx.state.instruments[a.symbol].lot_size
    qty = lot_down(min(qty, _rest(ctx, a)), lot)
    if qty <= 0:
        reject_command(
            ctx, c, Reason.NOTHING_TO_MODIFY, f"algo order {c.algo_id} has nothing left to route"
        )
        return
    route_with(ctx, a, slice_no, qty, c.book, c.ts)


def _end(ctx: Context, a: AlgoState, ts: int, status: str, reason: str) -> None:
    done, _ = filled(ctx.state, a)
    ctx.emit(
        ea.AlgoCompleted(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            algo_id=a.algo_id,
            status=status,
            filled_qty=done,
            reason=reason,
        )
    )


_REASONS = {
    ev.OrderRejected: "REJECTED",
    ev.OrderCanceled: "CANCELED",
    ev.OrderExpired: "EXPIRED",
}


def child_ended(ctx: Context, a: AlgoState, e: Any) -> None:
    """A routed child ended with ``e`` (rejected, canceled, expired): the remainder policy."""
    state = ctx.state
    order = state.orders.get(e.order_id)
    if order is None:
        return
    unfilled = order.qty - order.cum_qty
    if unfilled <= 0:
        return
    ts = e.ts_event
    policy = a.remainder
    reason = _REASONS.get(e.__class__, "ENDED")
    if policy == Remainder.STAY.value:
        if a.kind == _SMART and not working(state, a) and a.route_pending is None:
            _end(ctx, a, ts, AlgoStatus.EXPIRED.value, f"CHILD_{reason}")
        return
    ctx.emit(
        ea.AlgoRerouted(
            seq=state.seq + 1,
            ts_event=ts,
            algo_id=a.algo_id,
            order_id=order.order_id,
            qty=unfilled,
            policy=policy,
            reason=reason,
        )
    )
    if policy == Remainder.CANCEL.value:
        cancel_children(ctx, a, ts)
        _end(ctx, a, ts, AlgoStatus.CANCELED.value, "REMAINDER_CANCELED")
        return
    if a.reroutes > MAX_REROUTES:
        cancel_children(ctx, a, ts)
        _end(ctx, a, ts, AlgoStatus.EXPIRED.value, "REROUTE_LIMIT")
        return
    slice_no = next((k for oid, k in a.children if oid == order.order_id), 0)
    if a.kind == _SMART:
        route_rest(ctx, a, slice_no, ts, None)
    else:  # a routed TWAP/VWAP slice: its own rest again (the schedule catches up the others)
        route_rest(ctx, a, slice_no, ts, None, qty=min(unfilled, _rest(ctx, a)))


def stale_children(ctx: Context, a: AlgoState, ts: int) -> None:
    """Cancel routed children resting unfilled ``reroute_after_ms`` (not under STAY): their end
    then goes through :func:`child_ended`."""
    if a.remainder == Remainder.STAY.value:
        return
    limit = a.reroute_after_ms * MS
    for order_id, _ in list(a.children):
        o = ctx.state.orders.get(order_id)
        if (
            o is not None
            and o.is_live
            and o.status is not OrderStatus.PENDING_CANCEL
            and ts >= o.ts_init + limit
        ):
            cancel_for(ctx, o, ts, None)
