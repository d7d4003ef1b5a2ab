"""Seed 001 §16's parameters put in force through the journal (``SetPolicyParams``)."""

from __future__ import annotations

from trade_kit import SEC, SYMBOL, D, long_intent, make_node, of

from atlas_oms import ManualClock
from atlas_oms.model import events as ev
from atlas_oms.runtime.node import Node


def test_a_shorter_repricing_interval_reprices_the_entry_sooner() -> None:
    node = make_node()
    node.sell("maker", SYMBOL, 500, 102)
    set_ = node.set_policy_params({"execution.repricing-interval-ms": 2000}, actor="desk")
    assert of(set_, ev.PolicyParamsSet)[0].overrides == (  # type: ignore[attr-defined]
        ("odin.execution.repricing-interval-ms", "2000"),
    )
    long_intent(node)
    assert node.engine.next_deadline(node.clock.now()) == node.clock.now() + 2 * SEC
    repriced = of(node.advance_time(2 * SEC), ev.TradeEntryRepriced)
    assert [e.price for e in repriced] == [D(101)]  # type: ignore[attr-defined]


def test_a_bad_parameter_is_refused_and_nothing_changes() -> None:
    node = make_node()
    out = node.set_policy_params({"execution.no-such-thing": 1}, actor="desk")
    rejected = of(out, ev.CommandRejected)
    assert rejected and rejected[0].reason == "INVALID_FIELD"  # type: ignore[attr-defined]
    assert "no-such-thing" in rejected[0].message  # type: ignore[attr-defined]
    out = node.set_policy_params({"execution.repricing-interval-ms": -5}, actor="desk")
    assert of(out, ev.CommandRejected)
    assert node.engine.state.policy.execution.repricing_interval_ms == 5000


def test_the_parameters_survive_a_restart_from_the_journal_and_a_snapshot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "j.db")
    node = make_node(Node.open(path, clock=ManualClock()))
    node.set_policy_params({"execution.max-repricing-cycles": 1}, actor="desk")
    digest = node.digest()
    node.snapshot()
    node.close()
    again = Node.open(path)
    try:
        assert again.engine.state.policy.execution.max_repricing_cycles == 1
        assert again.digest() == digest
    finally:
        again.close()


def test_the_tranche_table_comes_from_the_parameters() -> None:
    """§6.1 "Schwellenwerte und Prozentaufteilungen sind als Properties konfigurierbar"."""
    node = make_node()
    node.sell("maker", SYMBOL, 500, 100)
    node.set_policy_params({"tranches.standard": "0.50@1R,0.30@3R,0.20@RUNNER"}, actor="desk")
    bracket = of(long_intent(node), ev.TradeBracketPlaced)[0]
    assert [(i, q, p) for _, i, q, p in bracket.targets] == [  # type: ignore[attr-defined]
        (1, D(50), D(102)),
        (2, D(30), D(106)),
    ]


def test_a_tranche_row_without_a_runner_last_is_refused() -> None:
    node = make_node()
    out = node.set_policy_params({"tranches.standard": "0.50@1R,0.50@2R"}, actor="desk")
    assert of(out, ev.CommandRejected)
