"""Seed 001 section 5.2 as a property: whenever a managed trade's position is open, a working stop
protects exactly the position; across random fills, partial fills, price moves, timer ticks and
restarts from the journal. Replaying the journal gives the same state, digest and trades."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trade_kit import SEC, SYMBOL, D, long_intent, make_node, trade

from atlas_oms import ManualClock, Node
from atlas_oms.core.engine import Engine
from atlas_oms.model import events as ev

PRICES = [D(p) for p in ("97.5", "98", "99", "100", "101", "102", "103", "104", "106", "110")]

step = st.one_of(
    st.tuples(st.just("maker_sell"), st.integers(1, 120), st.sampled_from(PRICES)),
    st.tuples(st.just("maker_buy"), st.integers(1, 120), st.sampled_from(PRICES)),
    st.tuples(st.just("last"), st.just(0), st.sampled_from(PRICES)),
    st.tuples(st.just("tick"), st.integers(1, 31), st.just(D(0))),
    st.tuples(st.just("restart"), st.just(0), st.just(D(0))),
    # §12.1 scale-up: an add-to-position child with its own entry and stop (refused unless the
    # parent is protected and nothing enters)
    st.tuples(st.just("add"), st.integers(1, 60), st.sampled_from(PRICES)),
)


def check_protected(node: Node) -> None:
    """The invariant: an open position has a live stop whose open quantity is the position."""
    for t in node.managed_trades():
        if t.position > 0:
            assert t.stop_order_id is not None, t
            stop = node.order(t.stop_order_id)
            assert stop.is_live, (t, stop)
            assert stop.leaves_qty == t.position, (t, stop)
        assert t.position >= 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_an_open_position_always_has_a_working_stop_for_exactly_its_quantity(
    steps: list[tuple[str, int, Decimal]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "j.db")
        clock = ManualClock()
        node = make_node(Node.open(path, clock=clock))
        try:
            long_intent(node)
            check_protected(node)
            adds = 0
            for kind, n, price in steps:
                if kind == "maker_sell":
                    node.sell("maker", SYMBOL, n, price)
                elif kind == "maker_buy":
                    node.buy("maker", SYMBOL, n, price)
                elif kind == "last":
                    node.update_prices(SYMBOL, last=price)
                elif kind == "tick":
                    node.advance_time(n * SEC)
                elif kind == "add":
                    adds += 1
                    long_intent(
                        node, f"add{adds}", entry_ideal=price, entry_max=price,
                        stop=price - 2, risk_amount=2 * n, add_to="t1",
                    )  # fmt: skip
                else:
                    before = (node.digest(), node.managed_trades())
                    node.close()
                    node = Node.open(path, clock=clock)
                    assert (node.digest(), node.managed_trades()) == before
                check_protected(node)
        finally:
            node.close()


def test_a_replay_of_the_journal_gives_the_same_digest_and_trades() -> None:
    node = make_node()
    node.sell("maker", SYMBOL, 40, 101)
    long_intent(node)
    node.advance_time(5 * SEC)  # repriced to 101: 40 fill, protected at once
    node.advance_time(30 * SEC)  # the rest is canceled
    node.buy("maker", SYMBOL, 16, 104)  # tranche 1
    node.buy("maker", SYMBOL, 500, 101)
    node.update_prices(SYMBOL, last=101)  # the break-even stop fires
    t = trade(node)
    assert t.phase == "CLOSED" and t.break_even
    events = list(node.journal.read())
    assert any(isinstance(e, ev.TradeStopMoved) for e in events)
    replay = Engine()
    replay.apply_all(events)
    assert replay.digest() == node.digest()
    again = Node(node.journal, clock=node.clock)
    assert again.managed_trades() == node.managed_trades()


def test_a_trade_survives_a_restart_from_a_snapshot_and_goes_on() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "j.db")
        clock = ManualClock()
        node = make_node(Node.open(path, clock=clock))
        node.sell("maker", SYMBOL, 100, 100)
        long_intent(node)
        node.buy("maker", SYMBOL, 30, 102)  # tranche 1: stop 70 at break-even
        node.snapshot()
        before = node.managed_trades()
        node.close()
        node = Node.open(path, clock=clock)
        try:
            assert node.recovery.snapshot_seq > 0
            assert node.managed_trades() == before
            node.buy("maker", SYMBOL, 30, 103)  # tranche 2 after the restart
            t = trade(node)
            assert t.position == D(40) and node.order(t.stop_order_id or 0).leaves_qty == D(40)
        finally:
            node.close()


def test_a_stop_lost_to_self_trade_prevention_is_placed_again_for_the_position() -> None:
    node = make_node()
    long_intent(node)
    node.sell("maker", SYMBOL, 1, D("97.5"))  # one lot fills the entry; the rest works at 100
    first = trade(node).stop_order_id
    events = node.update_prices(SYMBOL, last=D("97.5"))  # the stop would trade with the entry
    assert any(isinstance(e, ev.TradeEntryAbandoned) for e in events)
    placed = [e for e in events if isinstance(e, ev.TradeStopPlaced)]
    assert placed and placed[0].qty == D(1) and placed[0].cause == "STOP_LOST"
    t = trade(node)
    assert t.stop_order_id != first and t.phase == "PROTECTED"
    check_protected(node)
