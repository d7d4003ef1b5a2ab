"""Public market data of the venues that had none (Bybit spot and linear from
``/v5/market/tickers``, Upbit from ``/v1/ticker``), read without a key, and
``venue_setup.public_adapter`` building every venue that has public data (and refusing, with a
sentence, the one that has not)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.fakes.bybit import AccountConfig, FakeBybit
from atlas_oms.fakes.okx import Account as OkxAccount
from atlas_oms.fakes.okx import FakeOkx
from atlas_oms.fakes.upbit import Account as UpbitAccount
from atlas_oms.fakes.upbit import FakeUpbit
from atlas_oms.model.venue import PriceTick
from atlas_oms.runtime.venue_setup import VENUES, public_adapter

D = Decimal


async def first_ticks(adapter: Any, symbols: list[str], n: int = 1) -> list[PriceTick]:
    adapter.price_poll_s = 0.05
    got: list[PriceTick] = []
    gen = adapter.prices(symbols)
    try:
        async with asyncio.timeout(10):
            async for tick in gen:
                got.append(tick)
                if len(got) >= n:
                    break
    finally:
        await gen.aclose()
    return got


def test_bybit_spot_and_linear_ticks_carry_the_book_last_and_mark_without_a_key() -> None:
    async def main() -> None:
        fake = FakeBybit([AccountConfig(name="a", api_key="k" * 20, secret="s" * 30)])
        await fake.start()
        for category in ("spot", "linear"):
            fake.venue.house_quote(category, "BTCUSDT", "Buy", D("59990"), D("2"))
            fake.venue.house_quote(category, "BTCUSDT", "Sell", D("60010"), D("3"))
        spot = public_adapter("bybit", rest_url=fake.http)
        linear = public_adapter("bybitlinear", rest_url=fake.http)
        try:
            listed = {vi.instrument.symbol for vi in await spot.instruments()}
            assert "BTC/USDT" in listed
            (tick,) = await first_ticks(spot, ["BTC/USDT"])
            assert (tick.symbol, tick.bid, tick.ask) == ("BTC/USDT", D("59990"), D("60010"))
            assert (tick.bid_qty, tick.ask_qty) == (D("2"), D("3"))
            assert tick.last == D("60000")  # no trade yet: the mid
            (tick,) = await first_ticks(linear, ["BTC/USDT:USDT"])
            assert tick.symbol == "BTC/USDT:USDT"
            assert tick.mark == D("60000") and tick.bid == D("59990")
        finally:
            await spot.close()
            await linear.close()
            await fake.stop()

    asyncio.run(main())


def test_upbit_ticks_carry_the_last_trade_price_of_krw_markets_without_a_key() -> None:
    async def main() -> None:
        acct = UpbitAccount(
            name="a", access_key="k" * 20, secret="s" * 30, balances={"KRW": [D(10**9), D(0)]}
        )
        fake = FakeUpbit([acct])
        await fake.start()
        fake.venue.house[("KRW-BTC", "ask", D("90000000"))] = D("1")
        fake.venue.house[("KRW-BTC", "bid", D("89000000"))] = D("1")
        adapter = public_adapter("upbit", rest_url=fake.http)
        try:
            (tick,) = await first_ticks(adapter, ["BTC/KRW"])
            assert (tick.symbol, tick.last) == ("BTC/KRW", D("89500000"))
            # A trade: the ticker's trade_price follows it.
            order = fake.venue.place(
                acct,
                {
                    "market": "KRW-BTC",
                    "side": "bid",
                    "ord_type": "limit",
                    "price": "90000000",
                    "volume": "0.01",
                },
            )
            assert order.executed == D("0.01")
            (tick,) = await first_ticks(adapter, ["BTC/KRW"])
            assert tick.last == D("90000000")
        finally:
            await adapter.close()
            await fake.stop()

    asyncio.run(main())


def test_okx_public_adapter_lists_its_instruments_without_a_key_or_passphrase() -> None:
    async def main() -> None:
        fake = FakeOkx([OkxAccount(name="a", api_key="k", secret="s", passphrase="p")])
        await fake.start()
        adapter = public_adapter("okx", rest_url=fake.http)
        try:
            listed = {vi.instrument.symbol for vi in await adapter.instruments()}
            assert {"BTC/USDT", "BTC/USDT:USDT"} <= listed
        finally:
            await adapter.close()
            await fake.stop()

    asyncio.run(main())


def test_public_adapter_builds_every_venue_with_public_data_and_refuses_alpaca() -> None:
    for venue in VENUES:
        if venue == "alpaca":
            with pytest.raises(ValueError, match="no public market data for alpaca"):
                public_adapter(venue)
            continue
        adapter = public_adapter(venue, rest_url="http://127.0.0.1:9")
        assert adapter.venue == venue
    with pytest.raises(ValueError, match="no adapter for venue 'kraken'"):
        public_adapter("kraken")
