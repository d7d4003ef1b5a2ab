"""The WebSocket stream (service/stream.py): auth, per-account isolation, resume without gap or
duplicate, market data, slow clients; and /v1/me and the blotter's files."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from atlas_oms import Instrument, Node
from atlas_oms.service import stream
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore, signature
from atlas_oms.service.settings import ServiceSettings
from atlas_oms.store.audit import audit_trail

SPOT = "BTC/USDT"


def world(node: Node) -> None:
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001"))
    node.open_account("alice")
    node.open_account("alice-algo", parent_id="alice")
    node.open_account("bob")
    for account in ("alice", "alice-algo", "bob"):
        node.deposit(account, "USDT", "1000000")
        node.deposit(account, "BTC", "100")
    node.update_prices(SPOT, last="30000")


class Env:
    def __init__(self, client: TestClient, node: Node, tokens: dict[str, str]) -> None:
        self.client = client
        self.node = node
        self.tokens = tokens

    def http(self, who: str, method: str, path: str, **kw: Any) -> Any:
        r = self.client.request(method, path, headers={"X-API-Key": self.tokens[who]}, **kw)
        assert r.status_code < 300, r.text
        return r.json()

    def order(self, who: str, account: str, side: str, price: str, qty: str = "0.1") -> Any:
        body = {"account_id": account, "symbol": SPOT, "side": side, "qty": qty, "price": price}
        return self.http(who, "POST", "/v1/orders", json=body)

    def ws(self, who: str | None = None) -> Any:
        url = "/v1/ws" if who is None else f"/v1/ws?token={self.tokens[who]}"
        return self.client.websocket_connect(url)

    def trail(self, account: str, after: int = 0, subaccounts: bool = False) -> list[int]:
        """The journal's seqs of the events that concern ``account`` (the audit rule)."""
        records = audit_trail(self.node.events(), account, include_subaccounts=subaccounts)
        return [r.seq for r in records if r.seq > after]


def make_env(
    tmp_path: Path,
    background: Callable[[Any], Any] | None = None,
    journal: str = "memory",
    **settings: Any,
) -> Iterator[Env]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "alice": keys.issue(("trader",), ("alice",), label="alice desk").token,
        "bob": keys.issue(("trader",), ("bob",)).token,
        "risk": keys.issue(("risk",)).token,
        "signed": keys.issue(("trader",), ("bob",), require_signature=True).token,
    }
    node = Node.in_memory() if journal == "memory" else Node.open(str(tmp_path / "journal.db"))
    settings.setdefault("rate_limit_per_s", 100_000)
    config = ServiceSettings(data_dir=tmp_path, **settings)
    app = create_app(config, node=node, keys=keys, setup=world, background=background)
    try:
        with TestClient(app) as client:
            yield Env(client, node, tokens)
    finally:
        node.close()


