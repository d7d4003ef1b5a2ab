"""Sending orders: acknowledged, refused, unknown (resolved by query), duplicate, clock skew,
cancel of an unknown order; a place is never sent under a new client order id."""

from __future__ import annotations

import asyncio

from gw_world import FAST, buy, running, until
from scripted import ScriptedAdapter, Step

from atlas_oms.model import reports as rep
from atlas_oms.model.venue import ApplyOrderUpdate, NoteOutcomeUnknown, VenueOrderState

CID = "atk3f9q2x"


def _updates(rec, order_id):  # type: ignore[no-untyped-def]
    return [m.update for m in rec.of(ApplyOrderUpdate) if m.update.order.order_id == order_id]


def test_acknowledged_place_applies_the_answer_with_the_atlas_order_id() -> None:
    async def main() -> None:
        async with running() as (_gateway, rec, (adapter,)):
            order_id = buy(rec)
            await until(lambda: _updates(rec, order_id))
            assert adapter.places() == [f"place:{CID}{order_id}"]
            update = _updates(rec, order_id)[0]
            assert update.source == "query" and update.exec_type == "NEW"
            assert update.order.client_order_id == f"{CID}{order_id}"

    asyncio.run(main())


def test_acknowledged_with_fills_applies_each_fill() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.append(Step(fill=True))
        async with running(adapter) as (_gateway, rec, _):
            order_id = buy(rec)
            await until(lambda: _updates(rec, order_id))
            updates = _updates(rec, order_id)
            assert updates[0].fill is not None and updates[0].fill.order_id == order_id
            assert updates[-1].order.state is VenueOrderState.FILLED

    asyncio.run(main())


def test_refused_place_is_rejected_with_the_venues_reason_code_and_message() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.append(
            Step(
                kind="refuse",
                reason="INSUFFICIENT_FUNDS",
                code="-2010",
                message="Account has insufficient balance",
            )
        )
        async with running(adapter) as (_gateway, rec, _):
            order_id = buy(rec)
            await until(lambda: rec.of(rep.VenueRejected))
            rejected = rec.of(rep.VenueRejected)[0]
            assert rejected.order_id == order_id and rejected.reason == "INSUFFICIENT_FUNDS"
            assert "-2010" in rejected.message and "insufficient balance" in rejected.message
            assert rec.node.order(order_id).status == "REJECTED"

    asyncio.run(main())


def test_unknown_place_that_landed_is_resolved_by_query_not_rejected() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.append(Step(kind="unknown", reason="TIMEOUT", commit=True, fill=True))
        async with running(adapter) as (_gateway, rec, _):
            order_id = buy(rec)
            await until(lambda: _updates(rec, order_id))
            unknown = rec.of(NoteOutcomeUnknown)
            assert [(u.order_id, u.action, u.reason) for u in unknown] == [
                (order_id, "PLACE", "TIMEOUT")
            ]
            updates = _updates(rec, order_id)
            assert any(u.fill is not None for u in updates)
            assert updates[-1].order.state is VenueOrderState.FILLED
            assert all(u.source == "query" for u in updates)
            assert not rec.of(rep.VenueRejected)
            assert adapter.places() == [f"place:{CID}{order_id}"]  # never a second place

    asyncio.run(main())


def test_unknown_place_not_visible_for_a_while_is_not_falsely_rejected() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.append(
            Step(kind="unknown", reason="SERVER_ERROR", commit=True, visible_after_s=0.2)
        )
        async with running(adapter) as (_gateway, rec, _):
            order_id = buy(rec)
            await until(lambda: _updates(rec, order_id))
            queries = [c for c in adapter.calls if c == f"order:{CID}{order_id}"]
            assert len(queries) >= 2  # "not found" was asked again, with backoff
            assert not rec.of(rep.VenueRejected)
            assert _updates(rec, order_id)[-1].order.state is VenueOrderState.NEW
            assert adapter.places() == [f"place:{CID}{order_id}"]

    asyncio.run(main())


def test_unknown_place_never_found_is_rejected_not_found_after_unknown() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.append(Step(kind="unknown", reason="DISCONNECTED", commit=False))
        async with running(adapter) as (_gateway, rec, _):
            order_id = buy(rec)
            await until(lambda: rec.of(rep.VenueRejected))
            rejected = rec.of(rep.VenueRejected)[0]
            assert rejected.order_id == order_id and rejected.reason == "NOT_FOUND_AFTER_UNKNOWN"
            calls = adapter.calls
            assert "fills" in calls[calls.index(f"order:{CID}{order_id}") :]  # fills checked first
            assert adapter.places() == [f"place:{CID}{order_id}"]  # never re-placed
            assert rec.node.order(order_id).status == "REJECTED"

    asyncio.run(main())


