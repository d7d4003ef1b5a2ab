"""1-minute bars from trades or taken whole (seed 001 §10.1 "1m-Bar-Close"; §1 determinism)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_oms.core.policy.bars import (
    MINUTE_NS,
    Bar,
    BarRefused,
    BarState,
    bars_from_trades,
    on_bar,
    on_time,
    on_trade,
)

S = 1_000_000_000


def feed(
    trades: list[tuple[D, D, int]], state: BarState | None = None
) -> tuple[BarState, list[Bar]]:
    state = state or BarState()
    out: list[Bar] = []
    for price, qty, ts in trades:
        state, closed = on_trade(state, price, qty, ts)
        out.extend(closed)
    return state, out


def test_a_bar_closes_when_a_trade_reaches_the_next_minute() -> None:
    """§10.1: trades 10x1 @0s, 11x2 @10s, 9.5x1 @59s form minute 0: O 10 H 11 L 9.5 C 9.5 V 4;
    the trade at 60 s closes it and opens minute 1."""
    state, bars = feed([(D(10), D(1), 0), (D(11), D(2), 10 * S), (D("9.5"), D(1), 59 * S)])
    assert bars == []
    state, bars = feed([(D(12), D(3), 60 * S)], state)
    assert bars == [Bar(0, D(10), D(11), D("9.5"), D("9.5"), D(4), 3)]
    assert state.current == Bar(MINUTE_NS, D(12), D(12), D(12), D(12), D(3), 1)


def test_a_timer_tick_at_the_boundary_closes_the_bar_and_one_before_it_does_not() -> None:
    """§10.1 maintenance on bar close must not wait for the next trade: AdvanceTime closes it."""
    state, _ = feed([(D(10), D(1), 5 * S)])
    state, closed = on_time(state, MINUTE_NS - 1)
    assert closed == ()
    state, closed = on_time(state, MINUTE_NS)
    assert [b.close for b in closed] == [D(10)] and state.current is None


def test_empty_minutes_make_no_bar() -> None:
    """Decision (seed silent): no flat bar for a minute without trades; the gap shows up in the
    next bar's true range instead (indicators.py)."""
    _, bars = feed([(D(10), D(1), 0), (D(20), D(1), 5 * MINUTE_NS), (D(21), D(1), 6 * MINUTE_NS)])
    assert [b.start_ns for b in bars] == [0, 5 * MINUTE_NS]


def test_a_late_trade_is_counted_and_never_changes_a_closed_bar() -> None:
    state, bars = feed([(D(10), D(1), 0), (D(11), D(1), 61 * S), (D(1), D(1), 30 * S)])
    assert bars == [Bar(0, D(10), D(10), D(10), D(10), D(1), 1)]
    assert state.late_trades == 1 and state.current is not None and state.current.low == D(11)


def test_a_complete_bar_closes_an_earlier_one_replaces_the_same_minute_and_late_ones_drop() -> None:
    """Bars as market data (issue 13 §2 "takes bars as market data")."""
    state, _ = feed([(D(10), D(1), 0)])
    venue = Bar(0, D(10), D(12), D(9), D(11), D(7), 0)
    state, closed = on_bar(state, venue)
    assert closed == (venue,)  # replaces our partial view of minute 0
    nxt = Bar(2 * MINUTE_NS, D(11), D(11), D(11), D(11), D(1))
    state, _ = feed([(D(10), D(1), MINUTE_NS + 1)], state)
    state, closed = on_bar(state, nxt)
    assert [b.start_ns for b in closed] == [MINUTE_NS, 2 * MINUTE_NS]
    state, closed = on_bar(state, venue)
    assert closed == () and state.late_bars == 1


def test_inconsistent_bars_and_non_positive_trades_are_refused_with_a_reason() -> None:
    with pytest.raises(BarRefused) as info:
        on_bar(BarState(), Bar(0, D(10), D(9), D(8), D(10), D(1)))
    assert info.value.reason == "BAR_INCONSISTENT"
    with pytest.raises(BarRefused) as info:
        on_trade(BarState(), D(0), D(1), 0)
    assert info.value.reason == "TRADE_NOT_POSITIVE"


trades_st = st.lists(
    st.tuples(
        st.decimals(min_value=D("0.01"), max_value=D(1000), places=2),
        st.decimals(min_value=D("0.001"), max_value=D(100), places=3),
        st.integers(min_value=0, max_value=4 * S),
    ),
    max_size=60,
)


def ordered(raw: list[tuple[D, D, int]]) -> list[tuple[D, D, int]]:
    ts = 0
    out = []
    for price, qty, step in raw:
        ts += step * 7  # steps up to 28 s: several trades per minute and some empty minutes
        out.append((price, qty, ts))
    return out


@settings(max_examples=150, deadline=None)
@given(trades_st)
def test_bars_are_consistent_volumes_sum_and_incremental_equals_batch(
    raw: list[tuple[D, D, int]],
) -> None:
    """OHLC consistency (low <= open, close <= high), volume conservation, fold == batch."""
    trades = ordered(raw)
    end = (trades[-1][2] if trades else 0) + MINUTE_NS
    state, bars = feed(trades)
    state, closed = on_time(state, end)
    bars.extend(closed)
    assert state.current is None and state.late_trades == 0
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
    assert sum((b.volume for b in bars), D(0)) == sum((q for _, q, _ in trades), D(0))
    assert bars == bars_from_trades(trades, until=end)
    assert [b.start_ns for b in bars] == sorted({b.start_ns for b in bars})
