"""The REST API (service/app.py, service/routes.py): keys and roles, orders, problem details."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from atlas_oms import Instrument, Node
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore, signature
from atlas_oms.service.settings import ServiceSettings

SPOT = "BTC/USDT"


def world(node: Node) -> None:
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001"))
    node.open_account("alice")
    node.open_account("alice-algo", parent_id="alice")
    node.open_account("bob")
    for account in ("alice", "alice-algo", "bob"):
        node.deposit(account, "USDT", "100000")
        node.deposit(account, "BTC", "10")
    node.update_prices(SPOT, last="30000")


class Api:
    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def __call__(self, who: str, method: str, path: str, **kw: Any) -> Any:
        headers = kw.pop("headers", {})
        if who:
            headers["X-API-Key"] = self.tokens[who]
        return self.client.request(method, path, headers=headers, **kw)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "alice": keys.issue(("trader",), ("alice",)).token,
        "bob": keys.issue(("trader",), ("bob",)).token,
        "risk": keys.issue(("risk",)).token,
        "signed": keys.issue(("trader",), ("bob",), require_signature=True).token,
        "admin": keys.issue(("admin",)).token,
    }
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000)
    app = create_app(settings, node=Node.in_memory(), keys=keys, setup=world)
    with TestClient(app) as client:
        yield Api(client, tokens)


def order(account: str = "alice", **kw: Any) -> dict[str, Any]:
    body = {"account_id": account, "symbol": SPOT, "side": "BUY", "qty": "0.5", "price": "29000"}
    body.update(kw)
    return body


def test_keys_are_stored_hashed_and_a_request_without_a_valid_key_is_401(
    api: Api, tmp_path: Path
) -> None:
    stored = (tmp_path / "keys.json").read_text()
    for token in api.tokens.values():
        assert token.split(".", 1)[1] not in stored
    r = api("", "GET", "/v1/accounts")
    assert r.status_code == 401 and r.json()["reason"] == "UNAUTHENTICATED"
    assert r.headers["content-type"] == "application/problem+json"
    r = api("", "GET", "/v1/accounts", headers={"X-API-Key": "ak_x.nope"})
    assert r.status_code == 401


def test_a_trader_sees_its_accounts_and_sub_accounts_and_nothing_else(api: Api) -> None:
    r = api("alice", "GET", "/v1/accounts")
    assert [a["account_id"] for a in r.json()] == ["alice", "alice-algo"]
    assert api("alice", "POST", "/v1/orders", json=order("alice-algo")).status_code == 201
    bob_order = api("bob", "POST", "/v1/orders", json=order("bob")).json()
    for method, path, kw in (
        ("GET", "/v1/orders", {"params": {"account_id": "bob"}}),
        ("GET", f"/v1/orders/{bob_order['order_id']}", {"params": {"account_id": "bob"}}),
        ("DELETE", f"/v1/orders/{bob_order['order_id']}", {"params": {"account_id": "bob"}}),
        ("GET", "/v1/positions", {"params": {"account_id": "bob"}}),
        ("GET", "/v1/balances", {"params": {"account_id": "bob"}}),
        ("GET", "/v1/audit/bob", {}),
        ("POST", "/v1/orders", {"json": order("bob")}),
        ("GET", "/v1/orders", {"params": {"account_id": "nobody"}}),
    ):
        r = api("alice", method, path, **kw)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["reason"] == "UNKNOWN_ACCOUNT"  # never "someone else's"
    # Alice cannot reach bob's order through her own account either.
    r = api(
        "alice", "DELETE", f"/v1/orders/{bob_order['order_id']}", params={"account_id": "alice"}
    )
    assert r.status_code == 404 and r.json()["reason"] == "UNKNOWN_ORDER"
    assert (
        api(
            "bob", "GET", f"/v1/orders/{bob_order['order_id']}", params={"account_id": "bob"}
        ).json()["status"]
        == "ACCEPTED"
    )


def test_client_order_id_makes_a_retry_return_the_original_order(api: Api) -> None:
    first = api("alice", "POST", "/v1/orders", json=order(client_order_id="c-1"))
    again = api("alice", "POST", "/v1/orders", json=order(client_order_id="c-1"))
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["order_id"] == first.json()["order_id"] and again.json()["qty"] == "0.5000"
    assert again.json()["duplicate"] is True
    other = api("alice", "POST", "/v1/orders", json=order(client_order_id="c-1", qty="9"))
    assert other.status_code == 409 and other.json()["reason"] == "DUPLICATE_CLIENT_ORDER_ID"
    listed = api("alice", "GET", "/v1/orders", params={"account_id": "alice"}).json()["orders"]
    assert len(listed) == 1


def test_numbers_are_exact_strings_and_bad_input_is_a_4xx_problem(api: Api) -> None:
    ok = api("alice", "POST", "/v1/orders", json=order(qty="0.1", price="29000.01")).json()
    assert ok["qty"] == "0.1000" and ok["price"] == "29000.01"  # lot 0.0001, tick 0.01
    for body, reason in (
        (order(qty=0.1), "INVALID_FIELD"),  # a float is refused: not exact
        (order(side="UP"), "INVALID_FIELD"),
        (order(extra=1), "INVALID_FIELD"),
        (order(qty="abc"), "INVALID_FIELD"),
        (order(qty="NaN"), "INVALID_FIELD"),
        (order(qty="0.00001"), "QUANTITY_NOT_MULTIPLE_OF_LOT"),  # the engine's reason
        (order(price="29000.001"), "PRICE_NOT_ON_TICK"),
        (order(qty="1000"), "INSUFFICIENT_BALANCE"),
        (order(symbol="NOPE/USDT"), "UNKNOWN_INSTRUMENT"),
    ):
        r = api("alice", "POST", "/v1/orders", json=body)
        assert 400 <= r.status_code < 500, (body, r.text)
        assert r.json()["reason"] == reason, (body, r.json())
        assert r.headers["content-type"] == "application/problem+json"
    r = api(
        "alice",
        "POST",
        "/v1/orders",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400


def test_batch_modify_cancel_cancel_all_and_paging(api: Api) -> None:
    batch = {"orders": [order(price=str(28000 + i)) for i in range(5)]}
    r = api("alice", "POST", "/v1/orders/batch", json=batch)
    ids = [x["body"]["order_id"] for x in r.json()["results"]]
    assert [x["status"] for x in r.json()["results"]] == [201] * 5
    page = api("alice", "GET", "/v1/orders", params={"account_id": "alice", "limit": 2}).json()
    assert [o["order_id"] for o in page["orders"]] == ids[:2] and page["next_after"] == ids[1]
    rest = api(
        "alice", "GET", "/v1/orders", params={"account_id": "alice", "after": page["next_after"]}
    ).json()
    assert [o["order_id"] for o in rest["orders"]] == ids[2:] and rest["next_after"] is None
    mod = api(
        "alice", "PATCH", f"/v1/orders/{ids[0]}", json={"account_id": "alice", "price": "27000"}
    )
    assert mod.status_code == 200 and mod.json()["price"] == "27000.00"
    gone = api("alice", "DELETE", f"/v1/orders/{ids[1]}", params={"account_id": "alice"})
    assert gone.json()["status"] == "CANCELED"
    again = api("alice", "DELETE", f"/v1/orders/{ids[1]}", params={"account_id": "alice"})
    assert again.status_code == 409 and again.json()["reason"] == "ORDER_NOT_LIVE"
    r = api("alice", "POST", "/v1/orders/cancel-all", json={"account_id": "alice"})
    assert sorted(r.json()["canceled"]) == sorted(ids[:1] + ids[2:])
    status = api(
        "alice", "GET", "/v1/orders", params={"account_id": "alice", "status": "CANCELED"}
    ).json()
    assert len(status["orders"]) == 5


def test_risk_endpoints_need_the_risk_role(api: Api) -> None:
    body = {"scope": "account", "scope_id": "alice", "reason": "test"}
    r = api("alice", "POST", "/v1/risk/kill", json=body)
    assert r.status_code == 403 and r.json()["reason"] == "FORBIDDEN_ROLE"
    assert api("risk", "POST", "/v1/risk/kill", json=body).status_code == 200
    denied = api("alice", "POST", "/v1/orders", json=order())
    assert denied.status_code == 422 and denied.json()["reason"] == "KILL_SWITCH_ACTIVE"
    assert denied.json()["order"]["status"] == "DENIED"
    assert api("risk", "POST", "/v1/risk/kill/reset", json=body).status_code == 200
    r = api("alice", "POST", "/v1/marketdata/prices", json={"symbol": SPOT, "last": "1"})
    assert r.status_code == 403
    assert (
        api(
            "risk", "POST", "/v1/marketdata/prices", json={"symbol": SPOT, "last": "30100"}
        ).status_code
        == 200
    )


def test_signed_requests_are_checked_and_cannot_be_replayed(api: Api) -> None:
    token = api.tokens["signed"]
    secret = token.split(".", 1)[1]
    body = json.dumps(order("bob")).encode()

    def send(stamp: str, sig: str) -> Any:
        return api.client.post(
            "/v1/orders",
            content=body,
            headers={
                "X-API-Key": token,
                "content-type": "application/json",
                "X-Atlas-Timestamp": stamp,
                "X-Atlas-Signature": sig,
            },
        )

    unsigned = api("signed", "POST", "/v1/orders", json=order("bob"))
    assert unsigned.status_code == 401 and unsigned.json()["reason"] == "SIGNATURE_REQUIRED"
    stamp = str(int(time.time() * 1000))
    good = signature(secret, stamp, "POST", "/v1/orders", body)
    assert send(stamp, "0" * 64).json()["reason"] == "BAD_SIGNATURE"
    assert send(stamp, good).status_code == 201
    assert send(stamp, good).json()["reason"] == "REPLAYED_REQUEST"
    old = str(int(time.time() * 1000) - 120_000)
    assert send(old, signature(secret, old, "POST", "/v1/orders", body)).json()["reason"] == (
        "SIGNATURE_EXPIRED"
    )


def test_each_key_is_rate_limited(tmp_path: Path) -> None:
    keys = KeyStore()
    token = keys.issue(("trader",), ("alice",)).token
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=5)
    with TestClient(create_app(settings, node=Node.in_memory(), keys=keys, setup=world)) as client:
        codes = [
            client.get("/v1/accounts", headers={"X-API-Key": token}).status_code for _ in range(30)
        ]
    assert codes[:10] == [200] * 10 and 429 in codes


def test_health_metrics_openapi_and_market_data(api: Api) -> None:
    assert api("", "GET", "/health").json()["status"] == "ok"
    assert api("alice", "GET", "/health/sim/alice").json()["account_id"] == "alice"
    assert api("alice", "GET", "/health/sim/bob").status_code == 404
    api("alice", "POST", "/v1/orders", json=order())
    api("alice", "POST", "/v1/orders", json=order(qty="999"))
    text = api("", "GET", "/metrics").text
    assert 'atlas_orders_total{status="SUBMITTED"} 1.0' in text
    assert 'atlas_rejections_total{reason="INSUFFICIENT_BALANCE"} 1.0' in text
    assert "atlas_request_seconds_bucket" in text
    assert "atlas_engine_seconds_count" in text and "atlas_journal_lag_events" in text
    assert api("", "GET", "/openapi.json").json()["info"]["title"] == "Atlas OMS"
    book = api("bob", "GET", f"/v1/book/{SPOT}").json()
    assert book["bids"] == [["29000.00", "0.5000"]]


def test_a_restarted_service_resumes_from_its_journal(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.json")
    token = keys.issue(("trader",), ("alice",)).token
    settings = ServiceSettings(data_dir=tmp_path)

    def setup(node: Node) -> None:
        if not node.engine.seq:
            world(node)

    with TestClient(create_app(settings, keys=keys, setup=setup)) as client:
        placed = client.post("/v1/orders", json=order(), headers={"X-API-Key": token}).json()
    again = KeyStore(tmp_path / "keys.json")
    with TestClient(create_app(settings, keys=again, setup=setup)) as client:
        got = client.get(
            f"/v1/orders/{placed['order_id']}",
            params={"account_id": "alice"},
            headers={"X-API-Key": token},
        )
    assert got.status_code == 200 and got.json()["status"] == "ACCEPTED"


def test_transfers_move_money_within_a_key_s_account_tree_only(api: Api) -> None:
    body = {
        "from_account_id": "alice",
        "to_account_id": "alice-algo",
        "asset": "USDT",
        "amount": "250",
    }
    r = api("alice", "POST", "/v1/transfers", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["from"]["total"] == "99750.00000000"
    assert r.json()["to"]["total"] == "100250.00000000"
    listed = api("alice", "GET", "/v1/transfers", params={"account_id": "alice-algo"}).json()
    assert [t["amount"] for t in listed] == ["250.00000000"]
    to_bob = {**body, "to_account_id": "bob"}
    assert api("alice", "POST", "/v1/transfers", json=to_bob).status_code == 404
    too_much = {**body, "amount": "1000000"}
    r = api("alice", "POST", "/v1/transfers", json=too_much)
    assert r.status_code == 422 and r.json()["reason"] == "INSUFFICIENT_BALANCE"
    r = api("risk", "POST", "/v1/transfers", json=to_bob)  # the risk role sees both...
    assert r.status_code == 403 and r.json()["reason"] == "FORBIDDEN_ROLE"  # ...but moves nothing
    both = api(
        "admin", "POST", "/v1/keys", json={"roles": ["trader"], "accounts": ["alice", "bob"]}
    ).json()["token"]
    r = api("", "POST", "/v1/transfers", json=to_bob, headers={"X-API-Key": both})
    assert (
        r.status_code == 422 and r.json()["reason"] == "TRANSFER_NOT_ALLOWED"
    )  # a trader of both trees: still not across trees


def test_fills_and_the_audit_trail_never_show_the_other_sides_order_id(api: Api) -> None:
    """The built-in exchange names a trade after both orders (``sim-<taker>x<maker>``); a trader
    sees an opaque id instead, the same on both sides; a risk key sees the journal's."""
    bob_order = api("bob", "POST", "/v1/orders", json=order("bob", side="SELL", price="30000"))
    mine = api("alice", "POST", "/v1/orders", json=order(price="30000")).json()
    assert mine["status"] == "FILLED"
    journal_id = f"sim-{mine['order_id']}x{bob_order.json()['order_id']}"
    [alice_fill] = api("alice", "GET", "/v1/fills", params={"account_id": "alice"}).json()
    [bob_fill] = api("bob", "GET", "/v1/fills", params={"account_id": "bob"}).json()
    assert alice_fill["trade_id"] == bob_fill["trade_id"] != journal_id
    assert alice_fill["trade_id"].startswith("sim-t") and "x" not in alice_fill["trade_id"]
    assert alice_fill["exec_id"] == alice_fill["trade_id"] + "-T"
    assert bob_fill["exec_id"] == bob_fill["trade_id"] + "-M"
    trail = api("alice", "GET", "/v1/audit/alice").text
    assert journal_id not in trail and alice_fill["trade_id"] in trail
    every = api("risk", "GET", "/v1/fills", params={"account_id": "alice"}).json()
    assert every[0]["trade_id"] == journal_id


