"""Alpaca market data (``data.alpaca.markets``, here the fake) through the real alpaca-py
``StockHistoricalDataClient``; and the trading API's rate-limit headers through the gateway's
limiter."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx

from atlas_oms.fakes.alpaca import Account, Asset, FakeAlpaca, Limits
from atlas_oms.fakes.alpaca.venue import HouseQuote
from atlas_oms.model.enums import Side
from atlas_oms.model.venue import Acknowledged, PlaceOrder, PriceTick
from atlas_oms.runtime.gateway.ratelimit import Limits as GatewayLimits
from atlas_oms.runtime.gateway.ratelimit import default_specs
from atlas_oms.venues.alpaca import AlpacaAdapter

D = Decimal
KEY, SECRET = "PKPRICES000000000001", "pricessecret00000000000000000000000001"
#: More digits than a float holds: read as a float it would come back 150.
LAST = D("150.00000000000000001")


def run(
    body: Callable[[FakeAlpaca, AlpacaAdapter], Awaitable[Any]],
    *,
    key: str = KEY,
    limits: Limits | None = None,
) -> Any:
    async def main() -> Any:
        fake = FakeAlpaca(
            [Account(name="a", api_key=KEY, secret=SECRET, cash=D("100000"))],
            [Asset("AAPL", "Apple Inc."), Asset("MSFT", "Microsoft")],
            last_price=LAST,
            limits=limits,
        )
        await fake.start()
        fake.venue.house["AAPL"] = [
            HouseQuote("sell", D(300), D("150.05")),
            HouseQuote("sell", D(100), D("150.07")),
            HouseQuote("buy", D(200), D("149.95")),
        ]
        adapter = AlpacaAdapter(
            account_id="a",
            api_key=key,
            secret=SECRET,
            decode_client_id=lambda cid: None,
            base_url=fake.http,
            stream_url=fake.stream_url,
            data_url=fake.http,
            timeout_ms=500,
            session=None,
        )
        adapter.price_poll_s = 0.05
        try:
            return await body(fake, adapter)
        finally:
            await adapter.close()
            await fake.stop()

    return asyncio.run(asyncio.wait_for(main(), 20))


async def first_ticks(adapter: AlpacaAdapter, symbols: list[str], n: int) -> list[PriceTick]:
    out: list[PriceTick] = []
    gen = adapter.prices(symbols)
    try:
        async for tick in gen:
            out.append(tick)
            if len(out) >= n:
                return out
    finally:
        await gen.aclose()  # type: ignore[attr-defined]
    return out


def test_prices_yield_best_bid_ask_and_last_of_aapl_exactly() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        aapl, msft = await first_ticks(adapter, ["AAPL", "MSFT"], 2)
        assert aapl.symbol == "AAPL"
        assert (aapl.bid, aapl.bid_qty) == (D("149.95"), D(200))
        assert (aapl.ask, aapl.ask_qty) == (D("150.05"), D(300))
        assert str(aapl.last) == str(LAST)  # never through a float
        assert aapl.ts > 0
        # no house quotes on MSFT: no bid/ask (0 on the wire), the last price only
        assert (msft.symbol, msft.bid, msft.ask, msft.last) == ("MSFT", None, None, LAST)

    run(body)


def test_the_last_price_follows_executions() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        order = PlaceOrder(
            order_id=1,
            client_order_id="atp1",
            symbol="AAPL",
            side=Side.BUY,
            qty=D(5),
            price=D("150.06"),
        )
        assert isinstance(await adapter.place(order), Acknowledged)
        (tick,) = await first_ticks(adapter, ["AAPL"], 1)
        assert tick.last == D("150.05")  # took the house's best ask
        assert tick.ask_qty == D(200)  # 295 shares: 2 round lots on the wire

    run(body)


def test_a_trades_size_rides_on_the_first_tick_that_sees_it_only() -> None:
    """``last_qty`` = the latest trade's size in shares (``s``), once per trade (``i``): the
    next polls repeat that trade and carry no volume (the rolling VWAP counts it once)."""

    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        order = PlaceOrder(
            order_id=1,
            client_order_id="atp1",
            symbol="AAPL",
            side=Side.BUY,
            qty=D(5),
            price=D("150.06"),
        )
        assert isinstance(await adapter.place(order), Acknowledged)
        ticks = await first_ticks(adapter, ["AAPL"], 3)
        assert [t.last for t in ticks] == [D("150.05")] * 3
        assert [t.last_qty for t in ticks] == [D(5), None, None]

    run(body)


def test_the_fake_sends_market_data_numbers_as_alpaca_does() -> None:
    """Alpaca's data API sends prices as JSON numbers (not strings, unlike the trading API)."""

    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
        async with httpx.AsyncClient(base_url=fake.http, headers=headers) as http:
            snaps = await http.get("/v2/stocks/snapshots", params={"symbols": "AAPL,NOPE"})
            trade = await http.get("/v2/stocks/AAPL/trades/latest")
            quote = await http.get("/v2/stocks/AAPL/quotes/latest")
        async with httpx.AsyncClient(base_url=fake.http) as http:
            anonymous = await http.get("/v2/stocks/AAPL/quotes/latest")
        assert '"p":150.00000000000000001' in snaps.text
        body_ = json.loads(snaps.text, parse_float=D)
        assert list(body_) == ["AAPL"]
        assert body_["AAPL"]["latestQuote"]["bp"] == D("149.95")
        assert json.loads(trade.text, parse_float=D)["trade"]["p"] == LAST
        assert json.loads(quote.text, parse_float=D)["quote"]["ap"] == D("150.05")
        assert anonymous.status_code == 401
        assert "x-ratelimit-remaining" in snaps.headers

    run(body)


