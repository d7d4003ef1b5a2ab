"""Seed 001 §8.2 "Repricing-Degradation" wired into the managed trade's entry: per account, every
mode entered or left is a ``RepricingDegraded`` event."""

from __future__ import annotations

from trade_kit import SEC, SYMBOL, D, long_intent, make_node, of

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model import events as ev

MIN = 60 * SEC


def _abandon(node: Node, trade_id: str, symbol: str = SYMBOL) -> list[ev.EventBase]:
    """An intent whose entry never fills: placed, repriced, abandoned."""
    out = node.trade(
        trade_id, "trader", symbol, "BUY", entry_ideal="100", entry_max="103", stop="98",
        risk_amount="200",
    )  # fmt: skip
    for _ in range(4):
        out += node.advance_time(10 * SEC)
    return out


def _degraded(node: Node) -> list[tuple[str, bool]]:
    return [
        (e.mode, e.entered)  # type: ignore[attr-defined]
        for e in node.journal.read()
        if isinstance(e, ev.RepricingDegraded)
    ]


def test_section_8_2_cancel_replace_rate_above_5_slows_repricing_to_10_s_until_below_3() -> None:
    """§8.2 "Cancel/Replace-Rate > 5:1 (ueber 30 Min): Repricing-Intervall von 5s auf 10s
    erhoehen; bis Rate < 3:1"."""
    node = make_node()
    _abandon(node, "a1")
    assert _degraded(node) == []  # 3 cancel/replaces
    _abandon(node, "a2")  # 6 : 0 > 5
    assert _degraded(node) == [("SLOW_REPRICING", True)]
    events = long_intent(node, "a3")
    placed = of(events, ev.TradeEntryPlaced)[0]
    assert placed.next_reprice_ts == placed.ts_event + 10 * SEC  # type: ignore[attr-defined]
    node.advance_time(5 * SEC)
    assert of(node.advance_time(4 * SEC), ev.TradeEntryRepriced) == []
    assert of(node.advance_time(1 * SEC), ev.TradeEntryRepriced)
    node.advance_time(31 * MIN)  # the replaces leave the window: 0 < 3
    assert ("SLOW_REPRICING", False) in _degraded(node)
    recovered = [
        e
        for e in node.journal.read()
        if isinstance(e, ev.RepricingDegraded) and e.mode == "SLOW_REPRICING" and not e.entered
    ]
    assert recovered[0].reason == "REPRICING_CANCEL_REPLACE_RATE_RECOVERED"


def test_section_8_2_order_trade_ratio_above_10_allows_one_cycle_and_no_retry_until_below_6() -> (
    None
):
    """§8.2 "Order/Trade-Ratio > 10:1 (ueber 60 Min): Repricing auf 1 Zyklus (statt 3), kein
    Abandon-Retry; bis Ratio < 6:1"."""
    node = make_node()
    node.add_instrument(Instrument.spot("ABC/USD", tick_size="0.01", lot_size="1"))
    node.update_prices("ABC/USD", last=100)
    for i in range(3):  # 12 entry orders, no trade
        _abandon(node, f"o{i}")
    assert ("SINGLE_CYCLE", True) in _degraded(node)
    refused = of(long_intent(node, "retry"), ev.TradeIntentRefused)
    assert refused and refused[0].reason == "REPRICING_NO_RETRY"  # type: ignore[attr-defined]
    events = _abandon(node, "b1", "ABC/USD")  # another pipeline: one cycle only
    assert len(of(events, ev.TradeEntryRepriced)) == 1
    abandoned = of(events, ev.TradeEntryAbandoned)
    assert abandoned and abandoned[0].reason == "MAX_REPRICING_CYCLES"  # type: ignore[attr-defined]
    node.advance_time(61 * MIN)
    assert ("SINGLE_CYCLE", False) in _degraded(node)
    assert of(long_intent(node, "again"), ev.TradeIntentAccepted)


def test_section_8_2_fill_rate_below_30_percent_over_5_attempts_halves_the_size() -> None:
    """§8.2 "Fill-Rate < 30% (ueber 5 Versuche): Positionsgroesse halbieren ODER in OBSERVING;
    bis naechster LLM-Zyklus" (Atlas halves; the next cycle is ``ResumeTrading``)."""
    node = make_node()
    node.set_policy_params(
        {"risk.cancel-replace-rate-warn": 1000, "risk.order-trade-ratio-warn": 1000},
        actor="desk",
    )
    first = of(_abandon(node, "f0"), ev.TradeSized)[0]
    for i in range(1, 5):
        _abandon(node, f"f{i}")
    assert _degraded(node) == [("LOW_FILL_RATE", True)]
    sized = of(long_intent(node, "f5"), ev.TradeSized)[0]
    assert isinstance(sized, ev.TradeSized) and isinstance(first, ev.TradeSized)
    assert sized.max_qty == (first.max_qty / 2).to_integral_value(rounding="ROUND_FLOOR")
    for _ in range(4):
        node.advance_time(10 * SEC)
    events = node.resume_trading("trader", actor="strategy")
    assert of(events, ev.TradingResumed)
    left = of(events, ev.RepricingDegraded)[0]
    assert left.reason == "REPRICING_FILL_RATE_RESET_BY_NEW_CYCLE"  # type: ignore[attr-defined]
    again = of(long_intent(node, "f6"), ev.TradeSized)[0]
    assert again.max_qty == first.max_qty  # type: ignore[attr-defined]


def test_section_8_2_degradation_replays_to_the_same_digest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "j.db")
    clock = ManualClock()
    node = make_node(Node.open(path, clock=clock))
    _abandon(node, "a1")
    _abandon(node, "a2")
    node.snapshot()
    _abandon(node, "a3")
    before = (node.digest(), node.managed_trades())
    node.close()
    again = Node.open(path, clock=clock)
    try:
        assert (again.digest(), again.managed_trades()) == before
        desk = again.engine.state.cycles.desks["trader"]
        assert desk.modes == ["SLOW_REPRICING", "SINGLE_CYCLE"]
        # 4 + 4 entry orders, then 3: SINGLE_CYCLE came with the 11th and ended a3 sooner
        assert desk.attempts == [False, False, False] and D(len(desk.orders)) == 11
    finally:
        again.close()
