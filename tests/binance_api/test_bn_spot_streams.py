"""The spot dialect's streams through the real ccxt.pro client (in-process server): order book
(diff depth synced on the REST snapshot), trades, ticker; user data over the WebSocket API
(orders, balance, my trades) seeing durable fills."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ccxt.pro
import pytest
from tests.binance_api.kit import Env, make_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def rest_order(env: Env, side: str, price: str, qty: str = "1", who: str = "maker") -> Any:
    body = {"account_id": who, "symbol": "BTC/USDT", "side": side, "qty": qty, "price": price}
    return env.rest(who, "POST", "/v1/orders", json=body)


async def later(fn: Any, *args: Any) -> Any:
    await asyncio.sleep(0.3)
    return await asyncio.to_thread(fn, *args)


def test_public_streams(env: Env) -> None:
    rest_order(env, "SELL", "30010")
    rest_order(env, "BUY", "29990")

    async def run() -> None:
        ex = ccxt.pro.binance(env.config())
        try:
            await ex.load_markets()
            book = await ex.watch_order_book("BTC/USDT")
            assert book["asks"][0] == [30010.0, 1.0]
            task = asyncio.ensure_future(later(rest_order, env, "SELL", "30005", "0.5"))
            while True:
                book = await asyncio.wait_for(ex.watch_order_book("BTC/USDT"), 10)
                if book["asks"][0][0] == 30005.0:
                    break
            await task
            assert book["asks"][:2] == [[30005.0, 0.5], [30010.0, 1.0]]
            trade_task = asyncio.ensure_future(
                later(rest_order, env, "BUY", "30005", "0.2", "alice")
            )
            trades = await asyncio.wait_for(ex.watch_trades("BTC/USDT"), 10)
            await trade_task
            assert [(t["price"], t["amount"], t["side"]) for t in trades] == [(30005.0, 0.2, "buy")]
            ticker_task = asyncio.ensure_future(later(rest_order, env, "BUY", "29995", "0.1"))
            ticker = await asyncio.wait_for(ex.watch_ticker("BTC/USDT"), 10)
            await ticker_task
            assert ticker["last"] == 30005.0
        finally:
            await ex.close()

    asyncio.run(run())


def test_user_data_streams_see_the_fills(env: Env) -> None:
    rest_order(env, "SELL", "30010", "2")

    async def run() -> None:
        ex = ccxt.pro.binance(env.config())
        try:
            await ex.load_markets()
            orders_f = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))
            await asyncio.sleep(0.5)
            trades_f = asyncio.ensure_future(ex.watch_my_trades("BTC/USDT"))
            balance_f = asyncio.ensure_future(ex.watch_balance())
            await asyncio.sleep(0.5)
            placed = await ex.create_order("BTC/USDT", "limit", "buy", 0.5, 30020)
            orders = await asyncio.wait_for(orders_f, 10)
            assert orders[-1]["id"] == placed["id"]
            while orders[-1]["status"] != "closed":
                orders = await asyncio.wait_for(ex.watch_orders("BTC/USDT"), 10)
            assert orders[-1]["filled"] == 0.5
            trades = await asyncio.wait_for(trades_f, 10)
            assert [(t["price"], t["amount"]) for t in trades] == [(30010.0, 0.5)]
            balance = await asyncio.wait_for(balance_f, 10)
            while balance.get("BTC", {}).get("free") != 100.5:
                balance = await asyncio.wait_for(ex.watch_balance(), 10)
        finally:
            await ex.close()

    asyncio.run(run())


def test_orders_over_the_websocket_api(env: Env) -> None:
    rest_order(env, "SELL", "30010", "2")

    async def run() -> None:
        ex = ccxt.pro.binance(env.config())
        try:
            await ex.load_markets()
            filled = await ex.create_order_ws("BTC/USDT", "limit", "buy", 0.5, 30020)
            assert filled["status"] == "closed" and filled["filled"] == 0.5
            resting = await ex.create_order_ws("BTC/USDT", "limit", "buy", 0.1, 29000)
            assert resting["status"] == "open"
            canceled = await ex.cancel_order_ws(resting["id"], "BTC/USDT")
            assert canceled["status"] == "canceled"
            with pytest.raises(ccxt.InsufficientFunds):
                bob = ccxt.pro.binance(env.config("bob"))
                try:
                    await bob.load_markets()
                    await bob.create_order_ws("BTC/USDT", "limit", "buy", 1, 29000)
                finally:
                    await bob.close()
        finally:
            await ex.close()

    asyncio.run(run())
