"""``atlas bench --quick`` runs every benchmark on tiny sizes and prints one JSON object.

No timing is asserted: speed is reported by ``atlas bench``, not tested.
"""

from __future__ import annotations

import json

import pytest

from atlas_oms.benchmarks import KEYS
from atlas_oms.benchmarks.memory import CountingJournal
from atlas_oms.cli import main
from atlas_oms.store.base import Journal


def test_quick_bench_prints_one_json_object_with_every_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--quick"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    for key in KEYS:
        assert isinstance(result[key], int | float), key
        # A slowdown is a difference of two timings: on tiny sizes it may come out at or below 0.
        assert result[key] > 0 or key == "market_risk_slowdown_pct", key
        assert key in result["targets"]
    assert result["python"]
    assert all(isinstance(v, int) and v > 0 for v in result["n"].values())
    assert "[atlas bench]" in captured.err  # progress goes to stderr, not into the JSON


def test_only_runs_the_named_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--only", "submit_p50_us"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "submit_p50_us" in result and "market_orders_per_s" not in result


def test_unknown_key_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--only", "nope"]) == 2
    assert "unknown benchmark key" in capsys.readouterr().err


def test_counting_journal_satisfies_the_journal_protocol() -> None:
    journal = CountingJournal()
    assert isinstance(journal, Journal)
    assert journal.last_seq == 0 and list(journal.read_batches()) == []


def test_quick_risk_bench_reports_its_figures_and_sizes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    only = "risk_check_p50_us,risk_check_p99_us,market_orders_risk_per_s,market_risk_slowdown_pct"
    assert main(["bench", "--quick", "--only", only]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0 < result["risk_check_p50_us"] <= result["risk_check_p99_us"]
    assert 0 < result["risk_submit_p50_us"] <= result["risk_submit_p99_us"]
    assert result["market_orders_risk_per_s"] > 0 and result["market_orders_plain_per_s"] > 0
    plain, risk = result["market_orders_plain_per_s"], result["market_orders_risk_per_s"]
    assert abs(result["market_risk_slowdown_pct"] - 100 * (1 - risk / plain)) < 0.5
    n = result["n"]
    # Every account holds a position in every instrument; the book is what was asked for.
    assert n["risk_open_positions"] == n["risk_accounts"] * n["risk_instruments"] > 0
    assert n["risk_open_orders"] > 0 and n["risk_check_samples"] > 0
    assert n["market_risk_orders"] > 0
    assert "submit_p50_us" not in result  # only the risk keys ran


def test_quick_derivatives_bench_reports_its_figures_and_sizes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(["bench", "--quick", "--only", "mark_update_10k_positions_us,liquidations_per_s"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert 0 < result["mark_update_10k_positions_us"] <= result["mark_update_10k_positions_p99_us"]
    # No liquidation price lies inside the band the marks move in (+-0.5%).
    assert result["mark_update_nearest_liquidation_pct"] > 0.5
    assert result["liquidations_per_s"] > 0
    # Every stage of the cascade ran, every long was liquidated, and no money was made or lost.
    steps = result["liquidation_steps"]
    assert steps["BOOK"] > 0 and steps["FUND"] > 0 and steps["ADL"] > 0
    n = result["n"]
    assert sum(result["liquidation_cascade_per_message"]) == n["liquidation_longs"] > 0
    assert result["liquidation_conservation"] == "exact"
    # One position per sub-account, 50 sub-accounts per master account.
    assert n["mark_update_positions"] == 50 * n["mark_update_master_accounts"] > 0
    assert (
        n["mark_update_accounts"] == n["mark_update_positions"] + n["mark_update_master_accounts"]
    )
    assert "submit_p50_us" not in result


def test_quick_http_bench_reports_its_figures_and_sizes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--quick", "--only", "http_orders_per_s,http_submit_p99_ms"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["http_orders_per_s"] > 0
    assert 0 < result["http_submit_p50_ms"] <= result["http_submit_p99_ms"]
    assert result["http_submit_p99_ms"] <= result["http_submit_max_ms"]
    n = result["n"]
    # Every order in the window was answered 201 (resting or crossing), none refused.
    assert result["http_statuses"] == {"201": n["http_orders"]} and n["http_orders"] > 0
    assert n["http_clients"] > 0 and n["http_duration_ms"] > 0
    assert n["http_httpx_orders"] > 0 and result["http_httpx_client"]["orders_per_s"] > 0
    assert "submit_p50_us" not in result


def test_quick_fanout_bench_every_client_gets_every_event(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--quick", "--only", "ws_fanout_clients"]) == 0
    result = json.loads(capsys.readouterr().out)
    n = result["n"]
    # Every client got the journal's events for the desk's tree, in order, none missing or twice.
    assert result["ws_fanout_clients"] == n["ws_fanout_clients"] > 0
    assert result["ws_fanout_events_per_client"] == n["ws_fanout_events"] > n["ws_fanout_orders"]
    assert result["ws_fanout_messages"] == n["ws_fanout_clients"] * n["ws_fanout_events"]
    assert result["ws_fanout_missing"] == result["ws_fanout_duplicates"] == 0
    assert result["ws_fanout_errors"] == [] and not result["ws_fanout_timed_out"]
    assert result["ws_fanout_messages_per_s"] > 0
    assert "http_orders_per_s" not in result


def test_quick_fanout_bench_slow_clients_resume_without_gap(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A queue of two messages per connection: the server closes clients as too slow (4408) over
    # and over, and each resumes with since_seq; every one must still end with every event.
    monkeypatch.setenv("ATLAS_WS_QUEUE_SIZE", "2")
    assert main(["bench", "--quick", "--only", "ws_fanout_clients"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ws_fanout_resumes"] > 0 and result["ws_fanout_clients_resumed"] > 0
    assert result["ws_fanout_clients"] == result["n"]["ws_fanout_clients"]
    assert result["ws_fanout_missing"] == result["ws_fanout_duplicates"] == 0
