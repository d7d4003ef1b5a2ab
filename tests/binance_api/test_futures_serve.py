"""A whole USDⓈ-M session of the real ccxt clients against a real ``atlas serve`` subprocess
(``ATLAS_BINANCE_PORT`` set, the built-in market maker quoting): markets, leverage and margin
type, a market order that fills against the maker, positions, balance, funding, the user
stream seeing the fill, a liquidation by Atlas's engine surfacing as Binance shows one, and
the interface's lines in ``/metrics``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import httpx
import pytest
from tests.service.serving import Served, free_port

from atlas_oms.binance_api.keys import derived_secret, server_secret
from atlas_oms.fakes.binance.urls import ccxt_config

PERP = "BTC/USDT:USDT"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, int]]:
    port = free_port()
    server = Served(tmp_path / "data", market_maker=True, env={"ATLAS_BINANCE_PORT": str(port)})
    try:
        yield server.start(), port
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        server.ensure_stopped()


def _config(data: Path, port: int, key_id: str) -> dict[str, Any]:
    secret = derived_secret(server_secret(data), key_id)
    base = f"127.0.0.1:{port}"
    cfg = ccxt_config("usdm", key_id, secret, f"http://{base}", f"ws://{base}")
    cfg["options"]["defaultType"] = "future"
    return cfg


def _key_id(headers: dict[str, str]) -> str:
    return headers["X-API-Key"].partition(".")[0]


async def _until(watch: Any, check: Any, timeout: float = 30.0) -> Any:
    async def loop() -> Any:
        while True:
            got = await watch()
            if check(got):
                return got

    return await asyncio.wait_for(loop(), timeout)


def test_a_ccxt_futures_session_on_atlas_serve(served: tuple[Served, int]) -> None:
    server, port = served
    keys = server.keys()
    cfg = _config(server.data, port, _key_id(keys["trader"]))
    ex = ccxt.binance(cfg)
    markets = ex.load_markets()
    assert markets[PERP]["id"] == "BTCUSDT" and markets[PERP]["swap"]
    assert ex.set_leverage(15, PERP)["leverage"] == 15
    with pytest.raises(ccxt.MarginModeAlreadySet):  # CROSS is Atlas's default
        ex.set_margin_mode("cross", PERP)
    rate = ex.fetch_funding_rate(PERP)
    assert rate["markPrice"] and rate["fundingTimestamp"] > ex.milliseconds()  # the next settlement

    async def stream_and_trade() -> dict[str, Any]:
        pro = ccxtpro.binance(cfg)
        try:
            await pro.load_markets()
            watching = asyncio.ensure_future(
                _until(lambda: pro.watch_orders(PERP), lambda os: any(o["filled"] for o in os))
            )
            await asyncio.sleep(1.0)
            await pro.create_order(PERP, "market", "buy", 0.01, None, {"newClientOrderId": "s-1"})
            got = await watching
            return next(o for o in got if o["filled"])
        finally:
            await pro.close()

    pushed = asyncio.run(stream_and_trade())
    assert pushed["clientOrderId"] == "s-1" and pushed["status"] == "closed"
    (pos,) = ex.fetch_positions([PERP])
    assert pos["contracts"] >= 0.01 and pos["leverage"] == 15
    bal = ex.fetch_balance()
    assert bal["USDT"]["total"] > 0 and bal["USDT"]["free"] > 0
    metrics = httpx.get(f"{server.url}/metrics").text
    assert (
        'atlas_interface_requests_total{interface="binance",method="POST /fapi/v1/order"' in metrics
    )
    assert 'interface="binance"' in metrics and "atlas_interface_sessions" in metrics


def test_a_liquidation_on_atlas_serve_reaches_the_ccxt_pro_client(
    served: tuple[Served, int],
) -> None:
    server, port = served
    keys = server.keys()
    admin = keys["admin"]

    def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        r = httpx.post(f"{server.url}{path}", json=body, headers=headers, timeout=30)
        assert r.status_code < 300, r.text
        return r.json()

    post("/v1/accounts", {"account_id": "thin"}, admin)
    post("/v1/accounts/thin/deposits", {"asset": "USDT", "amount": "700"}, admin)
    token = post("/v1/keys", {"roles": ["trader"], "accounts": ["thin"]}, admin)["token"]
    cfg = _config(server.data, port, token.partition(".")[0])

    async def session() -> dict[str, Any]:
        pro = ccxtpro.binance(cfg)
        try:
            await pro.load_markets()
            await pro.set_leverage(50, PERP)
            await pro.create_order(PERP, "market", "buy", 0.5)
            (pos,) = await pro.fetch_positions([PERP])
            entry = pos["entryPrice"]
            watching = asyncio.ensure_future(
                _until(
                    lambda: pro.watch_orders(PERP),
                    lambda os: any(str(o["clientOrderId"]).startswith("autoclose-") for o in os),
                )
            )
            await asyncio.sleep(1.0)
            drop = f"{entry - 1500:.1f}"  # far below the liquidation price at 50x
            post(
                "/v1/marketdata/prices", {"symbol": PERP, "mark": drop, "last": drop}, keys["risk"]
            )
            got = await watching
            return next(o for o in got if str(o["clientOrderId"]).startswith("autoclose-"))
        finally:
            await pro.close()

    auto = asyncio.run(session())
    assert auto["side"] == "sell" and auto["reduceOnly"]
    assert auto["info"]["o"] == "LIQUIDATION"
