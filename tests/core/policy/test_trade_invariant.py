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

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.core.engine import Engine
from atlas_oms.model import events as ev
from atlas_oms.model.risk import MarketOrderReason

PRICES = [D(p) for p in ("97.5", "98", "99", "100", "101", "102", "103", "104", "106", "110")]

step = st.one_of(
    st.tuples(st.just("maker_sell"), st.integers(1, 120), st.sampled_from(PRICES)),
    st.tuples(st.just("maker_buy"), st.integers(1, 120), st.sampled_from(PRICES)),
    st.tuples(st.just("last"), st.just(0), st.sampled_from(PRICES)),
    st.tuples(st.just("tick"), st.integers(1, 31), st.just(D(0))),
    st.tuples(st.just("restart"), st.just(0), st.just(D(0))),
    st.tuples(st.just("scale_out"), st.just(0), st.just(D(0))),
    # A 1-minute bar as market data (seed 001 §10): the trailing stop moves on its close.
    st.tuples(st.just("bar"), st.integers(0, 4), st.sampled_from(PRICES)),
    st.tuples(st.just("critical"), st.just(0), st.sampled_from(PRICES)),
    # emergency exits (fallback.py): LULD halts and resumes, the schedule's close and open
    st.tuples(st.just("halt"), st.just(0), st.just(D(0))),
    st.tuples(st.just("close"), st.just(0), st.just(D(0))),
    st.tuples(st.just("resume"), st.just(0), st.just(D(0))),
    # §12.1 scale-up: an add-to-position child with its own entry and stop (refused unless the
    # parent is protected and nothing enters)
    st.tuples(st.just("add"), st.integers(1, 60), st.sampled_from(PRICES)),
)


def check_protected(node: Node) -> None:
    """The invariant: an open position has a live stop whose open quantity is the position;
    where the trade's sells lock what they sell (core/policy/cover.py), the stop and the
    trade's other working exits together hold exactly the position; or (seed 001 §5.2
    "interner Stop + sofortige Exit-Policy") an emergency exit at market runs for it: its other
    orders are canceled and its market order goes out as soon as they are gone and the market
    is open (fallback.py)."""
    core = node.engine.state.trades
    for t in node.managed_trades():
        exit_reason = core[t.trade_id].exit_reason
        if t.position > 0 and exit_reason is not None:
            assert t.phase != "CLOSED", t
            assert exit_reason in {r.value for r in MarketOrderReason}, t
            exit_id = core[t.trade_id].exit_order_id
            if exit_id is not None and node.order(exit_id).is_live:
                exit_order = node.order(exit_id)
                assert exit_order.market_reason is not None
                assert exit_order.leaves_qty <= t.position, (t, exit_order)
        elif t.position > 0 and core[t.trade_id].fc_order_id is not None:
            # forced close (§11): its limit holds the position, the internal stop watches
            fc = node.order(core[t.trade_id].fc_order_id)
            assert not fc.is_live or fc.leaves_qty <= t.position, (t, fc)
        elif t.position > 0:
            assert t.stop_order_id is not None, t
            stop = node.order(t.stop_order_id)
            assert stop.is_live, (t, stop)
            state = node.engine.state.trades[t.trade_id]
            if state.covered:
                others = sum(
                    (
                        node.order(o).leaves_qty
                        for o in state.exit_orders
                        if o != t.stop_order_id and node.order(o).is_live
                    ),
                    D(0),
                )
                # what the stop and the other exits do not hold is under the internal stop,
                # armed until the stop level is reached (then the stop covers it)
                assert stop.leaves_qty > 0 and stop.leaves_qty + others <= t.position, (t, stop)
                assert stop.leaves_qty + others == t.position or not state.stop_fired, (t, stop)
            else:
                assert stop.leaves_qty == t.position, (t, stop)
        assert t.position >= 0


def wallet_node(node: Node) -> Node:
    """A spot wallet holding only what its trades buy (the trader has no XYZ)."""
    node.add_instrument(Instrument.spot(SYMBOL, tick_size="0.01", lot_size="1"))
    node.open_account("trader")
    node.deposit("trader", "USD", 1_000_000)
    node.open_account("maker")
    node.deposit("maker", "USD", 10_000_000)
    node.deposit("maker", "XYZ", 1_000_000)
    node.update_prices(SYMBOL, last=100)
    return node


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=25), wallet=st.booleans())
def test_an_open_position_always_has_a_working_stop_for_exactly_its_quantity(
    steps: list[tuple[str, int, Decimal]], wallet: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "j.db")
        clock = ManualClock()
        node = (wallet_node if wallet else make_node)(Node.open(path, clock=clock))
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
                elif kind == "scale_out":
                    node.trigger_scale_out("t1", reason="PARABOLIC")
                elif kind == "bar":
                    start = node.clock.now() - node.clock.now() % (60 * SEC)
                    node.apply_bar(SYMBOL, start, price, price + n, price - 1, price)
                elif kind == "critical":
                    node.tighten_trade_stop("t1", "blow-off", stop=price)
                elif kind in ("halt", "close"):
                    node.set_market_status(
                        SYMBOL, "HALTED" if kind == "halt" else "CLOSED", actor="t"
                    )
                elif kind == "resume":
                    node.set_market_status(SYMBOL, None, actor="t")
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


def test_an_exit_without_liquidity_survives_a_restart_and_retries_on_new_liquidity() -> None:
    """§9.1 partial stop fill whose market exit finds no bid: the exit policy (an internal stop
    with an immediate exit) stays in force across a restart and sends again on new liquidity;
    then a halt: nothing is sent until the resume."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "j.db")
        clock = ManualClock()
        node = make_node(Node.open(path, clock=clock))
        node.sell("maker", SYMBOL, 100, 100)
        long_intent(node)
        node.update_prices(SYMBOL, last=98)  # triggers; the stop-limit rests at 97.90
        node.buy("maker", SYMBOL, 30, D("97.95"))  # partial stop fill; the market exit: no bid
        alerts = [e for e in node.journal.read() if isinstance(e, ev.RiskAlert)]
        assert [a.code for a in alerts] == ["EXIT_UNFILLED"]
        assert trade(node).position == D(70) and trade(node).phase == "PROTECTED"
        check_protected(node)
        before = (node.digest(), node.managed_trades())
        node.close()
        node = Node.open(path, clock=clock)
        try:
            assert (node.digest(), node.managed_trades()) == before
            check_protected(node)
            node.set_market_status(SYMBOL, "HALTED", actor="t")
            node.advance_time(10 * SEC)  # halted: nothing is sent
            assert trade(node).position == D(70)
            node.set_market_status(SYMBOL, None, actor="t")
            node.buy("maker", SYMBOL, 70, 96)  # new liquidity: the exit is sent again
            check_protected(node)
            assert trade(node).phase == "CLOSED" and trade(node).position == 0
        finally:
            node.close()
