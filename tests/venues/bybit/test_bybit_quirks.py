"""Bybit v5 quirks (issue 15 §1, reference/venues.md §1.4), each against the loopback fake with
the real adapter (real ccxt client, real sockets, the header HMAC checked by the fake)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.fakes.bybit import AccountConfig, FakeBybit
from atlas_oms.fakes.bybit import venue as fake_venue
from atlas_oms.model.enums import PositionSide, Side
from atlas_oms.model.venue import (
    Acknowledged,
    CancelOrder,
    OrderUpdate,
    PlaceOrder,
    Refused,
    Unknown,
    VenueOrderState,
)
from atlas_oms.venues.bybit import BybitEndpoints, BybitLinearAdapter, BybitSpotAdapter, errors
from atlas_oms.venues.bybit.errors import Action, Failure

D = Decimal
KEY, SECRET = "quirkkey0001", "quirksecret0000000000000001"


def decode(cid: str) -> int | None:
    return int(cid[2:]) if cid.startswith("at") and cid[2:].isdigit() else None


def run(body: Callable[[FakeBybit], Awaitable[None]], *, hedge: bool = False) -> None:
    async def main() -> None:
        fake = FakeBybit(
            [
                AccountConfig(
                    name="a",
                    api_key=KEY,
                    secret=SECRET,
                    wallet={"USDT": D("100000"), "BTC": D("2")},
                    hedge_mode=hedge,
                )
            ]
        )
        await fake.start()
        try:
            await asyncio.wait_for(body(fake), 20)
        finally:
            await fake.stop()

    asyncio.run(main())


def adapter(fake: FakeBybit, cls: Any = BybitSpotAdapter, secret: str = SECRET) -> Any:
    return cls(
        account_id="a",
        api_key=KEY,
        secret=secret,
        decode_client_id=decode,
        endpoints=BybitEndpoints(fake.http, fake.ws),
        timeout_ms=800,
    )


def buy(n: int, symbol: str = "BTC/USDT", **kw: Any) -> PlaceOrder:
    return PlaceOrder(
        order_id=n,
        client_order_id=f"at{n}",
        symbol=symbol,
        side=Side.BUY,
        qty=D("0.01"),
        price=D("50000"),
        **kw,
    )


def test_a_wrong_secret_fails_the_header_signature_check() -> None:
    async def body(fake: FakeBybit) -> None:
        bad = adapter(fake, secret="not-the-secret")
        try:
            with pytest.raises(VenueQueryFailed) as e:
                await bad.balances()
            assert (e.value.reason, e.value.code) == ("AUTH", "10004")
        finally:
            await bad.close()
        good = adapter(fake)
        try:
            assert {b.asset: b.total for b in await good.balances()} == {
                "BTC": D("2"),
                "USDT": D("100000"),
            }
        finally:
            await good.close()

    run(body)


@pytest.mark.parametrize(
    ("cls", "symbol", "code"),
    [(BybitSpotAdapter, "BTC/USDT", "170141"), (BybitLinearAdapter, "BTC/USDT:USDT", "110072")],
)
def test_a_duplicate_order_link_id_is_an_unknown_duplicate(
    cls: Any, symbol: str, code: str
) -> None:
    async def body(fake: FakeBybit) -> None:
        a = adapter(fake, cls)
        try:
            await a.start()
            assert isinstance(await a.place(buy(1, symbol)), Acknowledged)
            again = await a.place(buy(1, symbol))
            assert isinstance(again, Unknown)
            assert (again.reason, again.code) == ("DUPLICATE", code)
            assert len(fake.venue.orders) == 1
        finally:
            await a.close()

    run(body)


def test_cancel_and_query_go_by_order_link_id_and_a_canceled_order_is_found() -> None:
    async def body(fake: FakeBybit) -> None:
        a = adapter(fake)
        try:
            await a.start()
            placed = await a.place(buy(7))
            assert isinstance(placed, Acknowledged) and placed.venue_order_id
            found = await a.order("BTC/USDT", client_order_id="at7")
            assert found is not None and found.state is VenueOrderState.NEW
            assert found.venue_order_id == placed.venue_order_id and found.order_id == 7
            cancel = CancelOrder(order_id=7, client_order_id="at7", symbol="BTC/USDT")
            assert isinstance(await a.cancel(cancel), Acknowledged)
            gone = await a.order("BTC/USDT", client_order_id="at7")
            assert gone is not None and gone.state is VenueOrderState.CANCELED
            again = await a.cancel(cancel)
            assert isinstance(again, Refused) and (again.reason, again.code) == (
                "UNKNOWN_ORDER",
                "170213",
            )
            assert await a.order("BTC/USDT", client_order_id="at999") is None
        finally:
            await a.close()

    run(body)


def test_an_order_past_the_realtime_window_is_found_in_the_unfiltered_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``/v5/order/realtime`` shows only the last N closed orders; a canceled one older than
    that is in ``/v5/order/history``, which the adapter asks without a status filter."""
    monkeypatch.setattr(fake_venue, "REALTIME_CLOSED", 1)

    async def body(fake: FakeBybit) -> None:
        a = adapter(fake)
        try:
            await a.start()
            for n in (1, 2):
                await a.place(buy(n))
                await a.cancel(CancelOrder(order_id=n, client_order_id=f"at{n}", symbol="BTC/USDT"))
            raw = await a._get(
                "privateGetV5OrderRealtime",
                {"category": "spot", "symbol": "BTCUSDT", "orderLinkId": "at1"},
            )
            assert raw["list"] == []  # out of realtime's window
            old = await a.order("BTC/USDT", client_order_id="at1")
            assert old is not None and old.state is VenueOrderState.CANCELED
        finally:
            await a.close()

    run(body)


