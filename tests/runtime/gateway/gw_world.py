"""The gateway's test world: a real Node behind a recording port, a scripted adapter, a gateway
with small waits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from scripted import SPOT, ScriptedAdapter

from atlas_oms.core.engine import HANDLERS
from atlas_oms.model.venue import (
    ApplyOrderUpdate,
    NoteOutcomeUnknown,
    ReconcileVenue,
    SetVenueStatus,
)
from atlas_oms.runtime.clock import LiveClock
from atlas_oms.runtime.gateway import Gateway, GatewayConfig
from atlas_oms.runtime.node import Node

VENUE_MESSAGES = (ApplyOrderUpdate, ReconcileVenue, SetVenueStatus, NoteOutcomeUnknown)
#: Whether the core on this branch handles the venue messages (after merging i12-core).
CORE_HANDLES_VENUES = ApplyOrderUpdate in HANDLERS

FAST = GatewayConfig(
    stream_wait_s=0.05,
    visibility_s=0.3,
    query_backoff_s=0.02,
    query_backoff_max_s=0.05,
    resend_max_age_s=60.0,
    reconcile_every_s=100.0,
    silent_after_s=100.0,
    clock_every_s=100.0,
    tick_s=0.02,
    reconnect_initial_s=0.02,
    reconnect_max_s=0.1,
    stream_open_timeout_s=1.0,
    price_every_s=0.05,
)


class Recorder:
    """The node as the gateway sees it: every message recorded; venue messages passed to the
    core only when it handles them."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.messages: list[Any] = []
        self.events: list[Any] = []

    def process(self, message: Any) -> list[Any]:
        self.messages.append(message)
        if isinstance(message, VENUE_MESSAGES) and not CORE_HANDLES_VENUES:
            return []
        events = self.node.process(message)
        self.events.extend(events)
        return events

    def __getattr__(self, name: str) -> Any:
        return getattr(self.node, name)

    def of(self, kind: type) -> list[Any]:
        return [m for m in self.messages if isinstance(m, kind)]

    def statuses(self) -> list[tuple[bool, str]]:
        return [(m.tradable, m.reason) for m in self.of(SetVenueStatus)]


def new_node(path: str | None = None) -> Node:
    node = Node.open(path, clock=LiveClock()) if path else Node(clock=LiveClock())
    if node.account("A") is None:
        node.open_account("A")
        node.deposit("A", "USDT", 1_000_000)
    return node


async def until(condition: Callable[[], object], timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def running(
    adapters: list[ScriptedAdapter] | ScriptedAdapter | None = None,
    *,
    config: GatewayConfig = FAST,
    node: Node | None = None,
    wait_ready: bool = True,
    **kw: Any,
) -> AsyncIterator[tuple[Gateway, Recorder, list[ScriptedAdapter]]]:
    if adapters is None:
        adapters = [ScriptedAdapter()]
    elif isinstance(adapters, ScriptedAdapter):
        adapters = [adapters]
    recorder = Recorder(node or new_node())
    gateway = Gateway(recorder, adapters, tag="k3f9q2", config=config, **kw)
    gateway.start()
    try:
        if wait_ready:
            await until(lambda: all(s.tradable for s in gateway.sessions.values()))
        yield gateway, recorder, adapters
    finally:
        await gateway.stop()


def buy(recorder: Recorder, qty: str = "0.01", price: str = "100", account: str = "A") -> int:
    view = recorder.node.submit(account, SPOT, "BUY", "LIMIT", Decimal(qty), Decimal(price))
    return view.order_id
