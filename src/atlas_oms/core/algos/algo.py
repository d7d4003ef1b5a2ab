"""Parent orders: the handlers (``SubmitAlgo``, ``PauseAlgo``, ``ResumeAlgo``, ``CancelAlgo``,
``RouteAlgo``) and the engine hooks (:func:`after_message` on every message while a parent is
open; :func:`next_algo_deadline` for the live clock).

* **TWAP / VWAP**: the schedule is planned at acceptance (``AlgoSlicesPlanned``,
  ``schedule.py``). At a tick at or after a slice's due time the *latest* due slice starts
  (slices missed while paused, or between ticks, roll into it): it sends its cumulative target
  minus what filled and what still works (catch-up: an unfilled slice rolls into the next; the
  last slice's target is everything). At ``end_ts`` live children are canceled and the parent
  ends DONE (all filled) or EXPIRED.
* **Participation cap** (``participation_pct``, on the built-in exchange): a slice sends at
  most ``volume x pct / 100 - filled - working``, ``volume`` being what traded on the symbol
  since the parent's acceptance (recorded in ``AlgoSliceStarted.market_volume``).
* **ICEBERG**: one child of the display size at the limit price (GTC); when it fills completely
  the next one is placed (``display_variance_pct`` seeded). A child the venue or a user ends
  otherwise ends the parent (EXPIRED, ``CHILD_ENDED``). **Native** (the default where the
  instrument takes native icebergs, ``AlgoAccepted.native``): ONE GTC child of everything left
  with ``display_qty`` (the venue refills it; ``display_variance_pct`` does not apply).
* **SMART** and any parent whose ``venue`` is SMART: each slice is routed (``routing.py``).
* **Pause** cancels the live children and stops slicing; **resume** carries on at once (a due
  slice starts, an iceberg refills, a routed remainder is routed again). **Cancel** cancels every
  live child; the parent is CANCELED with what filled.
* The parent is DONE as soon as its children filled its quantity.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.algos import routing
from atlas_oms.core.algos.children import (
    algo_tag,
    arrival_price,
    book_quote,
    cancel_children,
    lot_down,
    parent_refusal,
    place_child,
    slice_price,
)
from atlas_oms.core.algos.report import sim_volume
from atlas_oms.core.algos.schedule import display_size, plan_slices
from atlas_oms.core.algos.state import MS, AlgoState, filled, working
from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, is_amount
from atlas_oms.core.orders.validation import check_display
from atlas_oms.core.refusals import reject_command
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model import events_algos as ea
from atlas_oms.model.algos import (
    SMART,
    AlgoKind,
    AlgoStatus,
    CancelAlgo,
    PauseAlgo,
    Remainder,
    ResumeAlgo,
    RouteAlgo,
    SubmitAlgo,
)
from atlas_oms.model.enums import OrderType, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.route_book import RouteBook

HUNDRED = Decimal(100)
_SCHEDULED = (AlgoKind.TWAP.value, AlgoKind.VWAP.value)
_WORKING = AlgoStatus.WORKING.value
_ENDED = (ev.OrderCanceled, ev.OrderRejected, ev.OrderExpired)


def _refuse(ctx: Context, c: SubmitAlgo, algo_id: str, reason: str, message: str) -> None:
    ctx.emit(
        ea.AlgoRefused(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            algo_id=algo_id,
            account_id=c.account_id,
            symbol=c.symbol,
            reason=reason,
            message=message,
        )
    )


def _shape_refusal(c: SubmitAlgo, start: int, end: int) -> str | None:
    """Why the parameters cannot work (None: they can)."""
    kind = c.kind
    if not (is_amount(c.qty) and c.qty > 0):
        return "the quantity must be a positive number"
    if c.limit_price is not None and not (is_amount(c.limit_price) and c.limit_price > 0):
        return "the limit price must be a positive number"
    if not (is_amount(c.randomize_pct) and 0 <= c.randomize_pct <= 100):
        return "randomize_pct must be between 0 and 100"
    if not (is_amount(c.slice_aggression_bps) and c.slice_aggression_bps >= 0):
        return "slice_aggression_bps must not be negative"
    if c.reroute_after_ms < 0:
        return "reroute_after_ms must not be negative"
    if kind in _SCHEDULED:
        if end <= start:
            return f"{kind} needs an end time after its start"
        n = len(c.weights) if c.weights else c.slices
        if n < 1 or end - start < n:
            return "at least one slice, each at least 1 ns long"
        if c.weights and not all(is_amount(w) and w >= 0 for w in c.weights):
            return "weights must be non-negative numbers"
        if c.weights and sum(c.weights, ZERO) <= 0:
            return "the weights must not all be zero"
    if kind == AlgoKind.ICEBERG.value:
        if c.limit_price is None:
            return "an iceberg needs a limit price"
        if c.display_qty is None or not (is_amount(c.display_qty) and c.display_qty > 0):
            return "an iceberg needs a positive display quantity"
        if not (is_amount(c.display_variance_pct) and 0 <= c.display_variance_pct < 100):
            return "display_variance_pct must be at least 0 and below 100"
    return None


def submit_algo(ctx: Context, c: SubmitAlgo) -> None:
    """Handle ``SubmitAlgo``: accept the parent (checked as a whole) and start it, or refuse it
    (``AlgoRefused``). A repeated ``algo_id`` is nothing (idempotent)."""
    state = ctx.state
    algo_id = c.algo_id or f"A{state.seq + 1}"
    if algo_id in state.algos:
        return
    inst = state.instruments.get(c.symbol)
    if c.account_id not in state.accounts:
        _refuse(ctx, c, algo_id, Reason.UNKNOWN_ACCOUNT, f"account {c.account_id} does not exist")
        return
    if inst is None:
        _refuse(ctx, c, algo_id, Reason.UNKNOWN_INSTRUMENT, f"{c.symbol} is not an instrument")
        return
    try:
        kind = AlgoKind(c.kind).value
        remainder = Remainder(c.remainder).value
        side = Side(c.side)
    except ValueError as exc:
        _refuse(ctx, c, algo_id, Reason.INVALID_FIELD, str(exc))
        return
    if c.venue not in ("", SMART, inst.venue):
        _refuse(
            ctx,
            c,
            algo_id,
            Reason.INVALID_FIELD,
            f"venue must be {inst.venue} (the symbol's), SMART or empty, not {c.venue}",
        )
        return
    start = c.start_ts if c.start_ts is not None else c.ts
    end = c.end_ts or 0
    problem = _shape_refusal(c, start, end)
    if problem is not None:
        _refuse(ctx, c, algo_id, Reason.INVALID_FIELD, problem)
        return
    if c.qty % inst.lot_size:
        _refuse(
            ctx,
            c,
            algo_id,
            Reason.QUANTITY_NOT_MULTIPLE_OF_LOT,
            f"quantity {c.qty} is not a multiple of the lot size {inst.lot_size}",
        )
        return
    arrival = arrival_price(ctx, c.account_id, c.symbol)
    worst = c.limit_price if c.limit_price is not None else arrival
    whole = cmd.SubmitOrder(
        ts=c.ts,
        account_id=c.account_id,
        symbol=c.symbol,
        side=side,
        order_type=OrderType.LIMIT,
        qty=c.qty,
        price=c.limit_price,
        tag=algo_tag(algo_id),
    )
    refusal = parent_refusal(ctx, whole, inst, worst)
    if refusal is not None:
        _refuse(ctx, c, algo_id, refusal[0], refusal[1])
        return
    venue = SMART if (c.venue == SMART or kind == AlgoKind.SMART.value) else inst.venue
    ctx.emit(
        ea.AlgoAccepted(
            seq=state.seq + 1,
            ts_event=c.ts,
            algo_id=algo_id,
            account_id=c.account_id,
            symbol=c.symbol,
            side=side,
            qty=c.qty,
            kind=kind,
            venue=venue,
            limit_price=c.limit_price,
            strategy=c.strategy,
            remainder=remainder,
            start_ts=start,
            end_ts=end,
            randomize_pct=c.randomize_pct,
            seed=c.seed,
            slice_aggression_bps=c.slice_aggression_bps,
            participation_pct=c.participation_pct,
            display_qty=c.display_qty,
            display_variance_pct=c.display_variance_pct,
            native=kind == AlgoKind.ICEBERG.value and _native(c, inst),
            depth_margin_pct=c.depth_margin_pct,
            reroute_after_ms=c.reroute_after_ms,
            arrival_price=arrival,
        )
    )
    a = state.algos[algo_id]
    if kind in _SCHEDULED:
        ctx.emit(
            ea.AlgoSlicesPlanned(
                seq=state.seq + 1,
                ts_event=c.ts,
                algo_id=algo_id,
                slices=plan_slices(
                    c.qty,
                    start,
                    end,
                    inst.lot_size,
                    slices=c.slices,
                    weights=c.weights,
                    randomize_pct=c.randomize_pct,
                    seed=c.seed,
                ),
            )
        )
        _run_schedule(ctx, a, c.ts)
    elif kind == AlgoKind.ICEBERG.value:
        _refill(ctx, a, c.ts)
    else:
        routing.route_rest(ctx, a, 0, c.ts, c.book)


# ---------------------------------------------------------------------------- the schedule
def _run_schedule(ctx: Context, a: AlgoState, ts: int) -> None:
    """Start the latest slice due at ``ts`` (earlier missed ones roll into it)."""
    schedule = a.schedule
    k = a.next_slice
    due = None
    while k < len(schedule) and schedule[k][0] <= ts:
        due = k
        k += 1
    if due is not None:
        _start_slice(ctx, a, due, ts)


def _start_slice(
    ctx: Context, a: AlgoState, k: int, ts: int, book: RouteBook | None = None
) -> None:
    """Start slice ``k``. On an external venue the slice first asks the runtime for that
    venue's book (``AlgoRouteRequested`` + ``NeedRouteBook`` with the venue's name) and starts
    when the book comes back (:func:`route_algo` -> here with ``book``): priced from its best
    opposite level (none there: the last price)."""
    state = ctx.state
    inst = state.instruments[a.symbol]
    target = a.qty if k == len(a.schedule) - 1 else a.cumulative(k)
    done, _ = filled(state, a)
    qty = lot_down(target - done - working(state, a), inst.lot_size)
    routed = a.venue == SMART
    if book is None and not routed and inst.venue != "sim" and qty > 0:
        routing.request_book(ctx, a, k, qty, ts, inst.venue)
        return
    volume = None
    if a.participation_pct is not None and inst.venue == "sim" and not routed:
        volume = sim_volume(state, a, ts)
        allowed = volume * a.participation_pct / HUNDRED - done - working(state, a)
        qty = min(qty, lot_down(allowed, inst.lot_size))
    seen = book_quote(book, a) if book is not None else None
    price, seen = (None, None) if routed else slice_price(ctx, a, inst, seen)
    ctx.emit(
        ea.AlgoSliceStarted(
            seq=state.seq + 1,
            ts_event=ts,
            algo_id=a.algo_id,
            slice_no=k,
            qty=qty,
            target=target,
            price=price,
            quote=seen,
            market_volume=volume,
        )
    )
    if qty <= 0:
        return
    if routed:
        routing.route_rest(ctx, a, k, ts, None, qty=qty)
    else:
        place_child(ctx, a, k, qty, price, ts)


# ---------------------------------------------------------------------------- iceberg
def _native(c: SubmitAlgo, inst: Instrument) -> bool:
    """Whether the iceberg is the venue's own (one child with ``display_qty``): asked for or
    by default (``native`` None), the instrument takes native icebergs, and the whole
    quantity with that display passes the venue's iceberg checks (else: emulated)."""
    if c.native is False or not inst.native_iceberg or c.display_qty is None:
        return False
    probe = cmd.SubmitOrder(
        ts=c.ts,
        account_id=c.account_id,
        symbol=c.symbol,
        side=Side(c.side),
        order_type=OrderType.LIMIT,
        qty=c.qty,
        price=c.limit_price,
        tif=TimeInForce.GTC,
        display_qty=c.display_qty,
    )
    return check_display(probe, inst) is None


