"""Seed 001's emergency exits at market (core/policy/fallback.py): §4 (stop-market fallback, gap
opening, LULD halt), §9.1 (partial fill on the stop), §2/§9.3 (rejected stop while unprotected).
Every market order carries its §3.2 reason; a replay gives the same digest."""

from __future__ import annotations

from trade_kit import SEC, SYMBOL, D, long_intent, make_node, of, trade

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.core.config import EngineConfig
from atlas_oms.core.engine import Engine
from atlas_oms.model import events as ev
from atlas_oms.model import events_exits as ex
from atlas_oms.model.enums import OrderType
from atlas_oms.model.risk import AlertLevel, MarketOrderReason


def _entered(node: Node) -> None:
    """A long of 100 at 100: stop-limit 98 / 97.90, three targets."""
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node)
    assert trade(node).phase == "PROTECTED" and trade(node).position == D(100)


def _market_exits(node: Node) -> list:  # type: ignore[type-arg]
    t = node.engine.state.trades["t1"]
    return [node.order(o) for o in t.exit_orders if node.order(o).order_type is OrderType.MARKET]


def _replays(node: Node) -> None:
    replay = Engine()
    replay.apply_all(list(node.journal.read()))
    assert replay.digest() == node.digest()
    assert Node(node.journal, clock=node.clock).managed_trades() == node.managed_trades()


def test_section_4_a_triggered_stop_limit_unfilled_after_5_s_is_replaced_by_a_market_order() -> (
    None
):
    """§4: "Stop-Limit nicht gefuellt nach 5 Sekunden | Cancel Stop-Limit, ersetze durch
    Stop-Market" (§3.2 item 3: Stop-Market-Fallback)."""
    node = make_node()
    _entered(node)
    node.buy("maker", SYMBOL, 100, 97)  # below the stop's limit 97.90: the stop-limit cannot fill
    events = node.update_prices(SYMBOL, last=98)
    triggered = of(events, ex.TradeStopTriggered)
    assert len(triggered) == 1 and triggered[0].fallback_ts == 5 * SEC  # type: ignore[attr-defined]
    assert node.engine.next_deadline(0) == 5 * SEC
    assert not of(node.advance_time(5 * SEC - 1), ex.TradeExitStarted)  # not yet
    events = node.advance_time(1)
    started = of(events, ex.TradeExitStarted)
    assert started and started[0].reason == "STOP_MARKET_FALLBACK"  # type: ignore[attr-defined]
    assert started[0].cause == "STOP_LIMIT_UNFILLED"  # type: ignore[attr-defined]
    (market,) = _market_exits(node)
    assert market.market_reason is MarketOrderReason.STOP_MARKET_FALLBACK
    assert market.cum_qty == D(100) and market.avg_px == D(97)
    t = trade(node)
    assert t.phase == "CLOSED" and t.close_cause == "STOP_LIMIT_UNFILLED" and t.position == 0
    assert not node.order(t.stop_order_id or 0).is_live
    _replays(node)


def test_section_4_a_stop_limit_that_fills_within_5_s_needs_no_fallback() -> None:
    """§4 row 1 (negative): a stop-limit filled in time closes the trade; no market order."""
    node = make_node()
    _entered(node)
    node.update_prices(SYMBOL, last=98)
    node.buy("maker", SYMBOL, 100, D("97.95"))
    node.advance_time(10 * SEC)
    assert trade(node).close_cause == "STOP" and not _market_exits(node)


def test_section_9_1_a_partial_stop_fill_closes_the_rest_and_every_target_at_market_at_once() -> (
    None
):
    """§9.1: "Partial Fill auf Stop | Verbleibende Stop-Menge + alle Targets sofort als
    Market-Order schliessen (Notfall-Fall)" (§3.2 item 4)."""
    node = make_node()
    _entered(node)
    node.buy("maker", SYMBOL, 100, 97)  # liquidity for the market exit, below the stop's limit
    node.update_prices(SYMBOL, last=98)  # the stop triggers, the targets are canceled
    node.buy("maker", SYMBOL, 40, D("97.95"))  # 40 of the stop fill
    t = trade(node)
    assert t.phase == "CLOSED" and t.close_cause == "STOP_PARTIAL_FILL" and t.position == 0
    (market,) = _market_exits(node)
    assert market.market_reason is MarketOrderReason.STOP_PARTIAL_FILL_EMERGENCY
    assert market.qty == D(60) and market.cum_qty == D(60)
    stop = node.order(t.stop_order_id or 0)
    assert stop.cum_qty == D(40) and not stop.is_live
    assert not t.targets
    _replays(node)


