"""The operator actions that used to exist only offline, over REST (service/routes_operator.py):
each with its role, journaled with the key as the actor, refused with a typed problem document."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model import events as ev
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

PERP = "ETH/USDT:USDT"
FUT = "ETH/USDT:USDT-261225"
SPOT = "ETH/USDT"


def world(node: Node) -> None:
    node.add_instrument(
        Instrument.perpetual(PERP, tick_size="0.01", lot_size="0.001", taker_fee="0.0005")
    )
    node.add_instrument(Instrument.future(FUT, tick_size="0.01", lot_size="0.001", expiry_ts=1))
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.001"))
    for account, parent in (("alice", None), ("alice-algo", "alice"), ("bob", None)):
        node.open_account(account, parent_id=parent)
        node.deposit(account, "USDT", 100_000)
    node.update_prices(PERP, last="3000", mark="3000")
    node.update_prices(FUT, last="3000", mark="3000")


class Api:
    def __init__(self, client: TestClient, tokens: dict[str, str], node: Node) -> None:
        self.client = client
        self.tokens = tokens
        self.node = node

    def __call__(self, who: str, method: str, path: str, **kw: Any) -> Any:
        headers = {"X-API-Key": self.tokens[who]} if who else {}
        return self.client.request(method, path, headers=headers, **kw)

    def journaled(self, kind: type[ev.EventBase]) -> list[Any]:
        return [e for e in self.node.events() if isinstance(e, kind)]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "alice": keys.issue(("trader",), ("alice",)).token,
        "bob": keys.issue(("trader",), ("bob",)).token,
        "risk": keys.issue(("risk",)).token,
        "admin": keys.issue(("admin",)).token,
    }
    node = Node.open(str(tmp_path / "atlas.db"), clock=ManualClock(1_000_000_000))
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000)
    with TestClient(create_app(settings, node=node, keys=keys, setup=world)) as client:
        yield Api(client, tokens, node)
    node.close()


def key_id(api: Api, who: str) -> str:
    return api.tokens[who].partition(".")[0]


# ----------------------------------------------------------------- the account's own derivatives
def test_a_trader_sets_leverage_of_its_own_tree_and_it_is_journaled(api: Api) -> None:
    r = api(
        "alice", "PUT", "/v1/accounts/alice-algo/leverage", json={"symbol": PERP, "leverage": "20"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["leverage"] == "20" and body["settle_asset"] == "USDT"
    assert body["max_notional"] is None  # the default single tier has no cap
    (event,) = api.journaled(ev.LeverageSet)
    assert (event.account_id, event.symbol, event.leverage) == ("alice-algo", PERP, Decimal(20))
    assert body["seq"] == event.seq


def test_leverage_of_another_account_is_404_and_a_risk_key_is_403(api: Api) -> None:
    body = {"symbol": PERP, "leverage": "20"}
    r = api("alice", "PUT", "/v1/accounts/bob/leverage", json=body)
    assert r.status_code == 404 and r.json()["reason"] == "UNKNOWN_ACCOUNT"
    r = api("risk", "PUT", "/v1/accounts/bob/leverage", json=body)
    assert r.status_code == 403 and r.json()["reason"] == "FORBIDDEN"
    assert api.journaled(ev.LeverageSet) == []
    r = api("admin", "PUT", "/v1/accounts/bob/leverage", json=body)  # admin holds every role
    assert r.status_code == 200


def test_bad_leverage_is_a_typed_4xx_and_the_refusal_is_journaled(api: Api) -> None:
    r = api("alice", "PUT", "/v1/accounts/alice/leverage", json={"symbol": PERP, "leverage": 2.5})
    assert r.status_code == 400 and r.json()["reason"] == "INVALID_FIELD"
    r = api("alice", "PUT", "/v1/accounts/alice/leverage", json={"symbol": PERP, "leverage": "0"})
    assert r.status_code == 422, r.text
    reason = r.json()["reason"]
    assert r.headers["content-type"] == "application/problem+json"
    (rejected,) = api.journaled(ev.CommandRejected)
    assert rejected.reason == reason
    r = api("alice", "PUT", "/v1/accounts/alice/leverage", json={"symbol": "NOPE", "leverage": "5"})
    assert r.status_code == 404 and r.json()["reason"] == "UNKNOWN_INSTRUMENT"


def test_margin_mode_and_isolated_margin(api: Api) -> None:
    r = api(
        "alice", "PUT", "/v1/accounts/alice/margin-mode", json={"symbol": PERP, "mode": "ISOLATED"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["margin_mode"] == "ISOLATED"
    assert api.journaled(ev.MarginModeSet)[0].mode == "ISOLATED"
    r = api(
        "alice", "PUT", "/v1/accounts/alice/margin-mode", json={"symbol": PERP, "mode": "SIDEWAYS"}
    )
    assert r.status_code == 400
    r = api("bob", "PUT", "/v1/accounts/alice/margin-mode", json={"symbol": PERP, "mode": "CROSS"})
    assert r.status_code == 404
    # An isolated long of 1 @ 3000 (bob sells it), then margin in and out.
    api.node.sell("bob", PERP, "1", "3000")
    api.node.buy("alice", PERP, "1", "3000")
    path = "/v1/accounts/alice/isolated-margin"
    r = api("alice", "POST", path, json={"symbol": PERP, "action": "add", "amount": "100"})
    assert r.status_code == 200, r.text
    position = r.json()["position"]
    assert position["qty"] == "1.000" and position["margin"] == "3100.00000000"
    (adjusted,) = api.journaled(ev.IsolatedMarginAdjusted)
    assert adjusted.amount == Decimal(100)
    r = api("alice", "POST", path, json={"symbol": PERP, "action": "remove", "amount": "50"})
    assert r.status_code == 200 and r.json()["position"]["margin"] == "3050.00000000"
    r = api("alice", "POST", path, json={"symbol": PERP, "action": "remove", "amount": "10000"})
    assert r.status_code == 422
    r = api("alice", "POST", path, json={"symbol": PERP, "action": "steal", "amount": "1"})
    assert r.status_code == 400 and r.json()["reason"] == "INVALID_FIELD"
    r = api("risk", "POST", path, json={"symbol": PERP, "action": "add", "amount": "1"})
    assert r.status_code == 403


# -------------------------------------------------------------------------------------- money
def test_deposits_and_withdrawals_are_for_admin(api: Api) -> None:
    body = {"asset": "USDT", "amount": "250", "reason": "wire 42"}
    r = api("admin", "POST", "/v1/accounts/bob/deposits", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["balance"]["total"] == "100250.00000000"  # USDT at its 8 places
    r = api("admin", "POST", "/v1/accounts/bob/withdrawals", json=body | {"amount": "50"})
    assert r.status_code == 201 and r.json()["balance"]["total"] == "100200.00000000"
    adjusted = api.journaled(ev.BalanceAdjusted)[-2:]
    assert [(e.amount, e.reason) for e in adjusted] == [
        (Decimal(250), "wire 42"),
        (Decimal(-50), "wire 42"),
    ]
    for who in ("bob", "risk"):
        r = api(who, "POST", "/v1/accounts/bob/deposits", json=body)
        assert r.status_code == 403
    r = api("admin", "POST", "/v1/accounts/bob/deposits", json=body | {"amount": "-5"})
    assert r.status_code == 400
    r = api("admin", "POST", "/v1/accounts/nobody/deposits", json=body)
    assert r.status_code == 404
    r = api("admin", "POST", "/v1/accounts/bob/withdrawals", json=body | {"amount": "1000000"})
    assert r.status_code == 422


# ------------------------------------------------------------------------------- the market
def test_funding_rate_is_for_admin_and_says_when_it_settles(api: Api) -> None:
    path = f"/v1/instruments/{PERP}/funding-rate"
    r = api("admin", "PUT", path, json={"rate": "0.0001"})
    assert r.status_code == 200, r.text
    assert r.json()["rate"] == "0.0001" and r.json()["interval_min"] == 480
    (event,) = api.journaled(ev.FundingRateSet)
    assert event.rate == Decimal("0.0001")
    for who in ("risk", "alice"):
        assert api(who, "PUT", path, json={"rate": "0.0001"}).status_code == 403
    assert api("admin", "PUT", path, json={"rate": "NaN"}).status_code == 400
    r = api("admin", "PUT", f"/v1/instruments/{SPOT}/funding-rate", json={"rate": "0.0001"})
    assert r.status_code == 422  # not a perpetual
    r = api("admin", "PUT", "/v1/instruments/NOPE/funding-rate", json={"rate": "0.0001"})
    assert r.status_code == 404


def test_margin_tiers_are_read_by_anyone_and_set_by_admin(api: Api) -> None:
    path = f"/v1/instruments/{PERP}/margin-tiers"
    r = api("alice", "GET", path)
    assert r.status_code == 200 and r.json()["source"] == "default"
    tiers = [
        {"bracket": 1, "floor": "0", "cap": "50000", "maint_margin_rate": "0.005",
         "maint_amount": "0", "max_leverage": "50"},
        {"bracket": 2, "floor": "50000", "cap": None, "maint_margin_rate": "0.01",
         "maint_amount": "250", "max_leverage": "20"},
    ]  # fmt: skip
    r = api("admin", "PUT", path, json={"tiers": tiers, "reason": "new table"})
    assert r.status_code == 200, r.text
    assert [t["max_leverage"] for t in r.json()["tiers"]] == ["50", "20"]
    (event,) = api.journaled(ev.MarginTiersSet)
    assert event.actor == key_id(api, "admin") and event.reason == "new table"
    assert api("alice", "GET", path).json()["source"] == "set"
    r = api("alice", "PUT", "/v1/accounts/alice/leverage", json={"symbol": PERP, "leverage": "25"})
    assert r.json()["max_notional"] == "50000.00000000"  # money, in USDT
    assert api("risk", "PUT", path, json={"tiers": tiers}).status_code == 403
    assert api("admin", "PUT", path, json={"tiers": []}).status_code == 400
    bad = [tiers[0] | {"max_leverage": "0"}]
    r = api("admin", "PUT", path, json={"tiers": bad})
    assert r.status_code == 422 and r.json()["reason"] == "INVALID_MARGIN_TIERS"


def test_market_status_is_for_admin_or_risk(api: Api) -> None:
    path = f"/v1/instruments/{SPOT}/market-status"
    r = api("risk", "PUT", path, json={"status": "HALTED", "reason": "news"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "HALTED"
    r = api("admin", "PUT", path, json={"status": None, "reason": "resume"})
    assert r.status_code == 200 and r.json()["status"] is None
    changed = api.journaled(ev.MarketStatusChanged)
    assert [(e.status, e.actor) for e in changed] == [
        ("HALTED", key_id(api, "risk")),
        (None, key_id(api, "admin")),
    ]
    assert api("alice", "PUT", path, json={"status": "HALTED"}).status_code == 403
    assert api("risk", "PUT", path, json={"status": "MAYBE"}).status_code == 400


def test_settle_is_for_admin_and_closes_every_position(api: Api) -> None:
    api.node.set_leverage("alice", FUT, 10)
    api.node.set_leverage("bob", FUT, 10)
    api.node.sell("bob", FUT, "1", "3000")
    api.node.buy("alice", FUT, "1", "3000")
    path = f"/v1/instruments/{FUT}/settle"
    assert api("risk", "POST", path, json={"price": "3100"}).status_code == 403
    r = api("admin", "POST", path, json={"price": "3100"})
    assert r.status_code == 200, r.text
    assert r.json()["settled"] == [
        {"account_id": "alice", "qty": "1.000", "realized_pnl": "100.00000000"},
        {"account_id": "bob", "qty": "-1.000", "realized_pnl": "-100.00000000"},
    ]
    (event,) = api.journaled(ev.FutureSettled)
    assert event.actor == key_id(api, "admin") and event.reason == "expiry"
    r = api("admin", "POST", path, json={"price": "3100"})
    assert r.status_code == 422 and r.json()["reason"] == "FUTURE_SETTLED"
    r = api("admin", "POST", f"/v1/instruments/{PERP}/settle", json={"price": "3100"})
    assert r.status_code == 422 and r.json()["reason"] == "NOT_A_DATED_FUTURE"


def test_mark_returns_what_it_set_off(api: Api) -> None:
    path = f"/v1/instruments/{PERP}/mark"
    assert api("alice", "POST", path, json={"mark": "3010"}).status_code == 403
    r = api("risk", "POST", path, json={"mark": "3010", "last": "3011"})
    assert r.status_code == 200, r.text
    body = r.json()
    # Marks are averages (the tick's places + 4), as a position's mark_px.
    assert body["previous_mark"] == "3000.000000" and body["mark"] == "3010.000000"
    assert body["last"] == "3011.00"  # a price: at the tick
    assert [e["type"] for e in body["events"]] == ["PricesUpdated"]
    assert api.node.mark_price(PERP) == Decimal(3010)


def test_insurance_fund_deposit_and_history(api: Api) -> None:
    r = api(
        "admin",
        "POST",
        "/v1/insurance-funds/USDT/deposits",
        json={"amount": "500", "reason": "seed"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["balance"] == "500.00000000"
    (event,) = api.journaled(ev.InsuranceFundDeposited)
    assert (event.amount, event.actor) == (Decimal(500), key_id(api, "admin"))
    r = api("risk", "GET", "/v1/insurance-funds")
    assert r.json()["insurance_funds"] == [
        {"asset": "USDT", "deposited": "500.00000000", "from_liquidations": "0.00000000",
         "to_liquidations": "0.00000000", "balance": "500.00000000"}
    ]  # fmt: skip
    assert api("alice", "GET", "/v1/insurance-funds").status_code == 403
    r = api("risk", "POST", "/v1/insurance-funds/USDT/deposits", json={"amount": "1"})
    assert r.status_code == 403
    r = api("admin", "POST", "/v1/insurance-funds/USDT/deposits", json={"amount": "-900"})
    assert r.status_code == 422  # more than the fund holds
    r = api("admin", "POST", "/v1/insurance-funds/USDT/deposits", json={"amount": 5.5})
    assert r.status_code == 400


# --------------------------------------------------------------------------- the documented shape
def test_every_operator_answer_matches_its_documented_schema(api: Api) -> None:
    """Each answer is what /openapi.json says (service/openapi.py), its numbers at their places."""
    doc = api.client.get("/openapi.json").json()
    api.node.set_leverage("alice", FUT, 10)
    api.node.set_leverage("bob", FUT, 10)
    api.node.sell("bob", FUT, "1", "3000")
    api.node.buy("alice", FUT, "1", "3000")
    api.node.set_margin_mode("alice", PERP, "ISOLATED")
    api.node.sell("bob", PERP, "1", "3000")
    api.node.buy("alice", PERP, "1", "3000")
    tiers = [{"bracket": 1, "floor": "0", "maint_margin_rate": "0.005", "max_leverage": "50"}]
    perp, fut = "/v1/instruments/{symbol}", f"/v1/instruments/{PERP}"
    calls = [
        ("alice", "PUT", "/v1/accounts/{account_id}/leverage", "/v1/accounts/alice/leverage",
         {"symbol": PERP, "leverage": "5"}),
        ("alice", "PUT", "/v1/accounts/{account_id}/margin-mode",
         "/v1/accounts/alice-algo/margin-mode", {"symbol": PERP, "mode": "ISOLATED"}),
        ("alice", "POST", "/v1/accounts/{account_id}/isolated-margin",
         "/v1/accounts/alice/isolated-margin", {"symbol": PERP, "action": "add", "amount": "1"}),
        ("admin", "POST", "/v1/accounts/{account_id}/deposits", "/v1/accounts/bob/deposits",
         {"asset": "USDT", "amount": "1"}),
        ("admin", "POST", "/v1/accounts/{account_id}/withdrawals",
         "/v1/accounts/bob/withdrawals", {"asset": "USDT", "amount": "1"}),
        ("admin", "PUT", perp + "/funding-rate", fut + "/funding-rate", {"rate": "0.0001"}),
        ("alice", "GET", perp + "/margin-tiers", fut + "/margin-tiers", None),
        ("admin", "PUT", perp + "/margin-tiers", fut + "/margin-tiers", {"tiers": tiers}),
        ("risk", "PUT", perp + "/market-status", f"/v1/instruments/{SPOT}/market-status",
         {"status": "HALTED"}),
        ("admin", "POST", "/v1/insurance-funds/{asset}/deposits", "/v1/insurance-funds/USDT/deposits",
         {"amount": "10"}),
        ("risk", "POST", perp + "/mark", fut + "/mark", {"mark": "2990.123"}),
        ("admin", "POST", perp + "/settle", f"/v1/instruments/{FUT}/settle", {"price": "3100"}),
        ("risk", "GET", "/v1/insurance-funds", "/v1/insurance-funds", None),
    ]  # fmt: skip
    for who, method, template, path, body in calls:
        r = api(who, method, path, json=body) if body is not None else api(who, method, path)
        assert r.status_code < 300, f"{method} {path}: {r.text}"
        schema = doc["paths"][template][method.lower()]["responses"][str(r.status_code)]
        schema = schema["content"]["application/json"]["schema"]
        jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(
            r.json()
        )
        if path.endswith("/mark"):
            marked = r.json()
            assert marked["mark"] == "2990.123000" and marked["insurance_funds"] == {
                "USDT": "10.00000000"
            }
            (updated,) = marked["events"]
            assert (updated["type"], updated["mark"]) == ("PricesUpdated", "2990.123000")
