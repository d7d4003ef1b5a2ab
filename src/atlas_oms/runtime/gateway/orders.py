"""Sending orders to one venue account, and what the answers mean.

The node journals an order's intent (and flushes it) before it hands the request to the venue
facade (record before send); the facade queues it here, and one sender per venue account sends
the queue in order through the adapter:

* **Acknowledged**: the answer's order and fills go to the core (``ApplyOrderUpdate``, source
  QUERY).
* **Refused** (definitive): ``VenueRejected`` / ``VenueCancelRejected`` / ``VenueModifyRejected``
  with the venue's reason, code and message; except a timestamp refusal (``CLOCK_SKEW``: the
  venue did not take it, so the clock is re-measured and the request sent once more under the same
  client order id) and a cancel of an order the venue does not know (``UNKNOWN_ORDER``: the order
  is queried for its end; it is never taken for a cancel).
* **Unknown** (timeout, 5xx, dropped connection, rate-limited write, duplicate client order id):
  ``NoteOutcomeUnknown``; the order stays pending and is *resolved*: wait ``stream_wait_s`` for
  the stream, then query by client order id with backoff, taking "not found" for "not visible
  yet" until ``visibility_s`` after the send, then look at the fills since the send; only then
  decide: found → ``ApplyOrderUpdate``; never found → ``VenueRejected NOT_FOUND_AFTER_UNKNOWN``.
  When the venue gave no usable answer at all (queries failing), nothing is decided: the next
  reconciliation queries the order again. A place is never sent under a new client order id.

**Restart** (decided here; the issue asks for exactly one order after a kill -9 between journaling
and sending): an order Atlas has SUBMITTED that no sender of this process is handling, and that
the venue does not know, is resolved the same way, its visibility window counted from the order's
creation; if it is still unknown (no order, no fill under its client order id) it is sent again
under the same client order id when younger than ``resend_max_age_s``, else it ends REJECTED
``NOT_SENT``. If the first send did reach the venue but was not visible yet, the resend is refused
as a duplicate (same client order id), which is resolved by query: one order either way. An order
left PENDING_CANCEL that the venue still shows open gets its cancel again (a cancel is idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atlas_oms.core.orders.order import OrderView
from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import OrderType
from atlas_oms.model.requests import CancelAtVenue, ModifyAtVenue, SubmitToVenue, VenueRequest
from atlas_oms.model.venue import (
    Acknowledged,
    AmendOrder,
    ApplyOrderUpdate,
    CancelOrder,
    FactSource,
    NoteOutcomeUnknown,
    Outcome,
    PlaceOrder,
    Refused,
    Unknown,
    VenueFill,
    VenueOrder,
)
from atlas_oms.runtime import failpoints
from atlas_oms.runtime.gateway.convert import (
    order_from_place,
    place_command,
    stamp_fill,
    stamp_order,
    updates_for,
)

if TYPE_CHECKING:
    from atlas_oms.runtime.gateway.session import VenueSession

log = logging.getLogger("atlas.gateway")

NS = 1_000_000_000
NOT_FOUND_AFTER_UNKNOWN = "NOT_FOUND_AFTER_UNKNOWN"
NOT_SENT = "NOT_SENT"
UNKNOWN_ORDER = "UNKNOWN_ORDER"
CLOCK_SKEW = "CLOCK_SKEW"
CANCEL_NOT_CONFIRMED = "CANCEL_NOT_CONFIRMED"
MODIFY_NOT_CONFIRMED = "MODIFY_NOT_CONFIRMED"


def _forget(
    last: dict[int, asyncio.Task[None]], order_id: int
) -> Callable[[asyncio.Task[None]], None]:
    """Drop ``order_id``'s entry once its last request is done (not an earlier one)."""

    def done(task: asyncio.Task[None]) -> None:
        if last.get(order_id) is task:
            del last[order_id]

    return done


def _words(outcome: Refused | Unknown) -> str:
    text = outcome.message
    if outcome.code:
        text = f"{text} (venue code {outcome.code})" if text else f"venue code {outcome.code}"
    return text


