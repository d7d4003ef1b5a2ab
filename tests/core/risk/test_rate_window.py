"""The rate window counts exactly what a list of timestamps would, in bounded memory."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_oms.core.risk.book import HORIZON_S, SECOND_NS, RateWindow


@settings(max_examples=200, deadline=None, derandomize=True)
@given(gaps=st.lists(st.integers(0, 5 * SECOND_NS), min_size=1, max_size=300))
def test_counts_equal_a_naive_count_over_every_window(gaps: list[int]) -> None:
    window = RateWindow()
    seen: list[int] = []
    ts = 10**18
    for gap in gaps:
        ts += gap
        window.add(ts)
        seen.append(ts // SECOND_NS)
        now = ts // SECOND_NS
        for span in (1, 2, 60, 3600):
            naive = sum(1 for s in seen if s >= now - span + 1)
            assert window.since(ts, span) == naive, (span, gaps)


def test_memory_stays_within_the_horizon() -> None:
    window = RateWindow()
    for second in range(3 * HORIZON_S):
        window.add(second * SECOND_NS)
    assert len(window.secs) <= HORIZON_S + 64
    assert window.since((3 * HORIZON_S - 1) * SECOND_NS, 3600) == 3600
