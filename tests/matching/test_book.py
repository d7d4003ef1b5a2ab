"""Specifications of the price-time-priority order book, one behaviour per test."""

from __future__ import annotations

import ast
from decimal import Decimal as D
from pathlib import Path

import pytest

import atlas_oms.matching as matching
from atlas_oms.matching import (
    REASON_FOK_NOT_FILLABLE,
    REASON_IOC_REMAINDER,
    REASON_MARKET_NO_LIQUIDITY,
    REASON_MODIFY_TO_ZERO,
    REASON_POST_ONLY_WOULD_TAKE,
    REASON_SELF_TRADE_PREVENTED,
    Fill,
    OrderBook,
    RestingOrder,
)
from atlas_oms.model.enums import SelfTradePrevention as STP
from atlas_oms.model.enums import Side, TimeInForce

BUY, SELL = Side.BUY, Side.SELL


def book_with_asks(*asks: tuple[int, str, str, str], stp: STP = STP.CANCEL_TAKER) -> OrderBook:
    """Build a book from (order_id, account_id, qty, price) sells, in time order."""
    book = OrderBook("BTC-USD", stp)
    for oid, account, qty, price in asks:
        result = book.submit(oid, account, SELL, D(qty), D(price))
        assert result.rested
    return book


def ids(book: OrderBook) -> list[int]:
    return [o.order_id for o in book.orders_in_priority()]


# ---------------------------------------------------------------- price-time priority


def test_earlier_order_at_same_price_fills_first() -> None:
    book = book_with_asks((1, "m1", "1", "100"), (2, "m2", "1", "100"))
    result = book.submit(10, "t", BUY, D(1), D(100))
    assert [f.maker_order_id for f in result.fills] == [1]
    assert ids(book) == [2]


def test_better_price_fills_before_earlier_order() -> None:
    book = book_with_asks((1, "m1", "1", "101"), (2, "m2", "1", "100"))
    result = book.submit(10, "t", BUY, D(1), D(101))
    assert [f.maker_order_id for f in result.fills] == [2]


def test_every_fill_is_at_the_makers_price() -> None:
    book = book_with_asks((1, "m1", "1", "100"), (2, "m2", "1", "101"))
    result = book.submit(10, "t", BUY, D(2), D(105))
    assert [f.price for f in result.fills] == [D(100), D(101)]


def test_partial_fill_across_many_orders_and_levels_rests_the_remainder() -> None:
    book = book_with_asks(
        (1, "m1", "1", "100"),
        (2, "m2", "2", "100"),
        (3, "m3", "3", "101"),
        (4, "m4", "5", "102"),
    )
    result = book.submit(10, "t", BUY, D(8), D(101))
    assert result.fills == [
        Fill(1, "m1", D(100), D(1), D(0)),
        Fill(2, "m2", D(100), D(2), D(0)),
        Fill(3, "m3", D(101), D(3), D(0)),
    ]
    assert (result.filled_qty, result.leaves_qty, result.rested) == (D(6), D(2), True)
    assert result.canceled_qty == 0 and result.reason is None
    assert book.best_bid() == D(101) and book.best_ask() == D(102)
    assert book.resting(10) == RestingOrder(10, "t", BUY, D(101), D(2), "t")


def test_partial_maker_fill_reports_maker_leaves_and_keeps_its_place() -> None:
    book = book_with_asks((1, "m1", "5", "100"), (2, "m2", "5", "100"))
    result = book.submit(10, "t", BUY, D("1.5"), None)
    assert result.fills == [Fill(1, "m1", D(100), D("1.5"), D("3.5"))]
    assert ids(book) == [1, 2]
    assert book.depth(SELL) == [(D(100), D("8.5"))]


def test_limit_that_does_not_cross_rests_without_fills() -> None:
    book = book_with_asks((1, "m1", "1", "100"))
    result = book.submit(10, "t", BUY, D(1), D(99))
    assert result.fills == [] and result.rested and result.leaves_qty == D(1)
    assert book.best_bid() == D(99)


