"""Shared set-up and invariant checks for the core tests.

The helpers are reached through the session-scoped ``kit`` fixture (a namespace of plain
functions), so hypothesis tests can use them without function-scoped fixtures and no test module
has to ``import conftest`` (ambiguous next to the other packages' conftest files).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from atlas_oms.core.engine import Engine
from atlas_oms.core.orders.transitions import LIVE_STATUSES
from atlas_oms.core.risk.book import RiskBook
from atlas_oms.core.state.digest import ORDER_FIELDS, canonical_parts
from atlas_oms.core.state.legacy import DECISION_FIELDS
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import (
    TERMINAL_STATUSES,
    TRIGGERED_TYPES,
    LiquiditySide,
    OrderStatus,
    OrderType,
    Side,
)
from atlas_oms.model.instrument import Instrument

SPOT = Instrument.spot(
    "BTC/USDT", tick_size="0.5", lot_size="0.01", maker_fee="0.0005", taker_fee="0.001"
)
PERP = Instrument.perpetual(
    "ETH/USDT:USDT", tick_size="0.1", lot_size="0.1", maker_fee="0.0002", taker_fee="0.0005"
)
INSTRUMENTS = (SPOT, PERP)
ACCOUNTS = ("alice", "bob", "carol")
#: Leverage per (account, perpetual): 3 makes margin a repeating decimal on purpose.
LEVERAGE = {("bob", PERP.symbol): Decimal(3), ("carol", PERP.symbol): Decimal(10)}
DEPOSITS = {"USDT": Decimal(10_000_000), "BTC": Decimal(100)}
SPOT_MID = Decimal(30_000)
PERP_MID = Decimal(2_000)


def setup_messages(ts: int = 1) -> list[Any]:
    """The commands that open the standard world: two instruments, three funded accounts."""
    msgs: list[Any] = [c.AddInstrument(ts=ts, instrument=inst) for inst in INSTRUMENTS]
    for account in ACCOUNTS:
        msgs.append(c.OpenAccount(ts=ts, account_id=account))
        for asset, amount in DEPOSITS.items():
            msgs.append(c.AdjustBalance(ts=ts, account_id=account, asset=asset, amount=amount))
    for (account, symbol), lev in LEVERAGE.items():
        msgs.append(c.SetLeverage(ts=ts, account_id=account, symbol=symbol, leverage=lev))
    msgs.append(c.UpdatePrices(ts=ts, symbol=SPOT.symbol, last=SPOT_MID, mark=SPOT_MID))
    msgs.append(c.UpdatePrices(ts=ts, symbol=PERP.symbol, last=PERP_MID, mark=PERP_MID))
    return msgs


class Recorder:
    """An engine plus every event it emitted, so a replay can be compared with it."""

    def __init__(self) -> None:
        self.engine = Engine()
        self.events: list[ev.EventBase] = []
        self.ts = 1
        for msg in setup_messages(self.ts):
            self.handle(msg)

    def handle(self, msg: Any) -> list[ev.EventBase]:
        out = self.engine.handle(msg)
        self.events.extend(out)
        return out

    def next_ts(self) -> int:
        self.ts += 1_000
        return self.ts

    def submit(self, **fields: Any) -> tuple[int, list[ev.EventBase]]:
        """Submit an order; return its order id and the events."""
        fields.setdefault("ts", self.next_ts())
        out = self.handle(c.SubmitOrder(**fields))
        first = out[0]
        assert isinstance(first, ev.OrderSubmitted | ev.OrderDenied | ev.OrderDuplicateIgnored)
        return first.order_id, out

    def limit(self, account: str, side: str, qty: str, price: str, **kw: Any) -> int:
        """Submit a GTC limit on the spot pair; return its id (the request stays in the outbox)."""
        order_id, out = self.submit(
            account_id=account,
            symbol=kw.pop("symbol", SPOT.symbol),
            side=Side(side),
            order_type=OrderType(kw.pop("order_type", "LIMIT")),
            qty=Decimal(qty),
            price=Decimal(price),
            **kw,
        )
        assert isinstance(out[0], ev.OrderSubmitted), out
        return order_id

    def report(self, cls: type, order_id: int, **fields: Any) -> list[ev.EventBase]:
        fields.setdefault("ts", self.next_ts())
        return self.handle(cls(order_id=order_id, **fields))

    def accept(self, order_id: int) -> list[ev.EventBase]:
        return self.report(rep.VenueAccepted, order_id, venue_order_id=f"V{order_id}")

    def fill(
        self, order_id: int, qty: str | Decimal, px: str | Decimal, exec_id: str, fee: str = "0"
    ) -> list[ev.EventBase]:
        inst = self.engine.state.instruments[self.engine.state.orders[order_id].symbol]
        return self.report(
            rep.VenueFilled,
            order_id,
            exec_id=exec_id,
            trade_id="T" + exec_id,
            last_qty=Decimal(qty),
            last_px=Decimal(px),
            liquidity_side=LiquiditySide.MAKER,
            fee=Decimal(fee),
            fee_asset=inst.settle_asset,
        )

    def replay_digest(self) -> str:
        return replay_digest(self.events)


def replay_digest(events: Iterable[ev.EventBase]) -> str:
    """The digest of a fresh engine that folds ``events``."""
    fresh = Engine()
    fresh.apply_all(events)
    return fresh.digest()


def fingerprint(engine: Engine, *, skip_orders: Iterable[int] = ()) -> dict[str, Any]:
    """Everything the engine knows, by part name, except ``seq`` and the orders named in
    ``skip_orders`` (the risk book's parts by name too).

    ``next_order_id`` is left out too: a denied order takes an id (it is kept for the audit trail).
    """
    skip = set(skip_orders)
    parts = canonical_parts(engine.state)
    parts["orders"] = [
        row
        for row, oid in zip(parts["orders"], sorted(engine.state.orders), strict=True)
        if oid not in skip
    ]
    parts["client_ids"] = [item for item in parts["client_ids"] if item[1] not in skip]
    del parts["seq"], parts["next_order_id"]
    parts["risk"] = dict(zip(RiskBook.CANONICAL_PARTS, parts["risk"], strict=True))
    return parts


def expected_locked(engine: Engine) -> dict[tuple[str, str], Decimal]:
    """What every balance should hold locked, computed from the orders and positions alone.

    A live order reserves ``leaves_qty * reserve_unit`` of its asset, plus the extra a modify in
    flight set aside; a done order reserves nothing; a derivative position holds its margin.
    """
    want: dict[tuple[str, str], Decimal] = {key: Decimal(0) for key in engine.state.balances}
    for o in engine.state.orders.values():
        if o.reserved_asset is None:
            continue
        key = (o.account_id, o.reserved_asset)
        if o.is_live:
            want[key] = want.get(key, Decimal(0)) + o.leaves_qty * o.reserve_unit
            if o.pending is not None:
                want[key] += o.pending[3]
    for (account_id, symbol, _side), pos in engine.state.positions.items():
        inst = engine.state.instruments[symbol]
        if inst.is_derivative:
            key = (account_id, inst.settle_asset)
            want[key] = want.get(key, Decimal(0)) + pos.margin
    return want


def check_invariants(
    engine: Engine,
    seen_terminal: dict[int, OrderStatus] | None = None,
    *,
    netted: bool = False,
) -> None:
    """Assert every invariant of the core's state (see tests/core/orders/test_order_properties.py)."""
    fills_by_order: dict[int, list[ev.OrderFilled]] = {}
    for exec_id, f in engine.state.fills.items():
        if exec_id not in engine.state.busted:
            fills_by_order.setdefault(f.order_id, []).append(f)
    for o in engine.state.orders.values():
        where = f"order {o.order_id} ({o.status})"
        assert o.cum_qty >= 0, where
        assert o.cum_qty <= o.qty, f"{where} overfilled: cum {o.cum_qty} > qty {o.qty}"
        if o.status in LIVE_STATUSES:
            assert o.cum_qty + o.leaves_qty == o.qty, f"{where}: cum + leaves != qty"
            assert o.leaves_qty > 0, f"{where}: live with nothing left"
            if o.reserved_asset is not None:
                assert o.reserved == o.leaves_qty * o.reserve_unit, f"{where}: reservation"
        else:
            assert o.status in TERMINAL_STATUSES, where
            assert o.leaves_qty == 0, f"{where}: done but leaves {o.leaves_qty}"
            assert o.reserved == 0, f"{where}: done but still reserves {o.reserved}"
            assert o.pending is None, f"{where}: done with a modify pending"
        fills = fills_by_order.get(o.order_id, [])
        assert o.cum_qty == sum((f.last_qty for f in fills), Decimal(0)), f"{where}: cum_qty"
        notional = sum((f.last_qty * f.last_px for f in fills), Decimal(0))
        assert o.cum_notional == notional, f"{where}: cum_notional"
        if o.cum_qty:
            assert o.avg_px == notional / o.cum_qty, f"{where}: avg_px"
        else:
            assert o.avg_px is None, f"{where}: avg_px without fills"
        if seen_terminal is not None:
            if o.order_id in seen_terminal:
                # The one way back: a bust or correction left a FILLED order below its quantity.
                reopened = seen_terminal[o.order_id] is OrderStatus.FILLED and o.cum_qty < o.qty
                assert o.status in TERMINAL_STATUSES or reopened, (
                    f"{where} came back to life after {seen_terminal[o.order_id]}"
                )
            if o.status in TERMINAL_STATUSES:
                seen_terminal[o.order_id] = o.status
            else:
                seen_terminal.pop(o.order_id, None)
    want = expected_locked(engine)
    for key, bal in engine.state.balances.items():
        assert bal.locked >= 0, f"{key}: locked {bal.locked} < 0"
        assert bal.locked == want[key], f"{key}: locked {bal.locked}, expected {want[key]}"
    check_exposure(engine)
    if netted:
        net: dict[str, Decimal] = {}
        for (_account, symbol, _side), pos in engine.state.positions.items():
            net[symbol] = net.get(symbol, Decimal(0)) + pos.qty
        assert all(q == 0 for q in net.values()), f"positions do not net to zero: {net}"


def check_exposure(engine: Engine) -> None:
    """Risk's running exposure equals what the orders and positions say, recomputed from scratch."""
    zero = Decimal(0)
    open_buy: dict[tuple[str, str, Any], Decimal] = {}
    open_sell: dict[tuple[str, str, Any], Decimal] = {}
    open_count: dict[str, int] = {}
    firm: dict[str, list[Decimal]] = {}
    for o in engine.state.orders.values():
        if o.leaves_qty:
            key = (o.account_id, o.symbol, o.position_side)
            side = open_buy if o.side is Side.BUY else open_sell
            side[key] = side.get(key, zero) + o.leaves_qty
            open_count[o.account_id] = open_count.get(o.account_id, 0) + 1
            f = firm.setdefault(o.symbol, [zero] * 4)
            f[2 if o.side is Side.BUY else 3] += o.leaves_qty
    for key, pos in engine.state.positions.items():
        assert pos.open_buy == open_buy.get(key, zero), f"{key}: open buys {pos.open_buy}"
        assert pos.open_sell == open_sell.get(key, zero), f"{key}: open sells {pos.open_sell}"
        f = firm.setdefault(key[1], [zero] * 4)
        f[0] += pos.qty
        f[1] += abs(pos.qty)
    assert {a: n for a, n in engine.state.open_orders.items() if n} == open_count
    firm_now = {s: [v.net, v.gross, v.open_buy, v.open_sell] for s, v in engine.state.firm.items()}
    assert {s: v for s, v in firm_now.items() if any(v)} == {
        s: v for s, v in firm.items() if any(v)
    }


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """The shared helpers, as one namespace."""
    return SimpleNamespace(
        context_of=context_of,
        check_legacy_replay=check_legacy_replay,
        SPOT=SPOT,
        PERP=PERP,
        ACCOUNTS=ACCOUNTS,
        SPOT_MID=SPOT_MID,
        PERP_MID=PERP_MID,
        Recorder=Recorder,
        replay_digest=replay_digest,
        setup_messages=setup_messages,
        fingerprint=fingerprint,
        expected_locked=expected_locked,
        check_invariants=check_invariants,
        check_exposure=check_exposure,
    )


@pytest.fixture
def rec() -> Recorder:
    """A fresh engine with the standard world set up."""
    return Recorder()


def context_of(engine: Engine) -> Any:
    """The engine's handler context, for tests of the derived indexes its caches keep."""
    return engine._ctx


def as_schema_1(event: Any) -> Any:
    """``event`` as a journal written before schema 2 holds it: its decision fields absent."""
    fields = DECISION_FIELDS.get(type(event))
    if not fields:
        return event
    return msgspec.structs.replace(event, **dict.fromkeys(fields))


def _schema_1_everywhere(value: Any) -> Any:
    """``value`` (canonical data) with every event in it as schema 1 (the risk book keeps the
    kill switch events themselves)."""
    if isinstance(value, ev.EventBase):
        return as_schema_1(value)
    if isinstance(value, list | tuple):
        return type(value)(_schema_1_everywhere(v) for v in value)
    return value


def check_legacy_replay(engine: Engine, events: Iterable[ev.EventBase]) -> None:
    """The events, stripped of their decision fields as an older journal would hold them, fold
    into the same state: the legacy rules decide as the decision side did. One difference is
    intended: an order replaced while held by the engine (in no venue queue) kept its queue place
    under schema 2, where schema 1 moved it; held orders' ``priority_seq`` is left out. Another is
    compared only up to where it starts: a bust or correction that reopens a FILLED order (older
    journals kept it FILLED and ignored its later fills)."""
    events = list(events)
    before = _before_first_reopening(events)
    if len(before) < len(events):
        events = before
        engine = Engine()
        engine.apply_all(events)
    old = Engine()
    old.apply_all([as_schema_1(e) for e in events])
    now_parts = {k: _schema_1_everywhere(v) for k, v in canonical_parts(engine.state).items()}
    old_parts = canonical_parts(old.state)
    column = ORDER_FIELDS.index("priority_seq")
    for parts, state in ((now_parts, engine.state), (old_parts, old.state)):
        parts["orders"] = [
            [v for i, v in enumerate(row) if i != column or o.order_type not in TRIGGERED_TYPES]
            for row, (_, o) in zip(parts["orders"], sorted(state.orders.items()), strict=True)
        ]
    assert now_parts == old_parts


def _before_first_reopening(events: Iterable[ev.EventBase]) -> list[ev.EventBase]:
    """``events`` up to the first bust or correction that reopened a FILLED order."""
    fold = Engine()
    out: list[ev.EventBase] = []
    for e in events:
        if isinstance(e, ev.OrderFillBusted | ev.OrderFillCorrected):
            order = fold.state.orders[e.order_id]
            if order.status is OrderStatus.FILLED and e.order_status is not OrderStatus.FILLED:
                break
        fold.apply_all([e])
        out.append(e)
    return out
