"""In-process Binance dialect: ``atlas``'s app (TestClient runs its lifespan) with
``binance_port`` on a free port, keys for two traders, and ccxt clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.service.serving import free_port

from atlas_oms import Instrument, Node
from atlas_oms.binance_api.keys import credential, server_secret
from atlas_oms.fakes.binance.urls import ccxt_config
from atlas_oms.runtime.clock import LiveClock
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

SPOT = "BTC/USDT"


def world(node: Node) -> None:
    node.add_instrument(
        Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001", min_notional="5")
    )
    node.add_instrument(Instrument.spot("ETH/USDT", tick_size="0.01", lot_size="0.001"))
    for account in ("alice", "alice-algo", "bob", "maker"):
        parent = "alice" if account == "alice-algo" else None
        node.open_account(account, parent_id=parent)
        node.deposit(account, "USDT", "1000000")
        node.deposit(account, "BTC", "100")
    node.deposit("bob", "USDT", "-999900")  # bob: 100 USDT only
    node.update_prices(SPOT, last="30000")


@dataclass
class Env:
    client: TestClient
    node: Node
    keys: KeyStore
    port: int
    data: Path
    tokens: dict[str, str]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def pair(self, who: str, account: str | None = None) -> tuple[str, str]:
        key_id = self.tokens[who].partition(".")[0]
        found = credential(self.keys, server_secret(self.data), key_id, account)
        assert found is not None
        return found.api_key, found.secret

    def config(self, who: str = "alice", account: str | None = None, **options: Any) -> Any:
        api_key, secret = self.pair(who, account)
        return ccxt_config("spot", api_key, secret, self.http, self.ws, **options)

    def rest(self, who: str, method: str, path: str, **kw: Any) -> Any:
        r = self.client.request(method, path, headers={"X-API-Key": self.tokens[who]}, **kw)
        assert r.status_code < 300, r.text
        return r.json()


def make_env(tmp_path: Path, **settings: Any) -> Iterator[Env]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "alice": keys.issue(("trader",), ("alice",)).token,
        "bob": keys.issue(("trader",), ("bob",)).token,
        "maker": keys.issue(("trader",), ("maker",)).token,
        "risk": keys.issue(("risk",)).token,
    }
    node = Node.in_memory(clock=LiveClock())
    port = free_port()
    settings.setdefault("rate_limit_per_s", 100_000)
    config = ServiceSettings(data_dir=tmp_path, binance_port=port, **settings)
    app = create_app(config, node=node, keys=keys, setup=world)
    try:
        with TestClient(app) as client:
            yield Env(client, node, keys, port, tmp_path, tokens)
    finally:
        node.close()
