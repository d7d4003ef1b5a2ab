"""``account_switch_ns``: choosing an account with budget among 200, registered in atlas bench."""

from __future__ import annotations

import json

import pytest

from atlas_oms.benchmarks import KEYS, TARGETS
from atlas_oms.benchmarks.spread import bench_account_switch
from atlas_oms.cli import main


def test_account_switch_runs_at_its_quick_size() -> None:
    out = bench_account_switch(quick=True)
    assert 0 < out["account_switch_ns"] < 100_000
    assert out["n"]["account_switch_accounts"] == 200


def test_account_switch_is_an_atlas_bench_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert "account_switch_ns" in KEYS and TARGETS["account_switch_ns"] == ("max", 1_000)
    assert main(["bench", "--quick", "--only", "account_switch_ns"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert isinstance(result["account_switch_ns"], int)
