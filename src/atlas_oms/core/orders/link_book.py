"""The state of linked orders (OCO, OTO, bracket): what the fold books from the list events.

Plain data; the decisions are in :mod:`atlas_oms.core.orders.links`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.model.commands import SubmitOrder

ZERO = Decimal(0)


class OrderList(msgspec.Struct, gc=False):
    """One list. ``legs``: the working OCO group (empty for an OTO before release);
    ``parent_id``: the OTO parent; ``children``: held child intents; ``released``: child order
    ids once the parent filled; ``released_qty``: the parent's filled quantity they were sized
    to; ``open``: False once closed."""

    list_id: int
    kind: str
    account_id: str
    legs: tuple[int, ...] = ()
    parent_id: int | None = None
    children: tuple[SubmitOrder, ...] = ()
    released: tuple[int, ...] = ()
    released_qty: Decimal = ZERO
    oco_partial: str = "CANCEL"
    open: bool = True
    close_reason: str | None = None


class LinkBook:
    """Every list by id, and (derived) order id -> list id of the open lists."""

    __slots__ = ("by_order", "lists", "next_list_id")

    def __init__(self) -> None:
        self.lists: dict[int, OrderList] = {}
        self.by_order: dict[int, int] = {}
        self.next_list_id = 1

    def __bool__(self) -> bool:
        return bool(self.lists)

    def index(self, lst: OrderList) -> None:
        for oid in (*lst.legs, *lst.released):
            self.by_order[oid] = lst.list_id
        if lst.parent_id is not None:
            self.by_order[lst.parent_id] = lst.list_id
        if not lst.open:
            for gone in (*lst.legs, *lst.released, lst.parent_id):
                if gone is not None and self.by_order.get(gone) == lst.list_id:
                    del self.by_order[gone]

    def canonical(self) -> list[Any]:
        return [self.next_list_id, [lst for _, lst in sorted(self.lists.items())]]

    def restore(self, lists: list[OrderList] | None) -> None:
        for lst in lists or ():
            self.lists[lst.list_id] = lst
            self.next_list_id = max(self.next_list_id, lst.list_id + 1)
            self.index(lst)


# ------------------------------------------------------------------------------- fold
def apply_list_created(state: Any, e: Any) -> None:
    oco = e.kind == "OCO"
    lst = OrderList(
        list_id=e.list_id,
        kind=e.kind,
        account_id=e.account_id,
        legs=e.order_ids if oco else (),
        parent_id=None if oco or not e.order_ids else e.order_ids[0],
        children=e.children,
        oco_partial=e.oco_partial,
    )
    book: LinkBook = state.links
    book.lists[e.list_id] = lst
    book.next_list_id = e.list_id + 1
    book.index(lst)


def apply_list_released(state: Any, e: Any) -> None:
    book: LinkBook = state.links
    lst = book.lists[e.list_id]
    lst.released_qty = e.filled_qty
    if e.order_ids:
        lst.released = (*lst.released, *e.order_ids)
        if lst.kind == "BRACKET":
            lst.legs = (*lst.legs, *e.order_ids)
        book.index(lst)


def apply_list_closed(state: Any, e: Any) -> None:
    book: LinkBook = state.links
    lst = book.lists[e.list_id]
    lst.open = False
    lst.close_reason = e.reason
    book.index(lst)


def apply_nothing(state: Any, e: Any) -> None:
    """A decision record: its effect is the cancel or modify that follows it."""
