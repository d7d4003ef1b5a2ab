"""Parent orders over REST (issue 16 "done when"): a TWAP on the built-in exchange sliced as the
server's clock moves, a SMART order through POST /v1/orders answering where and why it went,
pause/resume/cancel, the execution report, access control and typed refusals."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from atlas_oms import Instrument, Node
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

SEC = 1_000_000_000
T0 = 1_767_614_400 * SEC
SPOT = "BTC/USDT"


def world(node: Node) -> None:
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.1", lot_size="0.01"))
    for acc in ("mm", "alice", "bob"):
        node.open_account(acc)
        node.deposit(acc, "USDT", 1_000_000)
        node.deposit(acc, "BTC", 100)
    node.update_prices(SPOT, last="99", mark="99")
    node.sell("mm", SPOT, "0.5", "100")
    node.sell("mm", SPOT, "50", "102")
    node.buy("mm", SPOT, "50", "98")


@dataclass
class Api:
    client: TestClient
    node: Node
    clock: ManualClock
    tokens: dict[str, str]

    def headers(self, who: str = "alice") -> dict[str, str]:
        return {"X-API-Key": self.tokens[who]}

    def post(self, path: str, body: Any = None, who: str = "alice") -> Any:
        return self.client.post(path, json=body, headers=self.headers(who))

    def get(self, path: str, who: str = "alice", **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers(who))

    def delete(self, path: str, who: str = "alice") -> Any:
        return self.client.delete(path, headers=self.headers(who))

    def at(self, seconds: float) -> None:
        """Move the server's clock to T0 + ``seconds`` and let the node act on it."""
        self.clock.set(T0 + int(seconds * SEC))
        self.node.tick()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "alice": keys.issue(("trader",), ("alice",)).token,
        "bob": keys.issue(("trader",), ("bob",)).token,
        "risk": keys.issue(("risk",)).token,
    }
    clock = ManualClock(T0)
    node = Node.open(str(tmp_path / "atlas.db"), clock=clock)
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000)
    app = create_app(settings, node=node, keys=keys, setup=world)
    with TestClient(app) as client:
        yield Api(client, node, clock, tokens)
    node.close()


def twap(**over: Any) -> dict[str, Any]:
    body = {
        "account_id": "alice",
        "symbol": SPOT,
        "side": "BUY",
        "qty": "1",
        "kind": "TWAP",
        "algo_id": "tw1",
        "duration_ms": 40_000,
        "slices": 4,
        "limit_price": "103",
    }
    return body | over


# ---------------------------------------------------------------------------- TWAP
def test_a_twap_slices_as_the_servers_clock_moves_and_reports(api: Api) -> None:
    r = api.post("/v1/algos", twap())
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["kind"] == "TWAP" and view["status"] == "WORKING"
    assert view["qty"] == "1.00" and view["slices_planned"] == 4
    # The first slice is due at the start: 0.25 bought at once (0.5 offered at 100).
    assert view["cum_qty"] == "0.25" and view["slices_done"] == 1
    assert [c["status"] for c in view["children"]] == ["FILLED"]
    assert view["children"][0]["fills"][0]["last_px"] == "100.0"
    assert view["children"][0]["tag"] == "algo:tw1"
    api.at(10)
    api.at(20)
    mid = api.get("/v1/algos/tw1").json()
    assert mid["cum_qty"] == "0.75" and mid["slices_done"] == 3
    api.at(30)
    api.at(40)
    done = api.get("/v1/algos/tw1").json()
    assert done["status"] == "DONE" and done["cum_qty"] == "1.00" and done["leaves_qty"] == "0.00"
    # 0.5 at 100, then 0.5 at 102: the average at the tick's places plus 4.
    assert done["avg_px"] == "101.00000"
    report = api.get("/v1/algos/tw1/report").json()
    assert report["arrival_price"] == "99.00000"  # mid of 98 and 100
    assert report["avg_px"] == "101.00000"
    assert report["slippage_bps"] == "202.02"  # (101 - 99) / 99: a cost
    assert report["filled_qty"] == "1.00" and report["slices_done"] == 4
    assert report["participation_pct"] == "100.00"  # alone in the window


def test_a_repeated_algo_id_answers_the_same_parent_with_200(api: Api) -> None:
    first = api.post("/v1/algos", twap())
    again = api.post("/v1/algos", twap())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["algo_id"] == "tw1" and again.json()["cum_qty"] == "0.25"
    assert len(api.get("/v1/algos", account_id="alice").json()["algos"]) == 1


