"""Seed 001 section 8.2 (repricing degradation): one test per row of the table, entering and
leaving each mode, the window boundaries, and hysteresis as a property."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atlas_oms.core.policy.repricing import (
    MINUTE_NS,
    Activity,
    DegradationReason,
    LowFillAction,
    Mode,
    RepricingConfig,
    RepricingState,
    step,
)

S = 1_000_000_000
A = Activity


def run(script: list[tuple[int, Activity]], state: RepricingState | None = None):  # type: ignore[no-untyped-def]
    s = state or RepricingState()
    out = []
    for ts, act in script:
        s, ds = step(s, ts, act)
        out.extend(ds)
    return s, out


def test_defaults_are_5s_3_cycles_abandon_retry_full_size() -> None:
    p = RepricingState().params()
    assert (p.interval_ms, p.max_cycles, p.abandon_retry, p.size_factor, p.observing) == (
        5000, 3, True, 1, False,
    )  # fmt: skip


def test_row_cancel_replace_rate_above_5_over_30_min_slows_repricing_to_10s() -> None:
    """8.2 row 1: Cancel/Replace-Rate > 5:1 (ueber 30 Min) -> Intervall 5s auf 10s."""
    s, out = run([(1 * S, A.TRADE)] + [(i * S, A.CANCEL_REPLACE) for i in range(2, 8)])
    assert [(d.mode, d.entered, d.reason) for d in out] == [
        (Mode.SLOW_REPRICING, True, DegradationReason.CANCEL_REPLACE_RATE_HIGH)
    ]
    assert out[0].value == 6 and s.params().interval_ms == 10000


def test_row_1_exactly_5_to_1_does_not_degrade() -> None:
    s, out = run([(1 * S, A.TRADE)] + [(i * S, A.CANCEL_REPLACE) for i in range(2, 7)])
    assert out == [] and s.params().interval_ms == 5000


def test_row_1_lasts_until_the_rate_is_below_3_to_1() -> None:
    """8.2 row 1, Dauer: Bis Rate < 3:1."""
    s, _ = run([(1 * S, A.TRADE)] + [(i * S, A.CANCEL_REPLACE) for i in range(2, 8)])
    s, out = run([(10 * S, A.TRADE)], s)  # 6:2 = 3:1, not below
    assert out == [] and Mode.SLOW_REPRICING in s.modes
    s, out = run([(11 * S, A.TRADE)], s)  # 6:3 = 2:1
    assert [(d.entered, d.reason) for d in out] == [
        (False, DegradationReason.CANCEL_REPLACE_RATE_RECOVERED)
    ]
    assert s.params().interval_ms == 5000


def test_row_1_recovers_when_the_replaces_leave_the_30_min_window() -> None:
    s, _ = run([(2 * S, A.TRADE)] + [(2 * S, A.CANCEL_REPLACE)] * 6)
    s, out = run([(2 * S + 30 * MINUTE_NS - 1, A.TICK)], s)
    assert out == []  # all still inside (ts - 30 min, ts]
    s, out = run([(2 * S + 30 * MINUTE_NS, A.TICK)], s)
    assert [d.entered for d in out] == [False] and s.params().interval_ms == 5000


def test_row_order_trade_ratio_above_10_over_60_min_allows_one_cycle_no_abandon_retry() -> None:
    """8.2 row 2: Order/Trade-Ratio > 10:1 (ueber 60 Min) -> 1 Zyklus, kein Abandon-Retry."""
    s, out = run([(0, A.TRADE)] + [(i * S, A.ORDER) for i in range(1, 12)])
    assert [(d.mode, d.entered) for d in out] == [(Mode.SINGLE_CYCLE, True)]
    p = s.params()
    assert (p.max_cycles, p.abandon_retry) == (1, False)


def test_row_2_exactly_10_to_1_does_not_degrade() -> None:
    s, out = run([(0, A.TRADE)] + [(i * S, A.ORDER) for i in range(1, 11)])
    assert out == [] and s.params().max_cycles == 3


def test_row_2_lasts_until_the_ratio_is_below_6_to_1() -> None:
    """8.2 row 2, Dauer: Bis Ratio < 6:1."""
    s, _ = run([(0, A.TRADE)] + [(i * S, A.ORDER) for i in range(1, 13)])  # 12:1
    s, out = run([(20 * S, A.TRADE)], s)  # 12:2 = 6:1 holds
    assert out == [] and Mode.SINGLE_CYCLE in s.modes
    s, out = run([(21 * S, A.TRADE)], s)  # 12:3 = 4:1
    assert [(d.mode, d.entered) for d in out] == [(Mode.SINGLE_CYCLE, False)]
    assert s.params().abandon_retry


def test_row_2_counts_60_minutes_not_more() -> None:
    script = [(0, A.ORDER)] * 5 + [(60 * MINUTE_NS + i, A.ORDER) for i in range(6)]
    _, out = run(script)
    assert out == []  # the first 5 left the window: 6:1


def test_row_fill_rate_below_30_pct_over_5_attempts_halves_the_size() -> None:
    """8.2 row 3: Fill-Rate < 30% (ueber 5 Versuche) -> Positionsgroesse halbieren."""
    acts = [A.ATTEMPT_FILLED] + [A.ATTEMPT_UNFILLED] * 4  # 20%
    s, out = run([(i * S, a) for i, a in enumerate(acts)])
    assert [(d.mode, d.entered, d.value) for d in out] == [(Mode.LOW_FILL_RATE, True, D("0.2"))]
    assert s.params().size_factor == D("0.5") and not s.params().observing


def test_row_3_can_go_observing_instead() -> None:
    """8.2 row 3: ... ODER in OBSERVING."""
    state = RepricingState(RepricingConfig(low_fill_action=LowFillAction.OBSERVING))
    s, _ = run([(i * S, A.ATTEMPT_UNFILLED) for i in range(5)], state)
    assert s.params().observing and s.params().size_factor == 1


@pytest.mark.parametrize(("filled", "degraded"), [(1, True), (2, False)])
def test_row_3_boundary_2_of_5_is_40_pct_and_fine(filled: int, degraded: bool) -> None:
    acts = [A.ATTEMPT_FILLED] * filled + [A.ATTEMPT_UNFILLED] * (5 - filled)
    s, _ = run([(i * S, a) for i, a in enumerate(acts)])
    assert (Mode.LOW_FILL_RATE in s.modes) is degraded


def test_row_3_needs_5_attempts_and_lasts_until_the_next_strategy_cycle() -> None:
    """8.2 row 3, Dauer: Bis naechster LLM-Zyklus."""
    s, out = run([(i * S, A.ATTEMPT_UNFILLED) for i in range(4)])
    assert out == []
    s, _ = run([(5 * S, A.ATTEMPT_UNFILLED)], s)
    s, out = run([(6 * S, A.ATTEMPT_FILLED)] * 3, s)  # 3 of 5 filled: still held
    assert out == [] and Mode.LOW_FILL_RATE in s.modes
    s, out = run([(7 * S, A.NEW_CYCLE)], s)
    assert [(d.entered, d.reason) for d in out] == [
        (False, DegradationReason.FILL_RATE_RESET_BY_NEW_CYCLE)
    ]
    assert s.attempts == () and s.params().size_factor == 1


def test_time_may_not_go_back() -> None:
    s, _ = step(RepricingState(), 10, A.TICK)
    with pytest.raises(ValueError, match="time went back"):
        step(s, 9, A.TICK)


activity = st.sampled_from([A.ORDER, A.CANCEL_REPLACE, A.TRADE, A.TICK])


@given(st.lists(st.tuples(st.integers(0, 20 * MINUTE_NS), activity), max_size=80))
def test_hysteresis_modes_enter_above_warn_and_leave_only_below_clear(
    script: list[tuple[int, Activity]],
) -> None:
    s = RepricingState()
    ts = 0
    for gap, act in script:
        ts += gap
        before = s.modes
        s, out = step(s, ts, act)
        cr, ot = s.cancel_replace_ratio(), s.order_trade_ratio()
        for d in out:
            if d.mode is Mode.SLOW_REPRICING:
                assert (cr > 5) if d.entered else (cr < 3)
            else:
                assert (ot > 10) if d.entered else (ot < 6)
        assert (Mode.SLOW_REPRICING in s.modes) == (
            cr > 5 or (Mode.SLOW_REPRICING in before and cr >= 3)
        )
        assert (Mode.SINGLE_CYCLE in s.modes) == (
            ot > 10 or (Mode.SINGLE_CYCLE in before and ot >= 6)
        )
        assert len(out) == len(s.modes ^ before)


@given(st.lists(st.tuples(st.integers(0, 10**9), activity), max_size=40))
def test_the_machine_is_deterministic(script: list[tuple[int, Activity]]) -> None:
    timed = [(sum(g for g, _ in script[: i + 1]), a) for i, (_, a) in enumerate(script)]
    assert run(timed) == run(timed)
