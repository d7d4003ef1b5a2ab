"""The world of one contract case: a real :class:`Node` (SQLite journal in ``tmp_path``, so a
restart is a real reopening), a real :class:`Gateway` with small waits, the real adapter and the
fake venue, all in one event loop; and the end-of-case check :func:`assert_agrees`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from atlas_oms.model.enums import OrderStatus, PositionMode, PositionSide
from atlas_oms.model.venue import VenueOrderState
from atlas_oms.runtime.clock import LiveClock
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.gateway import Gateway, GatewayConfig, decode, prefix_for
from atlas_oms.runtime.node import Node

from .harness import VenueHarness

ACCOUNT = "acc-1"
TAG = "k3f9q2"
PREFIX = prefix_for(TAG)

#: Every wait small; periodic reconciliation and silence detection off unless a case needs them.
FAST = GatewayConfig(
    stream_wait_s=0.1,
    visibility_s=1.0,
    query_backoff_s=0.05,
    query_backoff_max_s=0.2,
    resend_max_age_s=60.0,
    reconcile_every_s=300.0,
    silent_after_s=300.0,
    fills_margin_s=60.0,
    clock_every_s=300.0,
    tick_s=0.05,
    reconnect_initial_s=0.05,
    reconnect_max_s=0.2,
    stream_open_timeout_s=2.0,
    price_every_s=0.05,
)

S = OrderStatus
_SAME: dict[VenueOrderState, frozenset[OrderStatus]] = {
    VenueOrderState.NEW: frozenset({S.ACCEPTED}),
    VenueOrderState.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED}),
    VenueOrderState.FILLED: frozenset({S.FILLED}),
    VenueOrderState.CANCELED: frozenset({S.CANCELED}),
    VenueOrderState.EXPIRED: frozenset({S.EXPIRED, S.CANCELED}),
    VenueOrderState.REJECTED: frozenset({S.REJECTED}),
}


def decode_client_id(client_order_id: str) -> int | None:
    return decode(PREFIX, client_order_id)


def cid(order_id: int) -> str:
    """The client order id Atlas sends for ``order_id``."""
    return f"{PREFIX}{order_id}"


#: How long a case waits for what must happen (an order's status, the account READY). A bound
#: against a hang on a loaded CI machine (2 cores, load above 10), never the expected time: a
#: passing case waits only as long as it takes.
WAIT_S = 10.0


async def wait_until(
    predicate: Callable[[], object], timeout: float = WAIT_S, what: str = ""
) -> None:
    """Wait (polling every 10 ms) until ``predicate()`` is true; fail after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what or predicate}")
        await asyncio.sleep(0.01)


class World:
    """The node + gateway + adapter of one venue account against a started harness."""

    def __init__(
        self,
        harness: VenueHarness,
        path: Path,
        *,
        config: GatewayConfig = FAST,
        position_mode: PositionMode = PositionMode.NETTING,
    ) -> None:
        self.harness = harness
        self.path = path
        self.config = config
        self.position_mode = position_mode
        self.node: Node | None = None
        self.gateway: Gateway | None = None

    # ------------------------------------------------------------------ life
    def open_node(self) -> Node:
        node = Node.open(str(self.path), clock=LiveClock())
        if node.account(ACCOUNT) is None:
            node.open_account(ACCOUNT, position_mode=self.position_mode)
        self.node = node
        return node

    async def start(self, *, wait_ready: bool = True, send: bool = True) -> None:
        """Open the node (or reopen its journal) and start a new gateway over a new adapter.
        ``send=False``: the gateway's sender never runs (what it is given is journaled, never
        sent)."""
        node = self.open_node()
        adapter = self.harness.adapter(ACCOUNT, decode_client_id)
        gateway = Gateway(node, [adapter], tag=TAG, config=self.config, market_data=False)
        self.gateway = gateway
        if not send:
            session = self.session

            async def never() -> None:
                await asyncio.Event().wait()

            session.orders.run = never
        gateway.start()
        if wait_ready:
            await self.ready()

    async def ready(self, timeout: float = WAIT_S) -> None:
        await wait_until(lambda: self.session.tradable, timeout, "the venue account is READY")

    async def stop(self) -> None:
        """Stop the gateway (its tasks cancelled, the adapter closed) and close the node."""
        if self.gateway is not None:
            await self.gateway.stop()
            self.gateway = None
        if self.node is not None:
            self.node.close()
            self.node = None

    async def restart(self, **kw: Any) -> None:
        await self.stop()
        await self.start(**kw)

    # ------------------------------------------------------------------ shortcuts
    @property
    def n(self) -> Node:
        assert self.node is not None
        return self.node

    @property
    def session(self) -> Any:
        assert self.gateway is not None
        return self.gateway.session(self.harness.venue, ACCOUNT)

    def buy(self, qty: Decimal | None = None, price: Decimal | None = None, **kw: Any) -> int:
        inst = self.harness.instrument
        view = self.n.buy(ACCOUNT, inst.symbol, qty or inst.qty, price or inst.price, **kw)
        assert view.status is S.SUBMITTED, (view.status, view.reason)
        return view.order_id

    def submit(self, side: str, price: Decimal | None = None, **kw: Any) -> int:
        inst = self.harness.instrument
        view = self.n.submit(
            ACCOUNT, inst.symbol, side, "LIMIT", inst.qty, price or inst.price, **kw
        )
        assert view.status is S.SUBMITTED, (view.status, view.reason)
        return view.order_id

    def refused(self) -> str:
        """Submit a buy that must be refused; return the reason."""
        inst = self.harness.instrument
        try:
            view = self.n.buy(ACCOUNT, inst.symbol, inst.qty, inst.price)
        except CommandRefused as refused:
            return refused.reason
        assert view.status is S.DENIED, view.status
        return view.reason or ""

    def status(self, order_id: int) -> OrderStatus:
        return self.n.order(order_id).status

    async def until_status(
        self, order_id: int, *statuses: OrderStatus, timeout: float = WAIT_S
    ) -> None:
        await wait_until(
            lambda: self.status(order_id) in statuses,
            timeout,
            f"order {order_id} in {statuses} (it is {self.status(order_id)}: "
            f"{self.n.order(order_id).reason})",
        )

    async def reconcile(self) -> list[Any]:
        assert self.gateway is not None
        return await self.gateway.reconcile(self.harness.venue, ACCOUNT)

    def venue_orders_with(self, order_id: int) -> list[Any]:
        return [o for o in self.harness.orders() if o.client_order_id == cid(order_id)]


