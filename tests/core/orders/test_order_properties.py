"""Invariants of the core under random sessions, with the built-in exchange and with a venue we play.

After every step: a live order's ``cum_qty + leaves_qty == qty``; a done order has no leaves and
reserves nothing; no order is ever overfilled; ``cum_qty``, ``cum_notional`` and ``avg_px`` are
exactly what the (unbusted) fills say; a terminal status never comes back to life; ``locked`` is
never negative and equals the open orders' reservations plus position margin; and a fresh engine
that folds the emitted events reaches the same digest.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_oms.core.engine import Engine
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import (
    LiquiditySide,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from atlas_oms.model.reasons import Reason
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node

SYMBOLS = ("BTC/USDT", "ETH/USDT:USDT")
ACCOUNTS = ("alice", "bob", "carol")

# ------------------------------------------------------------------ strategies

submit_action = st.builds(
    lambda account, sym, side, kind, lots, ticks, tif, post_only, trig_ticks: (
        "submit",
        account,
        sym,
        side,
        kind,
        lots,
        ticks,
        tif,
        post_only,
        trig_ticks,
    ),
    st.sampled_from(ACCOUNTS),
    st.integers(0, 1),
    st.sampled_from(("BUY", "SELL")),
    st.sampled_from(("LIMIT", "LIMIT", "LIMIT", "LIMIT", "MARKET", "STOP_MARKET", "STOP_LIMIT")),
    st.integers(1, 40),
    st.integers(-6, 6),
    st.sampled_from(("GTC", "GTC", "GTC", "IOC", "FOK", "GTD", "DAY")),
    st.booleans(),
    st.integers(1, 10),
)
#: Who sends a cancel or modify: None is the order's owner (mostly), else any account.
sender = st.one_of(st.none(), st.none(), st.none(), st.sampled_from(ACCOUNTS))
cancel_action = st.tuples(st.just("cancel"), sender, st.integers(0, 60))
modify_action = st.tuples(
    st.just("modify"),
    sender,
    st.integers(0, 60),
    st.one_of(st.none(), st.integers(1, 40)),
    st.one_of(st.none(), st.integers(-10, 10)),
)
price_action = st.tuples(st.just("price"), st.integers(0, 1), st.integers(-12, 12))
time_action = st.tuples(st.just("time"), st.integers(1, 5))


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Draw from one of ``choices`` with the given weights (``st.one_of`` drops repeats)."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


exchange_actions = st.lists(
    weighted(
        (4, submit_action),
        (1, cancel_action),
        (1, modify_action),
        (1, price_action),
        (1, time_action),
    ),
    min_size=4,
    max_size=30,
)


def _mid(kit: SimpleNamespace, symbol: str) -> Decimal:
    return kit.SPOT_MID if symbol == kit.SPOT.symbol else kit.PERP_MID


def _command(
    kit: SimpleNamespace, engine: Engine, action: tuple[Any, ...], ts: int, ids: list[int]
) -> Any:
    """Turn one drawn action into a command at time ``ts`` (``ids``: orders so far)."""
    kind = action[0]
    if kind == "submit":
        _, account, sym_i, side, otype, lots, ticks, tif, post_only, trig_ticks = action
        inst = (kit.SPOT, kit.PERP)[sym_i]
        mid = _mid(kit, inst.symbol)
        price = mid + ticks * inst.tick_size
        # A stop fires on a move against the order's side: buy stops above, sell stops below.
        away = trig_ticks * inst.tick_size
        trigger = mid + away if side == "BUY" else mid - away
        is_limit = otype in ("LIMIT", "STOP_LIMIT")
        if otype == "MARKET" and tif in ("GTD", "DAY"):
            tif = "IOC"
        return c.SubmitOrder(
            ts=ts,
            account_id=account,
            symbol=inst.symbol,
            side=Side(side),
            order_type=OrderType(otype),
            qty=lots * inst.lot_size,
            price=price if is_limit else None,
            trigger_price=trigger if otype.startswith("STOP") else None,
            tif=TimeInForce(tif),
            expire_ts=ts + 3_000 if tif == "GTD" else None,
            post_only=post_only and otype == "LIMIT" and tif in ("GTC", "GTD", "DAY"),
        )
    if kind == "cancel":
        _, account, idx = action
        order_id = ids[idx % len(ids)] if ids else 999
        order = engine.state.orders.get(order_id)
        if account is None:
            account = order.account_id if order is not None else "alice"
        return c.CancelOrder(ts=ts, account_id=account, order_id=order_id)
    if kind == "modify":
        _, account, idx, lots, ticks = action
        order_id = ids[idx % len(ids)] if ids else 999
        order = engine.state.orders.get(order_id)
        if account is None:
            account = order.account_id if order is not None else "alice"
        qty = price = None
        if order is not None:
            inst = engine.state.instruments[order.symbol]
            if lots is not None:
                qty = lots * inst.lot_size
            if ticks is not None and order.price is not None:
                price = _mid(kit, order.symbol) + ticks * inst.tick_size
        if qty is None and price is None:
            qty = Decimal(1)
        return c.ModifyOrder(ts=ts, account_id=account, order_id=order_id, qty=qty, price=price)
    if kind == "price":
        _, sym_i, ticks = action
        inst = (kit.SPOT, kit.PERP)[sym_i]
        px = _mid(kit, inst.symbol) + ticks * inst.tick_size
        return c.UpdatePrices(ts=ts, symbol=inst.symbol, last=px, mark=px)
    assert kind == "time"
    return c.AdvanceTime(ts=ts)


def _ladder(kit: SimpleNamespace, ts: int) -> list[c.SubmitOrder]:
    """Resting liquidity to start from: bob bids and carol offers, 2 to 4 ticks from the mid."""
    out = []
    for inst in (kit.SPOT, kit.PERP):
        mid = _mid(kit, inst.symbol)
        for ticks in (2, 3, 4):
            for account, side, sign in (("bob", Side.BUY, -1), ("carol", Side.SELL, 1)):
                out.append(
                    c.SubmitOrder(
                        ts=ts,
                        account_id=account,
                        symbol=inst.symbol,
                        side=side,
                        order_type=OrderType.LIMIT,
                        qty=5 * inst.lot_size,
                        price=mid + sign * ticks * inst.tick_size,
                    )
                )
    return out


def _sim_agrees_with_engine(node: Node) -> None:
    """Every order resting in the built-in exchange is live in the engine with the same leaves."""
    resting = {}
    for symbol, book in node.sim.books.items():
        assert not book.is_crossed(), f"{symbol} book is crossed"
        for r in book.orders_in_priority():
            resting[r.order_id] = (symbol, r.price, r.leaves_qty)
    working = {
        o.order_id: (o.symbol, o.price, o.leaves_qty)
        for o in node.engine.state.orders.values()
        if o.is_live and not o.held
    }
    assert resting == working


@settings(max_examples=300, deadline=None, derandomize=True)
@given(actions=exchange_actions)
def test_random_sessions_on_the_built_in_exchange_keep_every_invariant(
    kit: SimpleNamespace, actions: list[tuple[Any, ...]]
) -> None:
    clock = ManualClock(1)
    node = Node.in_memory(clock=clock)
    for msg in kit.setup_messages(1):
        node.process(msg)
    seen_terminal: dict[int, OrderStatus] = {}
    ids: list[int] = []
    for msg in _ladder(kit, 1):
        ids.append(node.process(msg)[0].order_id)
    events: list[ev.EventBase] = list(node.events())
    ts = 1
    for action in actions:
        ts += 1_000
        clock.set(ts)
        out = node.process(_command(kit, node.engine, action, ts, ids))
        events.extend(out)
        for e in out:
            if isinstance(e, ev.OrderSubmitted | ev.OrderDenied):
                ids.append(e.order_id)
        kit.check_invariants(node.engine, seen_terminal, netted=True)
        _sim_agrees_with_engine(node)
    assert [e.seq for e in events] == list(range(1, node.engine.seq + 1))
    assert kit.replay_digest(events) == node.digest()
    kit.check_legacy_replay(node.engine, events)


# ------------------------------------------------------------------ playing the venue ourselves

REPORT_KINDS = (
    *("accept",) * 3,
    *("fill",) * 6,
    "cancel",
    "cancel_reject",
    *("modified",) * 2,
    "modify_rejected",
    "expired",
    "rejected",
    *("bust",) * 2,
    *("correct",) * 2,
)
venue_submit = st.tuples(
    st.just("submit"),
    st.sampled_from(ACCOUNTS),
    st.integers(0, 1),
    st.sampled_from(("BUY", "SELL")),
    st.sampled_from(("LIMIT", "LIMIT", "MARKET")),
    st.integers(4, 20),
    st.integers(-5, 5),
)
venue_report = st.tuples(
    st.just("report"),
    st.sampled_from(REPORT_KINDS),
    st.integers(0, 3),  # which order that went to the venue (counted from the latest)
    st.integers(1, 8),  # lots (fill quantity, or new total for a modify)
    st.integers(-5, 5),  # ticks from mid (fill price, new limit)
    st.integers(0, 60),  # which earlier fill, for a bust
)
venue_duplicate = st.tuples(st.just("duplicate"), st.integers(0, 200))
venue_actions = st.lists(
    weighted(
        (1, venue_submit),
        (6, venue_report),
        (1, venue_duplicate),
        (1, cancel_action),
        (1, modify_action),
    ),
    min_size=3,
    max_size=40,
)


class VenuePlayer:
    """We are the venue: the engine's requests are noted, our reports are whatever we like."""

    def __init__(self, kit: SimpleNamespace) -> None:
        self.kit = kit
        self.rec = kit.Recorder()
        self.sent: list[int] = []  # orders the engine sent to the venue, in order
        self.reports: list[Any] = []  # every report delivered, for duplicates
        self.exec_ids: list[tuple[int, str]] = []
        self.n = 0

    def drain(self) -> None:
        for request in self.rec.engine.take_requests():
            if request.order_id not in self.sent:
                self.sent.append(request.order_id)

    def report(self, action: tuple[Any, ...]) -> Any | None:
        _, kind, idx, lots, ticks, fill_idx = action
        if not self.sent:
            return None
        engine = self.rec.engine
        order = engine.state.orders[self.sent[-1 - idx % len(self.sent)]]
        inst = engine.state.instruments[order.symbol]
        ts = self.rec.next_ts()
        oid = order.order_id
        px = _mid(self.kit, order.symbol) + ticks * inst.tick_size
        if kind == "accept":
            return rep.VenueAccepted(order_id=oid, ts=ts, venue_order_id=f"V{oid}")
        if kind == "fill":
            self.n += 1
            exec_id = f"E{self.n}"
            self.exec_ids.append((oid, exec_id))
            return rep.VenueFilled(
                order_id=oid,
                ts=ts,
                exec_id=exec_id,
                trade_id=f"T{self.n}",
                last_qty=lots * inst.lot_size,
                last_px=px,
                liquidity_side=LiquiditySide.MAKER,
                fee=lots * inst.lot_size * px * inst.maker_fee,
                fee_asset=inst.settle_asset,
            )
        if kind == "cancel":
            return rep.VenueCanceled(order_id=oid, ts=ts, reason=Reason.CANCELED_BY_USER)
        if kind == "cancel_reject":
            return rep.VenueCancelRejected(order_id=oid, ts=ts, reason=Reason.ORDER_NOT_LIVE)
        if kind == "modified":
            qty = lots * inst.lot_size
            return rep.VenueModified(
                order_id=oid,
                ts=ts,
                qty=qty,
                leaves_qty=max(qty - order.cum_qty, Decimal(0)),
                price=px if order.price is not None else None,
            )
        if kind == "modify_rejected":
            return rep.VenueModifyRejected(order_id=oid, ts=ts, reason=Reason.ORDER_NOT_LIVE)
        if kind == "expired":
            return rep.VenueExpired(order_id=oid, ts=ts)
        if kind == "rejected":
            return rep.VenueRejected(order_id=oid, ts=ts, reason=Reason.VENUE_REJECTED)
        own = [e for o, e in self.exec_ids if o == oid]
        exec_id = own[fill_idx % len(own)] if own else "E-none"
        if kind == "correct":
            return rep.VenueFillCorrected(
                order_id=oid,
                ts=ts,
                exec_id=exec_id,
                last_qty=lots * inst.lot_size,
                last_px=px,
                fee=lots * inst.lot_size * px * inst.taker_fee,
            )
        assert kind == "bust"
        return rep.VenueFillBusted(order_id=oid, ts=ts, exec_id=exec_id)


