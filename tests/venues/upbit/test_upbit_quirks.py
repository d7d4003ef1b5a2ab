"""Upbit's quirks (issue 15 §1, reference/venues.md §1.6), each through the real adapter (real ccxt
``upbit`` client) against the loopback fake, or on Upbit's own JSON."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import jwt
import pytest

from atlas_oms.fakes.upbit import Account, FakeUpbit
from atlas_oms.model.enums import Side
from atlas_oms.model.venue import Acknowledged, CancelOrder, PlaceOrder, Refused, VenueOrderState
from atlas_oms.runtime.gateway.ratelimit import RateLimiter, upbit
from atlas_oms.venues.upbit import UpbitAdapter
from atlas_oms.venues.upbit import parse as p
from atlas_oms.venues.upbit.client import limiter_headers, parse_remaining_req
from atlas_oms.venues.upbit.ticks import KRW_PRICE_UNITS, krw_tick, on_tick, round_to_tick

D = Decimal
KEY, SECRET = "k" * 40, "s" * 40


def _run(main: Callable[[FakeUpbit, UpbitAdapter], Awaitable[None]]) -> None:
    async def go() -> None:
        fake = FakeUpbit(
            [
                Account(
                    name="a",
                    access_key=KEY,
                    secret=SECRET,
                    balances={"KRW": [D("100000000"), D(0)], "BTC": [D("1"), D(0)]},
                )
            ]
        )
        await fake.start()
        adapter = UpbitAdapter(
            account_id="a",
            api_key=KEY,
            secret=SECRET,
            decode_client_id=lambda cid: int(cid[1:]) if cid.startswith("x") else None,
            rest_url=fake.http,
            ws_url=fake.ws,
            timeout_ms=2000,
        )
        try:
            await adapter.start()
            await main(fake, adapter)
        finally:
            await adapter.close()
            await fake.stop()

    asyncio.run(asyncio.wait_for(go(), 20))


def _buy(cid: str, qty: str = "0.01", price: str = "50000000") -> PlaceOrder:
    return PlaceOrder(
        order_id=int(cid[1:]),
        client_order_id=cid,
        symbol="BTC/KRW",
        side=Side.BUY,
        qty=D(qty),
        price=D(price),
    )


# ---------------------------------------------------------------- identifier
def test_cancel_by_identifier_calls_the_raw_endpoint_where_ccxt_would_send_uuid_none() -> None:
    async def main(fake: FakeUpbit, adapter: UpbitAdapter) -> None:
        placed = await adapter.place(_buy("x1"))
        assert isinstance(placed, Acknowledged) and placed.order is not None
        assert placed.order.client_order_id == "x1" and placed.order.order_id == 1
        # ccxt's unified cancel by client id sends a literal uuid=None (reference §0.7)
        with pytest.raises(ccxt.BaseError):
            await adapter._client.cancel_order(None, "BTC/KRW", {"identifier": "x1"})
        method, path, sent = fake.requests[-1]
        assert (method, path, sent.get("uuid")) == ("DELETE", "/v1/order", "None")
        outcome = await adapter.cancel(
            CancelOrder(order_id=1, client_order_id="x1", symbol="BTC/KRW")
        )
        assert isinstance(outcome, Acknowledged)
        method, path, sent = fake.requests[-1]
        assert (method, path, sent) == ("DELETE", "/v1/order", {"identifier": "x1"})
        found = await adapter.order("BTC/KRW", client_order_id="x1")
        assert found is not None and found.state is VenueOrderState.CANCELED

    _run(main)


def test_an_identifier_is_never_reusable_so_a_second_place_is_unknown_not_a_new_order() -> None:
    async def main(fake: FakeUpbit, adapter: UpbitAdapter) -> None:
        assert isinstance(await adapter.place(_buy("x2")), Acknowledged)
        await adapter.cancel(CancelOrder(order_id=2, client_order_id="x2", symbol="BTC/KRW"))
        again = await adapter.place(_buy("x2"))
        assert not isinstance(again, Acknowledged | Refused), again  # Unknown(DUPLICATE)
        assert again.reason == "DUPLICATE"
        assert len(fake.venue.orders) == 1

    _run(main)


# ---------------------------------------------------------------- fills from the order
def test_fills_are_the_trades_of_each_order_with_fees_summing_to_paid_fee() -> None:
    async def main(fake: FakeUpbit, adapter: UpbitAdapter) -> None:
        await adapter.place(_buy("x3", qty="0.03"))
        order = next(iter(fake.venue.orders.values()))
        for part, px in ((D("0.01"), D("49000000")), (D("0.007"), D("49500000"))):
            fake.venue.fill(order, part, px)
        with pytest.raises(ccxt.NotSupported):  # no account-fills endpoint at Upbit
            await adapter._client.fetch_my_trades("BTC/KRW")
        fills = await adapter.fills(0)
        assert [(f.qty, f.px) for f in fills] == [
            (D("0.01"), D("49000000")),
            (D("0.007"), D("49500000")),
        ]
        assert {f.trade_id for f in fills} == {t.uuid for t in order.trades}
        assert sum(f.fee for f in fills) == order.paid_fee and fills[0].fee_asset == "KRW"
        assert all(f.order_id == 3 and f.client_order_id == "x3" for f in fills)
        paths = [path for _, path, _ in fake.requests]
        assert "/v1/orders/closed" in paths and "/v1/order" in paths

    _run(main)


# ---------------------------------------------------------------- cancel after a partial fill
def test_a_cancel_state_with_executed_volume_is_a_partial_fill_then_cancel() -> None:
    raw = {
        "uuid": "u-1",
        "side": "bid",
        "ord_type": "limit",
        "price": "50000000",
        "state": "cancel",
        "market": "KRW-BTC",
        "created_at": "2026-12-07T10:00:00+09:00",
        "volume": "0.01",
        "remaining_volume": "0.006",
        "executed_volume": "0.004",
        "executed_funds": "200000",
        "paid_fee": "100",
        "identifier": "x7",
        "trades": [
            {
                "uuid": "t-1",
                "price": "50000000",
                "volume": "0.004",
                "funds": "200000",
                "created_at": "2026-12-07T10:00:01+09:00",
                "side": "bid",
            },
        ],
    }
    ctx = p.Context("upbit", "a", lambda cid: 7)
    order = p.parse_order(raw, ctx)
    assert (order.state, order.cum_qty, order.qty) == (
        VenueOrderState.CANCELED,
        D("0.004"),
        D("0.01"),
    )
    assert order.venue_status == "cancel" and order.leaves_qty == 0
    (fill,) = p.parse_order_trades(raw, order)
    assert (fill.trade_id, fill.qty, fill.fee) == ("t-1", D("0.004"), D("100"))

    async def main(fake: FakeUpbit, adapter: UpbitAdapter) -> None:
        await adapter.place(_buy("x8"))
        venue_order = next(iter(fake.venue.orders.values()))
        fake.venue.fill(venue_order, D("0.004"))
        await adapter.cancel(CancelOrder(order_id=8, client_order_id="x8", symbol="BTC/KRW"))
        found = await adapter.order("BTC/KRW", client_order_id="x8")
        assert found is not None and found.venue_status == "cancel"
        assert (found.state, found.cum_qty) == (VenueOrderState.CANCELED, D("0.004"))
        assert [f.qty for f in await adapter.fills(0)] == [D("0.004")]

    _run(main)


# ---------------------------------------------------------------- Remaining-Req
def test_the_remaining_req_header_feeds_the_limiter() -> None:
    assert parse_remaining_req("group=default; min=1800; sec=29") == ("default", 1800, 29)
    assert (
        limiter_headers({"Remaining-Req": "group=order; min=1800; sec=3"})["x-upbit-used-order-1s"]
        == "5"
    )
    clock = [1000.0]
    limiter = RateLimiter("upbit", upbit(), now=lambda: clock[0])
    limiter.on_response(
        "a", 200, limiter_headers({"Remaining-Req": "group=default; min=1800; sec=2"})
    )
    assert limiter.budget("a")["default_1s"] == 2
    clock[0] = 1001.0  # the next second: the whole budget again
    assert limiter.budget("a")["default_1s"] == 30

    async def main(fake: FakeUpbit, adapter: UpbitAdapter) -> None:
        seen: list[dict[str, str]] = []
        adapter.on_response = lambda status, headers: seen.append(dict(headers))
        await adapter.balances()
        used = int(seen[-1]["x-upbit-used-default-1s"])
        assert 1 <= used <= 30 and seen[-1]["Remaining-Req"].startswith("group=default; min=1800")
        await adapter.place(_buy("x9"))
        assert seen[-1]["Remaining-Req"].startswith("group=order")

    _run(main)


# ---------------------------------------------------------------- KRW price units
@pytest.mark.parametrize(
    ("price", "tick"),
    [
        ("150000000", "1000"),  # BTC
        ("2000000", "1000"),
        ("1999500", "500"),
        ("999900", "100"),
        ("499950", "50"),
        ("99990", "10"),
        ("9999", "1"),
        ("500", "1"),  # back to 1 KRW from 2024-10-01
        ("99.99", "0.01"),
        ("9.999", "0.001"),
        ("0.5", "0.0001"),
    ],
)
def test_the_krw_tick_follows_the_price_band(price: str, tick: str) -> None:
    assert krw_tick(D(price)) == D(tick) and on_tick(D(price))


def test_the_tick_table_is_ordered_data_and_rounding_is_never_more_aggressive() -> None:
    bounds = [lower for lower, _ in KRW_PRICE_UNITS]
    assert bounds == sorted(bounds, reverse=True) and bounds[-1] == 0
    assert round_to_tick(D("50000500"), down=True) == D("50000000")
    assert round_to_tick(D("50000500"), down=False) == D("50001000")


def test_an_off_tick_price_is_refused_before_sending() -> None:
    async def main(fake: FakeUpbit, adapter: UpbitAdapter) -> None:
        outcome = await adapter.place(_buy("x10", price="50000500"))
        assert isinstance(outcome, Refused) and outcome.reason == "FILTER_PRICE_UNIT"
        assert "1000" in outcome.message
        assert not [r for r in fake.requests if r[1] == "/v1/orders"]  # nothing was sent

    _run(main)


def test_the_fake_refuses_an_off_tick_price_with_upbits_error_name() -> None:
    async def main(fake: FakeUpbit, adapter: UpbitAdapter) -> None:
        body = {
            "market": "KRW-BTC",
            "side": "bid",
            "ord_type": "limit",
            "price": "50000500",
            "volume": "0.01",
        }
        with pytest.raises(Exception) as refused:
            await adapter._client.privatePostOrders(body)
        assert getattr(refused.value, "name", "") == "invalid_price_bid"

    _run(main)


# ---------------------------------------------------------------- the JWT, checked for real
def _token(payload: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def test_the_fake_checks_the_jwt_signature_nonce_and_query_hash() -> None:
    async def main(fake: FakeUpbit, adapter: UpbitAdapter) -> None:
        query = "identifier=x1"
        good_hash = hashlib.sha512(query.encode()).hexdigest()

        async def get(token: str) -> tuple[int, str]:
            async with (
                aiohttp.ClientSession() as s,
                s.get(
                    f"{fake.http}/v1/order?{query}", headers={"Authorization": f"Bearer {token}"}
                ) as r,
            ):
                return r.status, (await r.json())["error"]["name"]

        nonce = str(uuid.uuid4())
        base = {"access_key": KEY, "nonce": nonce, "query_hash_alg": "SHA512"}
        assert await get(_token({**base, "query_hash": good_hash}, "w" * 40)) == (
            401,
            "jwt_verification",
        )
        assert await get(_token({**base, "query_hash": "0" * 128})) == (
            401,
            "invalid_query_payload",
        )
        ok = _token({**base, "nonce": str(uuid.uuid4()), "query_hash": good_hash})
        assert await get(ok) == (404, "order_not_found")  # authenticated; no such order
        assert await get(ok) == (401, "nonce_used")  # the same nonce twice
        other = {**base, "access_key": "nobody", "query_hash": good_hash}
        assert await get(_token(other)) == (401, "invalid_access_key")

    _run(main)


# ---------------------------------------------------------------- amend
def test_amend_is_refused_as_not_supported() -> None:
    from atlas_oms.model.venue import AmendOrder

    async def main(fake: FakeUpbit, adapter: UpbitAdapter) -> None:
        outcome = await adapter.amend(
            AmendOrder(
                order_id=1,
                client_order_id="x1",
                symbol="BTC/KRW",
                side=Side.BUY,
                qty=D("0.005"),
                leaves_qty=D("0.005"),
            )
        )
        assert isinstance(outcome, Refused) and outcome.reason == "MODIFY_NOT_SUPPORTED"

    _run(main)


def test_a_market_buy_by_quantity_without_a_price_is_refused() -> None:
    async def main(fake: FakeUpbit, adapter: UpbitAdapter) -> None:
        order = PlaceOrder(
            order_id=11, client_order_id="x11", symbol="BTC/KRW", side=Side.BUY, qty=D("0.01")
        )
        outcome = await adapter.place(order)
        assert isinstance(outcome, Refused) and outcome.reason == "UNSUPPORTED_ORDER"

    _run(main)


def test_the_fake_and_the_adapter_use_the_same_published_tick_table() -> None:
    from atlas_oms.fakes.upbit import ticks as fake_ticks

    assert fake_ticks.KRW_PRICE_UNITS == KRW_PRICE_UNITS
