"""Fills from an L2 book: level by level, VWAP, leftover, limit, depth consumed."""

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from atlas_oms.model.enums import Side
from atlas_oms.simulation.book_walk import available, level_qty, walk

ASKS = ((D("100.5"), D("0.05")), (D(101), D(1)), (D(102), D(2)))
BIDS = ((D(100), D(1)), (D("99.5"), D(2)))


def test_a_buy_walks_the_asks_from_the_best_and_reports_vwap() -> None:
    w = walk(ASKS, Side.BUY, D("0.1"))
    assert w.fills == ((D("100.5"), D("0.05")), (D(101), D("0.05")))
    assert w.filled == D("0.1") and w.leftover == 0
    assert w.vwap == D("100.75")  # (0.05*100.5 + 0.05*101) / 0.1
    assert w.remaining == ((D(101), D("0.95")), (D(102), D(2)))


def test_a_sell_walks_the_bids_down_and_stops_at_its_limit() -> None:
    w = walk(BIDS, Side.SELL, D(2), limit=D(100))
    assert w.fills == ((D(100), D(1)),)
    assert w.leftover == D(1)
    assert w.remaining == ((D("99.5"), D(2)),)


def test_more_than_the_visible_depth_leaves_a_leftover() -> None:
    w = walk(ASKS, Side.BUY, D(5))
    assert w.filled == D("3.05") and w.leftover == D("1.95") and w.remaining == ()
    assert available(ASKS, Side.BUY) == D("3.05")
    assert available(ASKS, Side.BUY, limit=D(101)) == D("1.05")
    assert level_qty(BIDS, D("99.5")) == D(2) and level_qty(BIDS, D(98)) == 0


LEVELS = st.lists(
    st.tuples(st.integers(1, 1000), st.decimals(min_value=D("0.01"), max_value=10, places=2)),
    min_size=0,
    max_size=8,
    unique_by=lambda t: t[0],
)


@given(levels=LEVELS, qty=st.decimals(min_value=D("0.01"), max_value=50, places=2))
def test_walk_conserves_quantity_and_vwap_is_at_least_the_best_ask(levels, qty) -> None:
    asks = tuple((D(p), q) for p, q in sorted(levels))
    w = walk(asks, Side.BUY, qty)
    assert w.filled + w.leftover == qty
    assert sum(q for _, q in w.remaining) + w.filled == sum(q for _, q in asks)
    if w.filled:
        assert w.vwap is not None and w.vwap >= asks[0][0]