def test_wrong_keys_yield_no_prices_and_the_poll_goes_on() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        with_wrong_key = first_ticks(adapter, ["AAPL"], 1)
        try:
            await asyncio.wait_for(with_wrong_key, 0.3)
        except TimeoutError:
            return
        raise AssertionError("a tick came with a wrong key")

    run(body, key="PKWRONG0000000000001")


def test_a_429_from_the_data_api_waits_for_its_reset_and_spares_the_trading_budget() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        heard: list[int] = []

        async def before_request(weight: int, is_order: bool) -> None:
            heard.append(0)

        adapter.before_request = before_request
        adapter.on_response = lambda status, headers: heard.append(status)
        assert len(await first_ticks(adapter, ["AAPL"], 2)) == 2  # two polls: the data budget
        started = time.monotonic()
        gen = adapter.prices(["AAPL"])
        waiting = asyncio.ensure_future(gen.__anext__())
        await asyncio.sleep(0.5)
        assert not waiting.done()  # a 429: the poll waits for its reset (>= 1 s), not 0.05 s
        tick = await asyncio.wait_for(waiting, 5)
        await gen.aclose()  # type: ignore[attr-defined]
        assert tick.last == LAST and time.monotonic() - started >= 0.9
        assert fake.throttled
        # the data API meters apart: the trading API's limiter heard nothing of the polls
        assert heard == []

    run(body, limits=Limits(requests_per_window=2, window_s=1.0))


def test_the_gateway_budget_follows_the_fakes_rate_limit_headers() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        limits = GatewayLimits(default_specs())
        adapter.before_request, adapter.on_response = limits.bind("alpaca", "a")
        await adapter.balances()  # GET /v2/account and /v2/positions
        assert limits.scope("alpaca").budget("a") == {"requests_1m": 3}  # X-RateLimit-Limit 5
        await adapter.balances()  # the 5th request is answered with remaining 0 ...
        scope = limits.scope("alpaca")
        assert scope.budget("a") == {"requests_1m": 1}
        started = time.monotonic()
        await adapter.balances()
        # ... the 6th waited for X-RateLimit-Reset instead of drawing a 429
        assert not fake.throttled
        assert time.monotonic() - started >= 0.5 and scope.waits >= 1

    run(body, limits=Limits(requests_per_window=5, window_s=2.0))
