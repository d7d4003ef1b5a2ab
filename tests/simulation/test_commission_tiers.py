"""Commission tiers by an account's 30-day volume at the venue."""

from decimal import Decimal as D

from atlas_oms.simulation.commission import WINDOW_NS, Commissions, VolumeTracker, tier_for
from atlas_oms.simulation.config import BINANCE_SPOT_TIERS


def test_tier_is_the_highest_whose_minimum_the_volume_reaches() -> None:
    assert tier_for(BINANCE_SPOT_TIERS, D(0)).taker == D("0.001")
    assert tier_for(BINANCE_SPOT_TIERS, D(999_999)).maker == D("0.001")
    assert tier_for(BINANCE_SPOT_TIERS, D(1_000_000)).maker == D("0.0009")
    assert tier_for(BINANCE_SPOT_TIERS, D(25_000_000)).taker == D("0.0006")


def test_volume_is_a_rolling_30_day_window_per_account() -> None:
    t = VolumeTracker()
    t.add("a", 0, D(600_000))
    t.add("a", 10, D(500_000))
    t.add("b", 10, D(1))
    assert t.volume("a", 10) == D(1_100_000)
    assert t.volume("a", WINDOW_NS) == D(500_000)  # the first fill left the window
    assert t.volume("b", WINDOW_NS) == D(1)


def test_rates_follow_the_volume_traded_before_the_fill() -> None:
    c = Commissions(BINANCE_SPOT_TIERS)
    assert c.rates("a", 1, D(0), D(0)) == (D("0.001"), D("0.001"))
    c.record("a", 1, D(1_000_000))
    assert c.rates("a", 2, D(0), D(0)) == (D("0.0009"), D("0.001"))
    assert c.rates("a", 1 + WINDOW_NS, D(0), D(0)) == (D("0.001"), D("0.001"))


def test_without_tiers_the_instrument_rates_apply() -> None:
    c = Commissions(())
    c.record("a", 1, D(10**9))
    assert c.rates("a", 2, D("0.0002"), D("0.0004")) == (D("0.0002"), D("0.0004"))
