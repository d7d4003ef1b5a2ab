"""Seed 001 §10.2 stop maintenance: trailCandidate, mfeLockStop, runnerTrailCandidate and
``effectiveStop = max(prevStop, stop0, ...)`` (min for a short), which never loosens."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_oms.core.policy.params import TrailingParams
from atlas_oms.core.policy.stops import (
    Side,
    effective_stop,
    mfe,
    mfe_lock_stop,
    runner_trail_candidate,
    trail_candidate,
)

TICK = D("0.01")
#: The parameter defaults (params.py is their single source).
DEFAULT_TRAIL_ATR_FACTOR = TrailingParams().trail_atr_factor
DEFAULT_MFE_LOCK_PCT = TrailingParams().mfe_lock_pct
DEFAULT_RUNNER_BUFFER_PCT = TrailingParams().runner_buffer_pct


def test_long_worked_example() -> None:
    """§10.2, long: entry 100, stop0 98 (1R = 2), entry ATR 0.75, highest high 103.20, EMA9
    102.345, last higher low 101.90, defaults factor 2, lock 50 %, runner buffer 0.1 % of the
    reference price (0.001 x 101.90 = 0.1019).
    trail = 103.20 - 2 x 0.75 = 101.70; MFE = 3.20 >= 1R so lock = 100 + 0.5 x 3.20 = 101.60;
    runner = min(102.345, 101.90) - 0.1019 = 101.7981, down onto the tick: 101.79;
    effective = max(99.50, 98, 101.70, 101.60, 101.79) = 101.79 (runner)."""
    atr = D("0.75")
    trail = trail_candidate("long", D("103.20"), atr, DEFAULT_TRAIL_ATR_FACTOR, TICK)
    lock = mfe_lock_stop(
        "long", D(100), mfe("long", D(100), D("103.20")), DEFAULT_MFE_LOCK_PCT, TICK, D(2)
    )
    runner = runner_trail_candidate(
        "long", D("102.345"), D("101.90"), DEFAULT_RUNNER_BUFFER_PCT, TICK
    )
    assert (trail, lock, runner) == (D("101.70"), D("101.60"), D("101.79"))
    move = effective_stop("long", D("99.50"), D(98), trail, lock, runner)
    assert (move.stop, move.source, move.moved) == (D("101.79"), "runner", True)


def test_short_worked_example_mirrors_the_long_one() -> None:
    """Mirror: entry 100, stop0 102, lowest low 96.80, EMA9 97.655, last lower high 98.10.
    trail = 96.80 + 1.50 = 98.30; lock = 100 - 0.5 x 3.20 = 98.40; runner = max(97.655, 98.10)
    + 0.001 x 98.10 = 98.1981, up onto the tick: 98.20;
    effective = min(100.50, 102, 98.30, 98.40, 98.20) = 98.20."""
    atr = D("0.75")
    trail = trail_candidate("short", D("96.80"), atr, DEFAULT_TRAIL_ATR_FACTOR, TICK)
    lock = mfe_lock_stop(
        "short", D(100), mfe("short", D(100), D("96.80")), DEFAULT_MFE_LOCK_PCT, TICK, D(2)
    )
    runner = runner_trail_candidate(
        "short", D("97.655"), D("98.10"), DEFAULT_RUNNER_BUFFER_PCT, TICK
    )
    assert (trail, lock, runner) == (D("98.30"), D("98.40"), D("98.20"))
    assert effective_stop("short", D("100.50"), D(102), trail, lock, runner).stop == D("98.20")


def test_mfe_lock_waits_for_its_activation_and_missing_terms_are_left_out() -> None:
    """Decision (seed silent): with MFE 1.5 < 1R = 2 the lock would put the stop near entry at
    once, so it is inactive; no ATR / EMA / higher low yet: those terms drop out of the max."""
    assert mfe_lock_stop("long", D(100), D("1.5"), D("0.5"), TICK, D(2)) is None
    assert trail_candidate("long", D(103), None, D(2), TICK) is None
    assert runner_trail_candidate("long", D(102), None, D("0.001"), TICK) is None
    move = effective_stop("long", None, D(98))
    assert (move.stop, move.source, move.moved) == (D(98), "stop0", True)


def test_a_looser_candidate_leaves_the_stop_where_it_was() -> None:
    """§10.2 Highwater-Mark-Invariante: prevStop 101.50 beats trail 101.00: unchanged, "prev"."""
    move = effective_stop("long", D("101.50"), D(98), D("101.00"), None, D("101.50"))
    assert (move.stop, move.source, move.moved) == (D("101.50"), "prev", False)


candidate = st.none() | st.decimals(min_value=D("50.00"), max_value=D("150.00"), places=2)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["long", "short"]),
    st.decimals(min_value=D("50.00"), max_value=D("150.00"), places=2),
    st.lists(st.tuples(candidate, candidate, candidate), max_size=30),
)
def test_the_stop_never_loosens(
    side: Side, stop0: D, updates: list[tuple[D | None, D | None, D | None]]
) -> None:
    """§10.2: over any sequence of candidates, a long's stop never falls (a short's never rises),
    never passes stop0's wrong side, and is always one of its terms."""
    prev: D | None = None
    for trail, lock, runner in updates:
        move = effective_stop(side, prev, stop0, trail, lock, runner)
        terms = [t for t in (prev, stop0, trail, lock, runner) if t is not None]
        assert move.stop in terms
        if side == "long":
            assert move.stop == max(terms) and move.stop >= stop0
            assert prev is None or move.stop >= prev
        else:
            assert move.stop == min(terms) and move.stop <= stop0
            assert prev is None or move.stop <= prev
        assert move.moved == (prev is None or move.stop != prev)
        prev = move.stop


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["long", "short"]),
    st.decimals(min_value=D("1"), max_value=D("500"), places=4),
    st.decimals(min_value=D("0.0001"), max_value=D("5"), places=6),
    st.sampled_from([D("0.01"), D("0.05"), D("0.0001")]),
)
def test_candidates_sit_on_the_tick_and_never_tighter_than_the_formula(
    side: Side, extreme: D, atr: D, tick: D
) -> None:
    """Rounding decision: onto the tick, away from the market (long down, short up)."""
    exact = extreme - 2 * atr if side == "long" else extreme + 2 * atr
    got = trail_candidate(side, extreme, atr, D(2), tick)
    if got is None:
        assert side == "long"
        return
    assert got % tick == 0
    assert (got <= exact if side == "long" else got >= exact) and abs(got - exact) < tick
