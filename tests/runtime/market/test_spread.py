"""The cross-venue spread monitor: only level crossings (with hysteresis) become journaled
``VenueSpreadCrossed`` events, which replay to the same state."""

from __future__ import annotations

from decimal import Decimal as D

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model.events_market_data import NoteVenueSpread, VenueSpreadCrossed
from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.runtime.market.config import MarketDataConfig
from atlas_oms.runtime.market.hub import MarketData
from atlas_oms.runtime.market.spread import SpreadCrossings, spread_bps
from atlas_oms.store.codec import decode_event, encode_event

LEVELS = (D("0"), D("10"))


def test_spread_bps_is_bid_over_ask_in_basis_points() -> None:
    assert spread_bps(D("100"), D("100.1")) == D("10.00")
    assert spread_bps(D("100"), D("99.9")) == D("-10.00")


def test_only_level_crossings_are_reported_not_every_tick() -> None:
    c = SpreadCrossings(hysteresis_bps=D("1"))
    assert c.observe("k", D("-5"), LEVELS) == []
    assert [(x.level_bps, x.direction) for x in c.observe("k", D("12"), LEVELS)] == [
        (D("0"), "UP"),
        (D("10"), "UP"),
    ]
    assert c.observe("k", D("15"), LEVELS) == []  # still above: nothing
    assert c.observe("k", D("9.5"), LEVELS) == []  # inside the hysteresis band
    assert c.observe("k", D("10.5"), LEVELS) == []
    down = c.observe("k", D("8.9"), LEVELS)
    assert [(x.level_bps, x.direction) for x in down] == [(D("10"), "DOWN")]
    assert c.observe("k", D("9.5"), LEVELS) == []  # back under 10 +: not yet at it
    assert [x.direction for x in c.observe("k", D("10"), LEVELS)] == ["UP"]
    assert [(x.level_bps, x.direction) for x in c.observe("k", D("-3"), LEVELS)] == [
        (D("10"), "DOWN"),
        (D("0"), "DOWN"),
    ]


def test_keys_are_independent() -> None:
    c = SpreadCrossings(hysteresis_bps=D("0"))
    assert len(c.observe("a", D("11"), LEVELS)) == 2
    assert len(c.observe("b", D("5"), LEVELS)) == 1


def book(venue: str, symbol: str, bid: str, ask: str, ts: int) -> VenueBook:
    return VenueBook(
        venue=venue,
        symbol=symbol,
        bids=(BookLevel(D(bid), D("1")),),
        asks=(BookLevel(D(ask), D("1")),),
        ts=ts,
    )


def test_a_crossing_between_two_venues_is_journaled_and_replays() -> None:
    node = Node.in_memory(clock=ManualClock(1_000))
    md = MarketData(node, MarketDataConfig(spread_levels_bps={"BTC/USDT": (D("5"),)}))
    md.apply(book("binance", "BTC/USDT", "99.9", "100", 1_000))
    md.apply(book("bybit", "BTC/USDT@bybit", "99.8", "99.95", 1_000))
    assert not [e for e in node.journal.read() if isinstance(e, VenueSpreadCrossed)]
    md.apply(book("bybit", "BTC/USDT@bybit", "100.1", "100.2", 1_000))  # sell there at 100.1
    md.apply(book("bybit", "BTC/USDT@bybit", "100.12", "100.2", 1_000))  # still above: nothing
    crossed = [e for e in node.journal.read() if isinstance(e, VenueSpreadCrossed)]
    assert len(crossed) == 1
    e = crossed[0]
    assert (e.symbol, e.buy_venue, e.sell_venue, e.level_bps, e.direction) == (
        "BTC/USDT",
        "binance",
        "bybit",
        D("5"),
        "UP",
    )
    assert e.spread_bps == D("10.00") and e.buy_price == D("100") and e.sell_price == D("100.1")
    assert decode_event(encode_event(e)) == e
    replayed = Node(node.journal)
    assert replayed.engine.seq == node.engine.seq


def test_the_core_journals_the_note_as_it_came() -> None:
    node = Node.in_memory(clock=ManualClock(5))
    node.add_instrument(Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.001"))
    events = node.process(
        NoteVenueSpread(
            ts=7,
            symbol="BTC/USDT",
            buy_venue="a",
            sell_venue="b",
            spread_bps=D("-3.5"),
            level_bps=D("0"),
            direction="DOWN",
        )
    )
    assert len(events) == 1 and isinstance(events[0], VenueSpreadCrossed)
    assert events[0].ts_event == 7 and events[0].direction == "DOWN"
