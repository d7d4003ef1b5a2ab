"""Read side of linked orders (OCO, OTO, bracket): the view of one list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.orders.link_book import OrderList
from atlas_oms.model import commands as c


class OrderListView(msgspec.Struct, frozen=True, kw_only=True):
    """One list: its kind, working legs, OTO parent, held and released children, state."""

    list_id: int
    kind: str
    account_id: str
    legs: tuple[int, ...]
    parent_id: int | None
    held_children: int
    released: tuple[int, ...]
    released_qty: Decimal
    oco_partial: str
    open: bool
    close_reason: str | None


def list_view(lst: OrderList) -> OrderListView:
    return OrderListView(
        list_id=lst.list_id,
        kind=lst.kind,
        account_id=lst.account_id,
        legs=lst.legs,
        parent_id=lst.parent_id,
        held_children=0 if lst.released or not lst.open else len(lst.children),
        released=lst.released,
        released_qty=lst.released_qty,
        oco_partial=lst.oco_partial,
        open=lst.open,
        close_reason=lst.close_reason,
    )


def list_command(
    ts: int,
    account_id: str,
    kind: str,
    orders: Sequence[c.SubmitOrder | Mapping[str, Any]],
    oco_partial: str = "CANCEL",
) -> c.SubmitOrderList:
    """A ``SubmitOrderList`` from SubmitOrder commands or their fields as a mapping (the
    account defaults to the list's)."""
    built = []
    for o in orders:
        if not isinstance(o, c.SubmitOrder):
            o = msgspec.convert({"account_id": account_id, **o}, c.SubmitOrder, strict=False)
        built.append(o)
    return c.SubmitOrderList(
        ts=ts,
        account_id=account_id,
        kind=kind.upper(),
        orders=tuple(built),
        oco_partial=oco_partial,
    )
