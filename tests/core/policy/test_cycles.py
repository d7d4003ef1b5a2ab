"""Seed 001 §12 and §12.1 (multi-cycle, scale-up) and §16 ``risk.max-position-pct``: the day
capital, the cycle counter per pipeline, re-entry only after a complete exit, the day's risk
budget for cycle 2+, and the add-to-position child trade."""

from __future__ import annotations

from trade_kit import SEC, SYMBOL, D, long_intent, make_node, of, trade

from atlas_oms import Instrument, Node
from atlas_oms.model import events as ev

OTHER = "ABC/USD"


def _sized(events: list[ev.EventBase]) -> ev.TradeSized:
    sized = of(events, ev.TradeSized)
    assert len(sized) == 1, events
    s = sized[0]
    assert isinstance(s, ev.TradeSized)
    return s


def _refused(events: list[ev.EventBase]) -> ev.TradeIntentRefused:
    refused = of(events, ev.TradeIntentRefused)
    assert len(refused) == 1, events
    r = refused[0]
    assert isinstance(r, ev.TradeIntentRefused)
    return r


def _stopped_out(node: Node) -> None:
    node.buy("maker", SYMBOL, 500, 98)
    node.update_prices(SYMBOL, last=98)


def test_section_16_the_day_capital_is_the_accounts_equity_at_its_first_intent_of_the_day() -> None:
    """§16 "Max. Positionsgroesse als Anteil am Tageskapital": the day capital is journaled once
    per account and day (TradingDayOpened)."""
    node = make_node()
    node.sell("maker", SYMBOL, 100, 100)
    events = long_intent(node)
    opened = of(events, ev.TradingDayOpened)
    assert len(opened) == 1
    day = opened[0]
    assert isinstance(day, ev.TradingDayOpened)
    # 10,000,000 USD cash + 1,000,000 XYZ at the last price 100.
    assert day.capital == D(110_000_000) and day.currency == "USD"
    assert day.day == -1  # the epoch is 1969-12-31 in New York
    node.advance_time(60 * SEC)
    node.update_prices(SYMBOL, last=100)
    long_intent(node, "t0")  # refused (busy pipeline) but the day stays open
    assert of(node.advance_time(86_400 * SEC), ev.TradingDayOpened) == []
    _stopped_out(node)
    assert of(long_intent(node, "t2", entry_ideal="97", entry_max="97", stop="95"),
              ev.TradingDayOpened)  # fmt: skip


def test_section_16_a_position_above_max_position_pct_of_the_day_capital_is_capped() -> None:
    """§16 ``odin.risk.max-position-pct`` 0.50: "Max. Positionsgroesse als Anteil am
    Tageskapital"; the size is capped (TradeSized says so), not refused."""
    node = make_node()
    node.open_account("small")
    node.deposit("small", "USD", 10_000)
    events = node.trade(
        "s1", "small", SYMBOL, "BUY", entry_ideal="100", entry_max="103", stop="98",
        risk_amount="200",
    )  # fmt: skip
    s = _sized(events)
    # R 200 / 2 = 100 shares wanted; 50% of 10,000 at the zone's max 103 = 48 shares.
    assert s.requested_qty == D(100) and s.qty == D(48) and s.caps == ("MAX_POSITION_PCT",)
    assert trade(node, "s1").qty == D(48)


def test_section_16_a_cap_leaving_less_than_one_lot_refuses_the_intent() -> None:
    node = make_node()
    node.open_account("tiny")
    node.deposit("tiny", "USD", 100)
    events = node.trade(
        "s1", "tiny", SYMBOL, "BUY", entry_ideal="100", entry_max="103", stop="98",
        risk_amount="200",
    )  # fmt: skip
    assert _refused(events).reason == "POSITION_LIMIT"


def test_section_12_the_cycle_counter_counts_per_pipeline_and_is_in_the_events() -> None:
    """§12 "Cycle-Counter: Pro Pipeline, cycleNumber in Events"; "Unabhaengige Trades"."""
    node = make_node()
    node.add_instrument(Instrument.spot(OTHER, tick_size="0.01", lot_size="1"))
    node.update_prices(OTHER, last=50)
    assert _sized(long_intent(node, "c1")).cycle_number == 1
    other = node.trade(
        "o1", "trader", OTHER, "BUY", entry_ideal="50", entry_max="51", stop="49",
        risk_amount="100",
    )  # fmt: skip
    assert _sized(other).cycle_number == 1  # another pipeline
    node.sell("maker", SYMBOL, 100, 100)  # fills c1's entry
    _stopped_out(node)
    assert trade(node, "c1").phase == "CLOSED"
    node.update_prices(SYMBOL, last=100)
    second = long_intent(node, "c2")
    assert _sized(second).cycle_number == 2
    assert trade(node, "c2").cycle_number == 2 and trade(node, "c1").cycle_number == 1
    # Each cycle its own trade: own entry order, own stop, own P&L.
    assert trade(node, "c2").stop_order_id is None and trade(node, "c1").realized_pnl < 0