def _refill(ctx: Context, a: AlgoState, ts: int) -> None:
    state = ctx.state
    inst = state.instruments[a.symbol]
    done, _ = filled(state, a)
    left = a.qty - done - working(state, a)
    if left <= 0 or a.display_qty is None:
        return
    if a.native:  # one child of everything left, showing the display quantity (no variance)
        shown = a.display_qty if a.display_qty < left else None
        place_child(
            ctx, a, a.refills, left, a.limit_price, ts, tif=TimeInForce.GTC, display_qty=shown
        )
        return
    size = display_size(
        a.display_qty, a.display_variance_pct, a.seed, a.refills, left, inst.lot_size
    )
    place_child(ctx, a, a.refills, size, a.limit_price, ts, tif=TimeInForce.GTC, display=True)


# ---------------------------------------------------------------------------- commands
def route_algo(ctx: Context, c: RouteAlgo) -> None:
    """Handle ``RouteAlgo``: a slice on an external venue waiting for its venue's book starts
    priced from it; anything else is a routed slice (``routing.route_algo``)."""
    a = ctx.state.algos.get(c.algo_id)
    if (
        a is not None
        and a.venue != SMART
        and a.route_pending is not None
        and a.status == _WORKING
        and a.kind in _SCHEDULED
    ):
        _start_slice(ctx, a, a.route_pending[0], c.ts, c.book)
        return
    routing.route_algo(ctx, c)


