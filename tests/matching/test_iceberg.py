"""Native icebergs in the built-in exchange's book: only the display quantity shows, a filled
visible part is refilled from the hidden rest at the back of its level (new time priority), fills
report the maker's leaves over every part, and a property test holds the invariants (no overfill,
nothing visible above the display quantity, the book never crossed) under random flow."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_oms.matching import OrderBook
from atlas_oms.model.enums import Side, TimeInForce

BUY, SELL = Side.BUY, Side.SELL


def test_an_iceberg_shows_only_its_display_qty() -> None:
    book = OrderBook("X")
    r = book.submit(1, "ice", SELL, D(10), D(100), display_qty=D(2))
    assert r.rested and r.leaves_qty == D(10)
    assert book.depth(SELL) == [(D(100), D(2))]
    resting = book.resting(1)
    assert resting is not None
    assert (resting.leaves_qty, resting.display_qty, resting.shown_qty) == (D(10), D(2), D(2))


def test_a_filled_visible_part_is_refilled_at_the_back_of_its_level() -> None:
    book = OrderBook("X")
    book.submit(1, "ice", SELL, D(10), D(100), display_qty=D(2))
    book.submit(2, "plain", SELL, D(1), D(100))
    r = book.submit(3, "taker", BUY, D(2), D(100), TimeInForce.IOC)
    assert [(f.maker_order_id, f.qty, f.maker_leaves_qty, f.part) for f in r.fills] == [
        (1, D(2), D(8), 0)
    ]
    # The refill lost its place: the plain order, behind it before, is now first.
    assert [o.order_id for o in book.orders_in_priority()] == [2, 1]
    assert book.depth(SELL) == [(D(100), D(3))]
    r = book.submit(4, "taker", BUY, D(1), D(100), TimeInForce.IOC)
    assert [f.maker_order_id for f in r.fills] == [2]


def test_a_taker_sweeping_the_level_meets_the_refills_after_the_others() -> None:
    book = OrderBook("X")
    book.submit(1, "ice", SELL, D(5), D(100), display_qty=D(2))
    book.submit(2, "plain", SELL, D(1), D(100))
    book.submit(3, "far", SELL, D(1), D(101))
    r = book.submit(4, "taker", BUY, D(7), D(101))
    got = [(f.maker_order_id, f.price, f.qty, f.maker_leaves_qty, f.part) for f in r.fills]
    assert got == [
        (1, D(100), D(2), D(3), 0),  # the visible part
        (2, D(100), D(1), D(0), 0),  # then the order that was behind it
        (1, D(100), D(2), D(1), 1),  # the first refill, at the back
        (1, D(100), D(1), D(0), 2),  # the last (smaller) refill
        (3, D(101), D(1), D(0), 0),
    ]
    assert r.filled_qty == D(7) and not r.rested and len(book) == 0
    assert book.depth(SELL) == []


def test_a_partly_filled_visible_part_keeps_its_place() -> None:
    book = OrderBook("X")
    book.submit(1, "ice", BUY, D(10), D(100), display_qty=D(3))
    book.submit(2, "plain", BUY, D(1), D(100))
    r = book.submit(3, "taker", SELL, D(1), D(100), TimeInForce.IOC)
    assert [(f.maker_order_id, f.maker_leaves_qty) for f in r.fills] == [(1, D(9))]
    assert [o.order_id for o in book.orders_in_priority()] == [1, 2]
    assert book.depth(BUY) == [(D(100), D(3))]  # 2 left shown + the plain 1


def test_an_iceberg_that_takes_liquidity_takes_with_all_of_it() -> None:
    book = OrderBook("X")
    book.submit(1, "maker", SELL, D(4), D(100))
    r = book.submit(2, "ice", BUY, D(10), D(100), display_qty=D(2))
    assert r.filled_qty == D(4) and r.leaves_qty == D(6) and r.rested
    assert book.depth(BUY) == [(D(100), D(2))]


def test_cancel_returns_the_hidden_part_too() -> None:
    book = OrderBook("X")
    book.submit(1, "ice", SELL, D(10), D(100), display_qty=D(2))
    assert book.cancel(1) == D(10)
    assert book.depth(SELL) == [] and len(book) == 0


def test_a_smaller_modify_takes_from_the_hidden_part_and_keeps_priority() -> None:
    book = OrderBook("X")
    book.submit(1, "ice", SELL, D(10), D(100), display_qty=D(2))
    r = book.modify(1, D(5), D(100))
    assert r is not None and r.priority_kept and r.leaves_qty == D(5)
    assert book.depth(SELL) == [(D(100), D(2))]
    r = book.modify(1, D(1), D(100))
    assert r is not None and r.priority_kept
    assert book.depth(SELL) == [(D(100), D(1))]
    resting = book.resting(1)
    assert resting is not None and resting.leaves_qty == D(1)


def test_a_repriced_iceberg_stays_an_iceberg() -> None:
    book = OrderBook("X")
    book.submit(1, "ice", SELL, D(10), D(100), display_qty=D(2))
    r = book.modify(1, D(10), D(101))
    assert r is not None and not r.priority_kept and r.leaves_qty == D(10)
    assert book.depth(SELL) == [(D(101), D(2))]


def test_fill_or_kill_counts_the_hidden_part() -> None:
    book = OrderBook("X")
    book.submit(1, "ice", SELL, D(10), D(100), display_qty=D(2))
    r = book.submit(2, "taker", BUY, D(10), D(100), TimeInForce.FOK)
    assert r.filled_qty == D(10) and len(book) == 0


def test_a_restored_book_keeps_its_icebergs() -> None:
    book = OrderBook("X")
    book.submit(1, "ice", SELL, D(10), D(100), display_qty=D(3))
    book.submit(2, "taker", BUY, D(1), D(100))
    again = OrderBook("X")
    again.restore(book.orders_in_priority())
    assert list(again.orders_in_priority()) == list(book.orders_in_priority())
    assert again.depth(SELL) == [(D(100), D(2))]
    # Without the part shown now, a restored iceberg shows a full visible part.
    fresh = OrderBook("X")
    fresh.restore([(1, "ice", SELL, D(100), D(9), None, D(3))])
    assert fresh.depth(SELL) == [(D(100), D(3))]


# ---------------------------------------------------------------- property
ORDER = st.tuples(
    st.sampled_from([BUY, SELL]),
    st.integers(1, 30),  # qty
    st.integers(95, 105),  # price
    st.one_of(st.none(), st.integers(1, 10)),  # display qty
    st.sampled_from([TimeInForce.GTC, TimeInForce.IOC]),
    st.integers(0, 3),  # 0: also cancel an earlier order
)


@settings(max_examples=150, deadline=None)
@given(st.lists(ORDER, min_size=1, max_size=60))
def test_icebergs_never_overfill_never_show_more_than_displayed_never_cross(
    orders: list[tuple[Side, int, int, int | None, TimeInForce, int]],
) -> None:
    book = OrderBook("X")
    qty_of: dict[int, D] = {}
    display_of: dict[int, D | None] = {}
    filled: dict[int, D] = {}
    done: set[int] = set()
    meetings: set[tuple[int, int, int]] = set()
    for oid, (side, qty, price, display, tif, action) in enumerate(orders, start=1):
        shown = D(display) if display is not None and tif is TimeInForce.GTC else None
        r = book.submit(oid, f"a{oid}", side, D(qty), D(price), tif, display_qty=shown)
        qty_of[oid], display_of[oid] = D(qty), shown
        filled[oid] = r.filled_qty
        assert r.filled_qty + r.leaves_qty + r.canceled_qty == D(qty)
        assert sum((f.qty for f in r.fills), D(0)) == r.filled_qty
        for f in r.fills:
            maker = f.maker_order_id
            assert maker not in done
            assert (oid, maker, f.part) not in meetings  # names the fill (its trade id)
            meetings.add((oid, maker, f.part))
            filled[maker] += f.qty
            assert filled[maker] <= qty_of[maker]  # no overfill
            assert f.maker_leaves_qty == qty_of[maker] - filled[maker]
            if not f.maker_leaves_qty:
                done.add(maker)
        if not r.rested:
            done.add(oid)
        if action == 0 and oid > 1 and (oid - 1) not in done:
            left = book.cancel(oid - 1)
            assert left == qty_of[oid - 1] - filled[oid - 1]
            done.add(oid - 1)
        assert not book.is_crossed()
        for o in book.orders_in_priority():
            assert o.leaves_qty == qty_of[o.order_id] - filled[o.order_id]
            cap = display_of[o.order_id]
            if cap is not None:
                assert o.shown_qty is not None and 0 < o.shown_qty <= cap
        for side_ in (BUY, SELL):
            for price_, total in book.depth(side_, 100):
                visible = sum(
                    (
                        o.shown_qty if o.shown_qty is not None else o.leaves_qty
                        for o in book.orders_in_priority()
                        if o.side is side_ and o.price == price_
                    ),
                    D(0),
                )
                assert total == visible
