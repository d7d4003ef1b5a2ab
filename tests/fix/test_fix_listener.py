"""The FIX acceptor listens on ATLAS_FIX_HOST only (127.0.0.1 by default), although QuickFIX
1.15 binds every interface: its listener is rebound in place (atlas_oms/fix/listener.py)."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path

import pytest
from tests.service.serving import Served, free_port

from atlas_oms.fix.listener import ListenerError, narrow_listener


def listening_addresses(port: int) -> set[str]:
    """The local IPv4 addresses listening on ``port`` (from /proc/net/tcp, state 0A)."""
    found: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def other_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (None: there is none)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # no packet is sent: picks the outgoing interface
        address = s.getsockname()[0]
        if not address.startswith("127."):
            return str(address)
    return None


def test_a_listener_on_every_interface_is_moved_to_loopback_in_place() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", 0))
    server.listen(8)
    port = server.getsockname()[1]
    try:
        assert listening_addresses(port) == {"0.0.0.0"}
        assert narrow_listener(port, "127.0.0.1") is True
        assert listening_addresses(port) == {"127.0.0.1"}
        assert server.getsockname() == ("127.0.0.1", port)  # the same descriptor
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            conn, _ = server.accept()  # the owner accepts on it as before
            conn.close()
        other = other_address()
        if other is not None:
            with pytest.raises(OSError):
                socket.create_connection((other, port), timeout=2).close()
    finally:
        server.close()


def test_every_interface_asked_for_is_left_alone_and_a_missing_listener_is_an_error() -> None:
    assert narrow_listener(free_port(), "0.0.0.0") is False
    with pytest.raises(ListenerError):
        narrow_listener(free_port(), "127.0.0.1")


def test_atlas_serve_listens_for_fix_on_loopback_only(tmp_path: Path) -> None:
    port = free_port()
    served = Served(tmp_path / "data", env={"ATLAS_FIX_PORT": str(port)})
    try:
        served.start()
        addresses: set[str] = set()
        for _ in range(100):  # the acceptor task starts beside the HTTP server
            addresses = listening_addresses(port)
            if addresses == {"127.0.0.1"}:
                break
            time.sleep(0.05)
        assert addresses == {"127.0.0.1"}
    finally:
        with contextlib.suppress(Exception):
            served.stop()
        served.ensure_stopped()