def _open_algo(ctx: Context, c: Any) -> AlgoState | None:
    a = ctx.state.algos.get(c.algo_id)
    if a is None:
        reject_command(ctx, c, Reason.UNKNOWN_ORDER, f"no algo order {c.algo_id}")
        return None
    if not a.is_open:
        reject_command(
            ctx,
            c,
            Reason.ORDER_NOT_LIVE,
            f"algo order {c.algo_id} is {a.status.lower()}",
            a.account_id,
        )
        return None
    return a


def pause_algo(ctx: Context, c: PauseAlgo) -> None:
    """Handle ``PauseAlgo``: no new slices or refills; live children canceled. Pausing a paused
    parent is nothing."""
    a = _open_algo(ctx, c)
    if a is None or a.status != _WORKING:
        return
    ctx.emit(ea.AlgoPaused(seq=ctx.state.seq + 1, ts_event=c.ts, algo_id=a.algo_id))
    cancel_children(ctx, a, c.ts)


def resume_algo(ctx: Context, c: ResumeAlgo) -> None:
    """Handle ``ResumeAlgo``: carry on at once. Resuming a working parent is nothing."""
    a = _open_algo(ctx, c)
    if a is None or a.status == _WORKING:
        return
    ctx.emit(ea.AlgoResumed(seq=ctx.state.seq + 1, ts_event=c.ts, algo_id=a.algo_id))
    _carry_on(ctx, a, c.ts)


