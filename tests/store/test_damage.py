"""Damage is loud: a journal that lost events reports the lost seq range and count on every
open, and takes no append but the JournalRepaired that bridges the whole range."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from store_events import build_steps, flat

from atlas_oms.model.events import JournalRepaired
from atlas_oms.store import FileJournal, MemoryJournal, SqliteJournal
from atlas_oms.store.base import JournalDamagedError, SequenceGapError
from atlas_oms.store.guard import hwm_path

STEPS = build_steps([3, 1, 4, 2, 5, 1, 3, 2])
TOP = STEPS[-1][-1].seq


def repaired(lost_from: int, lost_to: int) -> JournalRepaired:
    return JournalRepaired(
        seq=lost_to + 1,
        ts_event=1,
        reason="TEST",
        lost_from_seq=lost_from,
        lost_to_seq=lost_to,
        lost_events=lost_to - lost_from + 1,
        next_order_id=lost_to + 1,
        next_case_id=lost_to + 1,
    )


def write_and_crash(path: Path, kind: str = "SqliteJournal") -> None:
    """Commit every step in a child process that dies without closing (as kill -9 would)."""
    script = f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from store_events import build_steps
        from atlas_oms.store import {kind}
        journal = {kind}({str(path)!r}, batch_ms=None)
        for step in build_steps([3, 1, 4, 2, 5, 1, 3, 2]):
            journal.append(step)
            journal.flush()
        os._exit(0)
        """
    subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=True, timeout=60)


def cut_wal(path: Path, keep: float) -> None:
    wal = path.with_name(path.name + "-wal")
    data = wal.read_bytes()
    wal.write_bytes(data[: int(len(data) * keep)])


