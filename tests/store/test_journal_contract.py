"""The journal contract: every journal (memory, SQLite, file) passes these same tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_events import build_steps, flat, price_update

from atlas_oms.store import (
    FileJournal,
    Journal,
    JournalClosedError,
    JournalError,
    MemoryJournal,
    SequenceGapError,
    SqliteJournal,
)


class Store:
    """Opens journals of one kind; every ``fresh()`` one lives at a new location."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind, self.folder = kind, folder
        self.durable = kind != "memory"
        self._counter = itertools.count()
        self.path = self._new_path()

    def _new_path(self) -> Path:
        suffix = {"memory": "", "sqlite": ".db", "file": ".journal"}[self.kind]
        return self.folder / f"j{next(self._counter)}{suffix}"

    def open(self, **options: object) -> Journal:
        """Open the journal at the current location (memory: a new, empty one)."""
        if self.kind == "memory":
            return MemoryJournal()
        if self.kind == "sqlite":
            return SqliteJournal(self.path, **options)  # type: ignore[arg-type]
        return FileJournal(self.path, fsync=False, **options)  # type: ignore[arg-type]

    def open_readonly(self) -> Journal:
        """Open a second, read-only view of the journal (durable kinds only)."""
        kind = SqliteJournal if self.kind == "sqlite" else FileJournal
        return kind(self.path, readonly=True)

    def fresh(self) -> Journal:
        """Open a new journal at a new location."""
        self.path = self._new_path()
        return self.open()


