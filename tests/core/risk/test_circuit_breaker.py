"""The circuit breaker (seed 003 section 3): it trips on each of its limits, blocks new orders while
OPEN, cools down, and resets by itself or by an operator. Defaults are seed 003's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.core.risk.breaker import breaker_report
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import OrderType, Side
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import BreakerConfig, BreakerState, RiskLimits, Scope

D = Decimal
PERP = "ETH/USDT:USDT"
MINUTE = 60_000_000_000
T0 = 1_767_600_000_000_000_000  # 2026-01-05 08:00 UTC


def test_the_defaults_are_seed_003s() -> None:
    cfg = BreakerConfig()
    assert (cfg.max_daily_loss_pct, cfg.max_drawdown_pct) == (D(5), D(15))
    assert (cfg.max_consecutive_losses, cfg.max_orders_per_minute, cfg.max_orders_per_hour) == (
        5,
        10,
        100,
    )
    assert cfg.max_consecutive_errors == 3
    assert (cfg.auto_reset_after_minutes, cfg.require_manual_reset, cfg.cooldown_minutes) == (
        60,
        False,
        15,
    )


@pytest.fixture
def dora(rec: Any) -> Any:
    """``dora`` holds 10,000 USDT and trades the ETH perpetual (at 2,000) against bob."""
    rec.ts = T0
    rec.handle(c.OpenAccount(ts=rec.next_ts(), account_id="dora"))
    rec.handle(c.AdjustBalance(ts=rec.next_ts(), account_id="dora", asset="USDT", amount=D(10_000)))
    return rec


def breaker(
    rec: Any, scope: Scope = Scope.ACCOUNT, scope_id: str = "dora", **cfg: Any
) -> list[ev.EventBase]:
    return rec.handle(
        c.SetRiskLimits(
            ts=rec.next_ts(),
            scope=scope,
            scope_id=scope_id,
            actor="ops",
            reason="test",
            limits=RiskLimits(breaker=BreakerConfig(**cfg)),
        )
    )


def trade(rec: Any, side: Side, qty: str, px: str, account: str = "dora", **kw: Any) -> int:
    """``account`` trades ``qty`` at ``px`` with bob (hand-played fills); return its order id."""
    mine = rec.submit(
        account_id=account,
        symbol=PERP,
        side=side,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        price=D(px),
        **kw,
    )[1][0]
    assert isinstance(mine, ev.OrderSubmitted), mine
    theirs = rec.submit(
        account_id="bob",
        symbol=PERP,
        side=side.opposite,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        price=D(px),
    )[1][0]
    for oid in (mine.order_id, theirs.order_id):
        rec.accept(oid)
        rec.fill(oid, qty, px, f"x{oid}")
    return mine.order_id


def price(rec: Any, px: str) -> None:
    rec.handle(c.UpdatePrices(ts=rec.next_ts(), symbol=PERP, last=D(px), mark=D(px)))


def tick(rec: Any, ns: int = 1) -> list[ev.EventBase]:
    rec.ts += ns
    return rec.handle(c.AdvanceTime(ts=rec.ts))


def status(rec: Any, scope_id: str = "dora", scope: Scope = Scope.ACCOUNT) -> dict[str, Any]:
    report = breaker_report(rec.engine.state, scope, scope_id, rec.ts)
    assert report is not None
    return report


def submit_events(rec: Any, account: str = "dora", **kw: Any) -> list[ev.EventBase]:
    """Every event of one submit (a trip or a reset may come before the order's own)."""
    return rec.handle(
        c.SubmitOrder(
            ts=rec.next_ts(),
            account_id=account,
            symbol=PERP,
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            qty=D("0.1"),
            price=D(1000),
            **kw,
        )
    )


def try_order(rec: Any, account: str = "dora", **kw: Any) -> Any:
    """The order's own event: OrderSubmitted or OrderDenied."""
    return next(
        e
        for e in submit_events(rec, account, **kw)
        if isinstance(e, ev.OrderSubmitted | ev.OrderDenied)
    )


def tripped(events: list[ev.EventBase]) -> ev.CircuitBreakerTripped:
    found = [e for e in events if isinstance(e, ev.CircuitBreakerTripped)]
    assert len(found) == 1, events
    return found[0]


# ---------------------------------------------------------------------------- each limit
def test_daily_loss_limit_trips_on_the_timer_and_blocks_new_orders(dora: Any) -> None:
    rec = dora
    breaker(rec, max_drawdown_pct=None)
    assert status(rec)["start_of_day_equity"] == D(10_000)
    trade(rec, Side.BUY, "1", "2000")
    price(rec, "1550")  # 450 down: 4.5 %
    assert not any(isinstance(e, ev.CircuitBreakerTripped) for e in tick(rec))
    price(rec, "1500")  # 500 down: 5 %
    trip = tripped(tick(rec))
    assert trip.cause == Reason.DAILY_LOSS_LIMIT and "5" in trip.message
    denied = try_order(rec)
    assert isinstance(denied, ev.OrderDenied) and denied.reason == Reason.CIRCUIT_BREAKER_OPEN
    report = status(rec)
    assert report["state"] == "OPEN" and report["cause"] == Reason.DAILY_LOSS_LIMIT
    assert report["daily_pnl"] == D(-500) and report["daily_loss_pct"] == D(5)
    assert report["may_reset_at"] == trip.ts_event + 15 * MINUTE
    assert report["auto_reset_at"] == trip.ts_event + 60 * MINUTE
    assert isinstance(try_order(rec, account="bob"), ev.OrderSubmitted)  # bob has no breaker


def test_cancels_pass_while_the_breaker_is_open(dora: Any) -> None:
    rec = dora
    breaker(rec, max_consecutive_errors=1)
    oid = try_order(rec).order_id
    rec.accept(oid)
    other = try_order(rec).order_id
    tripped(
        rec.report(rep.VenueRejected, other, reason=Reason.VENUE_REJECTED, message="system busy")
    )
    out = rec.handle(c.CancelOrder(ts=rec.next_ts(), account_id="dora", order_id=oid))
    assert isinstance(out[0], ev.OrderPendingCancel)


def test_max_drawdown_from_the_peak(dora: Any) -> None:
    rec = dora
    breaker(rec, max_daily_loss_pct=None, max_drawdown_pct=D(10))
    trade(rec, Side.BUY, "1", "2000")
    price(rec, "4000")  # equity 12,000: a new peak
    tick(rec)
    assert status(rec)["peak_equity"] == D(12_000)
    price(rec, "2801")  # 10,801: 9.99 % below the peak
    assert not any(isinstance(e, ev.CircuitBreakerTripped) for e in tick(rec))
    price(rec, "2800")  # 10,800: 10 % below
    assert tripped(tick(rec)).cause == Reason.MAX_DRAWDOWN


def test_consecutive_losing_trades(dora: Any) -> None:
    rec = dora
    breaker(rec, max_daily_loss_pct=None, max_drawdown_pct=None, max_consecutive_losses=3)
    for n in range(3):
        trade(rec, Side.BUY, "0.1", "2000")
        events_before = len(rec.events)
        trade(rec, Side.SELL, "0.1", "1990")  # a 1 USDT loss
        new = rec.events[events_before:]
        if n < 2:
            assert not any(isinstance(e, ev.CircuitBreakerTripped) for e in new)
            assert status(rec)["consecutive_losses"] == n + 1
        else:
            assert tripped(new).cause == Reason.CONSECUTIVE_LOSSES


def test_a_winning_trade_resets_the_losing_streak(dora: Any) -> None:
    rec = dora
    breaker(rec, max_daily_loss_pct=None, max_drawdown_pct=None, max_consecutive_losses=2)
    trade(rec, Side.BUY, "0.1", "2000")
    trade(rec, Side.SELL, "0.1", "1990")
    trade(rec, Side.BUY, "0.1", "2000")
    trade(rec, Side.SELL, "0.1", "2010")
    assert status(rec)["consecutive_losses"] == 0 and status(rec)["state"] == "CLOSED"


def test_orders_per_minute_trip_the_breaker(dora: Any) -> None:
    rec = dora
    breaker(rec, max_orders_per_minute=3)
    for _ in range(3):
        assert isinstance(try_order(rec), ev.OrderSubmitted)
    out = submit_events(rec)
    assert tripped(out).cause == Reason.ORDER_RATE
    assert isinstance(out[-1], ev.OrderDenied) and out[-1].reason == Reason.CIRCUIT_BREAKER_OPEN


def test_orders_per_hour_trip_the_breaker(dora: Any) -> None:
    rec = dora
    breaker(rec, max_orders_per_minute=None, max_orders_per_hour=4)
    for _ in range(4):
        rec.ts += 5 * MINUTE
        assert isinstance(try_order(rec), ev.OrderSubmitted)
    rec.ts += 5 * MINUTE
    assert try_order(rec).reason == Reason.CIRCUIT_BREAKER_OPEN  # type: ignore[attr-defined]


def test_consecutive_system_errors_but_not_business_rejections(dora: Any) -> None:
    rec = dora
    breaker(rec, max_consecutive_errors=2)
    first = try_order(rec).order_id
    rec.report(rep.VenueRejected, first, reason=Reason.POST_ONLY_WOULD_TAKE, message="would take")
    second = try_order(rec).order_id
    rec.report(rep.VenueRejected, second, reason=Reason.VENUE_REJECTED, message="timeout")
    assert status(rec)["consecutive_errors"] == 1
    ok = try_order(rec).order_id
    rec.accept(ok)  # a success resets the count
    assert status(rec)["consecutive_errors"] == 0
    for _ in range(2):
        oid = try_order(rec).order_id
        out = rec.report(rep.VenueRejected, oid, reason=Reason.VENUE_TIMEOUT, message="no answer")
    assert tripped(out).cause == Reason.CONSECUTIVE_ERRORS


def test_a_strategy_breaker_measures_its_capital_plus_realized_pnl(dora: Any) -> None:
    rec = dora
    breaker(
        rec, Scope.STRATEGY, "momo", capital=D(1000), max_daily_loss_pct=D(2), max_drawdown_pct=None
    )
    trade(rec, Side.BUY, "1", "2000", tag="momo")
    trade(rec, Side.SELL, "1", "1980", tag="momo")  # 20 USDT realized loss: 2 % of 1,000
    assert status(rec, "momo", Scope.STRATEGY)["state"] == "OPEN"
    assert try_order(rec, tag="momo").reason == Reason.CIRCUIT_BREAKER_OPEN  # type: ignore[attr-defined]
    assert isinstance(try_order(rec), ev.OrderSubmitted)  # untagged orders are not its business


# ---------------------------------------------------------------------------- resets
def trip_by_errors(rec: Any, **cfg: Any) -> ev.CircuitBreakerTripped:
    breaker(rec, max_consecutive_errors=1, **cfg)
    oid = try_order(rec).order_id
    return tripped(rec.report(rep.VenueRejected, oid, reason=Reason.VENUE_REJECTED, message="down"))


def reset(rec: Any) -> list[ev.EventBase]:
    return rec.handle(
        c.ResetCircuitBreaker(
            ts=rec.ts, scope=Scope.ACCOUNT, scope_id="dora", actor="ops", reason="venue is back"
        )
    )


def test_no_reset_during_the_cool_down_then_a_manual_reset(dora: Any) -> None:
    rec = dora
    trip = trip_by_errors(rec)
    rec.ts = trip.ts_event + 14 * MINUTE
    out = reset(rec)
    assert isinstance(out[0], ev.CommandRejected) and out[0].reason == Reason.BREAKER_COOLING_DOWN
    rec.ts = trip.ts_event + 15 * MINUTE
    out = reset(rec)
    assert isinstance(out[0], ev.CircuitBreakerReset) and not out[0].automatic
    assert out[0].actor == "ops"
    assert status(rec)["state"] == BreakerState.CLOSED
    assert isinstance(try_order(rec), ev.OrderSubmitted)
    again = reset(rec)
    assert isinstance(again[0], ev.CommandRejected) and again[0].reason == Reason.BREAKER_NOT_OPEN


def test_automatic_reset_after_the_configured_minutes(dora: Any) -> None:
    rec = dora
    trip = trip_by_errors(rec)
    rec.ts = trip.ts_event + 59 * MINUTE
    assert not any(isinstance(e, ev.CircuitBreakerReset) for e in tick(rec))
    out = tick(rec, MINUTE)
    done = [e for e in out if isinstance(e, ev.CircuitBreakerReset)]
    assert len(done) == 1 and done[0].automatic and done[0].actor == "risk"
    assert isinstance(try_order(rec), ev.OrderSubmitted)


def test_a_due_automatic_reset_also_happens_at_the_next_order(dora: Any) -> None:
    rec = dora
    trip = trip_by_errors(rec)
    rec.ts = trip.ts_event + 61 * MINUTE
    out = submit_events(rec)
    assert [type(e) for e in out[:2]] == [ev.CircuitBreakerReset, ev.BreakerEquityMarked]
    assert any(isinstance(e, ev.OrderSubmitted) for e in out)


def test_manual_reset_only(dora: Any) -> None:
    rec = dora
    trip = trip_by_errors(rec, require_manual_reset=True)
    assert trip.auto_reset_at is None
    rec.ts = trip.ts_event + 600 * MINUTE
    assert not any(isinstance(e, ev.CircuitBreakerReset) for e in tick(rec))
    assert try_order(rec).reason == Reason.CIRCUIT_BREAKER_OPEN  # type: ignore[attr-defined]
    assert isinstance(reset(rec)[0], ev.CircuitBreakerReset)


def test_a_reset_measures_the_day_from_the_equity_at_reset(dora: Any) -> None:
    rec = dora
    breaker(rec, max_drawdown_pct=None)
    trade(rec, Side.BUY, "1", "2000")
    price(rec, "1500")
    tripped(tick(rec))
    rec.ts += 60 * MINUTE
    tick(rec)  # automatic reset: 9,500 is the new start
    assert status(rec)["start_of_day_equity"] == D(9_500)
    assert status(rec)["state"] == "CLOSED"
    price(rec, "1100")  # 400 more down: 4.2 % of 9,500
    assert not any(isinstance(e, ev.CircuitBreakerTripped) for e in tick(rec))


def test_a_new_day_starts_from_that_days_equity(dora: Any) -> None:
    rec = dora
    breaker(rec, max_drawdown_pct=None)
    trade(rec, Side.BUY, "1", "2000")
    price(rec, "1600")  # 4 % down today
    tick(rec)
    rec.ts += 24 * 60 * MINUTE
    tick(rec)
    assert status(rec)["start_of_day_equity"] == D(9_600)


def test_breaker_history_replays_to_the_same_state(dora: Any, kit: Any) -> None:
    rec = dora
    breaker(rec, max_consecutive_losses=2)
    trade(rec, Side.BUY, "0.1", "2000")
    trade(rec, Side.SELL, "0.1", "1990")
    trade(rec, Side.BUY, "0.1", "2000")
    trade(rec, Side.SELL, "0.1", "1990")
    rec.ts += 61 * MINUTE
    tick(rec)
    kit.check_invariants(rec.engine)
    assert rec.replay_digest() == rec.engine.digest()