def test_depth_aggregates_levels_best_first() -> None:
    book = OrderBook("X")
    book.submit(1, "a", BUY, D(1), D(99))
    book.submit(2, "a", BUY, D(2), D(99))
    book.submit(3, "a", BUY, D(3), D(98))
    book.submit(4, "a", SELL, D(4), D(101))
    book.submit(5, "a", SELL, D(5), D(102))
    assert book.depth(BUY) == [(D(99), D(3)), (D(98), D(3))]
    assert book.depth(SELL, levels=1) == [(D(101), D(4))]
    assert len(book) == 5


# ---------------------------------------------------------------- market, IOC, FOK


def test_market_order_walks_the_book_and_cancels_the_unfilled_remainder() -> None:
    book = book_with_asks((1, "m1", "1", "100"), (2, "m2", "2", "105"))
    result = book.submit(10, "t", BUY, D(5), None)
    assert [(f.price, f.qty) for f in result.fills] == [(D(100), D(1)), (D(105), D(2))]
    assert (result.filled_qty, result.canceled_qty, result.leaves_qty) == (D(3), D(2), D(0))
    assert not result.rested and result.reason == REASON_MARKET_NO_LIQUIDITY
    assert len(book) == 0 and book.best_ask() is None and book.best_bid() is None


def test_market_order_on_an_empty_book_is_canceled_whole() -> None:
    result = OrderBook("X").submit(1, "t", SELL, D(2), None)
    assert result.fills == [] and result.canceled_qty == D(2)
    assert result.reason == REASON_MARKET_NO_LIQUIDITY


def test_fully_filled_market_order_has_no_reason() -> None:
    book = book_with_asks((1, "m1", "3", "100"))
    result = book.submit(10, "t", BUY, D(3), None)
    assert result.filled_qty == D(3) and result.reason is None and result.canceled_qty == 0


def test_ioc_remainder_is_canceled_not_rested() -> None:
    book = book_with_asks((1, "m1", "1", "100"), (2, "m2", "1", "102"))
    result = book.submit(10, "t", BUY, D(3), D(101), TimeInForce.IOC)
    assert result.filled_qty == D(1) and result.canceled_qty == D(2)
    assert result.reason == REASON_IOC_REMAINDER and not result.rested
    assert book.resting(10) is None and book.best_bid() is None


def test_fok_that_is_fillable_fills_completely() -> None:
    book = book_with_asks((1, "m1", "1", "100"), (2, "m2", "2", "101"))
    result = book.submit(10, "t", BUY, D(3), D(101), TimeInForce.FOK)
    assert result.filled_qty == D(3) and result.reason is None and len(book) == 0


def test_fok_that_is_not_fillable_changes_nothing() -> None:
    book = book_with_asks((1, "m1", "1", "100"), (2, "m2", "2", "102"))
    before = list(book.orders_in_priority())
    result = book.submit(10, "t", BUY, D(3), D(101), TimeInForce.FOK)
    assert result.fills == [] and result.filled_qty == 0 and not result.rested
    assert result.canceled_qty == D(3) and result.reason == REASON_FOK_NOT_FILLABLE
    assert list(book.orders_in_priority()) == before


def test_fok_counts_only_liquidity_before_the_takers_own_order_when_stp_cancels_taker() -> None:
    book = book_with_asks((1, "m1", "1", "100"), (2, "t", "5", "100"), (3, "m3", "5", "100"))
    before = list(book.orders_in_priority())
    result = book.submit(10, "t", BUY, D(2), D(100), TimeInForce.FOK)
    assert result.reason == REASON_FOK_NOT_FILLABLE
    assert list(book.orders_in_priority()) == before


def test_fok_skips_own_orders_when_stp_cancels_makers() -> None:
    book = book_with_asks(
        (1, "m1", "1", "100"), (2, "t", "5", "100"), (3, "m3", "5", "100"), stp=STP.CANCEL_MAKER
    )
    result = book.submit(10, "t", BUY, D(2), D(100), TimeInForce.FOK)
    assert result.filled_qty == D(2)
    assert result.stp_canceled == ((2, D(5)),)


