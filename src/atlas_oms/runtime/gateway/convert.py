"""Venue values into engine messages: Atlas order ids decoded from client order ids, and an
answer (order plus fills) as the sequence of updates the stream would have sent."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import msgspec

from atlas_oms.model.enums import PositionSide
from atlas_oms.model.requests import SubmitToVenue
from atlas_oms.model.venue import (
    FactSource,
    OrderUpdate,
    PlaceOrder,
    VenueFill,
    VenueOrder,
    VenueOrderState,
)
from atlas_oms.runtime.gateway.client_ids import decode

#: The exec type of an update that carries no fill, by the order's state.
EXEC_TYPES = {
    VenueOrderState.NEW: "NEW",
    VenueOrderState.PARTIALLY_FILLED: "TRADE",
    VenueOrderState.FILLED: "TRADE",
    VenueOrderState.CANCELED: "CANCELED",
    VenueOrderState.EXPIRED: "EXPIRED",
    VenueOrderState.REJECTED: "REJECTED",
}


def stamp_order(prefix: str, order: VenueOrder) -> VenueOrder:
    if order.order_id is None:
        order_id = decode(prefix, order.client_order_id)
        if order_id is not None:
            return msgspec.structs.replace(order, order_id=order_id)
    return order


def stamp_fill(prefix: str, fill: VenueFill) -> VenueFill:
    if fill.order_id is None:
        order_id = decode(prefix, fill.client_order_id)
        if order_id is not None:
            return msgspec.structs.replace(fill, order_id=order_id)
    return fill


def stamp_update(prefix: str, update: OrderUpdate) -> OrderUpdate:
    order = stamp_order(prefix, update.order)
    fill = stamp_fill(prefix, update.fill) if update.fill is not None else None
    if order is update.order and fill is update.fill:
        return update
    return msgspec.structs.replace(update, order=order, fill=fill)


def updates_for(
    order: VenueOrder,
    fills: Iterable[VenueFill],
    *,
    source: FactSource,
    exec_type: str | None = None,
) -> list[OrderUpdate]:
    """What a stream would have said about ``order`` and its ``fills``: one update per fill
    (the order as it stood after that fill), then the order's last state if that says more
    (a cancel after a partial fill), or a single update when there is no fill."""
    out: list[OrderUpdate] = []
    cum = Decimal(0)
    notional = Decimal(0)
    for fill in sorted(fills, key=lambda f: (f.ts, f.trade_id)):
        cum += fill.qty
        notional += fill.qty * fill.px
        done = cum >= order.qty
        snapshot = msgspec.structs.replace(
            order,
            cum_qty=cum,
            avg_px=notional / cum,
            state=VenueOrderState.FILLED if done else VenueOrderState.PARTIALLY_FILLED,
        )
        out.append(
            OrderUpdate(
                venue=order.venue,
                account_id=order.account_id,
                ts=fill.ts,
                source=source,
                order=snapshot,
                exec_type="TRADE",
                fill=fill,
            )
        )
    if not out or out[-1].order.state != order.state or order.cum_qty > cum:
        out.append(
            OrderUpdate(
                venue=order.venue,
                account_id=order.account_id,
                ts=order.ts,
                source=source,
                order=order,
                exec_type=exec_type or EXEC_TYPES[order.state],
            )
        )
    return out


def place_command(
    request: SubmitToVenue, client_order_id: str, position_side: PositionSide | None
) -> PlaceOrder:
    """The adapter's command for a submit; ``position_side`` is the order's (hedge mode: LONG
    or SHORT; BOTH, one-way mode, is sent as none)."""
    return PlaceOrder(
        order_id=request.order_id,
        client_order_id=client_order_id,
        symbol=request.symbol,
        side=request.side,
        qty=request.qty,
        price=request.price,
        tif=request.tif,
        post_only=request.post_only,
        reduce_only=request.reduce_only,
        position_side=None if position_side is PositionSide.BOTH else position_side,
        protection_price=request.protection_price,
        extended_hours=request.extended_hours,
        display_qty=request.display_qty,
    )


def order_from_place(
    venue: str,
    account_id: str,
    venue_symbol: str,
    cmd: PlaceOrder,
    venue_order_id: str,
    ts: int,
    fills: Iterable[VenueFill] = (),
) -> VenueOrder:
    """The order as a place answer without a body implies (accepted; filled as far as its fills)."""
    fills = list(fills)
    cum = sum((f.qty for f in fills), Decimal(0))
    state = (
        VenueOrderState.FILLED
        if cum >= cmd.qty
        else VenueOrderState.PARTIALLY_FILLED
        if cum
        else VenueOrderState.NEW
    )
    return VenueOrder(
        venue=venue,
        account_id=account_id,
        symbol=cmd.symbol,
        venue_symbol=venue_symbol,
        venue_order_id=venue_order_id,
        client_order_id=cmd.client_order_id,
        order_id=cmd.order_id,
        side=cmd.side,
        order_type="LIMIT" if cmd.price is not None else "MARKET",
        qty=cmd.qty,
        price=cmd.price,
        cum_qty=cum,
        avg_px=(sum((f.qty * f.px for f in fills), Decimal(0)) / cum) if cum else None,
        state=state,
        ts=ts,
        tif=cmd.tif,
        reduce_only=cmd.reduce_only,
        post_only=cmd.post_only,
        position_side=cmd.position_side,
    )
