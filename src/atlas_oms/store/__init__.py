"""Journals and snapshots (memory, SQLite, file), JSON Lines exports of events, audit trails.

The runtime appends each engine step's events here before acting on them, and rebuilds state
from the latest snapshot plus the events after it. The core never imports this package.
"""

from atlas_oms.store.audit import AuditRecord, audit_trail, write_audit
from atlas_oms.store.base import (
    Journal,
    JournalClosedError,
    JournalCorruptError,
    JournalError,
    RecoveryReport,
    SequenceGapError,
)
from atlas_oms.store.exports import read_jsonl, write_jsonl
from atlas_oms.store.file import FileJournal
from atlas_oms.store.memory import MemoryJournal
from atlas_oms.store.opener import open_journal
from atlas_oms.store.sqlite import SqliteJournal

__all__ = [
    "AuditRecord",
    "FileJournal",
    "Journal",
    "JournalClosedError",
    "JournalCorruptError",
    "JournalError",
    "MemoryJournal",
    "RecoveryReport",
    "SequenceGapError",
    "SqliteJournal",
    "audit_trail",
    "open_journal",
    "read_jsonl",
    "write_audit",
    "write_jsonl",
]