JOURNALS = pytest.mark.parametrize("journal", ["memory", "sqlite"])


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def recv_until(ws: Any, done: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Every message up to and including the first for which ``done`` holds."""
    out = []
    while True:
        msg = ws.receive_json()
        out.append(msg)
        if done(msg):
            return out


def op(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m.get("op") == name


def settle(env: Env, ws: Any) -> list[dict[str, Any]]:
    """Everything the server has for ``ws`` once all processed events are published: ping until
    the pong's seq (the last published) is the engine's."""
    out: list[dict[str, Any]] = []
    while True:
        ws.send_json({"op": "ping"})
        out += recv_until(ws, op("pong"))
        if out[-1]["seq"] == env.node.engine.seq:
            return [m for m in out if m.get("op") != "pong"]


def account_seqs(messages: list[dict[str, Any]], account: str) -> list[int]:
    return [
        m["seq"]
        for m in messages
        if m.get("channel") == "account" and m.get("subscription") == account
    ]


def subscribe(ws: Any, account: str, **kw: Any) -> list[dict[str, Any]]:
    ws.send_json({"op": "subscribe", "channel": "account", "account_id": account, **kw})
    return recv_until(ws, lambda m: m.get("op") in ("live", "error"))


# ---------------------------------------------------------------------- auth
def closed_with(ws_cm: Any, first: dict[str, Any] | None = None) -> WebSocketDisconnect:
    with pytest.raises(WebSocketDisconnect) as info, ws_cm as ws:
        if first is not None:
            ws.send_json(first)
        ws.receive_json()
    return info.value


def test_a_connection_without_a_valid_key_is_closed_with_4401_and_a_reason(env: Env) -> None:
    bad = closed_with(env.client.websocket_connect("/v1/ws?token=ak_nope.secret"))
    assert bad.code == 4401 and "not valid" in bad.reason
    bad = closed_with(env.ws(), {"op": "auth", "token": env.tokens["alice"] + "x"})
    assert bad.code == 4401 and "not valid" in bad.reason
    bad = closed_with(env.ws(), {"op": "subscribe", "channel": "market", "symbol": SPOT})
    assert bad.code == 4401 and "authenticate first" in bad.reason
    # A key that requires signatures must sign its auth message.
    bad = closed_with(env.ws(), {"op": "auth", "token": env.tokens["signed"]})
    assert bad.code == 4401 and "SIGNATURE_REQUIRED" in bad.reason
    token = env.tokens["signed"]
    stamp = str(int(time.time() * 1000))
    sig = signature(token.split(".", 1)[1], stamp, "GET", "/v1/ws", b"")
    with env.ws() as ws:
        ws.send_json({"op": "auth", "token": token, "timestamp": stamp, "signature": sig})
        assert ws.receive_json()["op"] == "authenticated"
    # The same signature again is a replay.
    bad = closed_with(
        env.ws(), {"op": "auth", "token": token, "timestamp": stamp, "signature": sig}
    )
    assert bad.code == 4401 and "REPLAYED_REQUEST" in bad.reason


def test_a_client_that_never_authenticates_is_closed(tmp_path: Path) -> None:
    for env in make_env(tmp_path, ws_auth_timeout_s=0.05):
        with pytest.raises(WebSocketDisconnect) as info, env.ws() as ws:
            ws.receive_json()
        assert info.value.code == 4401 and "no key within" in info.value.reason


def test_auth_by_first_message_or_query_and_ping(env: Env) -> None:
    with env.ws() as ws:
        ws.send_json({"op": "auth", "token": env.tokens["alice"]})
        hello = ws.receive_json()
        assert hello["op"] == "authenticated" and hello["roles"] == ["trader"]
        assert "token" not in hello and env.tokens["alice"].split(".")[1] not in str(hello)
        ws.send_json({"op": "ping"})
        assert ws.receive_json() == {"op": "pong", "seq": env.node.engine.seq}
        ws.send_json({"op": "bogus"})
        assert ws.receive_json()["reason"] == "INVALID_MESSAGE"
    with env.ws("bob") as ws:
        assert ws.receive_json()["op"] == "authenticated"


# ---------------------------------------------------------------------- accounts
def test_live_events_reach_only_their_own_account(env: Env) -> None:
    with env.ws("alice") as alice, env.ws("bob") as bob:
        for ws in (alice, bob):
            assert ws.receive_json()["op"] == "authenticated"
        # Someone else's account is unknown, exactly as over REST.
        alice.send_json({"op": "subscribe", "channel": "account", "account_id": "bob"})
        assert alice.receive_json()["reason"] == "UNKNOWN_ACCOUNT"
        start = env.node.engine.seq
        sub = subscribe(alice, "alice", subaccounts=True)
        assert sub[0]["op"] == "subscribed" and sub[-1] == {
            "op": "live",
            "channel": "account",
            "account_id": "alice",
            "seq": start,
        }
        subscribe(bob, "bob")
        # Trading between them: bob's resting orders filled by alice and her sub-account.
        bob_order = env.order("bob", "bob", "SELL", "30100", qty="0.3")
        env.order("alice", "alice", "BUY", "30100", qty="0.1")
        env.order("alice", "alice-algo", "BUY", "30100", qty="0.1")
        resting = env.order("alice", "alice", "BUY", "29000")
        env.http(
            "alice",
            "PATCH",
            f"/v1/orders/{resting['order_id']}",
            json={"account_id": "alice", "price": "29001"},
        )
        env.http(
            "alice", "DELETE", f"/v1/orders/{resting['order_id']}", params={"account_id": "alice"}
        )
        env.http(
            "bob", "DELETE", f"/v1/orders/{bob_order['order_id']}", params={"account_id": "bob"}
        )
        got_alice, got_bob = settle(env, alice), settle(env, bob)

    mine = {"alice", "alice-algo"}
    bob_orders = {o.order_id for o in env.node.orders("bob")}
    for m in got_alice:
        assert m["channel"] == "account" and m["subscription"] == "alice", m
        for name in _accounts_named(m):
            assert name in mine, m
        assert m.get("order_id") not in bob_orders, m
    for m in got_bob:
        for name in _accounts_named(m):
            assert name == "bob", m
    # Exactly the journal's events for each, in order: nothing missing, nothing extra.
    assert account_seqs(got_alice, "alice") == env.trail("alice", start, subaccounts=True)
    assert account_seqs(got_bob, "bob") == env.trail("bob", start)
    types = [m["type"] for m in got_alice]
    for t in ("OrderSubmitted", "OrderAccepted", "OrderFilled", "OrderReplaced", "OrderCanceled"):
        assert t in types
    fill = next(m for m in got_alice if m["type"] == "OrderFilled")
    assert fill["last_px"] == "30100.00" and fill["last_qty"] == "0.1000"  # strings at tick and lot
    # The built-in exchange names trades after both orders; a trader sees an opaque id.
    for m in got_alice:
        for name in ("trade_id", "exec_id"):
            if name in m:
                assert str(bob_order["order_id"]) not in m[name].split("-t")[0], m
                assert m[name].startswith("sim-t"), m
    assert fill["view"]["order"]["status"] == "FILLED"
    assert fill["view"]["position"]["account_id"] == fill["account_id"]
    assert {b["asset"] for b in fill["view"]["balances"]} == {"BTC", "USDT"}


def _accounts_named(m: dict[str, Any]) -> list[str]:
    """Every account id anywhere in a message (its event fields and its view)."""
    found: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("account_id", "parent_id", "scope_id") and isinstance(v, str):
                    found.append(v)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk({k: v for k, v in m.items() if k != "subscription"})
    return found


@JOURNALS
def test_reconnect_with_since_seq_gets_the_missed_events_then_live_ones_once(
    tmp_path: Path, journal: str
) -> None:
    for env in make_env(tmp_path, journal=journal):
        reconnect_and_resume(env)


def reconnect_and_resume(env: Env) -> None:
    with env.ws("alice") as ws:
        ws.receive_json()
        replay = subscribe(ws, "alice", since_seq=0)  # everything from the start
        env.order("alice", "alice", "BUY", "29000")
        first = settle(env, ws)
    seen = account_seqs(replay + first, "alice")
    assert all(m.get("replay") for m in replay if "subscription" in m)
    assert seen == env.trail("alice")
    last = seen[-1]

    # Offline: alice's orders fill against bob, bob trades on.
    env.order("bob", "bob", "SELL", "29000", qty="0.05")
    env.order("alice", "alice", "SELL", "31000")
    env.order("bob", "bob", "BUY", "28000")
    missed = env.trail("alice", last)
    assert len(missed) >= 3

    with env.ws("alice") as ws:
        ws.receive_json()
        again = subscribe(ws, "alice", since_seq=last)
        assert again[-1]["op"] == "live"
        env.order("bob", "bob", "BUY", "31000", qty="0.02")  # fills alice's sell: live
        more = settle(env, ws)
    resumed = account_seqs(again + more, "alice")
    assert resumed[: len(missed)] == missed
    assert resumed == env.trail("alice", last)  # no gap, no duplicate
    assert seen + resumed == env.trail("alice")


@JOURNALS
def test_events_during_a_slow_replay_are_neither_lost_nor_doubled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, journal: str
) -> None:
    """The journal is replayed a few events at a time while orders keep coming: the switch to
    live must join the two streams exactly."""
    monkeypatch.setattr(stream, "REPLAY_CHUNK", 3)

    async def trader(service: Any) -> None:
        node = service.node
        while not getattr(service, "go", False):
            await asyncio.sleep(0.001)
        for i in range(120):
            node.submit("alice", SPOT, "BUY" if i % 2 else "SELL", "LIMIT", "0.01", 29000 + i * 20)
            node.submit("bob", SPOT, "SELL", "LIMIT", "0.01", 29500 + i)
            await asyncio.sleep(0 if i < 60 else 0.002)
        service.done = True

    for env in make_env(tmp_path, background=trader, journal=journal, ws_queue_size=64):
        for i in range(40):  # a history to replay
            env.order("alice", "alice", "BUY", str(20000 + i))
        service = env.client.app.state.service  # type: ignore[attr-defined]
        with env.ws("alice") as ws:
            ws.receive_json()
            service.go = True
            got = subscribe(ws, "alice", since_seq=5)
            while not getattr(service, "done", False):
                ws.send_json({"op": "ping"})
                got += recv_until(ws, op("pong"))
            got += settle(env, ws)
        seqs = account_seqs(got, "alice")
        assert len(seqs) == len(set(seqs))
        assert seqs == env.trail("alice", 5)
        at_subscribe = got[0]["seq"]
        live_at = next(m["seq"] for m in got if m.get("op") == "live")
        # Events that came while the replay ran were replayed too, and later ones came live.
        assert any(m.get("replay") and m["seq"] > at_subscribe for m in got)
        assert any(s > live_at for s in seqs)


def test_stream_messages_share_the_keys_rate_limit(tmp_path: Path) -> None:
    for env in make_env(tmp_path, rate_limit_per_s=1):  # a burst of 2: the auth and one more
        with env.ws("alice") as ws:
            ws.receive_json()
            ws.send_json({"op": "ping"})
            assert ws.receive_json()["op"] == "pong"
            ws.send_json({"op": "ping"})
            refused = ws.receive_json()
            assert refused["op"] == "error" and refused["reason"] == "RATE_LIMITED"


def test_since_seq_beyond_the_journal_is_refused(env: Env) -> None:
    with env.ws("alice") as ws:
        ws.receive_json()
        got = subscribe(ws, "alice", since_seq=10**9)
        assert got[-1]["op"] == "error" and got[-1]["reason"] == "SEQ_AHEAD"
        got = subscribe(ws, "alice", since_seq=-1)
        assert got[-1]["reason"] == "INVALID_MESSAGE"


def test_a_risk_key_may_follow_any_account(env: Env) -> None:
    with env.ws("risk") as ws:
        ws.receive_json()
        assert subscribe(ws, "bob")[-1]["op"] == "live"
        env.order("bob", "bob", "BUY", "29000")
        got = settle(env, ws)
        assert account_seqs(got, "bob") and all(m["subscription"] == "bob" for m in got)


# ---------------------------------------------------------------------- market data
def test_market_channel_sends_books_after_changes_and_trades_without_accounts(env: Env) -> None:
    with env.ws("alice") as ws:
        ws.receive_json()
        ws.send_json({"op": "subscribe", "channel": "market", "symbol": SPOT, "levels": 3})
        assert ws.receive_json()["op"] == "subscribed"
        snap = ws.receive_json()
        assert snap["type"] == "book" and snap["bids"] == [] and snap["asks"] == []
        env.order("bob", "bob", "SELL", "30100", qty="0.3")
        env.order("bob", "bob", "SELL", "30200", qty="0.3")
        env.order("alice", "alice", "BUY", "30100", qty="0.1")
        env.order("bob", "bob", "SELL", "30200", qty="0.3")  # same price level grows
        got = settle(env, ws)
        ws.send_json({"op": "subscribe", "channel": "market", "symbol": "NOPE/USDT"})
        assert ws.receive_json()["reason"] == "UNKNOWN_INSTRUMENT"
    books = [m for m in got if m["type"] == "book"]
    trades = [m for m in got if m["type"] == "trade"]
    assert books[0]["asks"] == [["30100.00", "0.3000"]]
    assert books[-1]["asks"] == [["30100.00", "0.2000"], ["30200.00", "0.6000"]]
    sides = [(b["bids"], b["asks"]) for b in books]
    assert all(a != b for a, b in itertools.pairwise(sides))  # only changes
    assert len(trades) == 1
    t = trades[0]
    assert (t["price"], t["qty"], t["side"], t["symbol"]) == ("30100.00", "0.1000", "BUY", SPOT)
    for m in got:
        assert m["channel"] == "market" and not _accounts_named(m) and "order_id" not in m


# ---------------------------------------------------------------------- slow clients
def test_a_client_whose_queue_overflows_is_closed_and_can_resume(tmp_path: Path) -> None:
    for env in make_env(tmp_path, ws_queue_size=8):
        with env.ws("alice") as ws:
            ws.receive_json()
            live = subscribe(ws, "alice")[-1]["seq"]
            batch = {
                "orders": [
                    {
                        "account_id": "alice",
                        "symbol": SPOT,
                        "side": "BUY",
                        "qty": "0.1",
                        "price": str(20000 + i),
                    }
                    for i in range(20)
                ]
            }
            env.http("alice", "POST", "/v1/orders/batch", json=batch)  # 40+ events at once
            with pytest.raises(WebSocketDisconnect) as info:
                while True:
                    ws.receive_json()
            assert info.value.code == 4408 and "since_seq" in info.value.reason
        # The engine did not wait for it; the client resumes from where it was.
        assert len(env.node.orders("alice", open_only=True)) == 20
        assert "atlas_ws_slow_closed_total 1.0" in env.client.get("/metrics").text
        with env.ws("alice") as ws:
            ws.receive_json()
            got = subscribe(ws, "alice", since_seq=live)
            got += settle(env, ws)
        assert account_seqs(got, "alice") == env.trail("alice", live)


# ---------------------------------------------------------------------- /v1/me and the page
def test_me_tells_the_roles_and_accounts_never_the_secret(env: Env) -> None:
    me = env.http("alice", "GET", "/v1/me")
    assert me["roles"] == ["trader"] and me["accounts"] == ["alice"]
    assert me["visible_accounts"] == ["alice", "alice-algo"]
    assert me["can_kill"] is False and me["label"] == "alice desk"
    secret = env.tokens["alice"].split(".", 1)[1]
    assert secret not in str(me) and "digest" not in me and "salt" not in me
    assert env.http("risk", "GET", "/v1/me")["can_kill"] is True
    assert env.client.get("/v1/me").status_code == 401


def test_the_blotter_page_and_its_files_are_served_from_the_package(env: Env) -> None:
    page = env.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "/static/blotter.js" in page.text and "http" not in page.text.split("<body>")[0]
    for name, kind in (("blotter.js", "javascript"), ("blotter.css", "css")):
        r = env.client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    assert env.client.get("/static/nope.js").status_code == 404
