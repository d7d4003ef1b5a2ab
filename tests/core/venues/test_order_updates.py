"""ApplyOrderUpdate: the venue's view of one order against Atlas's; only what is missing is
booked, each execution once (by venue trade id), whatever the source."""

from __future__ import annotations

from decimal import Decimal as D

from venue_world import PERP, SPOT, reconcile, update, vfill, vorder, world

from atlas_oms import OrderStatus
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side
from atlas_oms.model.venue import FactSource
from atlas_oms.model.venue import VenueOrderState as VS


def test_an_update_accepts_a_submitted_order_with_the_venue_order_id() -> None:
    node = world()
    order = node.buy("spot", SPOT, "1", "100")
    assert order.status is OrderStatus.SUBMITTED
    events = update(node, vorder(order.order_id, VS.NEW), source=FactSource.QUERY)
    assert [type(e) for e in events] == [ev.OrderAccepted]
    assert events[0].venue_order_id == f"V{order.order_id}" and events[0].source == "query"
    view = node.order(order.order_id)
    assert view.status is OrderStatus.ACCEPTED and view.venue_order_id == f"V{order.order_id}"
    assert update(node, vorder(order.order_id, VS.NEW)) == []  # the same word again: nothing


def test_the_same_execution_twice_is_booked_once() -> None:
    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    vo = vorder(oid, VS.PARTIALLY_FILLED, cum="0.4")
    first = update(node, vo, vfill(vo, "t1", "0.4"))
    assert [type(e) for e in first] == [ev.OrderAccepted, ev.OrderFilled]
    assert first[1].exec_id == "binance:t1" and first[1].source == "stream"
    assert update(node, vo, vfill(vo, "t1", "0.4")) == []
    assert node.order(oid).cum_qty == D("0.4")
    assert node.balance("spot", "BTC").total == D("0.4")
    assert node.balance("spot", "USDT").total == D(100_000) - D(40)


def test_five_partial_fills_then_filled() -> None:
    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    for i in range(1, 6):
        vo = vorder(oid, VS.FILLED if i == 5 else VS.PARTIALLY_FILLED, cum=str(D("0.2") * i))
        update(node, vo, vfill(vo, f"t{i}", "0.2"))
    view = node.order(oid)
    assert view.status is OrderStatus.FILLED and view.cum_qty == D(1) and view.leaves_qty == 0
    assert len(node.order_fills(oid)) == 5
    assert node.balance("spot", "BTC").total == D(1)
    assert node.balance("spot", "USDT").locked == 0  # the reservation is released


def test_stream_and_snapshot_overlap_book_each_trade_once() -> None:
    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    vo1 = vorder(oid, VS.PARTIALLY_FILLED, cum="0.3")
    update(node, vo1, vfill(vo1, "t1", "0.3"))
    vo2 = vorder(oid, VS.FILLED, cum="1", avg="100")
    events = reconcile(
        node,
        "binance",
        "spot",
        orders=(vo2,),
        fills=(vfill(vo2, "t1", "0.3"), vfill(vo2, "t2", "0.7")),
    )
    fills = [e for e in events if isinstance(e, ev.OrderFilled)]
    assert [f.exec_id for f in fills] == ["binance:t2"] and fills[0].source == "reconciliation"
    assert node.order(oid).status is OrderStatus.FILLED
    assert node.balance("spot", "BTC").total == D(1)
    report = events[-1]
    assert isinstance(report, ev.VenueReconciled) and report.fills_booked == 1


def test_a_cancel_that_raced_a_fill_ends_filled() -> None:
    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    update(node, vorder(oid, VS.NEW))
    node.cancel("spot", oid)
    update(node, vorder(oid, VS.CANCELED))  # the venue's cancel ack arrives first
    assert node.order(oid).status is OrderStatus.CANCELED
    assert node.balance("spot", "USDT").locked == 0
    vo = vorder(oid, VS.FILLED, cum="1")
    events = update(node, vo, vfill(vo, "t9", "1"))
    assert [type(e) for e in events] == [ev.OrderFilled]
    view = node.order(oid)
    assert view.status is OrderStatus.FILLED and view.cum_qty == D(1) and view.leaves_qty == 0
    assert node.balance("spot", "BTC").total == D(1)
    assert node.balance("spot", "USDT").locked == 0
    assert node.balance("spot", "USDT").total == D(100_000) - D(100)


