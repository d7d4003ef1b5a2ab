"""The order state machine: one table, every state, every transition."""

from __future__ import annotations

from decimal import Decimal

import pytest

from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.transitions import (
    LIVE_STATUSES,
    RESTORE,
    TRANSITIONS,
    IllegalTransition,
    Tx,
    next_status,
)
from atlas_oms.model.enums import (
    TERMINAL_STATUSES,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)

S = OrderStatus


def make_order(
    status: OrderStatus, *, cum: str = "0", accepted: bool = False, triggered: bool = False
) -> Order:
    order = Order(
        order_id=1,
        account_id="a",
        symbol="X",
        venue="sim",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal(10),
        price=Decimal(1),
        trigger_price=None,
        trigger_type=TriggerType.LAST,
        trailing_offset=None,
        trailing_offset_type=TrailingOffsetType.PRICE,
        limit_offset=None,
        tif=TimeInForce.GTC,
        expire_ts=None,
        post_only=False,
        reduce_only=False,
        position_side=PositionSide.BOTH,
        client_order_id=None,
        tag=None,
        ts_init=0,
    )
    order.status = status
    order.cum_qty = Decimal(cum)
    order.leaves_qty = Decimal(10) - order.cum_qty
    order.accepted = accepted
    order.triggered = triggered
    return order


def test_every_status_appears_in_the_table() -> None:
    sources = {state for state, _ in TRANSITIONS}
    assert sources == set(OrderStatus) - {S.DENIED}


def test_denied_is_a_dead_end() -> None:
    order = make_order(S.DENIED)
    for tx in Tx:
        with pytest.raises(IllegalTransition):
            next_status(order, tx)


#: The one way back from a terminal state: the venue breaks or corrects an execution of a
#: FILLED order and leaves it below its quantity (FIX ExecType H/G), tested in
#: tests/core/orders/test_bust_reopens.py.
REOPENING = {(S.FILLED, Tx.BUST), (S.FILLED, Tx.CORRECT)}


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_terminal_states_never_return_to_a_live_state(status: OrderStatus) -> None:
    for (state, tx), target in TRANSITIONS.items():
        if state is status and (state, tx) not in REOPENING:
            order = make_order(status, cum="10" if status is S.FILLED else "3")
            assert next_status(order, tx) in TERMINAL_STATUSES, (status, tx, target)


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_terminal_states_refuse_new_work(status: OrderStatus) -> None:
    order = make_order(status)
    for tx in (Tx.SUBMIT, Tx.PENDING_CANCEL, Tx.PENDING_REPLACE, Tx.TRIGGER, Tx.REPLACE):
        with pytest.raises(IllegalTransition):
            next_status(order, tx)


def test_initialized_is_submitted_or_denied() -> None:
    order = make_order(S.INITIALIZED)
    assert next_status(order, Tx.SUBMIT) is S.SUBMITTED
    assert next_status(order, Tx.DENY) is S.DENIED
    for tx in set(Tx) - {Tx.SUBMIT, Tx.DENY}:
        with pytest.raises(IllegalTransition):
            next_status(order, tx)


def test_submitted_accepts_rejects_fills_and_cancels() -> None:
    order = make_order(S.SUBMITTED)
    assert next_status(order, Tx.ACCEPT) is S.ACCEPTED
    assert next_status(order, Tx.REJECT) is S.REJECTED
    assert next_status(order, Tx.FILL_PARTIAL) is S.PARTIALLY_FILLED  # fill before ack
    assert next_status(order, Tx.FILL_FULL) is S.FILLED
    assert next_status(order, Tx.PENDING_CANCEL) is S.PENDING_CANCEL
    assert next_status(order, Tx.CANCEL) is S.CANCELED
    assert next_status(order, Tx.EXPIRE) is S.EXPIRED
    with pytest.raises(IllegalTransition):
        next_status(order, Tx.PENDING_REPLACE)  # modify waits for the ack


def test_accepted_order_can_trigger_fill_cancel_replace_and_expire() -> None:
    order = make_order(S.ACCEPTED, accepted=True)
    assert next_status(order, Tx.TRIGGER) is S.TRIGGERED
    assert next_status(order, Tx.FILL_PARTIAL) is S.PARTIALLY_FILLED
    assert next_status(order, Tx.FILL_FULL) is S.FILLED
    assert next_status(order, Tx.PENDING_CANCEL) is S.PENDING_CANCEL
    assert next_status(order, Tx.PENDING_REPLACE) is S.PENDING_REPLACE
    assert next_status(order, Tx.REPLACE) is S.ACCEPTED
    assert next_status(order, Tx.EXPIRE) is S.EXPIRED
    with pytest.raises(IllegalTransition):
        next_status(order, Tx.REJECT)


