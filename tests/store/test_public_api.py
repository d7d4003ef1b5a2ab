"""The store's public API, pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import atlas_oms.store as store


def test_public_api_is_pinned() -> None:
    assert sorted(store.__all__) == [
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
    assert all(hasattr(store, name) for name in store.__all__)


def test_every_journal_error_derives_from_journal_error() -> None:
    for name in ("SequenceGapError", "JournalCorruptError", "JournalClosedError"):
        assert issubclass(getattr(store, name), store.JournalError)
