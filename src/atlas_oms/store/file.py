"""An append-only journal file of CRC-framed msgpack chunks, with batched fsync.

The format is in :mod:`atlas_oms.store.framing`. A crash can only tear the last frame, so opening
scans the file, keeps every complete frame up to the first bad one, and reports the rest in
``recovery``; a writable open copies the discarded tail to a ``<name>.discarded-<offset>-<ns>``
file next to the journal and truncates it before writing more. Snapshots are files in
``<name>.snapshots/``.

A writable open holds ``<name>.lock`` (one writer; :class:`JournalLockedError` for a second) and
records the last flushed seq in ``<name>.hwm`` after every flush. A tail torn beyond that mark was
never acknowledged and is dropped without loss; a journal that ends below it, or a bad frame with
complete frames after it, is *damaged* (``recovery.damaged``, with the lost range): the journal
then takes no append but the ``JournalRepaired`` that bridges the lost range.
"""

from __future__ import annotations

import os
import time
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import msgspec

from atlas_oms.model.events import Event, EventBase
from atlas_oms.store.base import (
    JournalBase,
    JournalError,
    RecoveryReport,
    split_runs,
    tail_from,
)
from atlas_oms.store.framing import (
    MAGIC,
    READ_BUFFER,
    FrameScanner,
    append_frame,
    fsync_dir,
    latest_snapshot_file,
    read_frames,
    write_snapshot_file,
)
from atlas_oms.store.guard import HighWaterMark, WriterLock, hwm_path, lock_path, read_hwm

__all__ = ["MAGIC", "FileJournal"]


