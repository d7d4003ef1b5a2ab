"""The ``trade_updates`` stream through alpaca-py's ``TradingStream``: key authentication,
binary JSON frames (as the paper stream sends), fills, gaps on reconnection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

from atlas_oms.fakes.alpaca import Account, FakeAlpaca
from atlas_oms.model.enums import Side, TimeInForce
from atlas_oms.model.venue import OrderUpdate, PlaceOrder, StreamGap, VenueFact, VenueOrderState
from atlas_oms.venues.alpaca import AlpacaAdapter

D = Decimal
KEY, SECRET = "PKSTREAM000000000001", "streamsecret00000000000000000000000001"
PREFIX = "atk3f9q2x"


def adapter_for(fake: FakeAlpaca, secret: str = SECRET) -> AlpacaAdapter:
    return AlpacaAdapter(
        account_id="a",
        api_key=KEY,
        secret=secret,
        decode_client_id=lambda c: int(c[len(PREFIX) :]) if c.startswith(PREFIX) else None,
        base_url=fake.http,
        stream_url=fake.stream_url,
        timeout_ms=500,
        reconnect_min_s=0.05,
        reconnect_max_s=0.1,
        session=None,
    )


async def next_fact(facts: AsyncIterator[VenueFact], timeout: float = 2.0) -> VenueFact:
    return await asyncio.wait_for(anext(facts), timeout)


def test_trade_updates_arrive_as_order_updates_with_their_fills() -> None:
    async def main() -> None:
        fake = FakeAlpaca([Account(name="a", api_key=KEY, secret=SECRET, cash=D("100000"))])
        await fake.start()
        adapter = adapter_for(fake)
        facts = adapter.facts()
        try:
            started = await next_fact(facts)
            assert isinstance(started, StreamGap) and started.reason == "STARTED"
            await adapter.place(
                PlaceOrder(
                    order_id=3,
                    client_order_id=f"{PREFIX}3",
                    symbol="AAPL",
                    side=Side.BUY,
                    qty=D("10"),
                    price=D("150"),
                    tif=TimeInForce.DAY,
                )
            )
            new = await next_fact(facts)
            assert isinstance(new, OrderUpdate) and new.exec_type == "NEW"
            assert new.order.order_id == 3 and new.fill is None
            (order,) = fake.venue.orders.values()
            fake.venue.fill(order, D("4"), D("149.5"))
            part = await next_fact(facts)
            assert isinstance(part, OrderUpdate) and part.fill is not None
            assert part.order.state is VenueOrderState.PARTIALLY_FILLED
            assert (part.fill.qty, part.fill.px, part.order.cum_qty) == (D(4), D("149.5"), D(4))
            # the same execution from the fills query is the same trade
            (row,) = await adapter.fills(0)
            assert row.trade_id == part.fill.trade_id and row.order_id == 3
        finally:
            await facts.aclose()
            await adapter.close()
            await fake.stop()

    asyncio.run(asyncio.wait_for(main(), 15))


def test_a_dropped_stream_is_a_gap_then_a_new_subscription() -> None:
    async def main() -> None:
        fake = FakeAlpaca([Account(name="a", api_key=KEY, secret=SECRET, cash=D("100000"))])
        await fake.start()
        adapter = adapter_for(fake)
        facts = adapter.facts()
        try:
            assert isinstance(await next_fact(facts), StreamGap)
            fake.drop_streams()
            lost = await next_fact(facts)
            assert isinstance(lost, StreamGap) and lost.reason == "DISCONNECTED"
            again = await next_fact(facts)
            assert isinstance(again, StreamGap) and again.reason == "STARTED"
        finally:
            await facts.aclose()
            await adapter.close()
            await fake.stop()

    asyncio.run(asyncio.wait_for(main(), 15))


def test_wrong_keys_never_subscribe() -> None:
    async def main() -> None:
        fake = FakeAlpaca([Account(name="a", api_key=KEY, secret=SECRET, cash=D("100000"))])
        await fake.start()
        adapter = adapter_for(fake, secret="wrong")
        facts = adapter.facts()
        try:
            try:
                fact = await next_fact(facts, 0.5)
            except TimeoutError:
                fact = None
            assert fact is None  # no STARTED: never authorized
            assert not any(c.listening for c in fake._conns)
        finally:
            await facts.aclose()
            await adapter.close()
            await fake.stop()

    asyncio.run(asyncio.wait_for(main(), 15))
