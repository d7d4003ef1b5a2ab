"""The spot dialect through the real sync ccxt client (in-process server): market data, the
account, orders that fill against resting orders, cancels, cancelReplace, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ccxt
import httpx
import pytest
from tests.binance_api.kit import Env, make_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def client(env: Env, who: str = "alice", account: str | None = None) -> Any:
    ex = ccxt.binance(env.config(who, account))
    ex.load_markets()
    return ex


def rest_order(env: Env, side: str, price: str, qty: str = "1") -> Any:
    body = {"account_id": "maker", "symbol": "BTC/USDT", "side": side, "qty": qty, "price": price}
    return env.rest("maker", "POST", "/v1/orders", json=body)


def test_load_markets_and_market_data(env: Env) -> None:
    rest_order(env, "SELL", "30010")
    rest_order(env, "BUY", "29990")
    ex = client(env)
    assert "BTC/USDT" in ex.markets and ex.markets["BTC/USDT"]["id"] == "BTCUSDT"
    assert ex.markets["BTC/USDT"]["precision"]["price"] == 0.01
    book = ex.fetch_order_book("BTC/USDT")
    assert book["asks"][0] == [30010.0, 1.0] and book["bids"][0] == [29990.0, 1.0]
    ticker = ex.fetch_ticker("BTC/USDT")
    assert ticker["bid"] == 29990.0 and ticker["ask"] == 30010.0
    ex.create_order("BTC/USDT", "market", "buy", 0.5)
    trades = ex.fetch_trades("BTC/USDT")
    assert [(t["price"], t["amount"], t["side"]) for t in trades] == [(30010.0, 0.5, "buy")]
    bars = ex.fetch_ohlcv("BTC/USDT", "1m")
    assert len(bars) == 1 and bars[0][1] == 30010.0 and bars[0][5] == 0.5


def test_orders_fill_cancel_and_read_back(env: Env) -> None:
    rest_order(env, "SELL", "30010", "2")
    ex = client(env)
    before = ex.fetch_balance()
    assert before["USDT"]["free"] == 1_000_000.0 and before["BTC"]["total"] == 100.0
    bought = ex.create_order("BTC/USDT", "limit", "buy", 0.5, 30020)
    assert bought["status"] == "closed" and bought["filled"] == 0.5
    assert bought["average"] == 30010.0
    resting = ex.create_order("BTC/USDT", "limit", "buy", 0.1, 29000)
    assert resting["status"] == "open"
    assert [o["id"] for o in ex.fetch_open_orders("BTC/USDT")] == [resting["id"]]
    fetched = ex.fetch_order(resting["id"], "BTC/USDT")
    assert fetched["clientOrderId"] == resting["clientOrderId"] and fetched["price"] == 29000.0
    mine = ex.fetch_my_trades("BTC/USDT")
    assert [(t["price"], t["amount"], t["takerOrMaker"]) for t in mine] == [(30010.0, 0.5, "taker")]
    assert mine[0]["fee"]["currency"] is not None
    canceled = ex.cancel_order(resting["id"], "BTC/USDT")
    assert canceled["status"] == "canceled"
    closed = ex.fetch_closed_orders("BTC/USDT")
    assert [o["id"] for o in closed] == [bought["id"]]  # ccxt: closed = filled, not canceled
    after = ex.fetch_balance()
    assert after["BTC"]["total"] == 100.5


def test_cancel_all_and_edit_order(env: Env) -> None:
    ex = client(env)
    a = ex.create_order("BTC/USDT", "limit", "buy", 0.1, 29000)
    ex.create_order("BTC/USDT", "limit", "buy", 0.1, 29001)
    edited = ex.edit_order(a["id"], "BTC/USDT", "limit", "buy", 0.2, 29100)
    assert edited["id"] != a["id"] and edited["price"] == 29100.0 and edited["amount"] == 0.2
    assert ex.fetch_order(a["id"], "BTC/USDT")["status"] == "canceled"
    assert len(ex.fetch_open_orders("BTC/USDT")) == 2
    ex.cancel_all_orders("BTC/USDT")
    assert ex.fetch_open_orders("BTC/USDT") == []


def test_sub_account_by_api_key_suffix(env: Env) -> None:
    ex = client(env, "alice", "alice-algo")
    order = ex.create_order("BTC/USDT", "limit", "buy", 0.1, 29000)
    assert env.node.order(int(order["id"])).account_id == "alice-algo"
    with pytest.raises(ccxt.AuthenticationError):
        client(env, "alice", "bob").fetch_balance()  # not alice's: -2015


def test_risk_denial_is_a_binance_error(env: Env) -> None:
    ex = client(env, "bob")  # bob holds 100 USDT
    with pytest.raises(ccxt.InsufficientFunds) as caught:
        ex.create_order("BTC/USDT", "limit", "buy", 1, 29000)
    assert "insufficient balance" in str(caught.value)
    denied = env.node.orders("bob")
    assert [o.status for o in denied] == ["DENIED"]  # journaled, as through REST


def test_auth_errors(env: Env) -> None:
    api_key, secret = env.pair("alice")
    bad = ccxt.binance(env.config("alice") | {"secret": "0" * 64})
    bad.load_markets()
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        bad.fetch_balance()
    unknown = ccxt.binance(env.config("alice") | {"apiKey": "ak_000000000000"})
    unknown.load_markets()
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        unknown.fetch_balance()
    r = httpx.get(
        env.http + "/api/v3/account",
        params={"timestamp": "1000", "signature": "x"},
        headers={"X-MBX-APIKEY": api_key},
    )
    assert r.status_code == 400 and r.json()["code"] == -1022
    import hashlib
    import hmac

    query = "timestamp=1000"
    sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    r = httpx.get(
        f"{env.http}/api/v3/account?{query}&signature={sig}", headers={"X-MBX-APIKEY": api_key}
    )
    assert r.status_code == 400 and r.json()["code"] == -1021