@pytest.fixture(params=["memory", "sqlite", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return Store(request.param, tmp_path)


@pytest.fixture
def journal(store: Store) -> Iterator[Journal]:
    journal = store.open()
    yield journal
    journal.close()


@pytest.fixture(params=["sqlite", "file"])
def durable_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The journals that outlive their object (the memory journal does not)."""
    return Store(request.param, tmp_path)


def test_journal_satisfies_the_protocol(journal: Journal) -> None:
    assert isinstance(journal, Journal)


def test_new_journal_is_empty_and_its_open_was_clean(journal: Journal) -> None:
    assert journal.last_seq == 0
    assert list(journal.read()) == []
    assert journal.recovery.clean
    assert journal.recovery.reason == ""
    assert journal.latest_snapshot() is None


def test_appended_events_read_back_equal_and_in_order(journal: Journal) -> None:
    steps = build_steps([4, 1, 5, 2])
    for step in steps:
        journal.append(step)
    assert journal.last_seq == 12
    assert list(journal.read()) == flat(steps)


def test_read_from_the_middle_of_a_step_starts_at_that_seq(journal: Journal) -> None:
    for step in build_steps([4, 4, 4]):
        journal.append(step)
    journal.flush()
    assert [event.seq for event in journal.read(6)] == list(range(6, 13))
    assert [event.seq for event in journal.read(12)] == [12]
    assert list(journal.read(13)) == []


def test_read_batches_are_non_empty_and_concatenate_to_read(journal: Journal) -> None:
    for step in build_steps([3, 1, 2, 6]):
        journal.append(step)
    for from_seq in (1, 2, 4, 7, 12, 13):
        batches = list(journal.read_batches(from_seq))
        assert all(batches)
        assert flat(batches) == list(journal.read(from_seq))


def test_read_sees_appended_events_before_and_after_flush(journal: Journal) -> None:
    steps = build_steps([2, 3, 2])
    journal.append(steps[0])
    journal.flush()
    journal.append(steps[1])
    journal.append(steps[2])
    assert list(journal.read()) == flat(steps)
    journal.flush()
    assert list(journal.read(3)) == flat(steps)[2:]


def test_appending_and_flushing_while_reading_loses_and_repeats_nothing(journal: Journal) -> None:
    steps = build_steps([2] * 6)
    for step in steps[:3]:
        journal.append(step)
    seen = []
    for number, batch in enumerate(journal.read_batches(), 1):
        seen.extend(batch)
        if number == 1:
            journal.append(steps[3])
            journal.flush()
            journal.append(steps[4])
        elif number == 2:
            journal.append(steps[5])
    assert seen == flat(steps)


def test_a_gap_is_rejected_and_changes_nothing(journal: Journal) -> None:
    first, second = build_steps([2, 2])
    journal.append(first)
    with pytest.raises(SequenceGapError):
        journal.append(second[1:])
    with pytest.raises(SequenceGapError):
        journal.append([second[0], second[0]])
    with pytest.raises(SequenceGapError):
        journal.append(first)
    assert journal.last_seq == 2
    journal.append(second)
    assert list(journal.read()) == first + second


def test_the_first_event_must_have_seq_one(journal: Journal) -> None:
    with pytest.raises(SequenceGapError):
        journal.append(build_steps([2], start_seq=2)[0])
    assert journal.last_seq == 0


def test_only_members_of_event_can_be_journaled(journal: Journal) -> None:
    with pytest.raises(JournalError):
        journal.append(["not an event"])  # type: ignore[list-item]
    assert journal.last_seq == 0


def test_an_empty_append_changes_nothing(journal: Journal) -> None:
    journal.append([])
    assert journal.last_seq == 0
    journal.append([price_update(1)])
    assert list(journal.read()) == [price_update(1)]


def test_the_latest_snapshot_wins_and_the_same_seq_is_replaced(journal: Journal) -> None:
    for step in build_steps([3, 3, 3]):
        journal.append(step)
    journal.save_snapshot(3, b"state at 3")
    journal.save_snapshot(9, b"state at 9")
    journal.save_snapshot(6, b"state at 6")
    assert journal.latest_snapshot() == (9, b"state at 9")
    journal.save_snapshot(9, b"state at 9, again")
    assert journal.latest_snapshot() == (9, b"state at 9, again")


def test_a_snapshot_beyond_the_last_event_is_refused(journal: Journal) -> None:
    journal.append(build_steps([2])[0])
    with pytest.raises(JournalError):
        journal.save_snapshot(3, b"from the future")
    journal.save_snapshot(0, b"empty state")
    assert journal.latest_snapshot() == (0, b"empty state")


def test_use_after_close_raises_and_close_twice_is_harmless(journal: Journal) -> None:
    journal.close()
    journal.close()
    with pytest.raises(JournalClosedError):
        journal.append(build_steps([1])[0])
    with pytest.raises(JournalClosedError):
        list(journal.read())


def test_reopen_sees_everything_flushed_and_continues(durable_store: Store) -> None:
    steps = build_steps([4, 1, 5, 2, 3])
    with durable_store.open() as journal:
        for step in steps[:4]:
            journal.append(step)
        journal.flush()
        journal.save_snapshot(10, b"state")
    with durable_store.open() as journal:
        assert journal.recovery.clean
        assert journal.recovery.events_recovered == journal.recovery.last_seq == 12
        assert journal.last_seq == 12
        assert list(journal.read()) == flat(steps[:4])
        assert journal.latest_snapshot() == (10, b"state")
        journal.append(steps[4])
    with durable_store.open() as journal:
        assert list(journal.read(11)) == flat(steps)[10:]


def test_close_flushes_pending_events(durable_store: Store) -> None:
    steps = build_steps([2, 2])
    journal = durable_store.open(batch_events=1000, batch_ms=None)
    for step in steps:
        journal.append(step)
    journal.close()
    with durable_store.open() as journal:
        assert list(journal.read()) == flat(steps)


def test_leaving_the_with_block_on_an_error_still_flushes(durable_store: Store) -> None:
    step = build_steps([3])[0]
    with pytest.raises(RuntimeError), durable_store.open(batch_ms=None) as journal:
        journal.append(step)
        raise RuntimeError("the node fell over")
    with durable_store.open() as journal:
        assert list(journal.read()) == step


def test_a_full_batch_is_committed_without_flush(durable_store: Store) -> None:
    steps = build_steps([2, 2, 2])
    with durable_store.open(batch_events=4, batch_ms=None) as writer:
        writer.append(steps[0])
        with durable_store.open_readonly() as reader:
            assert reader.last_seq == 0
        writer.append(steps[1])
        writer.append(steps[2])
        with durable_store.open_readonly() as reader:
            assert list(reader.read()) == flat(steps[:2])


def test_an_old_enough_batch_is_committed_on_the_next_append(durable_store: Store) -> None:
    steps = build_steps([1, 1])
    with durable_store.open(batch_events=1000, batch_ms=0) as writer:
        writer.append(steps[0])
        writer.append(steps[1])
        with durable_store.open_readonly() as reader:
            assert list(reader.read()) == flat(steps)


def test_a_readonly_journal_refuses_writes(durable_store: Store) -> None:
    durable_store.open().close()
    with durable_store.open_readonly() as reader, pytest.raises(JournalError):
        reader.append(build_steps([1])[0])


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(1, 6), max_size=15),
    flush_every=st.integers(1, 4),
    from_seq=st.integers(0, 80),
)
def test_any_steps_read_back_from_any_seq(
    store: Store, sizes: list[int], flush_every: int, from_seq: int
) -> None:
    steps = build_steps(sizes)
    with store.fresh() as journal:
        for i, step in enumerate(steps, 1):
            journal.append(step)
            if i % flush_every == 0:
                journal.flush()
        expected = [event for event in flat(steps) if event.seq >= from_seq]
        assert list(journal.read(from_seq)) == expected
        assert journal.last_seq == sum(sizes)


def test_a_caller_growing_its_list_after_append_changes_nothing(journal: Journal) -> None:
    first, second = build_steps([2, 2])
    step = list(first)
    journal.append(step)
    step.extend(second)  # the node keeps extending the list it journaled a prefix of
    journal.flush()
    assert list(journal.read()) == first
