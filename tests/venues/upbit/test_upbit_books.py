"""Upbit's order book (issue 16, ``VenueBooks``): the fake serves ``GET /v1/orderbook`` and the
public WebSocket type ``orderbook`` (binary frames, JSON numbers written exactly) from its own
book (house liquidity plus resting orders); the real adapter streams the top ``depth`` levels
with exact decimals (never a float), in KRW per BTC and BTC."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
from books_helpers import lv, run_books, until

from atlas_oms.core.ports import VenueBooks
from atlas_oms.fakes.upbit import Account, FakeUpbit
from atlas_oms.venues.book_ws import decode
from atlas_oms.venues.upbit import UpbitAdapter
from atlas_oms.venues.upbit import books as upbit_books
from atlas_oms.venues.upbit import parse as p

D = Decimal
KEY, SECRET = "upbit-key-1", "UPBITSECRET1"


def _adapter(fake: FakeUpbit) -> UpbitAdapter:
    return UpbitAdapter(
        account_id="a",
        api_key=KEY,
        secret=SECRET,
        decode_client_id=lambda _: None,
        rest_url=fake.http,
        ws_url=fake.ws,
        timeout_ms=2000,
        reconnect_min_s=0.05,
        reconnect_max_s=0.2,
    )


def run(test: Callable[[FakeUpbit, UpbitAdapter], Awaitable[Any]]) -> Any:
    balances = {"KRW": [D("1000000000"), D(0)], "BTC": [D("10"), D(0)]}
    fake = FakeUpbit([Account(name="a", access_key=KEY, secret=SECRET, balances=balances)])
    return run_books(fake, _adapter, test)


def house(fake: FakeUpbit, side: str, px: str, vol: str, market: str = "KRW-BTC") -> None:
    key = (market, side, D(px))
    fake.venue.house[key] = fake.venue.house.get(key, D(0)) + D(vol)


def seed(fake: FakeUpbit) -> None:
    house(fake, "bid", "137001000", "0.03656812")
    house(fake, "bid", "137000000", "1.5")
    house(fake, "ask", "137003000", "0.10623869")
    house(fake, "ask", "137005000", "2")


def test_the_adapter_is_a_venue_books_port() -> None:
    async def t(fake: FakeUpbit, a: UpbitAdapter) -> None:
        assert isinstance(a, VenueBooks)

    run(t)


def test_the_first_book_is_the_snapshot_exact_with_venue_time() -> None:
    async def t(fake: FakeUpbit, a: UpbitAdapter) -> None:
        seed(fake)
        books = a.books(["BTC/KRW"], 5)
        book = await until(books, lambda b: bool(b.bids))
        assert (book.venue, book.symbol, book.update_id) == ("upbit", "BTC/KRW", 0)
        assert book.bids == (lv("137001000", "0.03656812"), lv("137000000", "1.5"))
        assert book.asks == (lv("137003000", "0.10623869"), lv("137005000", "2"))
        assert all(isinstance(x.qty, Decimal) for x in book.bids + book.asks)
        now_ns = fake.venue.now_ms() * 1_000_000
        assert 0 <= now_ns - book.ts < 5_000_000_000 and book.ts % 1_000_000 == 0
        await books.aclose()

    run(t)


def test_a_resting_order_appears_a_cancel_removes_it_a_fill_takes_liquidity() -> None:
    async def t(fake: FakeUpbit, a: UpbitAdapter) -> None:
        seed(fake)
        books = a.books(["BTC/KRW"], 5)
        await until(books, lambda b: bool(b.bids))
        acct = fake.venue.accounts["a"]
        order = fake.venue.place(
            acct,
            {
                "market": "KRW-BTC",
                "side": "bid",
                "ord_type": "limit",
                "price": "137002000",
                "volume": "0.25",
            },
        )
        book = await until(books, lambda b: b.bids[0].price == D("137002000"))
        assert book.bids[0] == lv("137002000", "0.25")
        fake.venue.cancel(order)
        book = await until(books, lambda b: b.bids[0].price == D("137001000"))
        assert book.bids[:1] == (lv("137001000", "0.03656812"),)
        # a market sell of 0.5 takes the best bid in full and 0.46343188 of the next
        fake.venue.place(
            acct, {"market": "KRW-BTC", "side": "ask", "ord_type": "market", "volume": "0.5"}
        )
        book = await until(books, lambda b: b.bids[0].price == D("137000000"))
        assert book.bids == (lv("137000000", "1.03656812"),)
        await books.aclose()

    run(t)


def test_only_the_top_depth_levels_are_streamed_and_the_request_asks_for_enough_units() -> None:
    async def t(fake: FakeUpbit, a: UpbitAdapter) -> None:
        for i in range(20):
            house(fake, "bid", str(137_000_000 - i * 1000), "0.1")
            house(fake, "ask", str(137_001_000 + i * 1000), "0.2")
        books = a.books(["BTC/KRW"], 7)
        book = await until(books, lambda b: bool(b.bids))
        assert len(book.bids) == len(book.asks) == 7
        assert book.bids[0].price == D(137_000_000) and book.bids[-1].price == D(136_994_000)
        assert book.asks[0].price == D(137_001_000) and book.asks[-1].price == D(137_007_000)
        # a change below the top 7 sends no book; one inside does
        house(fake, "bid", "136990000", "3")
        house(fake, "bid", "136997000", "0.4")
        book = await until(books, lambda b: True)
        assert book.bids[3] == lv("136997000", "0.5")
        await books.aclose()

    assert upbit_books.unit_count(7) == 15
    assert upbit_books.unit_count(1) == 1 and upbit_books.unit_count(40) == 30
    run(t)


def test_a_reconnect_starts_from_a_fresh_snapshot() -> None:
    async def t(fake: FakeUpbit, a: UpbitAdapter) -> None:
        seed(fake)
        books = a.books(["BTC/KRW"], 5)
        await until(books, lambda b: bool(b.bids))
        assert fake.books.sessions == 1
        fake.books.drop()
        await asyncio.sleep(0.02)
        house(fake, "ask", "137002000", "0.7")
        book = await until(books, lambda b: b.asks[0].price == D("137002000"))
        assert book.asks[0] == lv("137002000", "0.7")
        assert fake.books.sessions == 2
        await books.aclose()

    run(t)


def test_rest_and_websocket_are_upbit_wire_format() -> None:
    async def t(fake: FakeUpbit, a: UpbitAdapter) -> None:
        seed(fake)
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{fake.http}/v1/orderbook?markets=KRW-BTC") as r:
                raw = await r.text()
                assert "Remaining-Req" in r.headers
            (row,) = decode(raw)
            assert row["market"] == "KRW-BTC" and row["level"] == 0
            assert isinstance(row["timestamp"], int)
            assert row["orderbook_units"][0] == {
                "ask_price": 137003000,
                "bid_price": 137001000,
                "ask_size": D("0.10623869"),
                "bid_size": D("0.03656812"),
            }
            assert row["total_bid_size"] == D("1.53656812")
            # the REST row reads as the same book
            (book,) = upbit_books.parse_orderbook(
                row, p.Context("upbit", "a", lambda _: None), "upbit", 5
            )
            assert book.bids[1] == lv("137000000", "1.5")
            async with s.get(f"{fake.http}/v1/orderbook?markets=KRW-XYZ") as r:
                assert r.status == 404
            async with s.ws_connect(fake.ws) as ws:
                await ws.send_str(
                    json.dumps([{"ticket": "t1"}, {"type": "orderbook", "codes": ["KRW-BTC.1"]}])
                )
                msg = await ws.receive(timeout=2)
                assert msg.type == aiohttp.WSMsgType.BINARY  # Upbit's frames are binary
                snap = decode(msg.data)
                assert (snap["type"], snap["code"], snap["stream_type"]) == (
                    "orderbook",
                    "KRW-BTC",
                    "SNAPSHOT",
                )
                assert len(snap["orderbook_units"]) == 1
                house(fake, "bid", "137001000", "1")
                realtime = decode((await ws.receive(timeout=2)).data)
                assert realtime["stream_type"] == "REALTIME"
                assert realtime["orderbook_units"][0]["bid_size"] == D("1.03656812")
                await ws.send_str("PING")
                assert json.loads((await ws.receive(timeout=2)).data) == {"status": "UP"}
                await ws.send_str(json.dumps([{"type": "orderbook", "codes": ["KRW-BTC"]}]))
                err = decode((await ws.receive(timeout=2)).data)
                assert err["error"]["name"] == "NO_TICKET"

    run(t)


def test_a_side_missing_in_a_unit_is_no_level() -> None:
    ctx = p.Context("upbit", "a", lambda _: None)
    msg = decode(
        '{"type":"orderbook","code":"KRW-BTC","timestamp":1746601573804,'
        '"orderbook_units":[{"ask_price":137002000,"bid_price":137001000,"ask_size":0.1,'
        '"bid_size":0.2},{"ask_price":0,"bid_price":137000000,"ask_size":0,"bid_size":1.5}],'
        '"stream_type":"REALTIME","level":0}'
    )
    (book,) = upbit_books.parse_orderbook(msg, ctx, "upbit", 5)
    assert book.asks == (lv("137002000", "0.1"),)
    assert book.bids == (lv("137001000", "0.2"), lv("137000000", "1.5"))
    assert book.ts == 1746601573804 * 1_000_000
