"""``algo_slice_us``: one TWAP slice's tick, decision and child on the built-in exchange,
registered in atlas bench (no timing assertion: the figure is reported, not tested)."""

from __future__ import annotations

import json

import pytest

from atlas_oms.benchmarks import KEYS, TARGETS
from atlas_oms.cli import main


def test_algo_slice_is_an_atlas_bench_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert {"algo_slice_us", "algo_slice_p50_us"} <= set(KEYS) <= set(TARGETS)
    assert main(["bench", "--quick", "--only", "algo_slice_us,algo_slice_p50_us"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["algo_slice_us"] > 0 and result["algo_slice_p50_us"] > 0
    assert result["n"]["algo_slices"] == 3 * 99 and result["n"]["algo_parents"] == 3
