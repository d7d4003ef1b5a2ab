"""One venue account's connection: connect, check, reconcile, stream, and stay tradable only while
Atlas and the venue agree.

:meth:`VenueSession.run` (a task that never ends by itself and never raises: a failure is logged,
shown in :meth:`health`, and retried with backoff):

1. ``adapter.start()``; the account's settings: the position mode (hedge or one-way) must be the
   Atlas account's, else the account stays untradable (``POSITION_MODE_MISMATCH``) and the check is
   repeated every ``reconcile_every_s`` (checked after steps 2 and 3, so the instruments are
   known while it waits);
2. the clock: offset = venue time − local time at the midpoint of the request, given to the adapter
   to sign with; trading stops while it exceeds ``max_clock_offset_s`` (re-measured every
   ``clock_every_s`` and after a timestamp refusal);
3. instruments: each one the node lacks or has otherwise is added (``AddInstrument``); then the
   ``settings_hook`` (gateway/settings.py): Atlas's leverage and margin modes are pushed where the
   venue differs, and a refused push keeps the account untradable (``SETTINGS_MISMATCH``); the
   hook runs again after every stream gap;
4. ``SetVenueStatus(RECONCILING)``; the stream is opened and *buffered* (its first fact, a
   ``StreamGap``, says it is open); the snapshot is taken (open orders, each order Atlas has
   working there queried one by one, fills since the last known fill minus a margin, balances,
   positions) and handed to the core (``ReconcileVenue``); then the buffered facts are applied
   (the core deduplicates) and the account is tradable (``READY``);
5. then facts are applied as they come; a ``StreamGap`` (disconnect, listenKey expired, stream
   terminated) makes the account untradable and redoes step 4. Every ``reconcile_every_s``, and
   whenever the stream has been silent ``silent_after_s`` (a half-open stream answers pings and
   sends nothing), a reconciliation runs while the account stays tradable.

Orders are sent by :class:`~atlas_oms.runtime.gateway.orders.OrderFlow` (one sender per session).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from atlas_oms.core.ports import VenueAdapter, VenueQueryFailed
from atlas_oms.model import commands as c
from atlas_oms.model.enums import OrderStatus, PositionMode
from atlas_oms.model.venue import (
    ApplyOrderUpdate,
    BalanceUpdate,
    OrderUpdate,
    PositionUpdate,
    ReconcileVenue,
    SetVenueStatus,
    StreamAlive,
    StreamGap,
    VenueFact,
    VenueOrder,
)
from atlas_oms.runtime.gateway.client_ids import encode
from atlas_oms.runtime.gateway.config import GatewayConfig
from atlas_oms.runtime.gateway.convert import stamp_fill, stamp_order, stamp_update
from atlas_oms.runtime.gateway.metrics import Overhead
from atlas_oms.runtime.gateway.nodeport import NodePort
from atlas_oms.runtime.gateway.orders import OrderFlow
from atlas_oms.runtime.gateway.ratelimit import RateLimiter

log = logging.getLogger("atlas.gateway")

NS = 1_000_000_000

# Status reasons (SetVenueStatus.reason).
CONNECTING = "CONNECTING"
RECONCILING = "RECONCILING"
DISCONNECTED = "DISCONNECTED"
CLOCK_SKEW = "CLOCK_SKEW"
BANNED = "BANNED"
POSITION_MODE_MISMATCH = "POSITION_MODE_MISMATCH"
#: The venue refused Atlas's leverage or margin mode (gateway/settings.py).
SETTINGS_MISMATCH = "SETTINGS_MISMATCH"
READY = "READY"


class StreamEnded(Exception):
    """The adapter's stream stopped (its iterator ended or raised)."""


@dataclass
class _Reconcile:
    reason: str
    future: asyncio.Future[list[Any]] | None = None


@dataclass
class ReconcileSummary:
    reason: str
    at_ns: int
    ok: bool
    duration_ms: float
    orders: int = 0
    not_found: int = 0
    fills: int = 0
    events: int = 0
    differences: int = 0
    error: str = ""


