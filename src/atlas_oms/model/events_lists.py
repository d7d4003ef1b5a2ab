"""Events of linked orders (OCO, OTO, bracket: core/orders/links.py). Part of the union in
:mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.event_base import EventBase


class OrderListCreated(EventBase, frozen=True):
    """A list of linked orders (core/orders/links.py): ``order_ids`` are its working legs (OCO)
    or its parent (OTO, BRACKET); ``children`` are the held child intents, released when the
    parent fills."""

    list_id: int
    kind: str
    account_id: str
    order_ids: tuple[int, ...]
    children: tuple[SubmitOrder, ...] = ()
    oco_partial: str = "CANCEL"


class OrderListReleased(EventBase, frozen=True):
    """The parent of an OTO list filled ``filled_qty`` in all: children were submitted as
    ``order_ids`` (empty when this fill only resized children released before)."""

    list_id: int
    filled_qty: Decimal
    order_ids: tuple[int, ...] = ()


class OrderListSiblingCanceled(EventBase, frozen=True):
    """The engine cancels (or, ``new_qty`` set, shrinks) ``order_id`` of a list because
    ``cause_order_id`` filled or ended (``reason``: OCO_SIBLING_FILLED ...)."""

    list_id: int
    order_id: int
    cause_order_id: int
    reason: str
    new_qty: Decimal | None = None


class OrderListClosed(EventBase, frozen=True):
    """The list has nothing left to link; held children (if any) were dropped for ``reason``."""

    list_id: int
    reason: str
