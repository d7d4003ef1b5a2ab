"""SimulatedVenue: requests in, execution reports out, fills against market data."""

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from atlas_oms.model.enums import LiquiditySide, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.reports import (
    VenueAccepted,
    VenueCanceled,
    VenueCancelRejected,
    VenueFilled,
    VenueModified,
    VenueModifyRejected,
    VenueRejected,
)
from atlas_oms.model.requests import CancelAtVenue, ModifyAtVenue, SubmitToVenue
from atlas_oms.simulation.config import CommissionTier, FillConfig
from atlas_oms.simulation.market import Bar, BookSnapshot, TradePrint
from atlas_oms.simulation.venue import SimulatedVenue

SYM = "BTC/USDT"
INST = Instrument.spot(
    SYM, tick_size="0.01", lot_size="0.001", venue="paper", maker_fee="0.0005", taker_fee="0.001"
)
MS = 1_000_000


def venue(**config) -> SimulatedVenue:
    return SimulatedVenue({SYM: INST}, name="paper", config=FillConfig(**config))


def submit(
    oid: int, side: Side, qty: str, price: str | None = None, ts: int = 10, **kw
) -> SubmitToVenue:
    return SubmitToVenue(
        order_id=oid,
        account_id="a",
        symbol=SYM,
        venue="paper",
        ts=ts,
        side=side,
        qty=D(qty),
        price=D(price) if price is not None else None,
        **kw,
    )


def book(ts: int = 1, bids=((100, 3), (99, 5)), asks=(("100.5", "0.05"), (101, 1))) -> BookSnapshot:
    return BookSnapshot(
        symbol=SYM,
        ts=ts,
        bids=tuple((D(str(p)), D(str(q))) for p, q in bids),
        asks=tuple((D(str(p)), D(str(q))) for p, q in asks),
    )


def bar(ts: int, o: str, h: str, low: str, c: str, v: str) -> Bar:
    return Bar(
        symbol=SYM,
        start_ns=ts - 60,
        ts=ts,
        open=D(o),
        high=D(h),
        low=D(low),
        close=D(c),
        volume=D(v),
    )


def fills(reports) -> list[tuple[D, D, LiquiditySide]]:
    return [
        (r.last_qty, r.last_px, r.liquidity_side) for r in reports if isinstance(r, VenueFilled)
    ]


def test_a_market_order_without_market_data_is_rejected() -> None:
    (r,) = venue().handle(submit(1, Side.BUY, "1"))
    assert isinstance(r, VenueRejected) and r.reason == Reason.NO_REFERENCE_PRICE


def test_a_market_order_walks_the_book_and_its_fills_are_the_acknowledgement() -> None:
    v = venue()
    v.on_market(book())
    out = v.handle(submit(1, Side.BUY, "0.1"))
    assert not any(isinstance(r, VenueAccepted) for r in out)
    assert fills(out) == [
        (D("0.05"), D("100.5"), LiquiditySide.TAKER),
        (D("0.05"), D(101), LiquiditySide.TAKER),
    ]
    first = out[0]
    assert isinstance(first, VenueFilled)
    assert first.fee == D("0.05") * D("100.5") * D("0.001") and first.fee_asset == "USDT"
    assert first.venue_order_id == "paper-1" and first.exec_id == "paper-1-10-0.1"
    # the depth it took is gone until the next snapshot
    assert fills(v.handle(submit(2, Side.BUY, "0.1")))[0][1] == D(101)


def test_a_market_order_larger_than_the_book_cancels_its_rest() -> None:
    v = venue()
    v.on_market(book())
    out = v.handle(submit(1, Side.SELL, "10"))
    assert isinstance(out[0], VenueAccepted)
    assert sum(q for q, _, _ in fills(out)) == D(8)
    last = out[-1]
    assert isinstance(last, VenueCanceled) and last.reason == Reason.MARKET_NO_LIQUIDITY
    assert last.canceled_qty == D(2)


def test_without_a_book_a_market_order_fills_at_the_last_price_with_model_slippage() -> None:
    v = venue(model="fixed")
    v.on_market(bar(60, "100", "101", "99", "100", "1000"))
    assert fills(v.handle(submit(1, Side.BUY, "1"))) == [(D(1), D("100.05"), LiquiditySide.TAKER)]
    v.on_market(TradePrint(symbol=SYM, ts=70, price=D(200), qty=D(1)))
    assert fills(v.handle(submit(2, Side.SELL, "1", ts=71))) == [
        (D(1), D("199.90"), LiquiditySide.TAKER)
    ]


