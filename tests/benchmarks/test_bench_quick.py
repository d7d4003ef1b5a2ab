"""``atlas bench --quick`` runs every benchmark on tiny sizes and prints one JSON object.

No timing is asserted: speed is reported by ``atlas bench``, not tested. What is asserted is the
workload: each benchmark ran at the quick sizes asked for and did what it claims (every market
order filled against one resting ask, every limit order canceled, every latency sample an order
that rests, the replay rebuilt the live node from the whole journal), and the checks by which a
benchmark refuses a broken workload do fire.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from numbers import Real
from pathlib import Path
from typing import Any

import pytest

from atlas_oms.benchmarks import KEYS, core, derivatives, fanout, http, memory, risk
from atlas_oms.benchmarks.memory import CountingJournal
from atlas_oms.cli import main
from atlas_oms.model.commands import CancelOrder
from atlas_oms.model.enums import OrderStatus, OrderType, Side
from atlas_oms.runtime.node import Node
from atlas_oms.store.base import Journal
from atlas_oms.store.sqlite import SqliteJournal

#: The benchmarks' node factory as they ship it (tests below wrap it).
MAKE_NODE = core.make_node
#: Events of one market-order round: the maker's ask (submitted, accepted) and the taker's market
#: buy (submitted) with one fill on each side.
EVENTS_PER_ROUND = 5


def setup_events() -> int:
    """Events in a fresh benchmark node: the instrument, accounts, deposits and last price."""
    return MAKE_NODE().seq


def is_figure(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


# ---------------------------------------------------------------- atlas bench --quick
def test_quick_bench_prints_one_json_object_with_every_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--quick"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    for key in KEYS:
        assert is_figure(result[key]), key  # a figure, whatever its value
        assert key in result["targets"]
    assert result["python"] and result["quick"] is True
    n = result["n"]
    # Every benchmark ran at exactly its quick size.
    quick_sizes = {
        "rss_resting_orders": memory.N_RESTING_QUICK,
        "market_orders": core.N_ORDERS_QUICK,
        "limit_cancel_orders": core.N_ORDERS_QUICK,
        "durable_orders": core.N_ORDERS_QUICK,
        "submit_latency_samples": core.N_LATENCY_QUICK,
        "risk_accounts": risk.ACCOUNTS_QUICK,
        "risk_instruments": risk.SYMBOLS_QUICK,
        "risk_open_orders": risk.N_OPEN_QUICK,
        "risk_check_samples": risk.N_CHECKS_QUICK,
        "risk_submit_samples": risk.N_SUBMITS_QUICK,
        "market_risk_orders": core.N_ORDERS_QUICK,
        "market_risk_runs": risk.RUNS,
        "mark_update_master_accounts": derivatives.MASTERS_QUICK,
        "mark_update_samples": derivatives.N_MARKS_QUICK,
        "liquidation_longs": derivatives.LONGS_QUICK,
        "liquidation_shorts": derivatives.SHORTS_QUICK,
        "liquidation_crash_messages": len(derivatives.CRASH),
        "http_clients": http.CLIENTS_QUICK,
        "ws_fanout_clients": fanout.CLIENTS_QUICK,
        "ws_fanout_orders": fanout.ORDERS_QUICK,
    }
    assert {key: n[key] for key in quick_sizes} == quick_sizes
    # The replay read back the whole durable run: the set-up, then five events a round.
    assert n["replay_events"] == setup_events() + EVENTS_PER_ROUND * n["durable_orders"]
    assert n["risk_open_positions"] == n["risk_accounts"] * n["risk_instruments"]
    assert n["mark_update_positions"] == derivatives.SUBS * n["mark_update_master_accounts"]
    assert result["submit_p50_us"] <= result["submit_p99_us"] <= result["submit_max_us"]
    # Every fan-out client got every event; every HTTP order in the window was answered 201.
    assert result["ws_fanout_clients"] == n["ws_fanout_clients"]
    assert result["http_statuses"] == {"201": n["http_orders"]}
    assert "[atlas bench]" in captured.err  # progress goes to stderr, not into the JSON


def test_only_runs_the_named_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--only", "submit_p50_us"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "submit_p50_us" in result and "market_orders_per_s" not in result
    assert result["n"] == {"submit_latency_samples": core.N_LATENCY_QUICK}


def test_unknown_key_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--only", "nope"]) == 2
    assert "unknown benchmark key" in capsys.readouterr().err


def test_counting_journal_satisfies_the_journal_protocol() -> None:
    journal = CountingJournal()
    assert isinstance(journal, Journal)
    assert journal.last_seq == 0 and list(journal.read_batches()) == []


# ---------------------------------------------------------------- the core workloads
@pytest.fixture
def nodes(monkeypatch: pytest.MonkeyPatch) -> list[Node]:
    """Every node the core benchmarks build from here on, in order."""
    built: list[Node] = []

    def recording(journal: Journal | None = None) -> Node:
        node = MAKE_NODE(journal)
        built.append(node)
        return node

    monkeypatch.setattr(core, "make_node", recording)
    return built


def dropping_one(monkeypatch: pytest.MonkeyPatch, matches: Callable[[Any], bool]) -> list[Any]:
    """Make the benchmarks' nodes silently drop the first command that ``matches``; return the
    list the dropped command is put in."""
    dropped: list[Any] = []

    def make(journal: Journal | None = None) -> Node:
        node = MAKE_NODE(journal)
        process = node.process

        def lossy(message: Any) -> list[Any]:
            if not dropped and matches(message):
                dropped.append(message)
                return []
            return process(message)

        node.process = lossy  # type: ignore[method-assign]
        return node

    monkeypatch.setattr(core, "make_node", make)
    return dropped


def test_market_bench_fills_every_taker_against_one_maker_each(nodes: list[Node]) -> None:
    out = core.bench_market_orders(True)
    n = core.N_ORDERS_QUICK
    assert out["n"] == {"market_orders": n}
    assert is_figure(out["market_orders_per_s"])
    (node,) = nodes
    filled = node.orders(status=OrderStatus.FILLED)
    assert len(filled) == 2 * n
    asks = [o for o in filled if o.side is Side.SELL]
    buys = [o for o in filled if o.side is Side.BUY]
    assert len(asks) == len(buys) == n
    assert {o.order_type for o in asks} == {OrderType.LIMIT}
    assert {o.order_type for o in buys} == {OrderType.MARKET}
    assert {o.cum_qty for o in filled} == {core.QTY}
    assert node.orders(open_only=True) == [] and len(node.sim.book(core.SYMBOL)) == 0
    assert node.seq == setup_events() + EVENTS_PER_ROUND * n


def test_market_bench_refuses_a_run_one_order_short(monkeypatch: pytest.MonkeyPatch) -> None:
    original = core.market_buys
    monkeypatch.setattr(core, "market_buys", lambda *a, **kw: original(*a, **kw)[:-1])
    n = core.N_ORDERS_QUICK
    with pytest.raises(RuntimeError, match=f"{2 * n - 2} orders filled, expected {2 * n}"):
        core.bench_market_orders(True)


def test_limit_cancel_bench_cancels_every_order_it_rested(nodes: list[Node]) -> None:
    out = core.bench_limit_cancel(True)
    n = core.N_ORDERS_QUICK
    assert out["n"] == {"limit_cancel_orders": n}
    assert is_figure(out["limit_cancel_orders_per_s"])
    (node,) = nodes
    orders = node.orders()
    assert len(orders) == n
    assert {(o.status, o.order_type, o.side) for o in orders} == {
        (OrderStatus.CANCELED, OrderType.LIMIT, Side.BUY)
    }
    assert {o.cum_qty for o in orders} == {0}  # rested, never traded
    assert len(node.sim.book(core.SYMBOL)) == 0


def test_limit_cancel_bench_refuses_a_run_with_a_cancel_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dropped = dropping_one(monkeypatch, lambda m: isinstance(m, CancelOrder))
    n = core.N_ORDERS_QUICK
    with pytest.raises(RuntimeError, match=f"{n - 1} canceled, expected {n}"):
        core.bench_limit_cancel(True)
    assert len(dropped) == 1


def test_durable_bench_replays_the_whole_journal_to_the_live_digest(nodes: list[Node]) -> None:
    out = core.bench_durable_and_replay(True)
    n = core.N_ORDERS_QUICK
    (node,) = nodes  # closed by the benchmark; its state is still there to read
    assert node.seq == setup_events() + EVENTS_PER_ROUND * n
    assert out["n"] == {"durable_orders": n, "replay_events": node.seq}
    assert len(node.orders(status=OrderStatus.FILLED)) == 2 * n
    assert is_figure(out["durable_orders_per_s"]) and is_figure(out["replay_events_per_s"])


def test_replay_rebuilds_every_event_of_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "bench.db"
    node = MAKE_NODE(SqliteJournal(path))
    _, seq = core._run_market(node, 50)
    live = (node.seq, node.digest())
    node.close()
    with SqliteJournal(path, readonly=True) as journal:
        last_seq = journal.last_seq
    events, seconds, replayed = core._replay(path)
    assert events == seq == last_seq == live[0] == setup_events() + EVENTS_PER_ROUND * 50
    assert replayed == live
    assert is_figure(seconds)


def test_durable_bench_refuses_a_replay_that_does_not_reproduce_the_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = core._replay

    def wrong_digest(path: Path) -> tuple[int, float, tuple[int, str]]:
        events, seconds, (seq, _) = original(path)
        return events, seconds, (seq, "0" * 64)

    monkeypatch.setattr(core, "_replay", wrong_digest)
    with pytest.raises(RuntimeError, match="does not reproduce the digest"):
        core.bench_durable_and_replay(True)


def test_submit_latency_bench_samples_orders_that_all_rest(nodes: list[Node]) -> None:
    out = core.bench_submit_latency(True)
    n = core.N_LATENCY_QUICK
    assert out["n"] == {"submit_latency_samples": n}
    assert out["submit_p50_us"] <= out["submit_p99_us"] <= out["submit_max_us"]
    (node,) = nodes
    orders = node.orders()
    assert len(orders) == n
    assert {(o.status, o.order_type, o.side) for o in orders} == {
        (OrderStatus.ACCEPTED, OrderType.LIMIT, Side.BUY)
    }
    assert len(node.sim.book(core.SYMBOL)) == n


# ---------------------------------------------------------------- risk, derivatives, service
def test_quick_risk_bench_reports_its_figures_and_sizes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    only = "risk_check_p50_us,risk_check_p99_us,market_orders_risk_per_s,market_risk_slowdown_pct"
    assert main(["bench", "--quick", "--only", only]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["risk_check_p50_us"] <= result["risk_check_p99_us"] <= result["risk_check_max_us"]
    assert result["risk_submit_p50_us"] <= result["risk_submit_p99_us"]
    assert result["risk_submit_p99_us"] <= result["risk_submit_max_us"]
    plain, with_risk = result["market_orders_plain_per_s"], result["market_orders_risk_per_s"]
    assert abs(result["market_risk_slowdown_pct"] - 100 * (1 - with_risk / plain)) < 0.5
    n = result["n"]
    # Every account holds a position in every instrument; the book is what was asked for.
    assert (n["risk_accounts"], n["risk_instruments"]) == (risk.ACCOUNTS_QUICK, risk.SYMBOLS_QUICK)
    assert n["risk_open_positions"] == n["risk_accounts"] * n["risk_instruments"]
    assert n["risk_open_orders"] == risk.N_OPEN_QUICK
    assert n["risk_check_samples"] == risk.N_CHECKS_QUICK
    assert n["risk_submit_samples"] == risk.N_SUBMITS_QUICK
    assert (n["market_risk_orders"], n["market_risk_runs"]) == (core.N_ORDERS_QUICK, risk.RUNS)
    assert "submit_p50_us" not in result  # only the risk keys ran


def test_quick_derivatives_bench_reports_its_figures_and_sizes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(["bench", "--quick", "--only", "mark_update_10k_positions_us,liquidations_per_s"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["mark_update_10k_positions_us"] <= result["mark_update_10k_positions_p99_us"]
    assert result["mark_update_10k_positions_p99_us"] <= result["mark_update_10k_positions_max_us"]
    # No liquidation price lies inside the band the marks move in (+-0.5%).
    assert result["mark_update_nearest_liquidation_pct"] > 0.5
    # Every stage of the cascade ran, every long was liquidated, and no money was made or lost.
    steps = result["liquidation_steps"]
    assert steps["BOOK"] > 0 and steps["FUND"] > 0 and steps["ADL"] > 0
    n = result["n"]
    assert (n["liquidation_longs"], n["liquidation_shorts"]) == (
        derivatives.LONGS_QUICK,
        derivatives.SHORTS_QUICK,
    )
    assert len(result["liquidation_cascade_per_message"]) == len(derivatives.CRASH)
    assert sum(result["liquidation_cascade_per_message"]) == n["liquidation_longs"]
    assert result["liquidation_conservation"] == "exact"
    # One position per sub-account, 50 sub-accounts per master account.
    assert n["mark_update_master_accounts"] == derivatives.MASTERS_QUICK
    assert n["mark_update_positions"] == 50 * n["mark_update_master_accounts"]
    assert (
        n["mark_update_accounts"] == n["mark_update_positions"] + n["mark_update_master_accounts"]
    )
    assert n["mark_update_samples"] == derivatives.N_MARKS_QUICK
    assert "submit_p50_us" not in result


def test_quick_http_bench_reports_its_figures_and_sizes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--quick", "--only", "http_orders_per_s,http_submit_p99_ms"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["http_submit_p50_ms"] <= result["http_submit_p99_ms"]
    assert result["http_submit_p99_ms"] <= result["http_submit_max_ms"]
    n = result["n"]
    # Every order in the window was answered 201 (resting or crossing), none refused.
    assert result["http_statuses"] == {"201": n["http_orders"]} and n["http_orders"] > 0
    assert n["http_clients"] == http.CLIENTS_QUICK
    # The rate reported is the orders answered over the window's length.
    rate = n["http_orders"] / (n["http_duration_ms"] / 1000)
    assert result["http_orders_per_s"] == pytest.approx(rate, rel=0.01)
    assert n["http_httpx_orders"] > 0
    assert "submit_p50_us" not in result


def test_quick_fanout_bench_every_client_gets_every_event(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--quick", "--only", "ws_fanout_clients"]) == 0
    result = json.loads(capsys.readouterr().out)
    n = result["n"]
    assert (n["ws_fanout_clients"], n["ws_fanout_orders"]) == (
        fanout.CLIENTS_QUICK,
        fanout.ORDERS_QUICK,
    )
    # Every client got the journal's events for the desk's tree, in order, none missing or twice.
    assert result["ws_fanout_clients"] == n["ws_fanout_clients"]
    assert result["ws_fanout_events_per_client"] == n["ws_fanout_events"] > n["ws_fanout_orders"]
    assert result["ws_fanout_messages"] == n["ws_fanout_clients"] * n["ws_fanout_events"]
    assert result["ws_fanout_missing"] == result["ws_fanout_duplicates"] == 0
    assert result["ws_fanout_errors"] == [] and not result["ws_fanout_timed_out"]
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