def test_unknown_place_resolved_by_the_stream_needs_no_query() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.append(
            Step(kind="unknown", reason="TIMEOUT", commit=True, delay_s=0.0)
        )
        config = FAST.__class__(**{**FAST.__dict__, "stream_wait_s": 1.0})
        async with running(adapter, config=config) as (gateway, rec, _):
            order_id = buy(rec)
            await until(lambda: rec.of(NoteOutcomeUnknown))
            from atlas_oms.model.venue import OrderUpdate

            order = adapter.book[f"{CID}{order_id}"]
            await adapter.push(
                OrderUpdate(venue="binance", account_id="A", ts=1, order=order, exec_type="NEW")
            )
            await until(lambda: _updates(rec, order_id))
            await asyncio.sleep(0.05)
            assert f"order:{CID}{order_id}" not in adapter.calls
            assert _updates(rec, order_id)[0].source == "stream"
            assert not gateway.sessions[("binance", "A")].orders.tracked

    asyncio.run(main())


def test_duplicate_answer_means_it_probably_landed_and_is_queried() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.append(
            Step(
                kind="unknown",
                reason="DUPLICATE",
                code="-2010",
                message="Duplicate order sent.",
                commit=True,
            )
        )
        async with running(adapter) as (_gateway, rec, _):
            order_id = buy(rec)
            await until(lambda: _updates(rec, order_id))
            assert rec.of(NoteOutcomeUnknown)[0].reason == "DUPLICATE"
            assert f"order:{CID}{order_id}" in adapter.calls
            assert not rec.of(rep.VenueRejected)
            assert adapter.places() == [f"place:{CID}{order_id}"]

    asyncio.run(main())


def test_query_failures_while_resolving_never_reject() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.append(Step(kind="unknown", reason="TIMEOUT", commit=False))
        async with running(adapter) as (gateway, rec, _):
            adapter.query_failures = 1000
            buy(rec)
            session = gateway.sessions[("binance", "A")]
            await until(lambda: rec.of(NoteOutcomeUnknown))
            await until(lambda: not session.orders.tracked, timeout=3)
            assert not rec.of(rep.VenueRejected)  # no answer is not "not found"

    asyncio.run(main())


def test_clock_skew_refusal_resyncs_and_resends_once_under_the_same_id() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        async with running(adapter) as (_gateway, rec, _):
            adapter.place_script.append(
                Step(
                    kind="refuse",
                    reason="CLOCK_SKEW",
                    code="-1021",
                    message="Timestamp for this request is outside of the recvWindow.",
                )
            )
            adapter.clock_offsets.clear()
            adapter.clock_offsets.append(1_000_000_000)
            times_before = adapter.calls.count("server_time")
            order_id = buy(rec)
            await until(lambda: _updates(rec, order_id))
            assert adapter.places() == [f"place:{CID}{order_id}"] * 2  # one resend, same id
            assert adapter.calls.count("server_time") == times_before + 1
            assert abs(adapter.signing_offset_ns - 1_000_000_000) < 50_000_000
            assert not rec.of(rep.VenueRejected)

    asyncio.run(main())


def test_clock_skew_twice_is_a_refusal() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        async with running(adapter) as (_gateway, rec, _):
            skew = Step(
                kind="refuse", reason="CLOCK_SKEW", code="-1021", message="outside recvWindow"
            )
            adapter.place_script.extend([skew, skew])
            order_id = buy(rec)
            await until(lambda: rec.of(rep.VenueRejected))
            assert len(adapter.places()) == 2
            assert rec.of(rep.VenueRejected)[0].reason == "CLOCK_SKEW"
            assert rec.node.order(order_id).status == "REJECTED"

    asyncio.run(main())


def test_cancel_refused_as_unknown_order_queries_and_is_never_a_cancel() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        async with running(adapter) as (_gateway, rec, _):
            order_id = buy(rec)
            await until(lambda: _updates(rec, order_id))
            # the venue filled it meanwhile; the cancel gets "unknown order"
            cid = f"{CID}{order_id}"
            from atlas_oms.model.venue import VenueOrder

            filled = adapter.book[cid]
            adapter.book[cid] = VenueOrder(
                **{
                    **{f: getattr(filled, f) for f in filled.__struct_fields__},
                    "state": VenueOrderState.FILLED,
                    "cum_qty": filled.qty,
                }
            )
            adapter.cancel_script.append(
                Step(
                    kind="refuse",
                    reason="UNKNOWN_ORDER",
                    code="-2011",
                    message="Unknown order sent.",
                )
            )
            rec.node.cancel("A", order_id)
            await until(lambda: len(_updates(rec, order_id)) >= 2)
            assert f"order:{cid}" in adapter.calls[adapter.calls.index(f"cancel:{cid}") :]
            last = _updates(rec, order_id)[-1]
            assert last.order.state is VenueOrderState.FILLED
            assert not any(
                u.order.state is VenueOrderState.CANCELED for u in _updates(rec, order_id)
            )
            assert not rec.of(rep.VenueCanceled)
            assert not rec.of(rep.VenueCancelRejected)  # it ended: nothing to refuse

    asyncio.run(main())


