"""Open a journal from a settings string: ``memory``, ``sqlite:PATH``, ``file:PATH`` or a path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from atlas_oms.store.base import Journal, JournalError
from atlas_oms.store.file import FileJournal
from atlas_oms.store.memory import MemoryJournal
from atlas_oms.store.sqlite import SqliteJournal

__all__ = ["open_journal"]

_SQLITE_SUFFIXES = frozenset({".db", ".sqlite", ".sqlite3"})
_FILE_SUFFIXES = frozenset({".journal"})


def open_journal(target: str | os.PathLike[str], **options: Any) -> Journal:
    """Open the journal ``target`` names; ``options`` go to the journal's constructor.

    ``"memory"`` gives a :class:`MemoryJournal`; ``"sqlite:PATH"`` (or ``sqlite:///abs/path``) and
    paths ending in ``.db``, ``.sqlite`` or ``.sqlite3`` or in no suffix at all (SQLite is the
    embedded default) a :class:`SqliteJournal`; ``"file:PATH"`` and paths ending in ``.journal``
    a :class:`FileJournal`. Any other suffix is refused, so a typo cannot create a stray journal.
    """
    text = os.fspath(target)
    scheme, sep, rest = text.partition(":")
    if text in {"memory", "memory:"}:
        if options:
            raise JournalError(f"the memory journal takes no options, got {sorted(options)}")
        return MemoryJournal()
    if sep and scheme in {"sqlite", "file"}:
        path = rest[2:] if rest.startswith("//") else rest
        if not path:
            raise JournalError(f"{text!r} names no path: write {scheme}:PATH")
        return (SqliteJournal if scheme == "sqlite" else FileJournal)(path, **options)
    if sep and len(scheme) > 1 and scheme.isalnum():
        raise JournalError(
            f"unknown journal scheme {scheme!r} in {text!r}: use memory, sqlite: or file:"
        )
    suffix = Path(text).suffix.lower()
    if suffix in _SQLITE_SUFFIXES or (suffix == "" and text not in {"", "."}):
        return SqliteJournal(text, **options)
    if suffix in _FILE_SUFFIXES:
        return FileJournal(text, **options)
    raise JournalError(
        f"cannot tell which journal {text!r} is: use 'memory', 'sqlite:PATH', 'file:PATH', "
        "or a path ending in .db, .sqlite or .journal (no suffix: SQLite)"
    )
