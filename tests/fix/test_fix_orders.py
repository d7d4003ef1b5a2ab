"""The FIX 4.4 gateway end to end: a real ``atlas serve`` with ATLAS_FIX_PORT, driven by QuickFIX's
own initiator (a client we did not write) through the FIX order-state matrices: new -> fill,
partial fills, cancel, replace, too-late cancel, replace racing a fill, unknown orders, risk
denials with their reason, order status and mass cancel; then logon refusals and /metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.fix.initiator import Initiator
from tests.service.serving import Served, free_port


class Desk:
    """A served node with a FIX session logged on as the demo desk's trader."""

    def __init__(self, served: Served, fix_port: int, client: Initiator) -> None:
        self.served = served
        self.fix_port = fix_port
        self.client = client
        self.maker = served.maker_key()

    def maker_order(self, side: str, qty: str, price: str) -> None:
        """The market maker's account trades against the desk (through REST)."""
        r = httpx.post(
            f"{self.served.url}/v1/orders",
            json={
                "account_id": "maker",
                "symbol": "BTC/USDT",
                "side": side,
                "order_type": "LIMIT",
                "qty": qty,
                "price": price,
            },
            headers=self.maker,
        )
        assert r.status_code in (201, 422), r.text


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    root = tmp_path_factory.mktemp("fix")
    fix_port = free_port()
    served = Served(
        root / "data", env={"ATLAS_FIX_PORT": str(fix_port), "ATLAS_FIX_SESSIONS": "CLIENT,OTHER"}
    ).start()
    trader = served.keys()["trader"]["X-API-Key"]
    client = Initiator(root / "client", fix_port, trader).start()
    try:
        yield Desk(served, fix_port, client)
    finally:
        client.stop()
        served.stop()
        served.ensure_stopped()


def test_new_limit_order_is_acknowledged_then_filled_by_a_crossing_order(desk: Desk) -> None:
    c = desk.client
    cl = c.cl()
    c.new_order(cl, "1", "0.5", "50000")
    new = c.expect("8", t150="0", t39="0", t11=cl, t14="0", t151="0.5", t1="desk")
    assert new[37].isdigit()
    desk.maker_order("SELL", "0.5", "50000")
    fill = c.expect("8", t150="F", t39="2", t11=cl, t14="0.5", t151="0", t32="0.5", t31="50000")
    assert fill[6] == "50000"
    assert fill[17] != new[17]  # every ExecID unique


def test_partial_fills_then_cancel_follow_the_matrix(desk: Desk) -> None:
    c = desk.client
    cl = c.cl()
    c.new_order(cl, "1", "1", "49000")
    order_id = c.expect("8", t150="0", t39="0")[37]
    desk.maker_order("SELL", "0.25", "49000")
    c.expect("8", t150="F", t39="1", t14="0.25", t151="0.75", t32="0.25")
    desk.maker_order("SELL", "0.25", "49000")
    c.expect("8", t150="F", t39="1", t14="0.5", t151="0.5", t6="49000")
    cancel = c.cl()
    c.send(
        "F",
        (11, cancel),
        (41, cl),
        (37, order_id),
        (55, "BTC/USDT"),
        (54, "1"),
        (60, "20260101-00:00:00"),
    )
    c.expect("8", t150="6", t39="6", t11=cancel, t41=cl)
    done = c.expect("8", t150="4", t39="4", t11=cancel, t41=cl, t14="0.5", t151="0")
    assert done[37] == order_id
    # Cancel of an order that is already done: too late (CxlRejReason 0).
    again = c.cl()
    c.send("F", (11, again), (41, cancel), (55, "BTC/USDT"), (54, "1"), (60, "20260101-00:00:00"))
    reject = c.expect("9", t434="1", t102="0", t11=again, t39="4")
    assert reject[58].startswith("ORDER_NOT_LIVE")


