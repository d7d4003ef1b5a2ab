"""Crash safety of the FIX gateway: ``atlas serve`` is killed with SIGKILL in the middle of a
session (orders acknowledged, fills reported), restarted on the same data folder, and QuickFIX's
initiator reconnects by itself. Its sequence numbers go on (no reset), every acknowledged order
is still known (OrderStatusRequest), fills made before the kill reached the client, fills after
the restart reach it live, no ExecID is repeated with other content, and a ClOrdID reused after
the restart is refused through the node's client order ids (the gateway has forgotten the
finished order by then: ``ATLAS_ORDER_RETENTION_S=1``)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from tests.fix.initiator import WAIT_S, Initiator
from tests.service.serving import Served, free_port

#: Header and resend fields: the rest of an ExecutionReport is its content.
ENVELOPE = {8, 9, 10, 34, 43, 49, 52, 56, 97, 122}


def wait(predicate: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def sells(served: Served, maker: dict[str, str], qty: str, price: str) -> None:
    r = httpx.post(
        f"{served.url}/v1/orders",
        json={
            "account_id": "maker",
            "symbol": "BTC/USDT",
            "side": "SELL",
            "order_type": "LIMIT",
            "qty": qty,
            "price": price,
        },
        headers=maker,
    )
    assert r.status_code == 201, r.text


def test_sigkill_mid_session_loses_nothing_acknowledged(tmp_path: Path) -> None:
    fix_port = free_port()
    env = {
        "ATLAS_FIX_PORT": str(fix_port),
        "ATLAS_FIX_SESSIONS": "CRASH",
        "ATLAS_ORDER_RETENTION_S": "1",
    }
    served = Served(tmp_path / "data", env=env).start()
    trader = served.keys()["trader"]["X-API-Key"]
    maker = served.maker_key()
    c = Initiator(tmp_path / "client", fix_port, trader, sender="CRASH", heartbeat=1).start()
    try:
        a, b, done = c.cl(), c.cl(), c.cl()
        ids = {}
        for cl, qty, price in ((a, "1", "48000"), (b, "0.5", "47000"), (done, "0.2", "50000")):
            c.new_order(cl, "1", qty, price)
            ids[cl] = c.expect("8", t150="0", t11=cl)[37]
        sells(served, maker, "0.2", "50000")  # the best bid first
        c.expect("8", t150="F", t11=done, t39="2", t151="0")
        sells(served, maker, "0.4", "48000")
        c.expect("8", t150="F", t11=a, t14="0.4", t151="0.6")
        time.sleep(1.2)  # past the retention: the gateway forgets ``done`` at its next event
        sells(served, maker, "0.1", "48000")
        c.expect("8", t150="F", t11=a, t14="0.5")
        last_in = int(c.app.seen[-1][1][34])

        served.kill()  # SIGKILL: nothing flushed, no Logout
        wait(lambda: not c.app.logged_on, "the client did not see the connection drop")
        served = Served(tmp_path / "data", env=env).start()
        maker = served.maker_key()
        c.wait_logon()  # QuickFIX's initiator reconnects (ReconnectInterval=1) and logs on

        logons = [f for t, f in c.app.sent_admin if t == "A"]
        assert len(logons) >= 2 and int(logons[-1][34]) > int(logons[0][34])
        assert all(f.get(141) != "Y" for f in logons)  # no reset: the numbers went on
        atlas_logon = [f for t, f in c.app.admin if t == "A"][-1]
        assert int(atlas_logon[34]) > last_in  # Atlas's numbers went on across the kill

        # Every acknowledged order is known, as it was.
        want = {a: ("1", "0.5", "0.5"), b: ("0", "0", "0.5"), done: ("2", "0.2", "0")}
        for cl, (status, cum, leaves) in want.items():
            c.send("H", (11, cl), (55, "BTC/USDT"), (54, "1"))
            got = c.expect("8", t150="I", t11=cl, t37=ids[cl], t39=status, t14=cum)
            assert got[151] == leaves, got
        # A fill after the restart reaches the client live.
        sells(served, maker, "0.5", "48000")
        c.expect("8", t150="F", t11=a, t39="2", t14="1", t151="0")
        # ``done``'s ClOrdID again: the node's client order id says it is taken.
        c.new_order(done, "1", "0.2", "46000")
        dup = c.expect("8", t150="8", t11=done, t103="6")
        assert dup[58].startswith("DUPLICATE_CLIENT_ORDER_ID")

        contents: dict[str, dict[int, str]] = {}
        for msg_type, fields in c.app.seen:
            if msg_type != "8" or fields[150] == "I" or fields[37] == "NONE":
                continue
            body = {k: v for k, v in fields.items() if k not in ENVELOPE}
            seen = contents.setdefault(fields[17], body)
            assert seen == body, (fields[17], seen, body)  # an ExecID always means one report
        assert not [f for t, f in c.app.sent_admin if t == "3"]  # nothing malformed
    finally:
        c.stop()
        served.stop()
        served.ensure_stopped()
