"""The file journal's on-disk formats: CRC-framed chunks and snapshot files.

A journal file is the 8-byte magic ``ATLASJ1\\n``, then one frame per ``append`` call::

    u32 payload length | i64 first seq | u32 event count | payload (msgpack array) | u32 CRC-32

(little-endian; the CRC covers the 16-byte header and the payload). A snapshot file is the magic
``ATLASS1\\n``, the CRC-32 of the state, then the state.
"""

from __future__ import annotations

import os
import struct
import zlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from atlas_oms.model.events import Event, EventBase
from atlas_oms.store.base import JournalCorruptError, JournalError, RecoveryReport, bridges
from atlas_oms.store.codec import decode_events, encode_events

__all__ = [
    "MAGIC",
    "FrameScanner",
    "append_frame",
    "fsync_dir",
    "latest_snapshot_file",
    "read_frames",
    "write_snapshot_file",
]

#: The first bytes of every journal file.
MAGIC = b"ATLASJ1\n"
SNAP_MAGIC = b"ATLASS1\n"
HEAD = struct.Struct("<IqI")
CRC = struct.Struct("<I")
FRAME_OVERHEAD = HEAD.size + CRC.size
MAX_PAYLOAD = 1 << 30
READ_BUFFER = 1 << 20


def append_frame(buffer: bytearray, events: Sequence[EventBase]) -> None:
    """Append one frame holding ``events`` (non-empty, consecutive seqs) to ``buffer``."""
    payload = encode_events(events)
    head = HEAD.pack(len(payload), events[0].seq, len(events))
    buffer += head
    buffer += payload
    buffer += CRC.pack(zlib.crc32(payload, zlib.crc32(head)))


def read_frames(path: Path, offset: int, end: Callable[[], int]) -> Iterator[list[Event]]:
    """Yield the events of each frame from ``offset`` while it is below ``end()``, checked."""
    with open(path, "rb", buffering=READ_BUFFER) as f:
        f.seek(offset)
        while offset < end():
            head = f.read(HEAD.size)
            length, first_seq, count = HEAD.unpack(head)
            body = f.read(length + CRC.size)
            if len(body) != length + CRC.size:
                raise JournalCorruptError(f"{path}: frame at {offset} is cut short")
            payload = memoryview(body)[:length]
            if CRC.unpack_from(body, length)[0] != zlib.crc32(payload, zlib.crc32(head)):
                raise JournalCorruptError(f"{path}: frame at {offset} fails its CRC")
            events = decode_events(payload)
            if len(events) != count or events[0].seq != first_seq:
                raise JournalCorruptError(f"{path}: frame at {offset} holds other seqs")
            yield events
            offset += FRAME_OVERHEAD + length


