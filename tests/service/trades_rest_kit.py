"""Managed trades over REST against an in-process app: the instrument and accounts of
tests/core/policy/trade_kit.py (a maker provides liquidity), trader keys for ``trader`` and
``other``, an admin key and a risk key."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from atlas_oms import Instrument, Node
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

SYMBOL = "XYZ/USD"


def world(node: Node) -> None:
    node.add_instrument(Instrument.spot(SYMBOL, tick_size="0.01", lot_size="1"))
    for account in ("trader", "other", "maker"):
        node.open_account(account)
        node.deposit(account, "USD", 10_000_000)
        node.deposit(account, "XYZ", 1_000_000)
    node.update_prices(SYMBOL, last=100)


def intent(intent_id: str = "t1", account_id: str = "trader", **kw: Any) -> dict[str, Any]:
    """A long: ideal 100, max 103, stop 98, R 200 (size 100), STANDARD profile."""
    body = {
        "intent_id": intent_id,
        "account_id": account_id,
        "symbol": SYMBOL,
        "side": "BUY",
        "entry_ideal": "100",
        "entry_max": "103",
        "stop": "98",
        "risk_amount": "200",
        "scale_out": "STANDARD",
    }
    return body | kw


class TradesApi:
    def __init__(self, client: TestClient, node: Node, tokens: dict[str, str]) -> None:
        self.client = client
        self.node = node
        self.tokens = tokens

    def headers(self, who: str = "trader") -> dict[str, str]:
        return {"X-API-Key": self.tokens[who]}

    def call(self, method: str, path: str, who: str = "trader", **kw: Any) -> Any:
        return self.client.request(method, path, headers=self.headers(who), **kw)


@contextlib.contextmanager
def trades_api(tmp_path: Path) -> Iterator[TradesApi]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "trader": keys.issue(("trader",), ("trader",)).token,
        "other": keys.issue(("trader",), ("other",)).token,
        "admin": keys.issue(("admin",), ()).token,
        "risk": keys.issue(("risk",), ()).token,
    }
    node = Node.in_memory(clock=ManualClock())
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000)
    app = create_app(settings, node=node, keys=keys, setup=world)
    with TestClient(app) as client:
        yield TradesApi(client, node, tokens)
