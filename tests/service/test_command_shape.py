"""One command shape (issue item 4): every SubmitOrder field a user gives reaches the engine
through every interface, by the same name: ``Node.submit`` and the REST body ``OrderIn``."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from order_rest import SPOT, STOCK, OrderApi, order_api

from atlas_oms import Node
from atlas_oms.model.commands import SubmitOrder, user_submit_fields
from atlas_oms.model.enums import OrderType, TrailingOffsetType
from atlas_oms.service.schemas import OrderIn


# ---------------------------------------------------------------------------- the shape
def test_order_in_takes_every_submit_order_field_a_user_gives() -> None:
    missing = [f for f in user_submit_fields() if f not in OrderIn.model_fields]
    assert not missing, f"OrderIn (the REST body) lacks SubmitOrder fields {missing}"


def test_order_in_has_no_field_that_submit_order_lacks() -> None:
    # route and strategy say where the order goes (accounts.yaml), not what it is
    extra = sorted(set(OrderIn.model_fields) - set(user_submit_fields()) - OrderIn.ROUTING_FIELDS)
    assert not extra, f"OrderIn fields {extra} are not SubmitOrder fields a user gives"


#: Fields SubmitOrder requires that the REST body may leave out: its default is the API's own.
REST_DEFAULTS = {"order_type": OrderType.LIMIT}


def test_order_in_defaults_are_submit_order_defaults() -> None:
    info = msgspec.structs.fields(SubmitOrder)
    defaults = {f.name: f.default for f in info if f.default is not msgspec.NODEFAULT}
    for name, field in OrderIn.model_fields.items():
        if name in OrderIn.ROUTING_FIELDS:
            continue
        if name in defaults:
            assert field.default == defaults[name], name
        elif name in REST_DEFAULTS:
            assert field.default == REST_DEFAULTS[name], name
        else:  # a field SubmitOrder requires, OrderIn requires too
            assert field.is_required(), name


def test_node_submit_takes_every_submit_order_field_a_user_gives() -> None:
    params = inspect.signature(Node.submit).parameters
    keyword = {
        name
        for name, p in params.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name != "self"
    }
    missing = [f for f in user_submit_fields() if f not in keyword]
    assert not missing, f"Node.submit lacks keyword parameters {missing}"


# ---------------------------------------------------------------------------- over REST
@pytest.fixture
def rest(tmp_path: Path) -> Iterator[OrderApi]:
    with order_api(tmp_path) as client:
        yield client


def test_a_trailing_stop_over_rest_reaches_the_engine_with_its_offset(rest: OrderApi) -> None:
    r = rest.post(
        symbol=SPOT,
        side="SELL",
        order_type="TRAILING_STOP_MARKET",
        qty="1",
        trailing_offset="5",
    )
    assert r.status_code == 201, r.text
    assert r.json()["trigger_price"] == "29995.00"  # 30000 trailed by 5
    intent = rest.intent(r.json()["order_id"])
    assert intent.order_type is OrderType.TRAILING_STOP_MARKET
    assert intent.trailing_offset == Decimal(5)
    assert intent.trailing_offset_type is TrailingOffsetType.PRICE


def test_a_percent_trailing_stop_limit_over_rest_keeps_type_and_limit_offset(
    rest: OrderApi,
) -> None:
    r = rest.post(
        symbol=SPOT,
        side="BUY",
        order_type="TRAILING_STOP_LIMIT",
        qty="0.5",
        trailing_offset="1",
        trailing_offset_type="PERCENT",
        limit_offset="10",
    )
    assert r.status_code == 201, r.text
    assert r.json()["trigger_price"] == "30300.00"  # 1% above 30000
    intent = rest.intent(r.json()["order_id"])
    assert intent.trailing_offset == Decimal(1)
    assert intent.trailing_offset_type is TrailingOffsetType.PERCENT
    assert intent.limit_offset == Decimal(10)


def test_an_extended_hours_limit_order_over_rest_trades_before_the_open(rest: OrderApi) -> None:
    stock = {"symbol": STOCK, "side": "BUY", "qty": "1", "price": "10"}
    refused = rest.post(**stock)
    assert refused.status_code == 422 and refused.json()["reason"] == "EXTENDED_HOURS_REQUIRED"
    assert rest.intent(refused.json()["order"]["order_id"]).extended_hours is False
    r = rest.post(**stock, extended_hours=True)
    assert r.status_code == 201 and r.json()["status"] == "ACCEPTED", r.text
    assert rest.intent(r.json()["order_id"]).extended_hours is True


@pytest.mark.parametrize(
    "field, value",
    [("trailing_offset", 5.0), ("limit_offset", True), ("trailing_offset", "NaN")],
)
def test_new_decimal_fields_are_exact_like_the_others(
    rest: OrderApi, field: str, value: Any
) -> None:
    r = rest.post(
        symbol=SPOT, side="SELL", order_type="TRAILING_STOP_MARKET", qty="1", **{field: value}
    )
    assert r.status_code == 400 and r.json()["reason"] == "INVALID_FIELD", r.text
