"""The in-memory journal: a list of events and a dict of snapshots (tests, backtests)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence

from atlas_oms.model.events import Event, EventBase
from atlas_oms.store.base import JournalBase, RecoveryReport

__all__ = ["MemoryJournal"]

_BATCH = 1024


class MemoryJournal(JournalBase):
    """Keep events in a list and snapshots in a dict. Event ``seq`` lives at index ``seq - 1``
    until a ``JournalRepaired`` bridges a lost range; ``_starts`` / ``_at`` map each run of
    consecutive seqs to the index of its first event."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._snapshots: dict[int, bytes] = {}
        self._starts: list[int] = [1]
        self._at: list[int] = [0]
        self._gaps = []
        self.recovery = RecoveryReport()

    @property
    def last_seq(self) -> int:
        """Return the seq of the last appended event (0 when empty)."""
        events = self._events
        return events[-1].seq if events else 0

    def append(self, events: Sequence[EventBase]) -> None:
        """Append one step's events; they must continue ``last_seq`` gap-free (a
        ``JournalRepaired`` may bridge the lost range it names)."""
        self._check_open()
        if not events:
            return
        before = len(self._gaps)
        batch = self._continue(self.last_seq, events)
        if len(self._gaps) > before:
            index = len(self._events)
            for event in batch:
                if any(event.seq == high + 1 for _, high in self._gaps[before:]):
                    self._starts.append(event.seq)
                    self._at.append(index)
                index += 1
        self._events.extend(batch)

    def flush(self) -> None:
        """Do nothing: memory is as durable as it gets."""
        self._check_open()

    def read_batches(self, from_seq: int = 1) -> Iterator[list[Event]]:
        """Yield the events with ``seq >= from_seq`` in lists of up to 1,024."""
        self._check_open()
        seq = max(from_seq, 1)
        run = bisect_right(self._starts, seq) - 1
        index = self._at[run] + (seq - self._starts[run])
        if run + 1 < len(self._at):
            index = min(index, self._at[run + 1])  # ``seq`` is in a lost range: from after it
        while index < len(self._events):
            batch = self._events[index : index + _BATCH]
            yield batch
            index += len(batch)  # the journal may have grown while we yielded

    def save_snapshot(self, seq: int, state: bytes) -> None:
        """Store ``state`` as of ``seq``; saving the same seq again replaces it."""
        self._check_open()
        self._check_snapshot_seq(seq)
        self._snapshots[seq] = bytes(state)

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """Return the snapshot with the highest seq, if any."""
        self._check_open()
        if not self._snapshots:
            return None
        seq = max((s for s in self._snapshots if not self._in_gap(s)), default=None)
        return None if seq is None else (seq, self._snapshots[seq])

    def close(self) -> None:
        """Mark the journal closed (its contents are dropped with it)."""
        self._closed = True
