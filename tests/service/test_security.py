"""Security (issue 11, defect 6): no secret in any log line and every line JSON (through a real
``atlas serve``), the WebSocket key in a header or the first message, a resumed stream masking
trade ids as the live one does, and who may trade for whom."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_serve import free_port, start, stop
from test_stream import Env, make_env, settle, subscribe
from websockets.sync.client import ClientConnection, connect

from atlas_oms.service.logs import JsonFormatter, log_config, redact, redact_value

BTC = "BTC/USDT"


# ---------------------------------------------------------------------- through atlas serve
def _ws_messages(ws: ClientConnection, done: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        msg = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        out.append(msg)
        if done(msg):
            return out


def _subscribe(ws: ClientConnection, account: str, **kw: Any) -> list[dict[str, Any]]:
    ws.send(json.dumps({"op": "subscribe", "channel": "account", "account_id": account, **kw}))
    return _ws_messages(ws, lambda m: m.get("op") in ("live", "error"))


def _fills(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("type") == "OrderFilled"]


def test_a_served_session_leaves_no_secret_in_the_log_and_every_line_is_json(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ws_url = f"ws://127.0.0.1:{port}/v1/ws"
    proc = start(tmp_path, port)
    try:
        keys = [json.loads(x) for x in (tmp_path / "first-keys.txt").read_text().splitlines()]
        admin, risk, trader = (k["token"] for k in keys)
        seq0 = httpx.get(f"{url}/health").json()["seq"]
        # Three ways to send the key: the URL (kept, discouraged), a header, the first message.
        with (
            connect(f"{ws_url}?token={trader}") as by_query,
            connect(ws_url, additional_headers={"X-API-Key": trader}) as by_header,
            connect(ws_url, additional_headers={"Authorization": f"Bearer {risk}"}) as bearer,
            connect(ws_url) as by_message,
        ):
            by_message.send(json.dumps({"op": "auth", "token": trader}))
            for ws in (by_query, by_header, bearer, by_message):
                hello = _ws_messages(ws, lambda m: "op" in m)[0]
                assert hello["op"] == "authenticated", hello
            assert hello["key_id"] == trader.split(".")[0]
            for ws in (by_query, by_header, by_message):
                assert _subscribe(ws, "desk")[-1]["op"] == "live"
            assert _subscribe(bearer, "desk")[-1]["op"] == "live"  # risk sees every account
            for _ in range(50):  # the market maker quotes within its first second
                book = httpx.get(f"{url}/v1/book/{BTC}", headers={"X-API-Key": trader}).json()
                if book["asks"]:
                    break
                time.sleep(0.1)
            order = {
                "account_id": "desk",
                "symbol": BTC,
                "side": "BUY",
                "order_type": "MARKET",
                "qty": "0.01",
            }
            r = httpx.post(f"{url}/v1/orders", headers={"X-API-Key": trader}, json=order)
            assert r.status_code == 201 and r.json()["status"] == "FILLED", r.text
            live = _fills(_ws_messages(by_header, lambda m: m.get("type") == "OrderFilled"))
            journal_id = _fills(_ws_messages(bearer, lambda m: m.get("type") == "OrderFilled"))
            # Secrets sent where they do not belong, and refused keys, are not logged either.
            httpx.get(f"{url}/v1/me?token={admin}&api_key={risk}", headers={"X-API-Key": trader})
            httpx.get(f"{url}/v1/accounts", headers={"Authorization": f"Bearer {admin}"})
            bad = trader.split(".")[0] + ".not-the-secret-at-all"
            assert httpx.get(f"{url}/v1/me", headers={"X-API-Key": bad}).status_code == 401
        # The same fill, resumed with since_seq, shows the same opaque trade id.
        with connect(ws_url, additional_headers={"X-API-Key": trader}) as resumed:
            _ws_messages(resumed, lambda m: m.get("op") == "authenticated")
            replayed = _fills(_subscribe(resumed, "desk", since_seq=seq0))
        assert live and replayed
        assert [f["trade_id"] for f in replayed] == [f["trade_id"] for f in live]
        assert [f["exec_id"] for f in replayed] == [f["exec_id"] for f in live]
        assert replayed[0]["replay"] is True
        assert live[0]["trade_id"].startswith("sim-t") and "x" not in live[0]["trade_id"]
        assert journal_id[0]["trade_id"] != live[0]["trade_id"]  # risk: the journal's id
    finally:
        log = stop(proc)
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict), line  # every line one JSON object
    for k in keys:
        token = k["token"]
        assert token not in log and token.split(".", 1)[1] not in log
    assert "not-the-secret-at-all" not in log
    parsed = [json.loads(line) for line in lines]
    events = {p["event"] for p in parsed}
    assert "Application startup complete." in events and "Application shutdown complete." in events
    access = [p for p in parsed if p.get("logger") == "atlas.access"]
    placed = [a for a in access if a["method"] == "POST" and a["path"] == "/v1/orders"]
    assert placed and placed[0]["status"] == 201 and placed[0]["key_id"] == trader.split(".")[0]
    assert placed[0]["duration_ms"] >= 0
    assert any(a["path"] == "/v1/ws?token=***" and a["status"] == 101 for a in access)
    assert any(a["path"] == "/v1/me?token=***&api_key=***" for a in access)


# ---------------------------------------------------------------------- in process
@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def _issue(env: Env, roles: tuple[str, ...], accounts: tuple[str, ...]) -> str:
    app: Any = env.client.app
    token: str = app.state.service.keys.issue(roles, accounts).token
    return token


def test_a_resumed_stream_masks_trade_ids_exactly_as_the_live_one(env: Env) -> None:
    with env.client.websocket_connect("/v1/ws", headers={"X-API-Key": env.tokens["alice"]}) as ws:
        assert ws.receive_json()["op"] == "authenticated"
        start_seq = env.node.engine.seq
        subscribe(ws, "alice")
        env.order("bob", "bob", "SELL", "30000")
        env.order("alice", "alice", "BUY", "30000")
        live = [m for m in settle(env, ws) if m.get("type") == "OrderFilled"]
    with env.client.websocket_connect(
        "/v1/ws", headers={"Authorization": f"Bearer {env.tokens['alice']}"}
    ) as ws:
        assert ws.receive_json()["op"] == "authenticated"
        replayed = [
            m for m in subscribe(ws, "alice", since_seq=start_seq) if m.get("type") == "OrderFilled"
        ]
    assert len(live) == len(replayed) == 1
    assert replayed[0]["replay"] is True
    assert replayed[0]["trade_id"] == live[0]["trade_id"]
    assert replayed[0]["exec_id"] == live[0]["exec_id"]
    assert "x" not in replayed[0]["trade_id"]  # not sim-<taker>x<maker>: no other side's id


def test_a_websocket_key_in_a_header_authenticates_and_a_bad_one_is_4401(env: Env) -> None:
    with env.client.websocket_connect("/v1/ws", headers={"X-API-Key": env.tokens["bob"]}) as ws:
        hello = ws.receive_json()
        assert hello["op"] == "authenticated" and hello["key_id"] == env.tokens["bob"][:15]
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as info,
        env.client.websocket_connect("/v1/ws", headers={"X-API-Key": "ak_0.nope"}) as ws,
    ):
        ws.receive_json()
    assert info.value.code == 4401


def _order(account: str, **kw: Any) -> dict[str, Any]:
    body = {"account_id": account, "symbol": BTC, "side": "BUY", "qty": "0.1", "price": "29000"}
    return body | kw


def test_a_risk_key_cannot_place_or_modify_but_cancels_and_kills(env: Env) -> None:
    risk = {"X-API-Key": env.tokens["risk"]}
    c = env.client
    for method, path, body in (
        ("POST", "/v1/orders", _order("alice")),
        ("POST", "/v1/orders/batch", {"orders": [_order("alice")]}),
        (
            "POST",
            "/v1/transfers",
            {
                "from_account_id": "alice",
                "to_account_id": "alice-algo",
                "asset": "USDT",
                "amount": "1",
            },
        ),
        ("POST", "/v1/accounts", {"account_id": "alice-x", "parent_id": "alice"}),
    ):
        r = c.request(method, path, headers=risk, json=body)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["reason"] == "FORBIDDEN_ROLE" and "trader role" in r.json()["detail"]
    resting = env.order("alice", "alice", "BUY", "29000")
    r = c.patch(
        f"/v1/orders/{resting['order_id']}",
        headers=risk,
        json={"account_id": "alice", "qty": "0.2"},
    )
    assert r.status_code == 403 and r.json()["reason"] == "FORBIDDEN_ROLE"
    r = c.delete(f"/v1/orders/{resting['order_id']}?account_id=alice", headers=risk)
    assert r.status_code == 200 and r.json()["status"] == "CANCELED"
    env.order("alice", "alice", "BUY", "29000")
    r = c.post("/v1/orders/cancel-all", headers=risk, json={"account_id": "alice"})
    assert r.status_code == 200 and len(r.json()["canceled"]) == 1
    kill = {"scope": "account", "scope_id": "alice", "reason": "drill"}
    assert c.post("/v1/risk/kill", headers=risk, json=kill).status_code == 200
    assert c.post("/v1/risk/kill/reset", headers=risk, json=kill).status_code == 200
    # Nothing was placed by the risk key: alice's orders are the two she sent.
    assert len(env.http("alice", "GET", "/v1/orders?account_id=alice")["orders"]) == 2


def test_admin_trades_only_with_the_trader_role_and_only_for_its_tree(env: Env) -> None:
    c = env.client
    admin = {"X-API-Key": _issue(env, ("admin",), ())}
    r = c.post("/v1/orders", headers=admin, json=_order("alice"))
    assert r.status_code == 403 and r.json()["reason"] == "FORBIDDEN_ROLE"
    both = {"X-API-Key": _issue(env, ("admin", "trader"), ("alice",))}
    assert c.post("/v1/orders", headers=both, json=_order("alice-algo")).status_code == 201
    r = c.post("/v1/orders", headers=both, json=_order("bob"))  # seen (admin), not its tree
    assert r.status_code == 403 and r.json()["reason"] == "FORBIDDEN_ROLE"
    me = c.get("/v1/me", headers=both).json()
    assert me["trading_accounts"] == ["alice", "alice-algo"]


def test_a_trader_acts_for_its_tree_and_gets_404_outside_it(env: Env) -> None:
    c = env.client
    alice = {"X-API-Key": env.tokens["alice"]}
    assert c.post("/v1/orders", headers=alice, json=_order("alice-algo")).status_code == 201
    bobs = env.order("bob", "bob", "BUY", "29000")
    for method, path, body in (
        ("POST", "/v1/orders", _order("bob")),
        ("POST", "/v1/orders/batch", {"orders": [_order("bob")]}),
        ("POST", "/v1/orders", _order("nobody")),  # the same answer as for one that exists
        ("PATCH", f"/v1/orders/{bobs['order_id']}", {"account_id": "bob", "qty": "0.2"}),
        ("DELETE", f"/v1/orders/{bobs['order_id']}?account_id=bob", None),
        ("POST", "/v1/orders/cancel-all", {"account_id": "bob"}),
    ):
        r = c.request(method, path, headers=alice, json=body)
        assert r.status_code == 404 and r.json()["reason"] == "UNKNOWN_ACCOUNT", (path, r.text)
        assert (
            "bob" not in r.json()["detail"] or "no account bob for this key" in r.json()["detail"]
        )
    assert env.http("bob", "GET", f"/v1/orders/{bobs['order_id']}?account_id=bob")["status"] == (
        "ACCEPTED"
    )


def test_a_forbidden_action_is_logged_as_a_refusal_without_the_secret(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="atlas"):
        r = env.client.post(
            "/v1/orders", headers={"X-API-Key": env.tokens["risk"]}, json=_order("alice")
        )
    assert r.status_code == 403
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(x)) for x in caplog.records]
    [refusal] = [x for x in lines if x.get("event") == "refused"]
    assert refusal["reason"] == "FORBIDDEN_ROLE" and refusal["status"] == 403
    assert refusal["key_id"] == env.tokens["risk"].split(".")[0]
    assert env.tokens["risk"].split(".", 1)[1] not in caplog.text


# ---------------------------------------------------------------------- units
SECRET = "Zm9vYmFyYmF6cXV4cXV1eGZvb2Jhcg"
TOKEN = f"ak_0123456789ab.{SECRET}"


@pytest.mark.parametrize(
    "text",
    [
        f'127.0.0.1:5 - "WebSocket /v1/ws?token={TOKEN}" [accepted]',
        f"GET /v1/me?account_id=desk&api_key={SECRET}&x=1",
        f"/x?secret={SECRET}",
        f"/x?signature={SECRET}&key={SECRET}",
        f"Authorization: Bearer {SECRET}",
        f"{{'x-api-key': '{SECRET}'}}",
        f"[(b'x-atlas-signature', b'{SECRET}')]",
        f"X-API-Key={SECRET}",
        f"the key {TOKEN} was sent",
    ],
)
def test_redaction_removes_every_shape_of_secret(text: str) -> None:
    out = redact(text)
    assert SECRET not in out and "***" in out


def test_redaction_keeps_what_is_not_a_secret() -> None:
    for text in ("/v1/orders?account_id=desk&limit=5", "monkey=1&donkey=2", "ak_0123456789ab"):
        assert redact(text) == text
    assert redact(TOKEN) == "ak_0123456789ab.***"  # the key id stays: it names the key
    fields = {"token": "x", "headers": {"Authorization": "Bearer y"}, "key_id": "ak_1", "n": 3}
    assert redact_value(fields) == {
        "token": "***",
        "headers": {"Authorization": "***"},
        "key_id": "ak_1",
        "n": 3,
    }


def test_the_formatter_writes_one_json_object_with_the_traceback_as_a_field() -> None:
    formatter = JsonFormatter()
    try:
        raise ValueError(f"bad token {TOKEN}")
    except ValueError:
        record = logging.LogRecord(
            "uvicorn.error",
            logging.ERROR,
            "f",
            1,
            "failed %s",
            ("/v1/ws?token=abc",),
            sys.exc_info(),
        )
    line = formatter.format(record)
    assert "\n" not in line
    out = json.loads(line)
    assert out["event"] == "failed /v1/ws?token=***" and out["level"] == "error"
    assert out["logger"] == "uvicorn.error" and "ValueError" in out["exception"]
    assert SECRET not in line
    # A structlog line already rendered as JSON is merged, not nested.
    record = logging.LogRecord("atlas.api", logging.INFO, "f", 1, '{"event": "refused"}', (), None)
    assert json.loads(formatter.format(record))["event"] == "refused"


def test_the_uvicorn_loggers_write_json_in_an_embedded_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BackgroundServer's config: uvicorn's loggers write JSON to stderr, the host's root logger
    is left alone."""
    import logging.config

    root_handlers = list(logging.getLogger().handlers)
    logging.config.dictConfig(log_config("info", root=False))
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    logging.getLogger("uvicorn.error").info('"WebSocket /v1/ws?token=%s" [accepted]', TOKEN)
    assert logging.getLogger().handlers == root_handlers
    line = json.loads(buffer.getvalue())
    assert line["event"] == '"WebSocket /v1/ws?token=***" [accepted]'
    logging.config.dictConfig(log_config("warning", root=False))


def test_the_access_log_can_be_turned_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for enabled in (True, False):
        gen = make_env(tmp_path / str(enabled), access_log=enabled)
        env = next(gen)
        try:
            with caplog.at_level(logging.INFO, logger="atlas.access"):
                caplog.clear()
                env.http("alice", "GET", "/v1/me")
            hits = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
            hits = [h for h in hits if h["logger"] == "atlas.access"]
            if enabled:
                [hit] = hits
                assert hit["method"] == "GET" and hit["path"] == "/v1/me"
                assert hit["status"] == 200 and hit["key_id"] == env.tokens["alice"].split(".")[0]
            else:
                assert hits == []
        finally:
            gen.close()