def test_section_12_re_entry_only_after_a_complete_exit() -> None:
    """§12 "Re-Entry: Neuer Trade nach komplettem Exit (FLAT_INTRADAY -> SEEKING_ENTRY)"."""
    node = make_node()
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node, "r1")
    refused = _refused(long_intent(node, "r2"))
    assert refused.reason == "PIPELINE_BUSY" and "r1" in refused.message
    assert node.managed_trade("r2") is None
    node.buy("maker", SYMBOL, 100, 110)  # targets
    node.buy("maker", SYMBOL, 100, 98)
    node.update_prices(SYMBOL, last=98)  # the runner's stop
    assert trade(node, "r1").phase == "CLOSED"
    node.update_prices(SYMBOL, last=100)
    assert _sized(long_intent(node, "r3")).cycle_number == 2


def test_section_12_an_abandoned_entry_frees_the_pipeline() -> None:
    node = make_node()
    long_intent(node, "a1")
    for _ in range(4):
        node.advance_time(5 * SEC)
    assert trade(node, "a1").phase == "SEEKING"
    assert _sized(long_intent(node, "a2")).cycle_number == 2


def test_section_12_cycle_2_sizing_counts_the_used_day_budget_and_realized_pnl() -> None:
    """§12 "Positionsgroessen: Zyklus 2+: Sizing beruecksichtigt verbrauchtes Tagesbudget";
    §12.1 "Risk-Budget: Realisierter P&L aus Zyklus 1 wird beruecksichtigt"."""
    node = make_node()
    # budget = 110,000,000 * 0.000005 = 550
    node.set_policy_params({"risk.day-risk-budget-pct": "0.000005"}, actor="desk")
    node.sell("maker", SYMBOL, 100, 100)
    first = _sized(long_intent(node, "b1"))
    assert first.budget_left == D(550) and first.risk_granted == D(200) and first.caps == ()
    _stopped_out(node)
    loss = trade(node, "b1").realized_pnl
    assert loss < 0
    node.update_prices(SYMBOL, last=100)
    second = _sized(long_intent(node, "b2", risk_amount="500"))
    assert second.budget_left == D(550) + loss
    assert second.risk_granted == D(550) + loss and second.caps == ("DAY_BUDGET",)
    assert second.qty == ((D(550) + loss) / 2).to_integral_value(rounding="ROUND_FLOOR")


def test_section_12_an_exhausted_day_budget_refuses_the_next_cycle() -> None:
    node = make_node()
    node.set_policy_params({"risk.day-risk-budget-pct": "0.0000018"}, actor="desk")  # 198
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node, "e1")
    _stopped_out(node)  # loses 200
    node.update_prices(SYMBOL, last=100)
    assert _refused(long_intent(node, "e2")).reason == "DAY_BUDGET_EXHAUSTED"


def _parent() -> Node:
    node = make_node()
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node, "p1")
    assert trade(node, "p1").phase == "PROTECTED"
    return node


def test_section_12_1_scale_up_is_a_child_trade_with_its_own_entry_stop_and_cycle() -> None:
    """§12.1 "Order-Typ: Add-to-Position (keine neue Trade-Eroeffnung)", "Entry-Preis:
    Aufgestockter Teil hat eigenen Entry-Preis", "Trailing-Stop: ... Bestehende Shares
    unveraendert", "P&L pro Tranche", "Aufstocken zaehlt als eigener Zyklus"."""
    node = _parent()
    parent_before = trade(node, "p1")
    node.sell("maker", SYMBOL, 50, 101)
    events = long_intent(
        node, "p1-add", entry_ideal="101", entry_max="101.5", stop="99.5", risk_amount="75",
        add_to="p1",
    )  # fmt: skip
    s = _sized(events)
    assert s.cycle_number == 2 and s.add_to == "p1" and s.qty == D(50)
    child = trade(node, "p1-add")
    assert child.add_to == "p1" and child.cycle_number == 2
    assert child.entry_px == D(101) and child.position == D(50)
    assert child.stop_order_id is not None and child.stop_order_id != parent_before.stop_order_id
    assert node.order(child.stop_order_id).qty == D(50)
    assert child.stop_trigger == D("99.5")
    parent = trade(node, "p1")  # untouched: own entry, own stop on its own shares
    assert parent.entry_px == D(100) and parent.position == D(100)
    assert node.order(parent.stop_order_id).qty == D(100)
    assert parent.stop_trigger == parent_before.stop_trigger
    assert node.position("trader", SYMBOL).qty == D(150)  # both tranches together


