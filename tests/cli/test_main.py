"""``atlas`` itself: the parser assembly, help, ``version``, and ``python -m atlas_oms.cli``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from atlas_oms.cli import build_parser, main

SRC = Path(__file__).resolve().parents[2] / "src"


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith("atlas-oms ")


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_a_group_without_its_action_prints_the_groups_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["futures"]) == 2
    out = capsys.readouterr().out
    for action in ("tiers", "leverage", "mode", "margin", "positions", "mark", "liquidations"):
        assert action in out
    assert main(["risk"]) == 2
    assert "reset-breaker" in capsys.readouterr().out
    assert main(["order"]) == 2
    assert "cancel-all" in capsys.readouterr().out


def test_every_command_is_listed_in_order() -> None:
    help_text = build_parser().format_help()
    commands = ["demo", "replay", "audit", "risk", "futures", "transfer", "kill", "order"]
    commands += ["positions", "balances", "pnl", "bench", "serve", "venues", "policy", "version"]
    where = [help_text.index(f"\n    {name}") for name in commands]
    assert where == sorted(where)


def test_python_dash_m_runs_the_command() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-m", "atlas_oms.cli", "version"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("atlas-oms ")
