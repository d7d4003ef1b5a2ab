"""Seed 001 §11 forced close (core/policy/forced_close.py), on an instrument following the XNYS
schedule, with a manual clock in New York time (EST in December, EDT in July)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_trade_invariant import check_protected
from trade_kit import SEC, SYMBOL, D, long_intent, of, trade

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.core.config import EngineConfig
from atlas_oms.core.engine import Engine
from atlas_oms.core.sessions import days_from_civil
from atlas_oms.model import events as ev
from atlas_oms.model import events_exits as ex
from atlas_oms.model.enums import OrderType
from atlas_oms.model.risk import AlertLevel, MarketOrderReason, Scope

MIN = 60 * SEC


def et(y: int, m: int, d: int, hh: int, mm: int, ss: int = 0, utc_offset_h: int = -5) -> int:
    """ns of a New York wall-clock time (``utc_offset_h``: -5 EST, -4 EDT)."""
    return (days_from_civil(y, m, d) * 86400 + (hh - utc_offset_h) * 3600 + mm * 60 + ss) * SEC


MONDAY_10 = et(2026, 12, 7, 10, 0)
MONDAY_1545 = et(2026, 12, 7, 15, 45)


def session_node(start: int = MONDAY_10) -> tuple[Node, ManualClock]:
    clock = ManualClock(start)
    # a day-long trade: terminal orders stay in memory (a trade's position is read from them)
    node = Node.in_memory(clock=clock, config=EngineConfig(order_retention_ns=None))
    node.add_instrument(Instrument.spot(SYMBOL, tick_size="0.01", lot_size="1", session="XNYS"))
    for account in ("trader", "maker"):
        node.open_account(account)
        node.deposit(account, "USD", 10_000_000)
        node.deposit(account, "XYZ", 1_000_000)
    node.update_prices(SYMBOL, last=100)
    return node, clock


def entered(start: int = MONDAY_10) -> tuple[Node, ManualClock]:
    node, clock = session_node(start)
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node)
    assert trade(node).phase == "PROTECTED" and trade(node).position == D(100)
    return node, clock


def markets(node: Node) -> list:  # type: ignore[type-arg]
    t = node.engine.state.trades["t1"]
    return [node.order(o) for o in t.exit_orders if node.order(o).order_type is OrderType.MARKET]


def test_section_11_from_1545_et_no_new_entries_are_accepted() -> None:
    """§11: "Ab forcedCloseStart (Default: 15:45 ET) werden keine neuen Entries angenommen"."""
    node, clock = session_node(et(2026, 12, 7, 15, 44, 59))
    assert of(long_intent(node, "early"), ev.TradeIntentAccepted)
    clock.set(MONDAY_1545)
    refused = of(long_intent(node, "late"), ev.TradeIntentRefused)
    assert refused and refused[0].reason == "FORCED_CLOSE_WINDOW"  # type: ignore[attr-defined]


def test_section_11_the_window_follows_new_york_daylight_saving_time() -> None:
    """§16 forced-close-start 15:45 "ET": 19:45 UTC is 15:45 EDT in July, 14:45 EST in December."""
    node, _ = session_node(et(2026, 7, 6, 15, 45, utc_offset_h=-4))
    assert of(long_intent(node), ev.TradeIntentRefused)
    node, _ = session_node(et(2026, 12, 7, 14, 45))
    assert of(long_intent(node), ev.TradeIntentAccepted)


def test_section_11_a_holiday_without_a_session_has_no_forced_close() -> None:
    """Decided: a day the calendar closes (``SetMarketStatus`` CLOSED) has no forced close."""
    node, _ = session_node(MONDAY_1545)
    node.set_market_status(SYMBOL, "CLOSED", actor="calendar", reason="holiday")
    refused = of(long_intent(node), ev.TradeIntentRefused)
    assert all(e.reason != "FORCED_CLOSE_WINDOW" for e in refused)  # type: ignore[attr-defined]


def test_section_11_a_working_entry_is_canceled_at_1545() -> None:
    """§11 "keine neuen Entries": an entry still working at 15:45 is abandoned."""
    node, clock = session_node(et(2026, 12, 7, 15, 40))
    node.set_policy_params({"execution.repricing-interval-ms": "3600000"}, actor="ops")
    long_intent(node)
    entry = trade(node).entry_order_id
    assert node.engine.next_deadline(clock.now()) == MONDAY_1545
    clock.set(MONDAY_1545)
    events = node.advance_time(0)
    abandoned = of(events, ev.TradeEntryAbandoned)
    assert abandoned and abandoned[0].reason == "FORCED_CLOSE_WINDOW"  # type: ignore[attr-defined]
    assert trade(node).phase == "SEEKING" and not node.order(entry or 0).is_live


def test_section_11_positions_close_with_an_aggressive_limit_at_the_bid_repriced_every_5_s() -> (
    None
):
    """§11: "Offene Positionen werden sukzessive geschlossen: Bevorzugt aggressive Limit (nahe
    Bid)"; §3.1 exit "Preis = aktueller Bid. Repricing alle 5s". The stop keeps protecting."""
    node, clock = entered()
    node.buy("maker", SYMBOL, 50, D("99.50"))
    clock.set(MONDAY_1545)
    events = node.advance_time(0)
    assert {e.cause for e in of(events, ev.TradeTargetCanceled)} == {"FORCED_CLOSE"}  # type: ignore[attr-defined]
    (placed,) = of(events, ex.TradeForcedCloseOrder)
    assert placed.price == D("99.50") and placed.qty == D(100)  # type: ignore[attr-defined]
    t = trade(node)
    assert t.position == D(50) and t.phase == "PROTECTED"
    check_protected(node)  # the stop was resized to the 50 left
    node.buy("maker", SYMBOL, 80, D("99.20"))
    events = node.advance_time(5 * SEC)
    (repriced,) = of(events, ex.TradeForcedCloseOrder)
    assert repriced.price == D("99.20") and repriced.reprice == 1  # type: ignore[attr-defined]
    t = trade(node)
    assert t.phase == "CLOSED" and t.close_cause == "FORCED_CLOSE" and t.position == 0
    assert not markets(node)  # no market order was needed
    replay = Engine()
    replay.apply_all(list(node.journal.read()))
    assert replay.digest() == node.digest()


