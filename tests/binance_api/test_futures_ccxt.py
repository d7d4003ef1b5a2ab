"""The USDⓈ-M dialect with the real ccxt client (sync ``ccxt.binance``, ``defaultType:
future``) against Atlas in-process: markets, leverage, margin type, orders that fill on the
built-in exchange, positions, balance, funding, Binance's errors."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import ccxt
import httpx
import pytest
from tests.binance_api.futures_kit import PERP, FuturesEnv, make_futures_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[FuturesEnv]:
    yield from make_futures_env(tmp_path)


def test_markets_show_the_nodes_perpetual(env: FuturesEnv) -> None:
    ex = ccxt.binance(env.config())
    markets = ex.load_markets()
    m = markets["BTC/USDT:USDT"]
    assert m["id"] == "BTCUSDT" and m["linear"] and m["swap"]
    assert m["precision"]["price"] == 0.1 and m["precision"]["amount"] == 0.001


def test_leverage_margin_mode_order_fill_position_and_balance(env: FuturesEnv) -> None:
    ex = ccxt.binance(env.config())
    ex.load_markets()
    assert ex.set_leverage(20, PERP)["leverage"] == 20
    ex.set_margin_mode("isolated", PERP)
    with pytest.raises(ccxt.MarginModeAlreadySet):  # Binance's -4046, as ccxt knows it
        ex.set_margin_mode("isolated", PERP)
    env.maker("SELL", "0.5", "60000")
    order = ex.create_order(PERP, "limit", "buy", 0.2, 60000, {"newClientOrderId": "bot-1"})
    assert order["clientOrderId"] == "bot-1"
    fetched = ex.fetch_order(order["id"], PERP)
    assert fetched["status"] == "closed" and fetched["filled"] == 0.2
    (pos,) = ex.fetch_positions([PERP])
    assert pos["contracts"] == 0.2 and pos["side"] == "long"
    assert pos["leverage"] == 20 and pos["marginMode"] == "isolated"
    assert pos["entryPrice"] == 60000
    assert env.node.position("alice", PERP).qty == Decimal("0.2")  # type: ignore[union-attr]
    bal = ex.fetch_balance()
    usdt = env.node.balance("alice", "USDT")
    assert Decimal(str(bal["USDT"]["total"])) == usdt.total
    assert Decimal(str(bal["USDT"]["free"])) == usdt.free
    trades = ex.fetch_my_trades(PERP)
    assert [t["amount"] for t in trades] == [0.2]
    # close it with a reduce-only market order
    env.maker("BUY", "1", "59990")
    ex.create_order(PERP, "market", "sell", 0.2, None, {"reduceOnly": True})
    assert ex.fetch_positions([PERP]) == []


def test_open_cancel_and_cancel_all(env: FuturesEnv) -> None:
    ex = ccxt.binance(env.config())
    ex.load_markets()
    a = ex.create_order(PERP, "limit", "buy", 0.01, 50000)
    ex.create_order(PERP, "limit", "buy", 0.01, 50001)
    assert {o["id"] for o in ex.fetch_open_orders(PERP)} >= {a["id"]}
    assert ex.cancel_order(a["id"], PERP)["status"] == "canceled"
    ex.cancel_all_orders(PERP)
    assert ex.fetch_open_orders(PERP) == []
    closed = ex.fetch_orders(PERP)
    assert len(closed) == 2 and all(o["status"] == "canceled" for o in closed)


def test_funding_rate_and_brackets(env: FuturesEnv) -> None:
    ex = ccxt.binance(env.config())
    ex.load_markets()
    rate = ex.fetch_funding_rate(PERP)
    assert rate["markPrice"] == 60000 and rate["fundingRate"] == 0
    tiers = ex.fetch_market_leverage_tiers(PERP)
    assert [t["maxLeverage"] for t in tiers] == [125, 100, 50]


def test_refusals_are_binance_errors(env: FuturesEnv) -> None:
    ex = ccxt.binance(env.config("thin"))
    ex.load_markets()
    env.maker("SELL", "5", "60000")
    # Binance's own code; ccxt maps -2019 to InsufficientFunds only on Binance's hostnames
    with pytest.raises(ccxt.ExchangeError, match="-2019"):
        ex.create_order(PERP, "limit", "buy", 1, 60000)
    assert env.node.orders("thin")[-1].status == "DENIED"  # journaled as Atlas's denial
    with pytest.raises(ccxt.BadRequest):
        ex.set_leverage(500, PERP)
    api_key, _secret = env.pair("alice")
    r = httpx.get(
        env.http + "/fapi/v2/account",
        params={"timestamp": "1", "signature": "00"},
        headers={"X-MBX-APIKEY": api_key},
    )
    assert r.status_code == 400 and r.json()["code"] == -1022
    r = httpx.post(env.http + "/fapi/v1/positionSide/dual")
    assert r.json()["code"] == -2015


def test_ohlcv_trades_ticker_and_book(env: FuturesEnv) -> None:
    ex = ccxt.binance(env.config())
    ex.load_markets()
    env.maker("SELL", "0.5", "60010")
    env.maker("BUY", "0.5", "59990")
    ex.create_order(PERP, "market", "buy", 0.1)
    book = ex.fetch_order_book(PERP)
    assert book["bids"][0] == [59990.0, 0.5] and book["asks"][0] == [60010.0, 0.4]
    (trade,) = ex.fetch_trades(PERP)
    assert trade["price"] == 60010 and trade["amount"] == 0.1 and trade["side"] == "buy"
    bars = ex.fetch_ohlcv(PERP, "1m", limit=5)
    assert len(bars) == 5 and bars[-1][4] == 60010 and bars[-1][5] == 0.1
    assert bars[-1][0] - bars[-2][0] == 60_000  # every interval, as Binance sends them
    mark = ex.fetch_mark_ohlcv(PERP, "1h", limit=3)
    assert [b[4] for b in mark] == [60000, 60000, 60000]
    ticker = ex.fetch_ticker(PERP)
    assert ticker["last"] == 60010
    assert ex.fetch_funding_rate_history(PERP) == []


def test_position_mode_is_one_way_and_fixed(env: FuturesEnv) -> None:
    ex = ccxt.binance(env.config())
    ex.load_markets()
    assert ex.fetch_position_mode(PERP)["hedged"] is False
    with pytest.raises(ccxt.ExchangeError, match="-4068"):
        ex.set_position_mode(True)
    with pytest.raises(ccxt.ExchangeError, match="-4059"):
        ex.set_position_mode(False)
    with pytest.raises(ccxt.ExchangeError, match="-4061"):
        ex.create_order(PERP, "limit", "buy", 0.01, 50000, {"positionSide": "LONG"})
    with pytest.raises(ccxt.ExchangeError, match="-1106"):
        ex.create_order(PERP, "market", "sell", 0.01, None, {"closePosition": True})
