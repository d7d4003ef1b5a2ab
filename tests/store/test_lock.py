"""One writer per journal: a second writable open is refused with JournalLockedError naming the
holder's pid; read-only opens never take the lock and keep working against a live writer."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from store_events import build_steps, flat

from atlas_oms.store import FileJournal, SqliteJournal
from atlas_oms.store.base import JournalError, JournalLockedError
from atlas_oms.store.guard import WriterLock

KINDS = {"sqlite": (SqliteJournal, "journal.db"), "file": (FileJournal, "journal.journal")}
STEPS = build_steps([2, 3, 1])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_second_writable_open_is_refused_with_the_holders_pid(tmp_path: Path, kind: str) -> None:
    cls, name = KINDS[kind]
    path = tmp_path / name
    with cls(path) as first:
        first.append(STEPS[0])
        first.flush()
        with pytest.raises(JournalLockedError) as refused:
            cls(path)
        assert isinstance(refused.value, JournalError)
        message = str(refused.value)
        assert str(path) in message and f"pid {os.getpid()}" in message
        assert message.count(". ") == 0 and message.endswith(".")  # one sentence
        assert refused.value.pid == os.getpid()
        first.append(STEPS[1])  # the holder is untouched and carries on
    with cls(path) as again:  # closing released the lock
        assert list(again.read()) == flat(STEPS[:2])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_readonly_open_works_while_a_writer_holds_the_journal(tmp_path: Path, kind: str) -> None:
    cls, name = KINDS[kind]
    path = tmp_path / name
    with cls(path) as writer:
        writer.append(STEPS[0])
        writer.flush()
        with cls(path, readonly=True) as reader:
            assert list(reader.read()) == flat(STEPS[:1])
            assert reader.recovery.clean
        writer.append(STEPS[1])
        writer.flush()
        with cls(path, readonly=True) as reader:
            assert reader.last_seq == STEPS[1][-1].seq


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_another_process_holding_the_journal_is_named_by_its_pid(tmp_path: Path, kind: str) -> None:
    cls, name = KINDS[kind]
    path = tmp_path / name
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys
                from atlas_oms.store import {cls.__name__}
                journal = {cls.__name__}({str(path)!r})
                print("ready", flush=True)
                sys.stdin.read()
                journal.close()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(JournalLockedError, match=f"pid {holder.pid}"):
            cls(path)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    with cls(path):  # the holder exited: free again
        pass


def test_a_folder_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / ".lock", f"the data folder {tmp_path}")
    with pytest.raises(JournalLockedError, match="data folder"):
        WriterLock(tmp_path / ".lock", f"the data folder {tmp_path}")
    lock.release()
    WriterLock(tmp_path / ".lock", "the data folder").release()
