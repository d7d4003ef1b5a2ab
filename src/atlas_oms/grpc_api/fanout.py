"""Durable events to the gRPC streams: one listener on the stream hub (``hub.on_durable``: each
batch once the journal holds it, in seq order) hands every batch to each open stream's queue,
and :func:`order_updates` turns an account's share into ``OrderUpdate`` messages, after the
journal's replay from ``since_seq`` (no gap, no duplicate: the same switch as the WebSocket's)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc

from atlas_oms.grpc_api.calls import INTERFACE, Calls
from atlas_oms.grpc_api.convert import fill
from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as types
from atlas_oms.model import events as ev
from atlas_oms.runtime.node import CommandRefused
from atlas_oms.service.app import Problem, refused
from atlas_oms.service.keys import ApiKey
from atlas_oms.service.stream import AccountSub, StreamHub

M = TypeVar("M")
#: Batches waiting for one stream before it is ended as too slow (RESOURCE_EXHAUSTED).
QUEUE_LIMIT = 4096
REPLAY_CHUNK = 500


class Subscriber:
    """One stream's queue of durable batches."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.batches: deque[list[ev.EventBase]] = deque()
        self.ready = asyncio.Event()
        self.overflow = False
        self.closed = False

    def put(self, events: list[ev.EventBase]) -> None:
        if len(self.batches) >= self.limit:
            self.overflow = True
        else:
            self.batches.append(events)
        self.ready.set()

    async def get(self) -> list[ev.EventBase]:
        """Every event queued since the last call (waits for one batch at least)."""
        await self.ready.wait()
        self.ready.clear()
        if self.closed:
            raise Problem(503, "NODE_STOPPING", "the server is stopping")
        if self.overflow:
            raise Problem(429, "SLOW_CONSUMER", "the stream fell too far behind; open it again")
        out: list[ev.EventBase] = []
        while self.batches:
            out.extend(self.batches.popleft())
        return out


class Fanout:
    """The hub's durable batches, to every open gRPC stream."""

    def __init__(self, hub: StreamHub, limit: int = QUEUE_LIMIT) -> None:
        self.hub = hub
        self.limit = limit
        self.subscribers: set[Subscriber] = set()
        hub.on_durable(self._publish)

    def _publish(self, events: list[ev.EventBase]) -> None:
        for sub in list(self.subscribers):
            sub.put(events)

    def subscribe(self) -> Subscriber:
        sub = Subscriber(self.limit)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def close(self) -> None:
        """End every open stream (UNAVAILABLE ``NODE_STOPPING``): the server is stopping."""
        for sub in self.subscribers:
            sub.closed = True
            sub.ready.set()


async def guarded(
    calls: Calls,
    context: grpc.aio.ServicerContext,
    method: str,
    body: Callable[[ApiKey], AsyncIterator[M]],
) -> AsyncIterator[M]:
    """A server stream: authenticated and rate limited at its start, counted in the sessions
    gauge while open, logged and counted once when it ends; a refusal ends it with its code."""
    start = time.perf_counter()
    key: ApiKey | None = None
    problem: Problem | None = None
    sessions = calls.service.metrics.api_sessions.labels(INTERFACE)
    sessions.inc()
    # Read now, while the call is alive: once the client has cancelled the stream, touching
    # its call again from the handler's cleanup crashed the process (SIGSEGV in grpcio 1.85).
    peer = context.peer()
    outcome = "ok"
    try:
        key = calls.authenticate(context)
        async with contextlib.aclosing(body(key)) as items:  # type: ignore[type-var]
            async for item in items:
                yield item
    except Problem as exc:
        problem = exc
    except CommandRefused as exc:
        problem = refused(exc)
    except asyncio.CancelledError:  # the client went away (or the server stops)
        outcome = "CANCELLED"
        raise
    finally:
        sessions.dec()
        if problem is None:
            calls.done(context, method, outcome, start, key, peer)
    if problem is not None:
        await calls.abort(context, method, problem, start, key)


def _update(
    calls: Calls, key: ApiKey, account_id: str, event: ev.EventBase, *, replay: bool
) -> pb.OrderUpdate:
    service = calls.service
    mask = None if key.has("risk") else (lambda text: service.mask_text(key, text))
    data: dict[str, Any] = service.numbers.builtins(event)
    order_id = getattr(event, "order_id", 0)
    update = pb.OrderUpdate(
        seq=event.seq,
        ts_event=event.ts_event,
        type=type(event).__name__,
        order_id=order_id,
        account_id=getattr(event, "account_id", None)
        or service.node.order_owner(order_id)
        or account_id,
        replay=replay,
    )
    text = json.dumps(data, separators=(",", ":"))
    update.event_json = mask(text) if mask is not None else text
    for name in ("reason", "message"):
        value = data.get(name)
        if isinstance(value, str):
            setattr(update, name, value)
    if isinstance(event, ev.OrderFilled):
        update.fill.CopyFrom(fill(types.Fill(), data, mask))
    if not replay:
        view = service.node.get_order(order_id)
        if view is not None:
            update.order.CopyFrom(fill(types.Order(), service.numbers.builtins(view)))
    return update


def order_updates(
    calls: Calls,
    fanout: Fanout,
    context: grpc.aio.ServicerContext,
    account_id: str,
    since: int | None,
    subaccounts: bool,
) -> AsyncIterator[pb.OrderUpdate]:
    """The account's order events (and its sub-accounts' with ``subaccounts``), durable only."""
    service = calls.service
    hub = fanout.hub

    async def body(key: ApiKey) -> AsyncIterator[pb.OrderUpdate]:
        service.require_account(key, account_id)
        end = hub.published_seq  # what a client can have seen: never an uncommitted seq
        if since is not None and since < 0:
            raise Problem(400, "INVALID_FIELD", "since_seq must be >= 0")
        if since is not None and since > end:
            raise Problem(
                409,
                "SEQ_AHEAD",
                f"this node's journal ends at seq {end}: open it without since_seq",
            )
        node = service.node
        members = set(node.account_tree(account_id)) if subaccounts else {account_id}
        track = AccountSub(account_id, members, subaccounts, after=end if since is None else since)
        sub = fanout.subscribe()  # no await since reading ``end``: nothing falls in between
        owner = node.order_owner
        try:
            while track.after < end:  # the journal's events first
                chunk = hub.read(track.after + 1, end, REPLAY_CHUNK)
                if not chunk:
                    break
                for event in chunk:
                    if track.matches(event, owner) and isinstance(
                        getattr(event, "order_id", None), int
                    ):
                        yield _update(calls, key, account_id, event, replay=True)
                track.after = chunk[-1].seq
                await asyncio.sleep(0)
            track.after = max(track.after, end)
            while True:  # then live
                for event in await sub.get():
                    if event.seq <= track.after:
                        continue
                    if track.matches(event, owner) and isinstance(
                        getattr(event, "order_id", None), int
                    ):
                        yield _update(calls, key, account_id, event, replay=False)
                    track.after = event.seq
        finally:
            fanout.unsubscribe(sub)

    return guarded(calls, context, "StreamOrderUpdates", body)


__all__ = ["Fanout", "Subscriber", "guarded", "order_updates"]
