"""A whole ccxt session against a real ``atlas serve`` subprocess with ATLAS_BINANCE_PORT: the
sync client (markets, market data, balance, orders that fill against the built-in market maker,
reads, edit, cancels, refusals), the async client, and ccxt.pro streams (order book, trades,
ticker, and the user data stream seeing the fills); the first keys' Binance pair, ``atlas
binance key``, and the dialect's lines in /metrics."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import ccxt
import ccxt.async_support
import ccxt.pro
import httpx
import pytest
from tests.service.serving import WAIT_S, Served, free_port

from atlas_oms.fakes.binance.urls import ccxt_config


class Session:
    def __init__(self, served: Served, port: int) -> None:
        self.served = served
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"
        lines = (served.data / "first-keys.txt").read_text().splitlines()
        trader = next(json.loads(x) for x in lines if json.loads(x)["roles"] == ["trader"])
        self.pair = trader["binance"]
        self.key_id = trader["token"].partition(".")[0]

    def config(self, **over: Any) -> dict[str, Any]:
        cfg = ccxt_config("spot", self.pair["apiKey"], self.pair["secret"], self.http, self.ws)
        return cfg | over


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    port = free_port()
    served = Served(
        tmp_path_factory.mktemp("bn") / "data",
        market_maker=True,
        env={"ATLAS_BINANCE_PORT": str(port), "ATLAS_MARKET_SEED": "7"},
    )
    served.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                book = httpx.get(f"http://127.0.0.1:{port}/api/v3/depth?symbol=BTCUSDT").json()
                if book["asks"] and book["bids"]:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield Session(served, port)
    finally:
        served.stop()
        served.ensure_stopped()


def test_sync_ccxt_session(session: Session) -> None:
    ex = ccxt.binance(session.config())
    markets = ex.load_markets()
    assert {"BTC/USDT", "ETH/USDT"} <= set(markets)
    book = ex.fetch_order_book("BTC/USDT", 5)
    best_ask = book["asks"][0][0]
    assert book["bids"][0][0] < best_ask
    ticker = ex.fetch_ticker("BTC/USDT")
    assert ticker["ask"] == best_ask or ticker["ask"] > 0
    balance = ex.fetch_balance()
    assert balance["USDT"]["free"] == 1_000_000.0 and balance["BTC"]["free"] == 10.0

    bought = ex.create_order("BTC/USDT", "market", "buy", 0.01)
    assert bought["status"] == "closed" and bought["filled"] == 0.01
    assert bought["trades"] and bought["trades"][0]["price"] > 0
    trades = ex.fetch_trades("BTC/USDT")
    assert trades and trades[-1]["amount"] == 0.01 and trades[-1]["side"] == "buy"
    bars = ex.fetch_ohlcv("BTC/USDT", "1m")
    assert bars and bars[-1][5] >= 0.01
    crossing = ex.create_order(
        "BTC/USDT", "limit", "sell", 0.01, round(book["bids"][0][0] * 0.99, 2)
    )
    assert crossing["filled"] == 0.01

    low = round(best_ask * 0.8, 2)
    resting = ex.create_order("BTC/USDT", "limit", "buy", 0.01, low)
    assert resting["status"] == "open"
    assert ex.fetch_order(resting["id"], "BTC/USDT")["price"] == low
    assert [o["id"] for o in ex.fetch_open_orders("BTC/USDT")] == [resting["id"]]
    edited = ex.edit_order(resting["id"], "BTC/USDT", "limit", "buy", 0.02, round(low - 1, 2))
    assert edited["amount"] == 0.02 and edited["status"] == "open"
    second = ex.create_order("BTC/USDT", "limit", "buy", 0.01, low)
    canceled = ex.cancel_order(second["id"], "BTC/USDT")
    assert canceled["status"] == "canceled"
    ex.cancel_all_orders("BTC/USDT")
    assert ex.fetch_open_orders("BTC/USDT") == []
    closed = ex.fetch_closed_orders("BTC/USDT")
    assert {bought["id"], crossing["id"]} <= {o["id"] for o in closed}
    mine = ex.fetch_my_trades("BTC/USDT")
    assert [t["side"] for t in mine] == ["buy", "sell"]
    after = ex.fetch_balance()
    assert after["BTC"]["total"] == 10.0

    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("BTC/USDT", "limit", "buy", 100, round(best_ask, 2))  # 6M USDT: denied
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        ccxt.binance(session.config(secret="f" * 64)).fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        ccxt.binance(session.config(apiKey="ak_000000000000")).fetch_balance()
    stale = ccxt.binance(session.config())
    stale.milliseconds = lambda: int(time.time() * 1000) - 120_000  # type: ignore[method-assign]
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        stale.fetch_balance()


def test_async_ccxt_client(session: Session) -> None:
    async def run() -> None:
        ex = ccxt.async_support.binance(session.config())
        try:
            await ex.load_markets()
            balance = await ex.fetch_balance()
            assert balance["USDT"]["total"] > 0
            order = await ex.create_order("ETH/USDT", "market", "buy", 0.01)
            assert order["status"] == "closed"
            got = await ex.fetch_order(order["id"], "ETH/USDT")
            assert got["filled"] == 0.01
        finally:
            await ex.close()

    asyncio.run(run())


def test_ccxt_pro_streams(session: Session) -> None:
    async def run() -> None:
        ex = ccxt.pro.binance(session.config())
        try:
            await ex.load_markets()
            book = await asyncio.wait_for(ex.watch_order_book("BTC/USDT"), 20)
            assert book["asks"] and book["bids"]
            ticker = await asyncio.wait_for(ex.watch_ticker("BTC/USDT"), 20)
            assert ticker["symbol"] == "BTC/USDT"
            orders_f = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))
            trades_f = asyncio.ensure_future(ex.watch_trades("BTC/USDT"))
            await asyncio.sleep(1)
            mine_f = asyncio.ensure_future(ex.watch_my_trades("BTC/USDT"))
            balance_f = asyncio.ensure_future(ex.watch_balance())
            await asyncio.sleep(1)
            placed = await ex.create_order("BTC/USDT", "market", "buy", 0.01)
            trades = await asyncio.wait_for(trades_f, 20)
            assert trades[-1]["amount"] == 0.01
            orders = await asyncio.wait_for(orders_f, 20)
            while orders[-1]["id"] != placed["id"] or orders[-1]["status"] != "closed":
                orders = await asyncio.wait_for(ex.watch_orders("BTC/USDT"), 20)
            mine = await asyncio.wait_for(mine_f, 20)
            assert mine[-1]["order"] == placed["id"]
            balance = await asyncio.wait_for(balance_f, 20)
            assert "BTC" in balance
        finally:
            await ex.close()

    asyncio.run(run())


def test_cli_prints_the_same_pair_and_metrics_show_the_dialect(session: Session) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "atlas_oms.cli", "binance", "key", session.key_id,
         "--data-dir", str(session.served.data)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    printed = json.loads(out)
    assert (
        printed["apiKey"] == session.pair["apiKey"] and printed["secret"] == session.pair["secret"]
    )
    assert printed["account"] == "desk"
    # its own request (under xdist this test may run without the session's earlier ones)
    ex = ccxt.binance(session.config())
    ex.load_markets()
    ex.create_order("BTC/USDT", "limit", "buy", 0.001, 1000)

    async def one_socket() -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(session.ws + "/ws"):
            pass

    asyncio.run(one_socket())
    text = httpx.get(session.served.url + "/metrics").text
    assert 'atlas_interface_requests_total{interface="binance",method="POST /api/v3/order"' in text
    assert 'atlas_interface_sessions{interface="binance"}' in text
