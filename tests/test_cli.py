"""The ``atlas`` command: the demo tells its story, and its journal replays to the same digest."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from atlas_oms.cli import main
from atlas_oms.tables import fmt, render

DIGEST = re.compile(r"digest: ([0-9a-f]{64})")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Run the demo once for the module; return its journal path and its output."""
    path = tmp_path_factory.mktemp("demo") / "sub" / "demo.db"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "--journal", str(path)])
    assert code == 0
    return path, out.getvalue()


def test_demo_prints_the_blotter_fills_positions_and_balances(demo_run: tuple[Path, str]) -> None:
    path, text = demo_run
    for heading in ("== Blotter", "== Fills", "== Positions", "== Balances"):
        assert heading in text
    for reason in (
        "PRICE_NOT_ON_TICK",
        "INSUFFICIENT_BALANCE",
        "POST_ONLY_WOULD_TAKE",
        "FOK_NOT_FILLABLE",
        "IOC_REMAINDER",
        "ORDER_NOT_LIVE",
    ):
        assert reason in text, reason
    assert "TRAILING_STOP_MARKET" in text and "STOP_LIMIT" in text
    assert f"replay it: atlas replay {path}" in text
    assert "E-" not in text and "E+" not in text  # Decimals printed without exponents


def test_demo_shows_the_risk_controls(demo_run: tuple[Path, str]) -> None:
    _, text = demo_run
    risk = text[text.index("== Risk controls") :]
    # limits: one denial of each, with its reason and sentence
    assert "ORDER_QTY_TOO_LARGE: quantity 5 is above the order limit 1" in risk
    assert "PRICE_OUTSIDE_BAND: limit price 63000 is more than 1% from the reference" in risk
    assert "TOO_MANY_OPEN_ORDERS: account bob already has 3 open orders (the limit)" in risk
    # REDUCING: the increasing order is refused, the reducing one fills
    assert "TRADING_REDUCING: account bob may only reduce exposure" in risk
    reducing = risk[risk.index("TRADING_REDUCING") :]
    assert "FILLED, filled 0.5 @ avg 64005" in reducing.split("ACTIVE again")[0]
    # the circuit breaker trips on the second losing round trip, and its report is printed
    assert "consecutive losses 1, breaker CLOSED" in risk
    assert "consecutive losses 2, breaker OPEN" in risk
    assert "CIRCUIT_BREAKER_OPEN: the account bob circuit breaker is open" in risk
    assert "refused BREAKER_COOLING_DOWN" in risk
    for row in ("state               OPEN", "consecutive losses  2 of 2", "may reset at"):
        assert row in risk, row
    # the kill switch cancels bob's two resting bids, blocks him, and is reset with a reason
    assert risk.count("CANCELED [KILL_SWITCH]") == 2
    assert "KILL_SWITCH_ACTIVE: the account bob kill switch is active" in risk
    assert "refused INVALID_FIELD: resetting a kill switch needs a reason" in risk
    # the audit trail's tail ends with the reset
    tail = risk[risk.index("Audit trail of bob") :].splitlines()
    assert tail[1].split()[:3] == ["seq", "time", "event"]
    events = [line.split()[3] for line in tail[3:] if line.strip() and line.split()[0].isdigit()]
    assert len(events) == 12 and events[-1] == "KillSwitchReset"
    assert {"KillSwitchTripped", "OrderCanceled", "CommandRejected"} <= set(events)


def test_risk_status_of_the_demo_journal(
    demo_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo_run
    assert main(["risk", "status", "--journal", str(path), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["kill_switches"] == [] and status["trading_states"] == []
    [breaker] = status["circuit_breakers"]
    assert (breaker["scope_id"], breaker["state"]) == ("bob", "OPEN")
    assert breaker["cause"] == "CONSECUTIVE_LOSSES"
    [limits] = status["limits"]
    assert limits["limits"]["max_open_orders"] == 3
    assert main(["risk", "status", "--journal", str(path)]) == 0
    out = capsys.readouterr().out
    assert "account  bob  max_order_qty    1" in out and "circuit breaker     account bob" in out


def test_demo_journal_replays_to_the_printed_digest(
    demo_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, text = demo_run
    printed = DIGEST.findall(text)[-1]
    assert main(["replay", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["digest"] == printed
    assert result["recovery"]["clean"] is True
    assert result["last_seq"] == result["recovery"]["last_seq"]


def test_full_replay_ignoring_snapshots_gives_the_same_digest(
    demo_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo_run
    assert main(["replay", str(path), "--json"]) == 0
    from_snapshot = json.loads(capsys.readouterr().out)
    assert main(["replay", str(path), "--json", "--full"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["snapshot_seq"] == 0
    assert full["events_replayed"] == full["last_seq"]
    assert from_snapshot["snapshot_seq"] > 0
    assert from_snapshot["events_replayed"] == full["last_seq"] - from_snapshot["snapshot_seq"]
    assert full["digest"] == from_snapshot["digest"]


def test_replay_prints_a_readable_report(
    demo_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, text = demo_run
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert "events replayed:" in out and "recovery:        clean" in out
    assert DIGEST.findall(out)[-1] == DIGEST.findall(text)[-1]


def test_demo_starts_fresh_over_an_existing_journal(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    import contextlib
    import io

    digests = []
    for _ in range(2):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["demo", "--journal", str(path)]) == 0
        digests.append(DIGEST.findall(out.getvalue())[-1])
    assert digests[0] == digests[1]


def test_replay_of_a_missing_journal_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "nope.db")]) == 2
    assert "no journal" in capsys.readouterr().err


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith("atlas-oms ")


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_fmt_prints_decimals_without_exponent_noise() -> None:
    from decimal import Decimal

    assert fmt(Decimal("0E-8")) == "0"
    assert fmt(Decimal("-0.00")) == "0"
    assert fmt(Decimal("1.50000")) == "1.5"
    assert fmt(Decimal("1E+2")) == "100"
    assert fmt(Decimal("64003.33333333333333"), 2) == "64003.33"
    assert fmt(None) == "-"


def test_render_right_aligns_numeric_columns() -> None:
    text = render(["name", "qty"], [["a", "1"], ["bb", "10.5"]])
    lines = text.splitlines()
    assert lines[0] == "  name   qty"
    assert lines[2] == "  a        1"
    assert lines[3] == "  bb    10.5"


# ---------------------------------------------------------------------------------- atlas audit
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
    from atlas_oms.cli import read_audit
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
    from atlas_oms.cli import read_audit

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

    from atlas_oms.cli import read_audit
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

    from atlas_oms.cli import read_audit
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
