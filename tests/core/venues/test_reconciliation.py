"""ReconcileVenue: a venue account's snapshot merged with Atlas; only what is missing is
emitted (marked ``reconciliation``), and one exception report ends it."""

from __future__ import annotations

from decimal import Decimal as D

from venue_world import PERP, SPOT, reconcile, update, vfill, vorder, world

from atlas_oms import OrderStatus
from atlas_oms.model import events as ev
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.venue import VenueBalance, VenuePosition
from atlas_oms.model.venue import VenueOrderState as VS


def test_hedge_mode_keeps_long_and_short_legs_apart() -> None:
    node = world(hedge=True)
    events = reconcile(
        node,
        "binanceusdm",
        "fut",
        positions=(
            VenuePosition(
                symbol=PERP, qty=D(2), entry_price=D(100), position_side=PositionSide.LONG
            ),
            VenuePosition(
                symbol=PERP, qty=D(1), entry_price=D(110), position_side=PositionSide.SHORT
            ),
        ),
    )
    set_ = [e for e in events if isinstance(e, ev.PositionReconciled)]
    assert {(e.position_side, e.qty) for e in set_} == {
        (PositionSide.LONG, D(2)),
        (PositionSide.SHORT, D(-1)),
    }
    long = node.position("fut", PERP, PositionSide.LONG)
    short = node.position("fut", PERP, PositionSide.SHORT)
    assert long is not None and long.qty == D(2) and long.avg_entry_px == D(100)
    assert short is not None and short.qty == D(-1) and short.avg_entry_px == D(110)
    assert node.position("fut", PERP) is None  # no netted BOTH position appears
    # Reconciled again with the same legs: nothing to do.
    again = reconcile(
        node,
        "binanceusdm",
        "fut",
        positions=(
            VenuePosition(
                symbol=PERP, qty=D(2), entry_price=D(100), position_side=PositionSide.LONG
            ),
            VenuePosition(
                symbol=PERP, qty=D(1), entry_price=D(110), position_side=PositionSide.SHORT
            ),
        ),
    )
    assert [type(e) for e in again] == [ev.VenueReconciled] and again[0].differences == ()


def test_a_position_older_than_the_fill_history_is_adopted_at_the_venue_entry_price() -> None:
    node = world()
    margin_before = node.balance("fut", "USDT").locked
    events = reconcile(
        node,
        "binanceusdm",
        "fut",
        fills=(),
        positions=(VenuePosition(symbol=PERP, qty=D("-3"), entry_price=D("95.5")),),
    )
    assert isinstance(events[0], ev.PositionReconciled) and events[0].previous_qty == 0
    pos = node.position("fut", PERP)
    assert pos is not None and pos.qty == D(-3) and pos.avg_entry_px == D("95.5")
    assert pos.margin == D("286.5")  # 3 x 95.5 at leverage 1
    assert node.balance("fut", "USDT").locked == margin_before + D("286.5")
    # Closing it books P&L against the venue's entry price.
    oid = node.buy("fut", PERP, "3", "90").order_id
    vo = vorder(oid, VS.FILLED, symbol=PERP, account="fut", qty="3", price="90", cum="3")
    update(node, vo, vfill(vo, "c1", "3", px="90"))
    pos = node.position("fut", PERP)
    assert pos is not None and pos.qty == 0 and pos.realized_pnl == D("16.5")


def test_an_inferred_fill_makes_the_average_price_the_venues() -> None:
    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    vo = vorder(oid, VS.PARTIALLY_FILLED, cum="0.2")
    update(node, vo, vfill(vo, "t1", "0.2", px="100"))
    # The venue says 0.6 traded at an average of 99; its fill history has none of it.
    snap = vorder(oid, VS.PARTIALLY_FILLED, cum="0.6", avg="99")
    events = reconcile(node, "binance", "spot", orders=(snap,))
    fill = next(e for e in events if isinstance(e, ev.OrderFilled))
    assert fill.exec_id == f"binance:recon:V{oid}:0.6" and fill.last_qty == D("0.4")
    assert node.order(oid).avg_px == D(99)
    report = events[-1]
    assert isinstance(report, ev.VenueReconciled)
    assert [d.kind for d in report.differences] == ["INFERRED_FILL"]
    # The same snapshot again: the synthetic trade id is deterministic, nothing is booked twice.
    again = reconcile(node, "binance", "spot", orders=(snap,))
    assert [type(e) for e in again] == [ev.VenueReconciled]
    assert node.order(oid).cum_qty == D("0.6")