def _submit_for_venue(kit: SimpleNamespace, action: tuple[Any, ...], ts: int) -> c.SubmitOrder:
    _, account, sym_i, side, otype, lots, ticks = action
    inst = (kit.SPOT, kit.PERP)[sym_i]
    return c.SubmitOrder(
        ts=ts,
        account_id=account,
        symbol=inst.symbol,
        side=Side(side),
        order_type=OrderType(otype),
        qty=lots * inst.lot_size,
        price=_mid(kit, inst.symbol) + ticks * inst.tick_size if otype == "LIMIT" else None,
    )


@settings(max_examples=500, deadline=None, derandomize=True)
@given(actions=venue_actions)
def test_reports_in_any_order_with_duplicates_keep_every_invariant(
    kit: SimpleNamespace, actions: list[tuple[Any, ...]]
) -> None:
    player = VenuePlayer(kit)
    rec = player.rec
    seen_terminal: dict[int, OrderStatus] = {}
    ids: list[int] = []
    for action in actions:
        kind = action[0]
        if kind == "submit":
            out = rec.handle(_submit_for_venue(kit, action, rec.next_ts()))
            ids.append(out[0].order_id)
        elif kind in ("cancel", "modify"):
            rec.handle(_command(kit, rec.engine, action, rec.next_ts(), ids))
        elif kind == "report":
            report = player.report(action)
            if report is None:
                continue
            player.reports.append(report)
            rec.handle(report)
        else:
            fills = [
                r
                for r in player.reports
                if isinstance(r, rep.VenueFilled) and r.exec_id in rec.engine.state.fills
            ]
            if fills:
                # The same execution again, however late: it must change nothing at all.
                again = fills[action[1] % len(fills)]
                before = kit.fingerprint(rec.engine)
                out = rec.handle(again)
                assert [type(e) for e in out] == [ev.VenueReportIgnored]
                assert out[0].reason == Reason.DUPLICATE_EXECUTION
                assert kit.fingerprint(rec.engine) == before
            elif player.reports:
                again = player.reports[action[1] % len(player.reports)]
                rec.handle(again)
        player.drain()
        kit.check_invariants(rec.engine, seen_terminal)
    assert rec.replay_digest() == rec.engine.digest()
    kit.check_legacy_replay(rec.engine, rec.events)