@dataclass
class SessionHealth:
    venue: str
    account_id: str
    connected: bool
    tradable: bool
    reason: str
    message: str
    last_message_age_s: float | None
    clock_offset_ms: float | None
    rate_limit: dict[str, int]
    rate_limit_paused_s: float
    reconciliation: str
    last_reconciliation: ReconcileSummary | None
    unresolved_orders: int
    reconnects: int
    error: str
    overhead: dict[str, dict[str, float | int | None]] = field(default_factory=dict)


class VenueSession:
    """One (venue, account): the adapter, its stream, its sender and its reconciliations."""

    def __init__(
        self,
        node: NodePort,
        adapter: VenueAdapter,
        *,
        prefix: str,
        config: GatewayConfig,
        limiter: RateLimiter,
        overhead: Overhead | None = None,
        local_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.node = node
        self.adapter = adapter
        self.venue = adapter.venue
        self.account_id = adapter.account_id
        self.prefix = prefix
        self.config = config
        self.limiter = limiter
        self.overhead = overhead or Overhead()
        self.local_ns = local_ns
        before, after = _hooks(limiter, self.account_id)
        adapter.before_request = before
        adapter.on_response = after
        self.orders = OrderFlow(self)
        # conditions of tradability
        self.connected = False
        self.reconciled = False
        self.clock_ok = False
        self.mode_mismatch = ""
        #: Why the venue's leverage or margin mode differs from Atlas's ("" when they agree).
        self.settings_mismatch = ""
        #: Called at each connect (after the instruments are loaded) and after each stream gap,
        #: before reconciling (gateway/settings.py).
        self.settings_hook: Callable[[VenueSession], Awaitable[Any]] | None = None
        self.clock_offset_ns: int | None = None
        self.status: tuple[bool, str] | None = None
        self.status_message = ""
        self.error = ""
        self.reconnects = 0
        self.reconciliation = "never"
        self.last_reconciliation: ReconcileSummary | None = None
        self.last_message: float | None = None
        self.connections = 0
        self._inbox: asyncio.Queue[Any] | None = None
        self._last_reconcile = 0.0
        self._last_clock = 0.0
        self._reconcile_queued = False
        self._ever_reconciled = False

    # ------------------------------------------------------------------ status
    def now(self) -> int:
        return self.node.clock.now()

    def process(self, message: Any) -> list[Any]:
        return self.node.process(message)

    def cid(self, order_id: int) -> str:
        return encode(self.prefix, order_id)

    def banned(self) -> bool:
        return self.limiter.venue_limits.banned(self.limiter.now())

    def update_status(self) -> None:
        """Tell the core whether the account is tradable, when that changed."""
        if not self.connected:
            wanted, message = (False, DISCONNECTED if self.connections else CONNECTING), self.error
        elif self.mode_mismatch:
            wanted, message = (False, POSITION_MODE_MISMATCH), self.mode_mismatch
        elif self.settings_mismatch:
            wanted, message = (False, SETTINGS_MISMATCH), self.settings_mismatch
        elif self.banned():
            wanted, message = (False, BANNED), self.limiter.venue_limits.ban_message
        elif not self.reconciled:
            wanted, message = (False, RECONCILING), ""
        elif not self.clock_ok:
            offset = (self.clock_offset_ns or 0) / NS
            wanted, message = (
                (False, CLOCK_SKEW),
                f"venue clock offset {offset:+.3f} s exceeds {self.config.max_clock_offset_s:g} s",
            )
        else:
            wanted, message = (True, READY), ""
        if wanted == self.status:
            return
        self.status = wanted
        self.status_message = message
        tradable, reason = wanted
        log.info(
            "venue %s/%s: %s%s",
            self.venue,
            self.account_id,
            reason,
            f" ({message})" if message else "",
        )
        self.process(
            SetVenueStatus(
                ts=self.now(),
                venue=self.venue,
                account_id=self.account_id,
                tradable=tradable,
                reason=reason,
                message=message,
            )
        )

    @property
    def tradable(self) -> bool:
        return self.status is not None and self.status[0]

    # ------------------------------------------------------------------ the task
    async def run(self) -> None:
        """Connect, reconcile, stream; on failure reconnect with backoff. Never returns."""
        async with asyncio.TaskGroup() as group:
            self.orders.group = group
            group.create_task(self.orders.run())
            group.create_task(self._ticker())
            await self._connection_loop()

    async def _connection_loop(self) -> None:
        backoff = self.config.reconnect_initial_s
        while True:
            self.update_status()
            try:
                await self._connection()
                raise StreamEnded("the session ended")
            except asyncio.CancelledError:
                raise
            except Exception as failure:
                exc: BaseException = failure
                while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
                    exc = exc.exceptions[0]
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("venue %s/%s failed: %s", self.venue, self.account_id, self.error)
            if self.reconciled:
                backoff = self.config.reconnect_initial_s
            self.connected = False
            self.reconciled = False
            self.orders.can_send.clear()
            self._inbox = None
            self.reconnects += 1
            self.update_status()
            with contextlib.suppress(Exception):
                await self.adapter.close()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.config.reconnect_max_s)

    async def _connection(self) -> None:
        await self.adapter.start()
        self.connections += 1
        self.connected = True
        self.error = ""
        self.update_status()
        await self.sync_clock()
        # Instruments before the position mode: while the account waits on a mismatch, an order
        # on them is refused as VENUE_NOT_TRADABLE (with the reason), not as unknown.
        await self._load_instruments()
        await self._check_position_mode()
        if self.settings_hook is not None:
            await self.settings_hook(self)
        self.orders.can_send.set()
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._inbox = inbox
        async with asyncio.TaskGroup() as group:
            group.create_task(self._pump(inbox))
            await self._drive(inbox)

    async def _check_position_mode(self) -> None:
        account = self.node.account(self.account_id)
        want_hedge = account is not None and account.position_mode is PositionMode.HEDGE
        while True:
            settings = await self.adapter.account_settings()
            if settings.hedge_mode == want_hedge:
                if self.mode_mismatch:
                    self.mode_mismatch = ""
                    self.update_status()
                return
            self.mode_mismatch = (
                f"the venue account is in {'hedge' if settings.hedge_mode else 'one-way'} mode, "
                f"Atlas account {self.account_id} in "
                f"{'hedge' if want_hedge else 'one-way (netting)'} mode: change one of them"
            )
            self.update_status()
            await asyncio.sleep(self.config.reconcile_every_s)

    async def sync_clock(self) -> int:
        """Measure the venue clock's offset (venue − local, at the request's midpoint), give it
        to the adapter, and say whether trading may go on."""
        before = self.local_ns()
        venue_ns = await self.adapter.server_time()
        after = self.local_ns()
        offset = venue_ns - (before + after) // 2
        self.clock_offset_ns = offset
        self.adapter.set_clock_offset(offset)
        self.clock_ok = abs(offset) <= self.config.max_clock_offset_s * NS
        self._last_clock = asyncio.get_running_loop().time()
        if self.connected:
            self.update_status()
        return offset

    async def _load_instruments(self) -> None:
        for listed in await self.adapter.instruments():
            instrument = listed.instrument
            if self.node.instrument(instrument.symbol) != instrument:
                self.process(c.AddInstrument(ts=self.now(), instrument=instrument))

    # ------------------------------------------------------------------ stream
    async def _pump(self, inbox: asyncio.Queue[Any]) -> None:
        loop = asyncio.get_running_loop()
        async for fact in self.adapter.facts():
            self.last_message = loop.time()
            inbox.put_nowait((time.perf_counter_ns(), fact))
        raise StreamEnded("the venue stream ended")

    async def _drive(self, inbox: asyncio.Queue[Any]) -> None:
        """Apply what comes in, in order; reconcile when asked (facts wait in the inbox)."""
        try:
            received, first = await asyncio.wait_for(inbox.get(), self.config.stream_open_timeout_s)
        except TimeoutError:
            raise StreamEnded(
                f"the stream did not open within {self.config.stream_open_timeout_s:g} s"
            ) from None
        reason = "CONNECT"
        if not self._ever_reconciled and self.node.venue_orders(self.venue, self.account_id):
            reason = "RESTART"
        elif self._ever_reconciled:
            reason = "GAP"
        await self.reconcile_now(reason, gap=True)
        if not isinstance(first, StreamGap):
            self._apply(received, first)
        while True:
            item = await inbox.get()
            if isinstance(item, _Reconcile):
                self._reconcile_queued = False
                try:
                    events = await self.reconcile_now(item.reason, gap=False)
                except VenueQueryFailed as exc:
                    if item.future is not None and not item.future.done():
                        item.future.set_exception(exc)
                    continue
                if item.future is not None and not item.future.done():
                    item.future.set_result(events)
                continue
            received, fact = item
            if isinstance(fact, StreamGap):
                log.info("venue %s/%s: stream gap (%s)", self.venue, self.account_id, fact.reason)
                self.reconciled = False
                self.update_status()
                if self.settings_hook is not None:  # settings may have changed meanwhile
                    await self.settings_hook(self)
                await self.reconcile_now("GAP", gap=True)
            else:
                self._apply(received, fact)

    def _apply(self, received: int, fact: VenueFact) -> None:
        if isinstance(fact, OrderUpdate):
            update = stamp_update(self.prefix, fact)
            self.process(ApplyOrderUpdate(ts=self.now(), update=update))
            self.overhead.fact.record(time.perf_counter_ns() - received)
            if update.order.order_id is not None:
                self.orders.seen(update.order.order_id)
        elif isinstance(fact, (BalanceUpdate, PositionUpdate, StreamAlive)):
            # Balances and positions are taken from the venue at each reconciliation; the
            # stream's own updates only show the stream is alive.
            pass

    # ------------------------------------------------------------------ reconciliation
    async def reconcile(self, reason: str = "MANUAL") -> list[Any]:
        """Reconcile now (after the facts already received); return what the core emitted."""
        inbox = self._inbox
        if inbox is None or not self.connected:
            raise VenueQueryFailed(
                "DISCONNECTED", f"{self.venue}/{self.account_id} is not connected: {self.error}"
            )
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        inbox.put_nowait(_Reconcile(reason, future))
        return await future

    def _ask_reconcile(self, reason: str) -> None:
        inbox = self._inbox
        if inbox is not None and self.reconciled and not self._reconcile_queued:
            self._reconcile_queued = True
            inbox.put_nowait(_Reconcile(reason))

    async def reconcile_now(self, reason: str, *, gap: bool) -> list[Any]:
        """Take the snapshot and hand it to the core. ``gap``: the account is untradable until
        it is done (and a failure fails the connection); otherwise a failure is only reported."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._last_reconcile = started
        self.reconciliation = "running"
        if gap:
            self.reconciled = False
            self.update_status()
        try:
            message, after = await self._snapshot(reason)
        except VenueQueryFailed as exc:
            self.reconciliation = "failed"
            self.last_reconciliation = ReconcileSummary(
                reason, self.now(), False, (loop.time() - started) * 1000, error=str(exc)
            )
            if gap:
                raise
            log.warning("venue %s/%s: reconciliation failed: %s", self.venue, self.account_id, exc)
            raise
        events = self.process(message)
        report = next((e for e in events if type(e).__name__ == "VenueReconciled"), None)
        self.last_reconciliation = ReconcileSummary(
            reason,
            self.now(),
            True,
            (loop.time() - started) * 1000,
            orders=len(message.orders),
            not_found=len(message.not_found),
            fills=len(message.fills),
            events=len(events),
            differences=len(getattr(report, "differences", ())),
        )
        self.reconciliation = "done"
        self._ever_reconciled = True
        self._last_reconcile = loop.time()
        self.reconciled = True
        self.update_status()
        after()
        return events

    async def _snapshot(self, reason: str) -> tuple[ReconcileVenue, Callable[[], None]]:
        adapter = self.adapter
        working = [
            o
            for o in self.node.venue_orders(self.venue, self.account_id)
            if not self.orders.busy(o.order_id)
        ]
        open_orders = [stamp_order(self.prefix, o) for o in await _retry(adapter.open_orders)]
        listed = {o.order_id for o in open_orders if o.order_id is not None}
        orders: list[VenueOrder] = list(open_orders)
        not_found: list[int] = []
        unsent = []
        cancel_again = []
        for view in working:
            if view.order_id in listed:
                if view.status is OrderStatus.PENDING_CANCEL:
                    cancel_again.append(view)
                continue
            found = await _retry(
                adapter.order, view.symbol, client_order_id=self.cid(view.order_id)
            )
            if found is None:
                not_found.append(view.order_id)
                if view.status is OrderStatus.SUBMITTED:
                    unsent.append(view)
            else:
                found = stamp_order(self.prefix, found)
                orders.append(found)
                if view.status is OrderStatus.PENDING_CANCEL and found.state.is_open:
                    cancel_again.append(view)
        margin = int(self.config.fills_margin_s * NS)
        last_fill = self.node.last_fill_ts(self.venue, self.account_id)
        if last_fill is None:
            last_fill = min((o.ts_init for o in working), default=self.now())
        since = last_fill - margin
        fills = [stamp_fill(self.prefix, f) for f in await _retry(adapter.fills, since)]
        balances = await _retry(adapter.balances)
        positions = await _retry(adapter.positions)
        message = ReconcileVenue(
            ts=self.now(),
            venue=self.venue,
            account_id=self.account_id,
            reason=reason,
            orders=tuple(orders),
            not_found=tuple(not_found),
            fills=tuple(fills),
            fills_since_ts=since,
            balances=tuple(balances),
            positions=tuple(positions),
        )

        def after() -> None:
            for view in unsent:
                self.orders.resolve_unsent(view)
            for view in cancel_again:
                self.orders.cancel_again(view)

        return message, after

    # ------------------------------------------------------------------ timers
    async def _ticker(self) -> None:
        """Periodic reconciliation, silent-stream detection, clock re-measurement, ban state."""
        config = self.config
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(config.tick_s)
            now = loop.time()
            if self.connected:
                self.update_status()  # a ban that began or ended
            if not (self.connected and self.reconciled):
                continue
            if now - self._last_clock >= config.clock_every_s:
                try:
                    await self.sync_clock()
                except VenueQueryFailed as exc:
                    log.warning(
                        "venue %s/%s: clock check failed: %s", self.venue, self.account_id, exc
                    )
                    self._last_clock = now
            silent_since = max(self.last_message or 0.0, self._last_reconcile)
            if now - self._last_reconcile >= config.reconcile_every_s:
                self._ask_reconcile("PERIODIC")
            elif now - silent_since >= config.silent_after_s:
                self._ask_reconcile("GAP")

    # ------------------------------------------------------------------ health
    def health(self) -> SessionHealth:
        loop_now = _loop_time()
        tradable, reason = self.status if self.status is not None else (False, CONNECTING)
        return SessionHealth(
            venue=self.venue,
            account_id=self.account_id,
            connected=self.connected,
            tradable=tradable,
            reason=reason,
            message=self.status_message or self.error,
            last_message_age_s=(
                None
                if self.last_message is None or loop_now is None
                else loop_now - self.last_message
            ),
            clock_offset_ms=None if self.clock_offset_ns is None else self.clock_offset_ns / 1e6,
            rate_limit=self.limiter.budget(self.account_id),
            rate_limit_paused_s=self.limiter.paused_for(),
            reconciliation=self.reconciliation,
            last_reconciliation=self.last_reconciliation,
            unresolved_orders=len(self.orders.tracked),
            reconnects=self.reconnects,
            error=self.error,
            overhead=self.overhead.summary(),
        )


def _loop_time() -> float | None:
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return None


def _hooks(limiter: RateLimiter, account_id: str) -> tuple[Any, Any]:
    async def before_request(weight: int, is_order: bool) -> None:
        await limiter.before_request(account_id, weight, is_order)

    def on_response(status: int, headers: Any) -> None:
        limiter.on_response(account_id, status, headers)

    return before_request, on_response


async def _retry(fn: Any, *args: Any, tries: int = 3, **kwargs: Any) -> Any:
    """A read, tried again (after the venue's ``Retry-After`` or a short wait) when it failed."""
    delay = 0.1
    for attempt in range(tries):
        try:
            return await fn(*args, **kwargs)
        except VenueQueryFailed as exc:
            if attempt == tries - 1 or exc.reason in ("AUTH", "BANNED"):
                raise
            await asyncio.sleep(max(delay, exc.retry_after_s or 0.0))
            delay *= 2
    raise AssertionError("unreachable")
