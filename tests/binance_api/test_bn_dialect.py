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


def _signed_get(env: Env, path: str, params: dict[str, str], who: str = "alice") -> httpx.Response:
    import hashlib
    import hmac
    import time
    from urllib.parse import urlencode

    api_key, secret = env.pair(who)
    query = urlencode(params | {"timestamp": str(int(time.time() * 1000))})
    sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return httpx.get(f"{env.http}{path}?{query}&signature={sig}", headers={"X-MBX-APIKEY": api_key})


def test_a_commit_timeout_answers_binance_unknown_1007(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import hmac
    import time
    from urllib.parse import urlencode

    from atlas_oms.runtime.live import CommitTimeout

    async def stuck() -> None:
        raise CommitTimeout("the journal is slow")

    monkeypatch.setattr(env.client.app.state.service, "durable", stuck)
    api_key, secret = env.pair("alice")
    body = urlencode(
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.1",
            "price": "29000",
            "newClientOrderId": "slow-1",
            "timestamp": str(int(time.time() * 1000)),
        }
    )
    sig = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    r = httpx.post(
        env.http + "/api/v3/order",
        content=f"{body}&signature={sig}",
        headers={"X-MBX-APIKEY": api_key, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 503
    assert r.json()["code"] == -1007 and "unknown" in r.json()["msg"]
    monkeypatch.undo()
    # The order was processed (its outcome was unknown, not failed): it can be queried.
    found = _signed_get(env, "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "slow-1"})
    assert found.status_code == 200 and found.json()["status"] == "NEW"


def test_requests_show_in_metrics_and_the_access_log(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="atlas.access"):
        httpx.get(env.http + "/api/v3/ping")
        bad = _signed_get(env, "/api/v3/account", {}, who="alice")
        assert bad.status_code == 200
        r = httpx.get(
            env.http + "/api/v3/account",
            params={"timestamp": "1", "signature": "0"},
            headers={"X-MBX-APIKEY": "ak_nobody"},
        )
        assert r.status_code == 401 and r.json()["code"] == -2015
    text = env.client.get("/metrics").text
    assert (
        'atlas_interface_requests_total{interface="binance",method="GET /api/v3/ping",outcome="ok"} 1.0'
        in text
    )
    assert 'interface="binance",method="GET /api/v3/account",outcome="UNAUTHENTICATED"' in text
    assert 'atlas_interface_request_seconds_count{interface="binance"}' in text
    lines = [r for r in caplog.records if getattr(r, "interface", None) == "binance"]
    account = [r for r in lines if getattr(r, "method", "") == "GET /api/v3/account"]
    assert [getattr(r, "status", None) for r in account] == [200, 401]
    assert getattr(account[0], "key_id", "").startswith("ak_")
    assert "signature=***" in getattr(account[0], "path", "")


def test_order_count_headers_and_weight_limit(tmp_path: Path) -> None:
    import hashlib
    import hmac
    import time
    from urllib.parse import urlencode

    for env in make_env(tmp_path, binance_weight_per_minute=30):
        api_key, secret = env.pair("alice")
        body = urlencode(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.1",
                "price": "29000",
                "timestamp": str(int(time.time() * 1000)),
            }
        )
        sig = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
        r = httpx.post(
            env.http + "/api/v3/order",
            content=f"{body}&signature={sig}",
            headers={"X-MBX-APIKEY": api_key, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200, r.text
        assert r.headers["X-MBX-ORDER-COUNT-10S"] == "1"
        assert r.headers["X-MBX-ORDER-COUNT-1D"] == "1"
        codes = [httpx.get(env.http + "/api/v3/exchangeInfo").status_code for _ in range(2)]
        assert codes == [200, 429]
        refused = httpx.get(env.http + "/api/v3/ping")
        assert refused.status_code == 429 and refused.json()["code"] == -1003
