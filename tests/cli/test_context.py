"""The command line's clock and transport (``atlas_oms.cli.context``), and how a node on a journal
gets its clock (``atlas_oms.cli.on_journal``)."""

from __future__ import annotations

from pathlib import Path

from atlas_oms import ManualClock
from atlas_oms.cli.context import Context, OperatorClock
from atlas_oms.cli.on_journal import open_node
from atlas_oms.runtime.clock import LiveClock

from .helpers import MINUTE, T0, spot_journal


def test_an_operator_clock_never_runs_before_the_journal() -> None:
    source = ManualClock(T0)
    clock = OperatorClock(source, floor_ns=T0 + MINUTE)
    assert clock.now() == T0 + MINUTE
    source.advance(2 * MINUTE)
    assert clock.now() == T0 + 2 * MINUTE


def test_the_context_reads_the_injected_clock_or_the_wall_clock() -> None:
    manual = ManualClock(T0)
    assert Context(clock=manual).wall_clock() is manual
    assert Context(clock=manual).stopwatch() is manual
    assert isinstance(Context().wall_clock(), LiveClock)
    first = Context().stopwatch().now()
    assert Context().stopwatch().now() >= first


def test_a_node_on_a_journal_runs_on_the_context_clock_above_its_last_event(
    tmp_path: Path,
) -> None:
    path = tmp_path / "oms.db"
    spot_journal(path, T0 + MINUTE)
    node = open_node(str(path), Context(clock=ManualClock(T0)), readonly=True)
    try:
        assert node.clock.now() == T0 + MINUTE  # the journal's last event time
    finally:
        node.close()
    node = open_node(str(path), Context(clock=ManualClock(T0 + 5 * MINUTE)), readonly=True)
    try:
        assert node.clock.now() == T0 + 5 * MINUTE
    finally:
        node.close()
