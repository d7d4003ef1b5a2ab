"""Paper trading in one node (issue 14 §1): a paper venue fed by ticks (a recorded feed here; the
real venue's stream in tests/service/test_paper_serve.py) fills a paper account's orders at the
ticks' prices, beside the built-in exchange, and keeps its resting orders across a restart."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.instrument import Instrument
from atlas_oms.model.venue import PriceTick
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.paper import (
    PaperFeed,
    attach_paper,
    paper_instrument,
    paper_symbol,
    tick_events,
)
from atlas_oms.simulation.config import FillConfig
from atlas_oms.simulation.market import BookSnapshot, TradePrint
from atlas_oms.simulation.venue import SimulatedVenue
from atlas_oms.store.memory import MemoryJournal

D = Decimal
VENUE = "paper-binance"
REAL = Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.00001", venue="binance")
SYM = paper_symbol("BTC/USDT", VENUE)


def tick(bid: str, ask: str, last: str | None = None, ts: int = 1) -> PriceTick:
    return PriceTick(
        symbol="BTC/USDT",
        ts=ts,
        bid=D(bid),
        ask=D(ask),
        bid_qty=D(2),
        ask_qty=D(2),
        last=D(last) if last else None,
    )


def paper_node(journal: MemoryJournal) -> tuple[Node, PaperFeed]:
    node = Node(journal, clock=ManualClock(1_000))
    venue = attach_paper(node, SimulatedVenue(name=VENUE, config=FillConfig()))
    return node, PaperFeed(node, venue, every_s=0.0, now=lambda: 0.0)


def test_a_paper_instrument_is_the_real_one_on_the_paper_venue() -> None:
    copy = paper_instrument(REAL, VENUE)
    assert (copy.symbol, copy.venue, copy.venue_symbol) == (SYM, VENUE, "BTC/USDT")
    assert (copy.tick_size, copy.lot_size, copy.taker_fee) == (
        REAL.tick_size,
        REAL.lot_size,
        REAL.taker_fee,
    )


def test_a_tick_is_a_book_snapshot_and_a_trade_print() -> None:
    book, trade = tick_events(tick("59990", "60010", "60000"), SYM)
    assert isinstance(book, BookSnapshot) and book.asks == ((D(60010), D(2)),)
    assert isinstance(trade, TradePrint) and trade.price == D(60000)


def test_paper_orders_fill_on_the_feed_and_rest_across_a_restart() -> None:
    journal = MemoryJournal()
    node, feed = paper_node(journal)
    assert feed.list_instruments([REAL]) == 1 and feed.list_instruments([REAL]) == 0
    node.open_account("paper")
    node.deposit("paper", "USDT", 100_000)
    feed.on_tick(tick("59990", "60010"))
    assert node.last_price(SYM) == D(60000)  # the mid went to the core (stops fire on it)
    bought = node.submit("paper", SYM, "BUY", "MARKET", "0.5")
    assert bought.status == "FILLED" and bought.avg_px == D(60010) and bought.venue == VENUE
    resting = node.submit("paper", SYM, "BUY", "LIMIT", "0.1", "59000")
    assert resting.status == "ACCEPTED"
    node.flush()

    node2, feed2 = paper_node(journal)  # a restart on the same journal
    assert node2.order(resting.order_id).status == "ACCEPTED"
    feed2.on_tick(tick("58980", "58990", ts=2))  # the market comes down through the bid
    done = node2.order(resting.order_id)
    assert done.status == "FILLED" and done.avg_px == D(59000)
    assert node2.balance("paper", "BTC").total == D("0.6")  # spot: the BTC is in the balance
