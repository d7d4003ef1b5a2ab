"""The built-in exchange's book is always in the consolidated book (venue ``sim``), refreshed
after the messages that changed it; its trades feed the trade statistics."""

from __future__ import annotations

from decimal import Decimal as D

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.runtime.market.config import MarketDataConfig
from atlas_oms.runtime.market.hub import MarketData

S = 1_000_000_000


def make() -> tuple[Node, MarketData]:
    node = Node.in_memory(clock=ManualClock(S))
    node.add_instrument(Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.001"))
    for a in ("mm", "t"):
        node.open_account(a)
        node.deposit(a, "USDT", 1_000_000)
        node.deposit(a, "BTC", 100)
    md = MarketData(node, MarketDataConfig(depth=2, stale_ms=1_000))
    return node, md


def test_the_sim_book_appears_as_a_venue_book_and_follows_changes() -> None:
    node, md = make()
    node.submit("mm", "BTC/USDT", "BUY", "LIMIT", "1", "99")
    node.submit("mm", "BTC/USDT", "BUY", "LIMIT", "2", "98")
    node.submit("mm", "BTC/USDT", "BUY", "LIMIT", "3", "97")
    ask = node.submit("mm", "BTC/USDT", "SELL", "LIMIT", "1", "101")
    assert md.sim.dirty == {"BTC/USDT"}
    bids = md.book.levels("BTC/USDT", "bid", depth=5)
    assert [(b.venue, b.price, b.qty) for b in bids] == [
        ("sim", D("99"), D("1")),
        ("sim", D("98"), D("2")),  # depth 2 per venue book
    ]
    assert md.sim.dirty == set()
    node.cancel("mm", ask.order_id)
    assert md.book.levels("BTC/USDT", "ask") == []


def test_the_sim_book_is_never_stale_and_merges_with_venues() -> None:
    node, md = make()
    node.submit("mm", "BTC/USDT", "SELL", "LIMIT", "1", "101")
    node.clock.set(100 * S)  # type: ignore[attr-defined]
    md.apply(
        VenueBook(
            venue="bybit",
            symbol="BTC/USDT@bybit",
            asks=(BookLevel(D("100.5"), D("2")),),
            ts=100 * S,
        )
    )
    asks = md.book.levels("BTC/USDT", "ask")
    assert [(a.venue, a.price) for a in asks] == [("bybit", D("100.5")), ("sim", D("101"))]
    best = {b.venue: b for b in md.book.best("BTC/USDT")}
    assert not best["sim"].stale and best["sim"].age_ns == 0
    rb = md.route_book("BTC/USDT")
    assert {b.venue: b.ts for b in rb.books} == {"bybit": 100 * S, "sim": 100 * S}


def test_trades_on_the_built_in_exchange_feed_the_statistics_once_each() -> None:
    node, md = make()
    node.submit("mm", "BTC/USDT", "SELL", "LIMIT", "1", "100")
    node.submit("mm", "BTC/USDT", "SELL", "LIMIT", "1", "102")
    node.clock.set(2 * S)  # type: ignore[attr-defined]
    taker = node.submit("t", "BTC/USDT", "BUY", "LIMIT", "2", "102")
    assert taker.status == "FILLED"
    w = md.stats.window("BTC/USDT", 60, now=3 * S)
    assert w.trades == 2 and w.volume == D("2") and w.vwap == D("101")
    assert md.stats.venue_of("BTC/USDT") == "sim"
