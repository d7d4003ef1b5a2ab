"""Binance public order books (issue 16, ``core/ports.py::VenueBooks``) for spot and USDⓈ-M.

The partial book depth stream ``<symbol>@depth<5|10|20>@100ms`` sends the whole top N at each
push, so no diff has to be kept: each message is a book. The adapter takes the smallest of 5, 10
and 20 levels that covers ``depth`` (more than 20 levels: 20, the stream's most) on the combined
stream endpoint (``<ws base>/stream?streams=...``: each message names its stream, which spot's
payload does not), and after each (re)connection reads ``GET /api/v3/depth`` /
``GET /fapi/v1/depth`` (the stream pushes on changes only: a quiet book would have none). A
message is used only when its update id (spot ``lastUpdateId``, USDⓈ-M ``u``) is newer than the
last book of the symbol, so the REST snapshot and a stream message racing it keep their order.

Decimals come from the raw JSON strings; sizes are base units (USDⓈ-M quantities times the
contract size, 1 on Binance's linear contracts); ``ts`` is the venue's event time (USDⓈ-M ``E``;
spot partial depth carries no time: the receipt time, as ``VenueBook`` allows).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import aiohttp

from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.venues.binance import parse as p

if TYPE_CHECKING:
    from atlas_oms.venues.binance.adapter import BinanceAdapter

log = logging.getLogger("atlas.venues.binance.books")

PARTIAL_LEVELS = (5, 10, 20)
#: ``GET /fapi/v1/depth`` takes these limits only.
FUTURES_LIMITS = (5, 10, 20, 50, 100, 500, 1000)


def stream_levels(depth: int) -> int:
    """The partial depth stream's level count that covers ``depth`` (20 at most)."""
    return next((n for n in PARTIAL_LEVELS if n >= depth), PARTIAL_LEVELS[-1])


def combined_url(ws_url: str, streams: list[str]) -> str:
    """``wss://stream.binance.com:9443/ws`` -> ``wss://stream.binance.com:9443/stream?streams=a/b``."""
    base = ws_url.rstrip("/")
    if base.endswith("/ws"):
        base = base[: -len("/ws")]
    return f"{base}/stream?streams={'/'.join(streams)}"


def side_levels(rows: Any, depth: int, multiplier: Decimal) -> tuple[BookLevel, ...]:
    out: list[BookLevel] = []
    for row in rows or ():
        if len(out) >= depth:
            break
        qty = p.dec(row[1]) * multiplier
        if qty > 0:
            out.append(BookLevel(p.dec(row[0]), qty))
    return tuple(out)


class BinanceBooks:
    """One ``books()`` run of an adapter: the connection loop and the last book per symbol."""

    def __init__(
        self,
        adapter: BinanceAdapter,
        symbols: list[str],
        depth: int,
        get: Callable[[str, dict[str, Any]], Awaitable[Any]],
        now_ns: Callable[[], int],
    ) -> None:
        self.a = adapter
        self.get = get
        self.now_ns = now_ns
        self.levels = stream_levels(depth)
        self.depth = max(1, min(depth, self.levels))
        self.by_venue = {adapter.venue_symbol(s): s for s in symbols}
        self.multiplier: dict[str, Decimal] = {}
        self.last_id: dict[str, int] = {}

    def _book(self, venue_symbol: str, raw: dict[str, Any], ts: int) -> VenueBook | None:
        """A book from a REST snapshot or a stream payload, None when not newer than the last."""
        futures = "e" in raw
        update_id = int((raw.get("u") if futures else raw.get("lastUpdateId")) or 0)
        if update_id <= self.last_id.get(venue_symbol, -1):
            return None
        self.last_id[venue_symbol] = update_id
        mult = self.multiplier.get(venue_symbol, Decimal(1))
        return VenueBook(
            venue=self.a.venue,
            symbol=self.by_venue[venue_symbol],
            bids=side_levels(raw.get("b" if futures else "bids"), self.depth, mult),
            asks=side_levels(raw.get("a" if futures else "asks"), self.depth, mult),
            ts=ts,
            update_id=update_id,
        )

    async def _snapshot(self, venue_symbol: str) -> VenueBook | None:
        if self.a.futures:
            limit = next(n for n in FUTURES_LIMITS if n >= self.depth)
            raw = await self.get("fapiPublicGetDepth", {"symbol": venue_symbol, "limit": limit})
            ts = p.ms_to_ns(raw.get("E")) or self.now_ns()
            raw = {
                "e": "depthUpdate",
                "u": raw.get("lastUpdateId"),
                "b": raw.get("bids"),
                "a": raw.get("asks"),
            }
        else:
            raw = await self.get("publicGetDepth", {"symbol": venue_symbol, "limit": self.depth})
            ts = self.now_ns()
        return self._book(venue_symbol, raw, ts)

    def _message(self, text: str) -> VenueBook | None:
        try:
            message = json.loads(text)
        except ValueError:
            return None
        if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
            return None
        stream = str(message.get("stream", ""))
        venue_symbol = stream.split("@", 1)[0].upper()
        if venue_symbol not in self.by_venue:
            return None
        data = message["data"]
        ts = p.ms_to_ns(data.get("E")) if "e" in data else 0
        return self._book(venue_symbol, data, ts or self.now_ns())

    async def run(self) -> AsyncIterator[VenueBook]:
        a = self.a
        with contextlib.suppress(Exception):
            for vi in await a.instruments():
                self.multiplier[vi.venue_symbol] = vi.instrument.multiplier
        streams = [f"{s.lower()}@depth{self.levels}@100ms" for s in self.by_venue]
        url = combined_url(a.endpoints.ws_url, streams)
        delay = a.reconnect_min_s
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.ws_connect(url, heartbeat=a.heartbeat_s) as ws:
                        # a fresh book of every symbol after each (re)connection
                        for venue_symbol in self.by_venue:
                            self.last_id.pop(venue_symbol, None)
                            book = await self._snapshot(venue_symbol)
                            if book is not None:
                                yield book
                        delay = a.reconnect_min_s
                        async for msg in ws:
                            if msg.type != aiohttp.WSMsgType.TEXT:
                                if msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                                    break
                                continue
                            book = self._message(msg.data)
                            if book is not None:
                                yield book
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a lost connection or a failed snapshot: reconnect
                    log.warning("%s order book stream: %s", a.venue, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, a.reconnect_max_s)
