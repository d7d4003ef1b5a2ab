"""Numbers on the API's edge (service/numbers.py): exact strings without exponent, prices at the
instrument's tick, quantities at its lot, money at the asset's places, averages at tick + 4;
the same on REST, on the WebSocket (the blotter's feed) and nowhere an exponent or a -0."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient

from atlas_oms import Instrument, Node
from atlas_oms.core.orders.order import OrderView
from atlas_oms.core.state.positions import BalanceView, LotView, PositionView
from atlas_oms.runtime.account_history import ClosedPosition, EquityPoint, PnlEntry
from atlas_oms.runtime.queries import NetPosition
from atlas_oms.service import numbers as n
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

SPOT = "BTC/USDT"
EXACT = re.compile(r"^-?\d+(\.\d+)?$")
#: Fields that are decimals on the wire (every other string field is text).
DECIMAL_KEYS = {
    "qty", "price", "trigger_price", "cum_qty", "leaves_qty", "avg_px", "fees", "last_px",
    "last_qty", "fee", "total", "locked", "free", "avg_entry_px", "realized_pnl",
    "unrealized_pnl", "margin", "mark_px", "amount",
}  # fmt: skip


def world(node: Node) -> None:
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001"))
    for account in ("alice", "bob"):
        node.open_account(account)
        node.deposit(account, "USDT", "1000000")
        node.deposit(account, "BTC", "10")
    node.update_prices(SPOT, last="60105")


def numbers_of(obj: Any, found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Every (key, value) of a decimal field in a JSON answer, however deep."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in DECIMAL_KEYS and isinstance(v, str):
                found.append((k, v))
            else:
                numbers_of(v, found)
    elif isinstance(obj, list):
        for v in obj:
            numbers_of(v, found)
    return found


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], Node]]:
    keys = KeyStore(tmp_path / "keys.json")
    headers = {"X-API-Key": keys.issue(("trader",), ("alice",)).token}
    node = Node.in_memory()
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000)
    app = create_app(settings, node=node, keys=keys, setup=world)
    with TestClient(app) as client:
        yield client, headers, node


def test_the_formatting_rules() -> None:
    assert n.fixed(Decimal("60105.685140073081607795371500"), 2 + n.AVG_EXTRA) == "60105.685140"
    assert n.fixed(Decimal("-0E-7"), 7) == "0.0000000" and n.plain(Decimal("-0E-7")) == "0.0000000"
    assert n.fixed(Decimal("5.9E+4"), 2) == "59000.00" and n.plain(Decimal("5.9E+4")) == "59000"
    assert n.fixed(Decimal("0.125"), 2) == "0.12"  # half-even
    assert n.fixed(Decimal("1E+40"), 8).startswith("1" + "0" * 40 + ".")  # beyond 28 digits
    assert n.fixed(Decimal("1E+300"), 2) == "1" + "0" * 300  # beyond 200: exact
    assert n.fixed(Decimal("1E+999999"), 2) == "1E+999999"  # no real amount: not a page of 0s
    assert [n.places_of(Decimal(s)) for s in ("0.01", "0.5", "5", "1E+1", "0.00010")] == [
        2, 1, 0, 0, 4,
    ]  # fmt: skip


def test_every_decimal_field_of_every_view_has_an_explicit_kind() -> None:
    views = (OrderView, PositionView, LotView, BalanceView, NetPosition)
    for view in (*views, ClosedPosition, PnlEntry, EquityPoint):
        decimals = {
            f.name
            for f in msgspec.structs.fields(view)
            if "Decimal" in str(f.type) and "list" not in str(f.type)
        }
        assert decimals <= set(n.VIEWS[view]), f"{view.__name__}: {decimals - set(n.VIEWS[view])}"
    assert n.VIEWS[OrderView]["avg_px"] is n.AVG and n.VIEWS[OrderView]["price"] is n.PRICE
    assert n.VIEWS[OrderView]["qty"] is n.QTY and n.VIEWS[BalanceView]["total"] is n.MONEY
    assert n.VIEWS[PositionView]["margin_ratio"] is n.RATIO
    assert n.VIEWS[OrderView]["trailing_offset"] is n.OFFSET
    assert n.VIEWS[ClosedPosition]["entry_avg_px"] is n.AVG


def test_a_trailing_offset_is_a_price_distance_or_a_percentage_as_given() -> None:
    node = Node.in_memory()
    world(node)
    numbers = n.Numbers.of_node(node)
    out = numbers.builtins(
        [
            {"symbol": SPOT, "trailing_offset": Decimal("100"), "trailing_offset_type": "PRICE"},
            {"symbol": SPOT, "trailing_offset": Decimal("0.25"), "trailing_offset_type": "PERCENT"},
            {"symbol": SPOT, "trailing_offset": Decimal("5"), "limit_offset": Decimal("1.5")},
        ]
    )
    assert [o["trailing_offset"] for o in out] == ["100.00", "0.25", "5.00"]
    assert out[2]["limit_offset"] == "1.50"


def test_views_format_at_tick_lot_asset_and_average_places() -> None:
    node = Node.in_memory()
    world(node)
    numbers = n.Numbers.of_node(node, {"USD": 2})
    lot = LotView(
        order_id=1,
        qty=Decimal("0.3"),
        price=Decimal("5.9E+4"),
        realized_pnl=Decimal("-0E-7"),
        unrealized_pnl=Decimal("12.3456789012"),
        ts_open=0,
    )
    out = numbers.builtins({"symbol": SPOT, "lots": [lot], "other": Decimal("-1E-3")})
    assert out["lots"][0] == {
        "order_id": 1,
        "qty": "0.3000",
        "price": "59000.00",
        "realized_pnl": "0.00000000",  # USDT: 8 places by default
        "unrealized_pnl": "12.34567890",
        "ts_open": 0,
    }
    assert out["other"] == "-0.001"  # an unmapped decimal: exact, no exponent
    usd = BalanceView(
        account_id="a",
        asset="USD",
        total=Decimal("5.9E+4"),
        locked=Decimal("-0E-7"),
        free=Decimal("1.005"),
    )
    assert numbers.builtins(usd) | {} == {
        "account_id": "a", "asset": "USD", "total": "59000.00", "locked": "0.00", "free": "1.00",
    }  # fmt: skip
    assert numbers.number(Decimal("60105.685140073081607795371500"), n.AVG, SPOT, None) == (
        "60105.685140"
    )
    assert numbers.number(Decimal("1.5"), n.PRICE, "NOPE/USDT", None) == "1.5"  # unknown: exact


def test_rest_answers_show_prices_quantities_money_and_averages_at_their_places(
    env: tuple[TestClient, dict[str, str], Node],
) -> None:
    client, alice, node = env
    for px in ("60105.01", "60105.02", "60106.03"):
        node.sell("bob", SPOT, "0.1", px)
    r = client.post(
        "/v1/orders",
        headers=alice,
        json={"account_id": "alice", "symbol": SPOT, "side": "BUY", "qty": "0.3", "price": "6.0107E+4"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    exact = node.order(body["order_id"]).avg_px
    assert exact is not None and len(exact.as_tuple().digits) >= 20  # the library keeps it all
    assert body["avg_px"] == str(exact.quantize(Decimal("0.000001")))  # tick 2 + 4 places
    assert body["price"] == "60107.00" and body["qty"] == "0.3000" and body["cum_qty"] == "0.3000"
    assert body["leaves_qty"] == "0.0000" and body["fees"] == "0.00000000"
    a = {"account_id": "alice"}
    answers = [
        body,
        client.get(f"/v1/orders/{body['order_id']}", params=a, headers=alice).json(),
        client.get("/v1/orders", params=a, headers=alice).json(),
        client.get("/v1/positions", params=a, headers=alice).json(),
        client.get("/v1/balances", params=a, headers=alice).json(),
        client.get("/v1/fills", params=a, headers=alice).json(),
        client.get("/v1/accounts/alice", headers=alice).json(),
        client.get(f"/v1/book/{SPOT}", headers=alice).json(),
    ]
    values = numbers_of(answers, [])
    assert len(values) > 30
    for key, value in values:
        assert EXACT.match(value) and not re.fullmatch(r"-0(\.0*)?", value), (key, value)
    balances = {b["asset"]: b["total"] for b in answers[4]}
    assert balances["BTC"] == "10.30000000"
    assert re.fullmatch(r"981968\.\d{8}", balances["USDT"])  # 1,000,000 - 18,031.606
    [position] = answers[3]
    assert position["avg_entry_px"] == body["avg_px"] and position["qty"] == "0.3000"
    assert [f["last_px"] for f in answers[5]] == ["60105.01", "60105.02", "60106.03"]


def test_asset_places_are_configurable(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.json")
    alice = {"X-API-Key": keys.issue(("trader",), ("alice",)).token}
    settings = ServiceSettings(data_dir=tmp_path, asset_places={"USDT": 2})
    app = create_app(settings, node=Node.in_memory(), keys=keys, setup=world)
    with TestClient(app) as client:
        got = client.get("/v1/balances", params={"account_id": "alice"}, headers=alice).json()
    assert {b["asset"]: b["total"] for b in got} == {"BTC": "10.00000000", "USDT": "1000000.00"}


def test_the_blotter_feed_websocket_messages_are_formatted_too(
    env: tuple[TestClient, dict[str, str], Node],
) -> None:
    client, alice, node = env
    node.sell("bob", SPOT, "0.1", "60105.01")
    node.sell("bob", SPOT, "0.2", "60105.02")
    with client.websocket_connect("/v1/ws") as ws:
        ws.send_json({"op": "auth", "token": alice["X-API-Key"]})
        assert ws.receive_json()["op"] == "authenticated"
        ws.send_json({"op": "subscribe", "channel": "account", "account_id": "alice"})
        ws.send_json({"op": "subscribe", "channel": "market", "symbol": SPOT})
        r = client.post(
            "/v1/orders",
            headers=alice,
            json={"account_id": "alice", "symbol": SPOT, "side": "BUY", "qty": "0.3", "price": "60110"},
        )  # fmt: skip
        assert r.status_code == 201
        fills: list[dict[str, Any]] = []
        trades: list[dict[str, Any]] = []
        books: list[dict[str, Any]] = []
        for _ in range(40):
            m = ws.receive_json()
            if m.get("type") == "OrderFilled":
                fills.append(m)
            elif m.get("type") == "trade":
                trades.append(m)
            elif m.get("type") == "book":
                books.append(m)
            if len(fills) == 2 and len(trades) == 2:
                break
    last = fills[-1]
    assert last["last_px"] == "60105.02" and last["last_qty"] == "0.2000"
    order = last["view"]["order"]
    assert order["avg_px"] == "60105.016667" and order["qty"] == "0.3000"  # 60105.01666…
    assert {b["asset"]: b["total"] for b in last["view"]["balances"]}["BTC"] == "10.30000000"
    assert (trades[0]["price"], trades[0]["qty"]) == ("60105.01", "0.1000")
    assert books and all(
        EXACT.match(x) for b in books for side in ("bids", "asks") for lv in b[side] for x in lv
    )
    for key, value in numbers_of([fills, trades], []):
        assert EXACT.match(value), (key, value)
