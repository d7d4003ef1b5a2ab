"""Arbitrage detection (MD-1/VEN-5): a bid above another venue's ask by more than both fees and
the threshold is an opportunity sized by walking both books; only new, changed and ended
opportunities are journaled."""

from __future__ import annotations

from decimal import Decimal

from sor_world import D, inst, rbook, vbook, world

from atlas_oms.core.engine import Engine
from atlas_oms.core.sor.arbitrage import ArbitrageTracker, find_arbitrage
from atlas_oms.core.sor.candidates import route_candidates
from atlas_oms.core.state.digest import digest
from atlas_oms.model.enums import Side
from atlas_oms.model.events_sor import ArbitrageDetected

FEES = {"BTC/USDT": D("0.001"), "BTC/USDT@x": D("0.001")}


def crossed(bid_b: str = "101", ts: int = 100) -> object:
    return rbook(
        vbook(
            "sim", "BTC/USDT", asks=[("100", "1"), ("100.5", "2"), ("101", "5")], bids=[("99", "1")]
        ),
        vbook("sim", "BTC/USDT@x", asks=[("102", "1")], bids=[(bid_b, "1.5"), ("100.6", "3")]),
        ts=ts,
    )


def test_a_bid_above_another_venues_ask_by_more_than_fees_is_an_opportunity_sized_by_the_walk() -> (
    None
):
    [opp] = find_arbitrage(crossed(), FEES, Decimal(0))  # type: ignore[arg-type]
    assert (opp.buy_symbol, opp.sell_symbol) == ("BTC/USDT", "BTC/USDT@x")
    assert (opp.buy_px, opp.sell_px) == (D("100"), D("101"))
    # Walk: 1 @100 vs 101 (edge 101*0.999-100*1.001=0.799); 0.5 @100.5 vs 101 (0.2985);
    # 100.5 vs 100.6: 100.4994 - 100.6005 < 0: stop.
    assert opp.qty == D("1.5")
    assert opp.expected_profit == D("0.799") + D("0.5") * (D("100.899") - D("100.6005"))
    assert (opp.buy_limit, opp.sell_limit) == (D("100.5"), D("101"))
    assert opp.edge_bps == D("79.9")


def test_fees_and_the_threshold_can_cancel_an_opportunity() -> None:
    # 100.2 vs 100: fees 0.2004 + 0.1 > 0.2: nothing.
    assert find_arbitrage(crossed("100.2"), FEES, Decimal(0)) == []  # type: ignore[arg-type]
    # 79.9 bps at the top: a threshold of 80 bps hides it; 30 bps keeps only the first level.
    assert find_arbitrage(crossed(), FEES, Decimal(80)) == []  # type: ignore[arg-type]
    [opp] = find_arbitrage(crossed(), FEES, Decimal(30))  # type: ignore[arg-type]
    assert opp.qty == 1


def test_the_fees_may_come_from_the_routers_candidates_and_a_krw_book_through_its_rate() -> None:
    state = world(
        [inst("BTC/USDT", taker="0.001"), inst("BTC/KRW@u", quote="KRW", tick="1", taker="0.0005")]
    )
    book = rbook(
        vbook("sim", "BTC/USDT", asks=[("100", "2")]),
        vbook("sim", "BTC/KRW@u", bids=[("140000", "1")]),
        rates={"KRW": "0.00075"},
    )
    cands = route_candidates(state, "a", Side.BUY, book)
    [opp] = find_arbitrage(book, cands, Decimal(10))
    assert (opp.buy_symbol, opp.sell_symbol, opp.qty) == ("BTC/USDT", "BTC/KRW@u", 1)
    assert opp.expected_profit == D("140000") * D("0.00075") * D("0.9995") - D("100.1")
    # The mapping form reads the quote from the symbol.
    [same] = find_arbitrage(book, {"BTC/USDT": D("0.001"), "BTC/KRW@u": D("0.0005")}, Decimal(10))
    assert same == opp


def test_the_tracker_journals_only_new_changed_and_ended_opportunities() -> None:
    tracker = ArbitrageTracker(Decimal(0))
    first = tracker.update(crossed(ts=1), FEES)  # type: ignore[arg-type]
    assert [x.status for x in first] == ["NEW"]
    assert tracker.update(crossed(ts=2), FEES) == []  # type: ignore[arg-type]
    moved = tracker.update(crossed("101.5", ts=3), FEES)  # type: ignore[arg-type]
    assert [x.status for x in moved] == ["CHANGED"]
    ended = tracker.update(crossed("99", ts=4), FEES)  # type: ignore[arg-type]
    assert [x.status for x in ended] == ["ENDED"]
    assert ended[0].opportunity == moved[0].opportunity and ended[0].ts == 4
    # Journaled: one ArbitrageDetected each, nothing else changes; replay gives the same digest.
    e = Engine()
    events = []
    for command in (*first, *moved, *ended):
        events += e.handle(command)
    assert [type(x) for x in events] == [ArbitrageDetected] * 3
    assert [x.status for x in events] == ["NEW", "CHANGED", "ENDED"]  # type: ignore[attr-defined]
    again = Engine()
    again.apply_all(events)
    assert (
        digest(again.state)
        == digest(e.state)
        == digest(Engine().state.__class__() if False else again.state)
    )


def test_arbitrage_events_round_trip_through_the_codec() -> None:
    from atlas_oms.store.codec import decode_event, encode_event

    tracker = ArbitrageTracker(Decimal(0))
    [cmd] = tracker.update(crossed(), FEES)  # type: ignore[arg-type]
    [event] = Engine().handle(cmd)
    assert decode_event(encode_event(event)) == event  # type: ignore[arg-type]
