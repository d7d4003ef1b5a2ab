"""The acceptor's socket settings: Nagle off, so that an order's second ExecutionReport (a
cancel's Canceled after its Pending Cancel) is not held for the client's delayed ACK (~40 ms;
measured in docs/notes/bench17.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("quickfix")

from atlas_oms.fix.acceptor import session_config


def test_acceptor_turns_nagle_off(tmp_path: Path) -> None:
    text = session_config(
        host="127.0.0.1", port=9876, comp_id="ATLAS", clients=["C"], folder=tmp_path
    )
    default = text.split("[SESSION]")[0].splitlines()
    assert "SocketNodelay=Y" in default
