"""Atlas's own overhead in the gateway, in nanoseconds (perf_counter_ns), for the benchmark."""

from __future__ import annotations

from collections import deque


class Histogram:
    """The last ``size`` samples; percentiles on demand (cheap to record, exact enough)."""

    def __init__(self, size: int = 20_000) -> None:
        self.samples: deque[int] = deque(maxlen=size)
        self.count = 0

    def record(self, ns: int) -> None:
        self.samples.append(ns)
        self.count += 1

    def percentile(self, p: float) -> int | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        return ordered[index]

    def summary_us(self) -> dict[str, float | int | None]:
        p50, p99 = self.percentile(50), self.percentile(99)
        return {
            "count": self.count,
            "p50_us": None if p50 is None else p50 / 1000,
            "p99_us": None if p99 is None else p99 / 1000,
        }


class Overhead:
    """``send``: a request taken off the queue to the adapter call; ``fact``: a venue fact
    received to its ``node.process`` returning; ``queue``: a request handed over by the node to
    taken off the queue."""

    def __init__(self) -> None:
        self.send = Histogram()
        self.fact = Histogram()
        self.queue = Histogram()

    def summary(self) -> dict[str, dict[str, float | int | None]]:
        return {
            "send": self.send.summary_us(),
            "fact": self.fact.summary_us(),
            "queue": self.queue.summary_us(),
        }
