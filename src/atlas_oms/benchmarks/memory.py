"""Peak memory with a million resting limit orders: ``python -m atlas_oms.benchmarks.memory N``.

Runs in a fresh process so that the peak RSS (``ru_maxrss``) is this workload's alone, and uses a
journal that keeps nothing (it only counts), so that what is measured is the engine and the
built-in exchange's book, not the journal's copy of the events. Prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import OrderType, Side
from atlas_oms.model.events import Event, EventBase
from atlas_oms.store.base import RecoveryReport

N_RESTING = 1_000_000
N_RESTING_QUICK = 20_000
ACCOUNTS = 200


class CountingJournal:
    """A journal that keeps nothing: it satisfies the protocol and tracks ``last_seq`` only."""

    def __init__(self) -> None:
        self.recovery = RecoveryReport()
        self._last_seq = 0

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def append(self, events: Sequence[EventBase]) -> None:
        if events:
            self._last_seq = events[-1].seq

    def flush(self) -> None:
        pass

    def read(self, from_seq: int = 1) -> Iterator[Event]:
        return iter(())

    def read_batches(self, from_seq: int = 1) -> Iterator[list[Event]]:
        return iter(())

    def save_snapshot(self, seq: int, state: bytes) -> None:
        pass

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        return None

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    ``ru_maxrss`` (KiB on Linux, bytes on macOS) survives ``fork`` + ``exec`` on Linux: a child
    started by a big parent reports the parent's peak. Linux's ``VmHWM`` (the high-water mark of
    this address space, reset by ``exec``) is used where present; it is the same measure otherwise.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measure(n: int) -> dict[str, Any]:
    """Rest ``n`` limit orders (half bids, half asks, 200 accounts) and report the peak RSS."""
    from atlas_oms.benchmarks.core import START_NS, SYMBOL, instrument
    from atlas_oms.runtime.clock import ManualClock
    from atlas_oms.runtime.node import Node

    baseline = rss_mb()
    node = Node(CountingJournal(), clock=ManualClock(START_NS))
    node.add_instrument(instrument())
    accounts = [f"acct-{i:03d}" for i in range(ACCOUNTS)]
    for account in accounts:
        node.open_account(account)
        node.deposit(account, "USDT", 100_000_000_000)
        node.deposit(account, "BTC", 10_000_000)
    node.update_prices(SYMBOL, last="50000")
    gc.collect()
    gc.freeze()
    process = node.process
    qty = Decimal("0.001")
    tick = Decimal("0.01")
    bid0 = Decimal("49999.99")
    ask0 = Decimal("50000.01")
    levels = 50_000  # distinct prices per side
    started = time.perf_counter()
    for i in range(n):
        buy = i % 2 == 0
        offset = tick * ((i // 2) % levels)
        process(
            SubmitOrder(
                ts=START_NS + i,
                account_id=accounts[i % ACCOUNTS],
                symbol=SYMBOL,
                side=Side.BUY if buy else Side.SELL,
                order_type=OrderType.LIMIT,
                qty=qty,
                price=bid0 - offset if buy else ask0 + offset,
            )
        )
        if i % 100_000 == 99_999:
            gc.freeze()  # what survived is long-lived: keep the collector off it
    elapsed = time.perf_counter() - started
    resting = len(node.sim.book(SYMBOL))
    if resting != n:
        raise RuntimeError(f"benchmark workload broken: {resting} orders rest, expected {n}")
    return {
        "rss_mb": round(rss_mb(), 1),
        "baseline_rss_mb": round(baseline, 1),
        "resting_orders": resting,
        "seconds": round(elapsed, 2),
    }


def bench_rss(quick: bool) -> dict[str, Any]:
    """Run :func:`measure` in a fresh interpreter and return its figure."""
    n = N_RESTING_QUICK if quick else N_RESTING
    proc = subprocess.run(
        [sys.executable, "-m", "atlas_oms.benchmarks.memory", str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory benchmark failed:\n{proc.stderr}")
    out = json.loads(proc.stdout)
    return {
        "rss_mb_1m_resting_orders": out["rss_mb"],
        "rss_baseline_mb": out["baseline_rss_mb"],
        "rss_setup_s": out["seconds"],
        "n": {"rss_resting_orders": n},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    n = int(args[0]) if args else N_RESTING
    print(json.dumps(measure(n)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