def test_partially_filled_canceled_keeps_the_partial_quantity() -> None:
    async def body(fake: FakeBybit) -> None:
        a = adapter(fake)
        try:
            await a.start()
            await a.place(buy(3))
            order = next(iter(fake.venue.orders.values()))
            fake.venue.fill(order, D("0.004"))
            await a.cancel(CancelOrder(order_id=3, client_order_id="at3", symbol="BTC/USDT"))
            found = await a.order("BTC/USDT", client_order_id="at3")
            assert found is not None
            assert found.venue_status == "PartiallyFilledCanceled"
            assert (found.state, found.cum_qty) == (VenueOrderState.CANCELED, D("0.004"))
            (fill,) = await a.fills(0)
            assert (fill.qty, fill.fee_asset, fill.order_id) == (D("0.004"), "BTC", 3)
        finally:
            await a.close()

    run(body)


def test_two_filled_messages_of_a_cancel_race_yield_one_fill() -> None:
    """The stream's ``execution`` row repeated (Bybit's second ``Filled`` on a cancel race, or
    a replay) is one fill: deduplicated by ``execId``."""

    async def body(fake: FakeBybit) -> None:
        a = adapter(fake)
        try:
            await a.start()
            a._facts = asyncio.Queue()
            await a.place(buy(4))
            order = next(iter(fake.venue.orders.values()))
            ex = fake.venue.fill(order, D("0.01"))
            row = fake.venue.execution_row(ex)
            message = {"topic": "execution", "creationTime": ex.time_ms, "data": [row]}
            filled = dict(fake.venue.order_row(order), category="spot")
            second = dict(
                filled, cancelType="CancelByUser", rejectReason="EC_OrigClOrdIDDoesNotExist"
            )
            url = a._private_url
            for m in (message, {"topic": "order", "data": [filled]}, message):
                assert a._on_ws_message(url, m) is True
            a._on_ws_message(url, {"topic": "order", "data": [second]})
            facts = []
            while not a._facts.empty():
                facts.append(a._facts.get_nowait())
            fills = [f.fill for f in facts if isinstance(f, OrderUpdate) and f.fill]
            assert [f.trade_id for f in fills] == [ex.exec_id]
            states = {f.order.state for f in facts if isinstance(f, OrderUpdate)}
            assert states == {VenueOrderState.FILLED}
        finally:
            await a.close()

    run(body)


def test_hedge_mode_sends_the_position_index_of_each_leg() -> None:
    async def body(fake: FakeBybit) -> None:
        a = adapter(fake, BybitLinearAdapter)
        try:
            await a.start()
            assert a.settings.hedge_mode is True
            long_ = buy(5, "BTC/USDT:USDT", position_side=PositionSide.LONG)
            assert isinstance(await a.place(long_), Acknowledged)
            (order,) = fake.venue.orders.values()
            assert order.position_idx == 1
            one_way = await a.place(buy(6, "BTC/USDT:USDT"))
            assert isinstance(one_way, Refused) and one_way.reason == "POSITION_SIDE_MISMATCH"
            fake.venue.fill(order, D("0.01"))
            (pos,) = await a.positions()
            assert (pos.position_side, pos.qty, pos.entry_price) == (
                PositionSide.LONG,
                D("0.01"),
                D("50000"),
            )
        finally:
            await a.close()

    run(body, hedge=True)


def test_per_uid_per_endpoint_limits_arrive_in_the_bapi_headers() -> None:
    async def body(fake: FakeBybit) -> None:
        fake.limits.write_per_s = 2
        a = adapter(fake)
        seen: list[dict[str, str]] = []
        a.on_response = lambda status, headers: seen.append(
            {k.lower(): v for k, v in headers.items()}
        )
        try:
            await a.start()
            first, second, third = [await a.place(buy(n)) for n in (1, 2, 3)]
            assert isinstance(first, Acknowledged) and isinstance(second, Acknowledged)
            assert isinstance(third, Unknown) and (third.reason, third.code) == (
                "RATE_LIMITED",
                "10006",
            )
            left = [h.get("x-bapi-limit-status") for h in seen[-3:]]
            assert left == ["1", "0", "0"]
            assert all(h.get("x-bapi-limit") == "2" for h in seen[-3:])
            # another endpoint has its own budget
            assert await a.balances()
            assert seen[-1]["x-bapi-limit-status"] == "49"
        finally:
            await a.close()

    run(body)


@pytest.mark.parametrize(
    ("code", "reason", "unknown"),
    [
        (110072, "DUPLICATE", True),
        (170141, "DUPLICATE", True),
        (10016, "SERVER_ERROR", True),
        (10006, "RATE_LIMITED", True),
        (110079, "SERVER_ERROR", True),
        (110007, "INSUFFICIENT_FUNDS", False),
        (170131, "INSUFFICIENT_FUNDS", False),
        (110001, "UNKNOWN_ORDER", False),
        (10002, "CLOCK_SKEW", False),
        (10004, "AUTH", False),
    ],
)
def test_errors_are_classified_from_the_ret_code(code: int, reason: str, unknown: bool) -> None:
    out = errors.classify_write(Action.PLACE, Failure.ANSWERED, status=200, code=code, msg="x")
    assert isinstance(out, Unknown if unknown else Refused) and out.reason == reason
