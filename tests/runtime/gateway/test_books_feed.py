"""Venue books into the consolidated book: one ``books`` stream per venue (not per account),
restarted after a failure; the qualified-symbol wrapper forwards ``books`` with the suffix; an
adapter without ``books`` gets no stream; trade ticks reach the trade statistics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from gw_world import FAST, Recorder, new_node, until
from scripted import ScriptedAdapter

from atlas_oms.core.ports import VenueBooks
from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.model.venue import PriceTick
from atlas_oms.runtime.gateway import Gateway
from atlas_oms.runtime.gateway.qualified import qualified
from atlas_oms.runtime.market.hub import MarketData

D = Decimal


class BookAdapter(ScriptedAdapter):
    """A scripted adapter whose venue streams order books (``core/ports.py::VenueBooks``)."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.books_q: asyncio.Queue[VenueBook | BaseException] = asyncio.Queue()
        self.book_calls: list[tuple[list[str], int]] = []

    async def books(self, symbols: list[str], depth: int) -> AsyncIterator[VenueBook]:
        self.book_calls.append((list(symbols), depth))
        while True:
            item = await self.books_q.get()
            if isinstance(item, BaseException):
                raise item
            yield item


def a_book(symbol: str, bid: str, ask: str, venue: str = "binance") -> VenueBook:
    return VenueBook(
        venue=venue,
        symbol=symbol,
        bids=(BookLevel(D(bid), D("1")),),
        asks=(BookLevel(D(ask), D("2")),),
        ts=1,
    )


def test_the_ports_protocol_recognizes_a_books_adapter() -> None:
    assert isinstance(BookAdapter(), VenueBooks)
    assert not isinstance(ScriptedAdapter(), VenueBooks)


def test_one_stream_per_venue_feeds_the_consolidated_book_and_restarts() -> None:
    asyncio.run(_test_one_stream_per_venue_feeds_the_consolidated_book_and_restarts())


async def _test_one_stream_per_venue_feeds_the_consolidated_book_and_restarts() -> None:
    node = new_node()
    first, second = BookAdapter(account_id="A"), BookAdapter(account_id="B")
    gateway = Gateway(Recorder(node), [first, second], tag="k3f9q2", config=FAST)
    md = MarketData(node)
    md.attach_gateway(gateway)
    names = [name for name, _ in gateway.tasks()]
    assert names.count("books:binance") == 1
    gateway.start()
    try:
        await until(lambda: first.book_calls)
        assert first.book_calls[0] == (["BTC/USDT"], 10) and second.book_calls == []
        await first.books_q.put(a_book("BTC/USDT", "99", "101"))
        await until(lambda: md.book.book("BTC/USDT") is not None)
        assert md.book.levels("BTC/USDT", "ask")[0].price == D("101")
        await first.books_q.put(RuntimeError("socket closed"))
        await until(lambda: len(first.book_calls) == 2)  # restarted after the backoff
        await first.books_q.put(a_book("BTC/USDT", "99.5", "100.5"))
        await until(lambda: md.book.book("BTC/USDT").asks[0].price == D("100.5"))  # type: ignore[union-attr]
    finally:
        await gateway.stop()


def test_no_books_stream_without_an_adapter_that_has_books_or_a_sink() -> None:
    asyncio.run(_test_no_books_stream_without_an_adapter_that_has_books_or_a_sink())


async def _test_no_books_stream_without_an_adapter_that_has_books_or_a_sink() -> None:
    node = new_node()
    gateway = Gateway(Recorder(node), [ScriptedAdapter()], tag="k3f9q2", config=FAST)
    MarketData(node).attach_gateway(gateway)
    assert not [n for n, _ in gateway.tasks() if n.startswith("books:")]
    plain = Gateway(Recorder(new_node()), [BookAdapter()], tag="k3f9q2", config=FAST)
    assert not [n for n, _ in plain.tasks() if n.startswith("books:")]


def test_qualified_symbols_forward_books_with_the_suffix() -> None:
    asyncio.run(_test_qualified_symbols_forward_books_with_the_suffix())


async def _test_qualified_symbols_forward_books_with_the_suffix() -> None:
    inner = BookAdapter(venue="bybit")
    wrapped = qualified(inner, "@bybit")
    assert isinstance(wrapped, VenueBooks)
    assert not isinstance(qualified(ScriptedAdapter(venue="bybit"), "@bybit"), VenueBooks)
    await inner.books_q.put(a_book("BTC/USDT", "1", "2", venue="bybit"))
    stream = wrapped.books(["BTC/USDT@bybit"], 5)
    got = await anext(stream)
    await stream.aclose()
    assert inner.book_calls == [(["BTC/USDT"], 5)]
    assert got.symbol == "BTC/USDT@bybit" and got.venue == "bybit"


def test_trade_ticks_reach_the_trade_statistics() -> None:
    asyncio.run(_test_trade_ticks_reach_the_trade_statistics())


async def _test_trade_ticks_reach_the_trade_statistics() -> None:
    node = new_node()
    adapter = ScriptedAdapter()
    gateway = Gateway(Recorder(node), [adapter], tag="k3f9q2", config=FAST)
    md = MarketData(node)
    md.attach_gateway(gateway)
    gateway.start()
    try:
        now = node.clock.now()
        await adapter.ticks.put(
            PriceTick(symbol="BTC/USDT", ts=now, last=D("100"), last_qty=D("2"))
        )
        await until(lambda: md.stats.symbols() == ["BTC/USDT"])
        w = md.stats.window("BTC/USDT", 60, now=now + 1)
        assert (w.vwap, w.volume) == (D("100"), D("2"))
        assert md.stats.venue_of("BTC/USDT") == "binance"
    finally:
        await gateway.stop()


@pytest.fixture(autouse=True)
def _quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("ERROR", logger="atlas.gateway")