def test_triggered_order_works_at_the_venue() -> None:
    order = make_order(S.TRIGGERED, accepted=True, triggered=True)
    assert next_status(order, Tx.ACCEPT) is S.TRIGGERED
    assert next_status(order, Tx.REJECT) is S.REJECTED
    assert next_status(order, Tx.FILL_PARTIAL) is S.PARTIALLY_FILLED
    assert next_status(order, Tx.FILL_FULL) is S.FILLED
    assert next_status(order, Tx.CANCEL) is S.CANCELED
    with pytest.raises(IllegalTransition):
        next_status(order, Tx.TRIGGER)


def test_partially_filled_keeps_filling_until_full() -> None:
    order = make_order(S.PARTIALLY_FILLED, cum="4", accepted=True)
    assert next_status(order, Tx.FILL_PARTIAL) is S.PARTIALLY_FILLED
    assert next_status(order, Tx.FILL_FULL) is S.FILLED
    assert next_status(order, Tx.ACCEPT) is S.PARTIALLY_FILLED  # a late ack never regresses
    assert next_status(order, Tx.REPLACE_COMPLETE) is S.FILLED


def test_fill_racing_a_cancel_keeps_the_cancel_pending() -> None:
    order = make_order(S.PENDING_CANCEL, cum="2", accepted=True)
    assert next_status(order, Tx.FILL_PARTIAL) is S.PENDING_CANCEL
    assert next_status(order, Tx.FILL_FULL) is S.FILLED
    assert next_status(order, Tx.CANCEL) is S.CANCELED


def test_cancel_reject_restores_the_working_state() -> None:
    assert next_status(make_order(S.PENDING_CANCEL), Tx.CANCEL_REJECT) is S.SUBMITTED
    assert next_status(make_order(S.PENDING_CANCEL, accepted=True), Tx.CANCEL_REJECT) is S.ACCEPTED
    assert (
        next_status(make_order(S.PENDING_CANCEL, accepted=True, triggered=True), Tx.CANCEL_REJECT)
        is S.TRIGGERED
    )
    assert (
        next_status(make_order(S.PENDING_CANCEL, cum="1", accepted=True), Tx.CANCEL_REJECT)
        is S.PARTIALLY_FILLED
    )


def test_pending_replace_resolves_by_replace_or_reject() -> None:
    order = make_order(S.PENDING_REPLACE, accepted=True)
    assert next_status(order, Tx.REPLACE) is S.ACCEPTED
    assert next_status(order, Tx.MODIFY_REJECT) is S.ACCEPTED
    assert next_status(order, Tx.FILL_PARTIAL) is S.PENDING_REPLACE
    assert next_status(order, Tx.FILL_FULL) is S.FILLED
    assert next_status(order, Tx.PENDING_CANCEL) is S.PENDING_CANCEL
    assert next_status(order, Tx.REPLACE_COMPLETE) is S.FILLED


def test_late_fill_on_a_canceled_order_is_recorded_without_reviving_it() -> None:
    assert next_status(make_order(S.CANCELED, cum="3"), Tx.FILL_PARTIAL) is S.CANCELED
    assert next_status(make_order(S.CANCELED, cum="3"), Tx.FILL_FULL) is S.FILLED
    assert next_status(make_order(S.EXPIRED, cum="3"), Tx.FILL_PARTIAL) is S.EXPIRED


def test_filled_order_absorbs_late_acks_and_cancel_answers() -> None:
    order = make_order(S.FILLED, cum="10")
    for tx in (Tx.ACCEPT, Tx.CANCEL, Tx.CANCEL_REJECT, Tx.MODIFY_REJECT):
        assert next_status(order, tx) is S.FILLED
    for tx in (Tx.FILL_PARTIAL, Tx.FILL_FULL):
        with pytest.raises(IllegalTransition):
            next_status(order, tx)  # never overfilled


def test_restore_targets_only_come_from_live_states_or_reopen_a_filled_order() -> None:
    for (state, tx), target in TRANSITIONS.items():
        if target is RESTORE:
            assert state in LIVE_STATUSES or (state, tx) in REOPENING
