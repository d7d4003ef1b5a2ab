"""The embedded default journal: SQLite in WAL mode, one row per appended step, group commits.

A row (a *chunk*) holds one ``append`` call: its seq range, the first event's ``ts_event``, the
msgpack array of its events and a CRC-32 of that payload. Appends are buffered and committed in
one transaction when ``batch_events`` are pending, when the oldest pending chunk is ``batch_ms``
old (checked on append), and on ``flush``/``close``/``save_snapshot``.

Durability: ``synchronous=NORMAL`` makes a commit survive a crash of the process at once, and a
power loss from the next WAL checkpoint on; pass ``synchronous="FULL"`` to fsync every commit.
On open every chunk is checked (CRC, seq continuity from 1); everything from the first bad chunk
on is moved to the ``quarantine`` table and reported in ``recovery``.

One writer: a writable open holds ``<path>.lock`` (:class:`~atlas_oms.store.guard.WriterLock`)
until closed; a second one raises :class:`JournalLockedError`, read-only opens take no lock.
Nothing is forgotten: after every commit the highest committed seq goes to ``<path>.hwm``
(fsynced only when ``synchronous`` is FULL or EXTRA). A journal that ends below it (a cut WAL),
or whose quarantine holds seqs above its end, is *damaged* (``recovery.damaged``, with the lost
range) on every open until a ``JournalRepaired`` event bridges the lost range: until then the
journal accepts no other append.
"""

from __future__ import annotations

import os
import sqlite3
import time
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from atlas_oms.model.events import Event, EventBase
from atlas_oms.store.base import (
    JournalBase,
    JournalCorruptError,
    JournalError,
    RecoveryReport,
    bridges,
    split_runs,
    tail_from,
)
from atlas_oms.store.codec import decode_events, encode_events
from atlas_oms.store.guard import HighWaterMark, WriterLock, hwm_path, lock_path, read_hwm

__all__ = ["SCHEMA_VERSION", "SqliteJournal"]