def test_a_balance_difference_is_applied_at_once_when_nothing_works_at_the_venue() -> None:
    node = world()
    events = reconcile(
        node,
        "binance",
        "spot",
        balances=(VenueBalance(asset="USDT", free=D(99_000)), VenueBalance(asset="BNB", free=D(1))),
    )
    adjusted = [e for e in events if isinstance(e, ev.BalanceAdjusted)]
    assert {(e.asset, e.amount, e.reason) for e in adjusted} == {
        ("USDT", D(-1000), "reconciliation"),
        ("BNB", D(1), "reconciliation"),
    }
    assert node.balance("spot", "USDT").total == D(99_000)


def test_a_balance_difference_with_orders_working_waits_for_confirmation() -> None:
    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    update(node, vorder(oid, VS.NEW))
    snapshot = {
        "orders": (vorder(oid, VS.NEW),),
        "balances": (VenueBalance(asset="USDT", free=D(99_990)),),
    }
    first = reconcile(node, "binance", "spot", **snapshot)
    assert not any(isinstance(e, ev.BalanceAdjusted) for e in first)
    report = first[-1]
    assert isinstance(report, ev.VenueReconciled)
    assert report.pending == (("USDT", D(100_000), D(99_990)),)
    assert [(d.kind, d.action) for d in report.differences] == [
        ("BALANCE", "seen, waiting for confirmation")
    ]
    assert node.balance("spot", "USDT").total == D(100_000)
    second = reconcile(node, "binance", "spot", **snapshot)  # the same difference again
    adjusted = [e for e in second if isinstance(e, ev.BalanceAdjusted)]
    assert len(adjusted) == 1 and adjusted[0].amount == D(-10)
    assert node.balance("spot", "USDT").total == D(99_990)
    assert second[-1].pending == ()


def test_a_balance_difference_that_goes_away_is_never_applied() -> None:
    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    update(node, vorder(oid, VS.NEW))
    reconcile(node, "binance", "spot", balances=(VenueBalance(asset="USDT", free=D(99_990)),))
    events = reconcile(
        node, "binance", "spot", balances=(VenueBalance(asset="USDT", free=D(100_000)),)
    )
    assert [type(e) for e in events] == [ev.VenueReconciled] and events[0].pending == ()
    assert node.balance("spot", "USDT").total == D(100_000)


def test_the_report_lists_every_difference_and_what_was_done() -> None:
    node = world()
    live = node.buy("spot", SPOT, "1", "100").order_id  # acknowledged only in the snapshot
    gone = node.buy("spot", SPOT, "1", "100").order_id  # canceled at the venue during the gap
    lost = node.buy("spot", SPOT, "1", "100").order_id  # the venue does not know it
    ext = vorder(None, VS.NEW, voi="WEB-7", qty="0.5", price="90")
    events = reconcile(
        node,
        "binance",
        "spot",
        reason="GAP",
        orders=(vorder(live, VS.NEW), vorder(gone, VS.CANCELED), ext),
        not_found=(lost,),
        balances=(VenueBalance(asset="USDT", free=D(100_000)),),
    )
    report = events[-1]
    assert isinstance(report, ev.VenueReconciled) and report.reason == "GAP"
    kinds = {(d.kind, d.order_id, d.action) for d in report.differences}
    adopted = next(e for e in events if isinstance(e, ev.ExternalOrderAdopted))
    assert kinds == {
        ("ORDER_ACCEPTED", live, "booked"),
        ("ORDER_CANCELED", gone, "booked"),
        ("EXTERNAL_ORDER", adopted.order_id, "adopted"),
        ("NOT_FOUND", lost, "left to the gateway"),
    }
    assert report.not_found == (lost,) and report.orders == 3
    by_kind = {d.kind: d for d in report.differences}
    assert by_kind["ORDER_CANCELED"].seqs == tuple(
        e.seq for e in events if isinstance(e, ev.OrderCanceled)
    )
    assert by_kind["EXTERNAL_ORDER"].venue_order_id == "WEB-7"
    corrective = [e for e in events if isinstance(e, ev.OrderAccepted | ev.OrderCanceled)]
    assert all(e.source == "reconciliation" for e in corrective)
    assert node.order(lost).status is OrderStatus.SUBMITTED  # the gateway decides
    # The read side: the latest report per venue account, and all of them from the journal.
    assert node.reconciliation_reports("binance", "spot") == [report]
    reconcile(node, "binance", "spot", reason="PERIODIC")
    assert [r.reason for r in node.reconciliation_reports(latest=False)] == ["GAP", "PERIODIC"]
    assert [r.reason for r in node.reconciliation_reports()] == ["PERIODIC"]


def test_fills_of_an_order_missing_from_the_snapshot_are_booked() -> None:
    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    vo = vorder(oid, VS.FILLED, cum="1")
    events = reconcile(
        node, "binance", "spot", fills=(vfill(vo, "a", "0.5"), vfill(vo, "b", "0.5"))
    )
    assert len([e for e in events if isinstance(e, ev.OrderFilled)]) == 2
    assert node.order(oid).status is OrderStatus.FILLED