def test_cancel_of_a_filled_order_is_rejected_too_late(desk: Desk) -> None:
    c = desk.client
    cl = c.cl()
    c.new_order(cl, "1", "0.1", "48000")
    c.expect("8", t150="0")
    desk.maker_order("SELL", "0.1", "48000")
    c.expect("8", t150="F", t39="2")
    cancel = c.cl()
    c.send("F", (11, cancel), (41, cl), (55, "BTC/USDT"), (54, "1"), (60, "20260101-00:00:00"))
    reject = c.expect("9", t434="1", t102="0", t39="2", t41=cl, t11=cancel)
    assert "ORDER_NOT_LIVE" in reject[58]


def test_replace_chains_clordids_and_keeps_what_filled(desk: Desk) -> None:
    c = desk.client
    cl = c.cl()
    c.new_order(cl, "1", "1", "47000")
    order_id = c.expect("8", t150="0")[37]
    desk.maker_order("SELL", "0.4", "47000")  # a fill, then the replace races behind it
    c.expect("8", t150="F", t39="1", t14="0.4")
    cl2 = c.cl()
    c.send(
        "G",
        (11, cl2),
        (41, cl),
        (37, order_id),
        (55, "BTC/USDT"),
        (54, "1"),
        (40, "2"),
        (38, "0.6"),
        (44, "47000"),
        (60, "20260101-00:00:00"),
    )
    c.expect("8", t150="E", t39="E", t11=cl2, t41=cl)
    c.expect("8", t150="5", t39="1", t11=cl2, t41=cl, t38="0.6", t14="0.4", t151="0.2")
    # The new ClOrdID names the order now: a second replace chains from it.
    cl3 = c.cl()
    c.send(
        "G",
        (11, cl3),
        (41, cl2),
        (55, "BTC/USDT"),
        (54, "1"),
        (40, "2"),
        (38, "0.6"),
        (44, "46900"),
        (60, "20260101-00:00:00"),
    )
    c.expect("8", t150="E", t11=cl3, t41=cl2)
    c.expect("8", t150="5", t11=cl3, t41=cl2, t44="46900", t37=order_id)
    # A replace down to what already filled completes the order.
    cl4 = c.cl()
    c.send(
        "G",
        (11, cl4),
        (41, cl3),
        (55, "BTC/USDT"),
        (54, "1"),
        (40, "2"),
        (38, "0.4"),
        (44, "46900"),
        (60, "20260101-00:00:00"),
    )
    c.expect("8", t150="E", t11=cl4)
    c.expect("8", t150="5", t39="2", t11=cl4, t14="0.4", t151="0")


def test_unknown_orders_are_refused_with_unknown_order(desk: Desk) -> None:
    c = desk.client
    cl = c.cl()
    c.send(
        "F", (11, cl), (41, "no-such-order"), (55, "BTC/USDT"), (54, "1"), (60, "20260101-00:00:00")
    )
    reject = c.expect("9", t102="1", t434="1", t11=cl)
    assert reject[58].startswith("UNKNOWN_ORDER")
    c.send(
        "G",
        (11, c.cl()),
        (41, "no-such-order"),
        (55, "BTC/USDT"),
        (54, "1"),
        (40, "2"),
        (38, "1"),
        (44, "1"),
        (60, "20260101-00:00:00"),
    )
    c.expect("9", t102="1", t434="2")
    c.send("H", (11, "no-such-order"), (55, "BTC/USDT"), (54, "1"))
    status = c.expect("8", t150="I", t39="8", t103="5")
    assert "UNKNOWN_ORDER" in status[58]


def test_an_order_risk_denies_is_rejected_with_the_engine_reason(desk: Desk) -> None:
    c = desk.client
    cl = c.cl()
    c.new_order(cl, "1", "1000", "50000")  # 50 M USDT: more than the desk has
    reject = c.expect("8", t150="8", t39="8", t11=cl, t103="3")
    assert reject[58].startswith("INSUFFICIENT_BALANCE: ")
    assert reject[37].isdigit()  # journaled as a denied order
    bad = c.cl()
    c.new_order(bad, "1", "1", "50000", symbol="NOPE/USDT")
    assert "UNKNOWN_INSTRUMENT" in c.expect("8", t150="8", t11=bad, t103="1")[58]
    other = c.cl()
    c.new_order(other, "1", "1", "50000", extra=((1, "maker"),))  # not the key's account
    assert c.expect("8", t150="8", t11=other)[58].startswith("UNKNOWN_ACCOUNT")


