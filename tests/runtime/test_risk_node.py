"""Risk through the library API, across a restart: limits, trading states, kill switches, breakers
and their counters come back from the journal (and from a snapshot) exactly, and an account's audit
trail read after the restart equals the one recorded live.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import BreakerConfig, RiskLimits, Scope, TradingState
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import CommandRefused, Node
from atlas_oms.store.audit import audit_trail

SPOT = Instrument.spot("BTC/USDT", tick_size="0.5", lot_size="0.01")
PERP = Instrument.perpetual("ETH/USDT:USDT", tick_size="0.1", lot_size="0.1")
SECOND = 1_000_000_000
T0 = 1_767_600_000 * SECOND


def build(node: Node) -> None:
    node.add_instrument(SPOT)
    node.add_instrument(PERP)
    for account in ("alice", "bob", "carol"):
        node.open_account(account)
        node.deposit(account, "USDT", 1_000_000)
        node.deposit(account, "BTC", 10)
    node.open_account("alice.algo", parent_id="alice")
    node.deposit("alice.algo", "USDT", 100_000)
    node.update_prices(SPOT.symbol, last=30_000, mark=30_000)
    node.update_prices(PERP.symbol, last=2_000, mark=2_000)
    node.set_limits(
        Scope.ACCOUNT,
        "alice",
        RiskLimits(
            max_order_qty=Decimal(2),
            price_band_pct=Decimal(5),
            max_open_orders=6,
            max_orders_per_minute=500,
            duplicate_window_ms=5,
            order_trade_ratio_warn=Decimal(4),
            order_trade_ratio_clear=Decimal(2),
            ratio_min_orders=5,
            breaker=BreakerConfig(max_orders_per_minute=400, max_orders_per_hour=5000),
        ),
        actor="ops",
        reason="desk limits",
    )
    node.set_limits(Scope.INSTRUMENT, SPOT.symbol, max_firm_gross_qty="40", actor="ops")


def trade(node: Node, clock: ManualClock, rng: random.Random, steps: int) -> None:
    for _ in range(steps):
        clock.advance(rng.randint(1, 3) * SECOND // 10)
        account = rng.choice(("alice", "alice.algo", "bob", "carol"))
        symbol = rng.choice((SPOT.symbol, PERP.symbol))
        mid = 30_000 if symbol == SPOT.symbol else 2_000
        tick = Decimal("0.5") if symbol == SPOT.symbol else Decimal("0.1")
        side = rng.choice(("BUY", "SELL"))
        roll = rng.random()
        if roll < 0.15:
            live = [o for o in node.orders(account, open_only=True)]
            if live:
                node.cancel(account, rng.choice(live).order_id)
            continue
        price = (
            Decimal(mid) * (1 + Decimal(rng.randint(-30, 30)) / 1000) / tick
        ).to_integral_value() * tick
        qty = Decimal(rng.randint(1, 25)) / 10
        node.submit(
            account,
            symbol,
            side,
            "LIMIT" if roll < 0.85 else "MARKET",
            qty,
            price if roll < 0.85 else None,
            tag=rng.choice((None, "momo")),
        )


def risk_view(node: Node) -> Any:
    engine = node.engine
    return (
        node.digest(),
        engine.state.risk.canonical(),
        dict(sorted((a, n) for a, n in engine.state.open_orders.items() if n)),
        {
            s: (v.net, v.gross, v.open_buy, v.open_sell)
            for s, v in sorted(engine.state.firm.items())
            if v.net or v.gross or v.open_buy or v.open_sell
        },
        {k: (p.open_buy, p.open_sell) for k, p in sorted(engine.state.positions.items())},
        node.risk_status(),
    )


@pytest.mark.parametrize("snapshot_every", [0, 40], ids=["journal-only", "snapshot-every-40"])
def test_risk_state_and_audit_trail_survive_a_restart(tmp_path: Path, snapshot_every: int) -> None:
    path = str(tmp_path / "risk.db")
    clock = ManualClock(T0)
    node = Node.open(path, clock=clock, snapshot_every=snapshot_every)
    live: list[ev.EventBase] = list(node.events())
    node.subscribe(live.extend)
    build(node)
    rng = random.Random(7)
    trade(node, clock, rng, 120)
    node.set_trading_state(
        Scope.ACCOUNT, "bob", TradingState.REDUCING, actor="ops", reason="drawdown"
    )
    node.kill(Scope.ACCOUNT, "alice", actor="risk-officer", reason="runaway", flatten=True)
    trade(node, clock, rng, 40)
    before = risk_view(node)
    node.close()

    reopened = Node.open(path, clock=ManualClock(clock.now()), snapshot_every=snapshot_every)
    assert risk_view(reopened) == before
    for account in ("alice", "bob"):
        for subs in (False, True):
            assert reopened.audit(account, include_subaccounts=subs) == audit_trail(
                live, account, include_subaccounts=subs
            )
    trail = [r.event for r in reopened.audit("alice")]
    for name in ("RiskLimitsSet", "KillSwitchTripped", "OrderDenied", "OrderCanceled"):
        assert name in trail
    # The kill switch still holds after the restart.
    assert (
        reopened.submit("alice", SPOT.symbol, "BUY", "LIMIT", "0.1", "30000").reason
        == Reason.KILL_SWITCH_ACTIVE
    )
    reopened.close()


def test_operator_refusals_raise_with_their_reason() -> None:
    node = Node.in_memory(clock=ManualClock(T0))
    build(node)
    with pytest.raises(CommandRefused) as info:
        node.reset_kill(Scope.ACCOUNT, "alice", actor="ops", reason="nothing to reset")
    assert info.value.reason == Reason.KILL_SWITCH_NOT_ACTIVE
    with pytest.raises(CommandRefused):
        node.set_limits(Scope.ACCOUNT, "nobody", max_order_qty="1", actor="ops")


def test_kill_switch_with_flatten_on_the_built_in_exchange(tmp_path: Path) -> None:
    node = Node.in_memory(clock=ManualClock(T0))
    build(node)
    # bob quotes; alice buys 1 BTC and leaves a resting bid.
    node.submit("bob", SPOT.symbol, "SELL", "LIMIT", "1", "30000")
    node.submit("bob", SPOT.symbol, "BUY", "LIMIT", "3", "29900")
    assert (
        node.submit("alice", SPOT.symbol, "BUY", "LIMIT", "1", "30000").status is OrderStatus.FILLED
    )
    resting = node.submit("alice", SPOT.symbol, "BUY", "LIMIT", "0.5", "29000")
    node.kill(Scope.ACCOUNT, "alice", actor="risk-officer", reason="stop everything", flatten=True)
    assert node.order(resting.order_id).status is OrderStatus.CANCELED
    assert node.order(resting.order_id).reason == Reason.KILL_SWITCH
    assert node.position("alice", SPOT.symbol).qty == 0  # sold into bob's bid
    flatten = [o for o in node.orders("alice") if o.tag == "kill-switch"]
    assert len(flatten) == 1 and flatten[0].status is OrderStatus.FILLED


def test_buying_power_through_the_library() -> None:
    node = Node.in_memory(clock=ManualClock(1_767_625_200 * SECOND))  # Monday 10:00 New York
    node.add_instrument(Instrument.equity("ACME"))
    node.open_account("pdt", equity_type="MARGIN", pattern_day_trader=True)
    node.deposit("pdt", "USD", 30_000)
    bp = node.buying_power("pdt")
    assert bp.equity == 30_000 and bp.buying_power == 120_000  # 4:1 intraday above $25,000
    with pytest.raises(CommandRefused):
        node.buying_power("nobody")
