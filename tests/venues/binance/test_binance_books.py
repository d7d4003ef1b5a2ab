"""Binance order books (issue 16): the fake's ``/api/v3/depth``, ``/fapi/v1/depth`` and depth
streams as Binance documents them, and the adapters' ``books()`` over real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from books_helpers import run_books, until

from atlas_oms.core.ports import VenueBooks
from atlas_oms.fakes.binance import AccountConfig, FakeBinance
from atlas_oms.model.route_book import BookLevel
from atlas_oms.venues.binance import BinanceEndpoints, BinanceSpotAdapter, BinanceUsdmAdapter
from atlas_oms.venues.binance.adapter import BinanceAdapter

D = Decimal
KEY = "bookskey000000000000000000000000000000000000000000000000000001"
SECRET = "bookssecret0000000000000000000000000000000000000000000000001"
WAIT = 10.0  # seconds for the book a test waits for
SYMBOLS = {"spot": "BTC/USDT", "usdm": "BTC/USDT:USDT"}


def _adapter(fake: FakeBinance, market: str) -> BinanceAdapter:
    cls: Any = BinanceSpotAdapter if market == "spot" else BinanceUsdmAdapter
    ws = f"{fake.ws}/ws" if market == "spot" else f"{fake.ws}/fstream/ws"
    adapter: BinanceAdapter = cls(
        account_id="a",
        api_key=KEY,
        secret=SECRET,
        decode_client_id=lambda c: None,
        endpoints=BinanceEndpoints(fake.http, ws, f"{fake.ws}/ws-api/v3"),
        timeout_ms=2000,
        heartbeat_s=5,
        reconnect_min_s=0.05,
        reconnect_max_s=0.2,
    )
    return adapter


def _run(market: str, body: Callable[[FakeBinance, BinanceAdapter], Awaitable[None]]) -> None:
    fake = FakeBinance(
        [AccountConfig("a", KEY, SECRET, spot={"USDT": D(100000)}, futures={"USDT": D(100000)})]
    )
    run_books(fake, lambda f: _adapter(f, market), body, start=False, timeout=20)


def _quote(fake: FakeBinance, market: str) -> None:
    for i in range(6):
        fake.venue.house_quote(market, "BTCUSDT", "BUY", D(49990) - 10 * i, D("0.5") + i)
        fake.venue.house_quote(market, "BTCUSDT", "SELL", D(50010) + 10 * i, D("0.25") + i)


# ---------------------------------------------------------------- the fake, on the wire


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_depth_rest_answers_the_top_levels_with_the_update_id(market: str) -> None:
    async def body(fake: FakeBinance, _: BinanceAdapter) -> None:
        _quote(fake, market)
        path = "/api/v3/depth" if market == "spot" else "/fapi/v1/depth"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{fake.http}{path}?symbol=BTCUSDT&limit=5") as r:
                assert r.status == 200
                doc = await r.json()
            async with http.get(f"{fake.http}{path}?symbol=NOPE") as r:
                assert (await r.json())["code"] == -1121
            if market == "usdm":
                async with http.get(f"{fake.http}{path}?symbol=BTCUSDT&limit=7") as r:
                    assert (await r.json())["code"] == -1130
        keys = (
            ["lastUpdateId", "bids", "asks"]
            if market == "spot"
            else ["lastUpdateId", "E", "T", "bids", "asks"]
        )
        assert list(doc) == keys
        assert doc["lastUpdateId"] == 13  # 12 changes after the first id
        assert len(doc["bids"]) == len(doc["asks"]) == 5
        if market == "spot":
            assert doc["bids"][0] == ["49990.00000000", "0.50000000"]
            assert doc["asks"][0] == ["50010.00000000", "0.25000000"]
        else:
            assert doc["bids"][0] == ["49990.00", "0.500"]
            assert doc["asks"][1] == ["50020.00", "1.250"]

    _run(market, body)


def test_futures_partial_depth_stream_payload_chains_pu_to_the_previous_u() -> None:
    async def body(fake: FakeBinance, _: BinanceAdapter) -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{fake.ws}/fstream/ws") as ws,
        ):
            await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@depth5@100ms"], "id": 1})
            assert (await ws.receive_json()) == {"result": None, "id": 1}
            fake.venue.house_quote("usdm", "BTCUSDT", "BUY", D(49990), D(1))
            fake.venue.house_quote("usdm", "BTCUSDT", "SELL", D(50010), D(2))
            first = await ws.receive_json(timeout=5)
            second = await ws.receive_json(timeout=5)
        assert list(first) == ["e", "E", "T", "s", "U", "u", "pu", "b", "a"]
        assert first["e"] == "depthUpdate" and first["s"] == "BTCUSDT"
        assert second["pu"] == first["u"] and second["U"] == second["u"] == first["u"] + 1
        assert second["b"] == [["49990.00", "1.000"]] and second["a"] == [["50010.00", "2.000"]]

    _run("usdm", body)


def test_spot_combined_stream_wraps_partial_depth_and_diff_depth() -> None:
    async def body(fake: FakeBinance, _: BinanceAdapter) -> None:
        async with aiohttp.ClientSession() as http:
            url = f"{fake.ws}/stream?streams=btcusdt@depth5@100ms/btcusdt@depth@100ms"
            async with http.ws_connect(url) as ws:
                await asyncio.sleep(0.05)
                fake.venue.house_quote("spot", "BTCUSDT", "BUY", D(49990), D(1))
                got = [await ws.receive_json(timeout=5) for _ in range(2)]
        by_stream = {m["stream"]: m["data"] for m in got}
        assert by_stream["btcusdt@depth5@100ms"] == {
            "lastUpdateId": 2,
            "bids": [["49990.00000000", "1.00000000"]],
            "asks": [],
        }
        diff = by_stream["btcusdt@depth@100ms"]
        assert list(diff) == ["e", "E", "s", "U", "u", "b", "a"]
        assert diff["U"] == diff["u"] == 2 and diff["b"] == [["49990.00000000", "1.00000000"]]

    _run("spot", body)


# ---------------------------------------------------------------- the adapter


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_books_start_with_the_snapshot_and_follow_rests_cancels_and_fills(market: str) -> None:
    async def body(fake: FakeBinance, adapter: BinanceAdapter) -> None:
        assert isinstance(adapter, VenueBooks)
        _quote(fake, market)
        await adapter.start()
        books = adapter.books([SYMBOLS[market]], 3).__aiter__()
        first = await until(books, lambda b: True, WAIT)
        assert first.venue == adapter.venue and first.symbol == SYMBOLS[market]
        assert first.update_id == 13
        assert first.bids == (
            BookLevel(D("49990"), D("0.5")),
            BookLevel(D("49980"), D("1.5")),
            BookLevel(D("49970"), D("2.5")),
        )
        assert [lv.price for lv in first.asks] == [D(50010), D(50020), D(50030)]
        # a resting order: its level at its price with its size
        order = fake.venue.house_quote(market, "BTCUSDT", "BUY", D("49995"), D("0.125"))
        rested = await until(books, lambda b: b.update_id > first.update_id, WAIT)
        assert rested.bids[0] == BookLevel(D("49995"), D("0.125"))
        assert len(rested.bids) == 3
        if market == "usdm":
            assert rested.ts // 1_000_000 >= fake.venue.now_ms() - 5000
        # canceled: gone
        fake.venue.cancel(order)
        gone = await until(books, lambda b: b.update_id > rested.update_id, WAIT)
        assert gone.bids[0] == BookLevel(D("49990"), D("0.5"))
        # a taker takes part of the best ask: the level shrinks
        fake.venue.house_quote(market, "BTCUSDT", "BUY", D("50010"), D("0.125"))
        filled = await until(books, lambda b: b.asks[0].qty != D("0.25"), WAIT)
        assert filled.asks[0] == BookLevel(D("50010"), D("0.125"))

    _run(market, body)


def test_books_resync_from_a_fresh_snapshot_after_a_reconnect() -> None:
    async def body(fake: FakeBinance, adapter: BinanceAdapter) -> None:
        _quote(fake, "spot")
        books = adapter.books([SYMBOLS["spot"]], 5).__aiter__()
        first = await until(books, lambda b: True, WAIT)
        fake.drop_public_streams()
        await asyncio.sleep(0.1)
        # changed while disconnected: only the snapshot after the reconnect can tell
        fake.venue.house_quote("spot", "BTCUSDT", "SELL", D("50005"), D("0.75"))
        again = await until(books, lambda b: b.asks[0].price == D("50005"), WAIT)
        assert again.update_id == first.update_id + 1
        assert again.asks[0] == BookLevel(D("50005"), D("0.75"))
        assert len(again.asks) == 5

    _run("spot", body)


def test_books_depth_beyond_the_streams_twenty_levels_is_twenty() -> None:
    async def body(fake: FakeBinance, adapter: BinanceAdapter) -> None:
        for i in range(25):
            fake.venue.house_quote("usdm", "BTCUSDT", "BUY", D(49000) - 10 * i, D(1))
        books = adapter.books([SYMBOLS["usdm"]], 50).__aiter__()
        first = await until(books, lambda b: True, WAIT)
        assert len(first.bids) == 20  # the REST snapshot, too, stops at the stream's levels
        fake.venue.house_quote("usdm", "BTCUSDT", "BUY", D(49500), D(1))
        pushed = await until(books, lambda b: b.bids[0].price == D(49500), WAIT)
        assert len(pushed.bids) == 20
        assert json.dumps([str(lv.price) for lv in pushed.bids[:2]]) == '["49500.00", "49000.00"]'

    _run("usdm", body)
