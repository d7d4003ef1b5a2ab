"""``atlas policy params``: every parameter with its value, default and source, sorted by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_oms.cli import main
from atlas_oms.cli.exit_codes import EXIT_CONFIG
from atlas_oms.runtime.policy_params import PARAMETERS


def test_params_prints_every_parameter_sorted_with_its_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policy", "params"]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines() if line.strip().startswith("odin.")]
    assert [line[0] for line in lines] == sorted(spec.name for spec in PARAMETERS)
    row = next(line for line in lines if line[0] == "odin.execution.repricing-interval-ms")
    assert row[1:4] == ["5000", "5000", "default"]
    trail = next(line for line in lines if line[0] == "odin.trailing.trail-atr-factor")
    assert trail[1:4] == ["2.0", "2.0", "(Atlas)"]


def test_params_json_shows_the_files_values_and_where_they_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.properties"
    path.write_text("# mine\nodin.execution.repricing-interval-ms = 7000\n")
    assert main(["policy", "params", "--file", str(path), "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["parameters"]}
    assert len(rows) == len(PARAMETERS)
    interval = rows["odin.execution.repricing-interval-ms"]
    assert (interval["value"], interval["default"], interval["source"]) == (
        "7000",
        "5000",
        f"{path}:2",
    )
    assert interval["section_16"] is True
    cycles = rows["odin.execution.max-repricing-cycles"]
    assert (cycles["value"], cycles["source"]) == ("3", "default")


def test_params_reads_a_yaml_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("odin:\n  execution:\n    forced-close-start: 15:30\n")
    assert main(["policy", "params", "--file", str(path), "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["parameters"]}
    start = rows["odin.execution.forced-close-start"]
    assert (start["value"], start["default"], start["source"]) == ("15:30", "15:45", f"{path}:3")


def test_params_refuses_a_wrong_file_naming_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.properties"
    path.write_text("\nexecution.repricing-intervall-ms = 7000\n")
    assert main(["policy", "params", "--file", str(path)]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert f"{path}:2" in err and "execution.repricing-intervall-ms" in err
    assert "UNKNOWN_PARAMETER" in err


def test_policy_without_an_action_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy"]) == 2
    assert "params" in capsys.readouterr().out
