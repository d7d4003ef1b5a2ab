"""No accepted order ever breaks a configured limit, whatever the order flow.

Random sessions on the built-in exchange (three accounts, a spot pair and a perpetual, limit,
market, stop and reduce-only orders, cancels, modifies, price moves, time) run with limits set at
every scope. After every step, for what the engine accepted in it and for the state it left:
order size and notional, price bands, open orders per account, positions per account and across
accounts, and message rates all stay within their limits; the journal replays to the same state.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType, PositionSide, Side
from atlas_oms.model.risk import RiskLimits, Scope
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node

D = Decimal
SECOND = 1_000_000_000
ACCOUNTS = ("alice", "bob", "carol")
SYMBOLS = ("BTC/USDT", "ETH/USDT:USDT")
GLOBAL = RiskLimits(max_order_qty=D("0.4"), max_firm_gross_qty=D(3))
PER_SYMBOL = {
    "BTC/USDT": RiskLimits(price_band_pct=D(2), max_firm_net_qty=D("0.7")),
    "ETH/USDT:USDT": RiskLimits(price_band_pct=D(3), max_order_notional=D(600)),
}
PER_ACCOUNT = RiskLimits(max_open_orders=4, max_position_qty=D("0.6"), max_orders_per_second=2)

submit = st.tuples(
    st.just("submit"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(SYMBOLS),
    st.sampled_from(("BUY", "SELL")),
    st.sampled_from(("LIMIT", "LIMIT", "LIMIT", "LIMIT", "MARKET", "MARKET", "STOP_MARKET")),
    st.sampled_from((1, 1, 2, 2, 3, 4, 5)),  # tenths (lots of 0.1); above 4 is a fat finger
    st.integers(-15, 35),  # per mille more aggressive than the reference: bands are 2-3 %
    st.sampled_from((False, False, False, True)),  # reduce-only
)
cancel = st.tuples(st.just("cancel"), st.integers(0, 30))
modify = st.tuples(st.just("modify"), st.integers(0, 30), st.integers(1, 6), st.integers(-40, 40))
move = st.tuples(st.just("price"), st.sampled_from(SYMBOLS), st.integers(-3, 3))
wait = st.tuples(st.just("time"), st.integers(0, 3))
#: Weighted draws (``st.one_of`` would drop repeated strategies).
actions = st.lists(
    st.sampled_from([submit] * 6 + [cancel, modify, move, wait]).flatmap(lambda s: s),
    min_size=20,
    max_size=80,
)


def _price(ref: D, per_mille: int, symbol: str) -> D:
    """``ref`` moved by ``per_mille`` and put on the instrument's tick."""
    tick = D("0.5") if symbol == "BTC/USDT" else D("0.1")
    return (ref * (1 + D(per_mille) / 1000) / tick).to_integral_value() * tick


def _command(node: Node, action: tuple[Any, ...], ts: int) -> Any:
    engine = node.engine
    kind = action[0]
    if kind == "submit":
        _, account, symbol, side, otype, tenths, ticks, reduce_only = action
        ref = engine.state.reference_price(symbol)
        assert ref is not None
        px = _price(ref, ticks if side == "BUY" else -ticks, symbol)
        fields: dict[str, Any] = {
            "ts": ts,
            "account_id": account,
            "symbol": symbol,
            "side": Side(side),
            "order_type": OrderType(otype),
            "qty": D(tenths) / 10,
            "reduce_only": reduce_only,
        }
        if otype == "LIMIT":
            fields["price"] = px
        elif otype == "STOP_MARKET":
            fields["trigger_price"] = px
        return c.SubmitOrder(**fields)
    live = sorted(o.order_id for o in engine.state.orders.values() if o.is_live)
    if kind in ("cancel", "modify") and live:
        order = engine.state.orders[live[action[1] % len(live)]]
        if kind == "cancel":
            return c.CancelOrder(ts=ts, account_id=order.account_id, order_id=order.order_id)
        ref = engine.state.reference_price(order.symbol)
        assert ref is not None
        price = _price(ref, action[3], order.symbol)
        return c.ModifyOrder(
            ts=ts,
            account_id=order.account_id,
            order_id=order.order_id,
            qty=D(action[2]) / 10 + order.cum_qty,
            price=price if order.price is not None else None,
        )
    if kind == "price":
        _, symbol, steps = action
        ref = engine.state.reference_price(symbol)
        assert ref is not None
        px = _price(ref, steps * 5, symbol)
        return c.UpdatePrices(ts=ts, symbol=symbol, last=px, mark=px)
    return c.AdvanceTime(ts=ts)


