"""The venue contract, continued: a cancel or an amend whose reply is lost, and a fill that
lands between the private stream's connection and the first snapshot (reference/venues.md §4).

Run per harness like ``test_contract.py``; every case ends with
:func:`~.world.assert_agrees`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from atlas_oms.model import events as ev
from atlas_oms.model.venue import VenueOrderState

from .harness import Capability, VenueHarness
from .world import ACCOUNT, S, assert_agrees, cid, run, running, wait_until

D = Decimal

#: How the reply to a cancel or amend is lost, and whether the venue applied it.
LOSSES = {
    "reply-held-past-the-timeout": True,
    "connection-dropped": True,
    "5xx-after-applying": True,
    "5xx-before-applying": False,
}


def _lose(harness: VenueHarness, action: str, loss: str) -> None:
    if loss == "reply-held-past-the-timeout":
        harness.delay_next_change(action, 1.5)
    elif loss == "connection-dropped":
        harness.drop_after_next_change(action)
    else:
        harness.fail_next_change(action, committed=loss == "5xx-after-applying")


def _events(world: Any, kind: type[ev.EventBase], order_id: int) -> list[Any]:
    return [e for e in world.n.events() if isinstance(e, kind) and e.order_id == order_id]


@pytest.mark.parametrize("loss", list(LOSSES))
def test_a_cancel_whose_reply_is_lost_ends_in_the_venues_state(
    harness: VenueHarness, journal: Path, loss: str
) -> None:
    """The stream is silent (half-open), so only a query can tell (runtime/gateway/orders.py):
    an applied cancel ends CANCELED, never refused (a repeat of the cancel, as aiohttp sends
    after a dropped connection, finds "unknown order": the query says CANCELED); a cancel the
    venue never applied is refused ``CANCEL_NOT_CONFIRMED``, the order works on, and the next
    cancel goes through."""

    async def main() -> None:
        applied = LOSSES[loss]
        async with running(harness, journal) as world:
            await world.start()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            harness.half_open(True)
            _lose(harness, "CANCEL", loss)
            world.n.cancel(ACCOUNT, order_id)
            (venue,) = world.venue_orders_with(order_id)
            if applied:
                await world.until_status(order_id, S.CANCELED)
                assert _events(world, ev.OrderCancelRejected, order_id) == []
            else:
                await wait_until(
                    lambda: _events(world, ev.OrderCancelRejected, order_id),
                    what="the cancel is refused as not confirmed",
                )
                (refused,) = _events(world, ev.OrderCancelRejected, order_id)
                assert refused.reason == "CANCEL_NOT_CONFIRMED"
                assert world.status(order_id) is S.ACCEPTED
            (venue,) = world.venue_orders_with(order_id)
            assert venue.state is (VenueOrderState.CANCELED if applied else VenueOrderState.NEW)
            harness.half_open(False)
            await assert_agrees(world)
            if not applied:
                world.n.cancel(ACCOUNT, order_id)
                await world.until_status(order_id, S.CANCELED)
                await assert_agrees(world)

    run(main)


@pytest.mark.requires(Capability.AMEND)
@pytest.mark.parametrize("loss", list(LOSSES))
def test_an_amend_whose_reply_is_lost_ends_in_the_venues_state(
    harness: VenueHarness, journal: Path, loss: str
) -> None:
    """A quantity reduction (what both Binance markets amend in place, same order id) whose
    reply is lost while the stream is silent: applied → Atlas has the new quantity, no refusal;
    not applied → refused ``MODIFY_NOT_CONFIRMED``, the old quantity, as the venue."""

    async def main() -> None:
        applied = LOSSES[loss]
        inst = harness.instrument
        smaller = inst.qty * D("0.6")
        async with running(harness, journal) as world:
            await world.start()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            (before,) = world.venue_orders_with(order_id)
            harness.half_open(True)
            _lose(harness, "AMEND", loss)
            world.n.modify(ACCOUNT, order_id, qty=smaller)
            if applied:
                await wait_until(
                    lambda: (
                        world.n.order(order_id).qty == smaller
                        and world.status(order_id) is S.ACCEPTED
                    ),
                    what="the amend is booked",
                )
                assert _events(world, ev.OrderModifyRejected, order_id) == []
            else:
                await wait_until(
                    lambda: _events(world, ev.OrderModifyRejected, order_id),
                    what="the amend is refused as not confirmed",
                )
                (refused,) = _events(world, ev.OrderModifyRejected, order_id)
                assert refused.reason == "MODIFY_NOT_CONFIRMED"
                assert world.status(order_id) is S.ACCEPTED
            (venue,) = world.venue_orders_with(order_id)
            assert venue.venue_order_id == before.venue_order_id
            assert venue.qty == (smaller if applied else inst.qty)
            assert world.n.order(order_id).qty == venue.qty
            harness.half_open(False)
            harness.fill(cid(order_id), venue.qty)
            await world.until_status(order_id, S.FILLED)
            await assert_agrees(world)
            assert world.n.order(order_id).cum_qty == venue.qty

    run(main)


def test_a_fill_between_the_stream_connecting_and_the_snapshot_is_booked_once(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #4, second half: Atlas restarts with an order working; the venue fills it right
    after it acknowledges the new private stream, before the reconciliation's snapshot. The
    fill may reach Atlas by the (buffered) stream, the snapshot, or both: one fill, booked
    once, and the order, positions and balances agree."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            await world.stop()
            harness.fill_on_stream_subscribe(cid(order_id))
            await world.start()
            await world.until_status(order_id, S.FILLED)
            (venue,) = world.venue_orders_with(order_id)
            assert venue.state is VenueOrderState.FILLED  # the knob fired
            await world.reconcile()
            fills = world.n.order_fills(order_id)
            assert len(fills) == 1 and fills[0].last_qty == harness.instrument.qty
            await assert_agrees(world)
            assert len(world.n.order_fills(order_id)) == 1

    run(main)