def test_opaque_trade_ids_stay_the_same_after_a_restart(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = [keys.issue(("trader",), (a,)).token for a in ("alice", "bob")]

    def setup(node: Node) -> None:
        if not node.engine.seq:
            world(node)
            node.sell("bob", SPOT, "1", "30000")
            node.buy("alice", SPOT, "1", "30000")

    def trade_ids() -> list[str]:
        app = create_app(ServiceSettings(data_dir=tmp_path), keys=keys, setup=setup)
        with TestClient(app) as client:
            r = client.get(
                "/v1/fills", params={"account_id": "alice"}, headers={"X-API-Key": tokens[0]}
            )
        return [f["trade_id"] for f in r.json()]

    first = trade_ids()
    assert first and first == trade_ids()
    assert (tmp_path / "trade-ids.key").stat().st_mode & 0o777 == 0o600


def test_recent_trades_and_audit_exports_name_no_other_account(api: Api) -> None:
    api("bob", "POST", "/v1/orders", json=order("bob", side="SELL", price="30000"))
    api("alice", "POST", "/v1/orders", json=order(price="30000"))
    trades = api("alice", "GET", f"/v1/trades/{SPOT}").json()["trades"]
    assert [(t["price"], t["qty"], t["taker_side"]) for t in trades] == [
        ("30000.00", "0.5000", "BUY")
    ]
    assert "account" not in json.dumps(trades) and "order_id" not in json.dumps(trades)
    csv_text = api("alice", "GET", "/v1/audit/alice", params={"format": "csv"})
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert csv_text.text.splitlines()[0].startswith("seq,ts_event,time_utc,event,account_id")
    assert "bob" not in csv_text.text and "OrderFilled" in csv_text.text
    lines = api("alice", "GET", "/v1/audit/alice", params={"format": "jsonl"}).text.splitlines()
    assert all(json.loads(line)["account_id"] == "alice" for line in lines)
    assert api("alice", "GET", "/v1/audit/alice", params={"format": "xml"}).status_code == 400


def test_admin_opens_accounts_and_issues_keys_a_trader_opens_only_its_own_sub_accounts(
    api: Api,
) -> None:
    r = api("alice", "POST", "/v1/accounts", json={"account_id": "carol"})
    assert r.status_code == 403
    r = api("alice", "POST", "/v1/accounts", json={"account_id": "x", "parent_id": "bob"})
    assert r.status_code == 404
    r = api("alice", "POST", "/v1/accounts", json={"account_id": "alice-2", "parent_id": "alice"})
    assert r.status_code == 201 and r.json()["parent_id"] == "alice"
    assert "alice-2" in [a["account_id"] for a in api("alice", "GET", "/v1/accounts").json()]
    assert api("admin", "POST", "/v1/accounts", json={"account_id": "carol"}).status_code == 201
    again = api("admin", "POST", "/v1/accounts", json={"account_id": "carol"})
    assert again.status_code == 422 and again.json()["reason"] == "DUPLICATE_ACCOUNT"
    assert api("alice", "POST", "/v1/keys", json={"roles": ["trader"]}).status_code == 403
    issued = api("admin", "POST", "/v1/keys", json={"roles": ["trader"], "accounts": ["carol"]})
    assert issued.status_code == 201
    carol = {"X-API-Key": issued.json()["token"]}
    seen = api.client.get("/v1/accounts", headers=carol).json()
    assert [a["account_id"] for a in seen] == ["carol"]
    bad = api("admin", "POST", "/v1/keys", json={"roles": ["god"]})
    assert bad.status_code == 422 and bad.json()["reason"] == "INVALID_FIELD"
    key_id = issued.json()["key_id"]
    assert api("alice", "DELETE", f"/v1/keys/{key_id}").status_code == 403
    assert api("admin", "DELETE", f"/v1/keys/{key_id}").status_code == 200
    assert api.client.get("/v1/accounts", headers=carol).status_code == 401
    assert api("admin", "DELETE", f"/v1/keys/{key_id}").status_code == 404


def test_refusals_are_logged_with_the_key_id_and_account_never_the_secret(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from atlas_oms.service.logs import JsonFormatter

    with caplog.at_level(logging.INFO, logger="atlas.api"):
        api("alice", "POST", "/v1/orders", json=order(qty="1000"))
    # As ``atlas serve`` writes them: one JSON object per line (logs.JsonFormatter).
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "atlas.api"]
    line = next(x for x in lines if x["event"] == "refused")
    assert line["reason"] == "INSUFFICIENT_BALANCE" and line["key_id"].startswith("ak_")
    assert line["account_id"] is None or line["account_id"] == "alice"
    assert api.tokens["alice"].split(".", 1)[1] not in caplog.text


def test_risk_limits_are_set_over_the_api_and_then_enforced(api: Api) -> None:
    body = {
        "scope": "account",
        "scope_id": "alice",
        "limits": {"max_order_qty": "0.2"},
        "reason": "desk policy",
    }
    assert api("alice", "PUT", "/v1/risk/limits", json=body).status_code == 403
    r = api("risk", "PUT", "/v1/risk/limits", json=body)
    assert r.status_code == 200 and r.json()["limits"]["max_order_qty"] == "0.2"
    denied = api("alice", "POST", "/v1/orders", json=order(qty="0.5"))
    assert denied.status_code == 422 and denied.json()["reason"] == "ORDER_QTY_TOO_LARGE"
    for bad in ({"max_order_qty": 0.2}, {"no_such_limit": "1"}, {"max_order_qty": "-1"}):
        r = api("risk", "PUT", "/v1/risk/limits", json={**body, "limits": bad})
        assert 400 <= r.status_code < 500, (bad, r.text)
