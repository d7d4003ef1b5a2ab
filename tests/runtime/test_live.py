"""The live runtime: the engine names its next deadline, the clock task ticks exactly then (order
expiry, funding boundary, breaker auto-reset), a failing task stops the node in order, and a
failing commit makes the node unavailable, retries, then resumes or stops."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.model import events as ev
from atlas_oms.model.events import EventBase
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.risk import BreakerConfig, RiskLimits
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.live import (
    JOURNAL_UNAVAILABLE,
    Committer,
    CommitTimeout,
    JournalUnavailable,
    LiveRuntime,
    RetryPolicy,
    run_clock,
)
from atlas_oms.runtime.node import Node
from atlas_oms.store.base import JournalError
from atlas_oms.store.memory import MemoryJournal

S = 1_000_000_000
MINUTE = 60 * S
T0 = 1_767_600_000_000_000_000  # 2026-01-05 08:00 UTC, a whole minute
SPOT = "BTC/USDT"
PERP = "BTC/USDT:USDT"


class FlakyJournal(MemoryJournal):
    """A memory journal whose commits fail while ``broken``."""

    broken = False

    def flush(self) -> None:
        if self.broken:
            raise JournalError("disk full (test)")
        super().flush()


def make_node(journal: Any = None) -> Node:
    node = Node(journal if journal is not None else MemoryJournal(), clock=ManualClock(T0))
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.001"))
    node.add_instrument(
        Instrument.perpetual(PERP, tick_size="0.1", lot_size="0.001", funding_interval_min=1)
    )
    node.update_prices(SPOT, last=60000)
    node.update_prices(PERP, last=60000, mark=60000)
    for account in ("desk", "maker"):
        node.open_account(account)
        node.deposit(account, "USDT", 1_000_000)
        node.deposit(account, "BTC", 10)
    return node


class Ticker:
    """A sleep for :func:`run_clock` that moves the manual clock instead of waiting, and ends
    the run once the clock passes ``until``."""

    class Done(Exception):
        pass

    def __init__(self, node: Node, until: int) -> None:
        assert isinstance(node.clock, ManualClock)
        self.clock = node.clock
        self.until = until
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(round(seconds * S))
        if self.clock.now() > self.until:
            raise Ticker.Done

    def run(self, node: Node, **kw: Any) -> list[EventBase]:
        seen: list[EventBase] = []
        node.subscribe(seen.extend)
        with pytest.raises(Ticker.Done):
            asyncio.run(run_clock(node, sleep=self.sleep, **kw))
        return seen


def test_the_engine_names_its_next_deadline() -> None:
    node = make_node()
    assert node.next_deadline(T0) is None  # nothing scheduled
    node.submit("desk", SPOT, "BUY", "LIMIT", "0.01", 50000, tif="GTD", expire_ts=T0 + 2500)
    assert node.next_deadline(T0) == T0 + 2500
    assert node.next_deadline(T0 + 2500) is None  # a deadline at or before `after` is past
    node.set_funding_rate(PERP, "0.0001")
    assert node.next_deadline(T0 + 2500) == T0 + MINUTE  # the next funding boundary
    assert node.next_deadline(T0 + MINUTE) == T0 + 2 * MINUTE


def test_the_clock_expires_a_gtd_order_exactly_at_its_expiry() -> None:
    node = make_node()
    expire = T0 + 2_345_678_901
    order = node.submit("desk", SPOT, "BUY", "LIMIT", "0.01", 50000, tif="GTD", expire_ts=expire)
    ticker = Ticker(node, until=T0 + 5 * S)
    seen = ticker.run(node)
    expired = [e for e in seen if isinstance(e, ev.OrderExpired)]
    assert [(e.order_id, e.ts_event) for e in expired] == [(order.order_id, expire)]
    assert node.order(order.order_id).status == "EXPIRED"
    # Never longer than a second between ticks, and one sleep ends exactly at the expiry.
    assert max(ticker.sleeps) <= 1.0
    assert round(ticker.sleeps[2] * S) == expire - (T0 + 2 * S)


def test_the_first_tick_expires_what_expired_while_the_node_was_stopped() -> None:
    node = make_node()
    order = node.submit("desk", SPOT, "BUY", "LIMIT", "0.01", 50000, tif="GTD", expire_ts=T0 + S)
    node.clock.set(T0 + 3600 * S)  # type: ignore[attr-defined]  # an hour "down"
    ticker = Ticker(node, until=T0 + 3600 * S)
    seen = ticker.run(node)
    assert [e.order_id for e in seen if isinstance(e, ev.OrderExpired)] == [order.order_id]
    assert ticker.sleeps == [1.0]  # expired by the first tick, before any sleep ended


def test_the_clock_settles_funding_at_the_boundary() -> None:
    node = make_node()
    node.sell("maker", PERP, "1", 60000)
    node.buy("desk", PERP, "1")  # desk long 1 BTC perpetual
    node.set_funding_rate(PERP, "0.0001")
    seen = Ticker(node, until=T0 + MINUTE + 2 * S).run(node)
    settled = [e for e in seen if isinstance(e, ev.FundingSettled)]
    assert {e.account_id for e in settled} == {"desk", "maker"}
    assert {e.ts_event for e in settled} == {T0 + MINUTE}  # exactly at the boundary
    desk = next(e for e in settled if e.account_id == "desk")
    assert desk.amount == Decimal("-6.0000")  # a long pays 1 * 60000 * 0.0001


def test_an_open_circuit_breaker_resets_by_itself_on_time() -> None:
    node = make_node()
    node.set_limits(
        "account",
        "desk",
        RiskLimits(
            breaker=BreakerConfig(
                max_orders_per_minute=2, auto_reset_after_minutes=2, cooldown_minutes=1
            )
        ),
        actor="ops",
    )
    for px in (50000, 50001, 50002):
        node.submit("desk", SPOT, "BUY", "LIMIT", "0.001", px)
    status = node.breaker_status("account", "desk")
    assert status is not None and status["state"] == "OPEN"
    due = status["auto_reset_at"]
    assert node.next_deadline(T0) == due
    seen = Ticker(node, until=due + 2 * S).run(node)
    resets = [e for e in seen if isinstance(e, ev.CircuitBreakerReset)]
    assert [(e.ts_event, e.automatic) for e in resets] == [(due, True)]
    status = node.breaker_status("account", "desk")
    assert status is not None and status["state"] == "CLOSED"


def test_no_tick_goes_out_while_paused() -> None:
    node = make_node()
    order = node.submit("desk", SPOT, "BUY", "LIMIT", "0.01", 50000, tif="GTD", expire_ts=T0 + S)
    seen = Ticker(node, until=T0 + 3 * S).run(node, paused=lambda: True)
    assert seen == [] and node.order(order.order_id).status == "ACCEPTED"


# ---------------------------------------------------------------------------------- the owner
def test_a_failing_task_stops_the_node_in_order(caplog: pytest.LogCaptureFixture) -> None:
    node = make_node()
    reasons: list[str] = []
    cancelled: list[str] = []

    async def broken() -> None:
        await asyncio.sleep(0.01)
        node.submit("desk", SPOT, "BUY", "LIMIT", "0.01", 50000)  # processed, not yet committed
        raise RuntimeError("venue socket exploded")

    async def quiet() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.append("quiet")

    async def main() -> LiveRuntime:
        runtime = LiveRuntime(Committer(node, every_s=3600))  # commits only when stopping
        runtime.add("venue:test", broken)
        runtime.add("quiet", quiet)
        runtime.on_failure(reasons.append)
        await runtime.start()
        await asyncio.sleep(0.05)
        assert runtime.unavailable is not None and runtime.unavailable[0] == "NODE_STOPPING"
        await runtime.stop()
        return runtime

    with caplog.at_level("ERROR", logger="atlas.live"):
        runtime = asyncio.run(main())
    assert runtime.failure is not None and "venue socket exploded" in runtime.failure
    assert reasons == [runtime.failure]
    assert "venue:test" in caplog.text and "venue socket exploded" in caplog.text
    assert cancelled == ["quiet"]
    assert node.journal.last_seq == node.seq and not runtime.committer.dirty  # flushed


def test_a_task_that_must_run_forever_and_returns_is_a_failure() -> None:
    node = make_node()

    async def returns() -> None:
        return None

    async def main() -> LiveRuntime:
        runtime = LiveRuntime(Committer(node))
        runtime.add("clock", returns)
        await runtime.start()
        await asyncio.sleep(0.02)
        await runtime.stop()
        return runtime

    runtime = asyncio.run(main())
    assert runtime.failure is not None and "clock" in runtime.failure


# ---------------------------------------------------------------------------------- commits
def test_a_failing_commit_makes_the_node_unavailable_then_it_resumes() -> None:
    journal = FlakyJournal()
    node = make_node(journal)

    async def main() -> None:
        committer = Committer(node, retry=RetryPolicy(initial_s=0.01, max_s=0.02, limit_s=30))
        task = asyncio.create_task(committer.run())
        await asyncio.sleep(0.01)
        assert committer.unavailable is None and not committer.dirty
        journal.broken = True
        node.submit("desk", SPOT, "BUY", "LIMIT", "0.01", 50000)
        with pytest.raises(CommitTimeout):
            await committer.wait(node.seq, 0.1)  # never a hang
        assert committer.unavailable is not None
        assert committer.unavailable[0] == JOURNAL_UNAVAILABLE
        assert "disk full" in committer.unavailable[1]
        journal.broken = False
        await committer.wait(node.seq, 1.0)  # the retry commits what was pending
        assert committer.unavailable is None
        task.cancel()

    asyncio.run(main())
    assert [e.seq for e in journal.read()] == list(range(1, node.seq + 1))


def test_a_commit_that_keeps_failing_stops_the_node() -> None:
    journal = FlakyJournal()
    node = make_node(journal)
    reasons: list[str] = []

    async def main() -> LiveRuntime:
        runtime = LiveRuntime(
            Committer(node, retry=RetryPolicy(initial_s=0.01, max_s=0.02, limit_s=0.1))
        )
        runtime.on_failure(reasons.append)
        await runtime.start()
        journal.broken = True
        node.submit("desk", SPOT, "BUY", "LIMIT", "0.01", 50000)
        for _ in range(100):
            if runtime.failure:
                break
            await asyncio.sleep(0.01)
        await runtime.stop()
        return runtime

    runtime = asyncio.run(main())
    assert runtime.failure is not None and "committer" in runtime.failure
    assert "JournalUnavailable" in runtime.failure and reasons == [runtime.failure]
    assert JournalUnavailable.__name__ in reasons[0]
