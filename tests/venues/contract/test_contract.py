"""The venue contract: the failures users of other OMSs reported (reference/venues.md §4), each
a specification every venue adapter must meet through the real gateway and a real node.

Each case runs per harness (``conftest.py``: Binance spot and USDⓈ-M); a case a venue cannot
have (``requires``: positions, hedge mode) runs only for the venues that can. Every case ends with
:func:`~.world.assert_agrees`: after a final reconciliation Atlas and the venue agree.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from atlas_oms.model import events as ev
from atlas_oms.model.enums import PositionMode, PositionSide

from .harness import Capability, VenueHarness
from .world import (
    ACCOUNT,
    S,
    assert_agrees,
    cid,
    position_qty,
    run,
    running,
    wait_until,
    with_config,
)

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
            await world.until_status(order_id, S.ACCEPTED)
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


def test_a_server_error_on_a_place_is_unknown_and_resolved_either_way(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #1: a 5xx whose status is unknown: the committed order is found by query (one order,
    ACCEPTED); the one the venue never took ends REJECTED ``NOT_FOUND_AFTER_UNKNOWN`` after the
    visibility window, with no order at the venue and no second attempt under a new id."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            harness.half_open(True)
            harness.fail_next_place(committed=True)
            landed = world.buy()
            await world.until_status(landed, S.ACCEPTED)
            harness.fail_next_place(committed=False)
            lost = world.buy()
            await world.until_status(lost, S.REJECTED)
            assert world.n.order(lost).reason == "NOT_FOUND_AFTER_UNKNOWN"
            assert [len(world.venue_orders_with(o)) for o in (landed, lost)] == [1, 0]
            assert len(harness.orders()) == 1
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
            gaps = [
                r
                for r in world.n.reconciliation_reports(harness.venue, latest=False)
                if r.reason == "GAP"
            ]
            assert sum(r.fills_booked for r in gaps) == 2  # found by the reconnection's backfill
            await assert_agrees(world)
            assert [len(world.n.order_fills(o)) for o in (first, second)] == [1, 1]

    run(main)


@pytest.mark.requires(Capability.STREAM_AUTH_EXPIRY)
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
            await world.until_status(order_id, S.FILLED)
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


@pytest.mark.requires(Capability.SELF_TRADES)
def test_a_self_trade_books_both_sides_of_the_one_trade_id(
    harness: VenueHarness, journal: Path
) -> None:
    """A sell crosses the account's own resting buy: the venue reports two executions with one
    trade id (buyer and seller). Both are booked, once each (found by this suite: the trade id
    alone was the deduplication key, and the second side was dropped as a copy)."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            buy = world.buy()
            await world.until_status(buy, S.ACCEPTED)
            sell = world.submit("SELL")
            await world.until_status(buy, S.FILLED)
            await world.until_status(sell, S.FILLED)
            (bought,), (sold,) = world.n.order_fills(buy), world.n.order_fills(sell)
            assert bought.trade_id == sold.trade_id and bought.exec_id != sold.exec_id
            await world.reconcile()  # the same two executions again: nothing more
            assert [len(world.n.order_fills(o)) for o in (buy, sell)] == [1, 1]
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
            await wait_until(lambda: world.venue_orders_with(order_id), what="committed")
            harness.fill(cid(order_id), harness.instrument.qty)
            await world.until_status(order_id, S.FILLED)
            assert not _rejections(world, order_id)
            assert len(world.n.order_fills(order_id)) == 1
            harness.half_open(False)
            harness.visibility_lag(0)
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- 9: the venue's clock
@pytest.mark.requires(Capability.SIGNED_TIMESTAMP)
def test_a_venue_clock_two_seconds_ahead_still_trades(harness: VenueHarness, journal: Path) -> None:
    """§4 #6: +2 s is inside half the receive window: measured, signed with, traded."""

    async def main() -> None:
        async with running(harness, journal) as world:
            harness.clock_offset(2.0)
            await world.start()
            offset = world.session.health().clock_offset_ms
            assert offset is not None and 1500 < offset < 2500
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            await assert_agrees(world)

    run(main)


