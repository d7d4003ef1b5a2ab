"""Linked orders: OCO, OTO and bracket (broker-style linkage, REQUIREMENTS CON-3).

- **OCO** (one-cancels-the-other): the legs work at once. When one leg fills, the engine cancels
  the others (``OCO_SIBLING_FILLED``); a partial fill counts as a fill, as on Binance's OCO
  ("if one leg is filled, partially or fully, the other is canceled"). With
  ``oco_partial="REDUCE"`` a partial fill instead shrinks each other leg by the filled quantity
  (IBKR's OCA type 3, "reduce on fill without block") and only a full fill cancels them. A leg
  that ends without filling (canceled by the user, rejected, expired, denied) cancels the others
  (``OCO_SIBLING_ENDED``), as canceling one leg cancels the whole list on Binance.
- **OTO** (one-triggers-the-other): ``orders[0]`` is the parent, the rest are children held by
  the engine (not sent anywhere) until the parent fills. The parent's first fill releases the
  children, each sized ``min(child qty, parent's filled qty)``; each later parent fill enlarges
  the released children (a modify) up to that bound. A parent that ends before any fill drops
  its children (``OTO_PARENT_ENDED``); one that ends after a partial fill leaves the children
  sized to what filled.
- **BRACKET**: an OTO whose released children form an OCO group (a target and a stop).

Every decision is an event (``OrderListCreated``, ``OrderListReleased``,
``OrderListSiblingCanceled``, ``OrderListClosed``) before the cancel, submit or modify it causes;
the fold only books them (:mod:`.link_book`). The engine runs :func:`follow` after every
message, so the linkage works the same on the built-in exchange and on an external venue: it
sends cancels, and a venue's late fill of a canceled sibling is still booked as usual.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.core.context import Context
from atlas_oms.core.orders import amend
from atlas_oms.core.orders.link_book import OrderList
from atlas_oms.core.orders.submit import submit
from atlas_oms.core.refusals import reject_command
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus
from atlas_oms.model.reasons import Reason

KINDS = ("OCO", "OTO", "BRACKET")
OCO_PARTIAL = ("CANCEL", "REDUCE")
_ENDED = (ev.OrderCanceled, ev.OrderRejected, ev.OrderExpired, ev.OrderDenied)
_WATCHED = (ev.OrderFilled, *_ENDED)


def _refusal(c: cmd.SubmitOrderList) -> str | None:
    if c.kind not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}, not {c.kind}"
    if c.oco_partial not in OCO_PARTIAL:
        return f"oco_partial must be CANCEL or REDUCE, not {c.oco_partial}"
    need = 3 if c.kind == "BRACKET" else 2
    if len(c.orders) < need:
        return f"a {c.kind} list needs at least {need} orders, got {len(c.orders)}"
    for o in c.orders:
        if o.account_id != c.account_id:
            return f"every order of the list must be account {c.account_id}'s"
    return None


def _submit_one(ctx: Context, c: cmd.SubmitOrder) -> int | None:
    """Submit ``c``; the id of the order it made (denied or not), None if it made none."""
    before = ctx.state.next_order_id
    submit(ctx, c)
    return before if ctx.state.next_order_id > before else None


def submit_list(ctx: Context, c: cmd.SubmitOrderList) -> None:
    """Handle ``SubmitOrderList``: submit the legs (OCO) or the parent (OTO, BRACKET), then
    record the list. A leg or parent the engine denies ends the list at once (:func:`follow`)."""
    refusal = _refusal(c)
    if refusal is not None:
        reject_command(ctx, c, Reason.INVALID_ORDER_LIST, refusal, c.account_id)
        return
    state = ctx.state
    first = c.orders if c.kind == "OCO" else c.orders[:1]
    ids = []
    for o in first:
        oid = _submit_one(ctx, msgspec.structs.replace(o, ts=c.ts))
        if oid is not None:
            ids.append(oid)
    ctx.emit(
        ev.OrderListCreated(
            seq=state.seq + 1,
            ts_event=c.ts,
            list_id=state.links.next_list_id,
            kind=c.kind,
            account_id=c.account_id,
            order_ids=tuple(ids),
            children=() if c.kind == "OCO" else c.orders[1:],
            oco_partial=c.oco_partial,
        )
    )
    if c.kind != "OCO" and not ids:
        _close(ctx, state.links.lists[state.links.next_list_id - 1], Reason.OTO_PARENT_ENDED, c.ts)


def follow(ctx: Context, out: list[ev.EventBase], ts: int) -> None:
    """Act on the fills and ends of linked orders among ``out`` (the message's events, growing
    as this acts: a cascade is followed too)."""
    book = ctx.state.links
    i = 0
    while i < len(out):
        e = out[i]
        i += 1
        if e.__class__ not in _WATCHED:
            continue
        oid: int = e.order_id
        list_id = book.by_order.get(oid)
        if list_id is None:
            continue
        lst = book.lists[list_id]
        if oid == lst.parent_id:
            _on_parent(ctx, lst, e, ts)
        elif oid in lst.legs:
            _on_leg(ctx, lst, oid, e, ts)


def _close(ctx: Context, lst: OrderList, reason: str, ts: int) -> None:
    if lst.open:
        ctx.emit(
            ev.OrderListClosed(
                seq=ctx.state.seq + 1, ts_event=ts, list_id=lst.list_id, reason=reason
            )
        )


def _on_parent(ctx: Context, lst: OrderList, e: ev.EventBase, ts: int) -> None:
    state = ctx.state
    parent = state.orders[lst.parent_id]  # type: ignore[index]
    filled = parent.cum_qty
    if isinstance(e, ev.OrderFilled) and filled > lst.released_qty:
        if not lst.released:
            ids = []
            for child in lst.children:
                sized = msgspec.structs.replace(child, ts=ts, qty=min(child.qty, filled))
                oid = _submit_one(ctx, sized)
                if oid is not None:
                    ids.append(oid)
            ctx.emit(
                ev.OrderListReleased(
                    seq=state.seq + 1,
                    ts_event=ts,
                    list_id=lst.list_id,
                    filled_qty=filled,
                    order_ids=tuple(ids),
                )
            )
        else:
            ctx.emit(
                ev.OrderListReleased(
                    seq=state.seq + 1, ts_event=ts, list_id=lst.list_id, filled_qty=filled
                )
            )
            for oid, child in zip(lst.released, lst.children, strict=False):
                _grow(ctx, oid, min(child.qty, filled), ts)
    if parent.is_live:
        return
    if not lst.released:
        _close(ctx, lst, Reason.OTO_PARENT_ENDED, ts)
    elif lst.kind == "OTO" or not any(_live(ctx, o) for o in lst.legs):
        _close(ctx, lst, "PARENT_DONE", ts)


def _live(ctx: Context, oid: int) -> bool:
    order = ctx.state.orders.get(oid)
    return order is not None and order.is_live


def _grow(ctx: Context, oid: int, qty: Decimal, ts: int) -> None:
    order = ctx.state.orders.get(oid)
    if order is None or not order.is_live or order.qty >= qty or order.pending is not None:
        return
    amend.modify(ctx, cmd.ModifyOrder(ts=ts, account_id=order.account_id, order_id=oid, qty=qty))


def _on_leg(ctx: Context, lst: OrderList, oid: int, e: ev.EventBase, ts: int) -> None:
    state = ctx.state
    order = state.orders[oid]
    if isinstance(e, ev.OrderFilled):
        if e.order_status is OrderStatus.CANCELED or e.order_status is OrderStatus.EXPIRED:
            return  # a late fill of a leg already ended: booked, nothing more to decide
        full = not order.is_live
        reason = Reason.OCO_SIBLING_FILLED
        if lst.oco_partial == "REDUCE" and not full:
            _reduce_others(ctx, lst, oid, e.last_qty, ts)
            return
    else:
        reason = Reason.OCO_SIBLING_ENDED
    for sib in lst.legs:
        if sib == oid or not _live(ctx, sib):
            continue
        sibling = state.orders[sib]
        ctx.emit(
            ev.OrderListSiblingCanceled(
                seq=state.seq + 1,
                ts_event=ts,
                list_id=lst.list_id,
                order_id=sib,
                cause_order_id=oid,
                reason=reason,
            )
        )
        if sibling.status is not OrderStatus.PENDING_CANCEL:
            amend.cancel_for(ctx, sibling, ts, reason)
    parent = state.orders.get(lst.parent_id) if lst.parent_id is not None else None
    if parent is None or not parent.is_live:
        _close(ctx, lst, reason, ts)


def _reduce_others(ctx: Context, lst: OrderList, oid: int, last_qty: Decimal, ts: int) -> None:
    state = ctx.state
    for sib in lst.legs:
        if sib == oid or not _live(ctx, sib):
            continue
        sibling = state.orders[sib]
        new_qty = sibling.qty - last_qty
        cancel = new_qty <= sibling.cum_qty
        ctx.emit(
            ev.OrderListSiblingCanceled(
                seq=state.seq + 1,
                ts_event=ts,
                list_id=lst.list_id,
                order_id=sib,
                cause_order_id=oid,
                reason=Reason.OCO_SIBLING_FILLED,
                new_qty=None if cancel else new_qty,
            )
        )
        if cancel:
            if sibling.status is not OrderStatus.PENDING_CANCEL:
                amend.cancel_for(ctx, sibling, ts, Reason.OCO_SIBLING_FILLED)
        elif sibling.pending is None and sibling.status is not OrderStatus.PENDING_CANCEL:
            amend.modify(
                ctx,
                cmd.ModifyOrder(ts=ts, account_id=sibling.account_id, order_id=sib, qty=new_qty),
            )
