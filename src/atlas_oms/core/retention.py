"""Retention: what leaves memory in a node that runs for months, decided on a timer tick.

* A terminal order leaves memory ``EngineConfig.order_retention_ns`` after it ended (its last
  change), unless it belongs to a managed trade or a parent order that is still open (the
  trade's position and the parent's fills are read from its orders; they leave once it ends): the tick emits ``OrdersArchived`` with the order's record, executions included, and the
  fold drops the order, its executions and its busted exec ids. The journal keeps everything; the
  runtime's history reads find archived orders there. Exec-id dedupe is thereby per order: an
  order's exec ids are in memory while it is, and come back with it.
* A client order id stays an idempotency key ``EngineConfig.client_id_retention_ns`` after its
  order was submitted, and as long as that order is in memory; then the key is forgotten and the
  id names a new order.
* ``RestoreOrder`` (the runtime sends it before a message that names an archived order) emits
  ``OrderRestored`` with the record, and the fold puts the order back (it leaves again after the
  window).

Every decision is in the events, so a replay folds to the same state. The fold's appliers are at
the end of this module.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.transitions import LIVE_STATUSES
from atlas_oms.model import events as ev

if TYPE_CHECKING:
    from atlas_oms.core.config import EngineConfig
    from atlas_oms.core.context import Context
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)
#: Orders per ``OrdersArchived`` event (a long pause archives in several events).
BATCH = 256
#: The order's fields an archived record carries (all but the ``refs`` lookup cache and the
#: session queue's mirror, None once an order is done).
ARCHIVED_FIELDS = tuple(f for f in Order.__struct_fields__ if f not in ("refs", "session_release"))


# ---------------------------------------------------------------------------------- deciding
def archive_due_ts(state: State, config: EngineConfig) -> int | None:
    """The earliest time at which a tick would archive an order or forget a client order id
    (None: nothing is waiting). A clock may wake for it; ticks before it do nothing."""
    due: int | None = None
    if config.order_retention_ns is not None and state.terminal:
        due = next(iter(state.terminal.values())) + config.order_retention_ns
    if config.client_id_retention_ns is not None and state.client_id_queue:
        key_due = state.client_id_queue[0][0] + config.client_id_retention_ns
        due = key_due if due is None or key_due < due else due
    return due


def archive_due(ctx: Context, ts: int) -> None:
    """Archive the terminal orders whose window ended by ``ts`` and forget the client order ids
    whose window ended (one ``OrdersArchived`` per :data:`BATCH` orders)."""
    state = ctx.state
    config = ctx.config
    orders = state.orders
    picked: list[Order] = []
    if config.order_retention_ns is not None:
        trade_orders = state.trade_orders
        trades = state.trades
        cutoff = ts - config.order_retention_ns
        for order_id, ended in state.terminal.items():
            if ended > cutoff:
                break
            order = orders[order_id]
            # Reopened (a bust) or changed since (a late report): not yet.
            if order.status not in LIVE_STATUSES and order.ts_last <= cutoff:
                trade_id = trade_orders.get(order_id)
                if trade_id is not None and trades[trade_id].is_open:
                    continue  # an open managed trade reads its position from its orders
                if state.algos_open and state.algo_orders.get(order_id) in state.algos_open:
                    continue  # an open parent order reads its fills from its children
                picked.append(order)
    forgotten: list[tuple[str, str]] = []
    swept = 0
    if config.client_id_retention_ns is not None:
        key_cutoff = ts - config.client_id_retention_ns
        leaving = {o.order_id for o in picked}
        client_ids = state.client_ids
        for at, account_id, client_id, order_id in state.client_id_queue:
            if at > key_cutoff:
                break
            swept += 1
            key = (account_id, client_id)
            if client_ids.get(key) != order_id:
                continue  # the id was given again since
            if order_id in orders and order_id not in leaving:
                continue  # its order is in memory: the key leaves with it
            forgotten.append(key)
        for order in picked:
            coid = order.client_order_id
            if coid is not None and order.ts_init <= key_cutoff:
                key = (order.account_id, coid)
                if client_ids.get(key) == order.order_id and key not in forgotten:
                    forgotten.append(key)
    if not picked and not swept:
        return
    first = True
    for start in range(0, max(len(picked), 1), BATCH):
        batch = picked[start : start + BATCH]
        ctx.emit(
            ev.OrdersArchived(
                seq=state.seq + 1,
                ts_event=ts,
                orders=tuple(record(state, o) for o in batch),
                forgotten=tuple(forgotten) if first else (),
                keys_swept=swept if first else 0,
            )
        )
        first = False


def record(state: State, order: Order) -> ev.ArchivedOrder:
    """The order, its executions and busted exec ids as an :class:`~ev.ArchivedOrder`."""
    exec_ids = state.order_fills.get(order.order_id, ())
    fills = state.fills
    busted = state.busted
    return ev.ArchivedOrder(
        **{f: getattr(order, f) for f in ARCHIVED_FIELDS},
        fills=tuple(fills[x] for x in exec_ids),
        busted=tuple(x for x in exec_ids if x in busted),
    )


def order_of(r: ev.ArchivedOrder) -> Order:
    """The engine's order from an archived record."""
    return Order(*[getattr(r, f) for f in ARCHIVED_FIELDS])


# ---------------------------------------------------------------------------------- folding
def apply_archived(state: State, e: ev.OrdersArchived) -> None:
    orders = state.orders
    terminal = state.terminal
    fills = state.fills
    busted = state.busted
    order_fills = state.order_fills
    for r in e.orders:
        del orders[r.order_id]
        terminal.pop(r.order_id, None)
        for exec_id in order_fills.pop(r.order_id, ()):
            fills.pop(exec_id, None)
            busted.discard(exec_id)
    queue = state.client_id_queue
    for _ in range(e.keys_swept):
        queue.popleft()
    client_ids = state.client_ids
    for key in e.forgotten:
        client_ids.pop(key, None)
    state.archived += 1


def apply_restored(state: State, e: ev.OrderRestored) -> None:
    r = e.order
    order = order_of(r)
    state.orders[r.order_id] = order
    for fill in r.fills:
        state.fills[fill.exec_id] = fill
    state.order_fills[r.order_id] = tuple(fill.exec_id for fill in r.fills)
    state.busted.update(r.busted)
    if order.status not in LIVE_STATUSES:
        state.terminal[r.order_id] = e.ts_event  # its window starts again
    state.archived += 1
