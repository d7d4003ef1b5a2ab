"""Seed 001 §10 stop maintenance and §7 TRAIL_ONLY, wired into the managed trade
(``core/policy/trailing.py``).

§10.1 Normativ: "Stop-Maintenance: auf jedem 1m-Bar-Close"; "Bei CRITICAL Monitor Event (z.B.
Blow-off -> tighten)". §10.2: "effectiveStop = max(prevStop, stop0, trailCandidate, mfeLockStop,
runnerTrailCandidate)"; "Highwater-Mark-Invariante: Stop wird nie gelockert". §7: "Alle offenen
Target-Orders stornieren", "Ausschliesslich den Trailing-Stop als Exit-Mechanismus verwenden",
"Die gesamte Restposition per Trail managen"."""

from __future__ import annotations

from trade_kit import SYMBOL, long_intent, make_node, of, trade
from trailing_kit import (
    T0,
    D,
    bar,
    enter_long,
    feed,
    flat_bars,
    higher_low_bars,
    moves,
    node_at_t0,
    state_of,
)

from atlas_oms import ManualClock, Node
from atlas_oms.core.engine import Engine
from atlas_oms.core.policy.bars import Bar
from atlas_oms.core.policy.indicators import INDICATOR_QUANTUM
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus


def _trail_setup() -> tuple[Node, ev.TradeBracketPlaced]:
    """ATR warmed up at 0.5 (14 flat bars), a TRAIL_ONLY long of 100 at 100, stop0 98."""
    node = node_at_t0()
    feed(node, flat_bars(-20, 14))
    b = enter_long(node, target_policy="TRAIL_ONLY")
    node.update_prices(SYMBOL, last=103)
    return node, b


def test_section_7_trail_only_at_the_intent_places_no_targets_and_trails_the_whole_position() -> (
    None
):
    """§7 "Ausschliesslich den Trailing-Stop als Exit-Mechanismus verwenden"; §5 "Trailing-Policy
    aktivieren" with the bracket: the entry ATR is recorded."""
    node = node_at_t0()
    feed(node, flat_bars(-20, 14))
    node.sell("maker", SYMBOL, 100, 100)
    events = long_intent(node, target_policy="TRAIL_ONLY")
    b = of(events, ev.TradeBracketPlaced)[0]
    assert isinstance(b, ev.TradeBracketPlaced)
    assert b.targets == () and node.order(b.stop_order_id).qty == D(100)
    started = of(events, ev.TradeTrailingStarted)
    assert len(started) == 1 and started[0].entry_atr == D("0.5")


def test_section_10_2_trail_candidate_moves_the_stop_at_the_venue_on_a_bar_close() -> None:
    """trailCandidate = currentHigh - 2 x entryAtr = 103 - 1.0 = 102 beats mfeLockStop = 100 +
    0.5 x 3 = 101.5: the stop order's trigger (and limit, 0.1 % below) is modified."""
    node, b = _trail_setup()
    events = feed(node, [bar(1, 101, 103, 101, "102.5")])
    (move,) = moves(events)
    assert (move.cause, move.source, move.reason) == ("TRAIL", "trail", "BAR_CLOSE")
    assert move.trigger == D(102) and move.limit == D("101.89")
    assert dict(move.terms) == {"trail": D(102), "mfe_lock": D("101.5")}
    stop = node.order(b.stop_order_id)
    assert stop.trigger_price == D(102) and stop.price == D("101.89") and stop.is_live
    assert any(isinstance(e, ev.OrderReplaced) for e in events)
    assert trade(node).stop_trigger == D(102)
    assert [c for _, _, c in trade(node).stop_history] == ["INITIAL", "TRAIL"]


def test_section_10_2_the_stop_never_loosens_on_a_weaker_bar() -> None:
    """Highwater-Mark-Invariante: a lower bar leaves the stop where it was (no event)."""
    node, b = _trail_setup()
    feed(node, [bar(1, 101, 103, 101, "102.5")])
    events = feed(node, [bar(2, "102.5", "102.6", "101.2", 102), bar(3, 102, 102, "100.5", 101)])
    assert moves(events) == []
    assert node.order(b.stop_order_id).trigger_price == D(102)


