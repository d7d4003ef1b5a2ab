"""The live runtime of a served node: one owner for every task, time that moves by itself, a group
commit that survives a failing disk, and an orderly stop.

Tasks (all owned by one :class:`asyncio.TaskGroup` in :class:`LiveRuntime`, none outlives it):

* **producers**, stopped first: the clock (:func:`run_clock`), the market maker, any background
  work, and (later) the **venue connections**: each one is added with
  ``runtime.add("venue:<name>", connection.run)`` before :meth:`LiveRuntime.start`, and then
  starts, fails and stops like the others;
* the **committer** (:class:`Committer`), stopped last, after a final commit.

A task that raises (or that must run forever and returns) stops the node in order: it is logged at
ERROR with the reason, the node stops taking writes, the ``on_failure`` callbacks run (the
service stops uvicorn there, and the process exits non-zero), and the stop then commits what can
be committed. Never silently.

The committer commits every few milliseconds whatever the node processed. A commit that fails
(:class:`~atlas_oms.store.base.JournalError`: a full disk, a lost file) makes the node
*unavailable*: :attr:`Committer.unavailable` holds the reason, the producers pause, the service
refuses writes; the committer retries with backoff and either resumes (the pending events are
still buffered in the journal and go out with the retry) or, after ``retry_limit_s``, raises
:class:`JournalUnavailable`, which stops the node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from atlas_oms.runtime.clock import NS_PER_S, ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.store.base import JournalError

log = logging.getLogger("atlas.live")

#: Reason codes of an unavailable node (answers, ``/health``).
JOURNAL_UNAVAILABLE = "JOURNAL_UNAVAILABLE"
NODE_STOPPING = "NODE_STOPPING"

Sleep = Callable[[float], Awaitable[None]]


class CommitTimeout(Exception):
    """The journal did not take what an answer would show within the wait bound."""


class JournalUnavailable(Exception):
    """The journal stayed unwritable past the retry limit: the node must stop."""


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How a failing commit is retried: first after ``initial_s``, doubling up to ``max_s``; the
    node stops once the journal has failed for ``limit_s``."""

    initial_s: float = 0.05
    max_s: float = 2.0
    limit_s: float = 60.0


