"""Recovery through ``runtime/snapshots.py``, the one path the node and ``atlas replay`` share:
a snapshot Atlas wrote is used; one it cannot read (an older Atlas's pickle, another schema,
bytes that do not decode) costs a full replay, never correctness, and the recovery says why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from atlas_oms.cli.replay import replay
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.snapshots import MAGIC
from atlas_oms.store.opener import open_journal

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_v1"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())


def _copy(tmp_path: Path) -> str:
    path = tmp_path / "journal.db"
    shutil.copy(FIXTURE / "journal.db", path)
    return str(path)


def test_an_older_atlass_pickled_snapshot_is_skipped_with_a_reason(tmp_path: Path) -> None:
    with Node.open(_copy(tmp_path), clock=ManualClock(0)) as node:
        assert node.digest() == EXPECTED["digest"]
        assert node.recovery.snapshot_seq == 0
        assert node.recovery.events_replayed == EXPECTED["last_seq"]
        note = node.recovery.snapshot_note
        assert "seq 112" in note and "pickle" in note and "replayed from seq 1" in note


def test_a_snapshot_written_now_is_used_on_the_next_start(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with Node.open(path, clock=ManualClock(0)) as node:
        seq = node.snapshot()
    with Node.open(path, clock=ManualClock(0)) as again:
        assert again.recovery.snapshot_seq == seq == EXPECTED["last_seq"]
        assert again.recovery.events_replayed == 0 and again.recovery.snapshot_note == ""
        assert again.digest() == EXPECTED["digest"]
    full = replay(path, full=True)
    assert full["digest"] == EXPECTED["digest"] and full["snapshot_seq"] == 0


def test_a_snapshot_that_does_not_decode_costs_a_full_replay_and_says_so(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with open_journal(path) as journal:  # intact as stored (its CRC holds), but not a state
        journal.save_snapshot(journal.last_seq, MAGIC + b"\x93not a state")
    result = replay(path)
    assert result["digest"] == EXPECTED["digest"]
    assert result["snapshot_seq"] == 0 and result["events_replayed"] == EXPECTED["last_seq"]
    note = result["snapshot_note"]
    assert f"seq {EXPECTED['last_seq']}" in note and "does not decode" in note
