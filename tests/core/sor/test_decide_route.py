"""The router's decision: the best fee-adjusted price wins, splits follow the consolidated book
walk, and venue filters, limits, capacity and venue status are respected (issue 16, VEN-5)."""

from __future__ import annotations

from sor_world import D, inst, rbook, vbook, world

from atlas_oms.core.sor.route import decide_route
from atlas_oms.model.enums import Side


def route(state, book, qty, side=Side.BUY, limit=None, margin="0", account="a"):  # type: ignore[no-untyped-def]
    return decide_route(
        state,
        account_id=account,
        side=side,
        qty=D(qty),
        limit_price=None if limit is None else D(limit),
        book=book,
        depth_margin_pct=D(margin),
    )


def test_best_fee_adjusted_price_wins_over_a_cheaper_raw_price_with_a_higher_fee() -> None:
    state = world([inst("BTC/USDT", taker="0.001"), inst("BTC/USDT@x", taker="0.004")])
    # @x is 0.1 cheaper raw, but its fee costs 0.3 more per unit at 100.
    book = rbook(
        vbook("sim", "BTC/USDT", asks=[("100.0", "5")]),
        vbook("sim", "BTC/USDT@x", asks=[("99.9", "5")]),
    )
    d = route(state, book, "1")
    assert [a.symbol for a in d.allocations] == ["BTC/USDT"]
    assert d.allocations[0].qty == 1
    assert d.expected_cost == D("100.1")
    seen = {s.symbol: s for s in d.seen}
    assert seen["BTC/USDT"].adjusted_px == D("100.1")
    assert seen["BTC/USDT@x"].adjusted_px == D("99.9") * D("1.004")
    assert not seen["BTC/USDT@x"].used and seen["BTC/USDT@x"].skipped == "NOT_NEEDED"


def test_a_sell_takes_the_best_fee_adjusted_bid() -> None:
    state = world([inst("BTC/USDT", taker="0.001"), inst("BTC/USDT@x", taker="0.004")])
    book = rbook(
        vbook("sim", "BTC/USDT", bids=[("100.0", "5")]),
        vbook("sim", "BTC/USDT@x", bids=[("100.2", "5")]),
    )
    d = route(state, book, "2", side=Side.SELL)
    # 100.2 x 0.996 = 99.7992 < 100 x 0.999 = 99.9
    assert [(a.symbol, a.qty) for a in d.allocations] == [("BTC/USDT", 2)]
    assert d.expected_cost == D("199.8")


def three_venues() -> tuple[object, object]:
    state = world(
        [
            inst("BTC/USDT", venue="sim", taker="0.001"),
            inst("BTC/USDT@b", venue="sim", taker="0.002"),
            inst("BTC/USDT@c", venue="sim", taker="0.0005"),
        ]
    )
    book = rbook(
        vbook("sim", "BTC/USDT", asks=[("100", "1"), ("101", "2"), ("103", "5")]),
        vbook("sim", "BTC/USDT@b", asks=[("100", "0.5"), ("100.5", "1")]),
        vbook("sim", "BTC/USDT@c", asks=[("100.2", "1"), ("102", "3")]),
    )
    return state, book


def test_a_split_across_three_venues_costs_what_the_hand_walk_predicts() -> None:
    state, book = three_venues()
    d = route(state, book, "5")
    # Adjusted: A 100 -> 100.1; B 100 -> 100.2; C 100.2 -> 100.2501; B 100.5 -> 100.701;
    # A 101 -> 101.101; C 102 -> 102.051 ... 5 units: A1 @100, B0.5 @100, C1 @100.2, B1 @100.5,
    # A1.5 @101.
    by = {a.symbol: a for a in d.allocations}
    assert [a.symbol for a in d.allocations] == ["BTC/USDT", "BTC/USDT@b", "BTC/USDT@c"]
    assert by["BTC/USDT"].qty == D("2.5") and by["BTC/USDT"].limit_price == D("101")
    assert by["BTC/USDT@b"].qty == D("1.5") and by["BTC/USDT@b"].limit_price == D("100.5")
    assert by["BTC/USDT@c"].qty == D("1") and by["BTC/USDT@c"].limit_price == D("100.2")
    cost_a = (D("100") * 1 + D("101") * D("1.5")) * D("1.001")
    cost_b = (D("100") * D("0.5") + D("100.5") * 1) * D("1.002")
    cost_c = D("100.2") * D("1.0005")
    assert by["BTC/USDT"].expected_cost == cost_a
    assert by["BTC/USDT@b"].expected_cost == cost_b
    assert by["BTC/USDT@c"].expected_cost == cost_c
    assert d.expected_cost == cost_a + cost_b + cost_c
    raw = D("100") + D("151.5") + D("50") + D("100.5") + D("100.2")
    assert d.expected_avg_px == raw / 5
    assert d.unallocated == 0
    assert by["BTC/USDT"].expected_avg_px == D("251.5") / D("2.5")