def test_the_volume_cap_fills_a_market_order_over_the_next_bars() -> None:
    v = venue(model="fixed", fixed_slippage_pct=D(0), max_volume_pct=D(5))
    v.on_market(bar(60, "100", "100", "100", "100", "100"))
    out = v.handle(submit(1, Side.BUY, "10"))
    assert isinstance(out[0], VenueAccepted)
    assert fills(out) == [(D(5), D(100), LiquiditySide.TAKER)]
    assert fills(v.on_market(bar(120, "100", "102", "100", "102", "40"))) == [
        (D(2), D(102), LiquiditySide.TAKER)
    ]
    assert fills(v.on_market(bar(180, "102", "103", "101", "103", "1000"))) == [
        (D(3), D(103), LiquiditySide.TAKER)
    ]
    assert v.open_orders() == []


def test_a_post_only_limit_that_would_cross_is_rejected_and_one_that_rests_is_accepted() -> None:
    v = venue()
    v.on_market(book())
    (r,) = v.handle(submit(1, Side.BUY, "1", "100.5", post_only=True))
    assert isinstance(r, VenueRejected) and r.reason == Reason.POST_ONLY_WOULD_TAKE
    (r,) = v.handle(submit(2, Side.BUY, "1", "100.4", post_only=True))
    assert isinstance(r, VenueAccepted)


def test_fok_fills_entirely_or_not_at_all() -> None:
    v = venue()
    v.on_market(book())
    out = v.handle(submit(1, Side.BUY, "2", "101", tif=TimeInForce.FOK))
    assert fills(out) == []
    assert isinstance(out[-1], VenueCanceled) and out[-1].reason == Reason.FOK_NOT_FILLABLE
    out = v.handle(submit(2, Side.BUY, "1", "101", tif=TimeInForce.FOK))
    assert sum(q for q, _, _ in fills(out)) == D(1)
    assert not any(isinstance(r, VenueAccepted | VenueCanceled) for r in out)


def test_ioc_cancels_what_it_cannot_take() -> None:
    v = venue()
    v.on_market(book())
    out = v.handle(submit(1, Side.BUY, "2", "100.5", tif=TimeInForce.IOC))
    assert fills(out) == [(D("0.05"), D("100.5"), LiquiditySide.TAKER)]
    assert isinstance(out[-1], VenueCanceled) and out[-1].reason == Reason.IOC_REMAINDER
    assert out[-1].canceled_qty == D("1.95")


def test_a_marketable_limit_takes_to_its_price_and_rests_the_rest() -> None:
    v = venue()
    v.on_market(book())
    out = v.handle(submit(1, Side.BUY, "1", "100.5"))
    assert isinstance(out[0], VenueAccepted)
    assert fills(out) == [(D("0.05"), D("100.5"), LiquiditySide.TAKER)]
    assert [o.leaves for o in v.open_orders()] == [D("0.95")]


def test_a_resting_limit_fills_as_maker_after_the_queue_ahead_traded() -> None:
    v = venue()
    v.on_market(book())  # 3 bid at 100 ahead of us
    assert isinstance(v.handle(submit(1, Side.BUY, "2", "100"))[0], VenueAccepted)
    assert v.on_market(TradePrint(symbol=SYM, ts=20, price=D(100), qty=D(2))) == []
    out = v.on_market(TradePrint(symbol=SYM, ts=30, price=D(100), qty=D(2)))
    assert fills(out) == [(D(1), D(100), LiquiditySide.MAKER)]
    assert isinstance(out[0], VenueFilled) and out[0].fee == D(100) * D("0.0005")
    out = v.on_market(TradePrint(symbol=SYM, ts=40, price=D("99.99"), qty=D("0.01")))
    assert fills(out) == [(D(1), D(100), LiquiditySide.MAKER)]  # traded through: the rest fills
    assert v.open_orders() == []


