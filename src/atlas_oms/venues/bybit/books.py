"""Bybit v5 public order books (issue 16, ``core/ports.py::VenueBooks``) for spot and linear.

The public stream ``<ws>/v5/public/<category>``, topic ``orderbook.{depth}.{symbol}`` with the
smallest of Bybit's depths (1, 50, 200, 1000) that covers the asked ``depth``: a ``snapshot``
after the subscription (and whenever Bybit resends one, ``u`` = 1 after a service restart: the
local book is replaced), then ``delta`` messages (size ``"0"``: the level is gone) whose ``u``
follows the last by one. A delta whose ``u`` does not follow is a gap: the connection is dropped
and made again, which brings a fresh snapshot (as does every reconnection). ``op: ping`` every
20 s keeps the connection (Bybit closes a silent one).

Decimals come from the raw JSON strings; sizes are base units (linear quantities times the
contract size, 1 on Bybit's USDT perpetuals); ``ts`` is the matching engine's time of the book
(``cts``, else the message's ``ts``), in ns; ``update_id`` is ``u``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import aiohttp

from atlas_oms.model.route_book import BookLevel, VenueBook

if TYPE_CHECKING:
    from atlas_oms.venues.bybit.adapter import BybitAdapter

log = logging.getLogger("atlas.venues.bybit.books")

DEPTHS = (1, 50, 200, 1000)
PING_S = 20.0
ZERO = Decimal(0)


def topic_depth(depth: int) -> int:
    """Bybit's orderbook depth that covers ``depth`` (1000 at most)."""
    return next((n for n in DEPTHS if n >= depth), DEPTHS[-1])


def _dec(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


class _Book:
    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.u = 0

    def apply(self, rows: Any, side: dict[Decimal, Decimal]) -> None:
        for row in rows or ():
            price, qty = _dec(row[0]), _dec(row[1])
            if price is None or qty is None:
                continue
            if qty == 0:
                side.pop(price, None)
            else:
                side[price] = qty


class _Gap(Exception):
    """A delta's ``u`` does not follow the last: resubscribe for a fresh snapshot."""


class BybitBooks:
    """One ``books()`` run of an adapter: the connection loop and the local book per symbol."""

    def __init__(
        self, adapter: BybitAdapter, symbols: list[str], depth: int, now_ns: Callable[[], int]
    ) -> None:
        self.a = adapter
        self.now_ns = now_ns
        self.depth = max(1, min(depth, DEPTHS[-1]))
        self.topic_depth = topic_depth(self.depth)
        self.by_venue = {adapter.venue_symbol(s): s for s in symbols}
        self.multiplier: dict[str, Decimal] = {}
        self.books: dict[str, _Book] = {}
        self.last: dict[str, tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]] = {}

    def url(self) -> str:
        return f"{self.a.endpoints.ws_url.rstrip('/')}/v5/public/{self.a.category}"

    def _levels(
        self, side: dict[Decimal, Decimal], bids: bool, mult: Decimal
    ) -> tuple[BookLevel, ...]:
        prices = sorted(side, reverse=bids)[: self.depth]
        return tuple(BookLevel(p, side[p] * mult) for p in prices)

    def on_message(self, message: dict[str, Any]) -> VenueBook | None:
        """The book after one ``orderbook`` message, None when nothing to yield; raises
        :class:`_Gap` on a delta that does not follow."""
        topic = str(message.get("topic", ""))
        data = message.get("data")
        if not topic.startswith("orderbook.") or not isinstance(data, dict):
            return None
        venue_symbol = str(data.get("s") or topic.rsplit(".", 1)[-1])
        if venue_symbol not in self.by_venue:
            return None
        u = int(data.get("u") or 0)
        kind = message.get("type")
        book = self.books.get(venue_symbol)
        if kind == "snapshot":
            book = self.books[venue_symbol] = _Book()
        elif kind == "delta":
            if book is None or u != book.u + 1:
                raise _Gap(f"{venue_symbol}: delta u={u} after u={book.u if book else None}")
        else:
            return None
        book.apply(data.get("b"), book.bids)
        book.apply(data.get("a"), book.asks)
        book.u = u
        mult = self.multiplier.get(venue_symbol, Decimal(1))
        bids, asks = self._levels(book.bids, True, mult), self._levels(book.asks, False, mult)
        if kind == "delta" and self.last.get(venue_symbol) == (bids, asks):
            return None  # a change below the asked depth
        self.last[venue_symbol] = (bids, asks)
        ms = message.get("cts") or message.get("ts")
        try:
            ts = int(ms) * 1_000_000 if ms else self.now_ns()
        except (TypeError, ValueError):
            ts = self.now_ns()
        return VenueBook(
            venue=self.a.venue,
            symbol=self.by_venue[venue_symbol],
            bids=bids,
            asks=asks,
            ts=ts,
            update_id=u,
        )

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            await asyncio.sleep(PING_S)
            await ws.send_str(json.dumps({"op": "ping"}))

    async def run(self) -> AsyncIterator[VenueBook]:
        a = self.a
        with contextlib.suppress(Exception):
            for vi in await a.instruments():
                self.multiplier[vi.venue_symbol] = vi.instrument.multiplier
        topics = [f"orderbook.{self.topic_depth}.{s}" for s in self.by_venue]
        delay = a.reconnect_min_s
        async with aiohttp.ClientSession() as session:
            while True:
                pinger: asyncio.Task[None] | None = None
                try:
                    async with session.ws_connect(self.url()) as ws:
                        self.books.clear()
                        self.last.clear()
                        await ws.send_str(json.dumps({"op": "subscribe", "args": topics}))
                        pinger = asyncio.create_task(self._ping(ws))
                        async for msg in ws:
                            if msg.type != aiohttp.WSMsgType.TEXT:
                                if msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                                    break
                                continue
                            try:
                                message = json.loads(msg.data)
                            except ValueError:
                                continue
                            if not isinstance(message, dict):
                                continue
                            if message.get("op") == "subscribe" and not message.get("success"):
                                log.warning("%s order book subscription: %s", a.venue, message)
                            book = self.on_message(message)
                            if book is not None:
                                delay = a.reconnect_min_s
                                yield book
                except asyncio.CancelledError:
                    raise
                except _Gap as gap:
                    log.info("%s order book gap, resynchronising: %s", a.venue, gap)
                    delay = 0.0
                except Exception as exc:  # a lost connection: reconnect
                    log.warning("%s order book stream: %s", a.venue, exc)
                finally:
                    if pinger is not None:
                        pinger.cancel()
                        with contextlib.suppress(BaseException):
                            await pinger
                await asyncio.sleep(delay)
                delay = min(max(delay, a.reconnect_min_s) * 2, a.reconnect_max_s)
