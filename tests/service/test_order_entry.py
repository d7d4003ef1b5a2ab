"""Order entry over REST does what the library does (issue 11, defects 7 and 8): every SubmitOrder
field a user gives goes in through POST /v1/orders and comes back out of GET; a resend of a client
order id answers ``duplicate``; orders are read, canceled and modified by client order id."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from order_rest import PRE_MARKET_NS, SPOT, STOCK, OrderApi, order_api

from atlas_oms.model.commands import user_submit_fields
from atlas_oms.service.schemas import OrderIn


@pytest.fixture
def api(tmp_path: Path) -> Iterator[OrderApi]:
    with order_api(tmp_path) as client:
        yield client


# ---------------------------------------------------------------- the body's shape
def test_the_rest_body_has_exactly_the_fields_a_user_gives_submit_order() -> None:
    # route and strategy (last) say where the order goes (accounts.yaml), not what it is
    order_fields = tuple(f for f in OrderIn.model_fields if f not in OrderIn.ROUTING_FIELDS)
    assert order_fields == user_submit_fields()


def test_the_order_view_shows_back_every_term_a_user_gives(api: OrderApi) -> None:
    """Every user field of SubmitOrder is in GET's answer (by its name), so nothing sent is lost
    from sight; ``qty``/``price``/``trigger_price`` show the order as it is now."""
    r = api.post(symbol=SPOT, side="BUY", qty="0.1", price="29000", client_order_id="shape")
    shown = set(api.get(f"/v1/orders/{r.json()['order_id']}").json())
    assert set(user_submit_fields()) <= shown


# ---------------------------------------------------------------- round trips
def test_a_trailing_stop_with_offset_and_offset_type_round_trips(api: OrderApi) -> None:
    r = api.post(
        symbol=SPOT,
        side="SELL",
        order_type="TRAILING_STOP_MARKET",
        qty="1",
        trailing_offset="2",
        trailing_offset_type="PERCENT",
        trigger_type="MARK",
    )
    assert r.status_code == 201, r.text
    got = api.get(f"/v1/orders/{r.json()['order_id']}").json()
    assert got["order_type"] == "TRAILING_STOP_MARKET"
    # A percentage offset is shown as given (never rounded to the tick); prices at the tick.
    assert (got["trailing_offset"], got["trailing_offset_type"]) == ("2", "PERCENT")
    assert got["trigger_type"] == "MARK" and got["trigger_price"] == "29400.00"
    listed = api.get("/v1/orders", open_only=True).json()["orders"]
    assert [o["trailing_offset_type"] for o in listed] == ["PERCENT"]


def test_a_limit_offset_order_round_trips(api: OrderApi) -> None:
    r = api.post(
        symbol=SPOT,
        side="BUY",
        order_type="TRAILING_STOP_LIMIT",
        qty="0.5",
        trailing_offset="100",
        limit_offset="10",
        client_order_id="tsl-1",
    )
    assert r.status_code == 201, r.text
    got = api.get(f"/v1/orders/{r.json()['order_id']}").json()
    # A PRICE offset and a limit offset are price distances: at the tick, as prices.
    assert (got["trailing_offset"], got["limit_offset"]) == ("100.00", "10.00")
    assert got["trigger_price"] == "30100.00"


def test_an_extended_hours_gtd_post_only_order_round_trips(api: OrderApi) -> None:
    expire = PRE_MARKET_NS + 3_600 * 1_000_000_000
    r = api.post(
        symbol=STOCK,
        side="BUY",
        qty="1",
        price="9",
        extended_hours=True,
        tif="GTD",
        expire_ts=expire,
        post_only=True,
        tag="pre-open",
    )
    assert r.status_code == 201, r.text
    assert r.json()["duplicate"] is False
    got = api.get(f"/v1/orders/{r.json()['order_id']}").json()
    assert got["extended_hours"] is True and got["status"] == "ACCEPTED"
    assert (got["tif"], got["expire_ts"], got["post_only"], got["tag"]) == (
        "GTD",
        expire,
        True,
        "pre-open",
    )


# ---------------------------------------------------------------- client order ids
def test_a_resend_answers_the_original_marked_duplicate(api: OrderApi) -> None:
    body = {"symbol": SPOT, "side": "BUY", "qty": "0.1", "price": "29000", "client_order_id": "a1"}
    first = api.post(**body)
    assert first.status_code == 201 and first.json()["duplicate"] is False
    again = api.post(**body)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["order_id"] == first.json()["order_id"]


def test_a_resend_with_another_quantity_is_refused_409(api: OrderApi) -> None:
    body = {"symbol": SPOT, "side": "BUY", "qty": "0.1", "price": "29000", "client_order_id": "a2"}
    api.post(**body)
    r = api.post(**(body | {"qty": "0.2"}))
    assert r.status_code == 409, r.text
    assert r.json()["reason"] == "DUPLICATE_CLIENT_ORDER_ID"
    assert "qty (0.1 there, 0.2 here)" in r.json()["detail"]


def test_a_batch_marks_each_result(api: OrderApi) -> None:
    body = {"account_id": "alice", "symbol": SPOT, "side": "BUY", "price": "29000"}
    orders = [
        body | {"qty": "0.1", "client_order_id": "b1"},
        body | {"qty": "0.1", "client_order_id": "b1"},
        body | {"qty": "0.3", "client_order_id": "b1"},
        body | {"qty": "0.1", "client_order_id": "b2"},
    ]
    r = api.client.post("/v1/orders/batch", json={"orders": orders}, headers=api.headers)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 200, 409, 201]
    assert [x["body"].get("duplicate") for x in results] == [False, True, None, False]
    assert results[2]["body"]["reason"] == "DUPLICATE_CLIENT_ORDER_ID"


def test_get_modify_and_cancel_by_client_order_id(api: OrderApi) -> None:
    made = api.post(symbol=SPOT, side="BUY", qty="0.1", price="29000", client_order_id="c/1 x")
    path = "/v1/orders/by-client-id/c%2F1%20x"
    got = api.get(path)
    assert got.status_code == 200, got.text
    assert got.json()["order_id"] == made.json()["order_id"]
    assert got.json()["client_order_id"] == "c/1 x"
    patched = api.client.patch(
        path, json={"account_id": "alice", "price": "29100"}, headers=api.headers
    )
    assert patched.status_code == 200, patched.text
    assert Decimal(api.get(path).json()["price"]) == Decimal(29100)
    canceled = api.delete(path)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "CANCELED"
    again = api.delete(path)
    assert again.status_code == 409 and again.json()["reason"] == "ORDER_NOT_LIVE"


def test_by_client_order_id_follows_the_same_404_and_403_rules(api: OrderApi) -> None:
    made = api.post(symbol=SPOT, side="BUY", qty="0.1", price="29000", client_order_id="mine")
    by_id = f"/v1/orders/{made.json()['order_id']}"
    by_client_id = "/v1/orders/by-client-id/mine"
    assert api.get(by_client_id).status_code == api.get(by_id).status_code == 200
    assert api.get("/v1/orders/by-client-id/nope").status_code == 404
    assert api.delete("/v1/orders/by-client-id/nope").status_code == 404
    # An account the key does not reach: answered as by order id, nothing canceled.
    for_bob = api.get(by_client_id, account_id="bob").status_code
    assert for_bob == api.get(by_id, account_id="bob").status_code
    assert for_bob in (403, 404)
    assert api.delete(by_client_id, account_id="bob").status_code == for_bob
    assert api.get(by_client_id).json()["status"] == "ACCEPTED"
    stranger = api.client.get(by_client_id, params={"account_id": "alice"})
    assert stranger.status_code == 401  # no key at all
