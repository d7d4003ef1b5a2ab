"""Reconciliation: one venue account's snapshot (orders, fills since, positions, balances)
merged with Atlas's state. Only what is missing is emitted, each corrective event marked
``source="reconciliation"``; the last event is always one ``VenueReconciled``, the exception
report of every difference found and what was done about it."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import plain, round_money
from atlas_oms.core.equities.share_recon import adopt_shares
from atlas_oms.core.venues.orders import book_fills, find_order, sync_order
from atlas_oms.model import events as ev
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.venue import (
    FactSource,
    ReconcileVenue,
    VenueFill,
    VenueOrder,
    VenuePosition,
)
from atlas_oms.model.venue import VenueOrderState as VS

ZERO = Decimal(0)
RECONCILIATION = FactSource.RECONCILIATION
#: The reason of a balance correction (``BalanceAdjusted``) made by a reconciliation.
BALANCE_REASON = "reconciliation"
WAITING = "seen, waiting for confirmation"
_BOTH = PositionSide.BOTH
_LONG = PositionSide.LONG


def reconcile_venue(ctx: Context, c: ReconcileVenue) -> None:
    """Handle ``ReconcileVenue``."""
    m = c
    state = ctx.state
    diffs: list[ev.VenueDifference] = []
    start = len(ctx.out)
    by_order: dict[str, list[VenueFill]] = {}
    for f in sorted(m.fills, key=lambda f: (f.ts, f.trade_id)):
        by_order.setdefault(f.venue_order_id, []).append(f)
    for vo in m.orders:
        sync_order(ctx, vo, by_order.pop(vo.venue_order_id, ()), RECONCILIATION, m.ts, diffs, True)
    for venue_order_id, fills in by_order.items():  # fills of orders not in the snapshot
        first = fills[0]
        order = find_order(state, first, m.venue)
        if order is not None:
            book_fills(ctx, order, m.venue, fills, RECONCILIATION.value, m.ts, diffs)
            continue
        total = sum((f.qty for f in fills), ZERO)
        notional = sum((f.qty * f.px for f in fills), ZERO)
        vo = VenueOrder(
            venue=m.venue,
            account_id=m.account_id,
            symbol=first.symbol,
            venue_symbol="",
            venue_order_id=venue_order_id,
            client_order_id=first.client_order_id,
            order_id=first.order_id,
            side=first.side,
            order_type="MARKET",
            qty=total,
            price=None,
            cum_qty=total,
            avg_px=notional / total,
            state=VS.FILLED,
            ts=fills[-1].ts,
            position_side=first.position_side,
        )
        sync_order(ctx, vo, fills, RECONCILIATION, m.ts, diffs, True)
    for order_id in m.not_found:
        order = state.orders.get(order_id)
        diffs.append(
            ev.VenueDifference(
                kind="NOT_FOUND",
                action="left to the gateway",
                order_id=order_id,
                symbol=order.symbol if order is not None else None,
                venue_order_id=order.venue_order_id if order is not None else None,
                atlas=str(order.status) if order is not None else "unknown",
                venue="not found",
            )
        )
    if m.positions is not None:
        _positions(ctx, m, diffs)
    key = (m.venue, m.account_id)
    if m.balances is not None:
        pending = _balances(ctx, m, diffs)
    else:  # not taken: what waits keeps waiting
        pending = tuple(
            (asset, atlas, venue)
            for asset, (atlas, venue) in sorted(state.venues.pending.get(key, {}).items())
        )
    booked = sum(1 for e in ctx.out[start:] if isinstance(e, ev.OrderFilled))
    ctx.emit(
        ev.VenueReconciled(
            seq=state.seq + 1,
            ts_event=m.ts,
            venue=m.venue,
            account_id=m.account_id,
            reason=m.reason,
            differences=tuple(diffs),
            not_found=tuple(m.not_found),
            pending=pending,
            orders=len(m.orders),
            fills=len(m.fills),
            fills_booked=booked,
            positions=len(m.positions or ()),
            balances=len(m.balances or ()),
            position_figures=tuple(p for p in m.positions or () if has_figures(p)),
        )
    )


def has_figures(p: VenuePosition) -> bool:
    """Whether a reported position carries any of the venue's own margin figures."""
    return any(
        x is not None
        for x in (
            p.liquidation_price,
            p.mark_price,
            p.maintenance_margin,
            p.initial_margin,
            p.margin_ratio,
        )
    )


