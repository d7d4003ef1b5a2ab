"""Managed trade fill handling (seed 001 sections 5 and 9.1): brackets without OCA."""

from __future__ import annotations

from trade_kit import SEC, SYMBOL, D, long_intent, make_node, of, trade

from atlas_oms import Node
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus


def _protected() -> tuple[Node, ev.TradeBracketPlaced]:
    node = make_node()
    node.sell("maker", SYMBOL, 100, 100)
    bracket = of(long_intent(node), ev.TradeBracketPlaced)[0]
    assert isinstance(bracket, ev.TradeBracketPlaced)
    return node, bracket


def test_a_target_fill_leaves_the_stop_working_resized_and_tranche_one_moves_it_to_break_even() -> (
    None
):
    node, b = _protected()
    (_, _, q1, p1) = b.targets[0]
    assert p1 == D(102) and q1 == D(30)  # 1R above the entry
    node.buy("maker", SYMBOL, 30, 102)
    t = trade(node)
    assert t.position == D(70)
    stop = node.order(b.stop_order_id)
    assert stop.is_live and stop.qty == D(70)  # no OCA: the stop still works, resized
    assert stop.trigger_price == D(100) and t.break_even  # break-even: the entry price
    assert [c for _, _, c in t.stop_history] == ["INITIAL", "BREAK_EVEN"]
    # The other targets keep working, untouched.
    for order_id, _, qty, _ in b.targets[1:]:
        o = node.order(order_id)
        assert o.is_live and o.qty == qty


def test_a_partial_target_fill_resizes_the_stop_and_places_no_new_target() -> None:
    node, b = _protected()
    before = {o.order_id for o in node.resting_orders("sim")}
    node.buy("maker", SYMBOL, 10, 102)
    t = trade(node)
    assert t.position == D(90) and not t.break_even  # tranche 1 is not filled yet
    assert node.order(b.stop_order_id).qty == D(90)
    trader_new = {
        o.order_id
        for o in node.resting_orders("sim")
        if o.account_id == "trader" and o.order_id not in before
    }
    assert trader_new == set()


def test_the_stop_filling_cancels_every_target_and_closes_the_trade() -> None:
    node, b = _protected()
    node.buy("maker", SYMBOL, 500, 98)
    events = node.update_prices(SYMBOL, last=98)
    canceled = {e.order_id for e in of(events, ev.TradeTargetCanceled)}
    assert canceled == {oid for oid, _, _, _ in b.targets}
    for order_id in canceled:
        assert node.order(order_id).status is OrderStatus.CANCELED
    closed = of(events, ev.TradeClosed)
    assert closed and closed[0].cause == "STOP"
    t = trade(node)
    assert t.phase == "CLOSED" and t.position == 0


def test_all_targets_then_the_runner_stop_close_the_trade() -> None:
    node, b = _protected()
    node.buy("maker", SYMBOL, 85, 110)  # sweeps all three targets
    t = trade(node)
    assert t.position == D(15) and node.order(b.stop_order_id).qty == D(15)
    assert t.phase == "PROTECTED"


def test_a_partial_entry_fill_is_protected_at_once_and_the_rest_canceled_after_30_s() -> None:
    node = make_node()
    node.sell("maker", SYMBOL, 40, 100)
    events = long_intent(node)
    b = of(events, ev.TradeBracketPlaced)[0]
    assert isinstance(b, ev.TradeBracketPlaced)
    assert b.position_qty == D(40) and node.order(b.stop_order_id).qty == D(40)
    # The intended position (100 at 100 = 10,000 USD) picks the row, 4T; sized to what filled.
    assert [q for _, _, q, _ in b.targets] == [D(12), D(12), D(10)] and b.variant == "4T"
    t = trade(node)
    assert t.phase == "ENTERING" and t.entry_order_id is not None
    entry = t.entry_order_id
    assert node.engine.next_deadline(node.clock.now()) == node.clock.now() + 30 * SEC
    assert not of(node.advance_time(29 * SEC), ev.OrderCanceled)  # no repricing meanwhile
    node.advance_time(1 * SEC)
    assert node.order(entry).status is OrderStatus.CANCELED
    t = trade(node)
    assert t.phase == "PROTECTED" and t.position == D(40) and t.stop_qty == 40


def test_a_triggered_stop_cancels_the_targets_before_it_trades_so_nothing_is_oversold() -> None:
    node, b = _protected()
    events = node.update_prices(SYMBOL, last=98)  # no bid: the stop-limit rests at 97.90
    assert {e.cause for e in of(events, ev.TradeTargetCanceled)} == {"STOP_TRIGGERED"}  # type: ignore[attr-defined]
    node.buy("maker", SYMBOL, 200, 110)  # one sweep: it meets the stop only
    t = trade(node)
    assert t.position == 0 and t.phase == "CLOSED" and t.close_cause == "STOP"
    assert all(node.order(oid).cum_qty == 0 for oid, _, _, _ in b.targets)


def test_a_later_entry_fill_grows_the_targets_and_the_stop_proportionally() -> None:
    """§9.1 "Partial Fill auf Entry: Position mit Teilmenge weiterverwalten. Rest stornieren
    nach 30s. Stops und Targets proportional anpassen"; §2 "PARTIAL_FILLED aktualisiert
    Stop/Targets proportional"."""
    node = make_node()
    node.sell("maker", SYMBOL, 40, 100)
    b = of(long_intent(node), ev.TradeBracketPlaced)[0]
    assert isinstance(b, ev.TradeBracketPlaced)
    before = node.engine.state.seq
    node.sell("maker", SYMBOL, 60, 100)
    added = [e for e in node.events(before + 1) if isinstance(e, ev.TradeTargetsAdded)]
    assert added
    t = trade(node)
    assert t.position == D(100) and t.phase == "PROTECTED" and t.stop_qty == D(100)
    by_index: dict[int, D] = {}
    for _, index, qty, price in (*b.targets, *added[0].targets):  # type: ignore[attr-defined]
        by_index[index] = by_index.get(index, D(0)) + qty
        assert price == {1: D(102), 2: D(103), 3: D(104)}[index]
    assert by_index == {1: D(30), 2: D(30), 3: D(25)}  # the 4T row on the whole 100


def test_an_open_trade_keeps_its_orders_in_memory_past_the_retention_window() -> None:
    """Orders leave memory an hour after they end (core/retention.py), but not while their
    managed trade is open: its position is read from them."""
    node = make_node()
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node)
    for _ in range(3):
        node.advance_time(3600 * SEC)
    t = trade(node)
    assert t.position == D(100) and t.phase == "PROTECTED"
    entry = t.entry_order_id or node.engine.state.trades["t1"].entry_orders[0]
    assert entry in node.engine.state.orders
    node.buy("maker", SYMBOL, 500, 98)
    node.update_prices(SYMBOL, last=98)  # the stop closes the trade
    assert trade(node).phase == "CLOSED"
    node.advance_time(3600 * SEC)
    node.advance_time(3600 * SEC)
    assert entry not in node.engine.state.orders  # now it may go


def test_an_intent_whose_stop_the_market_already_passed_is_refused() -> None:
    """The entry limit would fill where the trade is already stopped out."""
    node = make_node()
    node.sell("maker", SYMBOL, 10, "97.50")  # the best offer lies below the stop (98)
    refused = of(long_intent(node), ev.TradeIntentRefused)
    assert refused and refused[0].reason == "STOP_THROUGH_MARKET"  # type: ignore[attr-defined]