# ------------------------------------------------------------------ regressions found by the above


def test_expiry_timer_passing_a_canceled_gtd_order_keeps_the_replay_digest(
    kit: SimpleNamespace, rec: Any
) -> None:
    order_id, _ = rec.submit(
        account_id="alice",
        symbol=kit.SPOT.symbol,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.01"),
        price=Decimal(29_000),
        tif=TimeInForce.GTD,
        expire_ts=rec.ts + 5_000,
    )
    rec.accept(order_id)
    rec.handle(c.CancelOrder(ts=rec.next_ts(), account_id="alice", order_id=order_id))
    rec.report(rep.VenueCanceled, order_id, reason=Reason.CANCELED_BY_USER)
    assert rec.handle(c.AdvanceTime(ts=rec.ts + 10_000)) == []
    assert rec.replay_digest() == rec.engine.digest()


def test_expiring_a_gtd_order_keeps_the_replay_digest(kit: SimpleNamespace, rec: Any) -> None:
    order_id, _ = rec.submit(
        account_id="alice",
        symbol=kit.SPOT.symbol,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.01"),
        price=Decimal(29_000),
        tif=TimeInForce.GTD,
        expire_ts=rec.ts + 5_000,
    )
    rec.accept(order_id)
    out = rec.handle(c.AdvanceTime(ts=rec.ts + 10_000))
    assert [type(e) for e in out] == [ev.OrderExpired]
    assert rec.replay_digest() == rec.engine.digest()


