"""``backtest_bars_per_s`` and ``backtest_bars_per_s_orders``: the workload at its quick size.

No timing is asserted: the figures exist, the idle run filled nothing, the busy one filled an
order every 10 bars, and the keys are registered with their targets."""

from __future__ import annotations

import json

import pytest

from atlas_oms.benchmarks import KEYS, TARGETS
from atlas_oms.benchmarks import backtest as bench
from atlas_oms.cli import main


def test_the_backtest_benchmark_runs_its_two_workloads_at_the_quick_size() -> None:
    out = bench.bench_backtest(quick=True)
    assert out["n"] == {"backtest_bars": bench.BARS_QUICK}
    assert out["backtest_bars_per_s"] > 0 and out["backtest_bars_per_s_orders"] > 0
    assert out["backtest_orders_filled"] == bench.BARS_QUICK // 10
    assert TARGETS["backtest_bars_per_s"] == ("min", 100_000)
    assert TARGETS["backtest_bars_per_s_orders"] == ("min", 20_000)
    assert {"backtest_bars_per_s", "backtest_bars_per_s_orders"} <= set(KEYS)


def test_atlas_bench_only_runs_the_backtest_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--only", "backtest_bars_per_s"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert isinstance(result["backtest_bars_per_s"], int)
    assert "market_orders_per_s" not in result
