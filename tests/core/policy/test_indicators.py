"""ATR (Wilder), EMA(9) of closes and the last higher low: the inputs of seed 001 §10.2's
``trailCandidate`` (entry ATR) and ``runnerTrailCandidate`` (ema9_close, last_higher_low)."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_oms.core.policy.bars import MINUTE_NS, Bar
from atlas_oms.core.policy.indicators import (
    IndicatorConfig,
    IndicatorState,
    atr_series,
    ema_series,
    higher_lows,
    run,
    update,
)


def hlc(rows: list[tuple[int | str, int | str, int | str]]) -> list[Bar]:
    bars = []
    for i, (h, low, c) in enumerate(rows):
        high, lo, close = D(h), D(low), D(c)
        bars.append(Bar(i * MINUTE_NS, close, high, lo, close, D(1)))
    return bars


def test_wilder_atr_and_ema_by_hand() -> None:
    """§10.2 entryAtr. Period 3: TR = 2 (first bar: H-L), 2 (max(2, |12-10|, |10-10|)),
    3 (max(3, |13-11|, |10-11|)); ATR3 = 7/3 = 2.333333333333 (1e-12, half-even); bar 4 TR =
    max(2, |16-12|, |14-12|) = 4, ATR = (2.333333333333 x 2 + 4) / 3 = 2.888888888889.
    EMA(3): alpha 2/4 = 0.5, seed (10+11+12)/3 = 11, then 11 + 0.5 x (15-11) = 13."""
    bars = hlc([(11, 9, 10), (12, 10, 11), (13, 10, 12), (16, 14, 15)])
    config = IndicatorConfig(atr_period=3, ema_period=3)
    states = []
    state = IndicatorState()
    for bar in bars:
        state = update(state, bar, config)
        states.append(state)
    assert [s.atr for s in states] == [None, None, D("2.333333333333"), D("2.888888888889")]
    assert [s.ema for s in states] == [None, None, D(11), D(13)]


def test_ema9_uses_alpha_one_fifth_seeded_with_the_mean_of_nine_closes() -> None:
    """EMA(9): closes 1..9 seed it at 45/9 = 5; close 15 gives 5 + 0.2 x (15 - 5) = 7."""
    bars = hlc([(c, c, c) for c in range(1, 10)] + [(15, 15, 15)])
    states = [run(bars[: n + 1]) for n in range(len(bars))]
    assert states[7].ema is None and states[8].ema == D(5) and states[9].ema == D(7)


def test_last_higher_low_is_a_confirmed_swing_low_above_the_previous_one() -> None:
    """§10.2 last_higher_low, k = 1: lows 10, 8, 9, 10, 9, 11, 12, 7, 13. Swing low 8 (bar 2) is
    confirmed at bar 3; swing low 9 (bar 5) confirmed at bar 6 is higher than 8: the last higher
    low is 9. Swing low 7 (bar 8, confirmed at bar 9) is lower: it does not erase 9."""
    lows = [10, 8, 9, 10, 9, 11, 12, 7, 13]
    bars = hlc([(low + 1, low, low) for low in lows])
    config = IndicatorConfig(swing_window=1)
    got = []
    state = IndicatorState()
    for bar in bars:
        state = update(state, bar, config)
        got.append(state.last_higher_low)
    assert got == [None] * 5 + [D(9)] * 4
    assert state.last_swing_low == D(7)


def test_last_lower_high_mirrors_for_shorts() -> None:
    """Mirror for a short's runner: highs 10, 12, 11, 10, 11, 9, 8 (k = 1): swing highs 12 then
    11 (lower): last lower high 11."""
    highs = [10, 12, 11, 10, 11, 9, 8]
    state = run(hlc([(h, h - 1, h) for h in highs]), IndicatorConfig(swing_window=1))
    assert state.last_lower_high == D(11)


prices = st.decimals(min_value=D("1.00"), max_value=D("200.00"), places=2)
bar_rows = st.lists(st.tuples(prices, prices, prices), min_size=0, max_size=40)


def make_bars(rows: list[tuple[D, D, D]]) -> list[Bar]:
    out = []
    for i, (a, b, c) in enumerate(rows):
        low, close, high = sorted((a, b, c))
        out.append(Bar(i * MINUTE_NS, close, high, low, close, D(1)))
    return out


@settings(max_examples=120, deadline=None)
@given(bar_rows, st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=9))
def test_incremental_equals_batch(rows: list[tuple[D, D, D]], period: int, ema_period: int) -> None:
    """O(1) folds agree with the independent whole-series computations, bar for bar."""
    bars = make_bars(rows)
    config = IndicatorConfig(atr_period=period, ema_period=ema_period, swing_window=2)
    atrs, emas, hls = [], [], []
    state = IndicatorState()
    for bar in bars:
        state = update(state, bar, config)
        atrs.append(state.atr)
        emas.append(state.ema)
        hls.append(state.last_higher_low)
    assert atrs == atr_series(bars, period)
    assert emas == ema_series([b.close for b in bars], ema_period)
    assert hls == higher_lows([b.low for b in bars], 2)


@settings(max_examples=120, deadline=None)
@given(bar_rows, st.integers(min_value=0, max_value=40))
def test_a_restart_from_a_stored_state_reproduces_every_value(
    rows: list[tuple[D, D, D]], cut: int
) -> None:
    """§1 "gleicher Input fuehrt zum gleichen Output": the frozen state is all a replay needs."""
    bars = make_bars(rows)
    whole = run(bars)
    resumed = run(bars[cut:], state=run(bars[:cut]))
    assert resumed == whole