async def assert_agrees(world: World) -> None:
    """After a final reconciliation (two, so a balance difference waiting for confirmation is
    settled): every Atlas order of the venue account has the venue's status and cumulative
    quantity, every working venue order is known to Atlas (adopted if placed elsewhere), no client order id names more than one venue
    order, and positions (quantity and entry price) and balances equal the venue's."""
    harness, node = world.harness, world.n
    await world.reconcile()
    await world.reconcile()
    truth = harness.orders()
    by_client: dict[str, list[Any]] = {}
    for o in truth:
        by_client.setdefault(o.client_order_id, []).append(o)
    doubled = {k: len(v) for k, v in by_client.items() if len(v) > 1}
    assert not doubled, f"client order ids with more than one venue order: {doubled}"
    by_venue_id = {o.venue_order_id: o for o in truth}
    mine = [o for o in node.orders(ACCOUNT) if o.venue == harness.venue]
    known: set[str] = set()
    for order in mine:
        venue = by_venue_id.get(order.venue_order_id or "") or next(
            iter(by_client.get(cid(order.order_id), ())), None
        )
        if venue is None:
            assert order.status in (S.REJECTED, S.DENIED), (
                f"Atlas order {order.order_id} ({order.status}) is not at the venue"
            )
            continue
        known.add(venue.venue_order_id)
        assert order.status in _SAME[venue.state], (
            f"order {order.order_id}: Atlas {order.status}, venue {venue.state}"
        )
        assert order.cum_qty == venue.cum_qty, (
            f"order {order.order_id}: Atlas cum qty {order.cum_qty}, venue {venue.cum_qty}"
        )
    working = (VenueOrderState.NEW, VenueOrderState.PARTIALLY_FILLED)
    unknown = [o for o in truth if o.state in working and o.venue_order_id not in known]
    assert not unknown, f"working venue orders Atlas does not know: {unknown}"
    if harness.instrument.derivative:
        atlas_pos = {
            (p.symbol, p.position_side): p.qty
            for p in node.positions(ACCOUNT)
            if getattr(node.instrument(p.symbol), "venue", None) == harness.venue
        }
        venue_pos = harness.positions()
        assert atlas_pos == {k: qty for k, (qty, _) in venue_pos.items()}, (
            f"positions: Atlas {atlas_pos}, venue {venue_pos}"
        )
        for (symbol, side), (_, entry) in venue_pos.items():
            pos = node.position(ACCOUNT, symbol, side)
            assert pos is not None and pos.avg_entry_px == entry, (
                f"entry price of {symbol} {side}: Atlas {pos and pos.avg_entry_px}, venue {entry}"
            )
    atlas_bal = {b.asset: b.total for b in node.balances(ACCOUNT) if b.total}
    assert atlas_bal == harness.balances(), (
        f"balances: Atlas {atlas_bal}, venue {harness.balances()}"
    )


def position_qty(world: World, side: PositionSide = PositionSide.BOTH) -> Decimal:
    pos = world.n.position(ACCOUNT, world.harness.instrument.symbol, side)
    return pos.qty if pos is not None else Decimal(0)


def with_config(**changes: Any) -> GatewayConfig:
    return replace(FAST, **changes)


@contextlib.asynccontextmanager
async def running(
    harness: VenueHarness, path: Path, *, hedge_venue: bool = False, **kw: Any
) -> Any:
    """The fake venue and a started world; everything stopped at the end."""
    await harness.start(hedge_mode=hedge_venue)
    world = World(harness, path, **kw)
    try:
        yield world
    finally:
        with contextlib.suppress(Exception):
            await world.stop()
        await harness.stop()


def run(main: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """Run one case's coroutine in a fresh event loop, bounded."""
    return asyncio.run(asyncio.wait_for(main(), timeout))
