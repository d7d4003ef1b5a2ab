"""Queue position of a passive limit: it fills only after the volume ahead of it traded."""

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from atlas_oms.model.enums import Side
from atlas_oms.simulation.market import Bar, BookSnapshot
from atlas_oms.simulation.queue import initial_ahead, on_bar, on_book, on_trade, volume_at_touch

BOOK = BookSnapshot(symbol="X", ts=1, bids=((D(100), D(3)), (D(99), D(5))), asks=((D(101), D(2)),))
TICK = D(1)


def bar(low: str, high: str, volume: str) -> Bar:
    return Bar(
        symbol="X",
        start_ns=0,
        ts=1,
        open=D(high),
        high=D(high),
        low=D(low),
        close=D(low),
        volume=D(volume),
    )


def test_a_new_resting_order_queues_behind_the_visible_level() -> None:
    assert initial_ahead(BOOK, Side.BUY, D(100)) == D(3)
    assert initial_ahead(BOOK, Side.BUY, D("99.5")) == 0  # a new level: first in line
    assert initial_ahead(BOOK, Side.SELL, D(101)) == D(2)
    assert initial_ahead(None, Side.BUY, D(100)) == 0


def test_prints_at_the_price_consume_the_queue_then_fill_the_order() -> None:
    step = on_trade(Side.BUY, D(100), D(2), D(3), D(100), D(2))
    assert step == (0, D(1))
    step = on_trade(Side.BUY, D(100), D(2), step.ahead, D(100), D("1.5"))
    assert step == (D("0.5"), 0)


def test_a_print_through_the_price_fills_it_entirely() -> None:
    assert on_trade(Side.BUY, D(100), D(2), D(50), D("99.9"), D("0.001")) == (D(2), 0)
    assert on_trade(Side.SELL, D(100), D(2), D(50), D("100.1"), D("0.001")) == (D(2), 0)
    assert on_trade(Side.BUY, D(100), D(2), D(50), D("100.1"), D(100)) == (0, D(50))


def test_without_queue_a_touch_fills() -> None:
    assert on_trade(Side.BUY, D(100), D(2), D(50), D(100), D("0.1"), queue=False) == (D(2), 0)


def test_a_book_that_crosses_the_price_fills_and_a_shrinking_level_moves_it_up() -> None:
    crossed = BookSnapshot(symbol="X", ts=2, bids=((D(99), D(1)),), asks=((D(100), D(1)),))
    assert on_book(Side.BUY, D(100), D(2), D(3), crossed) == (D(2), 0)
    thinner = BookSnapshot(
        symbol="X", ts=2, bids=((D(100), D(1)), (D(99), D(5))), asks=((D(101), D(2)),)
    )
    assert on_book(Side.BUY, D(100), D(2), D(3), thinner) == (0, D(1))
    # an order below the displayed depth keeps its estimate
    assert on_book(Side.BUY, D(90), D(2), D(3), thinner) == (0, D(3))


def test_a_bar_through_the_price_fills_a_touch_uses_the_estimated_volume_at_price() -> None:
    assert on_bar(Side.BUY, D(100), D(2), D(1000), bar("99", "105", "10"), TICK) == (D(2), 0)
    touch = bar("100", "104", "50")  # 5 price levels -> 10 at each
    assert volume_at_touch(touch, TICK) == D(10)
    assert on_bar(Side.BUY, D(100), D(2), D(9), touch, TICK) == (D(1), 0)
    assert on_bar(Side.BUY, D(100), D(2), D(20), touch, TICK) == (0, D(10))
    assert on_bar(Side.SELL, D(104), D(2), D(0), touch, TICK) == (D(2), 0)
    assert on_bar(Side.BUY, D(100), D(2), D(20), touch, TICK, queue=False) == (D(2), 0)


@given(
    ahead=st.decimals(min_value=0, max_value=100, places=2),
    leaves=st.decimals(min_value=D("0.01"), max_value=10, places=2),
    prints=st.lists(st.decimals(min_value=D("0.01"), max_value=20, places=2), max_size=20),
)
def test_a_resting_order_never_fills_before_the_volume_ahead_traded(ahead, leaves, prints) -> None:
    traded = D(0)
    filled = D(0)
    queue_ahead = ahead
    for qty in prints:
        step = on_trade(Side.BUY, D(100), leaves - filled, queue_ahead, D(100), qty)
        traded += qty
        filled += step.filled
        queue_ahead = step.ahead
        assert filled <= max(D(0), traded - ahead)
        assert filled <= leaves
    assert filled == min(leaves, max(D(0), traded - ahead))