def test_order_status_answers_with_the_order_as_it_is(desk: Desk) -> None:
    c = desk.client
    cl = c.cl()
    c.new_order(cl, "1", "0.3", "45000")
    order_id = c.expect("8", t150="0")[37]
    c.send("H", (11, cl), (55, "BTC/USDT"), (54, "1"), (790, "req-1"))
    c.expect("8", t150="I", t39="0", t37=order_id, t11=cl, t151="0.3", t790="req-1")


def test_mass_cancel_cancels_every_open_order_of_the_account(desk: Desk) -> None:
    c = desk.client
    c.drain()
    ids = []
    for price in ("44000", "44001"):
        c.new_order(c.cl(), "1", "0.01", price)
        ids.append(c.expect("8", t150="0")[37])
    c.send("q", (11, c.cl()), (530, "7"), (60, "20260101-00:00:00"))
    got = c.drain(1.0)
    reports = [f for t, f in got if t == "r"]
    assert len(reports) == 1 and reports[0][531] == "7", got
    assert int(reports[0][533]) >= 2
    canceled = {f[37] for t, f in got if t == "8" and f[150] == "4"}
    assert set(ids) <= canceled


def test_unsupported_messages_get_a_business_reject(desk: Desk) -> None:
    c = desk.client
    c.send("AF", (584, "m1"), (585, "7"))  # OrderMassStatusRequest: not supported
    import queue as q_

    try:
        c.expect("j", t372="AF", t380="3", timeout=5)
    except q_.Empty:
        raise AssertionError((c.app.admin[-3:], c.app.sent_admin[-3:])) from None


def _one_taken_one_denied(c: Initiator) -> None:
    """An order the engine takes and one it denies (INSUFFICIENT_BALANCE), in this test: the
    tests of one module may run on different workers, each with its own server."""
    cl = c.cl()
    c.new_order(cl, "1", "0.01", "20000")
    c.expect("8", t150="0", t11=cl)
    cl = c.cl()
    c.new_order(cl, "1", "1000", "50000")
    c.expect("8", t150="8", t11=cl, t103="3")


def test_metrics_show_fix_sessions_and_messages(desk: Desk) -> None:
    _one_taken_one_denied(desk.client)
    text = httpx.get(f"{desk.served.url}/metrics").text
    assert 'atlas_interface_sessions{interface="fix"} 1.0' in text
    assert (
        'atlas_interface_requests_total{interface="fix",method="NewOrderSingle",outcome="ok"}'
        in text
    )
    assert 'interface="fix",method="NewOrderSingle",outcome="INSUFFICIENT_BALANCE"' in text


def test_logon_with_a_bad_password_is_refused(desk: Desk, tmp_path: Path) -> None:
    trader = desk.served.keys()["trader"]["X-API-Key"]
    key_id = trader.partition(".")[0]
    bad = Initiator(tmp_path / "bad", desk.fix_port, f"{key_id}.wrong", sender="OTHER").start(
        wait=False
    )
    try:
        deadline = time.monotonic() + 10
        while not any(t == "5" for t, _ in bad.app.admin) and time.monotonic() < deadline:
            time.sleep(0.05)
        logouts = [f for t, f in bad.app.admin if t == "5"]
        assert logouts and "UNAUTHENTICATED" in logouts[0].get(58, ""), bad.app.admin
        assert not bad.app.logged_on
    finally:
        bad.stop()


def test_the_client_rejected_none_of_the_gateway_messages(desk: Desk) -> None:
    """QuickFIX's initiator validates every message against the FIX 4.4 dictionary and answers
    a session Reject(3) for one it cannot take: it sent none."""
    rejects = [f for t, f in desk.client.app.sent_admin if t == "3"]
    assert rejects == []


