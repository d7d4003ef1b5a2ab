"""SqliteJournal after a crash: every committed, intact chunk comes back; the rest is reported."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_events import build_steps, flat

from atlas_oms.model.events import JournalRepaired
from atlas_oms.store import JournalError, SqliteJournal
from atlas_oms.store.base import JournalDamagedError
from atlas_oms.store.sqlite import SCHEMA_VERSION

STEPS = build_steps([3, 1, 4, 2, 5, 1, 3, 2])


def copy_db(source: Path, target: Path, wal_bytes: int | None = None) -> Path:
    """Copy a live database and its WAL as a crash would leave them (WAL cut to ``wal_bytes``)."""
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():
        data = wal.read_bytes()
        target.with_name(target.name + "-wal").write_bytes(
            data if wal_bytes is None else data[:wal_bytes]
        )
    return target


def write_journal(path: Path) -> None:
    """One commit per step, so each step is one chunk (pending steps merge into one at commit)."""
    with SqliteJournal(path) as journal:
        for step in STEPS:
            journal.append(step)
            journal.flush()


def repaired(lost_from: int, lost_to: int) -> JournalRepaired:
    return JournalRepaired(
        seq=lost_to + 1,
        ts_event=1,
        reason="CRC_MISMATCH",
        lost_from_seq=lost_from,
        lost_to_seq=lost_to,
        lost_events=lost_to - lost_from + 1,
        next_order_id=lost_to + 1,
        next_case_id=lost_to + 1,
    )


def tamper(path: Path, sql: str, *args: object) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(sql, args)
    db.close()


def test_a_copy_taken_while_the_writer_runs_has_every_committed_batch(tmp_path: Path) -> None:
    source = tmp_path / "live.db"
    writer = SqliteJournal(source, batch_events=1000, batch_ms=None)
    for step in STEPS[:5]:
        writer.append(step)
    writer.flush()
    for step in STEPS[5:]:
        writer.append(step)  # appended, never committed: lost in the crash
    crashed = copy_db(source, tmp_path / "crashed.db")
    writer.close()
    with SqliteJournal(crashed) as journal:
        assert journal.recovery.clean
        assert list(journal.read()) == flat(STEPS[:5])
        journal.append(STEPS[5])  # the node carries on from the last committed seq
        assert journal.last_seq == STEPS[5][-1].seq


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0, 1))
def test_a_wal_cut_anywhere_recovers_a_prefix_of_whole_commits(tmp_path: Path, cut: float) -> None:
    source = tmp_path / "live.db"
    if not source.exists():
        writer = SqliteJournal(source, batch_ms=None)
        for step in STEPS:
            writer.append(step)
            writer.flush()  # one transaction per step
        copy_db(source, tmp_path / "full.db")  # keep the WAL: the writer never closes
    wal = (tmp_path / "full.db-wal").read_bytes()
    crashed = copy_db(tmp_path / "full.db", tmp_path / "crashed.db", int(len(wal) * cut))
    crashed.with_name(crashed.name + "-shm").unlink(missing_ok=True)
    with SqliteJournal(crashed) as journal:
        recovered = list(journal.read())
        assert journal.recovery.last_seq == len(recovered)
    committed = [flat(STEPS[:n]) for n in range(len(STEPS) + 1)]
    assert recovered in committed
    if cut == 1:
        assert recovered == flat(STEPS)


def test_a_flipped_payload_byte_fails_the_crc_and_later_chunks_are_quarantined(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    write_journal(path)
    bad = STEPS[4][0].seq
    tamper(
        path,
        "UPDATE chunks SET payload = CAST(substr(payload, 1, 9) || x'ff' || substr(payload, 11) AS BLOB)"
        " WHERE first_seq = ?",
        bad,
    )
    later = STEPS[4:]
    with SqliteJournal(path) as journal:
        report = journal.recovery
        assert list(journal.read()) == flat(STEPS[:4])
        assert (report.reason, report.last_seq, report.events_recovered) == (
            "CRC_MISMATCH",
            bad - 1,
            bad - 1,
        )
        assert report.discarded_records == len(later)
        assert report.discarded_bytes > 0
        assert str(bad) in report.detail
        assert (report.lost_from_seq, report.lost_to_seq) == (bad, STEPS[-1][-1].seq)
        with pytest.raises(JournalDamagedError):  # the lost seqs are never issued again
            journal.append(build_steps([2], start_seq=bad)[0])
        top = STEPS[-1][-1].seq
        journal.append([repaired(bad, top)])
    with SqliteJournal(path) as journal:
        assert journal.recovery.clean
        assert journal.last_seq == top + 1
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0] == len(later)
    db.close()


def test_a_missing_chunk_is_a_gap_and_everything_after_it_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    write_journal(path)
    gap = STEPS[2][0].seq
    tamper(path, "DELETE FROM chunks WHERE first_seq = ?", gap)
    with SqliteJournal(path) as journal:
        assert journal.recovery.reason == "SEQUENCE_GAP"
        assert journal.recovery.discarded_records == len(STEPS) - 3
        assert list(journal.read()) == flat(STEPS[:2])


def test_a_readonly_open_reports_damage_without_repairing_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    write_journal(path)
    tamper(path, "DELETE FROM chunks WHERE first_seq = ?", STEPS[2][0].seq)
    for _ in range(2):
        with SqliteJournal(path, readonly=True) as journal:
            assert journal.recovery.reason == "SEQUENCE_GAP"
            assert journal.recovery.kept_at == ""
            assert list(journal.read()) == flat(STEPS[:2])


def test_a_corrupt_snapshot_falls_back_to_the_previous_one(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with SqliteJournal(path) as journal:
        for step in STEPS:
            journal.append(step)
        journal.save_snapshot(4, b"older")
        journal.save_snapshot(8, b"newer")
    tamper(path, "UPDATE snapshots SET state = x'00' WHERE seq = 8")
    with SqliteJournal(path) as journal:
        assert journal.latest_snapshot() == (4, b"older")


def test_a_snapshot_beyond_the_recovered_journal_is_not_offered(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with SqliteJournal(path) as journal:
        for step in STEPS:
            journal.append(step)
            journal.flush()
        journal.save_snapshot(2, b"early")
        journal.save_snapshot(journal.last_seq, b"late")
    tamper(path, "DELETE FROM chunks WHERE first_seq = ?", STEPS[3][0].seq)
    with SqliteJournal(path) as journal:
        assert journal.latest_snapshot() == (2, b"early")


def test_a_journal_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    write_journal(path)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(JournalError, match="schema"):
        SqliteJournal(path)


def test_the_journal_runs_in_wal_mode_with_its_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    write_journal(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