# ---------------------------------------------------------------- post-only


def test_post_only_that_would_take_is_rejected_whole() -> None:
    book = book_with_asks((1, "m1", "1", "100"))
    result = book.submit(10, "t", BUY, D(2), D(100), post_only=True)
    assert result.fills == [] and not result.rested and result.canceled_qty == D(2)
    assert result.reason == REASON_POST_ONLY_WOULD_TAKE
    assert ids(book) == [1]


def test_post_only_that_would_not_take_rests() -> None:
    book = book_with_asks((1, "m1", "1", "100"))
    result = book.submit(10, "t", BUY, D(2), D("99.5"), post_only=True)
    assert result.rested and result.leaves_qty == D(2) and result.reason is None


# ---------------------------------------------------------------- self-trade prevention


def test_stp_cancel_taker_keeps_earlier_fills_and_cancels_the_taker_remainder() -> None:
    book = book_with_asks((1, "m1", "1", "100"), (2, "t", "1", "100"), (3, "m3", "1", "100"))
    result = book.submit(10, "t", BUY, D(3), D(100))
    assert [f.maker_order_id for f in result.fills] == [1]
    assert result.canceled_qty == D(2) and result.reason == REASON_SELF_TRADE_PREVENTED
    assert not result.rested and result.stp_canceled == ()
    assert ids(book) == [2, 3]


def test_stp_cancel_maker_removes_own_maker_and_continues() -> None:
    book = book_with_asks(
        (1, "m1", "1", "100"), (2, "t", "4", "100"), (3, "m3", "1", "101"), stp=STP.CANCEL_MAKER
    )
    result = book.submit(10, "t", BUY, D(3), D(101))
    assert [f.maker_order_id for f in result.fills] == [1, 3]
    assert result.stp_canceled == ((2, D(4)),)
    assert result.rested and result.leaves_qty == D(1) and result.reason is None
    assert ids(book) == [10]


def test_stp_cancel_both_removes_maker_and_cancels_taker_remainder() -> None:
    book = book_with_asks(
        (1, "m1", "1", "100"), (2, "t", "4", "100"), (3, "m3", "1", "100"), stp=STP.CANCEL_BOTH
    )
    result = book.submit(10, "t", BUY, D(3), D(100))
    assert [f.maker_order_id for f in result.fills] == [1]
    assert result.stp_canceled == ((2, D(4)),)
    assert result.canceled_qty == D(2) and result.reason == REASON_SELF_TRADE_PREVENTED
    assert ids(book) == [3]


def test_stp_key_overrides_account_id() -> None:
    book = OrderBook("X")
    book.submit(1, "acct-a", SELL, D(1), D(100), stp_key="firm")
    result = book.submit(2, "acct-b", BUY, D(1), D(100), stp_key="firm")
    assert result.fills == [] and result.reason == REASON_SELF_TRADE_PREVENTED
    other = book.submit(3, "acct-a", BUY, D(1), D(100), stp_key="desk-2")
    assert other.filled_qty == D(1)


def test_same_account_different_stp_keys_may_trade() -> None:
    book = OrderBook("X")
    book.submit(1, "a", SELL, D(1), D(100), stp_key="k1")
    assert book.submit(2, "a", BUY, D(1), D(100), stp_key="k2").filled_qty == D(1)


# ---------------------------------------------------------------- cancel


def test_cancel_returns_leaves_and_removes_the_order() -> None:
    book = book_with_asks((1, "m1", "5", "100"), (2, "m2", "1", "100"))
    book.submit(10, "t", BUY, D(2), None)
    assert book.cancel(1) == D(3)
    assert book.resting(1) is None and ids(book) == [2]
    assert book.depth(SELL) == [(D(100), D(1))]


def test_cancel_unknown_order_returns_none() -> None:
    book = book_with_asks((1, "m1", "1", "100"))
    assert book.cancel(99) is None
    assert book.cancel(1) == D(1)
    assert book.cancel(1) is None


