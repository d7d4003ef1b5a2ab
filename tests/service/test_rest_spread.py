"""Rate limits spread across accounts (issue 15 §2, seed 002): a strategy that several accounts
may trade (accounts.yaml ``account_routing.strategies: {mm: [sub_a, sub_b, sub_c]}``) has its REST
orders (``strategy: "mm"``) sent with the first account that has order budget left, the budgets
being the gateway's rate-limit counts that the Binance fake's ``X-MBX-ORDER-COUNT-10S`` headers
set. The Binance fake's order limit is low (3 per 10 s per account); no account goes over it. The
choice is in the answer (``routing``) and journaled (``RouteSwitched``, reason ``RATE_BUDGET``)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.service.test_serve_failover import Loop

from atlas_oms.fakes.binance import AccountConfig, FakeBinance
from atlas_oms.model import events as ev
from atlas_oms.runtime.gateway import GatewayConfig
from atlas_oms.runtime.gateway.ratelimit import binance_spot
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.venue_setup import plan_venues, setup_venues
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore as ApiKeys
from atlas_oms.service.settings import ServiceSettings
from atlas_oms.venues.credentials import KeyStore

D = Decimal
MASTER = b"m" * 32
NAMES = ("main", "sub_a", "sub_b", "sub_c")
A, B, C = (f"binance_spot_{n}" for n in NAMES[1:])
LIMIT = 3  # new orders per account per 10 s, at the venue and in the gateway's limiter


def key(name: str) -> tuple[str, str]:
    return (name.ljust(64, "k"), name.ljust(64, "s"))


def until(check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


def test_a_strategys_rest_orders_go_to_the_next_account_with_budget_when_one_runs_out(
    tmp_path: Path,
) -> None:
    loop = Loop()
    fake = FakeBinance(
        [
            AccountConfig(name=n, api_key=key(n)[0], secret=key(n)[1], spot={"USDT": D(10000)})
            for n in NAMES
        ]
    )
    loop.run(fake.start())
    fake.limits.orders_per_10s = LIMIT
    accounts = tmp_path / "accounts.yaml"
    subs = "".join(f"    {n}: {{type: sub, parent: main, spot_enabled: true}}\n" for n in NAMES[1:])
    accounts.write_text(
        "accounts:\n  binance:\n    main: {type: main, spot_enabled: true}\n" + subs + "\n"
        "account_routing:\n  default: main\n  strategies: {mm: [sub_a, sub_b, sub_c]}\n"
        f"venues:\n  binance: {{rest_url: '{fake.http}', ws_url: '{fake.ws}/ws', "
        f"ws_api_url: '{fake.ws}/ws-api/v3', timeout_ms: 2000}}\n"
    )
    store = KeyStore(tmp_path / "venue-keys.json", MASTER)
    for n in NAMES:
        store.set(f"binance_spot_{n}", *key(n))
    master = tmp_path / "master.key"
    master.write_text(base64.b64encode(MASTER).decode())
    master.chmod(0o600)
    plan = plan_venues(accounts, keys_path=tmp_path / "venue-keys.json", master_key_file=master)
    gateway = GatewayConfig(
        stream_wait_s=0.2, visibility_s=1.0, rate_limits={"binance": binance_spot(orders_10s=LIMIT)}
    )
    api = ApiKeys(tmp_path / "keys.json")
    trader = {"X-API-Key": api.issue(("trader",), ("binance_spot_main",)).token}
    admin = {"X-API-Key": api.issue(("admin",)).token}
    node = Node.in_memory()
    app = create_app(
        ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000),
        node=node,
        keys=api,
        venues=lambda n: setup_venues(
            n,
            plan.config,
            plan.sources,
            data_dir=tmp_path,
            gateway_config=gateway,
            market_data=False,
        ),
    )
    try:
        with TestClient(app) as client:
            for account in (A, B, C):
                until(
                    lambda a=account: (
                        client.get(f"/health/binance/{a}", headers=admin).json().get("tradable")
                    ),
                    what=f"{account} tradable",
                )
            # The gateway's windows are calendar intervals of 10 s: start early in one.
            while time.time() % 10 > 3:
                time.sleep(0.05)
            went: list[str] = []
            bodies = []
            for _ in range(3 * LIMIT - 1):
                r = client.post(
                    "/v1/orders",
                    json={
                        "account_id": A,
                        "symbol": "BTC/USDT",
                        "side": "BUY",
                        "order_type": "LIMIT",
                        "qty": "0.001",
                        "price": "50000",
                        "strategy": "mm",
                    },
                    headers=trader,
                )
                assert r.status_code == 201, r.text
                body = r.json()
                bodies.append(body)
                went.append(body["account_id"])
                until(
                    lambda b=body: (
                        client.get(
                            f"/v1/orders/{b['order_id']}",
                            params={"account_id": b["account_id"]},
                            headers=admin,
                        ).json()["status"]
                        == "ACCEPTED"
                    ),
                    what="accepted at the venue",
                )
            assert went == [A] * LIMIT + [B] * LIMIT + [C] * (LIMIT - 1)
            assert [b["routing"]["reason"] for b in bodies] == [""] * LIMIT + ["RATE_BUDGET"] * (
                2 * LIMIT - 1
            )
            assert all(b["routing"]["strategy"] == "mm" for b in bodies)
            # The venue never refused an order for its limit: each account has at most LIMIT.
            per_account = [
                len([o for o in fake.venue.orders.values() if o.account == n]) for n in NAMES
            ]
            assert per_account == [0, LIMIT, LIMIT, LIMIT - 1]
            # Journaled: each change of account, with the reason.
            moves = [e for e in node.journal.read() if isinstance(e, ev.RouteSwitched)]
            assert [(m.account_id, m.to_account_id, m.reason) for m in moves] == [
                ("strategy:mm", B, "RATE_BUDGET"),
                ("strategy:mm", C, "RATE_BUDGET"),
            ]
            assert "sub_a has 0 orders left" in moves[0].message
    finally:
        loop.run(fake.stop())
        loop.close()
