"""Sequence numbers survive a restart of ``atlas serve``, and what the gateway sent while the
client was away (fills before and after the restart) reaches it on its ResendRequest, resent with
PossDupFlag=Y and OrigSendingTime; heartbeats follow the initiator's HeartBtInt."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from tests.fix.initiator import WAIT_S, Initiator
from tests.service.serving import Served, free_port


def wait(predicate: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_restart_keeps_sequence_numbers_and_resends_what_the_client_missed(tmp_path: Path) -> None:
    fix_port = free_port()
    env = {"ATLAS_FIX_PORT": str(fix_port), "ATLAS_FIX_SESSIONS": "RESTART"}
    served = Served(tmp_path / "data", env=env).start()
    trader = served.keys()["trader"]["X-API-Key"]
    maker = served.maker_key()
    client = Initiator(tmp_path / "client", fix_port, trader, sender="RESTART", heartbeat=1).start()
    try:

        def maker_sells(qty: str) -> None:
            r = httpx.post(
                f"{served.url}/v1/orders",
                json={
                    "account_id": "maker",
                    "symbol": "BTC/USDT",
                    "side": "SELL",
                    "order_type": "LIMIT",
                    "qty": qty,
                    "price": "50000",
                },
                headers=maker,
            )
            assert r.status_code == 201, r.text

        cl = client.cl()
        client.new_order(cl, "1", "1", "50000")
        order_id = client.expect("8", t150="0", t11=cl)[37]
        # Heartbeats at the initiator's HeartBtInt (1 s): the acceptor sends them too.
        wait(lambda: any(t == "0" for t, _ in client.app.admin), "no heartbeat from Atlas")

        client.session().logout("going away")  # the client leaves; its session stays
        wait(lambda: not client.app.logged_on, "the client did not log out")
        maker_sells("0.4")  # a fill while the client is away: stored and sequenced

        code, _, log = served.stop()
        assert code == 0, log[-2000:]
        served = Served(tmp_path / "data", env=env)
        served.start()
        maker = served.maker_key()
        maker_sells("0.3")  # a fill after the restart, the client still away

        before = len(client.app.sent_admin)
        client.session().logon()  # back: QuickFIX's initiator reconnects and logs on
        client.wait_logon()
        first = client.expect("8", t150="F", t37=order_id, t14="0.4", t151="0.6", t43="Y")
        assert 122 in first  # OrigSendingTime on a resent message
        second = client.expect("8", t150="F", t37=order_id, t14="0.7", t151="0.3", t43="Y")
        assert second[34] > first[34]
        sent = client.app.sent_admin[before:]
        logon = next(f for t, f in sent if t == "A")
        assert int(logon[34]) > 3 and logon.get(141) != "Y"  # its numbers went on, no reset
        assert any(t == "2" for t, _ in sent), sent  # it asked for what it missed
        # Atlas's own numbers went on across its restart too.
        atlas_logon = [f for t, f in client.app.admin if t == "A"][-1]
        assert int(atlas_logon[34]) > 3
        assert not [f for t, f in client.app.sent_admin if t == "3"]  # nothing malformed
    finally:
        client.stop()
        served.stop()
        served.ensure_stopped()