def test_canceling_the_last_order_of_the_best_level_moves_the_best_price() -> None:
    book = book_with_asks((1, "m1", "1", "100"), (2, "m2", "1", "101"))
    book.cancel(1)
    assert book.best_ask() == D(101)
    assert book.submit(10, "t", BUY, D(1), None).fills[0].maker_order_id == 2


def test_matching_skips_canceled_orders_in_a_queue() -> None:
    book = book_with_asks(*[(i, f"m{i}", "1", "100") for i in range(1, 6)])
    book.cancel(1)
    book.cancel(3)
    result = book.submit(10, "t", BUY, D(2), None)
    assert [f.maker_order_id for f in result.fills] == [2, 4]
    assert ids(book) == [5]


def test_many_cancels_behind_a_live_order_keep_the_queue_correct() -> None:
    book = book_with_asks((1, "m1", "1", "100"))
    for oid in range(2, 500):
        book.submit(oid, "m", SELL, D(1), D(100))
        book.cancel(oid)
    book.submit(500, "m", SELL, D(1), D(100))
    assert ids(book) == [1, 500] and book.depth(SELL) == [(D(100), D(2))]
    assert [f.maker_order_id for f in book.submit(9, "t", BUY, D(2), None).fills] == [1, 500]


# ---------------------------------------------------------------- modify


def test_modify_decreasing_qty_at_same_price_keeps_priority() -> None:
    book = book_with_asks((1, "m1", "5", "100"), (2, "m2", "5", "100"))
    result = book.modify(1, D(2), D(100))
    assert result is not None and result.priority_kept
    assert result.leaves_qty == D(2) and result.rested and result.fills == []
    assert ids(book) == [1, 2] and book.depth(SELL) == [(D(100), D(7))]


def test_modify_increasing_qty_loses_priority() -> None:
    book = book_with_asks((1, "m1", "5", "100"), (2, "m2", "5", "100"))
    result = book.modify(1, D(6), D(100))
    assert result is not None and not result.priority_kept and result.leaves_qty == D(6)
    assert ids(book) == [2, 1] and book.depth(SELL) == [(D(100), D(11))]


def test_modify_price_change_loses_priority() -> None:
    book = book_with_asks((1, "m1", "5", "100"), (2, "m2", "5", "101"))
    result = book.modify(1, D(5), D(101))
    assert result is not None and not result.priority_kept
    assert ids(book) == [2, 1]
    assert book.resting(1) == RestingOrder(1, "m1", SELL, D(101), D(5), "m1")


def test_modify_to_a_crossing_price_matches_as_taker_and_rests_the_remainder() -> None:
    book = book_with_asks((1, "m1", "2", "101"))
    book.submit(2, "b", BUY, D(5), D(99))
    result = book.modify(2, D(5), D(101))
    assert result is not None and not result.priority_kept
    assert result.fills == [Fill(1, "m1", D(101), D(2), D(0))]
    assert (result.filled_qty, result.leaves_qty, result.rested) == (D(2), D(3), True)
    assert book.best_bid() == D(101) and book.best_ask() is None


def test_modify_to_zero_cancels() -> None:
    book = book_with_asks((1, "m1", "2", "101"))
    result = book.modify(1, D(0), D(101))
    assert result is not None and result.canceled_qty == D(2)
    assert result.reason == REASON_MODIFY_TO_ZERO and not result.rested
    assert len(book) == 0


def test_modify_unknown_order_returns_none() -> None:
    assert OrderBook("X").modify(1, D(1), D(1)) is None


def test_post_only_modify_that_would_take_is_refused_and_leaves_the_order_alone() -> None:
    book = book_with_asks((1, "m1", "2", "101"))
    book.submit(2, "b", BUY, D(1), D(100))
    book.submit(3, "c", BUY, D(1), D(100))
    result = book.modify(2, D(1), D(101), post_only=True)
    assert result is not None and result.reason == REASON_POST_ONLY_WOULD_TAKE
    assert result.priority_kept and result.fills == [] and result.leaves_qty == D(1)
    assert ids(book) == [2, 3, 1]


