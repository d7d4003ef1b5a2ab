"""validate_order_size(order_value, volume_24h, max_slippage_pct) -> (ok, warning)."""

from decimal import Decimal as D

from atlas_oms.simulation.config import FillConfig
from atlas_oms.simulation.sizing import estimate_slippage_pct, validate_order_size


def test_estimate_is_the_realistic_formula_on_the_share_of_24h_volume() -> None:
    # 1 % of the 24h volume: 0.01 + 0.05 + 0.1 + 0.05 = 0.21 %
    assert estimate_slippage_pct(D(10_000), D(1_000_000)) == D("0.21")


def test_a_small_order_passes_without_warning() -> None:
    assert validate_order_size(D(5_000), D(1_000_000_000), D("0.5")) == (True, None)


def test_an_order_whose_estimated_slippage_exceeds_the_maximum_fails() -> None:
    # 9 % of the volume: 0.01 + 0.05 + 0.9 + 0.15 = 1.11 %
    ok, warning = validate_order_size(D(90_000), D(1_000_000), D("0.5"))
    assert not ok
    assert warning is not None and "1.11%" in warning and "9%" in warning


def test_unknown_volume_fails() -> None:
    ok, warning = validate_order_size(D(1), D(0), D(1))
    assert not ok and warning is not None and "volume" in warning


def test_over_the_volume_cap_passes_with_a_warning() -> None:
    c = FillConfig(max_volume_pct=D(1))
    ok, warning = validate_order_size(D(20_000), D(1_000_000), D(5), config=c)
    assert ok and warning is not None and "2%" in warning
