"""Pre-trade risk checks: each limit with an order it refuses and one it lets through.

Every refusal is an ``OrderDenied`` (``OrderModifyRejected`` for a modify) with the limit's reason
code, and nothing else changes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import OrderType, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import BreakerConfig, DuplicateAction, MarketStatus, RiskLimits, Scope

D = Decimal
SECOND = 1_000_000_000
SPOT = "BTC/USDT"
PERP = "ETH/USDT:USDT"


def limits(rec: Any, scope: Scope = Scope.ACCOUNT, scope_id: str = "alice", **fields: Any) -> None:
    out = rec.handle(
        c.SetRiskLimits(
            ts=rec.next_ts(),
            scope=scope,
            scope_id=scope_id,
            limits=RiskLimits(**{k: _dec(v) for k, v in fields.items()}),
            actor="ops",
            reason="test",
        )
    )
    assert [type(e) for e in out][:1] == [ev.RiskLimitsSet], out


NUMERIC = frozenset({"qty", "price", "trigger_price"})


def _dec(v: Any) -> Any:
    return D(v) if type(v) is str else v


def order(rec: Any, **fields: Any) -> list[ev.EventBase]:
    base: dict[str, Any] = {
        "account_id": "alice",
        "symbol": SPOT,
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "qty": D("1"),
        "price": D("30000"),
    }
    base.update({k: _dec(v) if k in NUMERIC else v for k, v in fields.items()})
    if base["order_type"] in (OrderType.MARKET, OrderType.STOP_MARKET):
        base.pop("price", None)
    return rec.submit(**base)[1]


def denied(rec: Any, kit: Any, reason: Reason, **fields: Any) -> ev.OrderDenied:
    before = kit.fingerprint(rec.engine)
    out = order(rec, **fields)
    assert isinstance(out[0], ev.OrderDenied), out
    assert out[0].reason == reason, out[0]
    assert out[0].message  # a sentence for people
    assert kit.fingerprint(rec.engine, skip_orders=[out[0].order_id]) == before
    return out[0]


def accepted(rec: Any, **fields: Any) -> ev.OrderSubmitted:
    out = order(rec, **fields)
    assert isinstance(out[0], ev.OrderSubmitted), out
    return out[0]


def fill_against(rec: Any, buyer: str, seller: str, qty: str, px: str, symbol: str = SPOT) -> None:
    """Cross two orders by hand-played venue reports: gives both accounts a position."""
    buy = accepted(rec, account_id=buyer, symbol=symbol, qty=qty, price=px).order_id
    sell = accepted(rec, account_id=seller, symbol=symbol, side=Side.SELL, qty=qty, price=px)
    for oid in (buy, sell.order_id):
        rec.accept(oid)
        rec.fill(oid, qty, px, f"x{oid}")


# ---------------------------------------------------------------------------- fat finger
def test_order_quantity_above_the_limit_is_denied_and_at_the_limit_passes(
    rec: Any, kit: Any
) -> None:
    limits(rec, max_order_qty="2")
    denied(rec, kit, Reason.ORDER_QTY_TOO_LARGE, qty="2.01")
    accepted(rec, qty="2")


def test_order_notional_above_the_limit_is_denied(rec: Any, kit: Any) -> None:
    limits(rec, max_order_notional="60000")
    denied(rec, kit, Reason.ORDER_NOTIONAL_TOO_LARGE, qty="2", price="30000.5")
    accepted(rec, qty="2", price="30000")


def test_market_order_notional_uses_its_protection_price(rec: Any, kit: Any) -> None:
    limits(rec, max_order_notional="60000")
    # 2 BTC at a 5% collar above 30,000 may cost up to 63,000.
    denied(rec, kit, Reason.ORDER_NOTIONAL_TOO_LARGE, order_type=OrderType.MARKET, qty="2")
    accepted(rec, order_type=OrderType.MARKET, qty="1.9")


# ---------------------------------------------------------------------------- price bands
def test_limit_price_outside_the_band_is_denied(rec: Any, kit: Any) -> None:
    limits(rec, price_band_pct="5")
    denied(rec, kit, Reason.PRICE_OUTSIDE_BAND, price="31500.5")
    denied(rec, kit, Reason.PRICE_OUTSIDE_BAND, side=Side.SELL, price="28499.5")
    accepted(rec, price="31500")
    accepted(rec, side=Side.SELL, price="28500")


def test_trigger_price_outside_the_band_is_denied(rec: Any, kit: Any) -> None:
    limits(rec, price_band_pct="5")
    stop = {"order_type": OrderType.STOP_MARKET, "side": Side.SELL}
    denied(rec, kit, Reason.PRICE_OUTSIDE_BAND, trigger_price="28000", **stop)
    accepted(rec, trigger_price="29000", **stop)


def test_a_derivative_band_is_measured_from_the_mark_price(rec: Any, kit: Any) -> None:
    limits(rec, price_band_pct="1")
    rec.handle(c.UpdatePrices(ts=rec.next_ts(), symbol=PERP, last=D(2000), mark=D(2100)))
    denied(rec, kit, Reason.PRICE_OUTSIDE_BAND, symbol=PERP, qty="1", price="2000")
    accepted(rec, symbol=PERP, qty="1", price="2090")


def test_no_reference_price_means_no_band_yet(rec: Any) -> None:
    rec.handle(
        c.AddInstrument(
            ts=rec.next_ts(),
            instrument=Instrument.spot("SOL/USDT", tick_size="0.01", lot_size="0.1"),
        )
    )
    limits(rec, price_band_pct="1")
    accepted(rec, symbol="SOL/USDT", qty="1", price="150")


EQUITY_TS = 1_767_625_200 * SECOND  # 2026-01-05 15:00 UTC, Monday 10:00 in New York


@pytest.mark.parametrize(
    ("ref", "outside", "inside"),
    [("10", "10.51", "10.50"), ("2", "2.41", "2.40"), ("0.50", "0.66", "0.65")],
    ids=["above-3-dollars-5pct", "0.75-to-3-dollars-20pct", "below-0.75-lesser-of-15c-75pct"],
)
def test_equity_limit_up_limit_down_band_by_price_tier(
    rec: Any, kit: Any, ref: str, outside: str, inside: str
) -> None:
    rec.ts = EQUITY_TS
    rec.handle(c.AddInstrument(ts=rec.next_ts(), instrument=Instrument.equity("ACME")))
    rec.handle(c.AdjustBalance(ts=rec.next_ts(), account_id="alice", asset="USD", amount=D(10**6)))
    rec.handle(c.UpdatePrices(ts=rec.next_ts(), symbol="ACME", last=D(ref)))
    limits(rec, luld=True)
    denied(rec, kit, Reason.PRICE_OUTSIDE_BAND, symbol="ACME", qty="1", price=outside)
    accepted(rec, symbol="ACME", qty="1", price=inside)


# ---------------------------------------------------------------------------- open orders, positions
def test_open_orders_per_account_are_capped_and_a_cancel_makes_room(rec: Any, kit: Any) -> None:
    limits(rec, max_open_orders=2)
    first = accepted(rec).order_id
    accepted(rec)
    denied(rec, kit, Reason.TOO_MANY_OPEN_ORDERS)
    accepted(rec, account_id="bob")  # another account has its own count
    rec.handle(c.CancelOrder(ts=rec.next_ts(), account_id="alice", order_id=first))
    rec.report(rep.VenueCanceled, first, reason="CANCELED_BY_USER")
    accepted(rec)


def test_position_limit_counts_the_position_and_open_orders_on_the_same_side(
    rec: Any, kit: Any
) -> None:
    fill_against(rec, "alice", "bob", "3", "30000")
    limits(rec, max_position_qty="5")
    accepted(rec, qty="1")  # 3 held + 1 open = 4
    denied(rec, kit, Reason.POSITION_LIMIT, qty="1.01")  # would reach 5.01
    accepted(rec, qty="1")  # exactly 5
    # Selling reduces the long position: no limit applies to it.
    accepted(rec, side=Side.SELL, qty="3")


def test_short_side_position_limit(rec: Any, kit: Any) -> None:
    limits(rec, scope_id="bob", max_position_qty="4")
    fill_against(rec, "alice", "bob", "3", "30000")  # bob is short 3 (his sell was accepted)
    denied(rec, kit, Reason.POSITION_LIMIT, account_id="bob", side=Side.SELL, qty="1.5")
    accepted(rec, account_id="bob", side=Side.SELL, qty="1")
    accepted(rec, account_id="bob", side=Side.BUY, qty="7")  # covers 3 first, then long 4
    denied(rec, kit, Reason.POSITION_LIMIT, account_id="bob", side=Side.BUY, qty="0.01")


def test_position_notional_limit(rec: Any, kit: Any) -> None:
    limits(rec, max_position_notional="90000")
    denied(rec, kit, Reason.POSITION_NOTIONAL_LIMIT, qty="3.01")
    accepted(rec, qty="3")


def test_firm_net_limit_across_all_accounts(rec: Any, kit: Any) -> None:
    limits(rec, Scope.INSTRUMENT, SPOT, max_firm_net_qty="4")
    accepted(rec, account_id="alice", qty="2")
    accepted(rec, account_id="bob", qty="2")
    denied(rec, kit, Reason.FIRM_NET_LIMIT, account_id="carol", qty="0.5")
    accepted(rec, account_id="carol", side=Side.SELL, qty="0.5")


def test_firm_gross_limit_counts_both_sides(rec: Any, kit: Any) -> None:
    limits(rec, Scope.GLOBAL, "", max_firm_gross_qty="5")
    accepted(rec, account_id="alice", qty="2")
    accepted(rec, account_id="bob", side=Side.SELL, qty="2")
    denied(rec, kit, Reason.FIRM_GROSS_LIMIT, account_id="carol", side=Side.SELL, qty="1.5")
    accepted(rec, account_id="carol", qty="1")


def test_reduce_only_order_that_would_increase_is_refused(rec: Any, kit: Any) -> None:
    fill_against(rec, "alice", "bob", "1", "30000")
    denied(rec, kit, Reason.REDUCE_ONLY_WOULD_INCREASE, qty="0.5", reduce_only=True)
    accepted(rec, side=Side.SELL, qty="0.5", reduce_only=True)


# ---------------------------------------------------------------------------- rates, duplicates
def test_order_rate_per_second_minute_and_hour(rec: Any, kit: Any) -> None:
    limits(rec, max_orders_per_second=2, max_orders_per_minute=3, max_orders_per_hour=4)
    t0 = 10_000 * SECOND
    accepted(rec, ts=t0)
    accepted(rec, ts=t0 + 1)
    denied(rec, kit, Reason.RATE_LIMIT_EXCEEDED, ts=t0 + 2)  # third in one second
    accepted(rec, ts=t0 + SECOND)
    denied(rec, kit, Reason.RATE_LIMIT_EXCEEDED, ts=t0 + 2 * SECOND)  # fourth in a minute
    accepted(rec, ts=t0 + 61 * SECOND)
    denied(rec, kit, Reason.RATE_LIMIT_EXCEEDED, ts=t0 + 200 * SECOND)  # fifth in an hour
    accepted(rec, ts=t0 + 3601 * SECOND)


def test_modifies_count_toward_the_rate(rec: Any, kit: Any) -> None:
    limits(rec, max_orders_per_second=2)
    t0 = 10_000 * SECOND
    oid = accepted(rec, ts=t0).order_id
    rec.accept(oid)
    out = rec.handle(c.ModifyOrder(ts=t0 + 1, account_id="alice", order_id=oid, price=D(29000)))
    assert isinstance(out[0], ev.OrderPendingReplace)
    denied(rec, kit, Reason.RATE_LIMIT_EXCEEDED, ts=t0 + 2)


def test_duplicate_guard_warns_by_default(rec: Any) -> None:
    limits(rec, duplicate_window_ms=1000)
    t0 = 10_000 * SECOND
    accepted(rec, ts=t0)
    out = order(rec, ts=t0 + SECOND // 2)
    assert isinstance(out[0], ev.OrderSubmitted)
    alert = next(e for e in out if isinstance(e, ev.RiskAlert))
    assert alert.code == Reason.DUPLICATE_ORDER and alert.order_id == out[0].order_id
    later = order(rec, ts=t0 + 5 * SECOND)  # outside the window: no warning
    assert not any(isinstance(e, ev.RiskAlert) for e in later)


def test_duplicate_guard_can_refuse(rec: Any, kit: Any) -> None:
    limits(rec, duplicate_window_ms=1000, duplicate_action=DuplicateAction.REFUSE)
    t0 = 10_000 * SECOND
    accepted(rec, ts=t0)
    denied(rec, kit, Reason.DUPLICATE_ORDER, ts=t0 + 1)
    accepted(rec, ts=t0 + 2, qty="1.01")  # a different quantity is a different order
    accepted(rec, ts=t0 + 2 * SECOND)


# ---------------------------------------------------------------------------- market-order policy
def test_market_order_policy_requires_an_allowed_reason_and_records_it(rec: Any, kit: Any) -> None:
    limits(rec, market_order_policy=True)
    denied(rec, kit, Reason.MARKET_ORDER_NOT_ALLOWED, order_type=OrderType.MARKET)
    denied(
        rec,
        kit,
        Reason.MARKET_ORDER_NOT_ALLOWED,
        order_type=OrderType.STOP_MARKET,
        side=Side.SELL,
        trigger_price="29000",
    )
    ok = accepted(rec, order_type=OrderType.MARKET, market_reason="FORCED_CLOSE")
    assert ok.intent.market_reason == "FORCED_CLOSE"  # journaled with the order
    accepted(rec, order_type=OrderType.LIMIT)  # limits need no reason


# ---------------------------------------------------------------------------- sessions
def test_halted_instrument_refuses_orders_until_resumed(rec: Any, kit: Any) -> None:
    rec.handle(
        c.SetMarketStatus(
            ts=rec.next_ts(), symbol=SPOT, status=MarketStatus.HALTED, actor="ops", reason="news"
        )
    )
    denied(rec, kit, Reason.INSTRUMENT_HALTED)
    rec.handle(
        c.SetMarketStatus(ts=rec.next_ts(), symbol=SPOT, status=None, actor="ops", reason="resume")
    )
    accepted(rec)


def test_equities_follow_new_york_hours_and_need_the_extended_hours_flag(
    rec: Any, kit: Any
) -> None:
    rec.handle(c.AddInstrument(ts=rec.next_ts(), instrument=Instrument.equity("ACME")))
    rec.handle(c.AdjustBalance(ts=rec.next_ts(), account_id="alice", asset="USD", amount=D(10**6)))
    stock = {"symbol": "ACME", "qty": "1", "price": "10"}
    pre = 1_767_614_400 * SECOND  # 2026-01-05 12:00 UTC: 07:00 in New York, pre-market
    denied(rec, kit, Reason.EXTENDED_HOURS_REQUIRED, ts=pre, **stock)
    accepted(rec, ts=pre + 1, extended_hours=True, **stock)
    denied(
        rec,
        kit,
        Reason.MARKET_CLOSED,
        ts=pre + 2,
        extended_hours=True,
        symbol="ACME",
        qty="1",
        order_type=OrderType.MARKET,
    )
    accepted(rec, ts=EQUITY_TS, **stock)  # regular session
    saturday = 1_768_057_200 * SECOND  # 2026-01-10 15:00 UTC
    denied(rec, kit, Reason.MARKET_CLOSED, ts=saturday, extended_hours=True, **stock)
    # Crypto trades through the weekend.
    accepted(rec, ts=saturday + 1)


# ---------------------------------------------------------------------------- scopes
def test_the_tightest_scope_wins(rec: Any, kit: Any) -> None:
    limits(rec, Scope.GLOBAL, "", max_order_qty="10")
    limits(rec, Scope.INSTRUMENT, SPOT, max_order_qty="8")
    limits(rec, max_order_qty="5")
    denied(rec, kit, Reason.ORDER_QTY_TOO_LARGE, qty="6")
    accepted(rec, account_id="bob", qty="7")
    denied(rec, kit, Reason.ORDER_QTY_TOO_LARGE, account_id="bob", qty="9")
    accepted(rec, account_id="bob", symbol=PERP, qty="9", price="2000")
    denied(
        rec, kit, Reason.ORDER_QTY_TOO_LARGE, account_id="bob", symbol=PERP, qty="11", price="2000"
    )


def test_a_sub_account_is_bound_by_its_parents_limits(rec: Any, kit: Any) -> None:
    rec.handle(c.OpenAccount(ts=rec.next_ts(), account_id="alice.desk1", parent_id="alice"))
    rec.handle(
        c.AdjustBalance(ts=rec.next_ts(), account_id="alice.desk1", asset="USDT", amount=D(10**6))
    )
    limits(rec, max_order_qty="1")
    denied(rec, kit, Reason.ORDER_QTY_TOO_LARGE, account_id="alice.desk1", qty="2")
    accepted(rec, account_id="alice.desk1", qty="1")


def test_strategy_limits_apply_to_orders_with_its_tag(rec: Any, kit: Any) -> None:
    limits(rec, Scope.STRATEGY, "momo", max_order_qty="1")
    denied(rec, kit, Reason.ORDER_QTY_TOO_LARGE, qty="2", tag="momo")
    accepted(rec, qty="2", tag="other")


# ---------------------------------------------------------------------------- modify
def test_a_modify_meets_the_same_limits(rec: Any) -> None:
    limits(rec, max_order_qty="2", price_band_pct="5", max_position_qty="3")
    oid = accepted(rec, qty="1").order_id
    rec.accept(oid)

    def modify(**fields: Any) -> ev.EventBase:
        return rec.handle(
            c.ModifyOrder(
                ts=rec.next_ts(),
                account_id="alice",
                order_id=oid,
                **{k: D(v) for k, v in fields.items()},
            )
        )[0]

    for fields, reason in (
        ({"qty": "2.5"}, Reason.ORDER_QTY_TOO_LARGE),
        ({"price": "32000"}, Reason.PRICE_OUTSIDE_BAND),
    ):
        out = modify(**fields)
        assert isinstance(out, ev.OrderModifyRejected) and out.reason == reason, out
    accepted(rec, qty="1.5")
    out = modify(qty="2")  # 1.5 + 2 > 3
    assert isinstance(out, ev.OrderModifyRejected) and out.reason == Reason.POSITION_LIMIT
    assert isinstance(modify(qty="1.5"), ev.OrderPendingReplace)


# ---------------------------------------------------------------------------- operator input
@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (
            c.SetRiskLimits(scope=Scope.ACCOUNT, scope_id="alice", limits=RiskLimits(), actor=""),
            Reason.MISSING_ACTOR,
        ),
        (
            c.SetRiskLimits(
                scope=Scope.ACCOUNT, scope_id="nobody", limits=RiskLimits(), actor="ops"
            ),
            Reason.UNKNOWN_ACCOUNT,
        ),
        (
            c.SetRiskLimits(
                scope=Scope.INSTRUMENT, scope_id="NOPE", limits=RiskLimits(), actor="ops"
            ),
            Reason.UNKNOWN_INSTRUMENT,
        ),
        (
            c.SetRiskLimits(scope=Scope.GLOBAL, scope_id="x", limits=RiskLimits(), actor="ops"),
            Reason.INVALID_SCOPE,
        ),
        (
            c.SetRiskLimits(scope=Scope.STRATEGY, scope_id="", limits=RiskLimits(), actor="ops"),
            Reason.INVALID_SCOPE,
        ),
        (
            c.SetRiskLimits(
                scope=Scope.ACCOUNT,
                scope_id="alice",
                limits=RiskLimits(max_order_qty=D(-1)),
                actor="ops",
            ),
            Reason.INVALID_LIMITS,
        ),
        (
            c.SetRiskLimits(
                scope=Scope.ACCOUNT,
                scope_id="alice",
                limits=RiskLimits(max_open_orders=0),
                actor="ops",
            ),
            Reason.INVALID_LIMITS,
        ),
        (
            c.SetRiskLimits(
                scope=Scope.ACCOUNT,
                scope_id="alice",
                limits=RiskLimits(price_band_pct=D(100)),
                actor="ops",
            ),
            Reason.INVALID_LIMITS,
        ),
        (
            c.SetRiskLimits(
                scope=Scope.ACCOUNT,
                scope_id="alice",
                limits=RiskLimits(order_trade_window_s=7200),
                actor="ops",
            ),
            Reason.INVALID_LIMITS,
        ),
        (
            c.SetRiskLimits(
                scope=Scope.GLOBAL, limits=RiskLimits(breaker=BreakerConfig()), actor="ops"
            ),
            Reason.INVALID_SCOPE,
        ),
        (
            c.SetRiskLimits(
                scope=Scope.STRATEGY,
                scope_id="s",
                limits=RiskLimits(breaker=BreakerConfig()),
                actor="ops",
            ),
            Reason.INVALID_LIMITS,
        ),
        (
            c.SetRiskLimits(
                scope=Scope.ACCOUNT,
                scope_id="alice",
                limits=RiskLimits(breaker=BreakerConfig(max_daily_loss_pct=D(0))),
                actor="ops",
            ),
            Reason.INVALID_LIMITS,
        ),
        (
            c.SetTradingState(scope=Scope.INSTRUMENT, scope_id=SPOT, state="HALTED", actor="ops"),
            Reason.INVALID_SCOPE,
        ),
        (
            c.TripKillSwitch(scope=Scope.STRATEGY, scope_id="s", actor="ops", flatten=True),
            Reason.INVALID_SCOPE,
        ),
        (
            c.ResetKillSwitch(scope=Scope.GLOBAL, actor="ops", reason="why"),
            Reason.KILL_SWITCH_NOT_ACTIVE,
        ),
        (
            c.ResetCircuitBreaker(scope=Scope.ACCOUNT, scope_id="alice", actor="ops"),
            Reason.INVALID_SCOPE,
        ),
        (
            c.SetMarketStatus(symbol="NOPE", status=MarketStatus.HALTED, actor="ops"),
            Reason.UNKNOWN_INSTRUMENT,
        ),
    ],
    ids=lambda x: type(x).__name__ if not isinstance(x, Reason) else x.value,
)
def test_bad_operator_commands_are_refused_with_a_reason(
    rec: Any, kit: Any, command: Any, reason: Reason
) -> None:
    before = kit.fingerprint(rec.engine)
    out = rec.handle(command)
    assert [type(e) for e in out] == [ev.CommandRejected], out
    assert out[0].reason == reason and out[0].message
    assert kit.fingerprint(rec.engine) == before


def test_limits_and_checks_survive_replay(rec: Any, kit: Any) -> None:
    limits(rec, max_open_orders=3, max_orders_per_minute=50, duplicate_window_ms=10)
    for _ in range(3):
        accepted(rec)
    denied(rec, kit, Reason.TOO_MANY_OPEN_ORDERS)
    kit.check_invariants(rec.engine)
    assert rec.replay_digest() == rec.engine.digest()
