"""Managed trade entry (seed 001 sections 3.1 and 8.1) on the built-in exchange."""

from __future__ import annotations

from trade_kit import SEC, SYMBOL, D, long_intent, make_node, of

from atlas_oms.model import events as ev


def test_the_entry_fills_at_the_ideal_price_and_the_bracket_follows_in_one_event() -> None:
    node = make_node()
    node.sell("maker", SYMBOL, 500, 100)
    events = long_intent(node)
    accepted = of(events, ev.TradeIntentAccepted)
    assert accepted and accepted[0].qty == D(100)  # type: ignore[attr-defined]
    placed = of(events, ev.TradeEntryPlaced)[0]
    assert placed.price == D(100)  # type: ignore[attr-defined]
    brackets = of(events, ev.TradeBracketPlaced)
    assert len(brackets) == 1
    b = brackets[0]
    assert b.position_qty == D(100) and b.stop_trigger == D(98)  # type: ignore[attr-defined]
    assert b.stop_limit == D("97.90")  # type: ignore[attr-defined]  # 0.1% below, on the tick
    # STANDARD at 10,000 USD: 4T; the runner has no target order.
    assert [(i, q) for _, i, q, _ in b.targets] == [(1, D(30)), (2, D(30)), (3, D(25))]  # type: ignore[attr-defined]
    t = node.managed_trade("t1")
    assert t is not None and t.phase == "PROTECTED" and t.position == D(100)
    assert t.stop_qty == D(100) and t.entry_px == D(100)


def test_an_entry_is_repriced_twice_toward_the_quote_then_fills() -> None:
    node = make_node()
    node.sell("maker", SYMBOL, 500, 102)
    long_intent(node)
    assert node.engine.next_deadline(node.clock.now()) == node.clock.now() + 5 * SEC
    first = node.advance_time(5 * SEC)
    assert [e.price for e in of(first, ev.TradeEntryRepriced)] == [D(101)]  # type: ignore[attr-defined]
    assert not of(first, ev.TradeBracketPlaced)
    second = node.advance_time(5 * SEC)
    assert [e.price for e in of(second, ev.TradeEntryRepriced)] == [D(102)]  # type: ignore[attr-defined]
    assert of(second, ev.TradeBracketPlaced)
    t = node.managed_trade("t1")
    assert t is not None and t.phase == "PROTECTED" and t.cycle == 2 and t.position == D(100)


def test_an_entry_never_goes_beyond_the_zone_and_is_abandoned_after_three_cycles() -> None:
    node = make_node()
    node.sell("maker", SYMBOL, 500, 104)
    long_intent(node)
    prices = []
    for _ in range(3):
        prices += [e.price for e in of(node.advance_time(5 * SEC), ev.TradeEntryRepriced)]  # type: ignore[attr-defined]
    assert prices == [D(101), D(102), D(103)]
    last = node.advance_time(5 * SEC)
    abandoned = of(last, ev.TradeEntryAbandoned)
    assert abandoned and abandoned[0].reason == "MAX_REPRICING_CYCLES"  # type: ignore[attr-defined]
    t = node.managed_trade("t1")
    assert t is not None and t.phase == "SEEKING" and t.position == 0
    assert not [o for o in node.resting_orders("sim") if o.account_id == "trader"]
    assert node.engine.next_deadline(node.clock.now()) is None


def test_a_repeated_intent_id_does_nothing() -> None:
    node = make_node()
    long_intent(node)
    assert long_intent(node) == []


def test_an_intent_with_absurd_numbers_or_a_stop_inside_a_tick_is_refused_not_a_crash() -> None:
    # Found by the REST fuzzing: R / |ideal - stop| overflowed half-way through the handler (a
    # 500) when the stop sat 1E-999999 from the ideal entry or a price was 1E+999999.
    node = make_node()
    cases = [
        ({"stop": "99.9999999999"}, "INVALID_ZONE"),  # less than one tick (0.01) from 100
        ({"entry_max": "1E+999999"}, "INVALID_FIELD"),
        ({"risk_amount": "1E+30"}, "INVALID_FIELD"),
        ({"stop": "-1"}, "INVALID_FIELD"),
        ({"key_level": "NaN"}, "INVALID_FIELD"),
    ]
    for i, (kw, reason) in enumerate(cases):
        refused = of(long_intent(node, f"bad-{i}", **kw), ev.TradeIntentRefused)
        assert refused and refused[0].reason == reason, kw  # type: ignore[attr-defined]
    assert node.journal.last_seq == node.engine.seq


def test_an_intent_with_the_stop_on_the_wrong_side_is_refused() -> None:
    node = make_node()
    refused = of(long_intent(node, stop="101"), ev.TradeIntentRefused)
    assert refused and refused[0].reason == "INVALID_ZONE"  # type: ignore[attr-defined]
