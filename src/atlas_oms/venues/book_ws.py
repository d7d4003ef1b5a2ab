"""One WebSocket session loop for the public order-book streams of OKX, Upbit and Alpaca
(``books()``, issue 16: ``core/ports.py::VenueBooks``).

:func:`stream_books` connects to ``url`` (aiohttp, the adapter's configured endpoint), lets the
venue code subscribe (``opened``: it may also yield books, e.g. a REST snapshot), decodes every
frame (text or binary JSON; floats kept exact as :class:`~decimal.Decimal`) and hands it to the
venue's ``handle``, which returns the books it changed. A venue-specific failure to keep the
book in step (a gap in sequence numbers, a wrong checksum) is :class:`Resync`: the session is
dropped at once and a new one opened, whose snapshot starts the book afresh. A lost connection
is retried with a doubling delay (``reconnect_min_s`` .. ``reconnect_max_s`` of the adapter). A
quiet session is pinged (``ping``: the venue's text ping, else a WebSocket ping frame) every
``idle_s``; one with no answer to it within another ``idle_s`` is dropped. Runs until cancelled.

:class:`TopFilter` drops a book whose top ``depth`` levels are those last emitted for its symbol
(a change deeper in the book, a heartbeat): one :class:`VenueBook` per change of what the
caller asked to see.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.venues.rewatch import Backoff

__all__ = ["Delays", "Resync", "TopFilter", "decode", "levels", "stream_books"]


@dataclass
class Delays:
    """A reconnection backoff for an adapter that keeps its delays elsewhere."""

    reconnect_min_s: float
    reconnect_max_s: float


class Resync(Exception):
    """The local book is out of step with the venue's (a gap, a checksum): start a new session."""


def decode(data: str | bytes) -> Any:
    """A frame's JSON with every JSON number that has a fraction or exponent as a Decimal
    (Upbit and Alpaca send prices as JSON numbers: never through a float)."""
    return json.loads(data, parse_float=Decimal)


def levels(
    side: Iterable[tuple[Decimal, Decimal]], depth: int, *, descending: bool
) -> tuple[BookLevel, ...]:
    """The best ``depth`` levels of one side (``(price, qty)`` pairs, any order, qty > 0)."""
    ordered = sorted(side, key=lambda lv: lv[0], reverse=descending)
    return tuple(BookLevel(price, qty) for price, qty in ordered[:depth] if qty > 0)


class TopFilter:
    """Remembers the levels last emitted per symbol; :meth:`changed` is False for a repeat."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]] = {}

    def changed(self, book: VenueBook) -> bool:
        key = (book.bids, book.asks)
        if self._last.get(book.symbol) == key:
            return False
        self._last[book.symbol] = key
        return True

    def forget(self) -> None:
        """After a reconnect the first snapshot of every symbol is emitted again."""
        self._last.clear()


async def stream_books(
    url: str,
    *,
    opened: Callable[[aiohttp.ClientWebSocketResponse], Awaitable[Iterable[VenueBook]]],
    handle: Callable[[Any], Iterable[VenueBook]],
    backoff: Backoff,
    idle_s: float = 20.0,
    ping: str | None = None,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[VenueBook]:
    """Books from ``url`` until cancelled (see the module doc)."""
    delay = backoff.reconnect_min_s
    top = TopFilter()
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.ws_connect(url, headers=headers, autoping=True) as ws:
                    top.forget()
                    for book in await opened(ws):
                        if top.changed(book):
                            yield book
                    delay = backoff.reconnect_min_s
                    async for book in _session(ws, handle, idle_s, ping):
                        if top.changed(book):
                            yield book
                # the venue closed the session: open a new one after the least delay
                await asyncio.sleep(delay)
            except Resync:
                continue
            except Exception:  # a lost connection, a refusal, a failed snapshot: retry
                await asyncio.sleep(delay)
                delay = min(delay * 2, backoff.reconnect_max_s)


async def _session(
    ws: aiohttp.ClientWebSocketResponse,
    handle: Callable[[Any], Iterable[VenueBook]],
    idle_s: float,
    ping: str | None,
) -> AsyncIterator[VenueBook]:
    pinged = False
    while True:
        try:
            msg = await ws.receive(timeout=idle_s)
        except TimeoutError:
            if pinged:
                return  # no answer to the ping: the session is dead
            pinged = True
            if ping is not None:
                await ws.send_str(ping)
            else:
                await ws.ping()
            continue
        pinged = False
        if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            if msg.data == ping or msg.data == "pong":
                continue
            for book in handle(decode(msg.data)):
                yield book
        elif msg.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        ):
            return
