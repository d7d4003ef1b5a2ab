"""Alpaca's NBBO as a one-level book (issue 16, ``VenueBooks``): the fake serves
``GET /v2/stocks/quotes/latest`` and the market data stream ``/v2/{feed}`` (``auth``,
``subscribe`` ``quotes``, ``T:"q"`` messages in arrays) from its own book (house liquidity plus
resting limit orders), sizes in round lots; the real adapter streams one level a side in shares,
exact decimals, the quote's own time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
from books_helpers import lv, run_books, until

from atlas_oms.core.ports import VenueBooks
from atlas_oms.fakes.alpaca import Account, Asset, FakeAlpaca
from atlas_oms.fakes.alpaca.venue import HouseQuote
from atlas_oms.model.route_book import VenueBook
from atlas_oms.venues.alpaca import AlpacaAdapter
from atlas_oms.venues.alpaca import books as alpaca_books
from atlas_oms.venues.book_ws import decode

D = Decimal
KEY, SECRET = "PKBOOKS1", "alpaca-secret-1"


def run(test: Callable[[FakeAlpaca, AlpacaAdapter], Awaitable[Any]], *, key: str = KEY) -> Any:
    def adapter(fake: FakeAlpaca) -> AlpacaAdapter:
        fake.venue.house["AAPL"] = [
            HouseQuote("sell", D(300), D("150.05")),
            HouseQuote("sell", D(100), D("150.07")),
            HouseQuote("buy", D(250), D("149.95")),
        ]
        return AlpacaAdapter(
            account_id="a",
            api_key=key,
            secret=SECRET,
            decode_client_id=lambda cid: None,
            base_url=fake.http,
            stream_url=fake.stream_url,
            data_url=fake.http,
            timeout_ms=1000,
            session=None,
            reconnect_min_s=0.05,
            reconnect_max_s=0.2,
        )

    fake = FakeAlpaca(
        [Account(name="a", api_key=KEY, secret=SECRET, cash=D("1000000"))],
        [Asset("AAPL", "Apple Inc."), Asset("MSFT", "Microsoft")],
        last_price=D("150"),
    )
    return run_books(fake, adapter, test, start=False)


def test_the_adapter_is_a_venue_books_port() -> None:
    async def t(fake: FakeAlpaca, a: AlpacaAdapter) -> None:
        assert isinstance(a, VenueBooks)

    run(t)


def test_the_first_book_is_the_latest_nbbo_in_shares_with_the_quote_time() -> None:
    async def t(fake: FakeAlpaca, a: AlpacaAdapter) -> None:
        books = a.books(["AAPL"], 10)
        book = await until(books, lambda b: True)
        assert (book.venue, book.symbol, book.update_id) == ("alpaca", "AAPL", 0)
        # 250 shares bid = 2 round lots on the wire = 200 shares; 300 ask = 3 lots
        assert book.bids == (lv("149.95", "200"),)
        assert book.asks == (lv("150.05", "300"),)  # one level however deep the ask
        assert abs(fake.venue.now_ns() - book.ts) < 5_000_000_000
        await books.aclose()

    run(t)


def test_a_resting_order_a_cancel_and_a_fill_move_the_nbbo() -> None:
    async def t(fake: FakeAlpaca, a: AlpacaAdapter) -> None:
        books = a.books(["AAPL"], 1)
        await until(books, lambda b: True)
        order = fake.venue.place(
            "a",
            {
                "symbol": "AAPL",
                "qty": "500",
                "side": "buy",
                "type": "limit",
                "time_in_force": "day",
                "limit_price": "149.99",
            },
        )
        book = await until(books, lambda b: b.bids[0].price == D("149.99"))
        assert book.bids == (lv("149.99", "500"),)
        fake.venue.cancel(order)
        book = await until(books, lambda b: b.bids[0].price == D("149.95"))
        assert book.bids == (lv("149.95", "200"),)
        # a buy of 250 takes the best ask down to 50 shares: below a round lot, so the NBBO
        # ask is the next level (odd lots are not part of the NBBO)
        fake.venue.place(
            "a",
            {
                "symbol": "AAPL",
                "qty": "250",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
            },
        )
        book = await until(books, lambda b: b.asks[0].price == D("150.07"))
        assert book.asks == (lv("150.07", "100"),)
        await books.aclose()

    run(t)


def test_two_symbols_and_an_empty_side() -> None:
    async def t(fake: FakeAlpaca, a: AlpacaAdapter) -> None:
        books = a.books(["AAPL", "MSFT"], 5)
        seen: dict[str, VenueBook] = {}
        async with asyncio.timeout(3):
            while len(seen) < 2:
                book = await anext(books)
                seen[book.symbol] = book
        assert seen["MSFT"].bids == seen["MSFT"].asks == ()
        fake.venue.house["MSFT"] = [HouseQuote("sell", D(1000), D("410.10"))]
        book = await until(books, lambda b: b.symbol == "MSFT")
        assert book.asks == (lv("410.10", "1000"),) and book.bids == ()
        await books.aclose()

    run(t)


def test_a_reconnect_starts_from_the_latest_quote_again() -> None:
    async def t(fake: FakeAlpaca, a: AlpacaAdapter) -> None:
        books = a.books(["AAPL"], 1)
        await until(books, lambda b: True)
        assert fake.quotes.sessions == 1
        fake.quotes.drop()
        await asyncio.sleep(0.02)
        fake.venue.house["AAPL"].append(HouseQuote("buy", D(400), D("150.00")))
        book = await until(books, lambda b: b.bids[0].price == D("150.00"))
        assert book.bids == (lv("150.00", "400"),)
        assert fake.quotes.sessions >= 2
        await books.aclose()

    run(t)


def test_a_refused_key_is_retried_not_raised() -> None:
    async def t(fake: FakeAlpaca, a: AlpacaAdapter) -> None:
        books = a.books(["AAPL"], 1)
        task = asyncio.ensure_future(anext(books))
        await asyncio.sleep(0.5)
        assert not task.done() and fake.quotes.sessions >= 2  # auth failed, reconnecting
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await books.aclose()

    run(t, key="PKWRONG")


def test_the_stream_and_rest_are_alpaca_wire_format() -> None:
    async def t(fake: FakeAlpaca, a: AlpacaAdapter) -> None:
        headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
        async with aiohttp.ClientSession() as s:
            async with s.get(
                f"{fake.http}/v2/stocks/quotes/latest?symbols=AAPL", headers=headers
            ) as r:
                raw = await r.text()
            assert '"bp":149.95' in raw and '"bs":2' in raw  # JSON numbers, round lots
            quote = decode(raw)["quotes"]["AAPL"]
            assert (quote["ap"], quote["as"], quote["ax"]) == (D("150.05"), 3, "V")
            async with s.ws_connect(f"{fake.http.replace('http', 'ws')}/v2/iex") as ws:
                assert json.loads((await ws.receive(timeout=2)).data) == [
                    {"T": "success", "msg": "connected"}
                ]
                await ws.send_str(json.dumps({"action": "subscribe", "quotes": ["AAPL"]}))
                assert json.loads((await ws.receive(timeout=2)).data)[0]["code"] == 401
                await ws.send_str(json.dumps({"action": "auth", "key": KEY, "secret": SECRET}))
                assert json.loads((await ws.receive(timeout=2)).data) == [
                    {"T": "success", "msg": "authenticated"}
                ]
                await ws.send_str(json.dumps({"action": "subscribe", "quotes": ["AAPL"]}))
                (sub,) = json.loads((await ws.receive(timeout=2)).data)
                assert sub["T"] == "subscription" and sub["quotes"] == ["AAPL"]
                assert sub["trades"] == [] and "bars" in sub
                fake.venue.house["AAPL"].append(HouseQuote("buy", D(100), D("149.97")))
                msg = await ws.receive(timeout=2)
                assert msg.type == aiohttp.WSMsgType.TEXT
                (q,) = decode(msg.data)
                assert (q["T"], q["S"], q["bp"], q["bs"], q["bx"]) == (
                    "q",
                    "AAPL",
                    D("149.97"),
                    1,
                    "V",
                )
                assert q["t"].endswith("Z") and q["c"] == ["R"] and q["z"] == "C"
            async with s.ws_connect(f"{fake.http.replace('http', 'ws')}/v2/sip") as ws:
                await ws.receive(timeout=2)
                await ws.send_str(json.dumps({"action": "auth", "key": "x", "secret": "y"}))
                (err,) = json.loads((await ws.receive(timeout=2)).data)
                assert (err["T"], err["code"]) == ("error", 402)

    run(t)


def test_quote_sizes_are_round_lots_read_as_shares() -> None:
    book = alpaca_books.book_of_quote(
        "AAPL",
        decode('{"t":"2026-12-07T14:30:00.123456789Z","bp":189.5,"bs":15,"ap":189.52,"as":0}'),
        "alpaca",
    )
    assert book is not None
    assert book.bids == (lv("189.5", "1500"),) and book.asks == ()
    assert book.ts % 1_000_000_000 == 123_456_789
