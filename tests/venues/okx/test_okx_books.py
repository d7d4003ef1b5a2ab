"""OKX's order book (issue 16, ``VenueBooks``): the fake serves ``GET /api/v5/market/books``
and the public ``books``/``books5`` channels from its own book (house quotes plus resting
orders) with ``seqId``/``prevSeqId`` and the CRC32 checksum; the real adapter keeps the book
from the raw messages and streams the top ``depth`` levels in base units."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
from books_helpers import lv, run_books, until

from atlas_oms.core.ports import VenueBooks
from atlas_oms.fakes.okx import Account, FakeOkx
from atlas_oms.fakes.okx import books as fake_books
from atlas_oms.model.route_book import VenueBook
from atlas_oms.venues.okx import OkxAdapter
from atlas_oms.venues.okx import books as okx_books

D = Decimal
KEY, SECRET, PASS = "okx-key-1", "OKXSECRET1", "Pass-1"


def _adapter(fake: FakeOkx) -> OkxAdapter:
    return OkxAdapter(
        account_id="acc",
        api_key=KEY,
        secret=SECRET,
        passphrase=PASS,
        decode_client_id=lambda _: None,
        rest_url=fake.http,
        ws_url=fake.ws,
        timeout_ms=800,
        reconnect_min_s=0.05,
        reconnect_max_s=0.2,
    )


def run(test: Callable[[FakeOkx, OkxAdapter], Awaitable[Any]]) -> Any:
    acct = Account(
        name="acc",
        api_key=KEY,
        secret=SECRET,
        passphrase=PASS,
        cash={"USDT": D("1000000"), "BTC": D("20")},
    )
    return run_books(FakeOkx([acct]), _adapter, test)


def quote(fake: FakeOkx, inst_id: str, side: str, px: str, sz: str) -> None:
    fake.venue.house_quote(inst_id, side, D(px), D(sz))


def seed(fake: FakeOkx, inst_id: str = "BTC-USDT") -> None:
    quote(fake, inst_id, "buy", "59990.1", "0.5")
    quote(fake, inst_id, "buy", "59980", "1.25")
    quote(fake, inst_id, "sell", "60010", "0.3")
    quote(fake, inst_id, "sell", "60020.5", "2")


def test_the_adapter_is_a_venue_books_port() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        assert isinstance(a, VenueBooks)

    run(t)


def test_the_first_book_is_the_snapshot_with_exact_decimals_and_venue_time() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        seed(fake)
        books = a.books(["BTC/USDT"], 5)
        book = await until(books, lambda b: bool(b.bids))
        assert (book.venue, book.symbol) == ("okx", "BTC/USDT")
        assert book.bids == (lv("59990.1", "0.5"), lv("59980", "1.25"))
        assert book.asks == (lv("60010", "0.3"), lv("60020.5", "2"))
        assert isinstance(book.bids[0].price, Decimal)
        now_ns = fake.venue.now_ms() * 1_000_000
        assert 0 <= now_ns - book.ts < 5_000_000_000 and book.ts % 1_000_000 == 0
        assert book.update_id == fake.books._state("BTC-USDT").seq
        await books.aclose()

    run(t)


def test_a_resting_order_appears_and_its_cancel_removes_it() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        seed(fake)
        books = a.books(["BTC/USDT"], 5)
        first = await until(books, lambda b: bool(b.bids))
        acct = fake.venue.accounts["acc"]
        o = fake.venue.place(
            acct,
            {"instId": "BTC-USDT", "side": "buy", "ordType": "limit", "px": "59995", "sz": "0.2"},
        )
        book = await until(books, lambda b: b.bids[0].price == D("59995"))
        assert book.bids[0] == lv("59995", "0.2") and book.update_id > first.update_id
        # a second order at a quoted price adds to that level
        fake.venue.place(
            acct,
            {"instId": "BTC-USDT", "side": "sell", "ordType": "limit", "px": "60010", "sz": "0.7"},
        )
        book = await until(books, lambda b: b.asks[0].qty == D("1.0"))
        assert book.asks[0] == lv("60010", "1.0")
        fake.venue.cancel(o)
        book = await until(books, lambda b: b.bids[0].price != D("59995"))
        assert book.bids == (lv("59990.1", "0.5"), lv("59980", "1.25"))
        await books.aclose()

    run(t)


def test_a_fill_that_takes_the_best_bid_moves_the_book() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        seed(fake)
        books = a.books(["BTC/USDT"], 5)
        await until(books, lambda b: bool(b.bids))
        acct = fake.venue.accounts["acc"]
        fake.venue.place(
            acct, {"instId": "BTC-USDT", "side": "sell", "ordType": "market", "sz": "0.7"}
        )
        # 0.5 at 59990.1 taken in full, 0.2 of the 1.25 at 59980
        book = await until(books, lambda b: b.bids[0].price == D("59980"))
        assert book.bids == (lv("59980", "1.05"),)
        await books.aclose()

    run(t)


def test_only_the_top_depth_levels_are_streamed_best_first() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        for i in range(8):
            quote(fake, "BTC-USDT", "buy", str(59000 + i * 10), "1")
            quote(fake, "BTC-USDT", "sell", str(61000 - i * 10), "2")
        books = a.books(["BTC/USDT"], 3)
        book = await until(books, lambda b: bool(b.bids))
        assert [x.price for x in book.bids] == [D(59070), D(59060), D(59050)]
        assert [x.price for x in book.asks] == [D(60930), D(60940), D(60950)]
        # a change below the top 3 is no new book; one in the top 3 is
        quote(fake, "BTC-USDT", "buy", "58000", "5")
        quote(fake, "BTC-USDT", "buy", "59065", "4")
        book = await until(books, lambda b: True)
        assert book.bids == (lv("59070", "1"), lv("59065", "4"), lv("59060", "1"))
        await books.aclose()

    run(t)


def test_swap_sizes_are_contracts_times_ct_val_in_base_units() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        quote(fake, "BTC-USDT-SWAP", "buy", "59990", "150")  # 150 contracts of 0.01 BTC
        quote(fake, "BTC-USDT-SWAP", "sell", "60000", "3")
        books = a.books(["BTC/USDT:USDT"], 5)
        book = await until(books, lambda b: bool(b.bids))
        assert book.symbol == "BTC/USDT:USDT"
        assert book.bids == (lv("59990", "1.5"),) and book.asks == (lv("60000", "0.03"),)
        await books.aclose()

    run(t)


def test_two_symbols_on_one_session() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        seed(fake)
        quote(fake, "BTC-USDT-SWAP", "buy", "59900", "10")
        books = a.books(["BTC/USDT", "BTC/USDT:USDT"], 5)
        seen: dict[str, VenueBook] = {}
        async with asyncio.timeout(3):
            while len(seen) < 2:
                book = await anext(books)
                seen[book.symbol] = book
        assert seen["BTC/USDT:USDT"].bids == (lv("59900", "0.1"),)
        assert seen["BTC/USDT"].asks[0] == lv("60010", "0.3")
        await books.aclose()

    run(t)


def test_a_reconnect_starts_from_a_fresh_snapshot() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        seed(fake)
        books = a.books(["BTC/USDT"], 5)
        await until(books, lambda b: bool(b.bids))
        before = fake.books.snapshots
        fake.drop_public_streams()
        await asyncio.sleep(0.05)
        quote(fake, "BTC-USDT", "buy", "59999", "0.1")
        book = await until(books, lambda b: b.bids[0].price == D("59999"))
        assert book.bids[0] == lv("59999", "0.1")
        assert fake.books.snapshots > before
        await books.aclose()

    run(t)


def test_a_seq_gap_resyncs_from_a_new_snapshot() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        seed(fake)
        books = a.books(["BTC/USDT"], 5)
        await until(books, lambda b: bool(b.bids))
        before = fake.books.snapshots
        fake.books.drop_updates = 1
        quote(fake, "BTC-USDT", "buy", "59995", "0.4")  # this update is lost
        await asyncio.sleep(0.05)
        quote(fake, "BTC-USDT", "sell", "60005", "0.6")  # prevSeqId is not the last seen
        # without the resync the book would have 60005 but never 59995
        book = await until(books, lambda b: b.asks[0].price == D("60005"))
        assert book.bids[0] == lv("59995", "0.4")
        assert fake.books.snapshots == before + 1
        await books.aclose()

    run(t)


def test_a_wrong_checksum_resyncs_from_a_new_snapshot() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        seed(fake)
        books = a.books(["BTC/USDT"], 5)
        await until(books, lambda b: bool(b.bids))
        before = fake.books.snapshots
        fake.books.bad_checksums = 1
        quote(fake, "BTC-USDT", "buy", "59995", "0.4")
        book = await until(books, lambda b: b.bids[0].price == D("59995"))
        assert book.bids[0] == lv("59995", "0.4")
        assert fake.books.snapshots == before + 1
        await books.aclose()

    run(t)


def test_rest_books_and_ws_books_are_okx_wire_format() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        seed(fake)
        acct = fake.venue.accounts["acc"]
        fake.venue.place(
            acct,
            {"instId": "BTC-USDT", "side": "buy", "ordType": "limit", "px": "59980", "sz": "0.5"},
        )
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{fake.http}/api/v5/market/books?instId=BTC-USDT&sz=1") as r:
                body = await r.json()
            assert body["code"] == "0"
            (row,) = body["data"]
            assert row["bids"] == [["59990.1", "0.5", "0", "1"]]
            assert row["asks"] == [["60010", "0.3", "0", "1"]]
            async with s.get(f"{fake.http}/api/v5/market/books?instId=BTC-USDT&sz=5") as r:
                row = (await r.json())["data"][0]
            assert row["bids"][1] == ["59980", "1.75", "0", "2"]  # a quote and an order
            async with s.ws_connect(f"{fake.ws}/public") as ws:
                await ws.send_str(
                    json.dumps(
                        {
                            "op": "subscribe",
                            "args": [
                                {"channel": "books", "instId": "BTC-USDT"},
                                {"channel": "books5", "instId": "BTC-USDT"},
                            ],
                        }
                    )
                )
                msgs = [json.loads((await ws.receive(timeout=2)).data) for _ in range(4)]
                snap = next(m for m in msgs if m.get("action") == "snapshot")
                five = next(
                    m for m in msgs if m.get("arg", {}).get("channel") == "books5" and "data" in m
                )
                data = snap["data"][0]
                assert data["prevSeqId"] == -1 and isinstance(data["seqId"], int)
                assert data["checksum"] == okx_books.checksum(
                    [(x[0], x[1]) for x in data["bids"][:25]],
                    [(x[0], x[1]) for x in data["asks"][:25]],
                )
                assert five["data"][0]["instId"] == "BTC-USDT"
                assert five["data"][0]["asks"][0] == ["60010", "0.3", "0", "1"]
                quote(fake, "BTC-USDT", "sell", "60010", "0.2")
                upd = json.loads((await ws.receive(timeout=2)).data)
                while upd.get("action") != "update":
                    upd = json.loads((await ws.receive(timeout=2)).data)
                row = upd["data"][0]
                assert row["prevSeqId"] == data["seqId"] and row["seqId"] == data["seqId"] + 1
                assert row["asks"] == [["60010", "0.5", "0", "2"]] and row["bids"] == []
                fake.venue.remove_house_quotes("BTC-USDT", "sell")
                upd = json.loads((await ws.receive(timeout=2)).data)
                while upd.get("action") != "update":
                    upd = json.loads((await ws.receive(timeout=2)).data)
                assert upd["data"][0]["asks"] == [
                    ["60010", "0", "0", "0"],
                    ["60020.5", "0", "0", "0"],
                ]

    run(t)


def test_the_checksum_is_okx_s_interleaved_crc32_signed() -> None:
    # OKX's documented example: bids 3366.1x7, 3366x6; asks 3366.8x9, 3368x8
    bids = [("3366.1", "7"), ("3366", "6")]
    asks = [("3366.8", "9"), ("3368", "8")]
    crc = zlib.crc32(b"3366.1:7:3366.8:9:3366:6:3368:8")
    signed = crc - (1 << 32) if crc >= 1 << 31 else crc
    assert okx_books.checksum(bids, asks) == signed
    # a shorter side leaves its places out: bid, ask, bid
    crc = zlib.crc32(b"3366.1:7:3366.8:9:3366:6")
    assert okx_books.checksum(bids, asks[:1]) == (crc - (1 << 32) if crc >= 1 << 31 else crc)
    wire_bids = [[px, sz, "0", "1"] for px, sz in bids]
    wire_asks = [[px, sz, "0", "1"] for px, sz in asks]
    assert fake_books.checksum(wire_bids, wire_asks) == okx_books.checksum(bids, asks)
