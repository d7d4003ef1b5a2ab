"""``route_decision_us``: one router decision on 5 venues x 10 levels, registered in atlas bench."""

from __future__ import annotations

import json

import pytest

from atlas_oms.benchmarks import KEYS, TARGETS
from atlas_oms.benchmarks.route import bench_route_decision
from atlas_oms.cli import main


def test_route_decision_runs_at_its_quick_size() -> None:
    out = bench_route_decision(quick=True)
    assert out["route_decision_us"] > 0 and out["route_decision_p50_us"] > 0
    assert out["route_decision_children"] == 5
    assert out["n"]["route_decision_venues"] == 5 and out["n"]["route_decision_levels"] == 10


def test_route_decision_is_an_atlas_bench_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert "route_decision_us" in KEYS and TARGETS["route_decision_us"] == ("max", 200)
    assert "route_decision_p50_us" in KEYS
    assert main(["bench", "--quick", "--only", "route_decision_us"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["route_decision_us"] > 0