def test_section_10_2_mfe_lock_wins_while_the_atr_is_not_warmed_up_then_the_first_atr_counts() -> (
    None
):
    """No ATR at the bracket: no trailCandidate; mfeLockStop = 100 + 0.5 x MFE 3 = 101.5 (the lock
    activates at MFE >= 1R = 2). Decision: the first ATR that becomes available is the entry ATR
    (``TradeEntryAtrSet``); from then the trail term takes part."""
    node = node_at_t0()
    b = enter_long(node, target_policy="TRAIL_ONLY")
    assert of_started_atr(node) is None
    node.update_prices(SYMBOL, last=103)
    events = feed(node, [bar(1, 101, 103, 101, "102.5")])
    (move,) = moves(events)
    assert (move.source, move.trigger) == ("mfe_lock", D("101.5"))
    assert "trail" not in dict(move.terms)
    rest = [bar(i, "102.5", "102.75", "102.25", "102.5") for i in range(2, 14)]
    events = feed(node, rest)
    atr_set = of(events, ev.TradeEntryAtrSet)
    # True ranges: 0 (the entry minute, all 100), 3 (gap to 103), 12 x 0.5: ATR = 9 / 14.
    atr = (D(9) / 14).quantize(INDICATOR_QUANTUM)
    assert len(atr_set) == 1 and atr_set[0].entry_atr == atr
    assert state_of(node).entry_atr == atr
    last = moves(events)[-1]
    assert (last.source, last.trigger) == ("trail", D("101.71"))  # 103 - 2 x 0.642857...
    assert node.order(b.stop_order_id).trigger_price == D("101.71")


def of_started_atr(node: Node) -> object:
    return state_of(node).entry_atr


def test_section_10_2_runner_trail_candidate_from_ema9_and_the_last_higher_low() -> None:
    """runnerTrailCandidate = min(ema9_close, last_higher_low) - buffer = min(100.04, 99.2) -
    0.001 x 99.2 = 99.1008, onto the tick away from the market: 99.10."""
    node = node_at_t0()
    feed(node, higher_low_bars(-10))
    b = enter_long(node, target_policy="TRAIL_ONLY")
    node.update_prices(SYMBOL, last=101)
    events = feed(node, [bar(1, 100, "100.5", 100, "100.2")])
    (move,) = moves(events)
    assert (move.source, move.trigger) == ("runner", D("99.10"))
    assert node.order(b.stop_order_id).trigger_price == D("99.10")


def test_section_10_1_critical_monitor_event_tightens_at_once_and_never_loosens() -> None:
    """ "Bei CRITICAL Monitor Event (z.B. Blow-off -> tighten)": ``TightenTradeStop`` runs the
    maintenance now; its level is taken only if it is tighter."""
    node = node_at_t0()
    b = enter_long(node, target_policy="TRAIL_ONLY")
    node.update_prices(SYMBOL, last=101)
    (move,) = moves(node.tighten_trade_stop("t1", "blow-off", stop="99.5"))
    assert (move.cause, move.source, move.reason) == ("TIGHTEN", "tighten", "CRITICAL: blow-off")
    assert node.order(b.stop_order_id).trigger_price == D("99.5")
    assert moves(node.tighten_trade_stop("t1", "blow-off", stop=99)) == []
    assert moves(node.tighten_trade_stop("t1", "blow-off")) == []
    assert node.order(b.stop_order_id).trigger_price == D("99.5")
    refused = of(node.tighten_trade_stop("nope", "blow-off"), ev.CommandRejected)
    assert refused and "not an open trade" in refused[0].message


def test_section_9_1_a_target_fill_runs_the_maintenance_too() -> None:
    """After tranche 1 fills (break-even, 100), the maintenance runs at once: the runner term
    (min(EMA 102, higher low 101.2) - 0.1012 = 101.09) tightens further."""
    node = node_at_t0()
    lows = ["101.5", "101.4", "101.0", "101.4", "101.5", "101.3", "101.2", "101.4", "101.5"]
    feed(node, [bar(-10 + i, 102, "102.5", low, 102) for i, low in enumerate(lows)])
    b = enter_long(node)
    assert b.targets
    seq = node.seq
    node.buy("maker", SYMBOL, 30, 102)  # tranche 1
    events = [e for e in node.journal.read() if e.seq > seq]
    causes = [(m.cause, m.trigger) for m in moves(events)]
    assert causes == [("BREAK_EVEN", D(100)), ("TRAIL", D("101.09"))]
    assert moves(events)[-1].reason == "TARGET_FILL"
    stop = node.order(b.stop_order_id)
    assert stop.trigger_price == D("101.09") and stop.qty == D(70)