def test_a_cut_wal_is_reported_truncated_with_the_lost_range(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    write_and_crash(path)
    cut_wal(path, 0.5)
    with SqliteJournal(path, readonly=True) as reader:
        report = reader.recovery
    assert report.reason == "TRUNCATED" and report.damaged and not report.clean
    assert 0 < report.last_seq < TOP
    assert (report.lost_from_seq, report.lost_to_seq) == (report.last_seq + 1, TOP)
    assert report.lost_events == TOP - report.last_seq == report.highest_seq - report.last_seq
    assert f"{report.lost_from_seq}..{TOP}" in report.sentence(path)
    with SqliteJournal(path) as journal:  # a writable open says the same, every time
        assert journal.recovery == report
        with pytest.raises(JournalDamagedError, match=f"{report.lost_from_seq}..{TOP}"):
            journal.append(build_steps([1], start_seq=report.last_seq + 1)[0])
        assert journal.last_seq == report.last_seq
    with SqliteJournal(path) as journal:
        assert journal.recovery.reason == "TRUNCATED"
        journal.append([repaired(report.last_seq + 1, TOP)])
        journal.append(build_steps([2], start_seq=TOP + 2)[0])
    with SqliteJournal(path) as journal:
        assert journal.recovery.clean and journal.last_seq == TOP + 3
        seqs = [e.seq for e in journal.read()]
    assert seqs == [*range(1, report.last_seq + 1), TOP + 1, TOP + 2, TOP + 3]


def test_a_flipped_byte_reports_the_lost_range_and_chunk_count_until_repaired(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    with SqliteJournal(path) as journal:
        for step in STEPS:
            journal.append(step)
            journal.flush()
    bad = STEPS[3][0].seq
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "UPDATE chunks SET payload = CAST(substr(payload, 1, 9) || x'ff' ||"
            " substr(payload, 11) AS BLOB) WHERE first_seq = ?",
            (bad,),
        )
    db.close()
    for _ in range(2):  # the first open sets the chunks aside; the loss stays reported
        with SqliteJournal(path) as journal:
            report = journal.recovery
            assert report.damaged and report.reason == "CRC_MISMATCH"
            assert (report.lost_from_seq, report.lost_to_seq) == (bad, TOP)
            assert report.lost_events == TOP - bad + 1
            assert report.lost_chunks == len(STEPS) - 3
            assert report.kept_at.endswith("#quarantine")
            assert list(journal.read()) == flat(STEPS[:3])
    with SqliteJournal(path) as journal:
        with pytest.raises(JournalDamagedError):  # a bridge that stops short is refused too
            journal.append([repaired(bad, TOP - 1)])
        journal.append([repaired(bad, TOP)])
    with SqliteJournal(path) as journal:
        assert journal.recovery.clean and journal.last_seq == TOP + 1


def test_the_high_water_mark_follows_every_commit(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with SqliteJournal(path, batch_ms=None) as journal:
        journal.append(STEPS[0])
        assert not hwm_path(path).exists() or hwm_path(path).read_bytes()[:1] == b"\0"
        journal.flush()
        from atlas_oms.store.guard import read_hwm

        assert read_hwm(hwm_path(path)) == STEPS[0][-1].seq


def test_a_file_journal_cut_below_its_flushed_seq_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "journal.journal"
    with FileJournal(path, batch_ms=None) as journal:
        for step in STEPS:
            journal.append(step)
            journal.flush()
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    with FileJournal(path) as journal:
        report = journal.recovery
        assert report.damaged and report.lost_to_seq == TOP
        assert report.lost_from_seq == report.last_seq + 1
        with pytest.raises(JournalDamagedError):
            journal.append(build_steps([1], start_seq=report.last_seq + 1)[0])
    with FileJournal(path) as journal:  # the tail is gone from the file; the loss is not
        assert journal.recovery.damaged and journal.recovery.reason == "TRUNCATED"
        assert (journal.recovery.lost_from_seq, journal.recovery.lost_to_seq) == (
            report.lost_from_seq,
            TOP,
        )
        journal.append([repaired(report.lost_from_seq, TOP)])
    with FileJournal(path) as journal:
        assert journal.recovery.clean and journal.last_seq == TOP + 1


def test_a_file_journal_tail_torn_beyond_its_flushed_seq_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "journal.journal"
    with FileJournal(path, batch_ms=None) as journal:
        for step in STEPS[:-1]:
            journal.append(step)
            journal.flush()
    with open(path, "ab") as f:
        f.write(b"\x10\x00\x00\x00half a frame")  # a write that never finished
    with FileJournal(path) as journal:
        report = journal.recovery
        assert report.reason == "TORN_TAIL" and not report.damaged and not report.clean
        journal.append(STEPS[-1])


def test_a_flipped_byte_mid_file_loses_every_frame_after_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.journal"
    with FileJournal(path, batch_ms=None, fsync=False) as journal:
        for step in STEPS:
            journal.append(step)
            journal.flush()
    hwm_path(path).unlink()  # no mark: the frames after the bad one still show the loss
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF
    path.write_bytes(bytes(data))
    with FileJournal(path, readonly=True) as journal:
        report = journal.recovery
    assert report.damaged and report.reason == "CRC_MISMATCH"
    assert (report.lost_from_seq, report.lost_to_seq) == (1, TOP)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "file"])
def test_a_journal_accepts_exactly_the_gap_a_repair_names(tmp_path: Path, kind: str) -> None:
    journal = {
        "memory": MemoryJournal,
        "sqlite": lambda: SqliteJournal(tmp_path / "j.db"),
        "file": lambda: FileJournal(tmp_path / "j.journal"),
    }[kind]()
    with journal:
        journal.append(STEPS[0])
        last = journal.last_seq
        with pytest.raises(SequenceGapError):
            journal.append(build_steps([1], start_seq=last + 5)[0])
        with pytest.raises(SequenceGapError):  # a repair that names another range
            journal.append([repaired(last + 2, last + 9)])
        journal.append([repaired(last + 1, last + 9)])
        journal.append(build_steps([2], start_seq=last + 11)[0])
        journal.flush()
        assert [e.seq for e in journal.read()] == [
            *range(1, last + 1),
            last + 10,
            last + 11,
            last + 12,
        ]
        assert [e.seq for e in journal.read(last + 3)] == [last + 10, last + 11, last + 12]
        journal.save_snapshot(last, b"before")
        journal.save_snapshot(last + 11, b"after")
        assert journal.latest_snapshot() == (last + 11, b"after")
