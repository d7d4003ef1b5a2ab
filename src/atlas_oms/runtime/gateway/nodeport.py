"""What the gateway needs of a node (``runtime/node.py`` Node has it all): process a message, and
a few reads. Tests drive the gateway with a recording fake that has the same shape."""

from __future__ import annotations

from typing import Any, Protocol

from atlas_oms.core.orders.order import OrderView
from atlas_oms.core.ports import Clock, Venue
from atlas_oms.model.account import Account
from atlas_oms.model.instrument import Instrument


class NodePort(Protocol):
    clock: Clock
    venues: dict[str, Venue]

    def process(self, message: Any) -> list[Any]: ...

    def instrument(self, symbol: str) -> Instrument | None: ...

    def instruments(self) -> list[Instrument]: ...

    def account(self, account_id: str) -> Account | None: ...

    def get_order(self, order_id: int) -> OrderView | None: ...

    def venue_orders(self, venue: str, account_id: str) -> list[OrderView]:
        """The live orders Atlas has at ``venue`` for ``account_id`` (sent or being sent; not
        those it holds itself until a trigger)."""
        ...

    def last_fill_ts(self, venue: str, account_id: str) -> int | None:
        """When Atlas booked its last fill at ``venue`` for ``account_id`` (ns), if any."""
        ...
