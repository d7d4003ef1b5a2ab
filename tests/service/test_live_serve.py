"""The served node end to end, through a real ``atlas serve``: time moves by itself (a GTD order
expires on time, also one that expired while the server was stopped; a funding boundary passed
while it was stopped settles at start), answers show only journaled state (kill -9 right after a
GET or a refusal loses nothing it showed), a journal that cannot be written turns the node
unavailable and back, and SIGTERM/SIGINT stop it quickly and cleanly."""

from __future__ import annotations

import json
import re
import resource
import signal
import socket
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from serving import Served, raw_request
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.service.bootstrap import default_instruments, first_start

S = 1_000_000_000
SPOT = "BTC/USDT"
PERP = "BTC/USDT:USDT"


def order_body(account: str, side: str, **kw: Any) -> dict[str, Any]:
    body = {"account_id": account, "symbol": SPOT, "side": side, "qty": "0.01"}
    body |= {"order_type": "LIMIT" if "price" in kw else "MARKET", **kw}
    return body


@pytest.fixture
def served(tmp_path: Path) -> Any:
    servers: list[Served] = []

    def make(**kw: Any) -> Served:
        server = Served(tmp_path / "data", **kw)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.ensure_stopped()


# ---------------------------------------------------------------------------------- time
def test_a_gtd_order_expires_on_time_and_one_that_expired_while_stopped_expires_at_start(
    served: Any,
) -> None:
    srv = served().start()
    trader = srv.keys()["trader"]
    with httpx.Client(base_url=srv.url, headers=trader) as http:
        expire = time.time_ns() + int(1.5 * S)
        soon = http.post(
            "/v1/orders",
            json=order_body("desk", "BUY", price="50000", tif="GTD", expire_ts=expire),
        ).json()
        later = http.post(
            "/v1/orders",
            json=order_body("desk", "BUY", price="50000", tif="GTD", expire_ts=expire + 4 * S),
        ).json()
        assert soon["status"] == later["status"] == "ACCEPTED"
        while True:
            view = http.get(f"/v1/orders/{soon['order_id']}?account_id=desk").json()
            if view["status"] != "ACCEPTED" or time.time_ns() > expire + 3 * S:
                break
            time.sleep(0.02)
        seen = time.time_ns()
        assert view["status"] == "EXPIRED"
        assert expire <= seen < expire + S // 2  # on time: not a second late
        assert 0 <= view["ts_last"] - expire < S // 5  # expired by a tick at its expiry
    code, _, _ = srv.stop()
    assert code == 0
    while time.time_ns() < expire + 4 * S + S // 10:  # `later` expires while the server is down
        time.sleep(0.1)
    srv.start()
    view = httpx.get(f"{srv.url}/v1/orders/{later['order_id']}?account_id=desk", headers=trader)
    assert view.json()["status"] == "EXPIRED"  # at once, by the first tick


def test_a_funding_boundary_that_passed_while_stopped_settles_at_start(tmp_path: Path) -> None:
    """The journal is prepared offline, its funding counted from five minutes ago on a
    one-minute interval: the served node settles the boundary at start."""
    data = tmp_path / "data"
    data.mkdir()
    now = time.time_ns()
    past = now - now % (60 * S) - 5 * 60 * S
    instruments = [
        msgspec.structs.replace(i, funding_interval_min=1) if i.is_derivative else i
        for i in default_instruments()
    ]
    node = Node.open(str(data / "atlas.db"), clock=ManualClock(past))
    first_start(node, instruments)
    node.sell("maker", PERP, "0.01", 60000)
    assert node.buy("desk", PERP, "0.01").status == "FILLED"
    node.set_funding_rate(PERP, "0.0001")
    node.close()
    srv = Served(data).start()
    try:
        risk = srv.keys()["risk"]
        trail = httpx.get(f"{srv.url}/v1/audit/desk", headers=risk).json()
        funding = [r for r in trail if r["event"] == "FundingSettled"]
        assert len(funding) == 1
        detail = funding[0]["detail"]
        checked = time.time_ns()
        # The last boundary before the start (the start may be a minute later than `now`).
        assert detail["funding_ts"] % (60 * S) == 0
        assert now - now % (60 * S) <= detail["funding_ts"] <= checked
        assert Decimal(detail["amount"]) == Decimal("-0.06")  # 0.01 * 60000 * 0.0001, paid
    finally:
        srv.ensure_stopped()


