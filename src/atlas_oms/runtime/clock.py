"""Clocks: the only place Atlas reads time. The core gets ``ts`` inside messages."""

from __future__ import annotations

import time

NS_PER_S = 1_000_000_000


class LiveClock:
    """Wall-clock time, never going backwards within one process."""

    def __init__(self) -> None:
        self._last = 0

    def now(self) -> int:
        ts = time.time_ns()
        if ts <= self._last:
            ts = self._last + 1
        self._last = ts
        return ts


class ManualClock:
    """Time that moves only when told: for tests, backtests and the demo."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now(self) -> int:
        return self._now

    def set(self, ts: int) -> None:
        if ts < self._now:
            raise ValueError(f"a clock cannot go back from {self._now} to {ts}")
        self._now = ts

    def advance(self, ns: int) -> int:
        self.set(self._now + ns)
        return self._now