def _set_limits(node: Node) -> None:
    node.set_limits(Scope.GLOBAL, "", GLOBAL, actor="risk", reason="property test")
    for symbol, lim in PER_SYMBOL.items():
        node.set_limits(Scope.INSTRUMENT, symbol, lim, actor="risk")
    for account in ACCOUNTS:
        node.set_limits(Scope.ACCOUNT, account, PER_ACCOUNT, actor="risk")


def _check_accepted(
    node: Node, out: list[ev.EventBase], refs: dict[str, D], rate: Counter[Any]
) -> None:
    engine = node.engine
    for e in out:
        if isinstance(e, ev.OrderSubmitted):
            intent = e.intent
            assert intent.qty <= GLOBAL.max_order_qty  # type: ignore[operator]
            band = PER_SYMBOL[intent.symbol].price_band_pct / 100  # type: ignore[operator]
            ref = refs[intent.symbol]
            for px in (intent.price, intent.trigger_price):
                if px is not None:
                    assert abs(px - ref) <= ref * band, (px, ref)
            if intent.symbol == "ETH/USDT:USDT" and intent.price is not None:
                assert intent.qty * intent.price <= 600
            rate[(intent.account_id, e.ts_event // SECOND)] += 1
        elif isinstance(e, ev.OrderPendingReplace | ev.OrderReplaced):
            order = engine.state.orders[e.order_id]
            assert e.qty <= GLOBAL.max_order_qty + order.cum_qty  # type: ignore[operator]
    assert all(n <= PER_ACCOUNT.max_orders_per_second for n in rate.values()), rate  # type: ignore[operator]


def _check_state(node: Node) -> None:
    engine = node.engine
    live = Counter(o.account_id for o in engine.state.orders.values() if o.is_live)
    assert all(n <= 4 for n in live.values()), live
    net: Counter[str] = Counter()
    gross: Counter[str] = Counter()
    for (account, symbol, side), pos in engine.state.positions.items():
        assert side is PositionSide.BOTH
        assert abs(pos.qty) <= PER_ACCOUNT.max_position_qty, (account, symbol, pos.qty)  # type: ignore[operator]
        net[symbol] += pos.qty
        gross[symbol] += abs(pos.qty)
    assert abs(net["BTC/USDT"]) <= PER_SYMBOL["BTC/USDT"].max_firm_net_qty  # type: ignore[operator]
    assert all(g <= GLOBAL.max_firm_gross_qty for g in gross.values())  # type: ignore[operator]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(steps=actions)
def test_no_accepted_order_ever_breaks_a_configured_limit(
    kit: SimpleNamespace, steps: list[tuple[Any, ...]]
) -> None:
    clock = ManualClock(1)
    node = Node.in_memory(clock=clock)
    for msg in kit.setup_messages(1):
        node.process(msg)
    _set_limits(node)
    ts = 1
    rate: Counter[Any] = Counter()
    for step in steps:
        ts += SECOND // 4  # four steps a second: the per-second rate limit is reachable
        if step[0] == "time":
            ts += step[1] * SECOND
        clock.set(ts)
        # Bands are measured from the last price, or the mark price for a derivative.
        refs = {s: node.engine.state.reference_price(s, prefer_mark=":" in s) for s in SYMBOLS}
        out = node.process(_command(node, step, ts))
        _check_accepted(node, out, refs, rate)  # type: ignore[arg-type]
        _check_state(node)
        kit.check_invariants(node.engine)
    assert kit.replay_digest(node.events()) == node.digest()