def _carry_on(ctx: Context, a: AlgoState, ts: int) -> None:
    if a.kind in _SCHEDULED:
        if a.end_ts and ts >= a.end_ts:
            _finish(ctx, a, ts, "WINDOW_ENDED")
            return
        k = a.next_slice
        if k < len(a.schedule) and a.schedule[k][0] <= ts:
            _run_schedule(ctx, a, ts)
        elif k > 0:  # the current slice's cancelled rest goes again now
            _start_slice(ctx, a, k - 1, ts)
    elif a.kind == AlgoKind.ICEBERG.value:
        _refill(ctx, a, ts)
    else:
        routing.route_rest(ctx, a, a.routes, ts, None)


def cancel_algo(ctx: Context, c: CancelAlgo) -> None:
    """Handle ``CancelAlgo``: every live child canceled; the parent CANCELED with what filled."""
    a = _open_algo(ctx, c)
    if a is None:
        return
    done, _ = filled(ctx.state, a)
    ctx.emit(
        ea.AlgoCanceled(seq=ctx.state.seq + 1, ts_event=c.ts, algo_id=a.algo_id, filled_qty=done)
    )
    cancel_children(ctx, a, c.ts)


def complete(ctx: Context, a: AlgoState, ts: int, status: str, reason: str) -> None:
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