def test_the_limit_price_stops_the_walk_and_the_rest_is_unallocated() -> None:
    state, book = three_venues()
    d = route(state, book, "10", limit="100.5")
    assert sum(a.qty for a in d.allocations) == D("3.5")
    assert d.unallocated == D("6.5")
    assert all(a.limit_price <= D("100.5") for a in d.allocations)
    state2, book2 = three_venues()
    d2 = route(state2, book2, "1", limit="99")
    assert d2.allocations == () and d2.unallocated == 1
    assert {s.skipped for s in d2.seen} == {"LIMIT_PRICE"}


def test_the_depth_margin_only_absorbs_what_no_venue_shows() -> None:
    state, book = three_venues()
    # Within 100.5 the venues show A 1, B 1.5, C 1 (3.5). A 20 % margin: A 0.2, B 0.3, C 0.2.
    d = route(state, book, "10", limit="100.5", margin="20")
    by = {a.symbol: a for a in d.allocations}
    assert by["BTC/USDT"].qty == D("1.2") and by["BTC/USDT"].margin_qty == D("0.2")
    assert by["BTC/USDT@b"].qty == D("1.8") and by["BTC/USDT@b"].margin_qty == D("0.3")
    assert by["BTC/USDT@c"].qty == D("1.2") and by["BTC/USDT@c"].margin_qty == D("0.2")
    assert d.unallocated == D("10") - D("4.2")
    # The margin is priced at the child's limit price.
    assert by["BTC/USDT@c"].expected_cost == D("1.2") * D("100.2") * D("1.0005")
    # A quantity the visible depth covers gets no margin at all.
    d2 = route(state, book, "3", limit="100.5", margin="20")
    assert all(a.margin_qty == 0 for a in d2.allocations)
    assert d2.unallocated == 0


def test_children_are_rounded_to_their_lot_and_the_rest_goes_to_the_next_venue() -> None:
    state = world(
        [
            inst("BTC/USDT", lot="1", taker="0"),
            inst("BTC/USDT@x", lot="0.001", taker="0"),
        ]
    )
    book = rbook(
        vbook("sim", "BTC/USDT", asks=[("100", "1.7")]),
        vbook("sim", "BTC/USDT@x", asks=[("101", "5")]),
    )
    d = route(state, book, "3")
    assert [(a.symbol, a.qty) for a in d.allocations] == [("BTC/USDT", 1), ("BTC/USDT@x", 2)]
    assert d.unallocated == 0


def test_a_child_below_min_notional_or_min_qty_is_dropped_and_its_quantity_rerouted() -> None:
    state = world(
        [
            inst("BTC/USDT", taker="0", min_notional="50"),
            inst("BTC/USDT@x", taker="0", min_qty="0.5"),
            inst("BTC/USDT@y", taker="0"),
        ]
    )
    book = rbook(
        vbook("sim", "BTC/USDT", asks=[("100", "0.3")]),
        vbook("sim", "BTC/USDT@x", asks=[("100.5", "1")]),
        vbook("sim", "BTC/USDT@y", asks=[("101", "5")]),
    )
    d = route(state, book, "0.4")
    # BTC/USDT alone would get 0.3 (30 < 50 notional) and @x 0.1 (< 0.5 min qty): both dropped.
    assert [(a.symbol, a.qty) for a in d.allocations] == [("BTC/USDT@y", D("0.4"))]
    seen = {s.symbol: s.skipped for s in d.seen}
    assert seen == {
        "BTC/USDT": "BELOW_MIN_NOTIONAL",
        "BTC/USDT@x": "BELOW_MIN_QTY",
        "BTC/USDT@y": "",
    }
    # With more quantity @x clears its min qty; BTC/USDT never shows 50 of notional.
    d2 = route(state, book, "0.8")
    assert [(a.symbol, a.qty) for a in d2.allocations] == [
        ("BTC/USDT@x", D("0.8")),
    ]
    assert d2.seen[0].skipped == "BELOW_MIN_NOTIONAL"


