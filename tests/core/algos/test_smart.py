"""SMART parents: each route decided by the router from a route book (the Node's default: the
built-in exchange's own book; or one given with the command), the decision journaled whole (the
best-execution rationale), children split over venue instruments, and the remainder re-routed
when a child does not fill."""

from __future__ import annotations

from decimal import Decimal as D

from algo_world import SEC, T0, events_of, world

from atlas_oms.model.algos import AlgoStatus
from atlas_oms.model.events_algos import (
    AlgoChildPlaced,
    AlgoRerouted,
    AlgoRouted,
    AlgoRouteRequested,
    AlgoSliceStarted,
)
from atlas_oms.model.route_book import BookLevel, RouteBook, VenueBook


def test_smart_with_the_default_book_routes_to_the_built_in_exchange() -> None:
    node = world(asks=(("100", "0.4"), ("101", "5")))
    view = node.submit_algo("t1", "BTC/USDT", "BUY", "1", "SMART", algo_id="s1")
    (asked,) = events_of(node, AlgoRouteRequested, "s1")
    assert asked.qty == D("1")
    (routed,) = events_of(node, AlgoRouted, "s1")
    decision = routed.decision
    assert [(a.symbol, a.venue, a.qty) for a in decision.allocations] == [
        ("BTC/USDT", "sim", D("1"))
    ]
    (seen,) = decision.seen
    assert (seen.venue, seen.best_ask, seen.best_bid) == ("sim", D("100"), D("90"))
    view = node.algo("s1")
    assert view.status == AlgoStatus.DONE and view.cum_qty == D("1")
    assert view.avg_px == (D("0.4") * 100 + D("0.6") * 101) / 1


def _two_venue_book(ts: int, x_asks: tuple[BookLevel, ...]) -> RouteBook:
    return RouteBook(
        symbol="BTC/USDT",
        quote="USDT",
        ts=ts,
        books=(
            VenueBook(venue="sim", symbol="BTC/USDT", asks=(BookLevel(D("100"), D("0.6")),), ts=ts),
            VenueBook(venue="sim", symbol="BTC/USDT@x", asks=x_asks, ts=ts),
        ),
    )


def test_smart_splits_over_two_instruments_and_records_the_prices_seen() -> None:
    node = world(second=True, asks=(("100", "0.6"),))
    node.sell("mm", "BTC/USDT@x", "0.5", "99")
    book = _two_venue_book(T0, (BookLevel(D("99"), D("0.5")),))
    node.submit_algo("t1", "BTC/USDT", "BUY", "1", "SMART", algo_id="s2", book=book)
    assert events_of(node, AlgoRouteRequested, "s2") == []  # the command carried the book
    (routed,) = events_of(node, AlgoRouted, "s2")
    d = routed.decision
    assert sorted((a.symbol, a.qty, a.limit_price) for a in d.allocations) == [
        ("BTC/USDT", D("0.5"), D("100")),
        ("BTC/USDT@x", D("0.5"), D("99")),
    ]
    assert {s.symbol: s.best_ask for s in d.seen} == {"BTC/USDT": D("100"), "BTC/USDT@x": D("99")}
    placed = events_of(node, AlgoChildPlaced, "s2")
    assert sorted(e.symbol for e in placed) == ["BTC/USDT", "BTC/USDT@x"]
    view = node.algo("s2")
    assert view.status == AlgoStatus.DONE and view.cum_qty == D("1")
    assert view.avg_px == D("99.5")
    assert sum(o.cum_qty for o in view.children) == view.cum_qty


def test_reroute_sends_an_unfilled_remainder_again_from_a_fresh_book() -> None:
    node = world(second=True, asks=(("100", "5"),))
    # The book says @x offers 0.5 at 99, but nothing rests there: that child does not fill.
    book = _two_venue_book(T0, (BookLevel(D("99"), D("0.5")),))
    node.submit_algo(
        "t1",
        "BTC/USDT",
        "BUY",
        "1",
        "SMART",
        algo_id="s3",
        book=book,
        remainder="REROUTE",
        reroute_after_ms=1_000,
    )
    assert node.algo("s3").cum_qty == D("0.5") and node.algo("s3").working_qty == D("0.5")
    node.clock.set(T0 + SEC)  # type: ignore[attr-defined]
    node.tick()
    (moved,) = events_of(node, AlgoRerouted, "s3")
    assert (moved.qty, moved.policy, moved.reason) == (D("0.5"), "REROUTE", "CANCELED")
    routes = events_of(node, AlgoRouted, "s3")
    assert len(routes) == 2  # the second from the Node's fresh book: only BTC/USDT shows asks
    assert [(a.symbol, a.qty) for a in routes[1].decision.allocations] == [("BTC/USDT", D("0.5"))]
    view = node.algo("s3")
    assert view.status == AlgoStatus.DONE and view.cum_qty == D("1") and view.avg_px == D("100")


def test_remainder_cancel_ends_the_parent_with_what_filled() -> None:
    node = world(second=True, asks=(("100", "5"),))
    book = _two_venue_book(T0, (BookLevel(D("99"), D("0.5")),))
    node.submit_algo(
        "t1",
        "BTC/USDT",
        "BUY",
        "1",
        "SMART",
        algo_id="s4",
        book=book,
        remainder="CANCEL",
        reroute_after_ms=1_000,
    )
    node.clock.set(T0 + SEC)  # type: ignore[attr-defined]
    node.tick()
    view = node.algo("s4")
    assert view.status == AlgoStatus.CANCELED and view.cum_qty == D("0.5")
    assert view.working_qty == 0


def test_twap_slices_can_each_be_routed() -> None:
    node = world(second=True, asks=(("100", "5"),))
    node.sell("mm", "BTC/USDT@x", "5", "99.5")
    node.submit_algo(
        "t1",
        "BTC/USDT",
        "BUY",
        "1",
        "TWAP",
        algo_id="tws",
        venue="SMART",
        duration_ms=20_000,
        slices=2,
    )
    node.clock.set(T0 + 10 * SEC)  # type: ignore[attr-defined]
    node.tick()
    assert [e.qty for e in events_of(node, AlgoSliceStarted, "tws")] == [D("0.5"), D("0.5")]
    routes = events_of(node, AlgoRouted, "tws")
    assert [r.slice_no for r in routes] == [0, 1]
    assert all(a.symbol == "BTC/USDT@x" for r in routes for a in r.decision.allocations)
    view = node.algo("tws")
    assert view.status == AlgoStatus.DONE and view.avg_px == D("99.5")
