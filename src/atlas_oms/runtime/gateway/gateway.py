"""The gateway: every venue account's session, the venue facades registered in the node, the rate
limiters shared by the accounts of a scope, market data, and health.

Its tasks (:meth:`Gateway.tasks`) are owned by whoever runs the node: a
:class:`~atlas_oms.runtime.live.LiveRuntime` (``gateway.attach(runtime)``) or :meth:`start` /
:meth:`stop` here; none outlives its owner. A session never raises: it reconnects with backoff and
says why in :meth:`health`; market data that fails is restarted the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from atlas_oms.core.ports import VenueAdapter, VenueBooks
from atlas_oms.model.margin import MarginMode
from atlas_oms.model.reasons import Reason
from atlas_oms.model.route_book import VenueBook
from atlas_oms.model.venue import PriceTick
from atlas_oms.runtime.gateway.books import keep_books
from atlas_oms.runtime.gateway.client_ids import prefix_for
from atlas_oms.runtime.gateway.config import GatewayConfig
from atlas_oms.runtime.gateway.facade import VenueFacade
from atlas_oms.runtime.gateway.marketdata import run_prices
from atlas_oms.runtime.gateway.metrics import Overhead
from atlas_oms.runtime.gateway.nodeport import NodePort
from atlas_oms.runtime.gateway.ratelimit import Limits
from atlas_oms.runtime.gateway.session import SessionHealth, VenueSession
from atlas_oms.runtime.gateway.settings import (
    NO_VENUE_ACCOUNT,
    FuturesSettings,
    SyncResult,
    VenueSettingRefused,
)

log = logging.getLogger("atlas.gateway")


class Gateway:
    def __init__(
        self,
        node: NodePort,
        adapters: Iterable[VenueAdapter],
        *,
        tag: str,
        config: GatewayConfig | None = None,
        limits: Limits | None = None,
        local_ns: Callable[[], int] = time.time_ns,
        market_data: bool = True,
        max_leverage: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.node = node
        self.config = config or GatewayConfig()
        self.prefix = prefix_for(tag)
        self.limits = limits or Limits(self.config.rate_limits)
        self.overhead = Overhead()
        self.market_data = market_data
        self.sessions: dict[tuple[str, str], VenueSession] = {}
        #: The latest public tick of each venue symbol (bid, ask, last, mark), as it came.
        self.quotes: dict[str, PriceTick] = {}
        self.facades: dict[str, VenueFacade] = {}
        #: Consolidated market data (issue 16; runtime/market/hub.py attaches itself): each venue
        #: book streamed (one ``books`` stream per venue with an adapter that has them, started
        #: only when a sink is set), and every public tick with its venue.
        self.book_sinks: list[Callable[[VenueBook], None]] = []
        self.tick_sinks: list[Callable[[str, PriceTick], None]] = []
        self.book_depth = 10
        self._tasks: list[asyncio.Task[None]] = []
        #: Leverage and margin mode, venue first (settings.py); ``max_leverage`` per account.
        self.futures_settings = FuturesSettings(
            node,
            max_leverage=max_leverage,
            read_backoff_s=self.config.query_backoff_s,
        )
        for adapter in adapters:
            self.add(adapter, local_ns=local_ns)

    def add(
        self, adapter: VenueAdapter, *, local_ns: Callable[[], int] = time.time_ns
    ) -> VenueSession:
        """Add a venue account (before the gateway starts)."""
        key = (adapter.venue, adapter.account_id)
        if key in self.sessions:
            raise ValueError(f"venue account {key[0]}/{key[1]} is already in the gateway")
        facade = self.facades.get(adapter.venue)
        if facade is None:
            existing = self.node.venues.get(adapter.venue)
            if existing is not None and not isinstance(existing, VenueFacade):
                raise ValueError(f"venue {adapter.venue} is already served by {existing!r}")
            facade = existing or VenueFacade(adapter.venue, self.node)
            self.facades[adapter.venue] = facade
            self.node.venues[adapter.venue] = facade
        session = VenueSession(
            self.node,
            adapter,
            prefix=self.prefix,
            config=self.config,
            limiter=self.limits.scope(adapter.venue),
            overhead=self.overhead,
            local_ns=local_ns,
        )
        session.settings_hook = self.futures_settings.sync
        self.sessions[key] = session
        facade.sessions[adapter.account_id] = session
        return session

    # ------------------------------------------------------------------ tasks
    def tasks(self) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
        """(name, coroutine function) of every task: one per venue account, one market data
        feed per venue."""
        out: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            (f"venue:{venue}:{account}", session.run)
            for (venue, account), session in self.sessions.items()
        ]
        if self.market_data:
            for venue in self.facades:
                out.append((f"prices:{venue}", self._price_feed(venue)))
                if self.book_sinks and self._book_source(venue) is not None:
                    out.append((f"books:{venue}", self._book_feed(venue)))
        return out

    def attach(self, runtime: Any) -> None:
        """Give every task to a ``LiveRuntime`` (before its start)."""
        for name, factory in self.tasks():
            runtime.add(name, factory)

    async def run(self) -> None:
        """Run every task until cancelled."""
        async with asyncio.TaskGroup() as group:
            for name, factory in self.tasks():
                group.create_task(factory(), name=name)  # type: ignore[arg-type]

    def start(self) -> None:
        """Start the tasks on the running loop (stop them with :meth:`stop`)."""
        for name, factory in self.tasks():
            self._tasks.append(asyncio.create_task(factory(), name=name))  # type: ignore[arg-type]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for session in self.sessions.values():
            with contextlib.suppress(Exception):
                await session.adapter.close()

    def _price_feed(self, venue: str) -> Callable[[], Awaitable[None]]:
        async def feed() -> None:
            backoff = self.config.reconnect_initial_s
            while True:
                session = next(s for (v, _), s in self.sessions.items() if v == venue)
                symbols = _venue_symbols(self.node, venue)
                try:
                    if symbols:
                        await run_prices(
                            self.node,
                            session.adapter,
                            symbols,
                            self.config.price_every_s,
                            self.quotes,
                            self._on_tick(venue) if self.tick_sinks else None,
                        )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("prices of %s failed: %s", venue, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.config.reconnect_max_s)

        return feed

    def _on_tick(self, venue: str) -> Callable[[PriceTick], None]:
        sinks = self.tick_sinks

        def on_tick(tick: PriceTick) -> None:
            for sink in sinks:
                sink(venue, tick)

        return on_tick

    def _book_source(self, venue: str) -> VenueBooks | None:
        for (v, _), session in self.sessions.items():
            if v == venue and isinstance(session.adapter, VenueBooks):
                return session.adapter
        return None

    def _book_feed(self, venue: str) -> Callable[[], Awaitable[None]]:
        async def feed() -> None:
            await keep_books(
                lambda: self._book_source(venue),
                lambda: _venue_symbols(self.node, venue),
                self.book_depth,
                self.book_sinks,
                initial_s=self.config.reconnect_initial_s,
                max_s=self.config.reconnect_max_s,
                venue=venue,
            )

        return feed

    # ------------------------------------------------------------------ operations
    def session(self, venue: str, account_id: str) -> VenueSession:
        try:
            return self.sessions[(venue, account_id)]
        except KeyError:
            raise KeyError(f"no venue account {venue}/{account_id} in the gateway") from None

    async def reconcile(self, venue: str, account_id: str) -> list[Any]:
        """Reconcile one venue account now; return what the core emitted (its exception report,
        ``VenueReconciled``, among them)."""
        return await self.session(venue, account_id).reconcile("MANUAL")

    async def set_leverage(
        self, account_id: str, symbol: str, leverage: Decimal | int | str
    ) -> Decimal:
        """Set ``symbol``'s leverage for ``account_id`` on its venue, then in Atlas (see
        settings.py); raises ``VenueSettingRefused`` / ``SettingOutcomeUnknown``."""
        return await self.futures_settings.set_leverage(
            self._settings_session(account_id, symbol), symbol, leverage
        )

    async def set_margin_mode(
        self, account_id: str, symbol: str, mode: MarginMode | str
    ) -> MarginMode:
        """Set ``symbol``'s margin mode (CROSS or ISOLATED) for ``account_id`` on its venue,
        then in Atlas (see settings.py)."""
        return await self.futures_settings.set_margin_mode(
            self._settings_session(account_id, symbol), symbol, mode
        )

    async def sync_settings(self, venue: str, account_id: str) -> SyncResult:
        """Push Atlas's leverage and margin modes to a venue account now (as at connect)."""
        return await self.futures_settings.sync(self.session(venue, account_id))

    def _settings_session(self, account_id: str, symbol: str) -> VenueSession:
        inst = self.node.instrument(symbol)
        if inst is None:
            raise VenueSettingRefused(
                Reason.UNKNOWN_INSTRUMENT,
                f"{symbol} is not a known instrument",
                account_id=account_id,
            )
        session = self.sessions.get((inst.venue, account_id))
        if session is None:
            raise VenueSettingRefused(
                NO_VENUE_ACCOUNT,
                f"account {account_id} has no venue account at {inst.venue} (where {symbol} "
                "trades): set it with the node",
                venue=inst.venue,
                account_id=account_id,
            )
        return session

    def health(self) -> list[SessionHealth]:
        return [session.health() for session in self.sessions.values()]


def _venue_symbols(node: NodePort, venue: str) -> list[str]:
    return [i.symbol for i in node.instruments() if i.venue == venue]
