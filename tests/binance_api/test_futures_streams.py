"""The USDⓈ-M user data stream with the real ccxt.pro client (``defaultType: future``):
watch_orders / watch_positions / watch_balance see a fill on the built-in exchange, and a
liquidation by Atlas's engine reaches the client as Binance shows one (``autoclose-``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxtpro
import httpx
import pytest
from tests.binance_api.futures_kit import PERP, FuturesEnv, make_futures_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[FuturesEnv]:
    yield from make_futures_env(tmp_path)


async def _until(watch: Any, check: Any, timeout: float = 10.0) -> Any:
    async def loop() -> Any:
        while True:
            got = await watch()
            if check(got):
                return got

    return await asyncio.wait_for(loop(), timeout)


def test_async_client_places_and_reads_orders(env: FuturesEnv) -> None:
    async def session() -> None:
        ex = ccxt_async.binance(env.config())
        try:
            await ex.load_markets()
            env.maker("SELL", "0.1", "60000")
            order = await ex.create_order(PERP, "limit", "buy", 0.1, 60000)
            assert order["status"] == "closed" and order["filled"] == 0.1
            (pos,) = await ex.fetch_positions([PERP])
            assert pos["contracts"] == 0.1
        finally:
            await ex.close()

    asyncio.run(session())


def test_watch_orders_positions_and_balance_see_a_fill(env: FuturesEnv) -> None:
    async def session() -> None:
        ex = ccxtpro.binance(env.config())
        try:
            await ex.load_markets()
            orders = asyncio.ensure_future(
                _until(lambda: ex.watch_orders(PERP), lambda os: any(o["filled"] for o in os))
            )
            positions = asyncio.ensure_future(
                _until(
                    lambda: ex.watch_positions([PERP]), lambda ps: any(p["contracts"] for p in ps)
                )
            )
            balance = asyncio.ensure_future(
                _until(ex.watch_balance, lambda b: "USDT" in b and b["USDT"]["total"] is not None)
            )
            await asyncio.sleep(0.5)  # the listenKey stream is open
            env.maker("SELL", "0.3", "60000")
            await ex.create_order(PERP, "limit", "buy", 0.3, 60000, {"newClientOrderId": "w-1"})
            got = await orders
            filled = next(o for o in got if o["filled"])
            assert filled["clientOrderId"] == "w-1" and filled["status"] == "closed"
            pos = next(p for p in await positions if p["contracts"])
            assert pos["contracts"] == 0.3 and pos["side"] == "long"
            bal = await balance
            total = env.node.balance("alice", "USDT").total
            assert bal["USDT"]["total"] == float(total)
        finally:
            await ex.close()

    asyncio.run(session())


def test_a_liquidation_by_atlas_surfaces_as_binance_autoclose(env: FuturesEnv) -> None:
    async def session() -> None:
        ex = ccxtpro.binance(env.config("thin"))
        try:
            await ex.load_markets()
            await ex.set_leverage(50, PERP)
            env.maker("SELL", "0.5", "60000")
            await ex.create_order(PERP, "limit", "buy", 0.5, 60000)
            liquidated = asyncio.ensure_future(
                _until(
                    lambda: ex.watch_orders(PERP),
                    lambda os: any(
                        str(o["clientOrderId"]).startswith("autoclose-") and o["filled"] for o in os
                    ),
                )
            )
            await asyncio.sleep(0.5)
            env.maker("BUY", "5", "58700")  # the bid the liquidation order hits
            env.mark("58800")  # under maintenance margin: Atlas's engine liquidates
            got = await liquidated
            auto = next(o for o in got if str(o["clientOrderId"]).startswith("autoclose-"))
            assert auto["side"] == "sell" and auto["filled"] == 0.5 and auto["reduceOnly"]
            assert auto["info"]["o"] == "LIQUIDATION" and auto["info"]["x"] == "CALCULATED"
            assert await ex.fetch_positions([PERP]) == []
            rest = await ex.fetch_order(auto["id"], PERP)
            assert rest["clientOrderId"] == auto["clientOrderId"]
        finally:
            await ex.close()

    asyncio.run(session())


def test_listen_key_lifecycle_and_unknown_key(env: FuturesEnv) -> None:
    api_key, _ = env.pair("alice")
    h = {"X-MBX-APIKEY": api_key}
    k = httpx.post(env.http + "/fapi/v1/listenKey", headers=h).json()["listenKey"]
    assert httpx.post(env.http + "/fapi/v1/listenKey", headers=h).json()["listenKey"] == k
    assert httpx.put(env.http + "/fapi/v1/listenKey", headers=h).json() == {"listenKey": k}
    assert httpx.delete(env.http + "/fapi/v1/listenKey", headers=h).json() == {}
    r = httpx.put(env.http + "/fapi/v1/listenKey", headers=h)
    assert r.json()["code"] == -1125

    async def connect() -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(f"{env.ws}/fstream/private/ws?listenKey={k}"):
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert asyncio.run(connect()) == 400  # the deleted listenKey: -1125, no stream
    r = httpx.post(env.http + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": "ak_nobody"})
    assert r.status_code == 401 and r.json()["code"] == -2015


def test_public_futures_streams_book_trades_ticker_and_mark(env: FuturesEnv) -> None:
    async def session() -> None:
        ex = ccxtpro.binance(env.config())
        try:
            await ex.load_markets()
            env.maker("SELL", "1", "60010")
            env.maker("BUY", "1", "59990")
            book = await asyncio.wait_for(ex.watch_order_book(PERP), 10)
            assert book["bids"][0] == [59990.0, 1.0] and book["asks"][0] == [60010.0, 1.0]
            trades = asyncio.ensure_future(_until(lambda: ex.watch_trades(PERP), bool))
            ticker = await asyncio.wait_for(ex.watch_ticker(PERP), 10)
            assert ticker["symbol"] == PERP
            mark = asyncio.ensure_future(
                _until(lambda: ex.watch_mark_price(PERP), lambda t: t["markPrice"] == 60100)
            )
            changed = asyncio.ensure_future(
                _until(lambda: ex.watch_order_book(PERP), lambda b: b["asks"][0][1] == 0.6)
            )
            await asyncio.sleep(0.5)
            await ex.create_order(PERP, "market", "buy", 0.4)  # takes 0.4 of the ask
            got = await trades
            assert got[-1]["price"] == 60010 and got[-1]["amount"] == 0.4
            book = await changed  # the diff stream (U/u/pu on the node's seq) kept it in sync
            assert book["asks"][0] == [60010.0, 0.6] and book["bids"][0] == [59990.0, 1.0]
            env.mark("60100")
            assert (await mark)["symbol"] == PERP
        finally:
            await ex.close()

    asyncio.run(session())
