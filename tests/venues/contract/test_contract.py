"""The venue contract: the failures users of other OMSs reported (reference/venues.md §4), each
a specification every venue adapter must meet through the real gateway and a real node.

Each case runs per harness (``conftest.py``: Binance spot and USDⓈ-M); a case a venue cannot
have is collected as *not applicable* with the reason. Every case ends with
:func:`~.world.assert_agrees`: after a final reconciliation Atlas and the venue agree.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from atlas_oms.model import events as ev

from .harness import VenueHarness
from .world import S, assert_agrees, cid, run, running, with_config

D = Decimal


def _rejections(world: object, order_id: int) -> list[ev.EventBase]:
    node = world.n  # type: ignore[attr-defined]
    return [e for e in node.events() if isinstance(e, ev.OrderRejected) and e.order_id == order_id]


def test_a_resting_order_fills_and_atlas_agrees(harness: VenueHarness, journal: Path) -> None:
    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            harness.fill(cid(order_id), harness.instrument.qty)
            await world.until_status(order_id, S.FILLED)
            assert len(world.n.order_fills(order_id)) == 1
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- 1, 2: unknown place outcomes
def test_a_place_reply_held_past_the_client_timeout_leaves_one_order_resolved_by_query(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #1: the venue commits the order and holds the reply past the client's timeout; the
    stream says nothing (half-open), so only the query by client order id can tell."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            harness.half_open(True)
            harness.delay_next_place(1.5)
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED, timeout=4)
            assert world.n.order(order_id).venue_order_id
            assert len(world.venue_orders_with(order_id)) == 1
            assert not _rejections(world, order_id)
            harness.half_open(False)
            harness.fill(cid(order_id), harness.instrument.qty)
            await world.until_status(order_id, S.FILLED)
            await assert_agrees(world)

    run(main)


def test_a_connection_dropped_after_the_venue_committed_the_place_leaves_one_order(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #1: the venue commits the order and closes the connection without a reply."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            harness.half_open(True)
            harness.drop_after_next_place()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            assert len(world.venue_orders_with(order_id)) == 1
            assert not _rejections(world, order_id)
            harness.half_open(False)
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- 3, 4, 5: the private stream
def test_fills_while_the_stream_is_down_are_booked_once_each(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #2a: the stream drops, two orders fill while it is down; the reconnection's
    reconciliation books both fills, once each."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            first, second = world.buy(), world.buy()
            await world.until_status(first, S.ACCEPTED)
            await world.until_status(second, S.ACCEPTED)
            harness.drop_stream()
            harness.fill(cid(first), harness.instrument.qty)
            harness.fill(cid(second), harness.instrument.qty)
            await world.until_status(first, S.FILLED)
            await world.until_status(second, S.FILLED)
            assert world.session.reconnects >= 1 or world.session.connections >= 1
            await assert_agrees(world)
            assert [len(world.n.order_fills(o)) for o in (first, second)] == [1, 1]

    run(main)


def test_an_expired_stream_authentication_opens_a_new_stream_and_backfills(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #2b: the listenKey (or the WS-API subscription) expires; an order fills while the
    stream is gone; a new stream is opened, the fill found by the backfill, and the new stream
    carries the next fill."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            first, second = world.buy(), world.buy()
            await world.until_status(first, S.ACCEPTED)
            await world.until_status(second, S.ACCEPTED)
            harness.expire_stream_auth()
            harness.fill(cid(first), harness.instrument.qty)
            await world.until_status(first, S.FILLED)
            (report,) = world.n.reconciliation_reports(harness.venue)
            assert (report.reason, report.fills_booked) == ("GAP", 1)  # the backfill booked it
            await world.ready()
            harness.fill(cid(second), harness.instrument.qty)  # through the new stream
            await world.until_status(second, S.FILLED)
            await assert_agrees(world)

    run(main)


def test_a_half_open_stream_is_detected_by_its_silence_and_the_fills_are_found(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #2c: the connection stays up and answers pings but events are lost; the gateway sees
    the silence (``silent_after_s``), reconciles, and finds the fill."""

    async def main() -> None:
        config = with_config(silent_after_s=0.5)
        async with running(harness, journal, config=config) as world:
            await world.start()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            harness.half_open(True)
            harness.fill(cid(order_id), harness.instrument.qty)
            await world.until_status(order_id, S.FILLED, timeout=3)
            assert len(world.n.order_fills(order_id)) == 1
            harness.half_open(False)
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- 6, 7: duplicates, fast fills
def test_the_same_execution_twice_and_an_overlapping_snapshot_book_each_trade_once(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #3: every execution arrives twice, the fill query overlaps the stream, and Atlas
    restarts mid-stream: the position is the sum of the unique trade ids."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            harness.duplicate_executions(True)
            half = harness.instrument.qty / 2
            harness.fill(cid(order_id), half)
            await world.until_status(order_id, S.PARTIALLY_FILLED)
            await world.reconcile()  # the snapshot's fills overlap the stream's
            await world.restart()  # and a restart replays the journal, then reconciles
            harness.fill(cid(order_id), half)
            await world.until_status(order_id, S.FILLED)
            await world.reconcile()
            fills = world.n.order_fills(order_id)
            assert len(fills) == 2 and len({f.trade_id for f in fills}) == 2
            assert sum(f.last_qty for f in fills) == harness.instrument.qty
            await assert_agrees(world)

    run(main)


def test_five_partial_fills_within_one_millisecond_are_five_fills_and_filled(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #4: five executions with the same transaction time; none coalesced."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            part = harness.instrument.qty / 5
            harness.fill_in_parts(cid(order_id), [part] * 5)
            await world.until_status(order_id, S.FILLED)
            view = world.n.order(order_id)
            assert view.cum_qty == harness.instrument.qty and view.leaves_qty == 0
            assert [f.last_qty for f in world.n.order_fills(order_id)] == [part] * 5
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- 8: visibility lag
def test_order_does_not_exist_right_after_accept_is_not_a_rejection(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #5: the place's answer is lost, the order fills at once, and the venue says "order
    does not exist" for a while: no false REJECTED; the order ends FILLED with its fill."""

    async def main() -> None:
        config = with_config(visibility_s=2.5)
        async with running(harness, journal, config=config) as world:
            await world.start()
            harness.half_open(True)
            harness.visibility_lag(1.0)
            harness.drop_after_next_place()
            order_id = world.buy()
            await wait_for_venue_order(world, order_id)
            harness.fill(cid(order_id), harness.instrument.qty)
            await world.until_status(order_id, S.FILLED, timeout=4)
            assert not _rejections(world, order_id)
            assert len(world.n.order_fills(order_id)) == 1
            harness.half_open(False)
            harness.visibility_lag(0)
            await assert_agrees(world)

    run(main)


async def wait_for_venue_order(world: object, order_id: int) -> None:
    from .world import wait_until

    await wait_until(lambda: world.venue_orders_with(order_id), 2.0, "the venue has the order")  # type: ignore[attr-defined]