class Committer:
    """The group commit: everything the node processed goes to the journal every ``every_s``;
    :meth:`wait` returns once the journal holds a given seq."""

    def __init__(
        self,
        node: Node,
        *,
        every_s: float = 0.002,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.node = node
        self.every_s = every_s
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        #: The highest seq the journal is known to hold.
        self.committed_seq = node.seq
        #: ``(reason code, sentence)`` while the node cannot write; None when it can.
        self.unavailable: tuple[str, str] | None = None
        self.unavailable_since: float | None = None
        #: (deadline on the loop's clock, seq, future) of each answer waiting for a commit.
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        #: The one timer that times waiters out (armed for the earliest deadline).
        self._timer: asyncio.TimerHandle | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def dirty(self) -> bool:
        """Whether the node processed anything the journal does not hold yet."""
        return self.node.seq > self.committed_seq

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` after each commit (the journal then holds every event processed)."""
        self._after_commit.append(hook)

    async def wait(self, seq: int, timeout_s: float | None) -> None:
        """Return once the journal holds ``seq``; raise :class:`CommitTimeout` after
        ``timeout_s`` (None: no bound). Cheap: a future per waiter and one timer for all of
        them. (A timer per request would stay in the loop's heap, cancelled, for the whole
        ``timeout_s``: thousands of objects that live long enough to reach the cyclic GC's oldest
        generation and make its full collections, tens of milliseconds each, frequent.)"""
        if self.committed_seq >= seq:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        deadline = math.inf if timeout_s is None else loop.time() + timeout_s
        self._waiters.append((deadline, seq, future))
        if deadline != math.inf:
            timer = self._timer
            if timer is None or deadline < timer.when():
                if timer is not None:
                    timer.cancel()
                self._timer = loop.call_at(deadline, self._time_out)
        await future

    def _time_out(self) -> None:
        """Fail the waiters whose deadline passed; arm the timer for the next one."""
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        keep: list[tuple[float, int, asyncio.Future[None]]] = []
        for deadline, seq, future in self._waiters:
            if deadline > now:
                keep.append((deadline, seq, future))
            elif not future.done():
                future.set_exception(CommitTimeout(f"seq {seq} was not committed in time"))
        self._waiters = keep
        nearest = min((d for d, _, _ in keep), default=math.inf)
        if nearest != math.inf:
            self._timer = loop.call_at(nearest, self._time_out)

    def commit(self) -> None:
        """Commit now (raises :class:`JournalError` when the journal refuses)."""
        seq = self.node.seq
        self.node.flush()
        self.committed_seq = seq
        for hook in self._after_commit:
            try:
                hook()
            except Exception:  # a broken subscriber must not stop the commits
                log.exception("after-commit hook failed")
        # Everyone waiting asked for a seq processed before this commit: all are answered.
        waiters, self._waiters = self._waiters, []
        for _, _, future in waiters:
            if not future.done():
                future.set_result(None)

    async def run(self) -> None:
        """Commit every ``every_s`` for as long as the node runs (a task of the runtime)."""
        while True:
            await self._sleep(self.every_s)
            if self.dirty:
                try:
                    self.commit()
                except JournalError as exc:
                    await self._recover(exc)

    async def _recover(self, first: JournalError) -> None:
        started = time.monotonic()
        self.unavailable = (
            JOURNAL_UNAVAILABLE,
            f"the journal cannot be written ({first}); writes are refused until it can",
        )
        self.unavailable_since = time.time()
        log.error("journal commit failed, refusing writes and retrying: %s", first)
        delay = self.retry.initial_s
        attempts = 1
        while True:
            await self._sleep(delay)
            attempts += 1
            try:
                self.commit()
            except JournalError as exc:
                failing_for = time.monotonic() - started
                if failing_for >= self.retry.limit_s:
                    raise JournalUnavailable(
                        f"the journal has refused every commit for {failing_for:.1f} s "
                        f"({attempts} attempts); last error: {exc}"
                    ) from exc
                delay = min(delay * 2, self.retry.max_s)
                continue
            log.warning(
                "journal writable again after %d attempts (%.2f s): writes accepted",
                attempts,
                time.monotonic() - started,
            )
            self.unavailable = None
            self.unavailable_since = None
            return


async def run_clock(
    node: Node,
    *,
    paused: Callable[[], bool] = lambda: False,
    max_interval_s: float = 1.0,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Send the engine the time: a tick (``AdvanceTime``) at least every ``max_interval_s`` and
    exactly at the next deadline the engine names (:meth:`Node.next_deadline`), sleeping until
    ``min(now + max_interval_s, deadline)``. The first tick goes out at once (orders that expired
    while the node was stopped expire now). While ``paused()`` (the journal is down) no tick is
    sent. With a :class:`ManualClock` the sleep is expected to move the clock (tests)."""
    step = int(max_interval_s * NS_PER_S)
    last = node.clock.now()
    if not paused():
        node.tick()
    while True:
        if paused():
            await sleep(min(0.05, max_interval_s))
            continue
        now = node.clock.now()
        target = now + step
        deadline = node.next_deadline(last)
        if deadline is not None and deadline < target:
            target = max(deadline, now)
        await sleep(max(0.0, (target - now) / NS_PER_S))
        now = node.clock.now()
        while now < target and not isinstance(node.clock, ManualClock):
            await sleep((target - now) / NS_PER_S)  # woke early: the loop's timer resolution
            now = node.clock.now()
        if paused():
            continue
        node.tick()
        last = now


@dataclass(eq=False)
class _Task:
    name: str
    factory: Callable[[], Awaitable[object]]
    forever: bool
    last: bool
    task: asyncio.Task[None] | None = None


@dataclass(eq=False)
class LiveRuntime:
    """The owner of a served node's tasks (see the module docstring). ``add`` them, ``start``,
    and ``stop`` once; ``failure`` holds the reason the node stopped by itself, if it did."""

    committer: Committer
    failure: str | None = None
    _tasks: list[_Task] = field(default_factory=list)
    _on_failure: list[Callable[[str], None]] = field(default_factory=list)
    _on_stop: list[Callable[[], Awaitable[None] | None]] = field(default_factory=list)
    _runner: asyncio.Task[None] | None = None
    _stopping: asyncio.Event | None = None
    _stopped: bool = False

    def add(
        self, name: str, factory: Callable[[], Awaitable[object]], *, forever: bool = True
    ) -> None:
        """A producer task (clock, market maker, venue connection, background work).
        ``forever``: returning is a failure too (it must run until stopped)."""
        self._tasks.append(_Task(name, factory, forever, last=False))

    def on_failure(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(reason)`` once when a task fails (after the node stops writing)."""
        self._on_failure.append(callback)

    def on_stop(self, callback: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``callback`` during the stop, after the producers and the final commit, before the
        committer ends (the stream hub closes its connections here)."""
        self._on_stop.append(callback)

    @property
    def unavailable(self) -> tuple[str, str] | None:
        """Why the node refuses writes now (None: it takes them)."""
        if self.failure is not None:
            return (NODE_STOPPING, f"the node is stopping: {self.failure}")
        return self.committer.unavailable

    async def start(self) -> None:
        self._tasks.append(_Task("committer", self.committer.run, forever=True, last=True))
        self._stopping = asyncio.Event()
        started = asyncio.Event()
        self._runner = asyncio.create_task(self._run(started), name="atlas-live")
        await started.wait()

    async def _run(self, started: asyncio.Event) -> None:
        assert self._stopping is not None
        async with asyncio.TaskGroup() as group:
            for spec in self._tasks:
                spec.task = group.create_task(self._guard(spec), name=f"atlas-{spec.name}")
            started.set()
            await self._stopping.wait()
            # In order: the producers (nothing new comes in), then the last commit, then the
            # committer itself.
            await self.begin_stop()
            self.final_commit()
            await self._cancel([t for t in self._tasks if t.last])

    async def _cancel(self, specs: list[_Task]) -> None:
        for spec in specs:
            if spec.task is not None:
                spec.task.cancel()
        for spec in specs:
            if spec.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await spec.task

    async def _guard(self, spec: _Task) -> None:
        try:
            await spec.factory()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.fail(spec.name, f"{type(exc).__name__}: {exc}", exc)
            return
        if spec.forever and not (self._stopping is not None and self._stopping.is_set()):
            self.fail(spec.name, "it returned although it must run until the node stops", None)

    def fail(self, name: str, reason: str, exc: BaseException | None) -> None:
        """Record a task's failure and start the node's stop (once)."""
        if self.failure is not None:
            log.error("task %s failed while the node was stopping: %s", name, reason)
            return
        self.failure = f"task {name} failed: {reason}"
        log.error(
            "%s; the node stops",
            self.failure,
            exc_info=(type(exc), exc, exc.__traceback__) if exc else None,
        )
        for callback in self._on_failure:
            try:
                callback(self.failure)
            except Exception:
                log.exception("failure callback failed")

    def final_commit(self) -> bool:
        """Commit what can be committed; False (logged at ERROR) if the journal refused."""
        if not self.committer.dirty:
            return True
        try:
            self.committer.commit()
        except JournalError as exc:
            if self.failure is None:
                self.failure = f"the final commit failed: {exc}"
            log.error(
                "final commit failed, events since seq %d are lost: %s",
                self.committer.committed_seq,
                exc,
            )
            return False
        return True

    async def begin_stop(self) -> None:
        """Stop the producers, commit, and run the ``on_stop`` callbacks (the start of a graceful
        stop, while HTTP requests drain): nothing new is produced, the stream's clients get what
        was committed and are closed, and every answer can still be committed."""
        await self._cancel([t for t in self._tasks if not t.last])
        self.final_commit()
        callbacks, self._on_stop = self._on_stop, []
        for callback in callbacks:
            try:
                result = callback()
                if result is not None:
                    await result
            except Exception:
                log.exception("stop callback failed")

    async def stop(self) -> None:
        """Stop every task in order and commit; idempotent."""
        if self._stopped or self._runner is None or self._stopping is None:
            return
        self._stopped = True
        self._stopping.set()
        await self._runner
