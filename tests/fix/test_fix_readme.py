"""The README's "FIX 4.4 gateway" section works as written: its QuickFIX initiator settings and its
client snippet log on to a real ``atlas serve`` and get the order's ExecutionReport."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from tests.fix.initiator import WAIT_S, fix
from tests.service.serving import Served, free_port

from atlas_oms.fix.acceptor import spec_path

README = Path(__file__).resolve().parents[2] / "README.md"


def section() -> str:
    text = README.read_text()
    start = text.index("### FIX 4.4 gateway")
    return text[start : text.index("\n### ", start + 10)]


def test_the_readme_client_logs_on_and_places_an_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    part = section()
    config = re.search(r"```ini\n(.*?)```", part, re.S)
    snippet = re.search(r"```py\n(.*?)```", part, re.S)
    assert config and snippet
    port = free_port()
    # Its own CompID: QuickFIX keeps one session per id in a process, and other tests' clients
    # (CLIENT) may have lived in this one.
    env = {"ATLAS_FIX_PORT": str(port), "ATLAS_FIX_SESSIONS": "README"}
    served = Served(tmp_path / "data", env=env).start()
    try:
        token = served.keys()["trader"]["X-API-Key"]
        key_id, _, secret = token.partition(".")
        cfg = tmp_path / "client.cfg"
        cfg.write_text(
            config.group(1)
            .replace("SocketConnectPort=9878", f"SocketConnectPort={port}")
            .replace("fix-client-store", str(tmp_path / "store"))
            .replace(".venv/share/quickfix/FIX44.xml", str(spec_path()))
            .replace("ReconnectInterval=5", "ReconnectInterval=1")
            .replace("SenderCompID=CLIENT", "SenderCompID=README")
        )
        code = (
            snippet.group(1)
            .replace("ak_0123456789ab", key_id)
            .replace("the-secret", secret)
            .replace('"client.cfg"', repr(str(cfg)))
            .replace('"CLIENT", "ATLAS"', '"README", "ATLAS"')
            .replace("initiator.start()\n", "initiator.start()\n__wait_logon()\n")
        )
        session_id = fix.SessionID("FIX.4.4", "README", "ATLAS")

        def wait_logon() -> None:
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                session = fix.Session.lookupSession(session_id)
                if session is not None and session.isLoggedOn():
                    return
                time.sleep(0.05)
            raise AssertionError("the README's client did not log on")

        scope: dict[str, object] = {"__name__": "readme", "__wait_logon": wait_logon}
        exec(compile(code, str(README), "exec"), scope)
        try:
            deadline = time.monotonic() + WAIT_S
            out = ""
            while "35=8" not in out and time.monotonic() < deadline:
                time.sleep(0.1)
                out += capsys.readouterr().out
            assert "|35=8|" in out and "|11=my-1|" in out and "|150=0|" in out, out
        finally:
            scope["initiator"].stop()  # type: ignore[attr-defined]
    finally:
        served.stop()
        served.ensure_stopped()
