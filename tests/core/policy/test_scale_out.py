"""Exits the OMS decides now: seed 001 §3.1 "Normal Exit (Tranchen) | Limit Order | Preis =
aktueller Bid. Repricing alle 5s" and §6.2 "Parabolic/Exhaustion Events: Scale-Out-Ladder
triggert sofort" (core/policy/scale_out.py)."""

from __future__ import annotations

from trade_kit import SEC, SYMBOL, D, long_intent, make_node, of, trade

from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType


def _protected():  # type: ignore[no-untyped-def]
    node = make_node()
    node.sell("maker", SYMBOL, 100, 100)
    b = of(long_intent(node), ev.TradeBracketPlaced)[0]
    return node, b


def test_section_6_2_the_ladder_triggers_at_once_as_a_limit_at_the_bid() -> None:
    node, b = _protected()
    node.buy("maker", SYMBOL, 20, "100.50")  # the bid
    events = node.trigger_scale_out("t1", reason="PARABOLIC")
    canceled = of(events, ev.TradeTargetCanceled)
    assert len(canceled) == 3 and {e.cause for e in canceled} == {"SCALE_OUT"}  # type: ignore[attr-defined]
    started = of(events, ev.TradeScaleOutStarted)[0]
    assert started.qty == D(85) and started.reason == "PARABOLIC"  # type: ignore[attr-defined]
    # the limit goes out in the same step, once the targets' cancels are confirmed (it sells
    # what they held: a venue that locks what resting sells sell would refuse it before)
    placed = next(p for p in of(events, ev.TradeScaleOutPlaced) if p.order_id)  # type: ignore[attr-defined]
    assert placed.price == D("100.50")  # type: ignore[attr-defined]
    last_cancel = max(i for i, e in enumerate(events) if isinstance(e, ev.OrderCanceled))
    assert events.index(placed) > last_cancel and not of(events, ev.OrderDenied)
    exit_order = node.order(placed.order_id)  # type: ignore[attr-defined]
    assert exit_order.order_type is OrderType.LIMIT  # never a market order (§3.2)
    assert exit_order.cum_qty == D(20)  # the bid took 20
    t = trade(node)
    assert t.position == D(80)
    # the stop follows the position (§9.1): 80 left, not oversold if it triggers
    assert node.order(b.stop_order_id).qty == D(80)  # type: ignore[attr-defined]


def test_section_3_1_an_unfilled_exit_is_repriced_to_the_bid_every_5_s() -> None:
    node, _ = _protected()
    node.buy("maker", SYMBOL, 10, "100.50")
    first = of(node.trigger_scale_out("t1"), ev.TradeScaleOutPlaced)[0]
    node.buy("maker", SYMBOL, 100, "100.20")  # a lower bid appears
    assert node.engine.next_deadline(node.clock.now()) == node.clock.now() + 5 * SEC
    events = node.advance_time(5 * SEC)
    again = of(events, ev.TradeScaleOutPlaced)
    assert again and again[0].price == D("100.20")  # type: ignore[attr-defined]
    assert again[0].order_id != first.order_id  # type: ignore[attr-defined]
    t = trade(node)
    assert t.position == D(15)  # the runner stays, on the stop
    assert node.engine.next_deadline(node.clock.now()) is None or not of(
        node.advance_time(5 * SEC), ev.TradeScaleOutPlaced
    )


def test_a_scale_out_without_working_targets_is_refused() -> None:
    node = make_node()
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node, target_policy="TRAIL_ONLY")
    rejected = of(node.trigger_scale_out("t1"), ev.CommandRejected)
    assert rejected and rejected[0].reason == "TRADE_NOT_OPEN"  # type: ignore[attr-defined]
    rejected = of(node.trigger_scale_out("nope"), ev.CommandRejected)
    assert rejected and rejected[0].reason == "UNKNOWN_TRADE"  # type: ignore[attr-defined]


def test_a_stop_that_triggers_during_an_exit_ends_it() -> None:
    node, _ = _protected()
    node.trigger_scale_out("t1")  # no bid: the exit rests at the last price, 100
    events = node.update_prices(SYMBOL, last=98)
    ended = of(events, ev.TradeScaleOutEnded)
    assert ended and ended[0].cause == "STOP_TRIGGERED"  # type: ignore[attr-defined]
    assert not of(node.advance_time(5 * SEC), ev.TradeScaleOutPlaced)