def test_section_9_1_partial_stop_fill_waits_for_the_cancel_before_the_market_sell() -> None:
    """§9.1 with locks: the market sell goes out only after the stop's cancel is confirmed, so
    stop and market never sell more than the position together."""
    node = make_node()
    _entered(node)
    node.buy("maker", SYMBOL, 100, 97)
    node.update_prices(SYMBOL, last=98)
    before = node.engine.seq
    node.buy("maker", SYMBOL, 40, D("97.95"))
    events = [e for e in node.journal.read() if e.seq > before]
    stop_id = trade(node).stop_order_id
    kinds = [
        (e.__class__.__name__, getattr(e, "order_id", None))
        for e in events
        if isinstance(e, ev.OrderCanceled | ex.TradeExitOrderPlaced | ex.TradeExitStarted)
    ]
    assert kinds.index(("OrderCanceled", stop_id)) < [k for k, _ in kinds].index(
        "TradeExitOrderPlaced"
    )
    assert kinds[0][0] == "TradeExitStarted"


def test_section_9_3_a_refused_stop_while_unprotected_is_critical_retried_then_closed_at_market() -> (
    None
):
    """§2: "REJECTED ist CRITICAL, wenn Position ungeschuetzt ist (sofortige Eskalation)";
    §9.3: "CRITICAL Alert ... sofortige Eskalation, Retry begrenzt, ggf. Kill-Switch"."""
    node = make_node()
    node.buy("maker", SYMBOL, 10, 97)  # liquidity for the exit, below the stop's limit
    long_intent(node)
    node.sell("maker", SYMBOL, 1, D("97.5"))  # one lot of the entry fills; the rest works
    node.set_market_status(SYMBOL, "HALTED", actor="ops")
    # the stop triggers and would trade with the trade's own entry: self-trade prevention
    # cancels it; its replacement is refused (halted): CRITICAL, 2 retries, then market
    events = node.update_prices(SYMBOL, last=D("97.5"))
    alerts = [e for e in of(events, ev.RiskAlert) if e.code == "STOP_REJECTED_UNPROTECTED"]  # type: ignore[attr-defined]
    assert len(alerts) == 3 and all(a.level is AlertLevel.CRITICAL for a in alerts)  # type: ignore[attr-defined]
    rejected = of(events, ex.TradeStopRejected)
    assert [e.attempt for e in rejected] == [1, 2, 3]  # type: ignore[attr-defined]
    started = of(events, ex.TradeExitStarted)
    assert started[0].cause == "STOP_REJECTED"  # type: ignore[attr-defined]
    assert not of(events, ex.TradeExitOrderPlaced)  # halted: nothing is sent
    assert trade(node).position == D(1)
    events = node.set_market_status(SYMBOL, None, actor="ops")  # resume
    (market,) = _market_exits(node)
    assert market.market_reason is MarketOrderReason.STOP_MARKET_FALLBACK
    assert market.cum_qty == D(1) and trade(node).phase == "CLOSED"
    _replays(node)


def test_section_9_3_a_stop_retry_that_succeeds_protects_the_position_again() -> None:
    """§9.3 "Retry begrenzt": with retries left the trade places its stop again."""
    node = make_node()
    node.set_policy_params({"execution.stop-reject-retries": "5"}, actor="ops")
    long_intent(node)
    node.sell("maker", SYMBOL, 1, D("97.5"))
    node.set_market_status(SYMBOL, "HALTED", actor="ops")
    events = node.update_prices(SYMBOL, last=D("97.5"))
    assert len(of(events, ex.TradeStopRejected)) == 6 and of(events, ex.TradeExitStarted)