def test_modify_reentry_is_subject_to_self_trade_prevention() -> None:
    book = OrderBook("X")
    book.submit(1, "a", SELL, D(1), D(101))
    book.submit(2, "a", BUY, D(1), D(100))
    result = book.modify(2, D(1), D(101))
    assert result is not None and result.reason == REASON_SELF_TRADE_PREVENTED
    assert result.canceled_qty == D(1) and not result.rested and book.resting(2) is None


# ---------------------------------------------------------------- restore, errors, shape


def test_restore_reproduces_the_same_priority() -> None:
    book = OrderBook("X")
    book.submit(1, "a", BUY, D(1), D(99))
    book.submit(2, "b", BUY, D(2), D(100))
    book.submit(3, "c", BUY, D(3), D(99), stp_key="k")
    book.submit(4, "d", SELL, D(4), D(102))
    book.submit(5, "e", SELL, D(5), D(101))
    book.submit(6, "f", SELL, D(6), D(101))
    book.modify(5, D(5), D(102))  # loses priority
    book.submit(7, "g", BUY, D(1), None)  # partially fills order 6
    before = list(book.orders_in_priority())
    restored = OrderBook("X")
    restored.restore(before)
    assert list(restored.orders_in_priority()) == before
    assert restored.depth(BUY) == book.depth(BUY) and restored.depth(SELL) == book.depth(SELL)
    assert len(restored) == len(book) == 6


def test_restore_accepts_plain_tuples_with_default_stp_key() -> None:
    book = OrderBook("X")
    book.restore([(1, "a", SELL, D(100), D(1), None), (2, "a", SELL, D(100), D(1), None)])
    assert book.submit(3, "a", BUY, D(1), None).reason == REASON_SELF_TRADE_PREVENTED


def test_restore_refuses_a_crossed_book() -> None:
    with pytest.raises(ValueError, match="crossed"):
        OrderBook("X").restore(
            [(1, "a", SELL, D(100), D(1), None), (2, "b", BUY, D(100), D(1), None)]
        )


def test_duplicate_resting_order_id_is_a_programming_error() -> None:
    book = book_with_asks((1, "m1", "1", "100"))
    with pytest.raises(ValueError):
        book.submit(1, "x", BUY, D(1), D(90))


@pytest.mark.parametrize("qty", [D(0), D(-1)])
def test_non_positive_qty_is_a_programming_error(qty: D) -> None:
    with pytest.raises(ValueError):
        OrderBook("X").submit(1, "x", BUY, qty, D(90))


def test_order_id_of_a_filled_order_may_be_reused() -> None:
    book = book_with_asks((1, "m1", "1", "100"))
    book.submit(10, "t", BUY, D(1), None)
    assert book.submit(1, "m1", SELL, D(1), D(100)).rested


def test_public_api_is_pinned() -> None:
    assert sorted(matching.__all__) == sorted(
        [
            "REASON_FOK_NOT_FILLABLE",
            "REASON_IOC_REMAINDER",
            "REASON_MARKET_NO_LIQUIDITY",
            "REASON_MODIFY_TO_ZERO",
            "REASON_POST_ONLY_WOULD_TAKE",
            "REASON_SELF_TRADE_PREVENTED",
            "Fill",
            "ModifyResult",
            "OrderBook",
            "RestingOrder",
            "SubmitResult",
        ]
    )


def test_matching_imports_only_the_model_layer() -> None:
    package = Path(matching.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("atlas_oms"):
                    assert name.startswith(("atlas_oms.model", "atlas_oms.matching")), (path, name)
                else:
                    root = name.split(".")[0]
                    assert root in {
                        "__future__", "collections", "decimal", "itertools", "typing",
                        "msgspec", "sortedcontainers",
                    }, (path, name)  # fmt: skip