def test_section_11_an_unfilled_forced_close_limit_falls_back_to_market() -> None:
    """§11 "Fallback Market (wenn nicht liquidierbar)"; §3.2 item 1 (Forced Close)."""
    node, clock = entered()
    clock.set(MONDAY_1545)
    node.advance_time(0)  # no bid: the limit rests at the last price
    node.advance_time(5 * SEC)
    node.advance_time(5 * SEC)  # two repricings, unfilled
    check_protected(node)
    node.buy("maker", SYMBOL, 100, D("99.50"))
    events = node.advance_time(5 * SEC)
    started = of(events, ex.TradeExitStarted)
    assert started and started[0].reason == "FORCED_CLOSE"  # type: ignore[attr-defined]
    (market,) = markets(node)
    assert market.market_reason is MarketOrderReason.FORCED_CLOSE and market.cum_qty == D(100)
    assert trade(node).close_cause == "FORCED_CLOSE"


def test_section_11_cannot_liquidate_by_1555_is_an_emergency_with_kill_switch_and_escalation() -> (
    None
):
    """§11: ""Cannot Liquidate" → EMERGENCY Alert + Kill-Switch + Eskalation"."""
    node, clock = entered()
    clock.set(MONDAY_1545)
    for _ in range(4):
        node.advance_time(5 * SEC)  # limit, repricings, then a market exit without any bid
    assert trade(node).position == D(100)
    end = et(2026, 12, 7, 15, 55)
    assert node.engine.next_deadline(clock.now()) == end
    clock.set(end)
    events = node.advance_time(0)
    (escalation,) = of(events, ex.TradeCannotLiquidate)
    assert escalation.position == D(100)  # type: ignore[attr-defined]
    alerts = [e for e in of(events, ev.RiskAlert) if e.code == "CANNOT_LIQUIDATE"]  # type: ignore[attr-defined]
    assert alerts and alerts[0].level is AlertLevel.EMERGENCY  # type: ignore[attr-defined]
    (kill,) = of(events, ev.KillSwitchTripped)
    assert kill.scope is Scope.ACCOUNT and kill.scope_id == "trader" and kill.flatten  # type: ignore[attr-defined]
    assert trade(node).close_cause == "CANNOT_LIQUIDATE"