def test_a_market_order_is_acknowledged_then_filled(desk: Desk) -> None:
    c = desk.client
    c.drain()
    # At the last price: a market order's protection band is around it. Set here, so that
    # the test does not depend on an earlier test having traded.
    last = "40000.00"
    r = httpx.post(
        f"{desk.served.url}/v1/marketdata/prices",
        json={"symbol": "BTC/USDT", "last": last},
        headers=desk.served.keys()["risk"],
    )
    assert r.status_code == 200, r.text
    desk.maker_order("SELL", "0.05", last)
    cl = c.cl()
    c.new_order(cl, "1", "0.05")  # OrdType 1 market, TimeInForce default DAY
    c.expect("8", t150="0", t11=cl, t40="1")
    fill = c.expect("8", t150="F", t39="2", t11=cl, t14="0.05", t151="0")
    assert fill[31] == last.rstrip("0").rstrip(".")


def test_a_reused_clordid_is_rejected_as_a_duplicate(desk: Desk) -> None:
    c = desk.client
    cl = c.cl()
    c.new_order(cl, "1", "0.01", "40000")
    c.expect("8", t150="0", t11=cl)
    c.new_order(cl, "1", "0.01", "40000")
    dup = c.expect("8", t150="8", t11=cl, t103="6", t37="NONE")
    assert dup[58].startswith("DUPLICATE_CLIENT_ORDER_ID")


def test_a_stop_order_reports_its_trigger_as_restated(desk: Desk) -> None:
    c = desk.client
    c.drain()
    cl = c.cl()
    c.new_order(cl, "1", "0.01", symbol="ETH/USDT", ord_type="3", extra=((99, "3100"),))
    c.expect("8", t150="0", t11=cl, t40="3", t99="3100")
    risk = desk.served.keys()["risk"]
    r = httpx.post(
        f"{desk.served.url}/v1/marketdata/prices",
        json={"symbol": "ETH/USDT", "last": "3150"},
        headers=risk,
    )
    assert r.status_code == 200, r.text
    c.expect("8", t150="D", t378="3", t58="TRIGGERED", t11=cl)
    after = c.expect("8", t11=cl)  # then it works as a market order: filled or canceled
    assert after[150] in ("F", "4"), after


def test_a_key_revoked_after_logon_is_refused_at_once(desk: Desk, tmp_path: Path) -> None:
    admin = desk.served.keys()["admin"]
    issued = httpx.post(
        f"{desk.served.url}/v1/keys",
        json={"roles": ["trader"], "accounts": ["desk"]},
        headers=admin,
    ).json()
    other = Initiator(tmp_path / "other", desk.fix_port, issued["token"], sender="OTHER").start()
    try:
        cl = other.cl()
        other.new_order(cl, "1", "0.01", "30000")
        other.expect("8", t150="0", t11=cl)
        key_id = issued["token"].partition(".")[0]
        r = httpx.delete(f"{desk.served.url}/v1/keys/{key_id}", headers=admin)
        assert r.status_code == 200, r.text
        other.new_order(other.cl(), "1", "0.01", "30000")
        refused = other.expect("j", t372="D", t380="6")
        assert refused[58].startswith("UNAUTHENTICATED")
    finally:
        other.stop()


def test_refusals_are_logged_with_their_reason_and_no_secret(desk: Desk) -> None:
    _one_taken_one_denied(desk.client)
    secret = desk.served.keys()["trader"]["X-API-Key"].partition(".")[2]
    deadline = time.monotonic() + 5  # the log line may follow the report by a moment
    while True:
        log = desk.served.stderr()
        refused = [
            json.loads(line)
            for line in log.splitlines()
            if '"refused"' in line and '"interface": "fix"' in line
        ]
        if any(r["reason"] == "INSUFFICIENT_BALANCE" for r in refused):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert any(r["reason"] == "INSUFFICIENT_BALANCE" and r["detail"] for r in refused), refused
    access = [json.loads(line) for line in log.splitlines() if '"event": "fix"' in line]
    assert {"interface", "method", "outcome", "key_id", "duration_ms"} <= set(access[0])
    assert secret not in log


def test_a_test_request_is_answered_with_a_heartbeat_carrying_its_id(desk: Desk) -> None:
    c = desk.client
    c.send("1", (112, "ping-1"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(t == "0" and f.get(112) == "ping-1" for t, f in c.app.admin):
            return
        time.sleep(0.05)
    raise AssertionError(c.app.admin[-3:])
