"""Reads of orders (live and archived), fills and linked-order lists: part of
:class:`~atlas_oms.runtime.queries.Queries`."""

from __future__ import annotations

import msgspec

from atlas_oms.core.orders.order import Order, OrderView
from atlas_oms.core.retention import order_of
from atlas_oms.core.state.state import State
from atlas_oms.core.venues.fold import in_doubt
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus
from atlas_oms.runtime.list_views import OrderListView, list_view
from atlas_oms.runtime.queries_base import QueriesBase
from atlas_oms.store.audit import AuditRecord


def archived_view(r: ev.ArchivedOrder) -> OrderView:
    """The view of an archived order (as its order's view was when it left memory)."""
    return order_of(r).view()


def venue_marks(state: State, order: Order) -> OrderView:
    """The order's view, marked external (adopted from a venue) or in doubt (a command got no
    definitive answer yet)."""
    view = order.view()
    book = state.venues
    if not book:
        return view
    external = order.order_id in book.external
    doubt = in_doubt(state, order)
    if external or doubt:
        return msgspec.structs.replace(view, external=external, in_doubt=doubt)
    return view


class OrderQueries(QueriesBase):
    """Orders, their fills and audit trails, linked-order lists."""

    def get_order(self, order_id: int) -> OrderView | None:
        order = self.engine.state.orders.get(order_id)
        if order is not None:
            return venue_marks(self.engine.state, order)
        record = self.history.get(order_id)
        return archived_view(record) if record is not None else None

    def find_order(
        self, account_id: str, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderView | None:
        """The account's order by id or by its client order id (None if it has no such order)."""
        state = self.engine.state
        order = state.find_order(account_id, order_id, client_order_id)
        if order is not None:
            return venue_marks(state, order)
        if order_id is None and client_order_id is not None:
            order_id = state.client_ids.get((account_id, client_order_id))
            if order_id is None:  # the key was forgotten: the latest order that had the id
                record = self.history.by_client_id(account_id, client_order_id)
                return archived_view(record) if record is not None else None
        record = self.history.get(order_id) if order_id is not None else None
        if record is None or record.account_id != account_id:
            return None
        return archived_view(record)

    def resting_orders(self, venue: str) -> list[OrderView]:
        """The live orders working at ``venue`` at a price, in their queue order there (the
        order in which they took their place): the built-in exchange is rebuilt from these."""
        state = self.engine.state
        return [
            o.view()
            for o in sorted(
                (
                    o
                    for o in state.orders.values()
                    if o.is_live
                    and o.venue == venue
                    and o.price is not None
                    and not o.held
                    and o.leaves_qty > 0
                    and o.priority_seq
                ),
                key=lambda o: o.priority_seq,
            )
        ]

    def order_list(self, list_id: int) -> OrderListView:
        """The linked-order list ``list_id`` (OCO, OTO, bracket); KeyError if there is none."""
        return list_view(self.engine.state.links.lists[list_id])

    def order_lists(self, open_only: bool = False) -> list[OrderListView]:
        """Every linked-order list, oldest first."""
        lists = self.engine.state.links.lists
        return [list_view(x) for _, x in sorted(lists.items()) if x.open or not open_only]

    def order(self, order_id: int) -> OrderView:
        view = self.get_order(order_id)
        if view is None:
            raise KeyError(order_id)
        return view

    def orders(
        self,
        account_id: str | None = None,
        *,
        open_only: bool = False,
        status: OrderStatus | None = None,
        symbol: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        after: int = 0,
        limit: int | None = None,
    ) -> list[OrderView]:
        """Orders in id order: of one account (or all), live only, in one status or symbol,
        created in ``[since_ns, until_ns)``, with an id above ``after``; at most ``limit``.
        Archived orders (out of memory, see ``core/retention.py``) come from the history."""
        out: list[OrderView] = []
        orders = self.engine.state.orders
        ids = sorted(i for i in orders if i > after) if self.engine.state.archived else None
        for order_id in (
            ids if ids is not None else range(max(after + 1, 1), self.engine.state.next_order_id)
        ):
            o = orders.get(order_id)
            if (
                o is None
                or (account_id is not None and o.account_id != account_id)
                or (open_only and not o.is_live)
                or (status is not None and o.status is not status)
                or (symbol is not None and o.symbol != symbol)
                or (since_ns is not None and o.ts_init < since_ns)
                or (until_ns is not None and o.ts_init >= until_ns)
            ):
                continue
            if limit is not None and len(out) == limit:
                break
            out.append(venue_marks(self.engine.state, o))
        if open_only or not self.engine.state.archived:
            return out
        past = self.history.orders(
            account_id,
            status=status,
            symbol=symbol,
            since_ns=since_ns,
            until_ns=until_ns,
            after=after,
            limit=limit,
        )
        if past:  # merge by id (an order loaded back is in both: memory wins)
            merged = {v.order_id: v for v in map(archived_view, past)}
            merged.update((v.order_id, v) for v in out)
            out = [merged[i] for i in sorted(merged)][:limit]
        return out

    def fills(
        self, account_id: str | None = None, symbol: str | None = None
    ) -> list[ev.OrderFilled]:
        """Executions in the order they were booked (busted ones included, as the venue sent
        them): of one account and/or one symbol, or all; those of archived orders first, from
        the history."""
        live = [
            f
            for f in self.engine.state.fills.values()
            if (account_id is None or f.account_id == account_id)
            and (symbol is None or f.symbol == symbol)
        ]
        if not self.engine.state.archived:
            return live
        state_orders = self.engine.state.orders
        past = [
            f
            for r in self.history.orders(account_id, symbol=symbol)
            if r.order_id not in state_orders
            for f in r.fills
        ]
        past.sort(key=lambda f: f.seq)
        return past + live

    def orders_in_memory(self) -> int:
        """How many orders the engine holds (live and recent: see ``core/retention.py``)."""
        return len(self.engine.state.orders)

    def order_fills(self, order_id: int) -> list[ev.OrderFilled]:
        """One order's executions in booking order (an archived order's from the history)."""
        state = self.engine.state
        if order_id in state.orders:
            return [state.fills[x] for x in state.order_fills.get(order_id, ())]
        record = self.history.get(order_id)
        return list(record.fills) if record is not None else []

    def order_audit(self, order_id: int) -> list[AuditRecord]:
        """The audit trail of one order (live or archived): every journaled event naming it."""
        view = self.get_order(order_id)
        if view is None:
            return []
        return [r for r in self.audit(view.account_id) if r.order_id == order_id]

    def order_owner(self, order_id: int) -> str | None:
        """The account that holds order ``order_id`` (None: no such order). The stream routes
        every order event by it, once per subscription: cheaper than :meth:`get_order`."""
        order = self.engine.state.orders.get(order_id)
        return order.account_id if order is not None else None