def test_section_7_switching_to_trail_only_cancels_every_target_and_trails_the_whole_rest() -> None:
    """§7 "Alle offenen Target-Orders stornieren" + "Die gesamte Restposition per Trail managen"."""
    node = node_at_t0()
    feed(node, higher_low_bars(-10))
    b = enter_long(node)
    node.update_prices(SYMBOL, last=101)
    events = node.set_trade_target_policy("t1", "TRAIL_ONLY", reason="trend day")
    assert of(events, ev.TradeTargetPolicySet)
    canceled = of(events, ev.TradeTargetCanceled)
    assert {e.order_id for e in canceled} == {oid for oid, _, _, _ in b.targets}
    assert {e.cause for e in canceled} == {"TRAIL_ONLY"}
    for order_id, _, _, _ in b.targets:
        assert node.order(order_id).status is OrderStatus.CANCELED
    assert state_of(node).target_policy == "TRAIL_ONLY" and not trade(node).targets
    assert node.order(b.stop_order_id).qty == D(100) == trade(node).position
    (move,) = moves(events)  # the trail runs at once: min(EMA 100, 99.2) - 0.0992 = 99.10
    assert (move.source, move.trigger, move.reason) == ("runner", D("99.10"), "TRAIL_ONLY")
    node.update_prices(SYMBOL, last=104)
    (move,) = moves(feed(node, [bar(1, 101, 103, 101, "102.5")]))  # MFE 3: lock 101.5
    assert (move.source, move.trigger) == ("mfe_lock", D("101.5"))
    assert node.order(b.stop_order_id).qty == D(100)
    assert moves(node.set_trade_target_policy("t1", "TRAIL_ONLY")) == []  # again: nothing
    refused = of(node.set_trade_target_policy("t1", "TRANCHES"), ev.CommandRejected)
    assert refused and "TRAIL_ONLY" in refused[0].message


def test_section_10_2_a_bar_of_the_entry_minute_does_not_count_for_the_mfe() -> None:
    """Decision: the bar the entry traded in may hold a pre-entry high; the MFE counts from the
    first minute that begins after the entry."""
    node = node_at_t0()
    enter_long(node, target_policy="TRAIL_ONLY")
    node.update_prices(SYMBOL, last=101)
    events = feed(node, [bar(0, 100, 110, 100, 100)])  # the entry minute, replaced by the venue's
    assert moves(events) == [] and state_of(node).trail_extreme is None


def _scenario(node: Node) -> None:
    feed(node, flat_bars(-20, 14))
    enter_long(node, target_policy="TRAIL_ONLY")
    node.update_prices(SYMBOL, last=103)
    feed(node, [bar(1, 101, 103, 101, "102.5")])
    node.tighten_trade_stop("t1", "blow-off", stop="102.2")
    node.advance_time(95 * 1_000_000_000)
    node.sell("maker", SYMBOL, 5, 103)
    node.buy("trader", SYMBOL, 5, 103)
    node.advance_time(60 * 1_000_000_000)


def test_a_replay_of_the_journal_gives_the_same_digest_bars_and_trades() -> None:
    node = node_at_t0()
    _scenario(node)
    events = list(node.journal.read())
    assert any(isinstance(e, ev.BarClosed) for e in events)
    assert sum(isinstance(e, ev.TradeStopMoved) for e in events) == 2
    replay = Engine()
    replay.apply_all(events)
    assert replay.digest() == node.digest()
    assert replay.state.bar_book.canonical() == node.engine.state.bar_book.canonical()
    again = Node(node.journal, clock=node.clock)
    assert again.managed_trades() == node.managed_trades()


def test_the_same_commands_give_the_same_events_and_digest() -> None:
    a, b = node_at_t0(), node_at_t0()
    _scenario(a)
    _scenario(b)
    assert list(a.journal.read()) == list(b.journal.read())
    assert a.digest() == b.digest()


def test_bars_and_trailing_survive_a_restart_from_a_snapshot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "j.db")
    clock = ManualClock(T0)
    node = make_node(Node.open(path, clock=clock))
    feed(node, flat_bars(-20, 14))
    b = enter_long(node, target_policy="TRAIL_ONLY")
    node.update_prices(SYMBOL, last=103)
    node.snapshot()
    digest, book = node.digest(), node.engine.state.bar_book.canonical()
    node.close()
    node = Node.open(path, clock=clock)
    try:
        assert node.recovery.snapshot_seq > 0
        assert node.digest() == digest and node.engine.state.bar_book.canonical() == book
        (move,) = moves(feed(node, [bar(1, 101, 103, 101, "102.5")]))
        assert move.trigger == D(102) and node.order(b.stop_order_id).trigger_price == D(102)
    finally:
        node.close()


def test_bar_type_is_reexported_for_the_node_api() -> None:
    current, _ = node_at_t0().bars_state(SYMBOL)
    assert current is None or isinstance(current, Bar)
