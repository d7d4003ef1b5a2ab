"""Trade corrections (FIX ExecType G): the venue changes an execution after the fact."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import OrderStatus, PositionSide
from atlas_oms.model.reasons import Reason

S = OrderStatus
BTC = "BTC/USDT"


@pytest.fixture(autouse=True)
def _invariants_hold_afterwards(rec: Any, kit: Any) -> Any:
    yield
    kit.check_invariants(rec.engine)
    assert rec.replay_digest() == rec.engine.digest()


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


def test_a_corrected_price_and_quantity_replace_the_execution(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "0.4", "29990", "E1", fee="6")
    out = correct(rec, oid, "E1", "0.3", "29980", fee="4")
    assert [type(e) for e in out] == [ev.OrderFillCorrected]
    order = rec.engine.state.orders[oid]
    assert order.status is S.PARTIALLY_FILLED
    assert (order.cum_qty, order.leaves_qty) == (D("0.3"), D("0.7"))
    assert order.avg_px == D(29980) and order.fees == D(4)
    assert position(rec).qty == D("0.3")
    alice = rec.engine.state.balances
    assert alice[("alice", "BTC")].total == D(100) + D("0.3")
    assert alice[("alice", "USDT")].total == D(10_000_000) - D("0.3") * D(29980) - D(4)


def test_a_correction_that_completes_the_order_fills_it(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "0.4", "30000", "E1")
    correct(rec, oid, "E1", "1", "30000")
    order = rec.engine.state.orders[oid]
    assert order.status is S.FILLED and order.leaves_qty == 0
    assert rec.engine.state.balances[("alice", "USDT")].locked == 0


def test_a_correction_on_a_filled_order_keeps_it_filled(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "1", "30000", "E1")
    correct(rec, oid, "E1", "1", "29900")
    order = rec.engine.state.orders[oid]
    assert order.status is S.FILLED and order.avg_px == D(29900)
    assert position(rec).avg_entry_px == D(29900)


def test_a_correction_that_would_overfill_is_ignored(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "0.5", "30000", "E1")
    rec.fill(oid, "0.5", "30000", "E2")
    out = correct(rec, oid, "E1", "0.6", "30000")
    assert [type(e) for e in out] == [ev.VenueReportIgnored]
    assert out[0].reason == Reason.OVERFILL
    assert rec.engine.state.orders[oid].cum_qty == D(1)


def test_a_correction_of_an_unknown_or_busted_execution_is_ignored(rec: Any) -> None:
    oid = rec.limit("alice", "BUY", "1", "30000")
    rec.accept(oid)
    rec.fill(oid, "0.5", "30000", "E1")
    assert correct(rec, oid, "NOPE", "0.5", "30000")[0].reason == Reason.UNKNOWN_ORDER
    rec.report(rep.VenueFillBusted, oid, exec_id="E1")
    assert correct(rec, oid, "E1", "0.5", "30000")[0].reason == Reason.UNKNOWN_ORDER
