"""Reads that replay the journal (audit trails, account histories), kept off the event loop.

A read waits until the journal holds everything processed so far (what it may show), then, when
the journal is a SQLite file, replays it on a read-only connection in a worker thread: a long
journal does not stall the node, and the writer (the committer) is never touched from a request.
A journal in memory is read in place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import TypeVar

from atlas_oms.model.events import Event
from atlas_oms.service.app import Service
from atlas_oms.store.sqlite import SqliteJournal

__all__ = ["read_committed"]

T = TypeVar("T")


async def read_committed(service: Service, read: Callable[[Iterator[Event]], T]) -> T:
    """``read(events)`` over the committed journal, from its first event."""
    await service.durable()
    journal = service.node.journal
    if not isinstance(journal, SqliteJournal):
        return read(journal.read())
    path = journal.path

    def replay() -> T:
        with SqliteJournal(path, readonly=True) as committed:
            return read(committed.read())

    return await asyncio.to_thread(replay)