def test_pause_resume_and_cancel_a_parent(api: Api) -> None:
    api.post("/v1/algos", twap(limit_price="99"))  # nothing fills at or below 99
    paused = api.post("/v1/algos/tw1/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "PAUSED"
    api.at(20)
    assert api.get("/v1/algos/tw1").json()["slices_done"] == 1  # no slice while paused
    resumed = api.post("/v1/algos/tw1/resume").json()
    assert resumed["status"] == "WORKING"
    listed = api.get("/v1/algos", account_id="alice", open="true").json()["algos"]
    assert [a["algo_id"] for a in listed] == ["tw1"]
    canceled = api.delete("/v1/algos/tw1")
    assert canceled.status_code == 200 and canceled.json()["status"] == "CANCELED"
    assert api.get("/v1/algos", account_id="alice", open="true").json()["algos"] == []
    again = api.post("/v1/algos/tw1/cancel")
    assert again.status_code == 409 and again.json()["reason"] == "ORDER_NOT_LIVE"


def test_an_iceberg_shows_its_display_child(api: Api) -> None:
    body = {
        "account_id": "alice",
        "symbol": SPOT,
        "side": "SELL",
        "qty": "1",
        "kind": "ICEBERG",
        "algo_id": "ice",
        "limit_price": "105",
        "display_qty": "0.2",
    }
    r = api.post("/v1/algos", body)
    assert r.status_code == 201, r.text
    # native on the built-in exchange: one child of the whole quantity showing 0.2
    children = r.json()["children"]
    assert [(c["leaves_qty"], c["display_qty"]) for c in children] == [("1.00", "0.20")]
    emulated = body | {"algo_id": "ice2", "native": False}
    r = api.post("/v1/algos", emulated)
    assert r.status_code == 201, r.text
    assert [c["leaves_qty"] for c in r.json()["children"]] == ["0.20"]


# ---------------------------------------------------------------------------- SMART
def test_a_smart_order_answers_where_and_why_it_went(api: Api) -> None:
    order = {
        "account_id": "alice",
        "symbol": SPOT,
        "side": "BUY",
        "qty": "1",
        "price": "103",
        "venue": "SMART",
        "client_order_id": "sm1",
    }
    r = api.post("/v1/orders", order)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "SMART" and body["algo_id"] == "sm1" and body["status"] == "DONE"
    assert body["limit_price"] == "103.0" and body["avg_px"] == "101.00000"
    decision = body["routing"]["decision"]
    [alloc] = decision["allocations"]
    assert alloc["venue"] == "sim" and alloc["symbol"] == SPOT and alloc["limit_price"] == "102"
    [seen] = decision["seen"]
    assert seen["best_ask"] == "100" and seen["used"] is True
    # GET shows the same rationale (routes), and a retry answers the parent (200).
    got = api.get("/v1/algos/sm1").json()
    assert got["routes"][0]["decision"] == decision
    again = api.post("/v1/orders", order)
    assert again.status_code == 200 and again.json()["duplicate"] is True


def test_a_smart_order_nothing_can_fill_says_why(api: Api) -> None:
    order = {"account_id": "alice", "symbol": SPOT, "side": "BUY", "qty": "1", "price": "90"}
    r = api.post("/v1/orders", order | {"venue": "SMART"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "EXPIRED" and body["end_reason"] == "NO_ROUTE"
    assert body["routing"]["decision"]["seen"][0]["skipped"] == "LIMIT_PRICE"


def test_a_named_venue_must_be_the_symbols_own(api: Api) -> None:
    order = {"account_id": "alice", "symbol": SPOT, "side": "BUY", "qty": "1", "price": "90"}
    wrong = api.post("/v1/orders", order | {"venue": "binance"})
    assert wrong.status_code == 422 and wrong.json()["reason"] == "VENUE_MISMATCH"
    right = api.post("/v1/orders", order | {"venue": "sim"})
    assert right.status_code == 201 and right.json()["venue"] == "sim"
    smart_only = api.post("/v1/orders", order | {"remainder": "REROUTE"})
    assert smart_only.status_code == 422 and smart_only.json()["reason"] == "INVALID_FIELD"
    not_smart = api.post("/v1/orders", order | {"venue": "SMART", "post_only": True})
    assert not_smart.status_code == 422
    assert not_smart.json()["reason"] == "UNSUPPORTED_FOR_SMART"


# ---------------------------------------------------------------------------- refusals, access
def test_a_refused_parent_is_422_with_its_reason(api: Api) -> None:
    r = api.post("/v1/algos", twap(qty="0"))
    assert r.status_code == 422, r.text
    assert r.json()["reason"] and r.json()["detail"]
    assert api.get("/v1/algos", account_id="alice").json()["algos"] == []


def test_another_accounts_key_cannot_see_or_act_on_a_parent(api: Api) -> None:
    api.post("/v1/algos", twap(limit_price="99"))
    for r in (
        api.get("/v1/algos/tw1", who="bob"),
        api.get("/v1/algos/tw1/report", who="bob"),
        api.post("/v1/algos/tw1/pause", who="bob"),
        api.delete("/v1/algos/tw1", who="bob"),
    ):
        assert r.status_code == 404 and r.json()["reason"] == "UNKNOWN_ALGO"
    assert api.get("/v1/algos", who="bob").json()["algos"] == []
    assert api.get("/v1/algos", who="bob", account_id="alice").status_code == 404
    stolen = api.post("/v1/algos", twap(account_id="bob"), who="alice")
    assert stolen.status_code == 404  # not alice's account
    taken = api.post("/v1/algos", twap(account_id="bob"), who="bob")
    assert taken.status_code == 409 and taken.json()["reason"] == "DUPLICATE_ALGO_ID"
    # A risk key sees it and may cancel it, but may not pause it.
    assert api.get("/v1/algos/tw1", who="risk").status_code == 200
    pause = api.post("/v1/algos/tw1/pause", who="risk")
    assert pause.status_code == 403 and pause.json()["reason"] == "FORBIDDEN_ROLE"
    assert api.post("/v1/algos/tw1/cancel", who="risk").json()["status"] == "CANCELED"
    assert api.get("/v1/algos/nope").status_code == 404


def test_the_routes_are_in_the_openapi_document(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/v1/algos", "/v1/algos/{algo_id}", "/v1/algos/{algo_id}/report"):
        assert path in paths
    assert paths["/v1/algos"]["post"]["tags"] == ["algos"]


def test_the_rationale_survives_a_restart(api: Api, tmp_path: Path) -> None:
    order = {"account_id": "alice", "symbol": SPOT, "side": "BUY", "qty": "0.2"}
    r = api.post("/v1/orders", order | {"venue": "SMART", "price": "101", "client_order_id": "s"})
    assert r.status_code == 201, r.text
    from atlas_oms.service.algo_views import _LOGS

    _LOGS.clear()  # as after a restart: the decisions come back from the journal
    got = api.get("/v1/algos/s").json()
    assert got["routes"][0]["decision"] == r.json()["routing"]["decision"]
    assert D(got["cum_qty"]) == D("0.2")


# ---------------------------------------------------------------------------- WebSocket
def _settle(api: Api, ws: Any) -> list[dict[str, Any]]:
    """Everything sent once every processed event is published (ping until the pong's seq)."""
    out: list[dict[str, Any]] = []
    while True:
        ws.send_json({"op": "ping"})
        while True:
            m = ws.receive_json()
            out.append(m)
            if m.get("op") == "pong":
                break
        if out[-1]["seq"] == api.node.seq:
            return [m for m in out if m.get("op") != "pong"]


def test_the_algos_channel_pushes_a_parents_view_when_it_changes(api: Api) -> None:
    api.post("/v1/algos", twap(algo_id="old", qty="0.2", limit_price="99"))  # open, not filling
    c = api.client
    with (
        c.websocket_connect("/v1/ws", headers=api.headers()) as mine,
        c.websocket_connect("/v1/ws", headers=api.headers("bob")) as theirs,
    ):
        for ws in (mine, theirs):
            assert ws.receive_json()["op"] == "authenticated"
        theirs.send_json({"op": "subscribe", "channel": "algos", "account_id": "alice"})
        assert theirs.receive_json()["reason"] == "UNKNOWN_ACCOUNT"
        theirs.send_json({"op": "subscribe", "channel": "algos", "account_id": "bob"})
        mine.send_json({"op": "subscribe", "channel": "algos", "account_id": "alice"})
        first = _settle(api, mine)
        assert first[0]["op"] == "subscribed"
        snap = next(m for m in first if m.get("type") == "snapshot")
        assert [a["algo_id"] for a in snap["algos"]] == ["old"]
        assert api.post("/v1/algos", twap()).status_code == 201  # its first slice fills
        api.at(10)  # the second slice
        got = [m for m in _settle(api, mine) if m.get("channel") == "algos"]
        seen_by_bob = _settle(api, theirs)
    tw = [m for m in got if m["algo_id"] == "tw1"]
    assert "AlgoAccepted" in tw[0]["events"] and "OrderFilled" in tw[0]["events"]
    assert tw[0]["algo"]["cum_qty"] == "0.25"
    assert tw[-1]["algo"]["cum_qty"] == "0.50" and tw[-1]["algo"]["slices_done"] == 2
    assert all(m["subscription"] == "alice" for m in got)
    assert [m for m in seen_by_bob if m.get("channel") == "algos" and m.get("algo_id")] == []
