"""The fake Upbit's public order book (issue 16): ``GET /v1/orderbook?markets=KRW-BTC`` and the
public WebSocket ``/websocket/v1`` (no key) type ``orderbook``, built from the fake's own book:
the house's liquidity plus every resting (``wait``) limit order, per price.

As Upbit documents them: a request is a JSON list ``[{"ticket": ...}, {"type": "orderbook",
"codes": ["KRW-BTC.15"], "is_only_snapshot"?, "is_only_realtime"?}, {"format": "DEFAULT"}]``
(``code.count`` with count 1, 5, 15 or 30; another or none: 30); each message is the whole
top ``count`` (``orderbook_units`` of ``ask_price``/``bid_price``/``ask_size``/``bid_size``, best
first, one ask and one bid per unit), with ``total_ask_size``/``total_bid_size``, ``timestamp``
(ms), ``stream_type`` ``SNAPSHOT`` (the first) or ``REALTIME``, and ``level`` 0; numbers are JSON
numbers written exactly from the Decimals; frames are binary (UTF-8 JSON) as Upbit's are. A
message goes out when the top ``count`` changed (the book is checked after every order event
and every ``poll_s``: the house's liquidity is a plain dict the tests edit). Upbit's real book
always has ``count`` units; the fake's may have fewer levels on one side: the missing places are
``0`` price and ``0`` size. ``PING`` is answered ``{"status":"UP"}``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from atlas_oms.fakes.push_soon import PushSoon
from atlas_oms.fakes.upbit.venue import UpbitVenue

ZERO = Decimal(0)
COUNTS = (1, 5, 15, 30)
DEFAULT_COUNT = 30
EXACT = msgspec.json.Encoder(decimal_format="number")


def book_of(
    venue: UpbitVenue, market: str
) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    for (m, side, px), vol in venue.house.items():
        if m == market and vol > 0:
            book = bids if side == "bid" else asks
            book[px] = book.get(px, ZERO) + vol
    for o in venue.orders.values():
        resting = o.state == "wait" and o.ord_type == "limit" and o.remaining > 0
        if resting and o.market == market and o.price:
            book = bids if o.side == "bid" else asks
            book[o.price] = book.get(o.price, ZERO) + o.remaining
    return bids, asks


def orderbook(venue: UpbitVenue, market: str, count: int = DEFAULT_COUNT) -> dict[str, Any]:
    """One market's row of ``GET /v1/orderbook`` (the WebSocket message adds ``type``,
    ``code`` and ``stream_type``)."""
    bids, asks = book_of(venue, market)
    bid_px = sorted(bids, reverse=True)[:count]
    ask_px = sorted(asks)[:count]
    units = []
    for i in range(max(len(bid_px), len(ask_px))):
        ask = ask_px[i] if i < len(ask_px) else None
        bid = bid_px[i] if i < len(bid_px) else None
        units.append(
            {
                "ask_price": ask if ask is not None else ZERO,
                "bid_price": bid if bid is not None else ZERO,
                "ask_size": asks[ask] if ask is not None else ZERO,
                "bid_size": bids[bid] if bid is not None else ZERO,
            }
        )
    return {
        "market": market,
        "timestamp": venue.now_ms(),
        "total_ask_size": sum((asks[p] for p in ask_px), ZERO),
        "total_bid_size": sum((bids[p] for p in bid_px), ZERO),
        "orderbook_units": units,
        "level": 0,
    }


def parse_code(code: str) -> tuple[str, int]:
    """``KRW-BTC.15`` -> (``KRW-BTC``, 15); an unsupported or missing count -> 30."""
    market, _, count = code.partition(".")
    try:
        n = int(count)
    except ValueError:
        n = DEFAULT_COUNT
    return market.upper(), n if n in COUNTS else DEFAULT_COUNT


@dataclass(eq=False)
class _Sub:
    ws: web.WebSocketResponse
    codes: list[tuple[str, int]]
    realtime: bool = True
    last: dict[str, Any] = field(default_factory=dict)  # market -> units last sent


class UpbitBooks:
    """The public WebSocket and its pushes. ``poll_s``: how often the book is compared with the
    last push. ``sessions``: public sessions opened (a reconnect shows as one more)."""

    def __init__(self, venue: UpbitVenue, poll_s: float = 0.02) -> None:
        self.venue = venue
        self.poll_s = poll_s
        self.sessions = 0
        self._subs: set[_Sub] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._soon = PushSoon(self._push_changes)
        self._closing: set[asyncio.Future[Any]] = set()

    def rest(self, markets: list[str], count: int = DEFAULT_COUNT) -> list[dict[str, Any]]:
        return [orderbook(self.venue, m, count) for m in markets]

    def changed(self) -> None:
        """An order event: push the books once the operation is done."""
        if self._subs:
            self._soon.request()

    def _push_changes(self) -> None:
        for sub in list(self._subs):
            if sub.realtime and not sub.ws.closed:
                self._send(sub, "REALTIME")

    def _send(self, sub: _Sub, stream_type: str) -> None:
        for market, count in sub.codes:
            row = orderbook(self.venue, market, count)
            if stream_type == "REALTIME" and sub.last.get(market) == row["orderbook_units"]:
                continue
            sub.last[market] = row["orderbook_units"]
            msg = {
                "type": "orderbook",
                "code": market,
                "timestamp": row["timestamp"],
                "total_ask_size": row["total_ask_size"],
                "total_bid_size": row["total_bid_size"],
                "orderbook_units": row["orderbook_units"],
                "stream_type": stream_type,
                "level": 0,
            }
            task = asyncio.ensure_future(sub.ws.send_bytes(EXACT.encode(msg)))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _watch(self) -> None:
        while self._subs:
            await asyncio.sleep(self.poll_s)
            self._push_changes()
        self._watcher = None

    def drop(self) -> None:
        """Close every public session (a venue restart)."""
        for sub in list(self._subs):
            self._subs.discard(sub)
            self._closing.add(asyncio.ensure_future(sub.ws.close()))
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sessions += 1
        subs: list[_Sub] = []
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                data = msg.data if isinstance(msg.data, str) else msg.data.decode()
                if data == "PING":
                    await ws.send_str(json.dumps({"status": "UP"}))
                    continue
                try:
                    req = json.loads(data)
                    types = [r for r in req if isinstance(r, dict) and "type" in r]
                except (ValueError, TypeError):
                    await ws.send_bytes(_error("WRONG_FORMAT", "요청 형식이 올바르지 않습니다."))
                    continue
                if not any(isinstance(r, dict) and "ticket" in r for r in req):
                    await ws.send_bytes(_error("NO_TICKET", "티켓이 존재하지 않습니다."))
                    continue
                for r in types:
                    if r.get("type") != "orderbook":
                        continue
                    codes = [parse_code(str(c)) for c in r.get("codes") or ()]
                    if not codes:
                        await ws.send_bytes(_error("NO_CODES", "codes 필드가 존재하지 않습니다."))
                        continue
                    unknown = [m for m, _ in codes if m not in self.venue.markets]
                    if unknown:
                        await ws.send_bytes(_error("INVALID_PARAM", f"{unknown[0]}"))
                        continue
                    sub = _Sub(ws, codes, realtime=not r.get("is_only_snapshot"))
                    if not r.get("is_only_realtime"):
                        self._send(sub, "SNAPSHOT")
                    else:
                        for market, count in codes:
                            sub.last[market] = orderbook(self.venue, market, count)[
                                "orderbook_units"
                            ]
                    subs.append(sub)
                    self._subs.add(sub)
                    if self._watcher is None:
                        self._watcher = asyncio.ensure_future(self._watch())
        finally:
            for sub in subs:
                self._subs.discard(sub)
        return ws


def _error(name: str, message: str) -> bytes:
    return json.dumps({"error": {"name": name, "message": message}}).encode()
