"""Each fill model's formula against a hand-computed example; properties over all models."""

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from atlas_oms.model.enums import Side
from atlas_oms.simulation.config import FillConfig
from atlas_oms.simulation.models import (
    capped_qty,
    market_fill,
    participation_pct,
    round_adverse,
    slippage_pct,
)

TICK = D("0.01")
LOT = D("0.001")
CFG = FillConfig()  # fixed 0.05 %, volume 0.1 per 1 %, spread 0.02 %, impact 0.05


def test_fixed_moves_the_price_by_fixed_slippage_pct_against_the_order() -> None:
    c = FillConfig(model="fixed")
    # 50000 * (1 + 0.05/100) = 50025 ; 50000 * (1 - 0.0005) = 49975
    assert market_fill(c, Side.BUY, D(1), D(50000), TICK, LOT).price == D("50025.00")
    assert market_fill(c, Side.SELL, D(1), D(50000), TICK, LOT).price == D("49975.00")


def test_volume_model_charges_factor_per_percent_of_bar_volume() -> None:
    c = FillConfig(model="volume")
    # 2 of 100 = 2 % of the volume -> 0.1 * 2 = 0.2 % -> 100 * 1.002 = 100.2
    assert participation_pct(D(2), D(100)) == D(2)
    assert market_fill(c, Side.BUY, D(2), D(100), TICK, LOT, volume=D(100)).price == D("100.20")
    assert market_fill(c, Side.SELL, D(2), D(100), TICK, LOT, volume=D(100)).price == D("99.80")


def test_sqrt_impact_is_factor_times_sqrt_of_participation_pct() -> None:
    c = FillConfig(model="sqrt_impact", market_impact_factor=D("0.5"))
    # 4 % of the volume -> 0.5 * sqrt(4) = 1 % -> 200 * 1.01 = 202
    assert slippage_pct(c, D(4)) == D(1)
    assert market_fill(c, Side.BUY, D(4), D(200), TICK, LOT, volume=D(100)).price == D("202.00")


def test_spread_model_crosses_half_the_spread() -> None:
    c = FillConfig(model="spread", spread_pct=D("0.2"))
    # half of 0.2 % = 0.1 % -> 1000 * 1.001 = 1001
    assert market_fill(c, Side.BUY, D(1), D(1000), TICK, LOT).price == D("1001.00")


def test_realistic_is_the_sum_of_the_four_terms() -> None:
    # p = 1 %: 0.01 + 0.05 + 0.1*1 + 0.05*sqrt(1) = 0.21 %
    assert slippage_pct(CFG, D(1)) == D("0.21")
    assert market_fill(CFG, Side.BUY, D(1), D(100), TICK, LOT, volume=D(100)).price == D("100.21")
    # unknown volume: only spread and fixed (0.06 %)
    assert slippage_pct(CFG, participation_pct(D(1), None)) == D("0.06")


def test_prices_round_to_the_tick_against_the_order() -> None:
    assert round_adverse(D("100.001"), TICK, Side.BUY) == D("100.01")
    assert round_adverse(D("100.009"), TICK, Side.SELL) == D("100.00")
    assert round_adverse(D("0.001"), TICK, Side.SELL) == TICK  # never below one tick


def test_max_volume_pct_caps_what_fills_now_floored_to_the_lot() -> None:
    assert capped_qty(D(10), D(100), D(5), LOT) == D(5)
    assert capped_qty(D(3), D(100), D(5), LOT) == D(3)
    assert capped_qty(D(10), None, D(5), LOT) == D(10)
    assert capped_qty(D(10), D("0.33"), D(5), LOT) == D("0.016")
    c = FillConfig(model="fixed", max_volume_pct=D(5))
    assert market_fill(c, Side.BUY, D(10), D(100), TICK, LOT, volume=D(100)).qty == D(5)


MODELS = st.sampled_from(["fixed", "volume", "sqrt_impact", "spread", "book", "realistic"])
PCTS = st.decimals(min_value=0, max_value=5, places=3)


@given(
    model=MODELS,
    side=st.sampled_from([Side.BUY, Side.SELL]),
    qty=st.decimals(min_value=D("0.001"), max_value=1000, places=3),
    ref=st.decimals(min_value=1, max_value=100000, places=2),
    volume=st.none() | st.decimals(min_value=0, max_value=10**6, places=3),
    fixed=PCTS,
    spread=PCTS,
    factor=PCTS,
    impact=PCTS,
)
def test_a_model_price_is_never_better_than_the_reference_and_on_tick(
    model, side, qty, ref, volume, fixed, spread, factor, impact
) -> None:
    c = FillConfig(
        model=model,
        fixed_slippage_pct=fixed,
        spread_pct=spread,
        volume_slippage_factor=factor,
        market_impact_factor=impact,
    )
    fill = market_fill(c, side, qty, ref, TICK, LOT, volume=volume)
    assert (fill.price >= ref) if side is Side.BUY else (fill.price <= ref)
    assert fill.price % TICK == 0
    assert fill.qty == qty  # no cap configured


@given(
    qty=st.decimals(min_value=D("0.001"), max_value=100, places=3),
    bigger=st.decimals(min_value=D("0.001"), max_value=100, places=3),
    volume=st.decimals(min_value=1, max_value=1000, places=3),
)
def test_a_bigger_order_never_pays_less_slippage(qty, bigger, volume) -> None:
    small, large = sorted([qty, qty + bigger])
    assert slippage_pct(CFG, participation_pct(small, volume)) <= slippage_pct(
        CFG, participation_pct(large, volume)
    )
