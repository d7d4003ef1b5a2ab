"""A real ``atlas serve`` subprocess: a SMART order through POST /v1/orders answers where and why it
went, a TWAP through POST /v1/algos slices on the server's own clock, and both parents' views and
execution reports read back (also after a restart: the rationale comes back from the journal)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.service.serving import REQUEST_TIMEOUT_S, WAIT_S, Served

SYMBOL = "BTC/USDT"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path / "data").start()
    try:
        yield server
    finally:
        server.ensure_stopped()


def call(served: Served, method: str, path: str, key: dict[str, str], **kw: Any) -> Any:
    return httpx.request(method, served.url + path, headers=key, timeout=REQUEST_TIMEOUT_S, **kw)


def test_a_smart_order_and_a_twap_on_a_real_server(served: Served) -> None:
    maker = served.maker_key()
    trader = served.keys()["trader"]
    for qty, px in (("0.01", "60000"), ("0.05", "60010")):
        body = {"account_id": "maker", "symbol": SYMBOL, "side": "SELL", "qty": qty, "price": px}
        assert call(served, "POST", "/v1/orders", maker, json=body).status_code == 201
    smart = {
        "account_id": "desk",
        "symbol": SYMBOL,
        "side": "BUY",
        "qty": "0.02",
        "price": "60010",
        "venue": "SMART",
        "client_order_id": "smart-1",
    }
    r = call(served, "POST", "/v1/orders", trader, json=smart)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "SMART" and body["status"] == "DONE", body
    [alloc] = body["routing"]["decision"]["allocations"]
    assert alloc["venue"] == "sim" and Decimal(alloc["limit_price"]) == Decimal("60010")
    [seen] = body["routing"]["decision"]["seen"]
    assert Decimal(seen["best_ask"]) == Decimal("60000") and seen["used"] is True
    assert Decimal(body["avg_px"]) == Decimal("60005")
    report = call(served, "GET", "/v1/algos/smart-1/report", trader).json()
    assert report["filled_qty"] == "0.02000" and report["slippage_bps"] is not None

    twap = {
        "account_id": "desk",
        "symbol": SYMBOL,
        "side": "BUY",
        "qty": "0.02",
        "kind": "TWAP",
        "algo_id": "twap-1",
        "duration_ms": 1_500,
        "slices": 2,
        "limit_price": "60100",
    }
    r = call(served, "POST", "/v1/algos", trader, json=twap)
    assert r.status_code == 201, r.text
    assert r.json()["slices_done"] == 1 and r.json()["cum_qty"] == "0.01000"
    deadline = time.monotonic() + WAIT_S
    while True:  # the server's clock starts the second slice, then ends the window
        view = call(served, "GET", "/v1/algos/twap-1", trader).json()
        if view["status"] != "WORKING" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert view["status"] == "DONE", view
    assert view["cum_qty"] == "0.02000" and view["slices_done"] == 2
    assert [c["status"] for c in view["children"]] == ["FILLED", "FILLED"]
    report = call(served, "GET", "/v1/algos/twap-1/report", trader).json()
    assert report["slices_done"] == 2 and Decimal(report["avg_px"]) == Decimal("60010")
    listed = call(served, "GET", "/v1/algos", trader, params={"account_id": "desk"}).json()
    assert [a["algo_id"] for a in listed["algos"]] == ["smart-1", "twap-1"]

    # After a restart the parents and the SMART order's rationale come back from the journal.
    code, _, _ = served.stop()
    assert code == 0
    served.start()
    again = call(served, "GET", "/v1/algos/smart-1", trader).json()
    assert again["status"] == "DONE"
    assert again["routes"][0]["decision"] == body["routing"]["decision"]