def test_a_krw_book_is_compared_through_its_rate() -> None:
    state = world(
        [inst("BTC/USDT", taker="0.001"), inst("BTC/KRW@u", quote="KRW", tick="1", taker="0.0005")]
    )
    # 1 KRW = 0.00075 USDT: 133,000 KRW = 99.75 USDT (99.799875 with the fee) beats 100.1.
    book = rbook(
        vbook("sim", "BTC/USDT", asks=[("100", "5")]),
        vbook("sim", "BTC/KRW@u", asks=[("133000", "1"), ("134000", "1")]),
        rates={"KRW": "0.00075"},
    )
    d = route(state, book, "1.5")
    assert [(a.symbol, a.qty) for a in d.allocations] == [
        ("BTC/KRW@u", D("1")),
        ("BTC/USDT", D("0.5")),
    ]
    krw = d.allocations[0]
    assert krw.limit_price == D("133000")  # venue quote
    assert krw.expected_avg_px == D("133000")
    assert krw.expected_cost == D("133000") * D("0.00075") * D("1.0005")
    assert d.expected_avg_px == ((D("99.75") + D("50")) / D("1.5")).quantize(D("1e-12"))
    # Without a rate the KRW book is not used.
    d2 = route(state, rbook(*book.books), "1.5")
    assert {s.symbol: s.skipped for s in d2.seen}["BTC/KRW@u"] == "NO_RATE"
    # A limit in the reference quote applies to the converted price.
    d3 = route(state, book, "1.5", limit="99.8")
    assert [(a.symbol, a.qty) for a in d3.allocations] == [("BTC/KRW@u", D("1"))]


def test_capacity_bounds_each_account_and_the_next_account_takes_the_rest() -> None:
    state = world(
        [inst("BTC/USDT", taker="0")],
        accounts={"a": {"USDT": "150"}, "b": {"USDT": "1000"}, "s": {"BTC": "0.2"}},
    )
    book = rbook(
        vbook("sim", "BTC/USDT", asks=[("100", "5")], bids=[("99", "5")]), accounts=("a", "b")
    )
    d = route(state, book, "3")
    assert [(a.account_id, a.qty) for a in d.allocations] == [("a", D("1.5")), ("b", D("1.5"))]
    d2 = route(state, rbook(*book.books), "1", side=Side.SELL, account="s")
    assert [(a.account_id, a.qty) for a in d2.allocations] == [("s", D("0.2"))]
    assert d2.unallocated == D("0.8")
    empty = world([inst("BTC/USDT")], accounts={"z": {"BTC": "1"}})
    d3 = route(empty, rbook(*book.books), "1", account="z")
    assert d3.allocations == () and d3.seen[0].skipped == "NO_BALANCE"


def test_throttled_and_not_tradable_accounts_are_skipped_with_the_reason() -> None:
    from atlas_oms.model.venue import SetVenueStatus

    plenty = {"USDT": "10000000", "BTC": "1000"}
    state = world(
        [
            inst("BTC/USDT@bin", venue="binance"),
            inst("BTC/USDT@by", venue="bybit"),
            inst("BTC/USDT"),
        ],
        accounts={"a": plenty, "s": plenty},
        extra=[
            SetVenueStatus(ts=1, venue="binance", account_id="a", tradable=False, reason="BANNED"),
            SetVenueStatus(ts=1, venue="bybit", account_id="a", tradable=True, reason="READY"),
        ],
    )
    book = rbook(
        vbook("binance", "BTC/USDT@bin", asks=[("90", "5")]),
        vbook("bybit", "BTC/USDT@by", asks=[("91", "5")]),
        vbook("sim", "BTC/USDT", asks=[("100", "5")]),
        throttled=("bybit/a",),
        accounts=("a", "s"),
    )
    d = route(state, book, "1")
    assert [(a.symbol, a.account_id) for a in d.allocations] == [("BTC/USDT", "s")]
    assert {(s.symbol, s.account_id): s.skipped for s in d.seen} == {
        ("BTC/USDT@bin", "a"): "NOT_TRADABLE",
        ("BTC/USDT@bin", "s"): "NOT_TRADABLE",  # binance manages its accounts: s has no status
        ("BTC/USDT@by", "a"): "THROTTLED",
        ("BTC/USDT@by", "s"): "NOT_TRADABLE",
        # a venue account trades only on its own venues (its balances are theirs)
        ("BTC/USDT", "a"): "NOT_TRADABLE",
        ("BTC/USDT", "s"): "",
    }
    assert d.seen[0].best_ask == D("90") and d.seen[0].adjusted_px is None


def test_an_accounts_fee_tier_in_the_route_book_replaces_the_instruments_fee() -> None:
    from atlas_oms.model.route_book import AccountFee

    state = world([inst("BTC/USDT", taker="0.001"), inst("BTC/USDT@x", taker="0.001")])
    book = rbook(
        vbook("sim", "BTC/USDT", asks=[("100.0", "5")]),
        vbook("x", "BTC/USDT@x", asks=[("99.9", "5")]),
        fees=(AccountFee("x", "a", D("0.002"), D("0.004")),),
    )
    d = route(state, book, "1")
    assert [a.symbol for a in d.allocations] == ["BTC/USDT"]
    seen = {s.symbol: s for s in d.seen}
    assert seen["BTC/USDT@x"].adjusted_px == D("99.9") * D("1.004")
    assert d.expected_cost == D("100.1")


