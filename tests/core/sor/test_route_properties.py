"""Properties of the router's walk on random consolidated books: quantities add up, no venue gets
more than its depth (plus the margin), children sit on their lot, and the decision is a pure
function of its inputs."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from sor_world import D, inst, rbook, vbook, world

from atlas_oms.core.sor.route import decide_route
from atlas_oms.model.enums import Side

SYMBOLS = ["BTC/USDT", "BTC/USDT@b", "BTC/USDT@c", "BTC/USDT@d"]
LOTS = ["0.001", "0.01", "0.1", "1"]
STATE = world(
    [
        inst(sym, lot=lot, taker=fee, min_notional=mn)
        for sym, lot, fee, mn in zip(
            SYMBOLS, LOTS, ["0.001", "0.002", "0", "0.0005"], ["0", "10", "0", "5"], strict=True
        )
    ],
    accounts={"a": {"USDT": "20000", "BTC": "50"}, "b": {"USDT": "1000000", "BTC": "500"}},
)

levels = st.lists(st.tuples(st.integers(9000, 11000), st.integers(1, 5000)), min_size=0, max_size=6)


@st.composite
def books(draw: st.DrawFn) -> tuple:  # type: ignore[type-arg]
    out = []
    for sym in SYMBOLS:
        lv = draw(levels)
        asks = sorted({p: q for p, q in lv}.items())
        bids = sorted({p - 500: q for p, q in lv}.items(), reverse=True)
        out.append(
            vbook(
                "sim",
                sym,
                asks=[(str(D(p) / 100), str(D(q) / 1000)) for p, q in asks],
                bids=[(str(D(p) / 100), str(D(q) / 1000)) for p, q in bids],
            )
        )
    return tuple(out)


@settings(max_examples=150, deadline=None)
@given(
    bks=books(),
    qty=st.integers(1, 30000),
    side=st.sampled_from([Side.BUY, Side.SELL]),
    limit=st.one_of(st.none(), st.integers(8500, 11000)),
    margin=st.sampled_from(["0", "10", "50"]),
    two=st.booleans(),
)
def test_children_plus_unallocated_is_the_order_and_no_venue_gets_beyond_its_depth(
    bks: tuple,
    qty: int,
    side: Side,
    limit: int | None,
    margin: str,
    two: bool,  # type: ignore[type-arg]
) -> None:
    book = rbook(*bks, accounts=("a", "b") if two else ())
    q = D(qty) / 1000
    lim = None if limit is None else D(limit) / 100
    args = dict(account_id="a", side=side, qty=q, limit_price=lim, book=book)
    d = decide_route(STATE, depth_margin_pct=D(margin), **args)  # type: ignore[arg-type]
    assert sum((a.qty for a in d.allocations), Decimal(0)) + d.unallocated == q
    assert d.unallocated >= 0
    for a in d.allocations:
        assert a.qty > 0
        lot = STATE.instruments[a.symbol].lot_size
        assert a.qty % lot == 0
        assert a.qty * a.limit_price >= STATE.instruments[a.symbol].min_notional
        if lim is not None:
            assert a.limit_price <= lim if side is Side.BUY else a.limit_price >= lim
    for vb in bks:
        lv = vb.asks if side is Side.BUY else vb.bids
        if lim is not None:
            lv = tuple(x for x in lv if (x.price <= lim if side is Side.BUY else x.price >= lim))
        depth = sum((x.qty for x in lv), Decimal(0))
        sent = sum((a.qty for a in d.allocations if a.symbol == vb.symbol), Decimal(0))
        assert sent <= depth * (1 + D(margin) / 100)
        visible = sum(
            (a.qty - a.margin_qty for a in d.allocations if a.symbol == vb.symbol), Decimal(0)
        )
        assert visible <= depth
    if any(a.margin_qty for a in d.allocations):
        # The margin only absorbs what the visible depth could not.
        assert all(s.skipped not in ("NOT_NEEDED",) for s in d.seen if s.used)
    # Capacity: a buy never spends more than the account's free quote balance.
    if side is Side.BUY:
        for acc in ("a", "b"):
            spent = sum((a.expected_cost for a in d.allocations if a.account_id == acc), Decimal(0))
            assert spent <= STATE.free(acc, "USDT")
    else:
        for acc in ("a", "b"):
            sold = sum((a.qty for a in d.allocations if a.account_id == acc), Decimal(0))
            assert sold <= STATE.free(acc, "BTC")
    # Deterministic: the same inputs give the same decision.
    assert decide_route(STATE, depth_margin_pct=D(margin), **args) == d  # type: ignore[arg-type]
