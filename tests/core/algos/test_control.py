"""Pause, resume and cancel act on the parent and all its children as one; risk limits hold on
the parent (the whole quantity) and on each child (a refused child shows on the parent)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from algo_world import SEC, T0, events_of, world

from atlas_oms import CommandRefused, Reason
from atlas_oms.model.algos import AlgoStatus
from atlas_oms.model.events_algos import (
    AlgoCanceled,
    AlgoChildRefused,
    AlgoPaused,
    AlgoRefused,
    AlgoResumed,
    AlgoSliceStarted,
)


def live(node, algo_id: str) -> list:  # type: ignore[no-untyped-def]
    return [
        o
        for o in node.algo(algo_id).children
        if o.leaves_qty > 0
        and o.status.value not in ("CANCELED", "FILLED", "REJECTED", "EXPIRED", "DENIED")
    ]


def test_pause_cancels_live_children_resume_refills_cancel_ends_with_what_filled() -> None:
    node = world()
    node.submit_algo(
        "t1",
        "BTC/USDT",
        "SELL",
        "1",
        "ICEBERG",
        algo_id="ice",
        limit_price="95",
        display_qty="0.3",
        native=False,  # the emulated path
    )
    node.buy("mm", "BTC/USDT", "0.1", "95")
    assert len(live(node, "ice")) == 1
    view = node.pause_algo("ice")
    assert view.status == AlgoStatus.PAUSED and live(node, "ice") == []
    node.buy("mm", "BTC/USDT", "0.1", "95")  # nothing of the parent works: it rests
    assert node.algo("ice").cum_qty == D("0.1")
    view = node.resume_algo("ice")
    assert view.status == AlgoStatus.WORKING
    # The refill crosses mm's resting 0.1 at once.
    assert node.algo("ice").cum_qty == D("0.2") and len(live(node, "ice")) == 1
    view = node.cancel_algo("ice")
    assert view.status == AlgoStatus.CANCELED and live(node, "ice") == []
    assert view.cum_qty == D("0.2") and view.leaves_qty == D("0.8")
    assert [type(e) for e in events_of(node, AlgoPaused)] == [AlgoPaused]
    assert len(events_of(node, AlgoResumed)) == 1 and len(events_of(node, AlgoCanceled)) == 1
    with pytest.raises(CommandRefused) as refused:
        node.resume_algo("ice")
    assert refused.value.reason == Reason.ORDER_NOT_LIVE


def test_twap_slices_missed_while_paused_roll_into_the_next() -> None:
    node = world()
    node.submit_algo(
        "t1", "BTC/USDT", "BUY", "1", "TWAP", algo_id="tw", duration_ms=50_000, slices=5
    )
    node.pause_algo("tw")
    node.clock.set(T0 + 25 * SEC)  # type: ignore[attr-defined]
    node.tick()  # slices 1 and 2 are due: nothing while paused
    assert len(events_of(node, AlgoSliceStarted, "tw")) == 1
    node.resume_algo("tw")
    started = events_of(node, AlgoSliceStarted, "tw")
    assert [(e.slice_no, e.qty, e.target) for e in started] == [
        (0, D("0.2"), D("0.2")),
        (2, D("0.4"), D("0.6")),
    ]
    assert node.algo("tw").cum_qty == D("0.6")


def test_the_parent_is_refused_when_the_whole_quantity_breaches_a_limit() -> None:
    node = world()
    node.set_limits("account", "t1", actor="risk", max_order_qty="0.5")
    with pytest.raises(CommandRefused) as refused:
        node.submit_algo("t1", "BTC/USDT", "BUY", "1", "TWAP", duration_ms=10_000, slices=4)
    assert refused.value.reason == Reason.ORDER_QTY_TOO_LARGE
    (e,) = events_of(node, AlgoRefused)
    assert e.reason == Reason.ORDER_QTY_TOO_LARGE and node.algos() == []
    node.set_limits("account", "t1", actor="risk", max_order_notional="90")
    with pytest.raises(CommandRefused) as refused:  # 1 at the arrival price 95 (mid of 90/100)
        node.submit_algo("t1", "BTC/USDT", "BUY", "1", "TWAP", duration_ms=10_000, slices=4)
    assert refused.value.reason == Reason.ORDER_NOTIONAL_TOO_LARGE
    view = node.submit_algo(
        "t1", "BTC/USDT", "BUY", "1", "TWAP", duration_ms=10_000, slices=4, limit_price="89"
    )  # the cap is the worst price: 89 fits
    assert view.status == AlgoStatus.WORKING


def test_a_child_refused_by_a_risk_limit_shows_on_the_parent() -> None:
    node = world()
    node.submit_algo(
        "t1", "BTC/USDT", "BUY", "1", "TWAP", algo_id="tw", duration_ms=40_000, slices=4
    )
    node.kill("account", "t1", actor="risk", reason="test")
    node.clock.set(T0 + 10 * SEC)  # type: ignore[attr-defined]
    node.tick()
    (refused,) = events_of(node, AlgoChildRefused, "tw")
    assert refused.reason == Reason.KILL_SWITCH_ACTIVE and refused.qty == D("0.25")
    view = node.algo("tw")
    assert [r.reason for r in view.refused] == [Reason.KILL_SWITCH_ACTIVE]
    assert view.cum_qty == D("0.25")  # slice 0 filled before the kill
    node.reset_kill("account", "t1", actor="risk", reason="test over")
    node.clock.set(T0 + 20 * SEC)  # type: ignore[attr-defined]
    node.tick()  # slice 2 catches up the refused slice 1
    assert events_of(node, AlgoSliceStarted, "tw")[-1].qty == D("0.5")
    assert node.algo("tw").cum_qty == D("0.75")


def test_a_repeated_algo_id_is_the_same_parent_and_an_unknown_one_is_refused() -> None:
    node = world()
    first = node.submit_algo(
        "t1",
        "BTC/USDT",
        "SELL",
        "1",
        "ICEBERG",
        algo_id="ice",
        limit_price="95",
        display_qty="0.3",
    )
    again = node.submit_algo(
        "t1",
        "BTC/USDT",
        "SELL",
        "1",
        "ICEBERG",
        algo_id="ice",
        limit_price="95",
        display_qty="0.3",
    )
    assert again.algo_id == first.algo_id and len(node.algos()) == 1
    assert len(again.children) == 1
    with pytest.raises(CommandRefused) as refused:
        node.pause_algo("nope")
    assert refused.value.reason == Reason.UNKNOWN_ORDER
    with pytest.raises(CommandRefused) as refused:
        node.submit_algo("t1", "BTC/USDT", "SELL", "1", "ICEBERG", limit_price="95")
    assert refused.value.reason == Reason.INVALID_FIELD  # an iceberg needs a display quantity
    node.cancel_algo("ice")  # else the buy would meet t1's own iceberg (self-trade prevention)
    auto = node.submit_algo("t1", "BTC/USDT", "BUY", "0.1", "SMART")
    assert auto.algo_id.startswith("A") and auto.status == AlgoStatus.DONE
