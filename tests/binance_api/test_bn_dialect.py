"""The dialect's server: public endpoints, Binance's error JSON and weight headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.binance_api.kit import Env, make_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def test_ping_time_and_weight_header(env: Env) -> None:
    r = httpx.get(env.http + "/api/v3/ping")
    assert r.status_code == 200 and r.json() == {}
    assert r.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    t = httpx.get(env.http + "/api/v3/time").json()
    assert isinstance(t["serverTime"], int)
    r = httpx.get(env.http + "/api/v3/exchangeInfo")
    assert r.headers["X-MBX-USED-WEIGHT-1M"] == "22"


def test_exchange_info_lists_the_nodes_spot_instruments_with_filters(env: Env) -> None:
    info = httpx.get(env.http + "/api/v3/exchangeInfo").json()
    by_id = {s["symbol"]: s for s in info["symbols"]}
    assert set(by_id) == {"BTCUSDT", "ETHUSDT"}
    btc = by_id["BTCUSDT"]
    assert (btc["baseAsset"], btc["quoteAsset"]) == ("BTC", "USDT")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01"
    assert filters["LOT_SIZE"]["stepSize"] == "0.0001"
    assert filters["MIN_NOTIONAL"]["minNotional"] == "5"
    one = httpx.get(env.http + "/api/v3/exchangeInfo", params={"symbol": "ETHUSDT"}).json()
    assert [s["symbol"] for s in one["symbols"]] == ["ETHUSDT"]


def test_unknown_symbol_and_unknown_path_answer_binance_errors(env: Env) -> None:
    r = httpx.get(env.http + "/api/v3/exchangeInfo", params={"symbol": "NOPEUSDT"})
    assert r.status_code == 400
    assert r.json() == {"code": -1121, "msg": "Invalid symbol."}
    r = httpx.get(env.http + "/api/v3/nothing")
    assert r.status_code == 404 and r.json()["code"] == -1100
