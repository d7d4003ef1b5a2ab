"""The journal port: append-only, gap-free event storage with snapshots, and its error tree.

Every journal (memory, SQLite, file) satisfies :class:`Journal` and passes one shared contract
test (``tests/store/test_journal_contract.py``). The core never imports this module: the runtime
hands the engine's events to a journal and replays them back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Protocol, Self, cast, runtime_checkable

import msgspec

from atlas_oms.model.events import Event, EventBase
from atlas_oms.store.codec import EVENT_TYPES

__all__ = [
    "Journal",
    "JournalBase",
    "JournalClosedError",
    "JournalCorruptError",
    "JournalError",
    "RecoveryReport",
    "SequenceGapError",
    "check_continuity",
]


class JournalError(Exception):
    """Base of every error a journal raises; storage errors are mapped to it."""


class SequenceGapError(JournalError):
    """Appended events do not continue ``last_seq`` gap-free: a bug upstream, never retried."""


class JournalCorruptError(JournalError):
    """Stored data failed a check while reading (CRC, sequence, decoding) after a clean open."""


class JournalClosedError(JournalError):
    """The journal was used after ``close()``."""


class RecoveryReport(msgspec.Struct, frozen=True, kw_only=True):
    """What opening a journal found: what was recovered and what was discarded, and why.

    ``reason`` is a machine-readable code (``""`` for a clean open): ``TORN_TAIL`` (an incomplete
    write at the end), ``CRC_MISMATCH``, ``SEQUENCE_GAP``, ``BAD_FRAME`` or ``UNREADABLE``.
    ``detail`` is a sentence for humans; ``kept_at`` names where discarded data was set aside.
    """

    events_recovered: int = 0
    last_seq: int = 0
    discarded_bytes: int = 0
    discarded_records: int = 0
    reason: str = ""
    detail: str = ""
    kept_at: str = ""

    @property
    def clean(self) -> bool:
        """Return True when nothing was discarded."""
        return self.discarded_bytes == 0 and self.discarded_records == 0


@runtime_checkable
class Journal(Protocol):
    """Append-only, gap-free event storage with snapshots.

    ``append`` buffers; ``flush`` makes everything appended durable (an acknowledged command must
    be flushed). ``last_seq`` and ``read`` include appended events not yet flushed.
    """

    recovery: RecoveryReport

    @property
    def last_seq(self) -> int:
        """Return the seq of the last appended event (0 when empty)."""
        ...

    def append(self, events: Sequence[EventBase]) -> None:
        """Append one engine step's events; they must continue ``last_seq`` gap-free."""
        ...

    def flush(self) -> None:
        """Make everything appended so far durable."""
        ...

    def read(self, from_seq: int = 1) -> Iterator[Event]:
        """Yield the events with ``seq >= from_seq`` in order."""
        ...

    def read_batches(self, from_seq: int = 1) -> Iterator[list[Event]]:
        """Yield the events with ``seq >= from_seq`` in order, as non-empty lists (fast replay)."""
        ...

    def save_snapshot(self, seq: int, state: bytes) -> None:
        """Store ``state`` as of ``seq`` (flushing the journal up to it first)."""
        ...

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """Return the intact snapshot with the highest seq not beyond ``last_seq``, if any."""
        ...

    def close(self) -> None:
        """Flush and release the storage; closing twice is harmless."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def check_continuity(last_seq: int, events: Sequence[EventBase]) -> Sequence[Event]:
    """Raise unless ``events`` are ``Event`` members numbered gap-free from ``last_seq + 1``;
    return them, now known to be members."""
    expected = last_seq + 1
    for event in events:
        if type(event) not in EVENT_TYPES:
            raise JournalError(f"cannot journal {type(event).__name__}: not a member of Event")
        if event.seq != expected:
            raise SequenceGapError(
                f"{type(event).__name__} has seq {event.seq}, expected {expected} "
                f"(journal last_seq {last_seq})"
            )
        expected += 1
    return cast("Sequence[Event]", events)


class JournalBase:
    """Shared behaviour: ``read`` over ``read_batches``, the context manager, argument checks."""

    recovery: RecoveryReport
    _closed: bool = False

    @property
    def last_seq(self) -> int:  # pragma: no cover - every journal overrides it
        """Return the seq of the last appended event (0 when empty)."""
        raise NotImplementedError

    def read_batches(self, from_seq: int = 1) -> Iterator[list[Event]]:  # pragma: no cover
        """Yield the events with ``seq >= from_seq`` in order, as non-empty lists."""
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover
        """Flush and release the storage."""
        raise NotImplementedError

    def read(self, from_seq: int = 1) -> Iterator[Event]:
        """Yield the events with ``seq >= from_seq`` in order."""
        for batch in self.read_batches(from_seq):
            yield from batch

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Appended events are already the truth (the engine acted on them): flush even on error.
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise JournalClosedError(f"{type(self).__name__} is closed")

    def _check_snapshot_seq(self, seq: int) -> None:
        if not 0 <= seq <= self.last_seq:
            raise JournalError(
                f"snapshot seq {seq} is outside the journal (last_seq {self.last_seq})"
            )
