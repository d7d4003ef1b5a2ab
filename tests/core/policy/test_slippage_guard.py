"""Seed 001 §14 "Slippage-Management (Normativ)" wired into the managed trade: every entry is
compared with the intent price (the ideal entry), per account windows escalate."""

from __future__ import annotations

from decimal import Decimal

from trade_kit import SEC, SYMBOL, D, long_intent, make_node, of, trade

from atlas_oms import Instrument, Node
from atlas_oms.model import events as ev


def _slipped_trade(node: Node, i: int, slip: str) -> ev.TradeSized:
    """A long on its own symbol whose entry fills ``slip`` above the ideal 100 (one reprice)."""
    symbol = f"S{i}/USD"
    node.add_instrument(Instrument.spot(symbol, tick_size="0.01", lot_size="1"))
    node.update_prices(symbol, last=100)
    node.deposit("maker", f"S{i}", 1000)
    ask = 100 + Decimal(slip)
    node.sell("maker", symbol, 100, ask)
    events = node.trade(
        f"s{i}", "trader", symbol, "BUY", entry_ideal="100", entry_max=str(100 + 3 * Decimal(slip)),
        stop="98", risk_amount="200",
    )  # fmt: skip
    node.advance_time(5 * SEC)
    assert trade(node, f"s{i}").entry_px == ask
    return of(events, ev.TradeSized)[0]  # type: ignore[return-value]


def _escalations(node: Node) -> list[str]:
    return [
        e.action  # type: ignore[attr-defined]
        for e in node.journal.read()
        if isinstance(e, ev.SlippageEscalated)
    ]


def test_section_14_1_every_entry_fill_is_compared_with_the_intent_price() -> None:
    """§14.1 "Jeder Fill wird gegen den Intent-Preis verglichen: slippage = fill_price -
    intent_price"."""
    node = make_node()
    _slipped_trade(node, 0, "0.2")
    recorded = [e for e in node.journal.read() if isinstance(e, ev.TradeSlippageRecorded)]
    assert len(recorded) == 1
    r = recorded[0]
    assert r.intent_price == D(100) and r.fill_price == D("100.2") and r.adverse == D("0.002")
    assert trade(node, "s0").entry_slippage == D("0.002")


def test_section_14_2_average_above_0_2_percent_over_5_trades_warns() -> None:
    """§14.2 "Avg. Slippage > 0.2% ueber 5 Trades: Warnung an Monitoring"."""
    node = make_node()
    for i in range(4):
        _slipped_trade(node, i, "0.3")
    assert _escalations(node) == []
    _slipped_trade(node, 4, "0.3")
    assert _escalations(node) == ["SLIPPAGE_WARN"]


def test_section_14_2_average_above_0_3_percent_over_10_trades_cuts_the_max_size_by_25() -> None:
    """§14.2 "Avg. Slippage > 0.3% ueber 10 Trades: Max. Positionsgroesse um 25% reduzieren"."""
    node = make_node()
    first = _slipped_trade(node, 0, "0.4")
    for i in range(1, 10):
        _slipped_trade(node, i, "0.4")
    assert _escalations(node) == ["SLIPPAGE_WARN", "SLIPPAGE_REDUCE_SIZE_25"]
    after = _slipped_trade(node, 10, "0.4")
    # the same zone: the largest position is 75% of what it was
    assert after.max_qty == (first.max_qty * D("0.75")).to_integral_value(rounding="ROUND_FLOOR")


def test_section_14_2_a_single_fill_above_0_5_percent_moves_the_stop_to_r_from_the_fill() -> None:
    """§14.2 "Einzelne Slippage > 0.5%: Stop anpassen": the stop keeps the planned risk per
    share (ideal - stop = 2) from the real fill, never loosening."""
    node = make_node()
    node.sell("maker", SYMBOL, 100, 101)
    long_intent(node)  # ideal 100, max 103, stop 98
    node.advance_time(5 * SEC)  # reprices to 101 and fills: 1% adverse
    t = trade(node)
    assert t.entry_px == D(101)
    assert _escalations(node) == ["SLIPPAGE_ADJUST_STOP"]
    assert t.stop_trigger == D(99) and [c for _, _, c in t.stop_history][-1] == "SLIPPAGE"
    assert node.order(t.stop_order_id).trigger_price == D(99)  # type: ignore[arg-type]


def test_section_14_2_a_single_fill_that_destroys_reward_risk_exits_at_once() -> None:
    """§14.2 "ggf. sofortiger Exit wenn R/R zerstoert": the nearest target (a key level just
    above the fill) pays less than the risk: the stop moves up to the market and exits with its
    limit (no market order)."""
    node = make_node()
    node.sell("maker", SYMBOL, 100, 101)
    node.buy("maker", SYMBOL, 500, "100.95")
    long_intent(node, key_level="101.3")
    node.advance_time(5 * SEC)
    assert _escalations(node) == ["SLIPPAGE_EXIT_RR_DESTROYED"]
    t = trade(node)
    assert t.phase == "CLOSED" and t.position == 0
    orders = [node.order(o) for o in node.engine.state.trades["t1"].exit_orders]
    assert all(o.order_type.value != "MARKET" for o in orders)