class OrderFlow:
    """The sender of one venue account and the resolution of its unknown outcomes."""

    def __init__(self, session: VenueSession) -> None:
        self.s = session
        self.queue: asyncio.Queue[tuple[int, VenueRequest]] = asyncio.Queue()
        #: Set while the adapter is started: the sender waits for it.
        self.can_send = asyncio.Event()
        #: Orders with a request in flight or an outcome being resolved (reconciliation leaves
        #: them to their resolution).
        self.tracked: set[int] = set()
        self.group: asyncio.TaskGroup | None = None
        self._watch: dict[int, asyncio.Event] = {}
        self._queued: dict[int, int] = {}

    # ------------------------------------------------------------------ bookkeeping
    def put(self, request: VenueRequest) -> None:
        self._queued[request.order_id] = self._queued.get(request.order_id, 0) + 1
        self.queue.put_nowait((time.perf_counter_ns(), request))

    def busy(self, order_id: int) -> bool:
        return order_id in self.tracked or order_id in self._queued

    def seen(self, order_id: int) -> None:
        event = self._watch.get(order_id)
        if event is not None:
            event.set()

    def _spawn(self, coro: Any) -> None:
        assert self.group is not None
        self.group.create_task(self._guarded(coro))

    async def _guarded(self, coro: Any) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("venue %s/%s: order resolution failed", self.s.venue, self.s.account_id)

    # ------------------------------------------------------------------ sender
    async def run(self) -> None:
        """Send the queued requests: up to ``max_in_flight`` at once (a venue round trip takes
        milliseconds; one at a time would bound an account to a few hundred orders a second),
        but the requests of one order strictly in their order (a cancel waits for its place)."""
        limit = asyncio.Semaphore(max(1, self.s.config.max_in_flight))
        last: dict[int, asyncio.Task[None]] = {}
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                enqueued, request = await self.queue.get()
                await self.can_send.wait()
                await limit.acquire()
                taken = time.perf_counter_ns()
                self.s.overhead.queue.record(taken - enqueued)
                order_id = request.order_id
                task = asyncio.create_task(
                    self._send_in_turn(request, taken, last.get(order_id), limit)
                )
                last[order_id] = task
                running.add(task)
                task.add_done_callback(running.discard)
                task.add_done_callback(_forget(last, order_id))
        finally:
            for task in running:
                task.cancel()
            for task in list(running):
                with contextlib.suppress(BaseException):
                    await task

    async def _send_in_turn(
        self,
        request: VenueRequest,
        taken: int,
        before: asyncio.Task[None] | None,
        limit: asyncio.Semaphore,
    ) -> None:
        try:
            if before is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(before)
            left = self._queued.get(request.order_id, 1) - 1
            if left:
                self._queued[request.order_id] = left
            else:
                self._queued.pop(request.order_id, None)
            try:
                if isinstance(request, SubmitToVenue):
                    await self._place(request, taken)
                elif isinstance(request, CancelAtVenue):
                    await self._cancel(request, taken)
                elif isinstance(request, ModifyAtVenue):
                    await self._amend(request, taken)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "venue %s/%s: sending %r failed", self.s.venue, self.s.account_id, request
                )
        finally:
            limit.release()

    async def _call(self, fn: Any, command: Any, taken: int | None) -> Outcome:
        if taken is not None:
            self.s.overhead.send.record(time.perf_counter_ns() - taken)
        try:
            outcome: Outcome = await fn(command)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the port says never; an adapter bug is still "unknown"
            return Unknown(reason="DISCONNECTED", message=f"{type(exc).__name__}: {exc}")
        return outcome

    async def _call_once_more_on_skew(self, fn: Any, command: Any, taken: int) -> Outcome:
        outcome = await self._call(fn, command, taken)
        if isinstance(outcome, Refused) and outcome.reason == CLOCK_SKEW:
            log.warning(
                "venue %s/%s: timestamp refused (%s): clock resync, one resend",
                self.s.venue,
                self.s.account_id,
                _words(outcome),
            )
            with contextlib.suppress(VenueQueryFailed):
                await self.s.sync_clock()
            outcome = await self._call(fn, command, None)
        return outcome

    def _note_unknown(self, order_id: int, action: str, outcome: Unknown) -> None:
        """Journal that ``action`` on the order got no definitive answer (it stays pending)."""
        s = self.s
        s.process(
            NoteOutcomeUnknown(
                ts=s.now(),
                order_id=order_id,
                action=action,
                reason=outcome.reason,
                message=_words(outcome),
            )
        )

    def _apply(
        self, order: VenueOrder, fills: tuple[VenueFill, ...] | list[VenueFill] = ()
    ) -> None:
        s = self.s
        order = stamp_order(s.prefix, order)
        fills = [stamp_fill(s.prefix, f) for f in fills]
        for update in updates_for(order, fills, source=FactSource.QUERY):
            s.process(ApplyOrderUpdate(ts=s.now(), update=update))

    def _venue_symbol(self, symbol: str) -> str:
        instrument = self.s.node.instrument(symbol)
        if instrument is not None and instrument.venue_symbol:
            return instrument.venue_symbol
        return symbol

    # ------------------------------------------------------------------ place
    async def _place(self, request: SubmitToVenue, taken: int) -> None:
        s = self.s
        view = s.node.get_order(request.order_id)
        cmd = place_command(
            request, s.cid(request.order_id), view.position_side if view is not None else None
        )
        self.tracked.add(cmd.order_id)
        sent_ns = s.now()
        # Crash tests: the intent is journaled (Node.process flushed it), nothing is sent yet.
        failpoints.hit("gateway.before_send")
        outcome = await self._call_once_more_on_skew(s.adapter.place, cmd, taken)
        # Crash tests: the venue answered; nothing of the answer is journaled yet.
        failpoints.hit("gateway.after_send")
        if isinstance(outcome, Acknowledged):
            self.tracked.discard(cmd.order_id)
            order = outcome.order or order_from_place(
                s.venue,
                s.account_id,
                self._venue_symbol(cmd.symbol),
                cmd,
                outcome.venue_order_id or "",
                s.now(),
                outcome.fills,
            )
            self._apply(order, outcome.fills)
        elif isinstance(outcome, Refused):
            self.tracked.discard(cmd.order_id)
            s.process(
                rep.VenueRejected(
                    order_id=cmd.order_id,
                    ts=s.now(),
                    reason=outcome.reason,
                    message=_words(outcome),
                )
            )
        else:
            self._note_unknown(cmd.order_id, "PLACE", outcome)
            self._watch[cmd.order_id] = asyncio.Event()
            self._spawn(self._resolve_place(cmd, sent_ns, restart=False))

    def resolve_unsent(self, view: OrderView) -> None:
        """At (re)start: an order SUBMITTED in Atlas that the venue does not know."""
        if self.busy(view.order_id):
            return
        cmd = PlaceOrder(
            order_id=view.order_id,
            client_order_id=self.s.cid(view.order_id),
            symbol=view.symbol,
            side=view.side,
            qty=view.leaves_qty,
            price=view.price if view.order_type is not OrderType.MARKET else None,
            tif=view.tif,
            post_only=view.post_only,
            reduce_only=view.reduce_only,
            protection_price=view.protection_price,
        )
        self.tracked.add(view.order_id)
        self._watch[view.order_id] = asyncio.Event()
        self._spawn(self._resolve_place(cmd, view.ts_init, restart=True, view=view))

    async def _resolve_place(
        self, cmd: PlaceOrder, sent_ns: int, *, restart: bool, view: OrderView | None = None
    ) -> None:
        s = self.s
        config = s.config
        order_id = cmd.order_id
        seen = self._watch.setdefault(order_id, asyncio.Event())
        resend = False
        try:
            if not restart:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(seen.wait(), config.stream_wait_s)
                if seen.is_set():
                    return
            age_s = max(0.0, (s.now() - sent_ns) / NS)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + max(0.0, config.visibility_s - age_s)
            backoff = config.query_backoff_s
            answered = False
            while True:
                wait = backoff
                try:
                    found = await s.adapter.order(cmd.symbol, client_order_id=cmd.client_order_id)
                    answered = True
                except VenueQueryFailed as exc:
                    found = None
                    wait = max(wait, exc.retry_after_s or 0.0)
                if found is not None:
                    await self._apply_found(found, sent_ns)
                    return
                if seen.is_set():
                    return
                left = deadline - loop.time()
                if left <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(seen.wait(), min(wait, left))
                if seen.is_set():
                    return
                backoff = min(backoff * 2, config.query_backoff_max_s)
            if not answered:
                log.warning(
                    "venue %s/%s: order %d still unknown (no usable answer); left to reconciliation",
                    s.venue,
                    s.account_id,
                    order_id,
                )
                return
            since = sent_ns - int(config.fills_margin_s * NS)
            try:
                fills = await s.adapter.fills(since, cmd.symbol)
            except VenueQueryFailed:
                return  # undecided: the next reconciliation looks again
            mine = [
                f
                for f in fills
                if f.client_order_id == cmd.client_order_id or f.order_id == order_id
            ]
            if mine:
                first = mine[0]
                order = order_from_place(
                    s.venue,
                    s.account_id,
                    self._venue_symbol(cmd.symbol),
                    cmd,
                    first.venue_order_id,
                    s.now(),
                    mine,
                )
                self._apply(order, mine)
                return
            if seen.is_set():
                return
            if restart:
                age_s = (s.now() - sent_ns) / NS
                if age_s <= config.resend_max_age_s and view is not None:
                    log.warning(
                        "venue %s/%s: order %d was journaled but never reached the venue: "
                        "sending it (same client order id %s)",
                        s.venue,
                        s.account_id,
                        order_id,
                        cmd.client_order_id,
                    )
                    resend = True
                    self.tracked.discard(order_id)
                    self.put(
                        SubmitToVenue(
                            order_id=order_id,
                            account_id=view.account_id,
                            symbol=view.symbol,
                            venue=view.venue,
                            ts=s.now(),
                            side=view.side,
                            qty=cmd.qty,
                            price=cmd.price,
                            tif=cmd.tif,
                            post_only=cmd.post_only,
                            reduce_only=cmd.reduce_only,
                            protection_price=cmd.protection_price,
                            extended_hours=cmd.extended_hours,
                            display_qty=cmd.display_qty,
                        )
                    )
                    return
                reason, message = (
                    NOT_SENT,
                    (
                        f"the order was journaled {age_s:.0f} s ago and the venue never received it "
                        f"(older than {config.resend_max_age_s:g} s: not sent late)"
                    ),
                )
            else:
                reason, message = (
                    NOT_FOUND_AFTER_UNKNOWN,
                    (
                        f"the outcome was unknown and the venue did not know client order id "
                        f"{cmd.client_order_id} {config.visibility_s:g} s after the send, nor any fill"
                    ),
                )
            s.process(
                rep.VenueRejected(order_id=order_id, ts=s.now(), reason=reason, message=message)
            )
        finally:
            self._watch.pop(order_id, None)
            if not resend:
                self.tracked.discard(order_id)

    async def _apply_found(self, found: VenueOrder, sent_ns: int) -> None:
        fills: list[VenueFill] = []
        if found.cum_qty > 0:
            since = min(sent_ns, found.ts) - int(self.s.config.fills_margin_s * NS)
            with contextlib.suppress(VenueQueryFailed):
                fills = [
                    f
                    for f in await self.s.adapter.fills(since, found.symbol)
                    if f.venue_order_id == found.venue_order_id
                    or (found.client_order_id and f.client_order_id == found.client_order_id)
                ]
        self._apply(found, fills)

    # ------------------------------------------------------------------ cancel
    async def _cancel(self, request: CancelAtVenue, taken: int) -> None:
        s = self.s
        cmd = CancelOrder(
            order_id=request.order_id,
            client_order_id=s.cid(request.order_id),
            symbol=request.symbol,
            venue_order_id=request.venue_order_id,
        )
        self.tracked.add(cmd.order_id)
        try:
            outcome = await self._call_once_more_on_skew(s.adapter.cancel, cmd, taken)
            if isinstance(outcome, Acknowledged):
                if outcome.order is not None:
                    self._apply(outcome.order, outcome.fills)
                else:
                    await self._query_and_apply(cmd.symbol, cmd.client_order_id)
            elif isinstance(outcome, Refused) and outcome.reason == UNKNOWN_ORDER:
                # Never a cancel: the order may have filled, or not be visible yet.
                found = await self._query(cmd.symbol, cmd.client_order_id)
                if found is not None:
                    await self._apply_found(found, found.ts)
                if found is None or found.state.is_open:
                    s.process(
                        rep.VenueCancelRejected(
                            order_id=cmd.order_id,
                            ts=s.now(),
                            reason=outcome.reason,
                            message=_words(outcome),
                        )
                    )
            elif isinstance(outcome, Refused):
                s.process(
                    rep.VenueCancelRejected(
                        order_id=cmd.order_id,
                        ts=s.now(),
                        reason=outcome.reason,
                        message=_words(outcome),
                    )
                )
            else:
                self._note_unknown(cmd.order_id, "CANCEL", outcome)
                self.tracked.add(cmd.order_id)
                self._watch[cmd.order_id] = asyncio.Event()
                self._spawn(self._resolve_change(cmd.order_id, cmd.symbol, "CANCEL"))
                return
        finally:
            if cmd.order_id not in self._watch:
                self.tracked.discard(cmd.order_id)

    def cancel_again(self, view: OrderView) -> None:
        if not self.busy(view.order_id):
            self.put(
                CancelAtVenue(
                    order_id=view.order_id,
                    account_id=view.account_id,
                    symbol=view.symbol,
                    venue=view.venue,
                    ts=self.s.now(),
                    venue_order_id=view.venue_order_id,
                )
            )

    async def _query(self, symbol: str, client_order_id: str, tries: int = 3) -> VenueOrder | None:
        delay = self.s.config.query_backoff_s
        for attempt in range(tries):
            try:
                return await self.s.adapter.order(symbol, client_order_id=client_order_id)
            except VenueQueryFailed as exc:
                if attempt == tries - 1:
                    return None
                await asyncio.sleep(max(delay, exc.retry_after_s or 0.0))
                delay *= 2
        return None

    async def _query_and_apply(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        found = await self._query(symbol, client_order_id)
        if found is not None:
            await self._apply_found(found, found.ts)
        return found

    async def _resolve_change(
        self, order_id: int, symbol: str, action: str, want: ModifyAtVenue | None = None
    ) -> None:
        """A cancel or amend whose outcome is unknown: wait for the stream, then query."""
        s = self.s
        seen = self._watch.setdefault(order_id, asyncio.Event())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(seen.wait(), s.config.stream_wait_s)
            if seen.is_set():
                return
            found = await self._query(symbol, s.cid(order_id), tries=5)
            if found is None:
                return  # unresolved: the order stays pending; reconciliation looks again
            await self._apply_found(found, found.ts)
            if action == "CANCEL" and found.state.is_open:
                s.process(
                    rep.VenueCancelRejected(
                        order_id=order_id,
                        ts=s.now(),
                        reason=CANCEL_NOT_CONFIRMED,
                        message="the cancel's outcome was unknown and the venue still shows the "
                        "order working: cancel it again",
                    )
                )
            elif (
                action == "AMEND"
                and want is not None
                and found.state.is_open
                and (
                    found.qty != want.qty or (want.price is not None and found.price != want.price)
                )
            ):
                s.process(
                    rep.VenueModifyRejected(
                        order_id=order_id,
                        ts=s.now(),
                        reason=MODIFY_NOT_CONFIRMED,
                        message="the modify's outcome was unknown and the venue shows the order "
                        "unchanged",
                    )
                )
        finally:
            self._watch.pop(order_id, None)
            self.tracked.discard(order_id)

    # ------------------------------------------------------------------ amend
    async def _amend(self, request: ModifyAtVenue, taken: int) -> None:
        s = self.s
        view = s.node.get_order(request.order_id)
        cmd = AmendOrder(
            order_id=request.order_id,
            client_order_id=s.cid(request.order_id),
            symbol=request.symbol,
            side=view.side if view is not None else _side_unknown(),
            qty=request.qty,
            leaves_qty=request.leaves_qty,
            price=request.price,
            venue_order_id=request.venue_order_id,
        )
        self.tracked.add(cmd.order_id)
        try:
            outcome = await self._call_once_more_on_skew(s.adapter.amend, cmd, taken)
            if isinstance(outcome, Acknowledged):
                if outcome.order is not None:
                    self._apply(outcome.order, outcome.fills)
                else:
                    await self._query_and_apply(cmd.symbol, cmd.client_order_id)
            elif isinstance(outcome, Refused):
                if await self._amend_shown(cmd):
                    return
                s.process(
                    rep.VenueModifyRejected(
                        order_id=cmd.order_id,
                        ts=s.now(),
                        reason=outcome.reason,
                        message=_words(outcome),
                    )
                )
            else:
                self._note_unknown(cmd.order_id, "AMEND", outcome)
                self._watch[cmd.order_id] = asyncio.Event()
                self._spawn(self._resolve_change(cmd.order_id, cmd.symbol, "AMEND", request))
        finally:
            if cmd.order_id not in self._watch:
                self.tracked.discard(cmd.order_id)

    async def _amend_shown(self, cmd: AmendOrder) -> bool:
        """A refused amend may repeat one the venue applied: an HTTP client resends an
        idempotent request (PUT) once when its connection drops, and Binance refuses the
        repeat (spot ``-2038``: the quantity is no longer a reduction; USDⓈ-M ``-5027`` no
        need to modify). When the venue shows the order working with the wanted quantity and
        price, the amend was applied: its state is booked, not a refusal (found by the
        contract suite)."""
        found = await self._query(cmd.symbol, cmd.client_order_id)
        if (
            found is None
            or not found.state.is_open
            or found.qty != cmd.qty
            or (cmd.price is not None and found.price != cmd.price)
        ):
            return False
        await self._apply_found(found, found.ts)
        return True


def _side_unknown() -> Any:
    raise LookupError("modify of an order the node does not know")
