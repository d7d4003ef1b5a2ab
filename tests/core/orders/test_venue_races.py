"""Venue races, as the FIX order-state matrices describe them, played report by report.

We are the venue: every report is made by hand, in the order a real venue's messages can arrive
(a fill overtaking its acknowledgement, a fill racing a cancel, a cancel acknowledgement after a
full fill, duplicates, busts). After every scenario the state keeps all the core's invariants and
a replay of the events reaches the same digest.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import OrderStatus, PositionSide
from atlas_oms.model.reasons import Reason

S = OrderStatus
BTC = "BTC/USDT"


def types(events: list[ev.EventBase]) -> list[type]:
    return [type(e) for e in events]


def cancel(rec: Any, order_id: int, account: str = "alice") -> list[ev.EventBase]:
    return rec.handle(c.CancelOrder(ts=rec.next_ts(), account_id=account, order_id=order_id))


def modify(rec: Any, order_id: int, account: str = "alice", **fields: Any) -> list[ev.EventBase]:
    return rec.handle(
        c.ModifyOrder(ts=rec.next_ts(), account_id=account, order_id=order_id, **fields)
    )


def position(rec: Any, account: str = "alice") -> Decimal:
    pos = rec.engine.state.positions.get((account, BTC, PositionSide.BOTH))
    return pos.qty if pos is not None else Decimal(0)


def balances(rec: Any, account: str = "alice") -> tuple[Decimal, ...]:
    b = rec.engine.state.balances
    return (
        b[(account, "USDT")].total,
        b[(account, "USDT")].locked,
        b[(account, "BTC")].total,
        b[(account, "BTC")].locked,
    )


@pytest.fixture(autouse=True)
def _invariants_hold_afterwards(rec: Any, kit: Any) -> Any:
    yield
    kit.check_invariants(rec.engine)
    assert rec.replay_digest() == rec.engine.digest()


def test_fill_before_acknowledgement_counts_and_the_late_ack_keeps_partially_filled(
    rec: Any,
) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.fill(oid, "0.4", "30000", "E1")
    order = rec.engine.state.orders[oid]
    assert order.status is S.PARTIALLY_FILLED
    assert (order.cum_qty, order.leaves_qty) == (Decimal("0.4"), Decimal("0.6"))
    assert types(rec.accept(oid)) == [ev.OrderAccepted]
    assert order.status is S.PARTIALLY_FILLED
    assert order.venue_order_id == f"V{oid}"
    assert position(rec) == Decimal("0.4")


def test_full_fill_before_acknowledgement_then_late_ack_stays_filled(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.fill(oid, "1", "30000", "E1")
    rec.accept(oid)
    order = rec.engine.state.orders[oid]
    assert order.status is S.FILLED
    assert (order.cum_qty, order.leaves_qty) == (Decimal(1), Decimal(0))


def test_fill_after_cancel_request_still_counts_then_cancel_ends_the_rest(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    assert types(cancel(rec, oid)) == [ev.OrderPendingCancel]
    rec.fill(oid, "0.3", "29999.5", "E1")
    order = rec.engine.state.orders[oid]
    assert order.status is S.PENDING_CANCEL  # FIX D.10: a fill during a pending cancel
    assert (order.cum_qty, order.leaves_qty) == (Decimal("0.3"), Decimal("0.7"))
    rec.report(rep.VenueCanceled, oid, reason=Reason.CANCELED_BY_USER)
    assert order.status is S.CANCELED
    assert (order.cum_qty, order.leaves_qty) == (Decimal("0.3"), Decimal(0))
    assert position(rec) == Decimal("0.3")
    assert rec.engine.state.balances[("alice", "USDT")].locked == 0


def test_full_fill_racing_a_cancel_stays_filled_when_the_cancel_is_rejected(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    cancel(rec, oid)
    rec.fill(oid, "1", "30000", "E1")
    order = rec.engine.state.orders[oid]
    assert order.status is S.FILLED
    rec.report(rep.VenueCancelRejected, oid, reason=Reason.ORDER_NOT_LIVE, message="too late")
    assert order.status is S.FILLED
    assert (order.cum_qty, order.leaves_qty) == (Decimal(1), Decimal(0))


def test_cancel_acknowledgement_after_a_full_fill_leaves_the_order_filled(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    cancel(rec, oid)
    rec.fill(oid, "1", "30000", "E1")
    before = balances(rec)
    rec.report(rep.VenueCanceled, oid, reason=Reason.CANCELED_BY_USER)
    order = rec.engine.state.orders[oid]
    assert order.status is S.FILLED
    assert order.reason is None
    assert balances(rec) == before


def test_a_cancel_rejected_by_the_venue_puts_the_order_back_to_work(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "0.2", "30000", "E1")
    cancel(rec, oid)
    rec.report(rep.VenueCancelRejected, oid, reason=Reason.VENUE_REJECTED)
    assert rec.engine.state.orders[oid].status is S.PARTIALLY_FILLED


def test_duplicate_execution_report_is_applied_once(rec: Any, kit: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "0.4", "30000", "E1", fee="1.2")
    before = kit.fingerprint(rec.engine)
    out = rec.fill(oid, "0.4", "30000", "E1", fee="1.2")
    assert types(out) == [ev.VenueReportIgnored]
    assert out[0].reason == Reason.DUPLICATE_EXECUTION
    assert kit.fingerprint(rec.engine) == before
    assert rec.engine.state.orders[oid].cum_qty == Decimal("0.4")
    assert position(rec) == Decimal("0.4")


def test_duplicate_acknowledgement_changes_nothing(rec: Any, kit: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    before = kit.fingerprint(rec.engine)
    assert rec.accept(oid) == []
    assert kit.fingerprint(rec.engine) == before


def test_late_acknowledgement_after_fill_does_not_regress_the_state(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "1", "30000", "E1")
    rec.report(rep.VenueAccepted, oid, venue_order_id="V-late")
    assert rec.engine.state.orders[oid].status is S.FILLED
    assert rec.engine.state.orders[oid].is_live is False


def test_late_acknowledgement_after_cancel_does_not_revive_the_order(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    cancel(rec, oid)
    rec.report(rep.VenueCanceled, oid, reason=Reason.CANCELED_BY_USER)
    rec.accept(oid)
    assert rec.engine.state.orders[oid].status is S.CANCELED


def test_fill_arriving_after_canceled_is_applied_and_moves_the_position(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    cancel(rec, oid)
    rec.report(rep.VenueCanceled, oid, reason=Reason.CANCELED_BY_USER)
    usdt_before = rec.engine.state.balances[("alice", "USDT")].total
    out = rec.fill(oid, "0.4", "30000", "E1")
    assert types(out) == [ev.OrderFilled]
    order = rec.engine.state.orders[oid]
    assert order.status is S.CANCELED
    assert (order.cum_qty, order.leaves_qty) == (Decimal("0.4"), Decimal(0))
    assert position(rec) == Decimal("0.4")
    assert rec.engine.state.balances[("alice", "USDT")].total == usdt_before - Decimal(12_000)


def test_fill_after_canceled_never_overfills(rec: Any, kit: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "0.6", "30000", "E1")
    cancel(rec, oid)
    rec.report(rep.VenueCanceled, oid, reason=Reason.CANCELED_BY_USER)
    before = kit.fingerprint(rec.engine)
    out = rec.fill(oid, "0.5", "30000", "E2")
    assert types(out) == [ev.VenueReportIgnored]
    assert out[0].reason == Reason.OVERFILL
    assert kit.fingerprint(rec.engine) == before
    rec.fill(oid, "0.4", "30000", "E3")  # exactly the rest: the whole order had executed
    order = rec.engine.state.orders[oid]
    assert order.status is S.FILLED
    assert order.cum_qty == order.qty == Decimal(1)


def test_overfill_report_is_ignored_with_reason_overfill(rec: Any, kit: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "0.7", "30000", "E1")
    before = kit.fingerprint(rec.engine)
    out = rec.fill(oid, "0.31", "30000", "E2")
    assert types(out) == [ev.VenueReportIgnored]
    ignored = out[0]
    assert (ignored.reason, ignored.report, ignored.order_id) == (
        Reason.OVERFILL,
        "VenueFilled",
        oid,
    )
    assert ignored.message
    assert kit.fingerprint(rec.engine) == before
    assert rec.engine.state.orders[oid].status is S.PARTIALLY_FILLED


def test_a_report_for_an_unknown_order_is_ignored(rec: Any, kit: Any) -> None:
    before = kit.fingerprint(rec.engine)
    out = rec.report(rep.VenueCanceled, 424242, reason=Reason.CANCELED_BY_USER)
    assert types(out) == [ev.VenueReportIgnored]
    assert out[0].reason == Reason.UNKNOWN_ORDER
    assert kit.fingerprint(rec.engine) == before


def test_trade_bust_reverses_position_and_balances(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    start = balances(rec)
    rec.fill(oid, "0.4", "29990", "E1", fee="6")
    assert position(rec) == Decimal("0.4")
    out = rec.report(rep.VenueFillBusted, oid, exec_id="E1")
    assert types(out) == [ev.OrderFillBusted]
    order = rec.engine.state.orders[oid]
    assert order.status is S.ACCEPTED
    assert (order.cum_qty, order.leaves_qty, order.avg_px) == (Decimal(0), Decimal(1), None)
    assert position(rec) == 0
    assert balances(rec) == start  # cash, coins, fee and reservation all back
    again = rec.report(rep.VenueFillBusted, oid, exec_id="E1")
    assert types(again) == [ev.VenueReportIgnored]


def test_trade_bust_after_full_fill_reopens_the_order_and_reverses_the_quantities(
    rec: Any,
) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    start = balances(rec)
    rec.fill(oid, "0.5", "30000", "E1")
    rec.fill(oid, "0.5", "29999.5", "E2")
    rec.report(rep.VenueFillBusted, oid, exec_id="E2")
    order = rec.engine.state.orders[oid]
    assert order.status is S.PARTIALLY_FILLED  # FIX: a bust reopens what it un-fills
    assert (order.cum_qty, order.leaves_qty) == (Decimal("0.5"), Decimal("0.5"))
    assert order.avg_px == Decimal(30_000)
    assert position(rec) == Decimal("0.5")
    usdt, locked, btc, _ = balances(rec)
    assert (usdt, locked, btc) == (
        start[0] - Decimal(15_000),
        Decimal("0.5") * order.reserve_unit,  # the reopened 0.5 is reserved again
        start[2] + Decimal("0.5"),
    )


def test_modify_quantity_below_filled_completes_the_order(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "0.3", "30000", "E1")
    assert types(modify(rec, oid, qty=Decimal("0.2"))) == [ev.OrderPendingReplace]
    request = rec.engine.take_requests()[-1]
    assert request.leaves_qty <= 0
    rec.report(rep.VenueModified, oid, qty=Decimal("0.2"), leaves_qty=Decimal(0))
    order = rec.engine.state.orders[oid]
    assert order.status is S.FILLED
    assert order.qty == order.cum_qty == Decimal("0.3")
    assert order.leaves_qty == 0
    assert rec.engine.state.balances[("alice", "USDT")].locked == 0


def test_fill_racing_a_replace_counts_against_the_old_quantity(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    modify(rec, oid, qty=Decimal("0.5"))
    rec.fill(oid, "0.7", "30000", "E1")  # FIX D.13: the venue filled before it replaced
    order = rec.engine.state.orders[oid]
    assert order.status is S.PENDING_REPLACE
    rec.report(rep.VenueModified, oid, qty=Decimal("0.5"), leaves_qty=Decimal(0))
    assert order.status is S.FILLED
    assert order.qty == order.cum_qty == Decimal("0.7")


def test_modify_rejected_by_the_venue_restores_the_order_and_its_reservation(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    locked = rec.engine.state.balances[("alice", "USDT")].locked
    modify(rec, oid, qty=Decimal(2))
    assert rec.engine.state.balances[("alice", "USDT")].locked > locked
    rec.report(rep.VenueModifyRejected, oid, reason=Reason.ORDER_NOT_LIVE)
    order = rec.engine.state.orders[oid]
    assert order.status is S.ACCEPTED
    assert order.qty == Decimal(1)
    assert rec.engine.state.balances[("alice", "USDT")].locked == locked


def test_modify_of_an_unacknowledged_order_is_refused_as_pending(rec: Any, kit: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.engine.take_requests()
    before = kit.fingerprint(rec.engine)
    out = modify(rec, oid, qty=Decimal(2))
    assert types(out) == [ev.OrderModifyRejected]
    assert out[0].reason == Reason.ORDER_PENDING
    assert rec.engine.state.orders[oid].status is S.SUBMITTED
    assert not rec.engine.take_requests()
    assert kit.fingerprint(rec.engine) == before


def test_cancel_before_acknowledgement_is_sent_and_the_late_ack_keeps_it_pending(
    rec: Any,
) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    assert types(cancel(rec, oid)) == [ev.OrderPendingCancel]  # FIX D.8
    rec.accept(oid)
    assert rec.engine.state.orders[oid].status is S.PENDING_CANCEL
    rec.report(rep.VenueCanceled, oid, reason=Reason.CANCELED_BY_USER)
    assert rec.engine.state.orders[oid].status is S.CANCELED


def test_a_second_cancel_while_one_is_in_flight_keeps_the_order_pending(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    cancel(rec, oid)
    out = cancel(rec, oid)
    assert types(out) == [ev.OrderCancelRejected]
    assert out[0].reason == Reason.ORDER_PENDING
    assert rec.engine.state.orders[oid].status is S.PENDING_CANCEL


def test_venue_rejection_after_a_cancel_request_rejects_the_order(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    cancel(rec, oid)
    rec.report(rep.VenueRejected, oid, reason=Reason.VENUE_REJECTED)
    order = rec.engine.state.orders[oid]
    assert order.status is S.REJECTED
    assert rec.engine.state.balances[("alice", "USDT")].locked == 0


def test_fill_after_expiry_is_applied_and_a_full_one_completes_the_order(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.report(rep.VenueExpired, oid)
    assert rec.engine.state.orders[oid].status is S.EXPIRED
    rec.fill(oid, "0.5", "30000", "E1")
    assert rec.engine.state.orders[oid].status is S.EXPIRED
    rec.fill(oid, "0.5", "30000", "E2")
    assert rec.engine.state.orders[oid].status is S.FILLED
    assert position(rec) == Decimal(1)


def test_a_fill_on_a_rejected_order_is_ignored_as_illegal(rec: Any, kit: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.report(rep.VenueRejected, oid, reason=Reason.VENUE_REJECTED)
    before = kit.fingerprint(rec.engine)
    out = rec.fill(oid, "0.5", "30000", "E1")
    assert types(out) == [ev.VenueReportIgnored]
    assert out[0].reason == Reason.ILLEGAL_TRANSITION
    assert kit.fingerprint(rec.engine) == before
