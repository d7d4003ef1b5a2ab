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