@pytest.mark.requires(Capability.SHORT_RECV_WINDOW, Capability.SIGNED_TIMESTAMP)
def test_a_venue_clock_six_seconds_behind_is_resynced_and_resent_once_then_untradable(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #6: the venue's clock falls 6 s behind while Atlas trades. The gateway's documented
    rule (runtime/gateway/orders.py): a timestamp refusal re-measures the clock and sends the
    request once more under the same client order id; the account then stays untradable
    (CLOCK_SKEW) while the offset exceeds ``max_clock_offset_s``. One order at the venue."""

    async def main() -> None:
        async with running(harness, journal, config=with_config(clock_every_s=0.3)) as world:
            await world.start()
            harness.clock_offset(-6.0)
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            assert len(world.venue_orders_with(order_id)) == 1
            health = world.session.health()
            assert (health.tradable, health.reason) == (False, "CLOCK_SKEW")
            assert world.refused() == "VENUE_NOT_TRADABLE"
            harness.clock_offset(0)  # the venue's clock is right again: trading resumes
            await world.ready()
            assert world.status(world.buy()) is S.SUBMITTED
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- 10: rate limits
def test_a_429_retry_after_is_honoured_and_418_is_never_reached(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #7: the venue's weight limit is low (Atlas is not told); reconciliations and orders
    in a burst hit 429. Atlas pauses the venue's scope for ``Retry-After`` and sends nothing
    meanwhile, so it is never banned (418). A place answered 429 was not taken: it is unknown,
    resolved by query, and ends REJECTED with no order at the venue, or ACCEPTED with one.
    After the pause, trading goes on."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            harness.rate_limit_low(True)
            orders = []
            for _ in range(2):
                orders.append(world.buy())
                await world.reconcile()
            for order_id in orders:
                await world.until_status(order_id, S.ACCEPTED, S.REJECTED)
                at_venue = len(world.venue_orders_with(order_id))
                assert at_venue == (1 if world.status(order_id) is S.ACCEPTED else 0)
            throttled, banned = harness.rate_limit_state()
            assert throttled and not banned
            limiter = world.session.limiter
            # What the pause names: HTTP 429 by default; a venue answering its limit in HTTP
            # 200 (Bybit's retCode 10006) declares its own signal (``rate_limit_signal``).
            signal = getattr(harness, "rate_limit_signal", "HTTP 429")
            assert limiter.pause_reason.startswith(signal) and limiter.waits >= 1
            await world.ready()
            after = world.buy()
            await world.until_status(after, S.ACCEPTED)
            harness.rate_limit_low(False)
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- 11: fees in a third asset
@pytest.mark.requires(Capability.THIRD_ASSET_FEES)
def test_fees_are_paid_in_the_third_asset_until_it_runs_out(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #9: the first fill's fee is paid in BNB, which then runs out: the second fill's fee
    is in a traded asset. Each fill carries its own fee asset; balances equal the venue's."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            third = harness.fees_in_third_asset(fills=1)
            await world.reconcile()  # Atlas learns the account's new BNB
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            half = harness.instrument.qty / 2
            harness.fill(cid(order_id), half)
            await world.until_status(order_id, S.PARTIALLY_FILLED)
            harness.fill(cid(order_id), half)
            await world.until_status(order_id, S.FILLED)
            first, second = world.n.order_fills(order_id)
            assert first.fee_asset == third and first.fee > 0
            assert second.fee_asset not in ("", third) and second.fee > 0
            # booked from the fills, before any reconciliation: the venue's balances
            assert {b.asset: b.total for b in world.n.balances(ACCOUNT) if b.total} == (
                harness.balances()
            )
            # and an exit sized from Atlas's numbers fits at the venue
            inst = harness.instrument
            if inst.derivative:
                exit_qty = position_qty(world)
            else:
                lot = world.n.instrument(inst.symbol).lot_size  # type: ignore[union-attr]
                exit_qty = world.n.balance(ACCOUNT, inst.base).free // lot * lot
            harness.rest_liquidity("BUY", exit_qty, inst.price)
            exit_id = world.n.sell(
                ACCOUNT, inst.symbol, exit_qty, inst.price, reduce_only=inst.derivative
            ).order_id
            await world.until_status(exit_id, S.FILLED)
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- 12: hedge mode
@pytest.mark.requires(Capability.HEDGE_MODE)
def test_a_hedge_mode_account_keeps_long_and_short_legs_apart(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #10: LONG and SHORT legs of one symbol are placed, filled and reconciled apart."""

    async def main() -> None:
        async with running(
            harness, journal, hedge_venue=True, position_mode=PositionMode.HEDGE
        ) as world:
            await world.start()
            long_leg = world.submit("BUY", position_side="LONG")
            above = harness.instrument.price * D("1.1")  # the legs must not trade together
            short_leg = world.submit("SELL", position_side="SHORT", price=above)
            await world.until_status(long_leg, S.ACCEPTED)
            await world.until_status(short_leg, S.ACCEPTED)
            qty = harness.instrument.qty
            harness.fill(cid(long_leg), qty)
            harness.fill(cid(short_leg), qty, above)
            await world.until_status(long_leg, S.FILLED)
            await world.until_status(short_leg, S.FILLED)
            assert position_qty(world, PositionSide.LONG) == qty
            assert position_qty(world, PositionSide.SHORT) == -qty
            await assert_agrees(world)
            assert position_qty(world, PositionSide.LONG) == qty
            assert position_qty(world, PositionSide.BOTH) == 0

    run(main)


@pytest.mark.requires(Capability.HEDGE_MODE)
def test_a_one_way_atlas_account_on_a_hedge_mode_venue_account_is_untradable(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #10: the venue account is switched to hedge mode (in its web UI) while Atlas's
    account is one-way; at the next start the mismatch is found, the account stays untradable
    and says why, and nothing is sent."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            await world.stop()
            harness.hedge_mode(True)
            await world.start(wait_ready=False)
            await wait_until(
                lambda: world.session.health().reason == "POSITION_MODE_MISMATCH",
                3.0,
                "the mismatch is reported",
            )
            health = world.session.health()
            assert not health.tradable and "hedge" in health.message
            assert world.refused() == "VENUE_NOT_TRADABLE"
            assert harness.orders() == []

    run(main)


@pytest.mark.requires(Capability.HEDGE_MODE)
def test_a_first_start_against_a_hedge_mode_venue_account_sends_nothing(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #10, on a fresh journal: the mismatch is found before anything is sent; an order is
    refused as VENUE_NOT_TRADABLE (found by this suite: the gateway checked the mode before
    loading the venue's instruments, so the refusal said UNKNOWN_INSTRUMENT)."""

    async def main() -> None:
        async with running(harness, journal, hedge_venue=True) as world:
            await world.start(wait_ready=False)
            await wait_until(
                lambda: world.session.health().reason == "POSITION_MODE_MISMATCH",
                3.0,
                "the mismatch is reported",
            )
            assert world.refused() == "VENUE_NOT_TRADABLE"
            assert harness.orders() == []

    run(main)


# ---------------------------------------------------------------- 13: an old position
@pytest.mark.requires(Capability.POSITIONS, Capability.SHORT_FILL_HISTORY)
def test_a_position_older_than_the_fill_history_is_adopted_at_the_venue_entry_price(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #11: a position opened 30 days ago; fills go back 7 days only."""

    async def main() -> None:
        async with running(harness, journal) as world:
            harness.short_fill_history(7 * 86400)
            harness.seed_old_position(D("0.05"), D("40000"), age_s=30 * 86400)
            await world.start()
            pos = world.n.position(ACCOUNT, harness.instrument.symbol)
            assert pos is not None and pos.qty == D("0.05") and pos.avg_entry_px == D("40000")
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- 14: cancel and fill race
def test_a_cancel_that_races_a_fill_ends_filled_with_one_fill(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #12: the order fills just before the cancel arrives ("unknown order" to the cancel):
    FILLED, one fill, no negative leaves, never CANCELED."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            harness.cancel_races_fill()
            world.n.cancel(ACCOUNT, order_id)
            await world.until_status(order_id, S.FILLED)
            view = world.n.order(order_id)
            assert view.leaves_qty == 0 and view.cum_qty == harness.instrument.qty
            assert len(world.n.order_fills(order_id)) == 1
            await assert_agrees(world)
            canceled = [
                e
                for e in world.n.events()
                if isinstance(e, ev.OrderCanceled) and e.order_id == order_id
            ]
            assert canceled == [] and world.status(order_id) is S.FILLED

    run(main)


# ---------------------------------------------------------------- 15: an order placed outside
def test_an_order_placed_outside_atlas_is_adopted_and_its_fills_count(
    harness: VenueHarness, journal: Path
) -> None:
    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            inst = harness.instrument
            venue_id = harness.place_external("BUY", inst.qty, inst.price)

            def adopted() -> Any:
                return next(
                    (o for o in world.n.orders(ACCOUNT) if o.venue_order_id == venue_id), None
                )

            await wait_until(adopted, what="the external order is adopted")
            assert adopted().external
            harness.fill_venue_order(venue_id, inst.qty)
            await wait_until(lambda: adopted().status is S.FILLED, what="its fill is booked")
            assert adopted().cum_qty == inst.qty
            # moved by the fill itself, before any reconciliation
            if inst.derivative:
                assert position_qty(world) == inst.qty
            else:
                assert world.n.balance(ACCOUNT, inst.base).total == harness.balances()[inst.base]
            await assert_agrees(world)

    run(main)


def test_an_order_placed_outside_atlas_while_it_is_stopped_is_adopted_at_the_restart(
    harness: VenueHarness, journal: Path
) -> None:
    """The restart's snapshot finds a working order Atlas never saw, partly filled: adopted,
    its fill booked once, and its next fill (on the stream) too."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            await world.stop()
            inst = harness.instrument
            venue_id = harness.place_external("BUY", inst.qty, inst.price)
            harness.fill_venue_order(venue_id, inst.qty / 2)
            await world.start()

            def adopted() -> Any:
                return next(
                    (o for o in world.n.orders(ACCOUNT) if o.venue_order_id == venue_id), None
                )

            view = adopted()
            assert view is not None and view.external and view.cum_qty == inst.qty / 2
            assert len(world.n.order_fills(view.order_id)) == 1
            harness.fill_venue_order(venue_id, inst.qty / 2)
            await wait_until(lambda: adopted().status is S.FILLED, what="the second fill")
            assert len(world.n.order_fills(view.order_id)) == 2
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- orders that fill on arrival
def test_an_order_that_fills_on_arrival_is_booked_once_from_the_answer_and_the_stream(
    harness: VenueHarness, journal: Path
) -> None:
    """A limit buy crossing resting liquidity and a market buy: the place's answer and the
    stream both report the executions; each trade is booked once."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            inst = harness.instrument
            harness.rest_liquidity("SELL", inst.qty * 2, inst.price)
            limit = world.buy()
            await world.until_status(limit, S.FILLED)
            market = world.n.buy(ACCOUNT, inst.symbol, inst.qty).order_id
            await world.until_status(market, S.FILLED)
            await world.reconcile()
            for order_id in (limit, market):
                fills = world.n.order_fills(order_id)
                assert len(fills) == 1 and fills[0].last_qty == inst.qty
                assert fills[0].last_px == inst.price
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- 16, 17: kills
def test_an_order_that_fills_while_atlas_is_stopped_is_booked_at_the_restart(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #3/#4: Atlas stops with an order working; it fills meanwhile; the restart's
    reconciliation (stream opened first, then the snapshot) books the fill once."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            await world.stop()
            harness.fill(cid(order_id), harness.instrument.qty)
            await world.start()
            await world.until_status(order_id, S.FILLED)
            (report,) = world.n.reconciliation_reports(harness.venue)
            assert (report.reason, report.fills_booked) == ("RESTART", 1)
            await assert_agrees(world)
            assert len(world.n.order_fills(order_id)) == 1

    run(main)


def test_a_kill_between_journaling_and_sending_ends_with_exactly_one_order(
    harness: VenueHarness, journal: Path
) -> None:
    """The in-process equivalent of kill -9 at ``gateway.before_send`` (the real kill of an
    ``atlas serve`` process is tested elsewhere): the order's intent is journaled, the
    gateway's sender never runs; the node is closed and reopened from the same journal with a
    new gateway: the order is sent once (same client order id) and Atlas agrees."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start(send=False)
            order_id = world.buy()
            assert world.status(order_id) is S.SUBMITTED
            await world.stop()  # "killed": nothing was sent
            assert harness.orders() == []
            await world.start()
            await world.until_status(order_id, S.ACCEPTED)
            assert len(world.venue_orders_with(order_id)) == 1
            await assert_agrees(world)

    run(main)


def test_a_kill_between_sending_and_the_answer_ends_with_exactly_one_order(
    harness: VenueHarness, journal: Path
) -> None:
    """The in-process equivalent of kill -9 at ``gateway.after_send``: the venue commits the
    order and holds its reply; the node and gateway are abandoned (tasks cancelled, the answer
    never processed) and reopened from the same journal: the order is found by client order
    id, not sent again."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            harness.half_open(True)  # nothing reaches the first node but the held reply
            harness.delay_next_place(2.0)
            order_id = world.buy()
            await wait_until(lambda: world.venue_orders_with(order_id), what="committed")
            await world.stop()  # "killed" before the answer
            harness.half_open(False)
            await world.start()
            await world.until_status(order_id, S.ACCEPTED)
            assert len(world.venue_orders_with(order_id)) == 1
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- partial fills and changes
def test_a_partial_fill_then_a_cancel_ends_canceled_with_the_partial_quantity(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #8: the cumulative quantity is the sum of the fills, not the status event's."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            part = harness.instrument.qty * D("0.4")
            harness.fill(cid(order_id), part)
            await world.until_status(order_id, S.PARTIALLY_FILLED)
            world.n.cancel(ACCOUNT, order_id)
            await world.until_status(order_id, S.CANCELED)
            view = world.n.order(order_id)
            assert view.cum_qty == part == sum(f.last_qty for f in world.n.order_fills(order_id))
            await assert_agrees(world)

    run(main)


@pytest.mark.requires(Capability.AMEND)
def test_a_partial_fill_then_a_smaller_quantity_then_the_rest_ends_filled(
    harness: VenueHarness, journal: Path
) -> None:
    """§4 #8: partial fill, then the quantity is reduced, then the rest fills: the amended
    order's leaves are the new quantity less what filled, and it ends FILLED."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            inst = harness.instrument
            order_id = world.buy()
            await world.until_status(order_id, S.ACCEPTED)
            part = inst.qty * D("0.4")
            harness.fill(cid(order_id), part)
            await world.until_status(order_id, S.PARTIALLY_FILLED)
            smaller = inst.qty * D("0.8")
            world.n.modify(ACCOUNT, order_id, qty=smaller)
            await wait_until(
                lambda: (
                    world.n.order(order_id).qty == smaller
                    and world.status(order_id) is S.PARTIALLY_FILLED
                ),
                3.0,
                "the amend is booked",
            )
            assert world.n.order(order_id).leaves_qty == smaller - part
            (venue,) = world.venue_orders_with(order_id)
            assert venue.qty == smaller
            harness.fill(cid(order_id), smaller - part)
            await world.until_status(order_id, S.FILLED)
            assert world.n.order(order_id).cum_qty == smaller
            await assert_agrees(world)

    run(main)


def test_a_kill_after_sending_with_the_order_not_yet_visible_by_query_sends_it_once(
    harness: VenueHarness, journal: Path
) -> None:
    """As above, and a query by client order id still says "does not exist" when Atlas
    restarts: the order is found in the open orders, not sent again; one order, accepted."""

    async def main() -> None:
        async with running(harness, journal) as world:
            await world.start()
            harness.half_open(True)
            harness.visibility_lag(1.5)
            harness.delay_next_place(2.0)
            order_id = world.buy()
            await wait_until(lambda: world.venue_orders_with(order_id), what="committed")
            await world.stop()  # "killed" before the answer
            harness.half_open(False)
            await world.start()
            await world.until_status(order_id, S.ACCEPTED)
            assert len(world.venue_orders_with(order_id)) == 1
            assert not _rejections(world, order_id)
            harness.visibility_lag(0)
            await assert_agrees(world)

    run(main)


# ---------------------------------------------------------------- a failed connection, again
def test_an_adapter_closed_after_a_failed_connection_starts_again(
    harness: VenueHarness, journal: Path
) -> None:
    """The gateway closes a session's adapter after a failed connection (a timeout on a loaded
    machine) and starts the same adapter again: the new start must work (found under load: a
    closed ccxt client refused every later REST call, "instance was closed by the user", and
    the session never became tradable)."""

    async def main() -> None:
        await harness.start()
        adapter = harness.adapter(ACCOUNT, lambda _cid: None)
        try:
            await adapter.start()
            await adapter.close()
            await adapter.start()
            assert await adapter.instruments()
        finally:
            await adapter.close()
            await harness.stop()

    run(main)
