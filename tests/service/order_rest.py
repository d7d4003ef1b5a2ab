"""Order entry over REST against an in-process app (the order-entry test modules' shared world):
a spot pair and a US equity, traders alice and bob, a clock in New York's pre-market session, and
a client for alice's trader key."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from atlas_oms import Instrument, Node
from atlas_oms.model import events as ev
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

SPOT = "BTC/USDT"
STOCK = "ACME"
#: 2026-01-05 12:00 UTC: 07:00 in New York, the pre-market session.
PRE_MARKET_NS = 1_767_614_400 * 1_000_000_000


def world(node: Node) -> None:
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001"))
    node.add_instrument(Instrument.equity(STOCK))
    for account in ("alice", "bob"):
        node.open_account(account)
        node.deposit(account, "USDT", "100000")
        node.deposit(account, "BTC", "10")
        node.deposit(account, "USD", "100000")
    node.update_prices(SPOT, last="30000", mark="30000")
    node.update_prices(STOCK, last="10")


class OrderApi:
    """Requests as alice's trader key (``account_id`` alice unless given)."""

    def __init__(self, client: TestClient, headers: dict[str, str], node: Node) -> None:
        self.client = client
        self.headers = headers
        self.node = node

    def post(self, **body: Any) -> Any:
        body = {"account_id": "alice"} | body
        return self.client.post("/v1/orders", json=body, headers=self.headers)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params={"account_id": "alice"} | params, headers=self.headers)

    def delete(self, path: str, account_id: str = "alice") -> Any:
        return self.client.delete(path, params={"account_id": account_id}, headers=self.headers)

    def intent(self, order_id: int) -> SubmitOrder:
        """The command the engine recorded for ``order_id`` (its OrderSubmitted or OrderDenied
        event)."""
        for e in self.node.events():
            if isinstance(e, ev.OrderSubmitted | ev.OrderDenied) and e.order_id == order_id:
                return e.intent
        raise AssertionError(f"order {order_id} was never submitted")


@contextlib.contextmanager
def order_api(tmp_path: Path) -> Iterator[OrderApi]:
    """The app over an in-memory node with :func:`world`, and alice's client."""
    keys = KeyStore(tmp_path / "keys.json")
    token = keys.issue(("trader",), ("alice",)).token
    node = Node.in_memory(clock=ManualClock(PRE_MARKET_NS))
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000)
    app = create_app(settings, node=node, keys=keys, setup=world)
    with TestClient(app) as client:
        yield OrderApi(client, {"X-API-Key": token}, node)
