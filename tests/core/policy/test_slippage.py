"""Seed 001 section 14 (slippage management): 14.1's measure and one test per row of the 14.2
escalation table, with their boundaries."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from atlas_oms.core.policy.slippage import (
    SlippageAction,
    SlippageMonitor,
    adverse_fraction,
    single_fill_decision,
    slippage_fraction,
    trade_slippage,
)


def feed(values: list[D], monitor: SlippageMonitor | None = None):  # type: ignore[no-untyped-def]
    m = monitor or SlippageMonitor()
    decisions = []
    for v in values:
        m, out = m.record(v)
        decisions.extend(out)
    return m, decisions


def test_14_1_slippage_is_fill_minus_intent_as_a_signed_fraction() -> None:
    """14.1: slippage = fill_price - intent_price."""
    assert slippage_fraction(D("100.5"), D(100)) == D("0.005")
    assert slippage_fraction(D("99.5"), D(100)) == D("-0.005")
    assert adverse_fraction(True, D("100.5"), D(100)) == D("0.005")
    assert adverse_fraction(False, D("100.5"), D(100)) == D("-0.005")


def test_a_trades_slippage_weights_its_fills_by_quantity() -> None:
    fills = ((D(101), D(1)), (D(100), D(3)))
    assert trade_slippage(True, D(100), fills) == D("0.0025")


def test_row_avg_above_0_2_pct_over_5_trades_warns_monitoring() -> None:
    """14.2 row 1: Avg. Slippage > 0.2% ueber 5 Trades -> Warnung an Monitoring."""
    m, out = feed([D("0.0021")] * 5)
    assert [d.action for d in out] == [SlippageAction.WARN]
    assert m.warning and m.size_factor == 1


def test_row_1_boundary_exactly_0_2_pct_or_fewer_than_5_trades_is_no_warning() -> None:
    assert feed([D("0.002")] * 5)[1] == []
    assert feed([D("0.01")] * 4)[1] == []


def test_row_avg_above_0_3_pct_over_10_trades_reduces_max_size_by_25_pct() -> None:
    """14.2 row 2: Avg. Slippage > 0.3% ueber 10 Trades -> Max. Positionsgroesse -25%."""
    m, out = feed([D("0.0031")] * 10)
    assert [d.action for d in out] == [SlippageAction.WARN, SlippageAction.REDUCE_SIZE_25]
    assert m.reduced and m.size_factor == D("0.75")


def test_row_2_boundary_exactly_0_3_pct_does_not_reduce() -> None:
    m, out = feed([D("0.003")] * 10)
    assert SlippageAction.REDUCE_SIZE_25 not in [d.action for d in out]
    assert m.size_factor == 1


def test_warning_and_reduction_clear_once_the_averages_fall_back() -> None:
    m, _ = feed([D("0.0031")] * 10)
    m, out = feed([D(0)] * 5, m)
    assert [d.action for d in out] == [
        SlippageAction.SIZE_RESTORED,
        SlippageAction.WARN_CLEARED,
    ]
    assert not m.warning and not m.reduced and m.size_factor == 1


def test_row_single_fill_above_0_5_pct_moves_the_stop_to_r_from_the_fill() -> None:
    """14.2 row 3: Einzelne Slippage > 0.5% -> Stop anpassen."""
    d = single_fill_decision(
        is_buy=True, intent_price=D(100), fill_price=D("100.6"), stop=D(98),
        r=D(2), first_target=D(103), tick=D("0.01"),
    )  # fmt: skip
    assert d is not None and d.action is SlippageAction.ADJUST_STOP
    assert d.new_stop == D("98.6")


def test_row_single_fill_above_0_5_pct_exits_when_reward_risk_is_destroyed() -> None:
    """14.2 row 3: ggf. sofortiger Exit wenn R/R zerstoert."""
    d = single_fill_decision(
        is_buy=True, intent_price=D(100), fill_price=D("100.6"), stop=D(98),
        r=D(2), first_target=D("102.5"), tick=D("0.01"),
    )  # fmt: skip
    assert d is not None and d.action is SlippageAction.EXIT_IF_RR_DESTROYED  # 1.9 < 1R


def test_row_3_boundary_exactly_0_5_pct_or_favourable_is_no_decision() -> None:
    for fill in (D("100.5"), D(99)):
        d = single_fill_decision(
            is_buy=True, intent_price=D(100), fill_price=fill, stop=D(98),
            r=D(2), first_target=D(103), tick=D("0.01"),
        )  # fmt: skip
        assert d is None


def test_a_shorts_bad_fill_is_below_the_intent_and_its_stop_moves_down() -> None:
    d = single_fill_decision(
        is_buy=False, intent_price=D(100), fill_price=D("99.4"), stop=D(102),
        r=D(2), first_target=D(97), tick=D("0.01"),
    )  # fmt: skip
    assert d is not None and d.action is SlippageAction.ADJUST_STOP
    assert d.new_stop == D("101.4")


@given(
    fill=st.decimals(min_value=90, max_value=110, places=2),
    stop=st.decimals(min_value=80, max_value=95, places=2),
)
def test_the_adjusted_stop_never_loosens(fill: D, stop: D) -> None:
    d = single_fill_decision(
        is_buy=True, intent_price=D(90), fill_price=fill, stop=stop,
        r=D(5), first_target=None, tick=D("0.01"),
    )  # fmt: skip
    if d is not None and d.new_stop is not None:
        assert d.new_stop >= stop


@given(st.lists(st.decimals(min_value=-1, max_value=1, places=4), max_size=40))
def test_the_monitor_alternates_enter_and_leave_decisions(values: list[D]) -> None:
    m, out = feed(values)
    pairs = (
        (SlippageAction.WARN, SlippageAction.WARN_CLEARED, m.warning),
        (SlippageAction.REDUCE_SIZE_25, SlippageAction.SIZE_RESTORED, m.reduced),
    )
    for enter, leave, active in pairs:
        seq = [d.action for d in out if d.action in (enter, leave)]
        assert seq == [enter if i % 2 == 0 else leave for i in range(len(seq))]
        assert active == (len(seq) % 2 == 1)