def _finish(ctx: Context, a: AlgoState, ts: int, reason: str) -> None:
    """The window is over: cancel what works, end DONE or EXPIRED."""
    done, _ = filled(ctx.state, a)
    cancel_children(ctx, a, ts)
    if done >= a.qty:
        complete(ctx, a, ts, AlgoStatus.DONE.value, "FILLED")
    else:
        complete(ctx, a, ts, AlgoStatus.EXPIRED.value, reason)


# ---------------------------------------------------------------------------- engine hooks
def open_algos(state: Any) -> list[AlgoState]:
    return [a for a in state.algos.values() if a.is_open]


def on_tick(ctx: Context, ts: int) -> None:
    """``AdvanceTime``: due slices, window ends, routed children resting too long."""
    for a in open_algos(ctx.state):
        if a.status != _WORKING:
            if a.end_ts and ts >= a.end_ts:
                _finish(ctx, a, ts, "WINDOW_ENDED")
            continue
        if a.end_ts and ts >= a.end_ts:
            _finish(ctx, a, ts, "WINDOW_ENDED")
            continue
        if a.kind in _SCHEDULED:
            _run_schedule(ctx, a, ts)
        if a.venue == SMART and a.reroute_after_ms:
            routing.stale_children(ctx, a, ts)


def on_child_event(ctx: Context, a: AlgoState, e: Any) -> None:
    """A child filled or ended."""
    state = ctx.state
    if not a.is_open:
        return
    ts = e.ts_event
    if e.__class__ is ev.OrderFilled:
        done, _ = filled(state, a)
        if done >= a.qty:
            cancel_children(ctx, a, ts)
            complete(ctx, a, ts, AlgoStatus.DONE.value, "FILLED")
            return
        if a.kind == AlgoKind.ICEBERG.value and a.status == _WORKING:
            order = state.orders.get(e.order_id)
            if order is not None and not order.is_live:
                _refill(ctx, a, ts)
        return
    if a.status != _WORKING:
        return
    if a.venue == SMART:
        routing.child_ended(ctx, a, e)
    elif a.kind == AlgoKind.ICEBERG.value:
        order = state.orders.get(e.order_id)
        if order is not None and order.leaves_qty == 0 and order.cum_qty == order.qty:
            return
        cancel_children(ctx, a, ts)
        complete(ctx, a, ts, AlgoStatus.EXPIRED.value, f"CHILD_ENDED:{type(e).__name__}")


def after_message(ctx: Context, message: Any, out: list[ev.EventBase]) -> None:
    """The engine hook while a parent exists: the timer, then the children's events."""
    state = ctx.state
    if message.__class__ is cmd.AdvanceTime:
        on_tick(ctx, message.ts)
    owners = state.algo_orders
    algos = state.algos
    i = 0
    while i < len(out):
        e = out[i]
        i += 1
        cls = e.__class__
        if cls is ev.OrderFilled or cls in _ENDED:
            algo_id = owners.get(e.order_id)  # type: ignore[attr-defined]
            if algo_id is not None:
                on_child_event(ctx, algos[algo_id], e)


def next_algo_deadline(state: Any, after: int) -> int | None:
    """The earliest slice, window end or re-route check of an open parent later than
    ``after``."""
    algos = getattr(state, "algos", None)
    if not algos:
        return None
    best: int | None = None

    def consider(ts: int) -> None:
        nonlocal best
        if ts > after and (best is None or ts < best):
            best = ts

    for a in algos.values():
        if not a.is_open:
            continue
        if a.end_ts:
            consider(a.end_ts)
        if a.status != _WORKING:
            continue
        if a.next_slice < len(a.schedule):
            consider(a.schedule[a.next_slice][0])
        if a.venue == SMART and a.reroute_after_ms:
            for order_id, _ in a.children:
                o = state.orders.get(order_id)
                if o is not None and o.is_live:
                    consider(o.ts_init + a.reroute_after_ms * MS)
    return best


__all__ = [
    "after_message",
    "cancel_algo",
    "complete",
    "next_algo_deadline",
    "pause_algo",
    "resume_algo",
    "route_algo",
    "submit_algo",
]
