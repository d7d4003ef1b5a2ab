"""What keeps a journal honest between processes: one writer, and a memory of what was written.

:class:`WriterLock` is an exclusive, non-blocking ``flock`` on a sidecar file (``<journal>.lock``,
or a data folder's ``.lock``) that holds the holder's pid and start time. The kernel drops the
lock when its holder exits, however it exits, so a stale file never blocks anyone; a second
writable open, in this process or another, raises :class:`JournalLockedError` at once.

:class:`HighWaterMark` is a small sidecar (``<journal>.hwm``): the highest seq a journal ever
committed, with a CRC, overwritten in place (``os.pwrite``) after every commit. When a journal
opens below it, acknowledged commits were lost (a WAL or a file cut after a crash): the journal
reports ``TRUNCATED`` with the lost range instead of reissuing those seqs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import time
import zlib
from pathlib import Path

from atlas_oms.store.base import JournalLockedError

__all__ = ["HighWaterMark", "WriterLock", "hwm_path", "lock_path"]

_HWM = struct.Struct("<qI")  # seq, CRC-32 of the seq's 8 bytes


def lock_path(journal: Path) -> Path:
    """The lock sidecar of the journal at ``journal``."""
    return journal.with_name(journal.name + ".lock")


def hwm_path(journal: Path) -> Path:
    """The high-water-mark sidecar of the journal at ``journal``."""
    return journal.with_name(journal.name + ".hwm")


class WriterLock:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) until :meth:`release`.

    ``what`` names the locked thing in the refusal ("the journal x.db", "the data folder d").
    """

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder(fd)
            os.close(fd)
            held = f"pid {pid}" if pid is not None else "pid unknown"
            raise JournalLockedError(
                f"{what} is in use by another writer ({held}; one writer at a time): "
                "stop it, or send the command to the running server, and try again.",
                path=str(path),
                pid=pid,
            ) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd: int | None = fd
        stamp = f"{os.getpid()} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, stamp, 0)

    def release(self) -> None:
        """Drop the lock (closing the descriptor does); the file stays, harmless."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)


def _holder(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(os.pread(fd, 64, 0).split()[0])
    return None


def read_hwm(path: Path) -> int:
    """The seq recorded in the sidecar at ``path`` (0: none, or unreadable)."""
    try:
        data = path.read_bytes()
    except OSError:
        return 0
    if len(data) < _HWM.size:
        return 0
    seq, crc = _HWM.unpack_from(data)
    return seq if zlib.crc32(data[:8]) == crc and seq > 0 else 0


class HighWaterMark:
    """The writable sidecar: :meth:`mark` records a committed seq (fsynced when ``durable``)."""

    def __init__(self, path: Path, *, durable: bool, reset: bool = False) -> None:
        self.path = path
        self.durable = durable
        self.seq = 0 if reset else read_hwm(path)
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        if reset:
            self.mark(0, force=True)

    def mark(self, seq: int, *, force: bool = False) -> None:
        """Record ``seq`` if it is above the mark (``force``: whatever it is)."""
        if (seq <= self.seq and not force) or self._fd is None:
            return
        raw = struct.pack("<q", seq)
        os.pwrite(self._fd, _HWM.pack(seq, zlib.crc32(raw)), 0)
        if self.durable:
            os.fdatasync(self._fd)
        self.seq = seq

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