def test_a_late_partial_fill_after_a_cancel_keeps_the_order_canceled() -> None:
    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    update(node, vorder(oid, VS.CANCELED))
    vo = vorder(oid, VS.CANCELED, cum="0.25")
    update(node, vo, vfill(vo, "t1", "0.25"))
    view = node.order(oid)
    assert view.status is OrderStatus.CANCELED and view.cum_qty == D("0.25")
    assert view.leaves_qty == 0 and node.balance("spot", "BTC").total == D("0.25")


def test_a_venue_cancel_expiry_or_rejection_ends_a_live_order() -> None:
    node = world()
    a = node.buy("spot", SPOT, "1", "100").order_id
    b = node.buy("spot", SPOT, "1", "100").order_id
    c = node.buy("spot", SPOT, "1", "100").order_id
    assert isinstance(update(node, vorder(a, VS.CANCELED))[0], ev.OrderCanceled)
    assert isinstance(update(node, vorder(b, VS.EXPIRED))[0], ev.OrderExpired)
    rejected = update(node, vorder(c, VS.REJECTED, reason="-2010 insufficient balance"))[0]
    assert isinstance(rejected, ev.OrderRejected) and "-2010" in rejected.message
    assert node.balance("spot", "USDT").locked == 0


def test_an_amend_at_the_venue_is_a_replace() -> None:
    node = world()
    oid = node.buy("fut", PERP, "1", "100").order_id
    update(node, vorder(oid, VS.NEW, symbol=PERP, account="fut"))
    events = update(node, vorder(oid, VS.NEW, symbol=PERP, account="fut", qty="2", price="99"))
    assert [type(e) for e in events] == [ev.OrderReplaced]
    view = node.order(oid)
    assert view.qty == D(2) and view.price == D(99) and view.leaves_qty == D(2)


def test_an_order_placed_outside_atlas_is_adopted_and_its_fills_move_the_position() -> None:
    node = world()
    vo = vorder(None, VS.PARTIALLY_FILLED, symbol=PERP, account="fut", cum="0.5", voi="W1")
    events = update(node, vo, vfill(vo, "x1", "0.5", px="100"))
    assert [type(e) for e in events] == [ev.ExternalOrderAdopted, ev.OrderFilled]
    oid = events[0].order_id
    view = node.order(oid)
    assert (
        view.external and view.cum_qty == D("0.5") and view.status is OrderStatus.PARTIALLY_FILLED
    )
    assert node.position("fut", PERP).qty == D("0.5")
    vo2 = vorder(None, VS.FILLED, symbol=PERP, account="fut", cum="1", voi="W1")
    events = update(node, vo2, vfill(vo2, "x2", "0.5", px="100"))
    assert [type(e) for e in events] == [ev.OrderFilled]  # the same order, not a second one
    assert node.order(oid).status is OrderStatus.FILLED
    assert node.position("fut", PERP).qty == D(1)


def test_an_order_id_atlas_never_issued_is_adopted_not_dropped() -> None:
    node = world()
    vo = vorder(4242, VS.FILLED, cum="1", side=Side.SELL)
    node.deposit("spot", "BTC", 1)
    events = update(node, vo, vfill(vo, "z1", "1"))
    assert isinstance(events[0], ev.ExternalOrderAdopted) and events[0].order_id != 4242
    assert node.balance("spot", "BTC").total == 0


def test_an_unknown_outcome_marks_the_order_in_doubt_until_the_venue_speaks() -> None:
    from atlas_oms.model.venue import NoteOutcomeUnknown

    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    events = node.process(NoteOutcomeUnknown(order_id=oid, action="PLACE", reason="TIMEOUT"))
    assert [type(e) for e in events] == [ev.OrderOutcomeUnknown]
    view = node.order(oid)
    assert view.in_doubt and view.status is OrderStatus.SUBMITTED
    update(node, vorder(oid, VS.NEW))
    assert not node.order(oid).in_doubt
