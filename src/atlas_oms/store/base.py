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

from atlas_oms.model.events import Event, EventBase, JournalRepaired
from atlas_oms.store.codec import EVENT_TYPES

__all__ = [
    "Journal",
    "JournalBase",
    "JournalClosedError",
    "JournalCorruptError",
    "JournalDamagedError",
    "JournalError",
    "JournalLockedError",
    "RecoveryReport",
    "SequenceGapError",
    "bridges",
    "check_continuity",
    "split_runs",
    "tail_from",
]


class JournalError(Exception):
    """Base of every error a journal raises; storage errors are mapped to it."""


class SequenceGapError(JournalError):
    """Appended events do not continue ``last_seq`` gap-free: a bug upstream, never retried."""


class JournalCorruptError(JournalError):
    """Stored data failed a check while reading (CRC, sequence, decoding) after a clean open."""


class JournalClosedError(JournalError):
    """The journal was used after ``close()``."""


class JournalLockedError(JournalError):
    """Another process (or another writable open) holds the journal or data folder: nothing was
    written. ``path`` is what is locked, ``pid`` the holder's process id (None: unknown)."""

    def __init__(self, message: str, *, path: str = "", pid: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.pid = pid


class JournalDamagedError(JournalError):
    """The journal lost events it had acknowledged (``report`` says which): refused until an
    operator repairs it (``Node(..., on_damage="repair")``, ``atlas serve --repair-journal``)."""

    def __init__(self, message: str, report: RecoveryReport) -> None:
        super().__init__(message)
        self.report = report


class RecoveryReport(msgspec.Struct, frozen=True, kw_only=True):
    """What opening a journal found: what was recovered and what was discarded, and why.

    ``reason`` is a machine-readable code (``""`` for a clean open): ``TORN_TAIL`` (an incomplete
    write at the end), ``CRC_MISMATCH``, ``SEQUENCE_GAP``, ``BAD_FRAME``, ``UNREADABLE`` or
    ``TRUNCATED`` (the journal ends below the high-water mark of acknowledged commits kept beside
    it: a cut WAL or file). ``detail`` is a sentence for humans; ``kept_at`` names where discarded
    data was set aside.

    ``lost_from_seq``..``lost_to_seq`` (``lost_events`` seqs, in ``lost_chunks`` chunks or frames
    where known) is the range of sequence numbers that were written, or acknowledged, and are not
    in the journal any more: the journal is *damaged* and a node refuses it unless told to repair
    (the repair journals a ``JournalRepaired`` event at ``lost_to_seq + 1``, so no seq or id is
    ever issued twice). A torn tail that was never acknowledged is discarded without loss.
    ``highest_seq`` is the highest seq ever written (recovered, set aside or acknowledged).
    """

    events_recovered: int = 0
    last_seq: int = 0
    discarded_bytes: int = 0
    discarded_records: int = 0
    reason: str = ""
    detail: str = ""
    kept_at: str = ""
    lost_from_seq: int = 0
    lost_to_seq: int = 0
    lost_events: int = 0
    lost_chunks: int = 0
    highest_seq: int = 0

    @property
    def clean(self) -> bool:
        """Return True when nothing was discarded and nothing is lost."""
        return self.discarded_bytes == 0 and self.discarded_records == 0 and not self.damaged

    @property
    def damaged(self) -> bool:
        """Return True when written or acknowledged events are missing (a node refuses it)."""
        return self.lost_events > 0

    def sentence(self, path: object = "") -> str:
        """One sentence for operators: what is lost, where, why, and what to do."""
        where = f"the journal {path}" if path else "the journal"
        if not self.damaged:
            if self.clean:
                return f"{where} is intact ({self.events_recovered} events)."
            return f"{where} lost nothing acknowledged ({self.reason}: {self.detail})."
        kept = f", kept at {self.kept_at}" if self.kept_at else ""
        return (
            f"{where} is damaged: seq {self.lost_from_seq}..{self.lost_to_seq} "
            f"({self.lost_events} events, {self.lost_chunks} chunks) is lost after seq "
            f"{self.last_seq} ({self.reason}: {self.detail}{kept}); repair it on purpose (atlas serve "
            "--repair-journal) to record the loss and carry on above it."
        )


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


def bridges(expected: int, event: EventBase) -> bool:
    """Whether ``event`` is a ``JournalRepaired`` that names exactly the gap from ``expected`` to
    its own seq: the one gap a journal and the fold accept (the lost range of a repair)."""
    return (
        type(event) is JournalRepaired
        and event.lost_from_seq == expected
        and event.lost_to_seq == event.seq - 1
        and event.seq > expected
    )


def split_runs(events: Sequence[Event]) -> list[Sequence[Event]]:
    """``events`` cut into runs of consecutive seqs (one run unless a repair bridges a gap)."""
    if not events or events[-1].seq - events[0].seq + 1 == len(events):
        return [events]
    runs: list[Sequence[Event]] = []
    start = 0
    for i in range(1, len(events)):
        if events[i].seq != events[i - 1].seq + 1:
            runs.append(events[start:i])
            start = i
    runs.append(events[start:])
    return runs


def tail_from(events: list[Event], seq: int) -> list[Event]:
    """The events of one step with ``seq`` or above (a step may hold a repair's bridged gap)."""
    first = events[0].seq
    if first >= seq:
        return events
    if events[-1].seq - first + 1 == len(events):
        return events[seq - first :]
    return [event for event in events if event.seq >= seq]


def check_continuity(last_seq: int, events: Sequence[EventBase]) -> Sequence[Event]:
    """Raise unless ``events`` are ``Event`` members numbered gap-free from ``last_seq + 1``
    (a ``JournalRepaired`` may bridge the lost range it names); return them, now known to be
    members."""
    expected = last_seq + 1
    for event in events:
        if type(event) not in EVENT_TYPES:
            raise JournalError(f"cannot journal {type(event).__name__}: not a member of Event")
        if event.seq != expected and not bridges(expected, event):
            raise SequenceGapError(
                f"{type(event).__name__} has seq {event.seq}, expected {expected} "
                f"(journal last_seq {last_seq})"
            )
        expected = event.seq + 1
    return cast("Sequence[Event]", events)


class JournalBase:
    """Shared behaviour: ``read`` over ``read_batches``, the context manager, argument checks."""

    recovery: RecoveryReport
    _closed: bool = False
    #: The damage found on open, until the ``JournalRepaired`` that bridges it is appended.
    _damaged: RecoveryReport | None = None
    #: (from, to) of every lost range a ``JournalRepaired`` bridges (no snapshot is taken there).
    _gaps: list[tuple[int, int]]

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

    def _continue(self, last: int, events: Sequence[EventBase]) -> Sequence[Event]:
        """Check ``events`` continue ``last`` (a damaged journal takes only the repair that
        bridges its whole lost range); note any bridged gap; return them as members."""
        if self._damaged is not None:
            report = self._damaged
            first = events[0]
            if not (
                bridges(last + 1, first)
                and isinstance(first, JournalRepaired)
                and first.lost_to_seq >= report.lost_to_seq
            ):
                raise JournalDamagedError(report.sentence(getattr(self, "path", "")), report)
        batch = check_continuity(last, events)
        if events[0].seq != last + 1 or events[-1].seq - last != len(events):
            for event in batch:
                if event.seq != last + 1:
                    self._gaps.append((last + 1, event.seq - 1))
                last = event.seq
        self._damaged = None
        return batch

    def _in_gap(self, seq: int) -> bool:
        """Whether ``seq`` lies in a lost range (its snapshot holds state the journal lost)."""
        return any(low <= seq <= high for low, high in self._gaps)

    def _check_open(self) -> None:
        if self._closed:
            raise JournalClosedError(f"{type(self).__name__} is closed")

    def _check_snapshot_seq(self, seq: int) -> None:
        if not 0 <= seq <= self.last_seq:
            raise JournalError(
                f"snapshot seq {seq} is outside the journal (last_seq {self.last_seq})"
            )
