"""What every command gets besides its arguments: the clock it reads and the HTTP transport.

``main(argv, clock=...)`` builds one :class:`Context` and hands it to the command. Without a clock
the commands read the wall clock, as an operator at a terminal expects; a test passes a
:class:`~atlas_oms.runtime.clock.ManualClock` so that what it asserts about times is exact. The
command line reads time nowhere else.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from atlas_oms.core.ports import Clock
from atlas_oms.runtime.clock import LiveClock

if TYPE_CHECKING:
    import httpx

__all__ = ["Command", "Context", "OperatorClock"]


class OperatorClock:
    """Time for an operator action: the source clock's, never before the journal's last event.

    A journal written on a manual clock (the demo, a backtest) may run ahead of the wall clock;
    an operator's event stamped before the events it follows would read as if it came first.
    """

    def __init__(self, source: Clock, floor_ns: int = 0) -> None:
        self._source = source
        self._floor = floor_ns

    def now(self) -> int:
        """The source's time, or the journal's last event time if that is later."""
        return max(self._source.now(), self._floor)


class _Stopwatch:
    """``time.perf_counter_ns`` as a clock: for how long something took, never to stamp events."""

    def now(self) -> int:
        return time.perf_counter_ns()


@dataclass(frozen=True, slots=True)
class Context:
    """The command line's ports: ``clock`` (None: the wall clock) and the HTTP ``transport`` of
    the server commands (None: the network; a test passes an ``httpx.MockTransport``)."""

    clock: Clock | None = None
    transport: httpx.BaseTransport | None = None

    def wall_clock(self) -> Clock:
        """The clock that stamps operator actions and dates reports."""
        return self.clock if self.clock is not None else LiveClock()

    def stopwatch(self) -> Clock:
        """The clock that times work (``atlas replay``): the injected one, else a monotonic one."""
        return self.clock if self.clock is not None else _Stopwatch()


#: A command: the parsed arguments and the context in, an exit code out.
Command = Callable[[argparse.Namespace, Context], int]