def _positions(ctx: Context, m: ReconcileVenue, diffs: list[ev.VenueDifference]) -> None:
    """Set each derivative position of the venue's instruments that differs from the venue's
    (one-way: signed; hedge: the LONG and SHORT legs apart) to the venue's quantity and entry."""
    state = ctx.state
    insts = {s: i for s, i in state.instruments.items() if i.venue == m.venue and i.is_derivative}
    venue_pos: dict[tuple[str, PositionSide], tuple[Decimal, Decimal]] = {}
    for p in m.positions or ():
        if p.symbol not in insts:
            diffs.append(
                ev.VenueDifference(
                    kind="POSITION",
                    action="ignored: no such instrument",
                    symbol=p.symbol,
                    position_side=p.position_side,
                    atlas="unknown",
                    venue=plain(p.qty),
                )
            )
            continue
        side = p.position_side or _BOTH
        qty = p.qty if side is _BOTH else (abs(p.qty) if side is _LONG else -abs(p.qty))
        venue_pos[(p.symbol, side)] = (qty, p.entry_price)
    atlas = {
        (s, side): pos.qty
        for (a, s, side), pos in state.positions.items()
        if a == m.account_id and s in insts
    }
    for symbol, side in sorted(set(venue_pos) | {k for k, q in atlas.items() if q}):
        qty, entry = venue_pos.get((symbol, side), (ZERO, ZERO))
        held = atlas.get((symbol, side), ZERO)
        if qty == held:
            continue
        if qty and not entry:
            entry = state.reference_price(symbol, prefer_mark=True) or ZERO
        inst = insts[symbol]
        margin = (
            round_money(
                abs(qty) * entry * inst.multiplier / state.leverage_of(m.account_id, symbol)
            )
            if qty
            else ZERO
        )
        ctx.emit(
            ev.PositionReconciled(
                seq=state.seq + 1,
                ts_event=m.ts,
                account_id=m.account_id,
                venue=m.venue,
                symbol=symbol,
                position_side=side,
                qty=qty,
                entry_price=entry if qty else ZERO,
                previous_qty=held,
                margin=margin,
            )
        )
        diffs.append(
            ev.VenueDifference(
                kind="POSITION",
                action="set",
                symbol=symbol,
                position_side=side,
                atlas=plain(held),
                venue=f"{plain(qty)} @ {plain(entry)}",
                seqs=(state.seq,),
            )
        )


def _balances(
    ctx: Context, m: ReconcileVenue, diffs: list[ev.VenueDifference]
) -> tuple[tuple[str, Decimal, Decimal], ...]:
    """Correct each balance that differs from the venue's total, unless the difference may be
    an execution in flight: with orders working at the venue, a difference is applied only when
    the previous reconciliation saw the same one. Return the differences left waiting."""
    state = ctx.state
    venue_total: dict[str, Decimal] = {}
    for b in m.balances or ():
        venue_total[b.asset] = venue_total.get(b.asset, ZERO) + b.total
    atlas_total = {
        asset: bal.total for (a, asset), bal in state.balances.items() if a == m.account_id
    }
    working = any(
        o.is_live and o.venue == m.venue and o.account_id == m.account_id
        for o in state.orders.values()
    )
    seen = state.venues.pending.get((m.venue, m.account_id), {})
    pending: list[tuple[str, Decimal, Decimal]] = []
    for asset in sorted(set(venue_total) | {a for a, t in atlas_total.items() if t}):
        theirs = venue_total.get(asset, ZERO)
        ours = atlas_total.get(asset, ZERO)
        if theirs == ours:
            continue
        before = seen.get(asset)
        confirmed = before is not None and before[1] - before[0] == theirs - ours
        seqs: tuple[int, ...] = ()
        if working and not confirmed:
            pending.append((asset, ours, theirs))
            action = WAITING
        else:
            ctx.emit(
                ev.BalanceAdjusted(
                    seq=state.seq + 1,
                    ts_event=m.ts,
                    account_id=m.account_id,
                    asset=asset,
                    amount=theirs - ours,
                    reason=BALANCE_REASON,
                )
            )
            action, seqs = ("applied (confirmed)" if working else "applied"), (state.seq,)
        diffs.append(
            ev.VenueDifference(
                kind="BALANCE",
                action=action,
                asset=asset,
                atlas=plain(ours),
                venue=plain(theirs),
                seqs=seqs,
            )
        )
        if seqs:  # an equity's shares: its position follows (a split Atlas alone applied)
            adopt_shares(ctx, m.venue, m.account_id, asset, ours, theirs, m.ts, diffs)
    return tuple(pending)