def test_section_11_a_stop_triggering_during_the_forced_close_goes_to_market_at_once() -> None:
    """§11 with §5.2: the stop keeps working beside the limit; if it triggers, the position MUST
    still close: both are canceled and the rest goes at market (FORCED_CLOSE)."""
    node, clock = entered()
    clock.set(MONDAY_1545)
    node.advance_time(0)
    node.buy("maker", SYMBOL, 100, D("97"))  # liquidity below the stop's limit only
    events = node.update_prices(SYMBOL, last=Decimal("97.5"))
    started = of(events, ex.TradeExitStarted)
    assert started and started[0].reason == "FORCED_CLOSE"  # type: ignore[attr-defined]
    (market,) = markets(node)
    assert market.market_reason is MarketOrderReason.FORCED_CLOSE and trade(node).position == 0


def test_section_11_an_early_close_moves_the_window_to_close_minus_15_and_5_minutes() -> None:
    """§11 "exchange calendar aware" (decided): 2026-11-27 closes at 13:00, so no entries from
    12:45 ET and "cannot liquidate" at 12:55; the calendar is a journaled policy parameter."""
    node, clock = session_node(et(2026, 11, 27, 12, 40))
    node.set_policy_params({"execution.session-calendar": "2026-11-27=13:00"}, actor="ops")
    node.sell("maker", SYMBOL, 100, 100)
    long_intent(node)
    # the deadlines lead to 12:45 (the trailing stop's bar closes come every minute before it)
    due = node.engine.next_deadline(clock.now())
    while due is not None and due < et(2026, 11, 27, 12, 45):
        due = node.engine.next_deadline(due)
    assert due == et(2026, 11, 27, 12, 45)
    clock.set(et(2026, 11, 27, 12, 45))
    events = node.advance_time(0)
    assert of(events, ex.TradeForcedCloseOrder)
    assert of(long_intent(node, "late"), ev.TradeIntentRefused)
    clock.set(et(2026, 11, 27, 12, 55))
    assert of(node.advance_time(0), ex.TradeCannotLiquidate)
    replay = Engine()
    replay.apply_all(list(node.journal.read()))
    assert replay.digest() == node.digest()


def test_section_11_a_holiday_in_the_calendar_has_no_forced_close() -> None:
    """§11 (decided): a day the calendar marks CLOSED has no forced-close window."""
    node, _ = session_node(MONDAY_1545)
    node.set_policy_params({"execution.session-calendar": "2026-12-07=CLOSED"}, actor="ops")
    assert of(long_intent(node), ev.TradeIntentAccepted)


FC_PRICES = [D(p) for p in ("97", "97.5", "98", "99", "99.5", "100", "101", "103")]
fc_step = st.one_of(
    st.tuples(st.just("maker_buy"), st.integers(1, 120), st.sampled_from(FC_PRICES)),
    st.tuples(st.just("maker_sell"), st.integers(1, 120), st.sampled_from(FC_PRICES)),
    st.tuples(st.just("last"), st.just(0), st.sampled_from(FC_PRICES)),
    st.tuples(st.just("tick"), st.integers(1, 40), st.just(D(0))),
    st.tuples(st.just("halt"), st.just(0), st.just(D(0))),
    st.tuples(st.just("resume"), st.just(0), st.just(D(0))),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(fc_step, min_size=1, max_size=20))
def test_section_5_2_holds_through_the_forced_close_window(
    steps: list[tuple[str, int, Decimal]],
) -> None:
    """§5.2 after every event from 15:44:30 into the window: a stop for exactly the position,
    or the exit policy at market; "cannot liquidate" hands the position to the kill switch."""
    node, _ = entered(et(2026, 12, 7, 15, 44, 30))
    for kind, n, price in steps:
        if kind == "maker_buy":
            node.buy("maker", SYMBOL, n, price)
        elif kind == "maker_sell":
            node.sell("maker", SYMBOL, n, price)
        elif kind == "last":
            node.update_prices(SYMBOL, last=price)
        elif kind == "tick":
            node.advance_time(n * SEC)
        else:
            node.set_market_status(SYMBOL, "HALTED" if kind == "halt" else None, actor="t")
        t = trade(node)
        if t.close_cause != "CANNOT_LIQUIDATE":
            check_protected(node)
    replay = Engine()
    replay.apply_all(list(node.journal.read()))
    assert replay.digest() == node.digest()
