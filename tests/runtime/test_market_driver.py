"""One per-event function for every paper flavour (issue 14 §1): ``atlas serve``'s paper feed
goes through the same :class:`MarketCore` as a backtest's driver, so while the core holds a live
order on a symbol every tick's price reaches it (stops fire on each tick, not on the throttled
reference price), after a restart too."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.backtest.driver import MarketDriver
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.venue import PriceTick
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.market_driver import MarketCore
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.paper import PaperFeed, attach_paper, paper_symbol
from atlas_oms.simulation.config import FillConfig
from atlas_oms.simulation.market import TradePrint
from atlas_oms.simulation.venue import SimulatedVenue
from atlas_oms.store.memory import MemoryJournal

D = Decimal
VENUE = "paper-binance"
REAL = Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.00001", venue="binance")
SYM = paper_symbol("BTC/USDT", VENUE)


def _tick(bid: str, ask: str, ts: int) -> PriceTick:
    return PriceTick(symbol="BTC/USDT", ts=ts, bid=D(bid), ask=D(ask), bid_qty=D(2), ask_qty=D(2))


def _node(journal: MemoryJournal) -> tuple[Node, PaperFeed]:
    node = Node(journal, clock=ManualClock(1_000))
    venue = attach_paper(node, SimulatedVenue(name=VENUE, config=FillConfig()))
    # A throttle that lets one price through, then none (the clock never moves).
    return node, PaperFeed(node, venue, every_s=10.0, now=lambda: 0.0)


def test_the_backtest_driver_is_the_shared_market_core() -> None:
    assert issubclass(MarketDriver, MarketCore)


def test_serves_paper_feed_sends_every_tick_to_the_core_while_it_holds_an_order() -> None:
    journal = MemoryJournal()
    node, feed = _node(journal)
    feed.list_instruments([REAL])
    node.open_account("paper")
    node.deposit("paper", "USDT", 100_000)
    feed.on_tick(_tick("59990", "60010", 1))
    assert node.last_price(SYM) == D(60000)
    feed.on_tick(_tick("59980", "60000", 2))
    assert node.last_price(SYM) == D(60000)  # nothing live: the throttled reference price
    resting = node.submit("paper", SYM, "BUY", "LIMIT", "0.1", "59000")
    assert resting.status == "ACCEPTED" and feed.core.live_on(SYM)
    feed.on_tick(_tick("59970", "59990", 3))
    assert node.last_price(SYM) == D(59980)  # a live order: every tick
    node.flush()

    node2, feed2 = _node(journal)  # a restart: the core learns what the journal holds
    feed2.on_tick(_tick("59950", "59970", 4))
    feed2.on_tick(_tick("59940", "59960", 5))
    assert node2.last_price(SYM) == D(59950)


def test_market_core_alone_follows_the_clock_and_fills_at_the_venue() -> None:
    inst = Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.00001", venue="sim-paper")
    venue = SimulatedVenue({"BTC/USDT": inst}, name="sim-paper", config=FillConfig())
    node = Node(MemoryJournal(), clock=ManualClock(0), venues=[venue])
    node.add_instrument(inst)
    core = MarketCore(node, venue)
    node.open_account("a")
    node.deposit("a", "USDT", 100_000)
    core.on_market(TradePrint(symbol="BTC/USDT", ts=10, price=D(100), qty=D(5)))
    assert node.clock.now() == 10 and core.last_price("BTC/USDT") == D(100)
    order = node.submit("a", "BTC/USDT", "BUY", "LIMIT", "1", "99")
    assert core.live_on("BTC/USDT")
    core.on_market(TradePrint(symbol="BTC/USDT", ts=20, price=D(98), qty=D(5)))
    assert node.order(order.order_id).status == "FILLED"
    # filled: nothing live, a spot position: the core needs no more ticks (a bar's close only)
    assert not core.live_on("BTC/USDT") and core.need_close == {"BTC/USDT"}
    assert core.last_price("BTC/USDT") == D(98)
