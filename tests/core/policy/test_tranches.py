"""Seed 001 section 6 (multi-tranche model): one test per row of the 6.1 table, the value
boundaries, the profiles, key levels, lot allocation and target rounding."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atlas_oms.core.policy.tranches import (
    ScaleOutProfile,
    TargetSource,
    TrancheKind,
    Variant,
    allocate_lots,
    choose_variant,
    plan_tranches,
    target_price,
    variant_for_value,
)

STD = ScaleOutProfile.STANDARD


def plan(**kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "profile": STD,
        "is_buy": True,
        "entry": D(100),
        "r": D(1),
        "lot": D(1),
        "tick": D("0.01"),
    }
    args.update(kw)
    return plan_tranches(**args)  # type: ignore[arg-type]


def test_row_compact_3t_below_5000_is_40_at_1r_40_at_2r_20_runner() -> None:
    """6.1 row Kompakt (3T): < 5.000 USD, 40% @ 1R, 40% @ 2R, 20% Runner."""
    p = plan(quantity=D(40))  # 4,000 USD
    assert p.variant is Variant.COMPACT_3T
    assert [(t.pct, t.quantity, t.target) for t in p.tranches] == [
        (D("0.40"), D(16), D(101)),
        (D("0.40"), D(16), D(102)),
        (D("0.20"), D(8), None),
    ]
    assert p.tranches[-1].kind is TrancheKind.RUNNER


def test_row_standard_4t_is_30_at_1r_30_at_key_level_25_at_2r_15_runner() -> None:
    """6.1 row Standard (4T): 5.000 -- 15.000 USD, 30% @ 1R, 30% @ Key-Level, 25% @ 2R, 15%
    Runner."""
    p = plan(quantity=D(100), key_level=D("101.5"))  # 10,000 USD
    assert p.variant is Variant.STANDARD_4T
    assert [(t.kind, t.quantity, t.target) for t in p.tranches] == [
        (TrancheKind.R_MULTIPLE, D(30), D(101)),
        (TrancheKind.KEY_LEVEL, D(30), D("101.5")),
        (TrancheKind.R_MULTIPLE, D(25), D(102)),
        (TrancheKind.RUNNER, D(15), None),
    ]
    assert p.tranches[1].source is TargetSource.KEY_LEVEL


def test_row_full_5t_above_15000_is_25_1r_25_key_25_2r_15_3r_10_runner() -> None:
    """6.1 row Voll (5T): > 15.000 USD, 25% @ 1R, 25% @ Key-Level, 25% @ 2R, 15% @ 3R, 10%
    Runner."""
    p = plan(quantity=D(200), key_level=D("101.25"))  # 20,000 USD
    assert p.variant is Variant.FULL_5T
    assert [(t.pct, t.quantity, t.target) for t in p.tranches] == [
        (D("0.25"), D(50), D(101)),
        (D("0.25"), D(50), D("101.25")),
        (D("0.25"), D(50), D(102)),
        (D("0.15"), D(30), D(103)),
        (D("0.10"), D(20), None),
    ]


@pytest.mark.parametrize(
    ("value", "variant"),
    [
        (D("4999.99"), Variant.COMPACT_3T),
        (D(5000), Variant.STANDARD_4T),
        (D(15000), Variant.STANDARD_4T),
        (D("15000.01"), Variant.FULL_5T),
    ],
)
def test_value_boundaries_5000_and_15000_belong_to_the_4t_row(value: D, variant: Variant) -> None:
    assert variant_for_value(value) is variant


def test_profile_off_places_no_target_the_whole_position_is_the_runner() -> None:
    p = plan(profile=ScaleOutProfile.OFF, quantity=D(300))
    assert p.variant is Variant.NONE
    assert [(t.kind, t.quantity, t.target) for t in p.tranches] == [
        (TrancheKind.RUNNER, D(300), None)
    ]


@pytest.mark.parametrize(
    ("value", "conservative", "aggressive"),
    [
        (D(1000), Variant.COMPACT_3T, Variant.STANDARD_4T),
        (D(10000), Variant.COMPACT_3T, Variant.FULL_5T),
        (D(20000), Variant.STANDARD_4T, Variant.FULL_5T),
    ],
)
def test_conservative_is_one_row_smaller_and_aggressive_one_row_larger(
    value: D, conservative: Variant, aggressive: Variant
) -> None:
    assert choose_variant(ScaleOutProfile.CONSERVATIVE, value) is conservative
    assert choose_variant(ScaleOutProfile.AGGRESSIVE, value) is aggressive


def test_a_missing_key_level_falls_back_to_1_5r_and_says_so() -> None:
    p = plan(quantity=D(100))
    assert p.tranches[1].target == D("101.5")
    assert p.tranches[1].source is TargetSource.KEY_LEVEL_MISSING


def test_a_key_level_on_the_loss_side_of_the_entry_is_not_used() -> None:
    p = plan(quantity=D(100), key_level=D(99))
    assert p.tranches[1].source is TargetSource.KEY_LEVEL_WRONG_SIDE
    assert p.tranches[1].target == D("101.5")


def test_a_short_has_its_targets_below_the_entry_and_its_key_level_used() -> None:
    p = plan(is_buy=False, quantity=D(100), key_level=D("98.7"))
    assert [t.target for t in p.tranches] == [D(99), D("98.7"), D(98), None]


def test_targets_round_toward_the_entry_on_the_tick() -> None:
    assert target_price(D(100), D("0.337"), D(1), True, D("0.05")) == D("100.30")
    assert target_price(D(100), D("0.337"), D(1), False, D("0.05")) == D("99.70")


def test_a_target_is_never_nearer_than_one_tick_to_the_entry() -> None:
    assert target_price(D(100), D("0.001"), D(1), True, D("0.01")) == D("100.01")
    assert target_price(D(100), D("0.001"), D(1), False, D("0.01")) == D("99.99")


def test_lots_left_by_rounding_go_to_the_runner_and_empty_tranches_are_dropped() -> None:
    assert allocate_lots(D(7), D(1), (D("0.4"), D("0.4"), D("0.2"))) == (D(2), D(2), D(3))
    p = plan(quantity=D(2), entry=D(10))
    assert [(t.kind, t.quantity) for t in p.tranches] == [(TrancheKind.RUNNER, D(2))]


def test_a_quantity_that_is_not_whole_lots_is_refused() -> None:
    with pytest.raises(ValueError, match="whole number of lots"):
        allocate_lots(D(150), D(100), (D(1),))


@given(
    lots=st.integers(min_value=0, max_value=100_000),
    lot=st.sampled_from([D(1), D(100), D("0.001")]),
    profile=st.sampled_from(list(ScaleOutProfile)),
    value=st.decimals(min_value=0, max_value=100_000, places=2),
)
def test_allocations_always_sum_to_the_position(
    lots: int, lot: D, profile: ScaleOutProfile, value: D
) -> None:
    quantity = lots * lot
    p = plan(profile=profile, quantity=quantity, lot=lot, value=value)
    assert p.quantity == quantity
    assert all(t.quantity > 0 and t.quantity % lot == 0 for t in p.tranches)


@given(
    entry=st.decimals(min_value=1, max_value=10_000, places=2),
    r=st.decimals(min_value="0.01", max_value=100, places=3),
    tick=st.sampled_from([D("0.01"), D("0.05"), D("0.5")]),
    is_buy=st.booleans(),
)
def test_targets_are_monotone_in_r(entry: D, r: D, tick: D, is_buy: bool) -> None:
    prices = [target_price(entry, r, D(m), is_buy, tick) for m in (1, "1.5", 2, 3)]
    if not is_buy:
        prices = [-p for p in prices]
    assert prices == sorted(prices)
    assert prices[0] > (entry if is_buy else -entry)
