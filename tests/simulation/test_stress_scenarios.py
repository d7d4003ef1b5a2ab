"""Stress scenarios (seed 001 §15): conservative costs, gaps, halts."""

from decimal import Decimal as D

from atlas_oms.model.enums import Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.reports import VenueRejected
from atlas_oms.model.requests import SubmitToVenue
from atlas_oms.simulation.config import BINANCE_SPOT_TIERS, FillConfig
from atlas_oms.simulation.market import Bar, BookSnapshot, TradePrint
from atlas_oms.simulation.stress import apply_halt, conservative, gap, halt, shift
from atlas_oms.simulation.venue import SimulatedVenue

SYM = "ETH/USDT"


def test_conservative_multiplies_slippage_and_takes_the_worst_tier() -> None:
    c = conservative(FillConfig(commission_tiers=BINANCE_SPOT_TIERS), 3)
    assert c.fixed_slippage_pct == D("0.15")
    assert c.volume_slippage_factor == D("0.3")
    assert c.spread_pct == D("0.06")
    assert c.market_impact_factor == D("0.15")
    (tier,) = c.commission_tiers
    assert (tier.min_volume_30d, tier.maker, tier.taker) == (0, D("0.001"), D("0.001"))


def test_a_gap_moves_every_price_from_its_time_on() -> None:
    events = [
        TradePrint(symbol=SYM, ts=1, price=D(100), qty=D(1)),
        Bar(
            symbol=SYM,
            start_ns=1,
            ts=2,
            open=D(100),
            high=D(110),
            low=D(90),
            close=D(105),
            volume=D(3),
        ),
        BookSnapshot(symbol=SYM, ts=3, bids=((D(100), D(1)),), asks=((D(101), D(2)),)),
        TradePrint(symbol="OTHER", ts=3, price=D(100), qty=D(1)),
    ]
    out = list(gap(events, 2, -10, symbol=SYM, tick=D("0.01")))
    assert out[0] == events[0]
    assert out[1] == Bar(
        symbol=SYM,
        start_ns=1,
        ts=2,
        open=D(90),
        high=D(99),
        low=D(81),
        close=D("94.50"),
        volume=D(3),
    )
    assert out[2] == BookSnapshot(
        symbol=SYM, ts=3, bids=((D(90), D(1)),), asks=((D("90.90"), D(2)),)
    )
    assert out[3] == events[3]
    assert shift(events[0], D(5)) == TradePrint(symbol=SYM, ts=1, price=D(105), qty=D(1))


def test_a_halt_drops_data_and_the_venue_refuses_orders_meanwhile() -> None:
    inst = Instrument.spot(SYM, tick_size="0.01", lot_size="0.001", venue="paper")
    v = SimulatedVenue({SYM: inst})
    events = [TradePrint(symbol=SYM, ts=t, price=D(100), qty=D(1)) for t in (1, 5, 10)]
    assert [e.ts for e in halt(events, 5, 10)] == [1, 10]
    assert [e.ts for e in apply_halt(v, events, 5, 10, symbol=SYM)] == [1, 10]
    v.on_market(events[0])
    request = SubmitToVenue(
        order_id=1, account_id="a", symbol=SYM, venue="paper", ts=7, side=Side.BUY, qty=D(1)
    )
    (r,) = v.handle(request)
    assert isinstance(r, VenueRejected) and r.reason == Reason.INSTRUMENT_HALTED
