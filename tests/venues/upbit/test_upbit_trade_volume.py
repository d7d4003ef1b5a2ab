"""Upbit's polled ``/v1/ticker`` carries the last trade's ``trade_volume``: a tick carries it as
``last_qty`` (exact, base units) the first time that trade is seen, never again on the next
polls (the rolling VWAP counts each trade once)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from atlas_oms.fakes.upbit import Account, FakeUpbit
from atlas_oms.model.venue import PriceTick
from atlas_oms.runtime.venue_setup import public_adapter
from atlas_oms.venues.upbit import parse as p

D = Decimal


def test_a_ticker_row_counts_its_trade_once() -> None:
    seen: dict = {}
    row = {"market": "KRW-BTC", "trade_price": 90000000.0, "trade_volume": 0.0123,
           "trade_timestamp": 1700000000000, "timestamp": 1700000000100}  # fmt: skip
    first = p.parse_ticker(row, "BTC/KRW", 5, seen)
    assert (first.last, first.last_qty, first.ts) == (
        D("90000000.0"),
        D("0.0123"),
        1700000000100 * 10**6,
    )
    assert p.parse_ticker({**row, "timestamp": 1700000000200}, "BTC/KRW", 5, seen).last_qty is None
    later = p.parse_ticker({**row, "trade_timestamp": 1700000000300}, "BTC/KRW", 5, seen)
    assert later.last_qty == D("0.0123")  # the same size again, but a later trade
    no_volume = p.parse_ticker({"trade_price": 1.0}, "X/KRW", 7, {})
    assert no_volume.last_qty is None and no_volume.ts == 7


def test_the_adapters_ticks_carry_a_trades_volume_once_over_the_wire() -> None:
    async def main() -> None:
        acct = Account(
            name="a", access_key="k" * 20, secret="s" * 30, balances={"KRW": [D(10**9), D(0)]}
        )
        fake = FakeUpbit([acct])
        await fake.start()
        fake.venue.house[("KRW-BTC", "ask", D("90000000"))] = D("1")
        adapter = public_adapter("upbit", rest_url=fake.http)
        adapter.price_poll_s = 0.02
        order = {"market": "KRW-BTC", "side": "bid", "ord_type": "limit",
                 "price": "90000000", "volume": "0.0123"}  # fmt: skip
        assert fake.venue.place(acct, order).executed == D("0.0123")
        got: list[PriceTick] = []
        gen = adapter.prices(["BTC/KRW"])
        try:
            async with asyncio.timeout(10):
                async for tick in gen:
                    got.append(tick)
                    if len(got) >= 3:
                        break
        finally:
            await gen.aclose()
            await adapter.close()
            await fake.stop()
        assert [t.last for t in got] == [D("90000000")] * 3
        assert [t.last_qty for t in got] == [D("0.0123"), None, None]

    asyncio.run(main())
