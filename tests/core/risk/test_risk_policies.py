"""Risk policies: a rejected protective order (RSK-4) and order/trade and cancel/replace ratios
(RSK-6, seed 001 section 8.2).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import LiquiditySide, OrderStatus, OrderType, Side
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import SubmitToVenue
from atlas_oms.model.risk import AlertLevel, RiskLimits, Scope

D = Decimal
SPOT = "BTC/USDT"
SECOND = 1_000_000_000


def long_one_btc(rec: Any) -> None:
    buy = rec.limit("alice", "BUY", "1", "30000")
    sell = rec.limit("carol", "SELL", "1", "30000")
    for oid in (buy, sell):
        rec.accept(oid)
        rec.fill(oid, "1", "30000", f"x{oid}")


def stop_loss(rec: Any, trigger: str = "29000") -> int:
    order_id, out = rec.submit(
        account_id="alice",
        symbol=SPOT,
        side=Side.SELL,
        order_type=OrderType.STOP_MARKET,
        qty=D(1),
        trigger_price=D(trigger),
        reduce_only=True,
    )
    assert isinstance(out[0], ev.OrderSubmitted)
    return order_id  # type: ignore[no-any-return]


def reject_released(rec: Any) -> list[ev.EventBase]:
    """The venue refuses whatever stop the engine has just released to it."""
    sent = [r for r in rec.engine.take_requests() if isinstance(r, SubmitToVenue)]
    assert len(sent) == 1, sent
    return rec.report(
        rep.VenueRejected,
        sent[0].order_id,
        reason=Reason.VENUE_REJECTED,
        message="risk system unavailable",
    )


def test_rejected_protective_stop_raises_a_critical_alert_and_is_retried(rec: Any) -> None:
    long_one_btc(rec)
    stop = stop_loss(rec)
    rec.engine.take_requests()
    rec.handle(c.UpdatePrices(ts=rec.next_ts(), symbol=SPOT, last=D(28900)))  # the stop fires
    out = reject_released(rec)
    alert = next(e for e in out if isinstance(e, ev.RiskAlert))
    assert (alert.level, alert.code, alert.order_id) == (
        AlertLevel.CRITICAL,
        Reason.PROTECTIVE_ORDER_REJECTED,
        stop,
    )
    assert "unprotected" in alert.message and "retry 1 of 3" in alert.message
    retry = next(e for e in out if isinstance(e, ev.OrderSubmitted))
    assert retry.intent.retry_of == stop and retry.intent.order_type is OrderType.STOP_MARKET
    assert retry.intent.market_reason == "STOP_MARKET_FALLBACK"
    # The market is already through the trigger: the retry goes straight to the venue.
    assert rec.engine.state.orders[retry.order_id].status is OrderStatus.TRIGGERED


def test_after_the_last_retry_the_kill_switch_fires_and_flattens(rec: Any) -> None:
    rec.handle(
        c.SetRiskLimits(
            ts=rec.next_ts(),
            scope=Scope.ACCOUNT,
            scope_id="alice",
            limits=RiskLimits(protective_retry_limit=2),
            actor="ops",
        )
    )
    long_one_btc(rec)
    stop_loss(rec)
    rec.engine.take_requests()
    rec.handle(c.UpdatePrices(ts=rec.next_ts(), symbol=SPOT, last=D(28900)))
    for _ in range(2):
        out = reject_released(rec)
        assert not any(isinstance(e, ev.KillSwitchTripped) for e in out)
    out = reject_released(rec)
    kill = next(e for e in out if isinstance(e, ev.KillSwitchTripped))
    assert (kill.scope, kill.scope_id, kill.actor, kill.flatten) == (
        Scope.ACCOUNT,
        "alice",
        "risk",
        True,
    )
    assert Reason.PROTECTIVE_RETRIES_EXHAUSTED in kill.reason
    flat = next(e for e in out if isinstance(e, ev.OrderSubmitted))
    assert flat.intent.market_reason == "KILL_SWITCH" and flat.intent.qty == 1
    assert flat.intent.order_type is OrderType.MARKET and flat.intent.reduce_only


def test_no_alert_while_another_stop_still_protects_the_position(rec: Any) -> None:
    long_one_btc(rec)
    stop_loss(rec, "29000")
    stop_loss(rec, "25000")
    rec.engine.take_requests()
    rec.handle(c.UpdatePrices(ts=rec.next_ts(), symbol=SPOT, last=D(28900)))
    out = reject_released(rec)
    assert not any(isinstance(e, ev.RiskAlert) for e in out)


def test_no_alert_for_an_ordinary_order_or_without_a_position(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    out = rec.report(rep.VenueRejected, oid, reason=Reason.VENUE_REJECTED, message="no")
    assert not any(isinstance(e, ev.RiskAlert) for e in out)


# ---------------------------------------------------------------------------- ratios
def ratio_limits(rec: Any, **fields: Any) -> None:
    fields.setdefault("ratio_min_orders", 5)
    rec.handle(
        c.SetRiskLimits(
            ts=rec.next_ts(),
            scope=Scope.ACCOUNT,
            scope_id="alice",
            actor="ops",
            limits=RiskLimits(**fields),
        )
    )


def alerts(events: list[ev.EventBase]) -> list[str]:
    return [e.code for e in events if isinstance(e, ev.RiskAlert)]


def order_events(rec: Any, qty: str = "0.1") -> tuple[int, list[ev.EventBase]]:
    return rec.submit(  # type: ignore[no-any-return]
        account_id="alice",
        symbol=SPOT,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        price=D(29000),
    )


def test_order_trade_ratio_warns_once_above_and_again_when_back_below(rec: Any) -> None:
    ratio_limits(rec, order_trade_ratio_warn=D(10), order_trade_ratio_clear=D(6))
    ids = []
    for n in range(12):
        oid, out = order_events(rec)
        ids.append(oid)
        # 11 orders without a fill: 11:1 is above 10:1 (warned once, not on every order after).
        assert alerts(out) == ([Reason.ORDER_TRADE_RATIO] if n == 10 else []), n
    for n, oid in enumerate(ids[:3]):
        rec.accept(oid)
        out = rec.fill(oid, "0.1", "29000", f"f{oid}")
        # 12:1, then 6:1 (not below 6:1), then 4:1: cleared.
        assert alerts(out) == ([Reason.ORDER_TRADE_RATIO_CLEARED] if n == 2 else []), n


def test_cancel_replace_ratio_warns(rec: Any) -> None:
    ratio_limits(rec, cancel_replace_ratio_warn=D(5))
    oid, _ = order_events(rec)
    rec.accept(oid)
    for n in range(6):  # six replaces, no fill: 6:1, but only one order so far (minimum 5)
        out = rec.handle(
            c.ModifyOrder(ts=rec.next_ts(), account_id="alice", order_id=oid, price=D(28990 - n))
        )
        assert isinstance(out[0], ev.OrderPendingReplace) and alerts(out) == []
        rec.report(rep.VenueModified, oid, qty=D("0.1"), leaves_qty=D("0.1"), price=D(28990 - n))
    for n in range(4):
        _, out = order_events(rec)
        assert alerts(out) == ([Reason.CANCEL_REPLACE_RATIO] if n == 3 else []), n


def order_at(rec: Any, ts: int) -> tuple[int, list[ev.EventBase]]:
    """Alice's limit buy (0.1 at 29000) at an explicit time."""
    return rec.submit(
        ts=ts,
        account_id="alice",
        symbol=SPOT,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("0.1"),
        price=D(29000),
    )


