"""A bust or correction that leaves a FILLED order below its quantity reopens it (FIX 4.4,
ExecType H Trade Cancel / G Trade Correct: OrdStatus follows the open quantity, LeavesQty =
OrderQty - CumQty), and the venue's later fills for it apply: the order, the position and the
balances end where the venue's are (issue 11, defect 7)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import msgspec
import pytest

from atlas_oms import Instrument, Node
from atlas_oms.core.engine import Engine
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import LiquiditySide, OrderStatus, PositionSide
from atlas_oms.model.reasons import Reason
from atlas_oms.store.codec import event_from_json, event_to_json

S = OrderStatus
BTC = "BTC/USDT"


@pytest.fixture(autouse=True)
def _invariants_hold_afterwards(rec: Any, kit: Any) -> Any:
    yield
    kit.check_invariants(rec.engine)
    assert rec.replay_digest() == rec.engine.digest()
    kit.check_legacy_replay(rec.engine, rec.events)


def bust(rec: Any, order_id: int, exec_id: str) -> list[Any]:
    return rec.report(rep.VenueFillBusted, order_id, exec_id=exec_id)


def correct(rec: Any, order_id: int, exec_id: str, qty: str, px: str, fee: str = "0") -> list[Any]:
    return rec.report(
        rep.VenueFillCorrected,
        order_id,
        exec_id=exec_id,
        last_qty=D(qty),
        last_px=D(px),
        fee=D(fee),
    )


def position(rec: Any) -> Any:
    return rec.engine.state.positions[("alice", BTC, PositionSide.BOTH)]


def usdt(rec: Any) -> tuple[D, D]:
    bal = rec.engine.state.balances[("alice", "USDT")]
    return bal.total, bal.locked


def btc(rec: Any) -> D:
    return rec.engine.state.balances[("alice", "BTC")].total


def test_the_fix_scenario_fill_fill_bust_fill_ends_with_the_venues_quantities(rec: Any) -> None:
    cash, _ = usdt(rec)
    coins = btc(rec)
    oid = rec.limit("alice", "BUY", "10", "30000")
    rec.accept(oid)
    rec.fill(oid, "4", "29990", "E1", fee="4")
    rec.fill(oid, "6", "29995", "E2", fee="6")
    assert rec.engine.state.orders[oid].status is S.FILLED

    out = bust(rec, oid, "E2")
    assert [type(e) for e in out] == [ev.OrderFillBusted]
    assert out[0].order_status is S.PARTIALLY_FILLED  # the decision is in the event
    order = rec.engine.state.orders[oid]
    assert order.status is S.PARTIALLY_FILLED and order.is_live
    assert (order.cum_qty, order.leaves_qty) == (D(4), D(6))
    assert order.avg_px == D(29990) and order.fees == D(4)
    assert position(rec).qty == D(4)
    # The reopened 6 are reserved again, as when the order was placed (limit price and fees).
    assert usdt(rec) == (cash - D(4) * D(29990) - D(4), D(6) * order.reserve_unit)

    out = rec.fill(oid, "6", "30000", "E3", fee="5")
    assert [type(e) for e in out] == [ev.OrderFilled]  # applied, not ignored
    order = rec.engine.state.orders[oid]
    assert order.status is S.FILLED
    assert (order.cum_qty, order.leaves_qty) == (D(10), D(0))
    assert order.avg_px == (D(4) * D(29990) + D(6) * D(30000)) / D(10)
    # The venue's books: bought 4 @ 29990 and 6 @ 30000, fees 4 + 5.
    assert position(rec).qty == D(10)
    assert position(rec).avg_entry_px == (D(4) * D(29990) + D(6) * D(30000)) / D(10)
    assert usdt(rec) == (cash - D(4) * D(29990) - D(6) * D(30000) - D(9), D(0))
    assert btc(rec) == coins + D(10)


def test_a_bust_of_every_fill_reopens_the_order_as_accepted(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "10", "30000")
    rec.accept(oid)
    rec.fill(oid, "10", "30000", "E1")
    out = bust(rec, oid, "E1")
    assert out[0].order_status is S.ACCEPTED
    order = rec.engine.state.orders[oid]
    assert order.status is S.ACCEPTED
    assert (order.cum_qty, order.leaves_qty, order.avg_px) == (D(0), D(10), None)
    assert position(rec).qty == 0
    assert rec.engine.state.open_orders["alice"] == 1  # counted live again for risk


def test_a_correction_that_lowers_a_fill_reopens_a_filled_order(rec: Any) -> None:
    cash, _ = usdt(rec)
    oid = rec.limit("alice", "BUY", "10", "30000")
    rec.accept(oid)
    rec.fill(oid, "4", "30000", "E1")
    rec.fill(oid, "6", "30000", "E2")
    out = correct(rec, oid, "E2", "5", "29900")
    assert [type(e) for e in out] == [ev.OrderFillCorrected]
    assert out[0].order_status is S.PARTIALLY_FILLED
    order = rec.engine.state.orders[oid]
    assert order.status is S.PARTIALLY_FILLED
    assert (order.cum_qty, order.leaves_qty) == (D(9), D(1))
    assert order.avg_px == (D(4) * D(30000) + D(5) * D(29900)) / D(9)
    assert position(rec).qty == D(9)
    rec.fill(oid, "1", "30000", "E3")
    order = rec.engine.state.orders[oid]
    assert order.status is S.FILLED and order.cum_qty == D(10)
    assert position(rec).qty == D(10)
    assert usdt(rec) == (cash - D(5) * D(30000) - D(5) * D(29900), D(0))


def test_a_correction_that_keeps_the_quantity_keeps_the_order_filled(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "10", "30000")
    rec.accept(oid)
    rec.fill(oid, "10", "30000", "E1")
    out = correct(rec, oid, "E1", "10", "29000")
    assert out[0].order_status is S.FILLED
    assert rec.engine.state.orders[oid].status is S.FILLED


@pytest.mark.parametrize("how", ["bust", "correct"])
def test_a_canceled_order_stays_canceled_but_its_quantities_follow_the_venue(
    rec: Any, how: str
) -> None:
    cash, _ = usdt(rec)
    oid = rec.limit("alice", "BUY", "10", "30000")
    rec.accept(oid)
    rec.fill(oid, "4", "30000", "E1")
    rec.report(rep.VenueCanceled, oid, reason=Reason.CANCELED_BY_USER)
    if how == "bust":
        out = bust(rec, oid, "E1")
        left = D(0)
    else:
        out = correct(rec, oid, "E1", "3", "30000")
        left = D(3)
    assert out[0].order_status is S.CANCELED
    order = rec.engine.state.orders[oid]
    assert order.status is S.CANCELED
    assert (order.cum_qty, order.leaves_qty) == (left, D(0))
    assert position(rec).qty == left
    assert usdt(rec) == (cash - left * D(30000), D(0))
    out = rec.fill(oid, "1", "30000", "E9")  # a late genuine fill of the canceled order counts
    assert rec.engine.state.orders[oid].status is S.CANCELED
    assert position(rec).qty == left + 1


def test_an_older_journals_bust_without_a_decision_keeps_the_old_rule(rec: Any) -> None:
    """A schema-1 ``OrderFillBusted`` (no ``order_status``) decodes, and a FILLED order it
    busts stays FILLED as it did when that journal was written."""
    oid = rec.limit("alice", "BUY", "10", "30000")
    rec.accept(oid)
    rec.fill(oid, "10", "30000", "E1")
    event = bust(rec, oid, "E1")[0]
    raw = msgspec.json.decode(event_to_json(event))
    del raw["order_status"], raw["takes_back_lot"]
    old = event_from_json(msgspec.json.encode(raw))
    assert isinstance(old, ev.OrderFillBusted) and old.order_status is None
    legacy = Engine()
    legacy.apply_all([*rec.events[:-1], old])
    assert legacy.state.orders[oid].status is S.FILLED
    assert legacy.state.orders[oid].cum_qty == 0


# ---------------------------------------------------------------- the built-in exchange
def test_the_built_in_exchange_cancels_what_a_hand_fed_bust_reopened(tmp_path: Path) -> None:
    """Busts come from external venues; one fed by hand for a built-in exchange order corrects
    quantities, and the exchange (which does not reinstate it) cancels the reopened remainder,
    so the order, its book and a restart agree."""
    path = str(tmp_path / "atlas.db")
    with Node.open(path) as node:
        node.add_instrument(Instrument.spot(BTC, tick_size="0.01", lot_size="0.0001"))
        for account in ("alice", "bob"):
            node.open_account(account)
            node.deposit(account, "USDT", "1000000")
            node.deposit(account, "BTC", "100")
        maker = node.sell("bob", BTC, "10", "30000")
        taker = node.buy("alice", BTC, "10", "30000")
        assert node.order(taker.order_id).status is S.FILLED
        fill = next(f for f in node.fills("alice") if f.order_id == taker.order_id)
        out = node.feed(
            rep.VenueFillBusted(order_id=taker.order_id, ts=node.clock.now(), exec_id=fill.exec_id)
        )
        assert [type(e) for e in out] == [ev.OrderFillBusted, ev.OrderCanceled]
        view = node.order(taker.order_id)
        assert view.status is S.CANCELED and view.reason == Reason.BUST_NOT_REINSTATED
        assert (view.cum_qty, view.leaves_qty) == (D(0), D(0))
        assert node.position("alice", BTC).qty == 0
        assert node.order(maker.order_id).status is S.FILLED  # the other side is its own report
        digest = node.digest()
    with Node.open(path) as again:
        assert again.digest() == digest
        assert BTC not in again.sim.books or taker.order_id not in again.sim.books[BTC]


def test_later_fills_of_a_reopened_order_reach_the_position_over_a_restart(
    tmp_path: Path,
) -> None:
    """The FIX scenario on an external venue's order through a durable node: what the journal
    holds replays to the same state."""
    path = str(tmp_path / "atlas.db")
    ext = Instrument.spot("ETH/USDT", tick_size="0.01", lot_size="0.001", venue="ext")
    with Node.open(path, venues=[Silent()]) as node:
        node.add_instrument(ext)
        node.open_account("alice")
        node.deposit("alice", "USDT", "1000000")
        oid = node.buy("alice", "ETH/USDT", "10", "2000").order_id
        ts = node.clock.now
        node.feed(rep.VenueAccepted(order_id=oid, ts=ts(), venue_order_id="X1"))
        for n, qty in enumerate(("4", "6"), 1):
            node.feed(_fill(oid, ts(), f"X-E{n}", qty, "2000"))
        assert node.order(oid).status is S.FILLED
        node.feed(rep.VenueFillBusted(order_id=oid, ts=ts(), exec_id="X-E2"))
        view = node.order(oid)
        assert (view.status, view.cum_qty, view.leaves_qty) == (S.PARTIALLY_FILLED, 4, 6)
        node.feed(_fill(oid, ts(), "X-E3", "6", "1999"))
        view = node.order(oid)
        assert (view.status, view.cum_qty, view.leaves_qty) == (S.FILLED, 10, 0)
        assert node.position("alice", "ETH/USDT").qty == D(10)
        digest = node.digest()
    with Node.open(path) as again:
        assert again.digest() == digest
        assert again.order(oid).status is S.FILLED


class Silent:
    """An external venue that answers later (its reports are fed by the test)."""

    name = "ext"
    synchronous = False

    def handle(self, request: Any) -> list[Any]:
        return []


def _fill(order_id: int, ts: int, exec_id: str, qty: str, px: str) -> rep.VenueFilled:
    return rep.VenueFilled(
        order_id=order_id,
        ts=ts,
        exec_id=exec_id,
        trade_id="T" + exec_id,
        last_qty=D(qty),
        last_px=D(px),
        liquidity_side=LiquiditySide.MAKER,
        fee=D(0),
        fee_asset="USDT",
    )
