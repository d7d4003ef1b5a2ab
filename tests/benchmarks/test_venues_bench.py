"""``atlas bench --quick --only venue_submit_overhead_us,venue_orders_per_s``: the venue benchmarks
run against the fake Binance in a child process and print their figures. No timing is asserted:
only the JSON's shape, that every order was answered by the venue, and that figures are positive."""

from __future__ import annotations

import json

import pytest

from atlas_oms.benchmarks import venues
from atlas_oms.cli import main


def test_quick_venue_benches_print_their_figures(capsys: pytest.CaptureFixture[str]) -> None:
    only = "venue_submit_overhead_us,venue_orders_per_s"
    assert main(["bench", "--quick", "--only", only]) == 0
    result = json.loads(capsys.readouterr().out)
    # The overhead: both paths sampled, p50 <= p99, the key is the worse p99.
    assert 0 < result["venue_submit_p50_us"] <= result["venue_submit_p99_us"]
    assert 0 < result["venue_fact_p50_us"] <= result["venue_fact_p99_us"]
    assert result["venue_submit_overhead_us"] == max(
        result["venue_submit_p99_us"], result["venue_fact_p99_us"]
    )
    parts = result["venue_submit_parts_us"]
    assert parts["of_which_record_before_send_commit"]["count"] == venues.N_LATENCY_QUICK
    assert parts["process_submit"]["p50_us"] > 0 and parts["to_ccxt"]["p50_us"] > 0
    assert result["venue_group_commit_us"]["count"] > 0
    assert "venue_submit_overhead_us" in result["targets"]
    # Throughput: every order of the run answered by the fake (IOC: all expired), both sides
    # measured, and a bound named.
    n = result["n"]
    assert n["venue_overhead_samples"] == venues.N_LATENCY_QUICK
    assert n["venue_overhead_facts"] >= 2 * venues.N_LATENCY_QUICK  # NEW and EXPIRED each
    assert n["venue_accounts"] == venues.ACCOUNTS_QUICK
    assert n["venue_orders"] == venues.N_ORDERS_QUICK
    orders = venues.N_ORDERS_QUICK + venues.WARMUP_ORDERS_QUICK
    assert result["venue_orders_statuses"] == {"EXPIRED": orders}
    assert result["venue_orders_per_s"] > 0 and result["venue_fake_alone_orders_per_s"] > 0
    assert result["venue_fake_alone"]["statuses"] == {"200": orders}
    assert result["venue_orders_bound_by"] in ("atlas", "fake")
    assert result["venue_orders_notes"]