def test_latency_delays_arrival_and_the_order_fills_on_the_first_data_after_it() -> None:
    v = venue(model="fixed", fixed_slippage_pct=D(0), latency_ms=100)
    v.on_market(TradePrint(symbol=SYM, ts=0, price=D(100), qty=D(1)))
    (ack,) = v.handle(submit(1, Side.BUY, "1", ts=10))
    assert isinstance(ack, VenueAccepted)
    assert v.on_market(TradePrint(symbol=SYM, ts=50 * MS, price=D(101), qty=D(1))) == []
    out = v.on_market(TradePrint(symbol=SYM, ts=100 * MS + 10, price=D(105), qty=D(1)))
    assert fills(out) == [(D(1), D(105), LiquiditySide.TAKER)]


def test_latency_post_only_that_crosses_on_arrival_is_canceled() -> None:
    v = venue(latency_ms=1)
    v.on_market(book())
    assert isinstance(v.handle(submit(1, Side.BUY, "1", "100.4", post_only=True))[0], VenueAccepted)
    out = v.on_market(book(ts=2 * MS, asks=((D("100.3"), D(1)),)))
    assert len(out) == 1 and isinstance(out[0], VenueCanceled)
    assert out[0].reason == Reason.POST_ONLY_WOULD_TAKE


def test_cancel_and_modify() -> None:
    v = venue()
    v.on_market(book())
    v.handle(submit(1, Side.BUY, "2", "99"))
    c = CancelAtVenue(order_id=9, account_id="a", symbol=SYM, venue="paper", ts=11)
    (r,) = v.handle(c)
    assert isinstance(r, VenueCancelRejected) and r.reason == Reason.ORDER_NOT_LIVE
    m = ModifyAtVenue(
        order_id=1,
        account_id="a",
        symbol=SYM,
        venue="paper",
        ts=12,
        venue_order_id="paper-1",
        qty=D(2),
        leaves_qty=D(2),
        price=D("100.5"),
        post_only=True,
    )
    (r,) = v.handle(m)
    assert isinstance(r, VenueModifyRejected) and r.reason == Reason.POST_ONLY_WOULD_TAKE
    out = v.handle(
        m.__class__(**{**{f: getattr(m, f) for f in m.__struct_fields__}, "post_only": False})
    )
    assert isinstance(out[0], VenueModified)
    assert fills(out) == [(D("0.05"), D("100.5"), LiquiditySide.TAKER)]
    (r,) = v.handle(CancelAtVenue(order_id=1, account_id="a", symbol=SYM, venue="paper", ts=13))
    assert isinstance(r, VenueCanceled) and r.canceled_qty == D("1.95")
    assert v.open_orders() == []


def test_a_modified_price_loses_the_queue_position() -> None:
    v = venue()
    v.on_market(book(bids=((100, 3), (99, 5))))
    v.handle(submit(1, Side.BUY, "1", "100"))
    m = ModifyAtVenue(
        order_id=1,
        account_id="a",
        symbol=SYM,
        venue="paper",
        ts=12,
        venue_order_id="paper-1",
        qty=D(1),
        leaves_qty=D(1),
        price=D(99),
    )
    v.handle(m)
    (o,) = v.open_orders()
    assert o.price == D(99) and o.ahead == D(5)


def test_restored_orders_queue_behind_the_whole_visible_level() -> None:
    v = venue()
    v.restore([(SYM, 7, "a", Side.BUY, D(100), D(1))])
    v.on_market(book(bids=((100, 3),)))
    (o,) = v.open_orders()
    assert o.ahead == D(3)
    assert v.on_market(TradePrint(symbol=SYM, ts=5, price=D(100), qty=D(3))) == []
    assert fills(v.on_market(TradePrint(symbol=SYM, ts=6, price=D(100), qty=D(1)))) == [
        (D(1), D(100), LiquiditySide.MAKER)
    ]


def test_a_bar_through_a_resting_limit_fills_it_at_its_price() -> None:
    v = venue()
    v.on_market(bar(60, "100", "101", "99.5", "100", "10"))
    v.handle(submit(1, Side.BUY, "1", "99"))
    # a touch: about 10/201 = 0.0497 traded at 99, nothing ahead (no book): 0.049 (whole lots)
    assert fills(v.on_market(bar(120, "100", "101", "99", "100", "10"))) == [
        (D("0.049"), D(99), LiquiditySide.MAKER)
    ]
    assert fills(v.on_market(bar(180, "100", "101", "98.99", "100", "10"))) == [
        (D("0.951"), D(99), LiquiditySide.MAKER)
    ]


