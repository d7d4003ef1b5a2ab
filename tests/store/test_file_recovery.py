"""FileJournal after a crash: a file cut at any byte keeps every complete frame, reports the rest."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_events import build_steps, flat

from atlas_oms.model.events import Event
from atlas_oms.store import FileJournal, JournalError
from atlas_oms.store.file import MAGIC


def write_steps(path: Path, steps: list[list[Event]]) -> list[int]:
    """Write one frame per step; return the file size after each (frame boundaries)."""
    boundaries = [len(MAGIC)]
    with FileJournal(path, fsync=False, batch_ms=None) as journal:
        for step in steps:
            journal.append(step)
            journal.flush()
            boundaries.append(path.stat().st_size)
    return boundaries


def check_cut(data: bytes, boundaries: list[int], steps: list[list[Event]], cut: int) -> None:
    """Cut the journal at ``cut`` bytes, reopen it, and check what came back and what is next."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cut.journal"
        path.write_bytes(data[:cut])
        complete = sum(1 for end in boundaries[1:] if end <= cut)
        kept_bytes = boundaries[complete] if cut >= len(MAGIC) else 0
        expected = flat(steps[:complete])
        with FileJournal(path, fsync=False) as journal:
            report = journal.recovery
            assert list(journal.read()) == expected
            assert report.events_recovered == report.last_seq == len(expected)
            assert report.discarded_bytes == cut - kept_bytes
            assert report.clean == (cut == kept_bytes)
            if not report.clean:
                assert report.reason == "TORN_TAIL"
                assert report.discarded_records == 1
                assert Path(report.kept_at).read_bytes() == data[kept_bytes:cut]
            follow_up = build_steps([2], start_seq=len(expected) + 1)[0]
            journal.append(follow_up)
        with FileJournal(path, fsync=False) as journal:
            assert journal.recovery.clean
            assert list(journal.read()) == [*expected, *follow_up]


def test_a_cut_at_every_byte_keeps_exactly_the_complete_frames(tmp_path: Path) -> None:
    steps = build_steps([2, 1, 3])
    path = tmp_path / "full.journal"
    boundaries = write_steps(path, steps)
    data = path.read_bytes()
    for cut in range(len(data) + 1):
        check_cut(data, boundaries, steps, cut)


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 8), min_size=1, max_size=12), where=st.floats(0, 1))
def test_a_cut_anywhere_in_any_journal_keeps_the_complete_prefix(
    sizes: list[int], where: float
) -> None:
    steps = build_steps(sizes)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "full.journal"
        boundaries = write_steps(path, steps)
        data = path.read_bytes()
    check_cut(data, boundaries, steps, round(len(data) * where))


def test_a_flipped_byte_mid_file_stops_recovery_at_that_frame(tmp_path: Path) -> None:
    steps = build_steps([2, 2, 2, 2])
    path = tmp_path / "journal.journal"
    boundaries = write_steps(path, steps)
    data = bytearray(path.read_bytes())
    data[boundaries[1] + 20] ^= 0xFF  # inside the second frame's payload
    path.write_bytes(bytes(data))
    with FileJournal(path) as journal:
        report = journal.recovery
        assert list(journal.read()) == steps[0]
        assert report.reason == "CRC_MISMATCH"
        assert report.discarded_records == 3
        assert report.discarded_bytes == len(data) - boundaries[1]


def test_a_second_writer_is_refused_while_the_first_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.journal"
    with FileJournal(path), pytest.raises(JournalError, match="another"):
        FileJournal(path)
    FileJournal(path).close()  # the lock went with the first writer


def test_a_file_that_is_not_a_journal_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.journal"
    path.write_bytes(b"dear diary, today the market went up")
    with pytest.raises(JournalError, match="not an Atlas journal"):
        FileJournal(path)
    assert path.read_bytes() == b"dear diary, today the market went up"


def test_a_readonly_open_reports_a_torn_tail_but_leaves_it(tmp_path: Path) -> None:
    steps = build_steps([2, 2])
    path = tmp_path / "journal.journal"
    write_steps(path, steps)
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:-3])
    with FileJournal(path, readonly=True) as journal:
        assert journal.recovery.reason == "TORN_TAIL"
        assert list(journal.read()) == steps[0]
    assert path.stat().st_size == size - 3


def test_a_corrupt_snapshot_file_falls_back_to_the_previous_one(tmp_path: Path) -> None:
    path = tmp_path / "journal.journal"
    with FileJournal(path) as journal:
        for step in build_steps([3, 3]):
            journal.append(step)
        journal.save_snapshot(3, b"older")
        journal.save_snapshot(6, b"newer")
    newest = tmp_path / "journal.journal.snapshots" / f"{6:020d}.snap"
    newest.write_bytes(newest.read_bytes()[:-1] + b"?")
    with FileJournal(path) as journal:
        assert journal.latest_snapshot() == (3, b"older")
