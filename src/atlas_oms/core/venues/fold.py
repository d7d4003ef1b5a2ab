"""The fold of external venues' events: adopted orders, positions set from the venue, status,
reconciliation reports and commands in doubt. Each applier books what its event says."""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.orders.order import Order
from atlas_oms.core.state.booking import refs_of, track
from atlas_oms.core.state.positions import Lot
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus, TrailingOffsetType, TriggerType

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)


def apply_external_adopted(state: State, e: ev.ExternalOrderAdopted) -> None:
    order = Order(
        order_id=e.order_id,
        account_id=e.account_id,
        symbol=e.symbol,
        venue=e.venue,
        side=e.side,
        order_type=e.order_type,
        qty=e.qty,
        price=e.price,
        trigger_price=None,
        trigger_type=TriggerType.LAST,
        trailing_offset=None,
        trailing_offset_type=TrailingOffsetType.PRICE,
        limit_offset=None,
        tif=e.tif,
        expire_ts=None,
        post_only=e.post_only,
        reduce_only=e.reduce_only,
        position_side=e.position_side,
        client_order_id=None,
        tag=None,
        ts_init=e.ts_event,
        ts_last=e.ts_event,
        status=OrderStatus.ACCEPTED,
        leaves_qty=e.qty,
        venue_order_id=e.venue_order_id,
        accepted=True,
        priority_seq=e.seq,
    )
    state.orders[e.order_id] = order
    if e.order_id >= state.next_order_id:
        state.next_order_id = e.order_id + 1
    order.refs = refs_of(state, e.account_id, e.symbol, e.position_side)
    track(state, order, ZERO)
    state.venues.adopted[(e.venue, e.account_id, e.venue_order_id)] = e.order_id
    state.venues.external.add(e.order_id)


def apply_position_reconciled(state: State, e: ev.PositionReconciled) -> None:
    refs = refs_of(state, e.account_id, e.symbol, e.position_side)
    pos = refs.position
    old = pos.qty
    pos.lots = deque([Lot(e.qty, e.entry_price, 0, e.ts_event)]) if e.qty else deque()
    pos.qty = e.qty
    pos.cost = abs(e.qty) * e.entry_price if e.qty else ZERO
    pos.ts_last = e.ts_event
    firm = refs.firm
    firm.net += e.qty - old
    firm.gross += abs(e.qty) - abs(old)
    if refs.quote is None:  # a derivative: the position holds margin
        refs.balance.locked += e.margin - pos.margin
        pos.margin = e.margin
        state.liq_index.dirty.add(e.account_id)


def apply_venue_reconciled(state: State, e: ev.VenueReconciled) -> None:
    book = state.venues
    key = (e.venue, e.account_id)
    book.reports[key] = e
    if e.pending:
        book.pending[key] = {asset: (atlas, venue) for asset, atlas, venue in e.pending}
    else:
        book.pending.pop(key, None)


def apply_venue_status_changed(state: State, e: ev.VenueStatusChanged) -> None:
    state.venues.status[(e.venue, e.account_id)] = e


def apply_route_switched(state: State, e: ev.RouteSwitched) -> None:
    """A failover route in force per (account, symbol); a restore ends it (core/venues/routing.py)."""
    key = (e.account_id, e.symbol)
    if e.restored:
        state.venues.routes.pop(key, None)
    else:
        state.venues.routes[key] = e


def apply_outcome_unknown(state: State, e: ev.OrderOutcomeUnknown) -> None:
    book = state.venues
    orders = state.orders
    for order_id in [i for i in book.in_doubt if i not in orders or not orders[i].is_live]:
        del book.in_doubt[order_id]
    order = orders.get(e.order_id)
    if order is not None and order.is_live:
        book.in_doubt[e.order_id] = (
            e.seq,
            e.action,
            order.status,
            order.cum_qty,
            order.venue_order_id,
        )


def in_doubt(state: State, order: Order) -> bool:
    """Whether a command on ``order`` got no definitive answer and nothing changed since."""
    mark = state.venues.in_doubt.get(order.order_id)
    return (
        mark is not None
        and order.is_live
        and mark[2] is order.status
        and mark[3] == order.cum_qty
        and mark[4] == order.venue_order_id
    )