def test_avoided_venue_accounts_are_skipped_as_venue_rejected() -> None:
    state = world([inst("BTC/USDT"), inst("BTC/USDT@x", venue="x")])
    book = rbook(
        vbook("x", "BTC/USDT@x", asks=[("99", "5")]),
        vbook("sim", "BTC/USDT", asks=[("100", "5")]),
    )
    d = decide_route(
        state,
        account_id="a",
        side=Side.BUY,
        qty=D("1"),
        limit_price=None,
        book=book,
        avoid=frozenset({"x/a"}),
    )
    assert [a.symbol for a in d.allocations] == ["BTC/USDT"]
    assert {s.symbol: s.skipped for s in d.seen}["BTC/USDT@x"] == "VENUE_REJECTED"


def test_a_stale_book_is_not_used() -> None:
    state = world([inst("BTC/USDT"), inst("BTC/USDT@x")])
    book = rbook(
        vbook("sim", "BTC/USDT", asks=[("100", "5")], ts=1000),
        vbook("sim", "BTC/USDT@x", asks=[("90", "5")], ts=100),
        ts=1000,
        stale_ns=500,
    )
    d = route(state, book, "1")
    assert [a.symbol for a in d.allocations] == ["BTC/USDT"]
    assert {s.symbol: s.skipped for s in d.seen}["BTC/USDT@x"] == "STALE_BOOK"


def test_accounts_on_one_venue_share_its_levels_in_routing_order() -> None:
    state = world(
        [inst("BTC/USDT", taker="0")],
        accounts={"a": {"USDT": "1000000"}, "b": {"USDT": "1000000"}},
    )
    book = rbook(vbook("sim", "BTC/USDT", asks=[("100", "1"), ("101", "1")]), accounts=("b", "a"))
    d = route(state, book, "1.5")
    assert [(a.account_id, a.qty) for a in d.allocations] == [("b", D("1.5"))]
    assert sum(a.qty for a in d.allocations) <= 2


def test_a_linear_derivatives_capacity_is_free_margin_times_leverage() -> None:
    from atlas_oms.core.sor.candidates import route_candidates
    from atlas_oms.model import commands as cmd
    from atlas_oms.model.instrument import Instrument

    perp = Instrument.perpetual("BTC/USDT:USDT", tick_size="0.1", lot_size="0.001", taker_fee="0")
    inverse = Instrument.perpetual("BTC/USD:BTC", tick_size="0.1", lot_size="1")
    state = world(
        [perp, inverse],
        accounts={"a": {"USDT": "1000", "BTC": "1"}},
        extra=[cmd.SetLeverage(ts=1, account_id="a", symbol=perp.symbol, leverage=D(5))],
    )
    book = rbook(
        vbook("sim", perp.symbol, asks=[("100", "100")], bids=[("99", "100")]),
        vbook("sim", inverse.symbol, asks=[("100", "100")]),
    )
    for side in (Side.BUY, Side.SELL):
        lin, inv = route_candidates(state, "a", side, book)
        assert (lin.buy_power, lin.sell_qty) == (D(5000), None)
        assert (inv.buy_power, inv.sell_qty) == (None, None)
    # 5,000 of notional buys 50 at 100 (no fee), the rest is unallocated.
    d = route(state, rbook(book.books[0]), "80")
    assert [(a.symbol, a.qty) for a in d.allocations] == [(perp.symbol, D(50))]
    assert d.unallocated == 30


def test_an_off_tick_level_is_rounded_to_stay_marketable_unless_that_crosses_the_limit() -> None:
    state = world([inst("BTC/USDT", tick="0.01", taker="0")])
    book = rbook(
        vbook("sim", "BTC/USDT", asks=[("100.005", "1")], bids=[("99.995", "1")]),
    )
    assert route(state, book, "1").allocations[0].limit_price == D("100.01")
    assert route(state, book, "1", side=Side.SELL).allocations[0].limit_price == D("99.99")
    assert route(state, book, "1", limit="100.005").allocations[0].limit_price == D("100.00")


def test_a_decision_round_trips_through_msgpack_and_json_for_the_audit_event() -> None:
    import msgspec

    from atlas_oms.model.route_decision import RouteDecision

    state, book = three_venues()
    d = route(state, book, "10", limit="100.5", margin="20")
    for enc, dec in (
        (msgspec.msgpack.encode, msgspec.msgpack.Decoder(RouteDecision)),
        (msgspec.json.encode, msgspec.json.Decoder(RouteDecision)),
    ):
        assert dec.decode(enc(d)) == d
