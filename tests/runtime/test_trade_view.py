"""The managed trade's read view (issue 13 §1 and §3: "P&L per tranche and per lot"): orders by
role, tranches, the stop history and P&L, on the built-in exchange with a maker account.

Decisions pinned here (runtime/trade_view.py): an exit's realized P&L is what it filled against the
entry average (a partial target counts its filled part); a stop or market exit is its own row,
never a tranche; a lot is one entry order's fills and exits close the lots pro rata, so the lots'
P&L adds up to the trade's."""

from __future__ import annotations

from tests.core.policy.trade_kit import SYMBOL, D, long_intent, make_node, trade

from atlas_oms import Node


def _protected() -> Node:
    node = make_node()
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node)  # 100 @ 100, stop 98; STANDARD: 30 @ 102, 30 @ 103, 25 @ 104, runner 15
    return node


def test_pnl_per_tranche_counts_each_targets_fills_against_the_entry_average() -> None:
    node = _protected()
    node.buy("maker", SYMBOL, 30, 102)  # tranche 1 filled: +2 x 30
    node.buy("maker", SYMBOL, 10, 103)  # tranche 2 partly filled: +3 x 10
    node.update_prices(SYMBOL, last=101)
    t = trade(node)
    assert t.entry_avg_px == D(100) and t.position == D(60)
    rows = [(x.index, x.planned_qty, x.filled_qty, x.status, x.realized_pnl) for x in t.tranches]
    assert rows == [
        (1, D(30), D(30), "FILLED", D(60)),
        (2, D(30), D(10), "PARTIALLY_FILLED", D(30)),
        (3, D(25), D(0), "ACCEPTED", D(0)),
    ]
    assert t.realized_pnl == D(90)
    assert t.unrealized_pnl == D(60)  # 60 open x (101 - 100)
    assert [o.role for o in t.target_orders] == ["TARGET"] * 3
    assert [c for _, _, c in t.stop_history] == ["INITIAL", "BREAK_EVEN"]


def test_a_stop_exit_is_its_own_row_and_canceled_tranches_keep_what_they_filled() -> None:
    node = _protected()
    node.buy("maker", SYMBOL, 30, 102)
    node.buy("maker", SYMBOL, 10, 103)
    node.buy("maker", SYMBOL, 60, "99.95")  # a bid under the break-even stop (100 / 99.90)
    node.update_prices(SYMBOL, last="99.95")  # the stop triggers and sells 60 @ 99.95
    t = trade(node)
    assert t.phase == "CLOSED" and t.position == 0 and not t.is_open
    (stop,) = t.stops
    assert stop.role == "STOP" and stop.cum_qty == D(60) and stop.realized_pnl == D("-3")
    assert [(x.status, x.realized_pnl) for x in t.tranches] == [
        ("FILLED", D(60)),
        ("CANCELED", D(30)),  # its filled part stays its P&L
        ("CANCELED", D(0)),
    ]
    assert t.realized_pnl == D(87) and t.unrealized_pnl == 0
    assert sum(lot.realized_pnl for lot in t.lots) == t.realized_pnl


def test_a_lot_is_one_entry_orders_fills_and_exits_close_lots_pro_rata() -> None:
    node = _protected()
    node.buy("maker", SYMBOL, 30, 102)
    node.update_prices(SYMBOL, last=103)
    (lot,) = trade(node).lots
    assert lot.order_id == trade(node).entries[0].order_id
    assert (lot.qty, lot.open_qty, lot.price) == (D(100), D(70), D(100))
    assert lot.realized_pnl == D(60) and lot.unrealized_pnl == D(210)


def test_the_single_view_carries_the_trades_events_and_lists_do_not() -> None:
    node = _protected()
    assert trade(node).events is None
    view = node.managed_trade("t1", events=True)
    assert view is not None and view.events is not None
    kinds = [type(e).__name__ for e in view.events]
    assert kinds[0] == "TradeIntentAccepted" and "TradeBracketPlaced" in kinds
    orders = {o.order_id for o in (*view.entries, *view.stops, *view.target_orders)}
    others = [e for e in view.events if not type(e).__name__.startswith("Trade")]
    assert others and all(getattr(e, "order_id", None) in orders for e in others)
    assert [t.trade_id for t in node.managed_trades("trader", open_only=True)] == ["t1"]
    assert node.managed_trades("maker") == []
