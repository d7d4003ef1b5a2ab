"""Ports: the interfaces the core's surroundings implement. The core never imports an adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Protocol, runtime_checkable

from atlas_oms.model.reports import Report
from atlas_oms.model.requests import VenueRequest
from atlas_oms.model.route_book import VenueBook
from atlas_oms.model.venue import (
    AmendOrder,
    CancelOrder,
    Outcome,
    PlaceOrder,
    PriceTick,
    VenueAccountSettings,
    VenueBalance,
    VenueFact,
    VenueFill,
    VenueInstrument,
    VenueOrder,
    VenuePosition,
)


class Clock(Protocol):
    """Where time comes from (integer nanoseconds since the epoch)."""

    def now(self) -> int: ...


class Venue(Protocol):
    """Something that works orders: the built-in exchange, a crypto exchange, a broker."""

    name: str
    #: True when reports come back in the same call, deterministically (the built-in exchange).
    synchronous: bool

    def handle(self, request: VenueRequest) -> list[Report]:
        """Send one request; return whatever reports are already known."""
        ...


# --------------------------------------------------------------------------- external venues
# An adapter (venues/<name>/) implements these three ports for one venue account; the gateway
# (runtime/gateway/) drives them. They are async because they do I/O; the core only ever sees
# their results (model/venue.py values), journaled as events.


class VenueQueryFailed(Exception):
    """A query got no usable answer (timeout, 5xx, dropped connection, rate limit).

    ``reason`` is one of TIMEOUT, SERVER_ERROR, DISCONNECTED, RATE_LIMITED, BANNED, CLOCK_SKEW,
    AUTH; ``retry_after_s`` is the venue's own hint (``Retry-After``) when it gave one."""

    def __init__(
        self, reason: str, message: str, *, code: str = "", retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.code = code
        self.retry_after_s = retry_after_s


class VenueCommands(Protocol):
    """Place, cancel, amend. Each answers Acknowledged, Refused (definitive, with the venue's
    code and message) or Unknown; a venue outcome never raises."""

    async def place(self, order: PlaceOrder) -> Outcome: ...

    async def cancel(self, order: CancelOrder) -> Outcome: ...

    async def amend(self, order: AmendOrder) -> Outcome: ...


class VenueStream(Protocol):
    """The venue's private stream as facts. ``facts()`` connects (and reconnects: each
    (re)connection first yields a :class:`StreamGap`) and runs until cancelled."""

    def facts(self) -> AsyncIterator[VenueFact]: ...


class VenueQueries(Protocol):
    """Reads used by reconciliation and by the resolution of unknown outcomes. Each raises
    :class:`VenueQueryFailed` when the venue gave no usable answer."""

    async def open_orders(self) -> list[VenueOrder]: ...

    async def order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> VenueOrder | None:
        """One order by client or venue id; None when the venue says it does not know it (which
        right after a place may only mean "not visible yet")."""
        ...

    async def fills(self, since_ts: int, symbol: str | None = None) -> list[VenueFill]: ...

    async def balances(self) -> list[VenueBalance]: ...

    async def positions(self) -> list[VenuePosition]: ...

    async def instruments(self) -> list[VenueInstrument]: ...

    async def server_time(self) -> int:
        """The venue's clock, ns since the epoch."""
        ...


class VenueMarketData(Protocol):
    """Public market data (book ticker, trades, mark price for perpetuals) for ``symbols``
    (unified); reconnects by itself and runs until cancelled."""

    def prices(self, symbols: list[str]) -> AsyncIterator[PriceTick]: ...


@runtime_checkable
class VenueBooks(Protocol):
    """Public order books (issue 16, MD-1): the venue's top ``depth`` levels of each of
    ``symbols`` (Atlas symbols), one :class:`VenueBook` per change (the whole top ``depth``, not a
    diff: the adapter keeps the venue's diff protocol). Reconnects by itself (a fresh snapshot
    after each reconnect) and runs until cancelled. Optional: the runtime checks with
    ``isinstance(adapter, VenueBooks)`` (``runtime_checkable``)."""

    def books(self, symbols: list[str], depth: int) -> AsyncIterator[VenueBook]: ...


class VenueAdapter(VenueCommands, VenueStream, VenueQueries, VenueMarketData, Protocol):
    """One venue account behind the three ports. ``venue`` is the venue's name in Atlas
    (``binance``, ``binanceusdm``): every instrument it lists has it as ``Instrument.venue``."""

    venue: str
    account_id: str
    #: Set by the gateway (the rate limiter): awaited before each request with its weight and
    #: whether it places, cancels or amends an order.
    before_request: Callable[[int, bool], Awaitable[None]] | None
    #: Set by the gateway: called with each HTTP answer's status and headers (the venue's
    #: rate-limit headers feed the limiter).
    on_response: Callable[[int, Mapping[str, str]], None] | None

    def set_clock_offset(self, offset_ns: int) -> None:
        """Sign requests with ``local time + offset_ns`` (the venue's clock as measured)."""
        ...

    async def start(self) -> None:
        """Open the client (no trading yet); check the account's settings (position mode)."""
        ...

    async def close(self) -> None: ...

    async def account_settings(self) -> VenueAccountSettings: ...
