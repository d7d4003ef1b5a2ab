"""A node refuses a damaged journal unless told to repair it; the repair is journaled first, above
the highest seq ever written, and nothing (seq, order id) is ever issued twice."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from atlas_oms.cli.replay import replay
from atlas_oms.model import events as ev
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.store.base import JournalDamagedError
from atlas_oms.store.codec import events_from_json_lines
from atlas_oms.store.opener import open_journal

SPOT = Instrument.spot("BTC/USDT", tick_size="0.5", lot_size="0.01")
T0 = 1_767_225_600_000_000_000
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "legacy_v1"


def trade(node: Node, orders: int) -> None:
    """Orders that rest and orders that fill, each flushed (one chunk each): acknowledged."""
    for i in range(orders):
        node.sell("bob", SPOT.symbol, "0.01", str(30_000 + i))
        node.flush()
        node.buy("alice", SPOT.symbol, "0.01")
        node.flush()


def start(path: Path) -> tuple[int, int]:
    """A journal with 10 flushed orders; return (its last seq, its highest order id)."""
    with Node.open(str(path), clock=ManualClock(T0)) as node:
        node.add_instrument(SPOT)
        for name in ("alice", "bob"):
            node.open_account(name)
            node.deposit(name, "USDT", 1_000_000)
            node.deposit(name, "BTC", 10)
        node.flush()
        trade(node, 5)
        return node.seq, node.next_order_id - 1


def flip_a_byte(path: Path, seq: int) -> None:
    db = sqlite3.connect(path)
    with db:
        (first,) = db.execute(
            "SELECT first_seq FROM chunks WHERE first_seq <= ? AND last_seq >= ?", (seq, seq)
        ).fetchone()
        db.execute(
            "UPDATE chunks SET payload = CAST(substr(payload, 1, 20) || x'00' ||"
            " substr(payload, 22) AS BLOB) WHERE first_seq = ?",
            (first,),
        )
    db.close()


def test_a_node_refuses_a_damaged_journal_and_says_which_seqs_are_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "atlas.db"
    last, _ = start(path)
    flip_a_byte(path, last - 6)
    for _ in range(2):  # the refusal changes nothing: it says the same the next time
        caplog.clear()
        with (
            caplog.at_level(logging.ERROR, logger="atlas.journal"),
            pytest.raises(JournalDamagedError) as refused,
        ):
            Node.open(str(path))
        report = refused.value.report
        assert report.damaged and report.reason == "CRC_MISMATCH"
        assert report.lost_to_seq == last and report.lost_from_seq <= last - 6
        assert f"{report.lost_from_seq}..{last}" in str(refused.value)
        assert f"{report.lost_events} events" in str(refused.value)
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert errors and f"{report.lost_from_seq}..{last}" in errors[0].getMessage()
    Node.open(str(path), on_damage="repair").close()  # the refusal released the journal


def test_a_repair_is_journaled_first_above_the_highest_seq_and_ids_are_never_reissued(
    tmp_path: Path,
) -> None:
    path = tmp_path / "atlas.db"
    last, top_order = start(path)
    flip_a_byte(path, last - 6)
    with Node.open(str(path), clock=ManualClock(T0), on_damage="repair") as node:
        report = node.journal.recovery
        assert report.damaged  # what the open found stays visible on the node
        repaired = node.repaired
        assert repaired is not None and repaired.seq == last + 1
        assert (repaired.lost_from_seq, repaired.lost_to_seq) == (report.lost_from_seq, last)
        assert repaired.lost_events == report.lost_events
        assert repaired.next_order_id > top_order
        assert node.seq == last + 1
        order = node.buy("alice", SPOT.symbol, "0.01", "29000")
        assert order.order_id > top_order
        assert node.seq > last + 1
        live_digest = node.digest()
    assert replay(str(path))["digest"] == live_digest
    with Node.open(str(path)) as again:  # repaired: opens clean, the same state
        assert again.journal.recovery.clean and again.digest() == live_digest
        assert next(iter(again.journal.read(last + 1))).seq == last + 1


def test_a_cut_wal_after_a_crash_is_refused_then_repaired_above_the_acknowledged_seq(
    tmp_path: Path,
) -> None:
    path = tmp_path / "atlas.db"
    # The writer dies without closing (no checkpoint): its commits are in the WAL only.
    crash = f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import test_repair as t
        from atlas_oms.runtime.node import Node
        from atlas_oms.runtime.clock import ManualClock
        node = Node.open({str(path)!r}, clock=ManualClock(t.T0))
        node.add_instrument(t.SPOT)
        for name in ("alice", "bob"):
            node.open_account(name)
            node.deposit(name, "USDT", 1_000_000)
            node.deposit(name, "BTC", 10)
        node.flush()
        t.trade(node, 30)
        print(node.seq, node.next_order_id - 1, flush=True)
        os._exit(0)
        """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(crash)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.split()
    last, top_order = int(out[0]), int(out[1])
    wal = path.with_name(path.name + "-wal")
    data = wal.read_bytes()
    wal.write_bytes(data[: len(data) // 2])
    with pytest.raises(JournalDamagedError, match=f"\\.\\.{last} ") as refused:
        Node.open(str(path))
    assert refused.value.report.reason == "TRUNCATED"
    kept = refused.value.report.last_seq
    assert 0 < kept < last
    with Node.open(str(path), clock=ManualClock(T0), on_damage="repair") as node:
        assert node.repaired is not None and node.repaired.seq == last + 1
        order = node.buy("alice", SPOT.symbol, "0.01", "29000")
        assert order.order_id > top_order
        live = node.digest()
    assert replay(str(path))["digest"] == live


def test_an_order_id_never_exceeds_the_seq_of_the_event_that_issued_it() -> None:
    """Why a repair may jump the next order id to ``lost_to_seq + 1``: every order id and
    liquidation case id is issued by its own event, counting up from 1."""
    events = events_from_json_lines((FIXTURE / "journal.jsonl").read_bytes())
    issued = 0
    for event in events:
        if isinstance(event, ev.OrderSubmitted | ev.OrderDenied):
            assert event.order_id <= event.seq
            issued = max(issued, event.order_id)
        if isinstance(event, ev.LiquidationStarted):
            assert event.case_id <= event.seq
    assert issued > 10


def test_a_read_only_node_opens_a_damaged_journal_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "atlas.db"
    last, _ = start(path)
    flip_a_byte(path, last - 6)
    journal = open_journal(str(path), readonly=True)
    with Node(journal) as node:  # audits and replays still read the intact prefix
        assert node.journal.recovery.damaged and node.seq < last
        assert node.repaired is None
    with pytest.raises(JournalDamagedError):
        Node.open(str(path))


def test_atlas_replay_reports_a_damaged_journal_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from atlas_oms.cli import main
    from atlas_oms.cli.exit_codes import EXIT_JOURNAL_DAMAGED

    path = tmp_path / "atlas.db"
    last, _ = start(path)
    assert main(["replay", str(path)]) == 0
    flip_a_byte(path, last - 6)
    capsys.readouterr()
    assert main(["replay", str(path)]) == EXIT_JOURNAL_DAMAGED
    out = capsys.readouterr()
    assert "DAMAGED: CRC_MISMATCH" in out.out and f"..{last} lost" in out.out
    assert "clean" not in out.out and "damaged" in out.err
    assert main(["replay", "--json", str(path)]) == EXIT_JOURNAL_DAMAGED
    report = json.loads(capsys.readouterr().out)["recovery"]
    assert report["damaged"] and report["lost_to_seq"] == last and report["lost_events"] > 0
    # A command that writes refuses the damaged journal with the same code, and writes nothing.
    assert main(["transfer", "alice", "bob", "USDT", "1", "--journal", str(path)]) == (
        EXIT_JOURNAL_DAMAGED
    )
    assert "damaged" in capsys.readouterr().err
    with pytest.raises(JournalDamagedError):
        Node.open(str(path))
