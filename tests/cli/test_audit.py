"""``atlas audit``: an account's trail, read back from the journal exactly as the live node
published it, as a table, JSON Lines or CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atlas_oms.cli import main
from atlas_oms.cli.audit import read_audit

AUDIT_T0 = 1_767_225_600_000_000_000


@pytest.fixture(scope="module")
def audit_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """A short session on a SQLite journal: alice (with sub-account alice-algo) and bob trade
    against each other on the built-in exchange. Return the journal and the events the live node
    published to its listener."""
    from atlas_oms import CommandRefused, Instrument, ManualClock, Node

    path = tmp_path_factory.mktemp("audit") / "session.db"
    live: list[Any] = []
    node = Node.open(str(path), clock=ManualClock(AUDIT_T0))
    node.subscribe(live.extend)
    node.add_instrument(Instrument.spot("ETH/USD", tick_size="0.01", lot_size="0.01"))
    for account, parent in (("alice", None), ("bob", None), ("alice-algo", "alice")):
        node.open_account(account, parent_id=parent)
        node.deposit(account, "USD", 100_000)
        node.deposit(account, "ETH", 50)
    ask = node.sell("bob", "ETH/USD", "3", "2000", client_order_id="bob-ask")
    node.clock.advance(1_000_000_001)
    node.buy("alice", "ETH/USD", "1", "2000", client_order_id="alice-1")
    node.snapshot()
    node.buy("alice-algo", "ETH/USD", "0.5", "2000")
    node.buy("alice", "ETH/USD", "0.001", "2000")  # denied
    rest = node.buy("alice", "ETH/USD", "1", "1990", client_order_id="alice-rest")
    node.modify("alice", rest.order_id, price="1991.5")
    node.cancel("alice", rest.order_id)
    with pytest.raises(CommandRefused):
        node.cancel("alice", ask.order_id)  # not hers
    node.sell("bob", "ETH/USD", "0.25")  # market: hits nothing of alice's (her bid is gone)
    node.close()
    return path, live


def test_the_live_trail_equals_the_trail_read_back_from_the_journal(
    audit_session: tuple[Path, list[Any]],
) -> None:
    from atlas_oms import Node
    from atlas_oms.store import audit_trail

    path, live = audit_session
    reopened = Node.open(str(path))
    try:
        replayed = list(reopened.events())
    finally:
        reopened.close()
    assert replayed == live
    for account in ("alice", "bob", "alice-algo"):
        for subs in (False, True):
            from_live = audit_trail(live, account, include_subaccounts=subs)
            assert from_live, account
            assert audit_trail(replayed, account, include_subaccounts=subs) == from_live
            assert read_audit(str(path), account, include_subaccounts=subs) == from_live


def test_no_record_of_the_counterparty_leaks_into_an_accounts_trail(
    audit_session: tuple[Path, list[Any]],
) -> None:

    path, live = audit_session
    alice, bob = read_audit(str(path), "alice"), read_audit(str(path), "bob")
    assert {r.account_id for r in alice} == {"alice"} and {r.account_id for r in bob} == {"bob"}
    assert not {r.seq for r in alice} & {r.seq for r in bob}
    trades = {e.trade_id for e in live if type(e).__name__ == "OrderFilled"}
    alice_fills = [r for r in alice if r.event == "OrderFilled"]
    bob_fills = [r for r in bob if r.event == "OrderFilled"]
    # each trade between them is one fill in each trail, never both fills in one
    assert {r.detail["trade_id"] for r in alice_fills} < trades
    assert len(alice_fills) == len({r.detail["trade_id"] for r in alice_fills})
    assert {r.detail["trade_id"] for r in alice_fills} <= {r.detail["trade_id"] for r in bob_fills}
    for r in alice:
        assert "bob" not in (r.account_id, r.detail.get("account_id"))
        assert r.detail.get("intent", {}).get("account_id") in (None, "alice")


def test_audit_prints_a_readable_table(
    audit_session: tuple[Path, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = audit_session
    assert main(["audit", "alice", "--journal", str(path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Audit trail of alice in ")
    header = lines[1].split()
    assert header[:5] == ["seq", "time", "event", "order", "symbol"]
    assert "status/reason" in header and header[-1] == "actor"
    assert "2026-01-01 00:00:01.000" in out  # times in UTC
    for text in ("OrderFilled", "OrderDenied", "QUANTITY_NOT_MULTIPLE_OF_LOT", "1991.5"):
        assert text in out, text
    assert "UNKNOWN_ORDER" in out  # her refused cancel of bob's order is hers
    assert "alice-algo" not in out and "E-" not in out


def test_audit_with_subaccounts_adds_the_account_column(
    audit_session: tuple[Path, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = audit_session
    assert main(["audit", "alice", "--journal", str(path), "--subaccounts"]) == 0
    out = capsys.readouterr().out
    assert "alice and its sub-accounts" in out and "account" in out.splitlines()[1]
    assert "alice-algo" in out


def test_audit_writes_json_lines_to_stdout(
    audit_session: tuple[Path, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    import msgspec

    from atlas_oms.store import AuditRecord

    path, _ = audit_session
    assert main(["audit", "bob", "--journal", str(path), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    records = [msgspec.json.decode(line, type=AuditRecord) for line in lines]
    assert records == read_audit(str(path), "bob")


def test_audit_writes_csv_to_a_file(
    audit_session: tuple[Path, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    from atlas_oms.store.audit import COLUMNS

    path, _ = audit_session
    out = tmp_path / "alice.csv"
    args = ["audit", "alice", "--journal", str(path), "--format", "csv", "--out", str(out)]
    assert main(args) == 0
    expected = read_audit(str(path), "alice")
    assert f"{len(expected)} records of alice written to {out}" in capsys.readouterr().out
    with out.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == COLUMNS
    assert [int(row["seq"]) for row in rows] == [r.seq for r in expected]
    assert [json.loads(row["detail"]) for row in rows] == [r.detail for r in expected]


def test_audit_reads_the_demo_journal_by_default(
    audit_session: tuple[Path, list[Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import shutil

    path, _ = audit_session
    (tmp_path / "atlas-data").mkdir()
    shutil.copy(path, tmp_path / "atlas-data" / "demo.db")
    monkeypatch.chdir(tmp_path)
    assert main(["audit", "bob"]) == 0
    assert "Audit trail of bob in atlas-data/demo.db" in capsys.readouterr().out


def test_audit_of_an_unknown_account_fails_cleanly(
    audit_session: tuple[Path, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = audit_session
    assert main(["audit", "carol", "--journal", str(path)]) == 2
    captured = capsys.readouterr()
    assert "unknown account 'carol'" in captured.err and captured.out == ""
    assert "Traceback" not in captured.err


def test_audit_of_a_missing_or_unreadable_journal_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "alice", "--journal", str(tmp_path / "nope.db")]) == 2
    assert "no journal at" in capsys.readouterr().err
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a journal" * 100)
    assert main(["audit", "alice", "--journal", str(garbage)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("atlas audit: ") and "Traceback" not in err


def test_audit_to_an_unwritable_file_fails_cleanly(
    audit_session: tuple[Path, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = audit_session
    out = tmp_path / "no-such-dir" / "a.jsonl"
    args = ["audit", "alice", "--journal", str(path), "--format", "jsonl", "--out", str(out)]
    assert main(args) == 2
    assert "cannot write" in capsys.readouterr().err