def test_section_4_a_gap_opening_below_the_stop_closes_at_market_at_the_open() -> None:
    """§4: "Gap-Opening unter Stop-Level (Pre-Market-Check) | Sofort Market-Order bei
    Markteroeffnung" (§3.2 item 5), the open seen as a status change CLOSED -> OPEN."""
    node = make_node()
    _entered(node)
    node.buy("maker", SYMBOL, 100, 96)
    node.set_market_status(SYMBOL, "CLOSED", actor="calendar", reason="overnight")
    node.update_prices(SYMBOL, last=97)  # pre-market check: below the stop
    node.advance_time(60 * SEC)  # the stop-market fallback cannot act while closed
    assert not _market_exits(node) and trade(node).phase == "PROTECTED"
    events = node.set_market_status(SYMBOL, "OPEN", actor="calendar", reason="open")
    started = of(events, ex.TradeExitStarted)
    assert started and started[0].reason == "GAP_OPENING"  # type: ignore[attr-defined]
    (market,) = _market_exits(node)
    assert market.market_reason is MarketOrderReason.GAP_OPENING and market.cum_qty == D(100)
    assert trade(node).close_cause == "GAP_OPENING"
    _replays(node)


def test_section_4_the_scheduled_0930_open_after_a_gap_below_the_stop_closes_at_market() -> None:
    """§4 row 2 on the XNYS schedule: the 09:30 ET open is seen on the first tick after it."""
    monday_10_et = 1_796_655_600 * SEC  # 2026-12-07 15:00 UTC = 10:00 EST (Monday)
    clock = ManualClock(monday_10_et)
    # overnight: keep terminal orders in memory (a trade's position is read from its orders)
    node = Node.in_memory(clock=clock, config=EngineConfig(order_retention_ns=None))

    node.add_instrument(Instrument.spot(SYMBOL, tick_size="0.01", lot_size="1", session="XNYS"))
    for account in ("trader", "maker"):
        node.open_account(account)
        node.deposit(account, "USD", 10_000_000)
        node.deposit(account, "XYZ", 1_000_000)
    node.update_prices(SYMBOL, last=100)
    _entered(node)
    node.buy("maker", SYMBOL, 100, 96)
    clock.set(monday_10_et + 22 * 3600 * SEC)  # Tuesday 08:00 ET: pre-market
    node.update_prices(SYMBOL, last=97)
    assert node.engine.state.trades["t1"].session_status == "PRE_MARKET"
    clock.set(monday_10_et + (23 * 3600 + 1800) * SEC)  # Tuesday 09:30 ET
    events = node.advance_time(0)
    assert [e.status for e in of(events, ex.TradeSessionObserved)] == ["OPEN"]  # type: ignore[attr-defined]
    (market,) = _market_exits(node)
    assert market.market_reason is MarketOrderReason.GAP_OPENING and market.cum_qty == D(100)


def test_section_4_luld_halt_no_action_while_halted_then_market_close_on_resume() -> None:
    """§4: "LULD-Halt aktiv | Keine Aktion moeglich, nach Resume sofort Market-Close"."""
    node = make_node()
    _entered(node)
    node.buy("maker", SYMBOL, 100, 96)
    node.set_market_status(SYMBOL, "HALTED", actor="venue", reason="LULD")
    events = node.update_prices(SYMBOL, last=97)  # the stop triggers during the halt
    assert of(events, ex.TradeStopTriggered)
    events = node.advance_time(30 * SEC)
    assert not of(events, ex.TradeExitStarted) and not _market_exits(node)  # nothing sent
    events = node.set_market_status(SYMBOL, None, actor="venue", reason="resume")
    started = of(events, ex.TradeExitStarted)
    assert started and started[0].cause == "LULD_RESUME"  # type: ignore[attr-defined]
    (market,) = _market_exits(node)
    assert market.market_reason is MarketOrderReason.STOP_MARKET_FALLBACK
    assert trade(node).phase == "CLOSED" and trade(node).position == 0
    _replays(node)


def test_section_4_a_halt_that_never_reached_the_stop_leaves_the_position_protected() -> None:
    """§4 row 3 (decided): only a stop that triggered or was crossed during the halt closes at
    market on resume; a healthy position keeps its stop (§3.2 allows no other market order)."""
    node = make_node()
    _entered(node)
    node.set_market_status(SYMBOL, "HALTED", actor="venue", reason="LULD")
    node.update_prices(SYMBOL, last=99)
    events = node.set_market_status(SYMBOL, None, actor="venue", reason="resume")
    assert not of(events, ex.TradeExitStarted)
    t = trade(node)
    assert t.phase == "PROTECTED" and node.order(t.stop_order_id or 0).is_live
