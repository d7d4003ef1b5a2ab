"""Trading states (ACTIVE, REDUCING, HALTED) and kill switches, per account, strategy and globally.

Cancels always pass. A kill switch takes effect in the engine step that records it: every later
order in its scope is denied, every open order in it is canceled (held stops at once, orders at a
venue through a cancel request — including one the venue has not acknowledged yet).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import OrderStatus, OrderType, Side
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import CancelAtVenue
from atlas_oms.model.risk import Scope, TradingState

D = Decimal
SPOT = "BTC/USDT"


def submit(
    rec: Any, account: str = "alice", side: Side = Side.BUY, qty: str = "1", **kw: Any
) -> ev.EventBase:
    kw.setdefault("order_type", OrderType.LIMIT)
    if kw["order_type"] is OrderType.LIMIT:
        kw.setdefault("price", D(30000))
    return rec.submit(
        account_id=account, symbol=kw.pop("symbol", SPOT), side=side, qty=D(qty), **kw
    )[1][0]


def state(rec: Any, scope: Scope, scope_id: str, value: TradingState) -> list[ev.EventBase]:
    return rec.handle(
        c.SetTradingState(
            ts=rec.next_ts(),
            scope=scope,
            scope_id=scope_id,
            state=value,
            actor="desk-head",
            reason="because",
        )
    )


def long_position(rec: Any, account: str, qty: str) -> None:
    buy = submit(rec, account, Side.BUY, qty).order_id
    sell = submit(rec, "carol", Side.SELL, qty).order_id
    for oid in (buy, sell):
        rec.accept(oid)
        rec.fill(oid, qty, "30000", f"x{oid}")


def reason_of(event: ev.EventBase) -> str:
    assert isinstance(event, ev.OrderDenied), event
    return event.reason


# ---------------------------------------------------------------------------- trading states
def test_a_state_change_is_an_event_with_who_and_why(rec: Any) -> None:
    out = state(rec, Scope.ACCOUNT, "alice", TradingState.HALTED)
    assert out == [
        ev.TradingStateChanged(
            seq=out[0].seq,
            ts_event=out[0].ts_event,
            scope=Scope.ACCOUNT,
            scope_id="alice",
            state=TradingState.HALTED,
            actor="desk-head",
            reason="because",
        )
    ]


def test_halted_account_takes_no_new_orders_but_cancels_pass(rec: Any) -> None:
    working = submit(rec).order_id
    rec.accept(working)
    state(rec, Scope.ACCOUNT, "alice", TradingState.HALTED)
    assert reason_of(submit(rec)) == Reason.TRADING_HALTED
    assert reason_of(submit(rec, side=Side.SELL)) == Reason.TRADING_HALTED
    assert isinstance(submit(rec, "bob"), ev.OrderSubmitted)  # other accounts trade on
    out = rec.handle(c.CancelOrder(ts=rec.next_ts(), account_id="alice", order_id=working))
    assert isinstance(out[0], ev.OrderPendingCancel)
    state(rec, Scope.ACCOUNT, "alice", TradingState.ACTIVE)
    assert isinstance(submit(rec), ev.OrderSubmitted)


def test_halted_refuses_modifies_too(rec: Any) -> None:
    oid = submit(rec).order_id
    rec.accept(oid)
    state(rec, Scope.GLOBAL, "", TradingState.HALTED)
    out = rec.handle(
        c.ModifyOrder(ts=rec.next_ts(), account_id="alice", order_id=oid, price=D(29000))
    )
    assert isinstance(out[0], ev.OrderModifyRejected) and out[0].reason == Reason.TRADING_HALTED


def test_global_halt_covers_every_account(rec: Any) -> None:
    state(rec, Scope.GLOBAL, "", TradingState.HALTED)
    for account in ("alice", "bob", "carol"):
        assert reason_of(submit(rec, account)) == Reason.TRADING_HALTED


def test_a_parents_state_covers_its_sub_accounts(rec: Any) -> None:
    rec.handle(c.OpenAccount(ts=rec.next_ts(), account_id="alice.1", parent_id="alice"))
    rec.handle(
        c.AdjustBalance(ts=rec.next_ts(), account_id="alice.1", asset="USDT", amount=D(10**6))
    )
    state(rec, Scope.ACCOUNT, "alice", TradingState.HALTED)
    assert reason_of(submit(rec, "alice.1")) == Reason.TRADING_HALTED


def test_strategy_state_applies_to_its_tagged_orders_only(rec: Any) -> None:
    state(rec, Scope.STRATEGY, "momo", TradingState.HALTED)
    assert reason_of(submit(rec, tag="momo")) == Reason.TRADING_HALTED
    assert isinstance(submit(rec, tag="meanrev"), ev.OrderSubmitted)
    assert isinstance(submit(rec), ev.OrderSubmitted)


def test_reducing_lets_only_exposure_reducing_orders_through(rec: Any) -> None:
    long_position(rec, "alice", "2")
    state(rec, Scope.ACCOUNT, "alice", TradingState.REDUCING)
    assert reason_of(submit(rec, qty="0.1")) == Reason.TRADING_REDUCING  # adds to the long
    assert reason_of(submit(rec, side=Side.SELL, qty="2.5")) == Reason.TRADING_REDUCING  # flips
    assert isinstance(submit(rec, side=Side.SELL, qty="1.5"), ev.OrderSubmitted)
    # Counting the reducing sell already open, only 0.5 more may go.
    assert reason_of(submit(rec, side=Side.SELL, qty="1")) == Reason.TRADING_REDUCING
    assert isinstance(submit(rec, side=Side.SELL, qty="0.5"), ev.OrderSubmitted)
    # No position: nothing can reduce.
    assert (
        reason_of(submit(rec, side=Side.SELL, qty="1", symbol="ETH/USDT:USDT", price=D(2000)))
        == Reason.TRADING_REDUCING
    )


def test_the_tightest_state_wins(rec: Any) -> None:
    long_position(rec, "alice", "1")
    state(rec, Scope.ACCOUNT, "alice", TradingState.REDUCING)
    state(rec, Scope.STRATEGY, "momo", TradingState.HALTED)
    assert reason_of(submit(rec, side=Side.SELL, qty="0.5", tag="momo")) == Reason.TRADING_HALTED
    assert isinstance(submit(rec, side=Side.SELL, qty="0.5"), ev.OrderSubmitted)


# ---------------------------------------------------------------------------- kill switch
def kill(
    rec: Any, scope: Scope = Scope.ACCOUNT, scope_id: str = "alice", flatten: bool = False
) -> list[ev.EventBase]:
    return rec.handle(
        c.TripKillSwitch(
            ts=rec.next_ts(),
            scope=scope,
            scope_id=scope_id,
            actor="risk-officer",
            reason="runaway algo",
            flatten=flatten,
        )
    )


def test_kill_switch_cancels_every_open_order_in_one_step_and_blocks_new_ones(rec: Any) -> None:
    resting = submit(rec).order_id
    rec.accept(resting)
    in_flight = submit(rec, qty="2").order_id  # sent, not yet acknowledged by the venue
    stop = submit(
        rec, side=Side.SELL, order_type=OrderType.STOP_MARKET, trigger_price=D(25000)
    ).order_id
    bobs = submit(rec, "bob").order_id
    rec.engine.take_requests()
    out = kill(rec)
    assert isinstance(out[0], ev.KillSwitchTripped) and out[0].actor == "risk-officer"
    orders = rec.engine.state.orders
    assert orders[stop].status is OrderStatus.CANCELED and orders[stop].reason == Reason.KILL_SWITCH
    assert orders[resting].status is OrderStatus.PENDING_CANCEL
    assert orders[in_flight].status is OrderStatus.PENDING_CANCEL
    assert orders[bobs].status is OrderStatus.SUBMITTED  # another account is untouched
    sent = rec.engine.take_requests()
    assert sorted(r.order_id for r in sent if isinstance(r, CancelAtVenue)) == [resting, in_flight]
    assert reason_of(submit(rec)) == Reason.KILL_SWITCH_ACTIVE
    # The venue's answers arrive afterwards: the late ack, then the cancels.
    rec.accept(in_flight)
    for oid in (resting, in_flight):
        rec.report(rep.VenueCanceled, oid, reason="CANCELED")
        assert orders[oid].status is OrderStatus.CANCELED
        assert orders[oid].reason == Reason.KILL_SWITCH
    assert rec.engine.state.open_orders.get("alice", 0) == 0


def test_a_fill_racing_the_kill_switch_is_booked_and_nothing_new_is_accepted(rec: Any) -> None:
    oid = submit(rec).order_id
    rec.accept(oid)
    kill(rec)
    rec.fill(oid, "1", "30000", "late")  # executed at the venue before the cancel arrived
    assert rec.engine.state.orders[oid].status is OrderStatus.FILLED
    assert (
        rec.engine.state.positions[("alice", SPOT, rec.engine.state.orders[oid].position_side)].qty
        == 1
    )
    assert reason_of(submit(rec, side=Side.SELL)) == Reason.KILL_SWITCH_ACTIVE


def test_firing_the_kill_switch_again_changes_nothing(rec: Any, kit: Any) -> None:
    rec.accept(submit(rec).order_id)
    kill(rec)
    rec.engine.take_requests()
    before = kit.fingerprint(rec.engine)
    again = kill(rec)
    assert [type(e) for e in again] == [ev.KillSwitchTripped]  # journaled, nothing else happens
    assert rec.engine.take_requests() == []
    after = kit.fingerprint(rec.engine)
    # Only the kill switch's own record is newer (the second trip's event replaced the first).
    kills_before, kills_after = before["risk"].pop("kills"), after["risk"].pop("kills")
    assert before == after
    assert [k for k, _ in kills_before] == [k for k, _ in kills_after]
    assert [e.seq for _, e in kills_after] > [e.seq for _, e in kills_before]


def test_global_and_strategy_kill_switches(rec: Any) -> None:
    tagged = submit(rec, "bob", tag="momo").order_id
    untagged = submit(rec, "bob").order_id
    kill(rec, Scope.STRATEGY, "momo")
    assert rec.engine.state.orders[tagged].status is OrderStatus.PENDING_CANCEL
    assert rec.engine.state.orders[untagged].status is OrderStatus.SUBMITTED
    assert reason_of(submit(rec, "carol", tag="momo")) == Reason.KILL_SWITCH_ACTIVE
    kill(rec, Scope.GLOBAL, "")
    assert rec.engine.state.orders[untagged].status is OrderStatus.PENDING_CANCEL
    assert reason_of(submit(rec, "carol")) == Reason.KILL_SWITCH_ACTIVE


def test_resetting_is_an_operator_action_with_a_reason(rec: Any) -> None:
    kill(rec)
    no_reason = rec.handle(
        c.ResetKillSwitch(
            ts=rec.next_ts(), scope=Scope.ACCOUNT, scope_id="alice", actor="ops", reason=" "
        )
    )
    assert (
        isinstance(no_reason[0], ev.CommandRejected) and no_reason[0].reason == Reason.INVALID_FIELD
    )
    out = rec.handle(
        c.ResetKillSwitch(
            ts=rec.next_ts(),
            scope=Scope.ACCOUNT,
            scope_id="alice",
            actor="ops",
            reason="algo fixed",
        )
    )
    assert isinstance(out[0], ev.KillSwitchReset) and out[0].reason == "algo fixed"
    assert isinstance(submit(rec), ev.OrderSubmitted)


def test_kill_switch_with_flatten_closes_positions_once_the_orders_are_gone(rec: Any) -> None:
    long_position(rec, "alice", "2")
    working = submit(rec, side=Side.SELL, qty="1", price=D(31000)).order_id
    rec.accept(working)
    rec.engine.take_requests()
    out = kill(rec, flatten=True)
    # The sell still holds the BTC it would sell: flattening waits for the cancel.
    assert not any(isinstance(e, ev.AccountFlattening) for e in out)
    out = rec.report(rep.VenueCanceled, working, reason="CANCELED")
    flat = [e for e in out if isinstance(e, ev.AccountFlattening)]
    assert len(flat) == 1 and flat[0].account_id == "alice"
    market = next(e for e in out if isinstance(e, ev.OrderSubmitted))
    intent = market.intent
    assert (intent.side, intent.order_type, intent.qty, intent.reduce_only) == (
        Side.SELL,
        OrderType.MARKET,
        D(2),
        True,
    )
    assert intent.market_reason == "KILL_SWITCH"
    rec.accept(market.order_id)
    rec.fill(market.order_id, "2", "29900", "flat")
    pos = rec.engine.state.positions[
        ("alice", SPOT, rec.engine.state.orders[market.order_id].position_side)
    ]
    assert pos.qty == 0
    assert not rec.engine.state.risk.flatten_todo


def test_kill_switch_state_replays_to_the_same_digest(rec: Any, kit: Any) -> None:
    long_position(rec, "alice", "1")
    rec.accept(submit(rec).order_id)
    kill(rec, flatten=True)
    state(rec, Scope.ACCOUNT, "bob", TradingState.REDUCING)
    kit.check_invariants(rec.engine)
    assert rec.replay_digest() == rec.engine.digest()


def test_flattening_passes_an_open_breaker_and_limits_smaller_than_the_position(rec: Any) -> None:
    from atlas_oms.model.risk import BreakerConfig, RiskLimits

    long_position(rec, "alice", "2")
    rec.handle(
        c.SetRiskLimits(
            ts=rec.next_ts(),
            scope=Scope.ACCOUNT,
            scope_id="alice",
            actor="ops",
            limits=RiskLimits(
                max_order_qty=D("0.5"), breaker=BreakerConfig(max_consecutive_errors=1)
            ),
        )
    )
    oid = submit(rec, qty="0.1").order_id
    rec.report(rep.VenueRejected, oid, reason=Reason.VENUE_REJECTED, message="down")
    assert rec.engine.state.risk.breakers[(Scope.ACCOUNT, "alice")].state == "OPEN"
    out = kill(rec, flatten=True)
    market = next(e for e in out if isinstance(e, ev.OrderSubmitted))
    assert market.intent.qty == 2 and market.intent.market_reason == "KILL_SWITCH"
    assert not any(isinstance(e, ev.RiskAlert) for e in out)


def test_an_open_breaker_cannot_be_configured_away(rec: Any) -> None:
    from atlas_oms.model.risk import BreakerConfig, RiskLimits

    def set_limits(limits: RiskLimits) -> list[ev.EventBase]:
        return rec.handle(
            c.SetRiskLimits(
                ts=rec.next_ts(), scope=Scope.ACCOUNT, scope_id="alice", actor="ops", limits=limits
            )
        )

    set_limits(RiskLimits(breaker=BreakerConfig(max_consecutive_errors=1)))
    oid = submit(rec, qty="0.1").order_id
    rec.report(rep.VenueRejected, oid, reason=Reason.VENUE_REJECTED, message="down")
    out = set_limits(RiskLimits(max_order_qty=D(1)))
    assert isinstance(out[0], ev.CommandRejected) and out[0].reason == Reason.INVALID_LIMITS
    assert out[0].actor == "ops"
    assert reason_of(submit(rec)) == Reason.CIRCUIT_BREAKER_OPEN