# ---------------------------------------------------------------------------------- durability
def _resting_sell(http: httpx.Client, maker: dict[str, str]) -> int:
    view = http.post(
        "/v1/orders", json=order_body("maker", "SELL", price="60000"), headers=maker
    ).json()
    assert view["status"] == "ACCEPTED", view
    return int(view["order_id"])


def _answer(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    """Read one whole answer: its status and JSON body."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, "the server closed the connection"
        data += more
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), dict(json.loads(body))


def test_kill_9_right_after_a_get_showed_filled_keeps_the_fill(served: Any) -> None:
    """A crossing order is sent without waiting for its answer; the resting order is read until
    it shows FILLED, and the server is killed the moment that answer arrives. After the restart
    the order is FILLED."""
    srv = served()
    for _ in range(5):
        srv.start()
        keys = srv.keys()
        with httpx.Client(base_url=srv.url) as http:
            resting = _resting_sell(http, srv.maker_key())
        inflight = raw_request(
            srv.port, "POST", "/v1/orders", keys["trader"], order_body("desk", "BUY")
        )
        path = f"/v1/orders/{resting}?account_id=maker"
        for _ in range(500):
            reading = raw_request(srv.port, "GET", path, keys["risk"])
            _, shown = _answer(reading)
            reading.close()
            if shown["status"] == "FILLED":
                srv.kill()  # at once
                break
        inflight.close()
        assert shown["status"] == "FILLED"
        srv.start()
        again = httpx.get(srv.url + path, headers=keys["risk"]).json()
        assert again["status"] == "FILLED" and again["cum_qty"] == shown["cum_qty"]
        srv.kill()


def test_kill_9_right_after_a_refusal_keeps_what_the_refusal_depended_on(served: Any) -> None:
    """The owner's DELETE of an order just filled by a crossing order (still in flight) is
    refused 409 ORDER_NOT_LIVE; kill -9 the moment the refusal arrives: after the restart the
    order is FILLED (the fill the refusal depended on was journaled before it was answered)."""
    srv = served()
    refusals = 0
    for _ in range(8):
        srv.start()
        keys = srv.keys()
        with httpx.Client(base_url=srv.url) as http:
            resting = _resting_sell(http, srv.maker_key())
        path = f"/v1/orders/{resting}?account_id=maker"
        inflight = raw_request(
            srv.port, "POST", "/v1/orders", keys["trader"], order_body("desk", "BUY")
        )
        deleting = raw_request(srv.port, "DELETE", path, keys["risk"])
        status, answer = _answer(deleting)
        srv.kill()  # at once
        deleting.close()
        inflight.close()
        srv.start()
        again = httpx.get(srv.url + path, headers=keys["risk"]).json()
        srv.kill()
        if status == 200:
            continue  # the cancel arrived first: nothing to prove this round
        assert status == 409 and answer["reason"] == "ORDER_NOT_LIVE"
        assert again["status"] == "FILLED", again
        refusals += 1
        if refusals == 3:
            break
    assert refusals >= 1


# ---------------------------------------------------------------------------------- commit failure
def _ignore_sigxfsz() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_a_commit_error_turns_health_and_writes_to_503_then_the_node_resumes(
    served: Any,
) -> None:
    srv = served(
        env={
            "ATLAS_COMMIT_WAIT_S": "1",
            "ATLAS_JOURNAL_RETRY_MAX_S": "0.2",
            "ATLAS_JOURNAL_RETRY_LIMIT_S": "120",
        },
        preexec_fn=_ignore_sigxfsz,
    ).start()
    trader = srv.keys()["trader"]
    wal = srv.data / "atlas.db-wal"
    with httpx.Client(base_url=srv.url, headers=trader, timeout=10) as http:
        first = http.post("/v1/orders", json=order_body("desk", "BUY", price="50000"))
        assert first.status_code == 201
        soft, hard = resource.prlimit(srv.pid, resource.RLIMIT_FSIZE)
        # The disk is full: the journal cannot grow by one more byte (EFBIG on every write).
        resource.prlimit(srv.pid, resource.RLIMIT_FSIZE, (wal.stat().st_size, hard))
        unknown = http.post("/v1/orders", json=order_body("desk", "BUY", price="50001"))
        assert unknown.status_code == 503
        assert unknown.json()["reason"] == "COMMIT_OUTCOME_UNKNOWN"
        health = http.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert health.json()["reason"] == "JOURNAL_UNAVAILABLE"
        started = time.monotonic()
        refused = http.post("/v1/orders", json=order_body("desk", "BUY", price="50002"))
        assert refused.status_code == 503 and time.monotonic() - started < 0.5  # at once
        assert refused.json()["reason"] == "JOURNAL_UNAVAILABLE"
        assert refused.json()["detail"]
        resource.prlimit(srv.pid, resource.RLIMIT_FSIZE, (soft, hard))  # space again
        deadline = time.monotonic() + 10
        while http.get("/health").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert http.get("/health").json()["status"] == "ok"
        after = http.post("/v1/orders", json=order_body("desk", "BUY", price="50003"))
        assert after.status_code == 201
        prices = [o["price"] for o in http.get("/v1/orders?account_id=desk").json()["orders"]]
    # The unknown outcome was the order's, committed on resume; the refused one never existed.
    assert prices == ["50000.00", "50001.00", "50003.00"]  # at the tick (0.01)
    code, _, log = srv.stop()
    assert code == 0
    assert '"level": "error"' in log or "journal commit failed" in log


# ---------------------------------------------------------------------------------- stopping
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_server_within_5_s_with_a_websocket_open(served: Any, sig: int) -> None:
    srv = served(market_maker=True).start()
    trader = srv.keys()["trader"]
    acknowledged: list[dict[str, Any]] = []
    with connect(f"ws://127.0.0.1:{srv.port}/v1/ws", open_timeout=5) as ws:
        ws.send(json.dumps({"op": "auth", "token": trader["X-API-Key"]}))
        ws.send(json.dumps({"op": "subscribe", "channel": "account", "account_id": "desk"}))
        with httpx.Client(base_url=srv.url, headers=trader) as http:
            for i in range(5):
                answer = http.post("/v1/orders", json=order_body("desk", "BUY", price=f"5000{i}"))
                assert answer.status_code == 201
                acknowledged.append(answer.json())
            acknowledged.append(http.post("/v1/orders", json=order_body("desk", "BUY")).json())
        code, took, log = srv.stop(sig)
        with pytest.raises(ConnectionClosed):
            for _ in range(10_000):
                ws.recv(timeout=2)
    assert code == 0, log[-2000:]
    assert took < 5
    node = Node.open(str(srv.data / "atlas.db"))
    try:
        for view in acknowledged:
            stored = node.order(view["order_id"])
            assert stored.status == view["status"] and stored.cum_qty == Decimal(view["cum_qty"])
    finally:
        node.close()


# ---------------------------------------------------------------------------------- connections
def test_an_idle_connection_outlives_the_clients_own_idle_limit(served: Any) -> None:
    """httpx drops a pooled connection after 5 s idle, aiohttp after 15 s, requests never: the
    server keeps one open longer (75 s), so a client reusing one after a pause gets its answer,
    not a connection closed under it."""
    srv = served().start()
    risk = srv.keys()["risk"]
    sock = socket.create_connection(("127.0.0.1", srv.port))
    try:
        request = f"GET /v1/me HTTP/1.1\r\nHost: x\r\nX-API-Key: {risk['X-API-Key']}\r\n\r\n"
        sock.sendall(request.encode())
        assert _answer(sock)[0] == 200
        time.sleep(6)  # past uvicorn's default keep-alive (5 s)
        sock.sendall(request.encode())
        assert _answer(sock)[0] == 200
    finally:
        sock.close()
