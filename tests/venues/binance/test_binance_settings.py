"""USDⓈ-M account settings through the adapter against the fake Binance (real ccxt client, real
sockets and signatures): leverage and margin type set and read back (symbolConfig), the venue's
refusals with its own codes, ``-4046`` taken for success, and an unanswered change as unknown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import atlas_oms.fakes.binance as fake_pkg
from atlas_oms.fakes.binance import AccountConfig, FakeBinance
from atlas_oms.model.venue import Acknowledged, Refused, Unknown
from atlas_oms.venues.binance import BinanceEndpoints, BinanceUsdmAdapter

D = Decimal
KEY = "settingskey0000000000000000000000000000000000000000000000000001"
SECRET = "settingssecret00000000000000000000000000000000000000000000000001"
BTC = "BTC/USDT:USDT"
FIXTURES = Path(fake_pkg.__file__).parent / "fixtures"


@asynccontextmanager
async def world(timeout_ms: int = 1500) -> AsyncIterator[tuple[FakeBinance, BinanceUsdmAdapter]]:
    fake = FakeBinance(
        [AccountConfig(name="alice", api_key=KEY, secret=SECRET, futures={"USDT": D("100000")})]
    )
    await fake.start()
    adapter = BinanceUsdmAdapter(
        account_id="A",
        api_key=KEY,
        secret=SECRET,
        decode_client_id=lambda cid: None,
        endpoints=BinanceEndpoints(fake.http, f"{fake.ws}/fstream/ws"),
        timeout_ms=timeout_ms,
    )
    try:
        await adapter.start()
        yield fake, adapter
    finally:
        await adapter.close()
        await fake.stop()


def run(main: Callable[[], Awaitable[None]], timeout: float = 10) -> None:
    asyncio.run(asyncio.wait_for(main(), timeout))


def test_leverage_and_margin_type_are_set_and_read_back_from_symbol_config() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            start = await adapter.account_settings()
            # the fake's defaults, as a fresh Binance account: 20x, cross
            assert (start.leverage[BTC], start.margin_mode[BTC]) == (D(20), "cross")
            assert isinstance(await adapter.set_leverage(BTC, D(7)), Acknowledged)
            assert isinstance(await adapter.set_margin_mode(BTC, "ISOLATED"), Acknowledged)
            assert fake.venue.accounts["alice"].leverage["BTCUSDT"] == 7
            assert fake.venue.accounts["alice"].margin_type["BTCUSDT"] == "isolated"
            one = await adapter.symbol_settings(BTC)
            assert (one.leverage, one.margin_mode) == ({BTC: D(7)}, {BTC: "isolated"})
            every = await adapter.account_settings()
            assert (every.leverage[BTC], every.margin_mode[BTC]) == (D(7), "isolated")
            assert every.leverage["ETH/USDT:USDT"] == D(20)
            assert adapter.settings.leverage[BTC] == D(7)

    run(main)


def test_margin_type_already_set_is_success_not_a_refusal() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            # Binance answers -4046 "No need to change margin type."
            assert isinstance(await adapter.set_margin_mode(BTC, "CROSS"), Acknowledged)
            assert isinstance(await adapter.set_margin_mode(BTC, "isolated"), Acknowledged)
            assert isinstance(await adapter.set_margin_mode(BTC, "ISOLATED"), Acknowledged)
            assert fake.venue.accounts["alice"].margin_type["BTCUSDT"] == "isolated"

    run(main)


def test_leverage_refusals_carry_the_venues_code_and_message() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            fractional = await adapter.set_leverage(BTC, D("2.5"))
            assert isinstance(fractional, Refused)
            assert (fractional.reason, fractional.code) == ("INVALID_REQUEST", "")  # not sent
            too_high = await adapter.set_leverage(BTC, D(126))
            assert isinstance(too_high, Refused)
            assert (too_high.reason, too_high.code) == ("INVALID_LEVERAGE", "-4028")
            assert "126" in too_high.message
            # a 1 BTC position at 60000 is above the 125x bracket's cap (50000 USDT)
            fake.venue.seed_old_position("alice", "BTCUSDT", "1", "60000", age_ms=1000)
            capped = await adapter.set_leverage(BTC, D(125))
            assert isinstance(capped, Refused)
            assert (capped.reason, capped.code) == ("MAX_POSITION_AT_LEVERAGE", "-2027")
            assert capped.message == "Exceeded the maximum allowable position at current leverage."
            assert fake.venue.accounts["alice"].leverage.get("BTCUSDT") is None
            assert isinstance(await adapter.set_leverage(BTC, D(100)), Acknowledged)

    run(main)


def test_margin_type_cannot_change_with_a_position_or_open_orders() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            fake.venue.place_external(
                "usdm",
                "alice",
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "price": "50000",
                    "quantity": "0.01",
                },
            )
            with_order = await adapter.set_margin_mode(BTC, "ISOLATED")
            assert isinstance(with_order, Refused)
            assert (with_order.reason, with_order.code) == ("MARGIN_TYPE_LOCKED", "-4047")
            fake.venue.seed_old_position("alice", "ETHUSDT", "1", "3000", age_ms=1000)
            with_position = await adapter.set_margin_mode("ETH/USDT:USDT", "ISOLATED")
            assert isinstance(with_position, Refused)
            assert (with_position.reason, with_position.code) == ("MARGIN_TYPE_LOCKED", "-4048")
            assert fake.venue.accounts["alice"].margin_type == {}

    run(main)


def test_an_unanswered_change_is_unknown_and_the_query_tells_what_the_venue_has() -> None:
    async def main() -> None:
        async with world(timeout_ms=300) as (fake, adapter):
            fake.faults.delay_s = 0.6
            fake.faults.delay_settings = 1  # committed, the answer comes too late
            landed = await adapter.set_leverage(BTC, D(9))
            assert isinstance(landed, Unknown) and landed.reason == "TIMEOUT", landed
            assert (await adapter.symbol_settings(BTC)).leverage == {BTC: D(9)}
            fake.faults.lose_settings = 1  # never committed
            lost = await adapter.set_margin_mode(BTC, "ISOLATED")
            assert isinstance(lost, Unknown), lost
            assert (await adapter.symbol_settings(BTC)).margin_mode == {BTC: "cross"}

    run(main, timeout=15)


def _same_keys(doc: Any, ours: Any) -> bool:
    if isinstance(doc, list):
        return isinstance(ours, list) and bool(ours) and _same_keys(doc[0], ours[0])
    return isinstance(ours, dict) and set(doc) == set(ours)


def test_the_fakes_settings_answers_have_the_documented_keys() -> None:
    async def main() -> None:
        async with world() as (_fake, adapter):
            client: Any = adapter._client
            got = {
                "usdm_symbol_config": await client.fapiPrivateGetSymbolConfig({}),
                "usdm_change_leverage": await client.fapiPrivatePostLeverage(
                    {"symbol": "BTCUSDT", "leverage": 5}
                ),
                "usdm_change_margin_type": await client.fapiPrivatePostMarginType(
                    {"symbol": "BTCUSDT", "marginType": "ISOLATED"}
                ),
            }
            for name, answer in got.items():
                doc = json.loads((FIXTURES / f"{name}.json").read_text())
                assert doc["_source"].startswith("https://developers.binance.com/"), name
                assert _same_keys(doc["body"], answer), (name, answer)
            assert isinstance(got["usdm_symbol_config"][0]["leverage"], int)

    run(main)
