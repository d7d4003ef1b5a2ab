"""``atlas replay``: the demo's journal replays to the digest the demo printed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from atlas_oms import ManualClock
from atlas_oms.cli import main
from atlas_oms.cli.replay import replay

DIGEST = re.compile(r"digest: ([0-9a-f]{64})")


def test_demo_journal_replays_to_the_printed_digest(
    demo_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, text = demo_run
    printed = DIGEST.findall(text)[-1]
    assert main(["replay", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["digest"] == printed
    assert result["recovery"]["clean"] is True
    assert result["last_seq"] == result["recovery"]["last_seq"]


def test_full_replay_ignoring_snapshots_gives_the_same_digest(
    demo_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo_run
    assert main(["replay", str(path), "--json"]) == 0
    from_snapshot = json.loads(capsys.readouterr().out)
    assert main(["replay", str(path), "--json", "--full"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["snapshot_seq"] == 0
    assert full["events_replayed"] == full["last_seq"]
    assert from_snapshot["snapshot_seq"] > 0
    assert from_snapshot["events_replayed"] == full["last_seq"] - from_snapshot["snapshot_seq"]
    assert full["digest"] == from_snapshot["digest"]


def test_replay_prints_a_readable_report(
    demo_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, text = demo_run
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert "events replayed:" in out and "recovery:        clean" in out
    assert DIGEST.findall(out)[-1] == DIGEST.findall(text)[-1]


def test_replay_is_timed_on_the_injected_clock(
    demo_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo_run
    assert main(["replay", str(path)], clock=ManualClock(5)) == 0
    assert "elapsed:         0.0 ms (0 events/s)" in capsys.readouterr().out
    assert replay(str(path), stopwatch=ManualClock(5))["elapsed_s"] == 0


def test_replay_of_a_missing_journal_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "nope.db")]) == 2
    assert "no journal" in capsys.readouterr().err