def test_cancel_refused_as_unknown_order_of_an_order_the_venue_does_not_show_is_a_cancel_reject() -> (
    None
):
    async def main() -> None:
        adapter = ScriptedAdapter()
        async with running(adapter) as (_gateway, rec, _):
            order_id = buy(rec)
            await until(lambda: _updates(rec, order_id))
            adapter.book.clear()
            rec.node.cancel("A", order_id)
            await until(lambda: rec.of(rep.VenueCancelRejected))
            refused = rec.of(rep.VenueCancelRejected)[0]
            assert refused.reason == "UNKNOWN_ORDER" and "-2011" in refused.message

    asyncio.run(main())


def test_acknowledged_cancel_applies_the_canceled_order() -> None:
    async def main() -> None:
        async with running() as (_gateway, rec, (_adapter,)):
            order_id = buy(rec)
            await until(lambda: _updates(rec, order_id))
            rec.node.cancel("A", order_id)
            await until(lambda: _updates(rec, order_id)[-1].order.state is VenueOrderState.CANCELED)
            assert _updates(rec, order_id)[-1].exec_type == "CANCELED"

    asyncio.run(main())


def test_unknown_cancel_is_noted_and_resolved_by_query() -> None:
    async def main() -> None:
        async with running() as (_gateway, rec, (adapter,)):
            order_id = buy(rec)
            await until(lambda: _updates(rec, order_id))
            adapter.cancel_script.append(Step(kind="unknown", reason="TIMEOUT"))
            rec.node.cancel("A", order_id)
            await until(lambda: _updates(rec, order_id)[-1].order.state is VenueOrderState.CANCELED)
            assert [(u.action, u.reason) for u in rec.of(NoteOutcomeUnknown)] == [
                ("CANCEL", "TIMEOUT")
            ]
            assert _updates(rec, order_id)[-1].source == "query"

    asyncio.run(main())


def test_a_request_for_an_account_without_a_venue_account_is_rejected_at_once() -> None:
    from decimal import Decimal

    from gw_world import Recorder, new_node

    from atlas_oms.model.enums import Side
    from atlas_oms.model.requests import CancelAtVenue, SubmitToVenue
    from atlas_oms.runtime.gateway.facade import VenueFacade

    facade = VenueFacade("binance", Recorder(new_node()))
    submit = SubmitToVenue(
        order_id=7,
        account_id="B",
        symbol="BTC/USDT",
        venue="binance",
        side=Side.BUY,
        qty=Decimal(1),
        price=Decimal(100),
    )
    [rejected] = facade.handle(submit)
    assert isinstance(rejected, rep.VenueRejected) and rejected.reason == "NO_VENUE_ACCOUNT"
    cancel = CancelAtVenue(order_id=7, account_id="B", symbol="BTC/USDT", venue="binance")
    [refused] = facade.handle(cancel)
    assert isinstance(refused, rep.VenueCancelRejected)


def test_orders_of_one_account_are_in_flight_together_but_one_orders_requests_go_in_turn() -> None:
    """A slow answer to one place does not hold the next order back (a venue round trip takes
    milliseconds: one at a time would cap an account at a few hundred orders a second); a cancel
    of the slow order still waits for its place to be answered."""

    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.extend([Step(delay_s=0.5), Step()])
        async with running(adapter) as (_gateway, rec, _):
            slow = buy(rec)
            fast = buy(rec)
            rec.node.cancel("A", slow)
            await until(lambda: _updates(rec, fast))
            # The second order was answered while the first still waited for its answer.
            assert not _updates(rec, slow)
            assert adapter.calls.count(f"cancel:{CID}{slow}") == 0
            await until(lambda: f"cancel:{CID}{slow}" in adapter.calls, timeout=2)
            calls = [c for c in adapter.calls if c.endswith(f"{CID}{slow}")]
            assert calls == [f"place:{CID}{slow}", f"cancel:{CID}{slow}"]

    asyncio.run(main())
