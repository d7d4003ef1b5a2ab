"""``policy_bar_close_1k_trades_ms`` (seed 001 §10): the benchmark's workload at its quick size.

No timing is asserted; what is asserted is that every bar close moved every trade's stop (the
benchmark refuses otherwise) and that the key is registered with its target."""

from __future__ import annotations

from atlas_oms.benchmarks import KEYS, TARGETS, policy


def test_the_bar_close_benchmark_moves_every_trailing_stop_at_its_quick_size() -> None:
    out = policy.bench_bar_close(quick=True)
    assert out["n"] == {
        "policy_trailing_trades": policy.N_TRADES_QUICK,
        "policy_bar_closes": policy.BARS_QUICK,
    }
    figure = out["policy_bar_close_1k_trades_ms"]
    assert isinstance(figure, float) and figure > 0
    assert "policy_bar_close_1k_trades_ms" in KEYS
    assert TARGETS["policy_bar_close_1k_trades_ms"] == ("max", 20)
