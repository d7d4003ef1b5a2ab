"""The ``atlas`` command: the demo tells its story, and its journal replays to the same digest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from atlas_oms.cli import main
from atlas_oms.tables import fmt, render

DIGEST = re.compile(r"digest: ([0-9a-f]{64})")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Run the demo once for the module; return its journal path and its output."""
    path = tmp_path_factory.mktemp("demo") / "sub" / "demo.db"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "--journal", str(path)])
    assert code == 0
    return path, out.getvalue()


def test_demo_prints_the_blotter_fills_positions_and_balances(demo_run: tuple[Path, str]) -> None:
    path, text = demo_run
    for heading in ("== Blotter", "== Fills", "== Positions", "== Balances"):
        assert heading in text
    for reason in (
        "PRICE_NOT_ON_TICK",
        "INSUFFICIENT_BALANCE",
        "POST_ONLY_WOULD_TAKE",
        "FOK_NOT_FILLABLE",
        "IOC_REMAINDER",
        "ORDER_NOT_LIVE",
    ):
        assert reason in text, reason
    assert "TRAILING_STOP_MARKET" in text and "STOP_LIMIT" in text
    assert f"replay it: atlas replay {path}" in text
    assert "E-" not in text and "E+" not in text  # Decimals printed without exponents


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


def test_demo_starts_fresh_over_an_existing_journal(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    import contextlib
    import io

    digests = []
    for _ in range(2):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["demo", "--journal", str(path)]) == 0
        digests.append(DIGEST.findall(out.getvalue())[-1])
    assert digests[0] == digests[1]


def test_replay_of_a_missing_journal_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "nope.db")]) == 2
    assert "no journal" in capsys.readouterr().err


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith("atlas-oms ")


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_fmt_prints_decimals_without_exponent_noise() -> None:
    from decimal import Decimal

    assert fmt(Decimal("0E-8")) == "0"
    assert fmt(Decimal("-0.00")) == "0"
    assert fmt(Decimal("1.50000")) == "1.5"
    assert fmt(Decimal("1E+2")) == "100"
    assert fmt(Decimal("64003.33333333333333"), 2) == "64003.33"
    assert fmt(None) == "-"


def test_render_right_aligns_numeric_columns() -> None:
    text = render(["name", "qty"], [["a", "1"], ["bb", "10.5"]])
    lines = text.splitlines()
    assert lines[0] == "  name   qty"
    assert lines[2] == "  a        1"
    assert lines[3] == "  bb    10.5"