def test_commission_tiers_lower_the_rate_once_the_30_day_volume_reaches_a_tier() -> None:
    tiers = (
        CommissionTier(min_volume_30d=D(0), maker=D("0.001"), taker=D("0.002")),
        CommissionTier(min_volume_30d=D(100), maker=D("0.0005"), taker=D("0.001")),
    )
    v = venue(model="fixed", fixed_slippage_pct=D(0), commission_tiers=tiers)
    v.on_market(TradePrint(symbol=SYM, ts=0, price=D(100), qty=D(1)))
    (f1,) = v.handle(submit(1, Side.BUY, "1"))
    (f2,) = v.handle(submit(2, Side.BUY, "1", ts=11))
    assert isinstance(f1, VenueFilled) and f1.fee == D("0.2")
    assert isinstance(f2, VenueFilled) and f2.fee == D("0.1")


def test_an_order_too_large_for_the_market_is_rejected_when_configured() -> None:
    v = venue(max_slippage_pct=D("0.5"))
    v.on_market(bar(60, "100", "100", "100", "100", "100"))  # 24h notional 10,000
    (r,) = v.handle(submit(1, Side.BUY, "10"))  # 10 % of it
    assert isinstance(r, VenueRejected) and r.reason == Reason.SLIPPAGE_TOO_HIGH
    assert fills(v.handle(submit(2, Side.BUY, "0.01"))) != []


def test_a_halted_symbol_refuses_orders_and_ignores_its_data() -> None:
    v = venue()
    v.on_market(book())
    v.handle(submit(1, Side.BUY, "1", "99"))
    v.halt(100, 200, SYM)
    (r,) = v.handle(submit(2, Side.BUY, "1", ts=150))
    assert isinstance(r, VenueRejected) and r.reason == Reason.INSTRUMENT_HALTED
    assert v.on_market(TradePrint(symbol=SYM, ts=150, price=D(90), qty=D(1))) == []
    assert fills(v.on_market(TradePrint(symbol=SYM, ts=200, price=D(90), qty=D(1)))) != []


def test_the_same_inputs_give_the_same_reports() -> None:
    def run() -> list:
        v = venue(latency_ms=1)
        out = [*v.on_market(book())]
        out += v.handle(submit(1, Side.BUY, "0.5"))
        out += v.handle(submit(2, Side.SELL, "1", "101"))
        out += v.on_market(book(ts=5 * MS, bids=(("101.5", 2),), asks=((102, 1),)))
        out += v.on_market(TradePrint(symbol=SYM, ts=6 * MS, price=D(101), qty=D(5)))
        return out

    assert run() == run()
    assert run() != []


@given(
    depth=st.lists(
        st.decimals(min_value=D("0.001"), max_value=5, places=3), min_size=1, max_size=5
    ),
    qty=st.decimals(min_value=D("0.001"), max_value=20, places=3),
    limit_levels=st.integers(min_value=1, max_value=5),
)
def test_fok_never_partially_fills(depth, qty, limit_levels) -> None:
    v = venue()
    asks = tuple((D(100 + i), q) for i, q in enumerate(depth))
    v.on_market(BookSnapshot(symbol=SYM, ts=1, bids=((D(99), D(1)),), asks=asks))
    out = v.handle(submit(1, Side.BUY, str(qty), str(100 + limit_levels - 1), tif=TimeInForce.FOK))
    filled = sum((q for q, _, _ in fills(out)), D(0))
    assert filled in (D(0), qty)
    assert v.open_orders() == []


@given(
    model=st.sampled_from(["fixed", "volume", "sqrt_impact", "spread", "book", "realistic"]),
    side=st.sampled_from([Side.BUY, Side.SELL]),
    qty=st.decimals(min_value=D("0.001"), max_value=5, places=3),
    use_book=st.booleans(),
)
def test_a_market_fill_is_never_better_than_the_market(model, side, qty, use_book) -> None:
    v = venue(model=model)
    if use_book:
        v.on_market(book())
        best = D("100.5") if side is Side.BUY else D(100)
    else:
        v.on_market(bar(60, "100", "101", "99", "100", "50"))
        best = D(100)
    for _q, px, _ in fills(v.handle(submit(1, side, str(qty)))):
        assert px >= best if side is Side.BUY else px <= best