def test_locked_returns_to_exactly_zero_when_leveraged_orders_are_modified_and_canceled(
    kit: SimpleNamespace, rec: Any
) -> None:
    """Leverage 3 makes the per-unit margin a repeating decimal; no dust may stay locked."""
    for qty in ("2.5", "0.7", "1.3"):
        order_id = rec.limit("bob", "BUY", qty, "2000.3", symbol=kit.PERP.symbol)
        rec.accept(order_id)
        rec.handle(
            c.ModifyOrder(ts=rec.next_ts(), account_id="bob", order_id=order_id, qty=Decimal("0.1"))
        )
        rec.report(rep.VenueModified, order_id, qty=Decimal("0.1"), leaves_qty=Decimal("0.1"))
        kit.check_invariants(rec.engine)
        rec.handle(c.CancelOrder(ts=rec.next_ts(), account_id="bob", order_id=order_id))
        rec.report(rep.VenueCanceled, order_id, reason=Reason.CANCELED_BY_USER)
        assert rec.engine.state.balances[("bob", "USDT")].locked == 0


def test_locked_returns_to_exactly_zero_when_a_leveraged_position_is_closed_in_pieces(
    kit: SimpleNamespace, rec: Any
) -> None:
    buy = rec.limit("bob", "BUY", "1.0", "2000.1", symbol=kit.PERP.symbol)
    rec.accept(buy)
    rec.fill(buy, "1.0", "2000.1", "B1")
    for i, qty in enumerate(("0.3", "0.3", "0.4")):
        sell = rec.limit("bob", "SELL", qty, "2000.2", symbol=kit.PERP.symbol)
        rec.accept(sell)
        rec.fill(sell, qty, "2000.2", f"S{i}")
        kit.check_invariants(rec.engine)
    assert rec.engine.state.positions[("bob", kit.PERP.symbol, PositionSide.BOTH)].qty == 0
    assert rec.engine.state.balances[("bob", "USDT")].locked == 0