#: ``PRAGMA user_version`` of the schema below.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE chunks (
    first_seq INTEGER PRIMARY KEY,
    last_seq  INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    crc       INTEGER NOT NULL,
    payload   BLOB    NOT NULL
);
CREATE TABLE snapshots (
    seq   INTEGER PRIMARY KEY,
    crc   INTEGER NOT NULL,
    state BLOB    NOT NULL
);
CREATE TABLE quarantine (
    first_seq INTEGER,
    last_seq  INTEGER,
    ts        INTEGER,
    crc       INTEGER,
    payload   BLOB,
    reason    TEXT NOT NULL,
    moved_ns  INTEGER NOT NULL
);
"""
_INSERT = "INSERT INTO chunks (first_seq, last_seq, ts, crc, payload) VALUES (?, ?, ?, ?, ?)"
_PAGE = 512

_Chunk = tuple[int, int, int, int, bytes]  # first_seq, last_seq, ts, crc, payload


class SqliteJournal(JournalBase):
    """Journal events into a SQLite database at ``path`` (created with its schema if missing).

    ``readonly`` opens without writing anything (no quarantine move): for audits of a journal a
    node is still writing. One thread at a time may use an instance.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        batch_events: int = 1000,
        batch_ms: float | None = 50.0,
        synchronous: str = "NORMAL",
        readonly: bool = False,
    ) -> None:
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise JournalError(
                f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}"
            )
        self.path = Path(path)
        self.readonly = readonly
        self._batch_events = max(1, batch_events)
        self._batch_ns = None if batch_ms is None else int(batch_ms * 1_000_000)
        self._pending: list[_Chunk] = []
        self._pending_events: list[list[Event]] = []
        self._pending_count = 0
        self._pending_since = 0
        self._lock: WriterLock | None = None
        self._hwm: HighWaterMark | None = None
        self._gaps = []
        if not readonly:
            self._lock = WriterLock(lock_path(self.path), f"the journal {self.path}")
        # Read the mark before the chunks: a live writer only ever moves it after a commit.
        mark = read_hwm(hwm_path(self.path))
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            if readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._db = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
            else:
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            try:
                self._ensure_schema()
                self.recovery = self._recover(mark if existed else 0)
                if not readonly:
                    durable = synchronous.upper() in {"FULL", "EXTRA"}
                    self._hwm = HighWaterMark(
                        hwm_path(self.path), durable=durable, reset=not existed
                    )
            except BaseException:
                self._db.close()
                raise
        except sqlite3.Error as exc:
            self._release()
            raise JournalError(f"cannot open SQLite journal {self.path}: {exc}") from exc
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
        """Buffer one step's events as a chunk; commit when a batch is full or old enough."""
        self._check_writable()
        if not events:
            return
        batch = self._continue(self._last_seq, events)
        # Encoding waits for the commit, where every pending step becomes one chunk: fewer,
        # larger rows cost far less per event, and a commit is all-or-nothing anyway.
        self._pending_events.append(list(batch))  # a copy: the caller may reuse its list
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
        """Commit every pending chunk in one transaction."""
        self._check_open()
        self._commit()

    def read_batches(self, from_seq: int = 1) -> Iterator[list[Event]]:
        """Yield stored chunks (the first one trimmed to ``from_seq``), then pending ones.

        Only chunks verified on open or committed since are read: a read-only journal reads
        the journal as it was when opened.
        """
        self._check_open()
        next_seq = max(from_seq, 1)
        start = self._db.execute(
            "SELECT MAX(first_seq) FROM chunks WHERE first_seq <= ?", (next_seq,)
        ).fetchone()[0]
        cursor_seq = start if start is not None else next_seq
        while True:
            rows = self._db.execute(
                "SELECT first_seq, last_seq, crc, payload FROM chunks"
                " WHERE first_seq >= ? AND first_seq <= ? ORDER BY first_seq LIMIT ?",
                (cursor_seq, self._flushed_seq, _PAGE),
            ).fetchall()
            for first_seq, last_seq, crc, payload in rows:
                events = _checked_events(first_seq, last_seq, crc, payload)
                if last_seq >= next_seq:
                    yield events if first_seq >= next_seq else events[next_seq - first_seq :]
                    next_seq = last_seq + 1
            if rows:
                cursor_seq = rows[-1][0] + 1
                continue
            pending = [chunk for chunk in self._pending_events if chunk[-1].seq >= next_seq]
            if not pending:
                return
            for events in pending:
                yield list(tail_from(events, next_seq))
                next_seq = events[-1].seq + 1
            # A flush while we yielded may have moved those steps into one chunk that starts
            # before ``next_seq``: look it up by its first seq again.
            start = self._db.execute(
                "SELECT MAX(first_seq) FROM chunks WHERE first_seq <= ?", (next_seq,)
            ).fetchone()[0]
            cursor_seq = start if start is not None else next_seq

    def save_snapshot(self, seq: int, state: bytes) -> None:
        """Commit pending chunks and the snapshot in one transaction (same seq: replaced)."""
        self._check_writable()
        self._check_snapshot_seq(seq)
        state = bytes(state)
        self._commit(
            ("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)", (seq, zlib.crc32(state), state))
        )

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """Return the intact snapshot with the highest seq up to ``last_seq`` (None if none)."""
        self._check_open()
        rows = self._db.execute(
            "SELECT seq, crc, state FROM snapshots WHERE seq <= ? ORDER BY seq DESC",
            (self._last_seq,),
        )
        for seq, crc, state in rows:
            if zlib.crc32(state) == crc and not self._in_gap(seq):
                return seq, state
        return None

    def close(self) -> None:
        """Commit pending chunks and close the database (SQLite checkpoints the WAL)."""
        if self._closed:
            return
        try:
            if not self.readonly:
                self._commit()
        finally:
            self._closed = True
            self._db.close()
            self._release()

    # -- internals ---------------------------------------------------------------------------

    def _release(self) -> None:
        if self._hwm is not None:
            self._hwm.close()
            self._hwm = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _check_writable(self) -> None:
        self._check_open()
        if self.readonly:
            raise JournalError(f"{self.path} was opened read-only")

    def _commit(self, extra: tuple[str, tuple[object, ...]] | None = None) -> None:
        if not self._pending_events and extra is None:
            return
        if self._pending_events:
            events = [event for step in self._pending_events for event in step]
            self._pending = []
            # A chunk holds consecutive seqs: a repair's bridged gap starts a new one.
            for run in split_runs(events):
                payload = encode_events(run)
                first = run[0]
                self._pending.append(
                    (first.seq, run[-1].seq, first.ts_event, zlib.crc32(payload), payload)
                )
        try:
            if extra is None and len(self._pending) == 1:
                # One statement in autocommit mode: ~20% faster than BEGIN/INSERT/COMMIT.
                self._db.execute(_INSERT, self._pending[0])
            else:
                self._db.execute("BEGIN")
                try:
                    if self._pending:
                        self._db.executemany(_INSERT, self._pending)
                    if extra is not None:
                        self._db.execute(*extra)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            self._pending = []
            raise JournalError(f"cannot commit to SQLite journal {self.path}: {exc}") from exc
        self._flushed_seq = self._last_seq
        self._pending = []
        self._pending_events = []
        self._pending_count = 0
        if self._hwm is not None:
            self._hwm.mark(self._flushed_seq)

    def _ensure_schema(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version != 0:
            raise JournalError(
                f"{self.path} has journal schema {version}; this build reads {SCHEMA_VERSION}"
            )
        if self.readonly:
            raise JournalError(f"{self.path} is not an Atlas journal (no schema)")
        self._db.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")

    def _recover(self, mark: int) -> RecoveryReport:
        last = events = 0
        bad: tuple[int, str, str] | None = None  # first_seq of the first bad chunk, code, detail
        try:
            for first_seq, last_seq, crc, payload in self._db.execute(
                "SELECT first_seq, last_seq, crc, payload FROM chunks ORDER BY first_seq"
            ):
                if not isinstance(payload, bytes) or zlib.crc32(payload) != crc:
                    bad = (
                        first_seq,
                        "CRC_MISMATCH",
                        f"chunk {first_seq}..{last_seq} fails its CRC",
                    )
                    break
                if last_seq < first_seq or (
                    first_seq != last + 1 and not _bridging(last, first_seq, payload)
                ):
                    bad = (
                        first_seq,
                        "SEQUENCE_GAP",
                        f"chunk {first_seq}..{last_seq} after seq {last}",
                    )
                    break
                if first_seq != last + 1:
                    self._gaps.append((last + 1, first_seq - 1))
                events += last_seq - first_seq + 1
                last = last_seq
        except sqlite3.DatabaseError as exc:
            bad = (last + 1, "UNREADABLE", f"reading chunks after seq {last} failed: {exc}")
        moved = size = top = 0
        code = detail = kept_at = ""
        if bad is not None:
            first_bad, code, detail = bad
            where = "WHERE first_seq >= ?"
            moved, size, top = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0), COALESCE(MAX(last_seq), 0)"
                f" FROM chunks {where}",
                (first_bad,),
            ).fetchone()
            top = max(top, first_bad)
            if not self.readonly:
                self._db.execute("BEGIN")
                self._db.execute(
                    "INSERT INTO quarantine SELECT first_seq, last_seq, ts, crc, payload, ?, ?"
                    f" FROM chunks {where}",
                    (f"{code}: {detail}", time.time_ns(), first_bad),
                )
                self._db.execute(f"DELETE FROM chunks {where}", (first_bad,))
                self._db.execute("COMMIT")
        # Chunks set aside by this open or an earlier one, above what is left: still lost.
        held, held_size, held_top, note = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0), COALESCE(MAX(last_seq), 0),"
            " MIN(reason) FROM quarantine WHERE last_seq > ?",
            (last,),
        ).fetchone()
        if held:
            kept_at = f"{self.path}#quarantine"
            if bad is None:
                code, _, text = str(note).partition(": ")
                code, detail = (code, text) if text else ("QUARANTINED", str(note))
                detail = f"set aside when opened earlier: {detail}"
        if not self.readonly and bad is not None:
            moved, size = held, held_size  # what the quarantine holds above ``last`` now
        else:
            moved, size = moved + held, size + held_size
        highest = max(last, mark, top, held_top)
        if mark > max(last, top, held_top):
            truncated = f"seq {mark} was committed but the journal ends at seq {max(last, top)}"
            code = code or "TRUNCATED"
            detail = f"{detail}; {truncated}" if detail else f"{truncated}, its WAL cut short"
        if highest == last and bad is None:
            return RecoveryReport(events_recovered=events, last_seq=last, highest_seq=last)
        return RecoveryReport(
            events_recovered=events,
            last_seq=last,
            discarded_bytes=size,
            discarded_records=moved,
            reason=code,
            detail=detail,
            kept_at=kept_at,
            lost_from_seq=last + 1 if highest > last else 0,
            lost_to_seq=highest if highest > last else 0,
            lost_events=highest - last,
            lost_chunks=moved,
            highest_seq=highest,
        )


def _bridging(last: int, first_seq: int, payload: bytes) -> bool:
    """Whether a chunk starting at ``first_seq`` after ``last`` opens with the repair bridging
    that gap."""
    try:
        first = decode_events(payload)[0]
    except Exception:
        return False
    return first.seq == first_seq and bridges(last + 1, first)


def _checked_events(first_seq: int, last_seq: int, crc: int, payload: bytes) -> list[Event]:
    if zlib.crc32(payload) != crc:
        raise JournalCorruptError(f"chunk {first_seq}..{last_seq} fails its CRC")
    events = decode_events(payload)
    if len(events) != last_seq - first_seq + 1 or events[0].seq != first_seq:
        raise JournalCorruptError(f"chunk {first_seq}..{last_seq} holds other seqs")
    return events
