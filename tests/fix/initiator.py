"""A FIX 4.4 client we did not write: QuickFIX's own ``SocketInitiator`` (the quickfix-ssl wheel),
with a small Application that records what it receives, for the end-to-end tests of the gateway."""

from __future__ import annotations

import queue
import time
from pathlib import Path
from typing import Any

import pytest

fix = pytest.importorskip("quickfix")  # quickfix-ssl: wheels for CPython 3.10/3.11 linux x86_64

from atlas_oms.fix.acceptor import fields_of, spec_path  # noqa: E402

WAIT_S = 30.0


class Client(fix.Application):  # type: ignore[misc]
    """Records every message (admin and application) as ``(MsgType, {tag: value})``."""

    def __init__(self, username: str, password: str) -> None:
        super().__init__()
        self.username = username
        self.password = password
        self.inbox: queue.Queue[tuple[str, dict[int, str]]] = queue.Queue()
        self.admin: list[tuple[str, dict[int, str]]] = []
        self.sent_admin: list[tuple[str, dict[int, str]]] = []
        self.logged_on = False
        self.logouts = 0
        self.seen: list[tuple[str, dict[int, str]]] = []

    def onCreate(self, session_id: Any) -> None:
        self.session_id = session_id

    def onLogon(self, session_id: Any) -> None:
        self.logged_on = True

    def onLogout(self, session_id: Any) -> None:
        self.logged_on = False
        self.logouts += 1

    def toAdmin(self, message: Any, session_id: Any) -> None:
        msg_type = fix.MsgType()
        message.getHeader().getField(msg_type)
        if msg_type.getValue() == fix.MsgType_Logon:
            message.setField(553, self.username)
            message.setField(554, self.password)
        fields = fields_of(message)
        self.sent_admin.append((msg_type.getValue(), fields))

    def fromAdmin(self, message: Any, session_id: Any) -> None:
        fields = fields_of(message)
        self.admin.append((fields[35], fields))

    def toApp(self, message: Any, session_id: Any) -> None:
        return None

    def fromApp(self, message: Any, session_id: Any) -> None:
        fields = fields_of(message)
        self.inbox.put((fields[35], fields))


class Initiator:
    """One client session (``CLIENT`` -> ``ATLAS`` unless told) to a gateway on ``port``."""

    def __init__(
        self,
        folder: Path,
        port: int,
        token: str,
        *,
        sender: str = "CLIENT",
        heartbeat: int = 30,
        config_text: str | None = None,
    ) -> None:
        username, _, password = token.partition(".")
        self.app = Client(username, password)
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "initiator.cfg"
        config.write_text(
            config_text
            or "\n".join(
                [
                    "[DEFAULT]",
                    "ConnectionType=initiator",
                    "SocketConnectHost=127.0.0.1",
                    f"SocketConnectPort={port}",
                    f"FileStorePath={folder / 'store'}",
                    "StartTime=00:00:00",
                    "EndTime=00:00:00",
                    f"HeartBtInt={heartbeat}",
                    "ReconnectInterval=1",
                    "UseDataDictionary=Y",
                    f"DataDictionary={spec_path()}",
                    "[SESSION]",
                    "BeginString=FIX.4.4",
                    f"SenderCompID={sender}",
                    "TargetCompID=ATLAS",
                ]
            )
            + "\n"
        )
        self.settings = fix.SessionSettings(str(config))
        self.session_id = fix.SessionID("FIX.4.4", sender, "ATLAS")
        self.initiator = fix.SocketInitiator(
            self.app,
            fix.FileStoreFactory(self.settings),
            self.settings,
            fix.ScreenLogFactory(False, False, False),
        )
        self._n = 0

    def start(self, wait: bool = True) -> Initiator:
        self.initiator.start()
        if wait:
            self.wait_logon()
        return self

    def wait_logon(self) -> None:
        deadline = time.monotonic() + WAIT_S
        while not self.app.logged_on:
            assert time.monotonic() < deadline, f"no logon; admin: {self.app.admin}"
            time.sleep(0.05)

    def stop(self) -> None:
        self.initiator.stop()

    def session(self) -> Any:
        return fix.Session.lookupSession(self.session_id)

    def cl(self) -> str:
        self._n += 1
        return f"c{time.time_ns()}-{self._n}"

    def send(self, msg_type: str, *fields: tuple[int, str]) -> None:
        message = fix.Message()
        message.getHeader().setField(fix.MsgType(msg_type))
        for tag, value in fields:
            message.setField(tag, value)
        assert fix.Session.sendToTarget(message, self.session_id)

    def new_order(
        self,
        cl: str,
        side: str,
        qty: str,
        price: str | None = None,
        *,
        symbol: str = "BTC/USDT",
        ord_type: str | None = None,
        extra: tuple[tuple[int, str], ...] = (),
    ) -> None:
        fields: list[tuple[int, str]] = [
            (11, cl),
            (55, symbol),
            (54, side),
            (60, "20260101-00:00:00"),
            (38, qty),
            (40, ord_type or ("2" if price is not None else "1")),
        ]
        if price is not None:
            fields.append((44, price))
        self.send("D", *fields, *extra)

    def next(self, timeout: float = WAIT_S) -> tuple[str, dict[int, str]]:
        msg = self.app.inbox.get(timeout=timeout)
        self.app.seen.append(msg)
        return msg

    def expect(self, msg_type: str, timeout: float = WAIT_S, **match: str) -> dict[int, str]:
        """The next application message, which must be ``msg_type`` with ``tNNN=value``s."""
        got_type, fields = self.next(timeout)
        assert got_type == msg_type, (got_type, fields)
        for name, want in match.items():
            assert fields.get(int(name.removeprefix("t"))) == want, (name, want, fields)
        return fields

    def drain(self, quiet_s: float = 0.5) -> list[tuple[str, dict[int, str]]]:
        out = []
        while True:
            try:
                out.append(self.next(quiet_s))
            except queue.Empty:
                return out
