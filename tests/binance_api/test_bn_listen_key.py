"""Spot user data by listenKey (``/api/v3/userDataStream`` + ``/ws/<listenKey>``), driven by
python-binance (a client we did not write: REST orders, listenKey create/keepalive/close, its
WebSocket-API ``user_socket``) and a raw aiohttp socket; the key expires with
``listenKeyExpired``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
from binance import AsyncClient, BinanceSocketManager, Client
from binance.exceptions import BinanceAPIException
from binance.ws.websocket_api import WebsocketAPI
from tests.binance_api.kit import Env, make_env

from atlas_oms.binance_api import listen_keys


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def client_for(env: Env, who: str = "alice") -> Client:
    key, secret = env.pair(who)
    client = Client(key, secret, ping=False)
    client.API_URL = env.http + "/api"
    return client


def maker_sells(env: Env, price: str, qty: str) -> None:
    body = {"account_id": "maker", "symbol": "BTC/USDT", "side": "SELL", "qty": qty, "price": price}
    env.rest("maker", "POST", "/v1/orders", json=body)


async def until(ws: aiohttp.ClientWebSocketResponse, pred: Any, seconds: float = 10) -> Any:
    """The first message ``pred`` accepts (others are skipped)."""
    async with asyncio.timeout(seconds):
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if pred(data):
                return data
    raise AssertionError("the socket closed first")


def test_python_binance_orders_and_the_listen_key_stream(env: Env) -> None:
    client = client_for(env)
    order = client.create_order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price="29000",
    )
    assert order["status"] == "NEW" and order["symbol"] == "BTCUSDT"
    got = client.get_order(symbol="BTCUSDT", orderId=order["orderId"])
    assert Decimal(got["price"]) == 29000 and got["status"] == "NEW"
    canceled = client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])
    assert canceled["status"] == "CANCELED"

    listen_key = client.stream_get_listen_key()
    assert len(listen_key) == 64
    assert client.stream_get_listen_key() == listen_key  # one key per apiKey while valid
    assert client.stream_keepalive(listen_key) == {}
    maker_sells(env, "30010", "0.02")

    async def watch() -> tuple[dict[str, Any], dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{env.ws}/ws/{listen_key}") as ws,
        ):
            await asyncio.sleep(0.2)
            buy = asyncio.create_task(
                asyncio.to_thread(client.order_market_buy, symbol="BTCUSDT", quantity="0.02")
            )
            trade = await until(ws, lambda d: d.get("e") == "executionReport" and d["x"] == "TRADE")
            position = await until(ws, lambda d: d.get("e") == "outboundAccountPosition")
            await buy
            return trade, position

    trade, position = asyncio.run(watch())
    assert trade["s"] == "BTCUSDT" and trade["S"] == "BUY" and Decimal(trade["L"]) == 30010
    assert "subscriptionId" not in trade  # the listenKey stream is not wrapped
    btc = next(b for b in position["B"] if b["a"] == "BTC")
    assert Decimal(btc["f"]) == env.node.balance("alice", "BTC").free

    assert client.stream_close(listen_key) == {}
    with pytest.raises(BinanceAPIException) as refused:
        client.stream_keepalive(listen_key)
    assert refused.value.code == -1125


def test_python_binance_user_socket_over_the_websocket_api(env: Env) -> None:
    key, secret = env.pair("alice")
    maker_sells(env, "30020", "0.01")

    async def run() -> dict[str, Any]:
        client = AsyncClient(key, secret)
        client.API_URL = env.http + "/api"
        client.ws_api = WebsocketAPI(url=f"{env.ws}/ws-api/v3", tld="com")
        try:
            socket = BinanceSocketManager(client).user_socket()
            async with socket as stream:
                await client.order_market_buy(symbol="BTCUSDT", quantity="0.01")
                async with asyncio.timeout(10):
                    while True:
                        msg = await stream.recv()
                        event = msg.get("event", msg)
                        if event.get("e") == "executionReport" and event["x"] == "TRADE":
                            return dict(event)
        finally:
            await client.close_connection()

    event = asyncio.run(run())
    assert event["s"] == "BTCUSDT" and Decimal(event["L"]) == 30020 and event["X"] == "FILLED"


@pytest.fixture
def quick_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setattr(listen_keys, "LISTEN_KEY_TTL_S", 1.0)
    yield from make_env(tmp_path)


def test_a_listen_key_expires_with_listen_key_expired_and_closes(quick_env: Env) -> None:
    env = quick_env
    api_key, _secret = env.pair("alice")
    headers = {"X-MBX-APIKEY": api_key}
    answer = requests.post(f"{env.http}/api/v3/userDataStream", headers=headers, timeout=5)
    assert answer.status_code == 200, answer.text
    listen_key = answer.json()["listenKey"]

    async def watch() -> tuple[dict[str, Any], bool, dict[str, Any]]:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(f"{env.ws}/ws/{listen_key}") as ws:
                expired = await until(ws, lambda d: d.get("e") == "listenKeyExpired", 5)
                closed = (await ws.receive(timeout=5)).type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.CLOSING,
                )
            async with http.ws_connect(f"{env.ws}/ws/{listen_key}") as ws:
                refused = await until(ws, lambda d: "error" in d, 5)
        return expired, closed, refused

    expired, closed, refused = asyncio.run(watch())
    assert expired["listenKey"] == listen_key and closed
    assert refused["error"]["code"] == -1125
    again = requests.put(
        f"{env.http}/api/v3/userDataStream",
        params={"listenKey": listen_key},
        headers=headers,
        timeout=5,
    )
    assert again.status_code == 400 and again.json()["code"] == -1125