def fill_at(rec: Any, oid: int, ts: int) -> list[ev.EventBase]:
    """The venue accepts order ``oid`` and fills it completely, both at ``ts``."""
    rec.report(rep.VenueAccepted, oid, ts=ts, venue_order_id=f"V{oid}")
    return rec.report(
        rep.VenueFilled,
        oid,
        ts=ts,
        exec_id=f"w{oid}",
        trade_id=f"Tw{oid}",
        last_qty=D("0.1"),
        last_px=D(29000),
        liquidity_side=LiquiditySide.MAKER,
        fee=D(0),
        fee_asset="USDT",
    )


def test_ratio_windows_roll(rec: Any) -> None:
    # Warn above 3 orders per fill over 60 s, clear below 2:1; the minimum (2 orders in the
    # window) never holds a judgement back here: only the window decides what is counted.
    ratio_limits(
        rec,
        order_trade_ratio_warn=D(3),
        order_trade_ratio_clear=D(2),
        order_trade_window_s=60,
        ratio_min_orders=2,
    )
    t0 = 10_000 * SECOND
    # Spread out: eight orders 20 s apart. A 60 s window never holds more than three of them
    # (3:1, not above 3:1), so no warning; eight orders with no fill would be 8:1.
    for i in range(8):
        _, out = order_at(rec, t0 + i * 20 * SECOND)
        assert alerts(out) == [], i
    # Within one window: four orders one second apart. The fourth makes 4:1 over the last
    # 60 s (the spread-out orders have all left it) and warns.
    t1 = t0 + 1_000 * SECOND
    burst = []
    for i in range(4):
        oid, out = order_at(rec, t1 + i * SECOND)
        burst.append(oid)
        assert alerts(out) == ([Reason.ORDER_TRADE_RATIO] if i == 3 else []), i
    warning = next(e for e in out if isinstance(e, ev.RiskAlert))
    assert "4:1 over 1 min" in warning.message
    # A fill while those orders are still in the window: 4:1, not below 2:1, still flagged.
    out = fill_at(rec, burst[0], t1 + 4 * SECOND)
    assert alerts(out) == []
    # 70 s later the burst and its fill have left the window: one new order and its fill are
    # 1:1 (with the burst still counted it would be 5 orders to 2 fills, 2.5:1, not below 2).
    t2 = t1 + 74 * SECOND
    oid, out = order_at(rec, t2)
    assert alerts(out) == []  # flagged: only a fill is judged, and this is an order
    out = fill_at(rec, oid, t2 + SECOND)
    assert alerts(out) == [Reason.ORDER_TRADE_RATIO_CLEARED]
    cleared = next(e for e in out if isinstance(e, ev.RiskAlert))
    assert "back to 1:1" in cleared.message