class FrameScanner:
    """Walk a journal file's frames, checking each, up to the first bad one.

    After :meth:`run`, ``end`` is the offset just past the last good frame, ``firsts`` /
    ``offsets`` index the good frames by first seq and ``gaps`` lists the lost ranges that a
    ``JournalRepaired`` bridges. A report's ``highest_seq`` is the highest seq of the complete
    frames after the first bad one (a frame written after one that is gone).
    """

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f, self.size = f, size
        self.firsts, self.offsets = array("q"), array("q")
        self.gaps: list[tuple[int, int]] = []
        self.end = 0

    def run(self) -> RecoveryReport:
        """Scan from the start of the file; return what is good and what is not."""
        magic = self.f.read(len(MAGIC))
        if not magic:
            return RecoveryReport()
        if magic != MAGIC:
            if len(magic) < len(MAGIC) and MAGIC.startswith(magic):
                return self._report(0, 0, "TORN_TAIL", "the file header is incomplete")
            raise JournalError(f"{getattr(self.f, 'name', '?')} is not an Atlas journal file")
        pos = self.end = len(MAGIC)
        last = events = 0
        while pos < self.size:
            head = self.f.read(HEAD.size)
            if len(head) < HEAD.size:
                return self._report(last, events, "TORN_TAIL", f"frame at {pos} is incomplete")
            length, first_seq, count = HEAD.unpack(head)
            if length > MAX_PAYLOAD or count == 0:
                return self._report(last, events, "BAD_FRAME", f"frame at {pos} has a bad header")
            body = self.f.read(length + CRC.size)
            if len(body) < length + CRC.size:
                return self._report(last, events, "TORN_TAIL", f"frame at {pos} is incomplete")
            crc = zlib.crc32(memoryview(body)[:length], zlib.crc32(head))
            if CRC.unpack_from(body, length)[0] != crc:
                return self._report(last, events, "CRC_MISMATCH", f"frame at {pos} fails its CRC")
            if first_seq != last + 1:
                if not _bridging(last, first_seq, memoryview(body)[:length]):
                    detail = f"frame at {pos} starts at seq {first_seq} after seq {last}"
                    return self._report(last, events, "SEQUENCE_GAP", detail)
                self.gaps.append((last + 1, first_seq - 1))
            self.firsts.append(first_seq)
            self.offsets.append(pos)
            last = first_seq + count - 1
            events += count
            pos = self.end = pos + FRAME_OVERHEAD + length
        return RecoveryReport(events_recovered=events, last_seq=last)

    def _report(self, last: int, events: int, reason: str, detail: str) -> RecoveryReport:
        count, top = self._count_frames_from(self.end, include_first=reason == "SEQUENCE_GAP")
        return RecoveryReport(
            events_recovered=events,
            last_seq=last,
            discarded_bytes=self.size - self.end,
            discarded_records=count,
            reason=reason,
            detail=detail,
            highest_seq=max(last, top),
        )

    def _count_frames_from(self, pos: int, *, include_first: bool) -> tuple[int, int]:
        """Count the frames left from ``pos`` by their lengths alone (best effort), and the
        highest seq their headers name among the complete ones after the first (the first too
        when ``include_first``: a whole frame in the wrong place, not a torn one)."""
        if pos < len(MAGIC):
            return (1 if self.size else 0), 0
        count = top = 0
        self.f.seek(pos)
        while pos < self.size:
            count += 1
            head = self.f.read(HEAD.size)
            if len(head) < HEAD.size:
                break
            length, first_seq, n = HEAD.unpack(head)
            pos += FRAME_OVERHEAD + length
            if (
                (count > 1 or include_first)
                and pos <= self.size
                and n > 0
                and length <= MAX_PAYLOAD
            ):
                top = max(top, first_seq + n - 1)
            self.f.seek(pos)
        return count, top


def _bridging(last: int, first_seq: int, payload: memoryview) -> bool:
    """Whether a frame starting at ``first_seq`` after ``last`` opens with the repair bridging
    that gap."""
    try:
        first = decode_events(payload)[0]
    except Exception:
        return False
    return first.seq == first_seq and bridges(last + 1, first)


def write_snapshot_file(folder: Path, seq: int, state: bytes) -> None:
    """Write ``state`` as of ``seq`` into ``folder`` atomically (temp file, fsync, rename)."""
    folder.mkdir(exist_ok=True)
    target = folder / f"{seq:020d}.snap"
    temp = target.with_suffix(".tmp")
    with open(temp, "wb") as f:
        f.write(SNAP_MAGIC + CRC.pack(zlib.crc32(state)) + state)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, target)
    fsync_dir(folder)


def latest_snapshot_file(
    folder: Path, max_seq: int, skip: Callable[[int], bool] = lambda _seq: False
) -> tuple[int, bytes] | None:
    """Return the intact snapshot in ``folder`` with the highest seq up to ``max_seq`` (not one
    whose seq ``skip`` names)."""
    if not folder.is_dir():
        return None
    head = len(SNAP_MAGIC) + CRC.size
    for name in sorted((p.name for p in folder.glob("*.snap")), reverse=True):
        seq = int(name.removesuffix(".snap"))
        if seq > max_seq or skip(seq):
            continue
        data = (folder / name).read_bytes()
        if len(data) < head or data[: len(SNAP_MAGIC)] != SNAP_MAGIC:
            continue
        if CRC.unpack_from(data, len(SNAP_MAGIC))[0] == zlib.crc32(memoryview(data)[head:]):
            return seq, data[head:]
    return None


def fsync_dir(folder: Path) -> None:
    """Make a directory's entries (a new or renamed file) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