class FileJournal(JournalBase):
    """Journal events into the file at ``path`` (created if missing).

    Appends are buffered in memory and written (then fsynced, unless ``fsync=False``) when
    ``batch_events`` are pending, when the oldest pending chunk is ``batch_ms`` old (checked on
    append), and on ``flush``/``close``/``save_snapshot``. A writable open takes an exclusive
    ``flock``; ``readonly`` opens neither lock nor truncate (audits of a live journal).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        batch_events: int = 1000,
        batch_ms: float | None = 50.0,
        fsync: bool = True,
        readonly: bool = False,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._fsync = fsync
        self._batch_events = max(1, batch_events)
        self._batch_ns = None if batch_ms is None else int(batch_ms * 1_000_000)
        self._buf = bytearray()
        self._pending_events: list[list[Event]] = []
        self._pending_count = 0
        self._pending_since = 0
        self._unsynced = False
        self._firsts = array("q")  # first seq of each frame, for bisecting ``read`` starts
        self._offsets = array("q")
        self._end = 0  # bytes of whole frames in the file: set by _scan
        self._fh: BinaryIO | None = None
        self._lock: WriterLock | None = None
        self._hwm: HighWaterMark | None = None
        self._gaps = []
        try:
            if not readonly:
                self._lock = WriterLock(lock_path(self.path), f"the journal {self.path}")
            mark = read_hwm(hwm_path(self.path))
            if readonly:
                self.recovery = self._with_losses(self._scan(), mark)
            else:
                self._open_for_append(mark)
        except OSError as exc:
            self._release()
            raise JournalError(f"cannot open journal file {self.path}: {exc}") from exc
        except BaseException:
            self._release()
            raise
        self._last_seq = self._flushed_seq = self.recovery.last_seq
        if self.recovery.damaged:
            self._damaged = self.recovery

    @property
    def last_seq(self) -> int:
        """Return the seq of the last appended event, flushed or not (0 when empty)."""
        return self._last_seq

    def append(self, events: Sequence[EventBase]) -> None:
        """Buffer one step's events as a frame; write a batch when it is full or old enough."""
        self._check_writable()
        if not events:
            return
        batch = self._continue(self._last_seq, events)
        # A frame holds consecutive seqs: a repair's bridged gap starts a new one.
        for run in split_runs(batch):
            self._firsts.append(run[0].seq)
            self._offsets.append(self._end + len(self._buf))
            append_frame(self._buf, run)
        self._pending_events.append(list(batch))
        self._last_seq = events[-1].seq
        self._pending_count += len(events)
        if self._pending_count >= self._batch_events:
            self._commit()
        elif self._batch_ns is not None:
            now = time.monotonic_ns()
            if len(self._pending_events) == 1:
                self._pending_since = now
            elif now - self._pending_since >= self._batch_ns:
                self._commit()

    def flush(self) -> None:
        """Write pending frames and fsync the file (when ``fsync``)."""
        self._check_open()
        if not self.readonly:
            self._commit()

    def read_batches(self, from_seq: int = 1) -> Iterator[list[Event]]:
        """Yield written frames (the first one trimmed to ``from_seq``), then pending ones."""
        self._check_open()
        next_seq = max(from_seq, 1)
        while True:
            progressed = False
            if self._flushed_seq >= next_seq:
                for events in self._read_frames(next_seq):
                    first_seq = events[0].seq
                    yield events if first_seq >= next_seq else events[next_seq - first_seq :]
                    next_seq = events[-1].seq + 1
                    progressed = True
            for events in list(self._pending_events):
                if events[-1].seq >= next_seq:
                    yield list(tail_from(events, next_seq))
                    next_seq = events[-1].seq + 1
                    progressed = True
            if not progressed:
                return

    def save_snapshot(self, seq: int, state: bytes) -> None:
        """Flush the journal, then write the snapshot file atomically (same seq: replaced)."""
        self._check_writable()
        self._check_snapshot_seq(seq)
        self._commit()
        write_snapshot_file(self._snapshot_dir(), seq, bytes(state))

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """Return the intact snapshot with the highest seq up to ``last_seq`` (None if none)."""
        self._check_open()
        return latest_snapshot_file(self._snapshot_dir(), self._last_seq, self._in_gap)

    def close(self) -> None:
        """Write and fsync pending frames, then release the file and its lock."""
        if self._closed:
            return
        try:
            if not self.readonly:
                self._commit()
        finally:
            self._closed = True
            self._release()

    # -- internals ---------------------------------------------------------------------------

    def _check_writable(self) -> None:
        self._check_open()
        if self.readonly:
            raise JournalError(f"{self.path} was opened read-only")

    def _snapshot_dir(self) -> Path:
        return self.path.with_name(self.path.name + ".snapshots")

    def _release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._hwm is not None:
            self._hwm.close()
            self._hwm = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _open_for_append(self, mark: int) -> None:
        created = not self.path.exists()
        if created:
            with open(self.path, "xb") as f:
                f.write(MAGIC)
                f.flush()
                os.fsync(f.fileno())
            fsync_dir(self.path.parent)
            mark = 0
        self._fh = open(self.path, "r+b", buffering=0)  # noqa: SIM115 - held until close()
        # The mark follows the data's own fsync, so it is never ahead of durable frames: it needs
        # no fsync of its own.
        self._hwm = HighWaterMark(hwm_path(self.path), durable=False, reset=created)
        report = self._with_losses(self._scan(), mark)
        if report.discarded_bytes:
            report = self._set_aside_tail(report)
        if report.damaged:
            self._hwm.mark(report.highest_seq)  # the loss stays known once the tail is gone
        if self._end < len(MAGIC):  # empty, or the header itself was torn: start over
            self._fh.seek(0)
            self._fh.write(MAGIC)
            self._fh.truncate(len(MAGIC))
            os.fsync(self._fh.fileno())
            self._end = len(MAGIC)
        self.recovery = report
        self._fh.seek(self._end)

    def _scan(self) -> RecoveryReport:
        with open(self.path, "rb", buffering=READ_BUFFER) as f:
            size = os.fstat(f.fileno()).st_size
            scan = FrameScanner(f, size)
            report = scan.run()
        self._firsts, self._offsets, self._end = scan.firsts, scan.offsets, scan.end
        self._gaps = scan.gaps
        return report

    def _with_losses(self, report: RecoveryReport, mark: int) -> RecoveryReport:
        """Add what is lost: seqs up to the mark, and any frame after a bad one."""
        last = report.last_seq
        highest = max(last, mark, report.highest_seq)
        if highest == last:
            return msgspec.structs.replace(report, highest_seq=last)
        reason, detail, kept_at = report.reason, report.detail, report.kept_at
        if not reason:
            reason = "TRUNCATED"
            detail = f"seq {mark} was flushed but the journal ends at seq {last}"
            kept = sorted(self.path.parent.glob(f"{self.path.name}.discarded-*"))
            kept_at = str(kept[-1]) if kept else ""
        elif mark > last:
            detail = f"{detail}; seq {mark} was flushed"
        return msgspec.structs.replace(
            report,
            reason=reason,
            detail=detail,
            kept_at=kept_at,
            lost_from_seq=last + 1,
            lost_to_seq=highest,
            lost_events=highest - last,
            lost_chunks=report.discarded_records,
            highest_seq=highest,
        )

    def _set_aside_tail(self, report: RecoveryReport) -> RecoveryReport:
        assert self._fh is not None
        self._fh.seek(self._end)
        tail = self._fh.read()
        kept = self.path.with_name(f"{self.path.name}.discarded-{self._end}-{time.time_ns()}")
        kept.write_bytes(tail)
        self._fh.truncate(self._end)
        os.fsync(self._fh.fileno())
        fsync_dir(self.path.parent)
        return msgspec.structs.replace(report, kept_at=str(kept))

    def _commit(self) -> None:
        if self._buf:
            assert self._fh is not None
            view = memoryview(self._buf)
            try:
                written = 0
                while written < len(view):
                    written += self._fh.write(view[written:]) or 0
            except OSError as exc:
                self._fh.truncate(self._end)  # best effort: never leave a half frame behind
                self._fh.seek(self._end)
                raise JournalError(f"cannot write journal file {self.path}: {exc}") from exc
            finally:
                view.release()
            self._end += len(self._buf)
            self._buf = bytearray()
            self._unsynced = True
        if self._fsync and self._unsynced:
            assert self._fh is not None
            os.fdatasync(self._fh.fileno())
            self._unsynced = False
        self._flushed_seq = self._last_seq
        self._pending_events = []
        self._pending_count = 0
        if self._hwm is not None:
            self._hwm.mark(self._flushed_seq)

    def _read_frames(self, from_seq: int) -> Iterator[list[Event]]:
        index = max(bisect_right(self._firsts, from_seq) - 1, 0)
        if index < len(self._offsets):
            yield from read_frames(self.path, self._offsets[index], lambda: self._end)
