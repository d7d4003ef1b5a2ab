"""open_journal: one settings string picks the journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_oms.store import FileJournal, JournalError, MemoryJournal, SqliteJournal, open_journal


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("memory", MemoryJournal),
        ("sqlite:{dir}/a", SqliteJournal),
        ("sqlite://{dir}/b", SqliteJournal),
        ("{dir}/c.db", SqliteJournal),
        ("{dir}/d.sqlite", SqliteJournal),
        ("{dir}/no-suffix", SqliteJournal),
        ("file:{dir}/e", FileJournal),
        ("{dir}/f.journal", FileJournal),
    ],
)
def test_the_target_names_the_journal(tmp_path: Path, target: str, kind: type) -> None:
    with open_journal(target.format(dir=tmp_path)) as journal:
        assert type(journal) is kind


def test_a_path_object_works_and_options_reach_the_journal(tmp_path: Path) -> None:
    with open_journal(tmp_path / "g.journal", fsync=False) as journal:
        assert isinstance(journal, FileJournal)


@pytest.mark.parametrize("target", ["postgres://x", "events.txt", "sqlite:", ""])
def test_an_unknown_target_is_refused_with_the_accepted_forms(target: str) -> None:
    with pytest.raises(JournalError, match="sqlite:"):
        open_journal(target)
