"""The soak benchmark: quick variant runs, archives orders and reports its keys."""

from __future__ import annotations

from atlas_oms.benchmarks import KEYS, TARGETS
from atlas_oms.benchmarks.soak import QUICK, bench_soak


def test_quick_soak_runs_and_reports_its_keys() -> None:
    out = bench_soak(True)
    assert "soak_rss_mb_per_100k_orders" in KEYS and TARGETS["soak_rss_mb_per_100k_orders"] == (
        "max",
        5,
    )
    assert isinstance(out["soak_rss_mb_per_100k_orders"], float | int)
    assert out["soak_orders_per_s"] > 0
    assert out["n"]["soak_measured_orders"] >= QUICK["measured"]
    # Orders were archived: far fewer are in memory than were sent.
    assert out["soak_orders_in_memory"] < QUICK["warmup"]
