"""Bybit order books (issue 16): the fake's ``/v5/market/orderbook`` and ``orderbook.{depth}.
{symbol}`` topic as Bybit v5 documents them, and the adapters' ``books()`` over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from books_helpers import run_books, until

from atlas_oms.core.ports import VenueBooks
from atlas_oms.fakes.bybit.server import FakeBybit
from atlas_oms.fakes.bybit.venue import AccountConfig
from atlas_oms.model.route_book import BookLevel
from atlas_oms.venues.bybit import BybitEndpoints, BybitLinearAdapter, BybitSpotAdapter
from atlas_oms.venues.bybit.adapter import BybitAdapter

D = Decimal
KEY = "bybitbookskey0001"
SECRET = "bybitbookssecret000000000000000001"
WAIT = 10.0  # seconds for the book a test waits for
SYMBOLS = {"spot": "BTC/USDT", "linear": "BTC/USDT:USDT"}


def _adapter(fake: FakeBybit, category: str) -> BybitAdapter:
    cls: Any = BybitSpotAdapter if category == "spot" else BybitLinearAdapter
    adapter: BybitAdapter = cls(
        account_id="a",
        api_key=KEY,
        secret=SECRET,
        decode_client_id=lambda c: None,
        endpoints=BybitEndpoints(fake.http, fake.ws),
        timeout_ms=2000,
        reconnect_min_s=0.05,
        reconnect_max_s=0.2,
    )
    return adapter


def _run(category: str, body: Callable[[FakeBybit, BybitAdapter], Awaitable[None]]) -> None:
    fake = FakeBybit([AccountConfig("a", KEY, SECRET, wallet={"USDT": D(100000)})])
    run_books(fake, lambda f: _adapter(f, category), body, start=False, timeout=20)


def _quote(fake: FakeBybit, category: str) -> None:
    for i in range(6):
        fake.venue.house_quote(category, "BTCUSDT", "Buy", D("49990") - 10 * i, D("0.5") + i)
        fake.venue.house_quote(category, "BTCUSDT", "Sell", D("50010") + 10 * i, D("0.25") + i)


# ---------------------------------------------------------------- the fake, on the wire


@pytest.mark.parametrize("category", ["spot", "linear"])
def test_orderbook_rest_answers_bybits_result_shape(category: str) -> None:
    async def body(fake: FakeBybit, _: BybitAdapter) -> None:
        _quote(fake, category)
        url = f"{fake.http}/v5/market/orderbook?category={category}&symbol=BTCUSDT&limit=2"
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as r:
                doc = await r.json()
            async with http.get(url.replace("limit=2", "limit=9999")) as r:
                assert (await r.json())["retCode"] == 10001
        assert doc["retCode"] == 0
        result = doc["result"]
        assert list(result) == ["s", "a", "b", "ts", "u", "seq", "cts"]
        assert result["b"] == [["49990", "0.5"], ["49980", "1.5"]]
        assert result["a"] == [["50010", "0.25"], ["50020", "1.25"]]

    _run(category, body)


def test_orderbook_topic_sends_a_snapshot_then_consecutive_deltas() -> None:
    async def body(fake: FakeBybit, _: BybitAdapter) -> None:
        _quote(fake, "linear")
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{fake.ws}/v5/public/linear") as ws,
        ):
            await ws.send_json({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"], "req_id": "1"})
            ack = await ws.receive_json(timeout=5)
            snap = await ws.receive_json(timeout=5)
            order = fake.venue.house_quote("linear", "BTCUSDT", "Buy", D("49995"), D("0.2"))
            delta = await ws.receive_json(timeout=5)
            fake.venue.cancel(order)
            removed = await ws.receive_json(timeout=5)
        assert ack["success"] is True and ack["op"] == "subscribe"
        assert list(snap) == ["topic", "type", "ts", "data", "cts"]
        assert snap["topic"] == "orderbook.50.BTCUSDT" and snap["type"] == "snapshot"
        assert list(snap["data"]) == ["s", "b", "a", "u", "seq"]
        assert snap["data"]["u"] == 1 and len(snap["data"]["b"]) == 6
        assert delta["type"] == "delta" and delta["data"]["u"] == 2
        assert delta["data"]["b"] == [["49995", "0.2"]] and delta["data"]["a"] == []
        assert removed["data"]["u"] == 3 and removed["data"]["b"] == [["49995", "0"]]
        assert removed["data"]["seq"] > delta["data"]["seq"]

    _run("linear", body)


# ---------------------------------------------------------------- the adapter


@pytest.mark.parametrize("category", ["spot", "linear"])
def test_books_follow_rests_cancels_and_fills_within_depth(category: str) -> None:
    async def body(fake: FakeBybit, adapter: BybitAdapter) -> None:
        assert isinstance(adapter, VenueBooks)
        _quote(fake, category)
        books = adapter.books([SYMBOLS[category]], 3).__aiter__()
        first = await until(books, lambda b: True, WAIT)
        assert first.venue == adapter.venue and first.symbol == SYMBOLS[category]
        assert first.bids == (
            BookLevel(D("49990"), D("0.5")),
            BookLevel(D("49980"), D("1.5")),
            BookLevel(D("49970"), D("2.5")),
        )
        assert [lv.price for lv in first.asks] == [D(50010), D(50020), D(50030)]
        assert first.ts // 1_000_000 >= fake.venue.now_ms() - 5000
        order = fake.venue.house_quote(category, "BTCUSDT", "Buy", D("49995"), D("0.125"))
        rested = await until(books, lambda b: True, WAIT)
        assert rested.bids[0] == BookLevel(D("49995"), D("0.125")) and len(rested.bids) == 3
        assert rested.update_id == first.update_id + 1
        fake.venue.cancel(order)
        gone = await until(books, lambda b: True, WAIT)
        assert gone.bids == first.bids
        # a change below the asked depth brings no book
        fake.venue.house_quote(category, "BTCUSDT", "Buy", D("49000"), D("1"))
        # a fill of part of the best ask shrinks its level
        fake.venue.fill(
            fake.venue.house_quote(category, "BTCUSDT", "Sell", D("50000"), D("1")), D("0.25")
        )
        filled = await until(
            books, lambda b: b.asks[0].price == D("50000") and b.asks[0].qty == D("0.75"), WAIT
        )
        assert filled.update_id > gone.update_id + 1

    _run(category, body)


def test_books_resync_after_a_gap_a_restart_and_a_reconnect() -> None:
    async def body(fake: FakeBybit, adapter: BybitAdapter) -> None:
        _quote(fake, "spot")
        books = adapter.books([SYMBOLS["spot"]], 5).__aiter__()
        await until(books, lambda b: True, WAIT)
        # a lost delta: the next one does not follow, the adapter subscribes again
        fake.books.drop_deltas = 1
        fake.venue.house_quote("spot", "BTCUSDT", "Sell", D("50005"), D("0.75"))
        fake.venue.house_quote("spot", "BTCUSDT", "Buy", D("49995"), D("0.5"))
        both = await until(books, lambda b: b.bids[0].price == D("49995"), WAIT)
        assert both.asks[0] == BookLevel(D("50005"), D("0.75"))
        # a service restart: u starts again at 1 with a snapshot, which replaces the book
        fake.books.restart()
        restarted = await until(books, lambda b: b.update_id == 1, WAIT)
        assert restarted.bids == both.bids and restarted.asks == both.asks
        # a dropped connection: a fresh snapshot after the reconnection
        fake.books.drop_connections()
        await asyncio.sleep(0.1)
        fake.venue.house_quote("spot", "BTCUSDT", "Sell", D("50001"), D("0.1"))
        again = await until(books, lambda b: b.asks[0].price == D("50001"), WAIT)
        assert again.asks[0] == BookLevel(D("50001"), D("0.1"))

    _run("spot", body)
