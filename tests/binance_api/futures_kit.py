"""In-process USDⓈ-M dialect: ``atlas``'s app (TestClient runs its lifespan) with ``binance_port``
on a free port, a BTCUSDT perpetual, a trader (alice), a thin-margined trader and a maker, and
ccxt clients (``defaultType: future``) pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.binance_api.kit import Env
from tests.service.serving import free_port

from atlas_oms import Instrument, Node
from atlas_oms.fakes.binance.urls import ccxt_config
from atlas_oms.model.margin import tiers_from_rows
from atlas_oms.runtime.clock import LiveClock
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

PERP = "BTC/USDT:USDT"


def world(node: Node) -> None:
    tiers = tiers_from_rows(
        [
            (0, 50_000, "0.004", 0, 125),
            (50_000, 250_000, "0.005", 50, 100),
            (250_000, None, "0.01", 1_300, 50),
        ]
    )
    node.add_instrument(
        Instrument.perpetual(
            PERP,
            tick_size="0.1",
            lot_size="0.001",
            maker_fee="0.0002",
            taker_fee="0.0005",
            margin_tiers=tiers,
        )
    )
    for account, usdt in (("alice", "100000"), ("maker", "100000000"), ("thin", "700")):
        node.open_account(account)
        node.deposit(account, "USDT", usdt)
    node.set_leverage("maker", PERP, 5)
    node.set_leverage("alice", PERP, 10)
    node.update_prices(PERP, last="60000", mark="60000")


class FuturesEnv(Env):
    def config(self, who: str = "alice", account: str | None = None, **options: Any) -> Any:
        api_key, secret = self.pair(who, account)
        cfg = ccxt_config("usdm", api_key, secret, self.http, self.ws, **options)
        cfg["options"]["defaultType"] = "future"
        return cfg

    def maker(self, side: str, qty: str, price: str) -> Any:
        body = {"account_id": "maker", "symbol": PERP, "side": side, "qty": qty, "price": price}
        return self.rest("maker", "POST", "/v1/orders", json=body)

    def mark(self, price: str) -> Any:
        body = {"symbol": PERP, "mark": price, "last": price}
        return self.rest("risk", "POST", "/v1/marketdata/prices", json=body)


def make_futures_env(tmp_path: Path, **settings: Any) -> Iterator[FuturesEnv]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "alice": keys.issue(("trader",), ("alice",)).token,
        "thin": keys.issue(("trader",), ("thin",)).token,
        "maker": keys.issue(("trader",), ("maker",)).token,
        "risk": keys.issue(("risk",)).token,
    }
    node = Node.in_memory(clock=LiveClock())  # event times are wall time, as under serve
    port = free_port()
    settings.setdefault("rate_limit_per_s", 100_000)
    config = ServiceSettings(data_dir=tmp_path, binance_port=port, **settings)
    app = create_app(config, node=node, keys=keys, setup=world)
    try:
        with TestClient(app) as client:
            yield FuturesEnv(client, node, keys, port, tmp_path, tokens)
    finally:
        node.close()