def test_section_12_1_scale_up_counts_the_parents_risk_in_the_day_budget() -> None:
    """§12.1 "Risk-Budget": the open cycle's R is used budget."""
    node = make_node()
    node.set_policy_params({"risk.day-risk-budget-pct": "0.000003"}, actor="desk")  # 330
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node, "p1")
    s = _sized(long_intent(node, "p2", entry_ideal="101", entry_max="101", stop="99",
                           risk_amount="300", add_to="p1"))  # fmt: skip
    assert s.budget_left == D(130) and s.risk_granted == D(130) and s.qty == D(65)


def test_section_12_1_add_to_needs_an_open_protected_trade_of_the_pipeline() -> None:
    node = make_node()
    assert _refused(long_intent(node, "x", add_to="nope")).reason == "INVALID_ADD_TO"
    long_intent(node, "p1")  # still entering: no protected position yet
    assert _refused(long_intent(node, "x2", add_to="p1")).reason == "PIPELINE_BUSY"


def test_cycles_replay_to_the_same_digest_and_trades(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from atlas_oms import ManualClock

    path = str(tmp_path / "j.db")
    clock = ManualClock()
    node = make_node(Node.open(path, clock=clock))
    node.set_policy_params({"risk.day-risk-budget-pct": "0.000005"}, actor="desk")
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node, "p1")
    node.sell("maker", SYMBOL, 50, 101)
    long_intent(node, "p2", entry_ideal="101", entry_max="101.5", stop="99.5",
                risk_amount="75", add_to="p1")  # fmt: skip
    before = (node.digest(), node.managed_trades())
    node.snapshot()
    node.close()
    again = Node.open(path, clock=clock)
    try:
        assert (again.digest(), again.managed_trades()) == before
        # the desk came back: the next intent counts both open cycles
        s = _sized(long_intent(again, "p3", add_to="p1", entry_ideal="101", entry_max="101",
                               stop="100", risk_amount="1000"))  # fmt: skip
        assert s.cycle_number == 3 and s.budget_left == D(550 - 200 - 75)
    finally:
        again.close()


def test_section_12_a_trade_held_overnight_still_blocks_its_pipeline_the_next_day() -> None:
    node = make_node()
    node.add_instrument(Instrument.spot(OTHER, tick_size="0.01", lot_size="1"))
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node, "n1")
    node.advance_time(86_400 * SEC)
    node.update_prices(OTHER, last=50)
    node.trade(
        "o1",
        "trader",
        OTHER,
        "BUY",
        entry_ideal="50",
        entry_max="51",
        stop="49",
        risk_amount="100",
    )  # fmt: skip  (opens the new day)
    node.update_prices(SYMBOL, last=100)
    assert _refused(long_intent(node, "n2")).reason == "PIPELINE_BUSY"


def test_a_parent_stop_lost_to_a_childs_own_entry_is_replaced_a_bounded_number_of_times() -> None:
    """Self-trade prevention cancels the parent's stop against the add-to child's working entry:
    the child's entry is what it trades against, so it is abandoned, and a stop canceled that
    way counts like a refusal (a bounded number of retries, never an endless loop)."""
    import trade_kit

    node = trade_kit.make_node()
    node.sell("maker", trade_kit.SYMBOL, 100, 100)
    trade_kit.long_intent(node)
    node.buy("maker", trade_kit.SYMBOL, 30, 102)  # tranche 1: the parent is protected at break-even
    trade_kit.long_intent(node, "child", entry_ideal="101", entry_max="101", stop="99", add_to="t1")
    events = node.update_prices(trade_kit.SYMBOL, last="99.5")  # the parent's stop (100) fires
    assert len(events) < 500  # it ends
    child = node.managed_trade("child")
    assert child is not None and child.entry_order_id is None  # no entry works any more
