"""The in-memory journal: a list of events and a dict of snapshots (tests, backtests)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from atlas_oms.model.events import Event, EventBase
from atlas_oms.store.base import JournalBase, RecoveryReport, check_continuity

__all__ = ["MemoryJournal"]

_BATCH = 1024


class MemoryJournal(JournalBase):
    """Keep events in a list (event ``seq`` lives at index ``seq - 1``) and snapshots in a dict."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._snapshots: dict[int, bytes] = {}
        self.recovery = RecoveryReport()

    @property
    def last_seq(self) -> int:
        """Return the seq of the last appended event (0 when empty)."""
        return len(self._events)

    def append(self, events: Sequence[EventBase]) -> None:
        """Append one step's events; they must continue ``last_seq`` gap-free."""
        self._check_open()
        self._events.extend(check_continuity(len(self._events), events))

    def flush(self) -> None:
        """Do nothing: memory is as durable as it gets."""
        self._check_open()

    def read_batches(self, from_seq: int = 1) -> Iterator[list[Event]]:
        """Yield the events with ``seq >= from_seq`` in lists of up to 1,024."""
        self._check_open()
        index = max(from_seq, 1) - 1
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
        seq = max(self._snapshots)
        return seq, self._snapshots[seq]

    def close(self) -> None:
        """Mark the journal closed (its contents are dropped with it)."""
        self._closed = True
