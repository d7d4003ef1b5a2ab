"""Native icebergs over REST: ``display_qty`` goes in through POST /v1/orders, is kept in the
order's record and comes back out of GET and the order list; a display quantity that does not fit
is refused with its reason code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from order_rest import SPOT, OrderApi, order_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[OrderApi]:
    with order_api(tmp_path) as client:
        yield client


def test_an_iceberg_round_trips_with_its_display_qty(api: OrderApi) -> None:
    r = api.post(symbol=SPOT, side="BUY", qty="1", price="29000", display_qty="0.25")
    assert r.status_code == 201, r.text
    assert r.json()["display_qty"] == "0.2500"  # at the lot's precision, as qty
    order_id = r.json()["order_id"]
    assert api.get(f"/v1/orders/{order_id}").json()["display_qty"] == "0.2500"
    assert api.intent(order_id).display_qty is not None
    listed = api.get("/v1/orders", open_only=True).json()["orders"]
    assert [o["display_qty"] for o in listed] == ["0.2500"]


def test_an_ordinary_order_shows_no_display_qty(api: OrderApi) -> None:
    r = api.post(symbol=SPOT, side="BUY", qty="1", price="29000")
    assert r.status_code == 201, r.text
    assert r.json()["display_qty"] is None


def test_a_display_qty_as_large_as_the_order_is_refused(api: OrderApi) -> None:
    r = api.post(symbol=SPOT, side="BUY", qty="1", price="29000", display_qty="1")
    assert r.status_code == 422
    assert r.json()["reason"] == "INVALID_DISPLAY_QTY"
    assert r.json()["order"]["status"] == "DENIED"


def test_a_market_iceberg_is_refused(api: OrderApi) -> None:
    r = api.post(symbol=SPOT, side="BUY", order_type="MARKET", qty="1", display_qty="0.1")
    assert r.status_code == 422
    assert r.json()["reason"] == "INVALID_DISPLAY_QTY"
