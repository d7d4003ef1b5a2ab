"""The fake Alpaca's real-time stock data stream (issue 16): ``/v2/{feed}`` (``iex``, ``sip``,
``delayed_sip``, ``test``: Alpaca's ``wss://stream.data.alpaca.markets/v2/{feed}``) on the fake's
data server, with the ``quotes`` subscription, built from the fake's NBBO
(:meth:`FakeAlpacaVenue.quote`: the house's liquidity plus resting limit orders, sizes in round
lots).

As Alpaca's market data stream v2 documents it: every server message is a JSON **array** of
objects in a text frame; on connect ``[{"T":"success","msg":"connected"}]``; the client sends
``{"action":"auth","key":...,"secret":...}`` within 10 s (``[{"T":"success","msg":
"authenticated"}]``, else ``[{"T":"error","code":402,"msg":"auth failed"}]`` and the close), then
``{"action":"subscribe","quotes":["AAPL"]}`` (answered with the ``subscription`` message listing
every channel). A quote is ``{"T":"q","S":"AAPL","bx","bp","bs","ax","ap","as","c","z","t"}``
(prices and sizes JSON numbers, ``t`` RFC 3339 with ns). One goes out when a subscribed
symbol's NBBO changed (checked after every order event and every ``poll_s``: the tests edit the
house's liquidity directly); the stream sends no snapshot (the latest quote is REST's).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from atlas_oms.fakes.alpaca.venue import FakeAlpacaVenue
from atlas_oms.fakes.push_soon import PushSoon

FEEDS = ("iex", "sip", "delayed_sip", "test", "boats", "overnight")
EXACT = msgspec.json.Encoder(decimal_format="number")
CHANNELS = (
    "trades",
    "quotes",
    "bars",
    "updatedBars",
    "dailyBars",
    "statuses",
    "lulds",
    "corrections",
    "cancelErrors",
)


@dataclass(eq=False)
class _Sub:
    ws: web.WebSocketResponse
    quotes: set[str] = field(default_factory=set)
    last: dict[str, tuple[Any, ...]] = field(default_factory=dict)


class AlpacaQuotes:
    """The data stream. ``sessions``: stream sessions opened (a reconnect is one more)."""

    def __init__(self, venue: FakeAlpacaVenue, poll_s: float = 0.02) -> None:
        self.venue = venue
        self.poll_s = poll_s
        self.sessions = 0
        self._subs: set[_Sub] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._soon = PushSoon(self._push_changes)
        self._tasks: set[asyncio.Future[Any]] = set()

    def changed(self) -> None:
        """An order event: push the quotes that changed once the operation is done."""
        if self._subs:
            self._soon.request()

    def _push_changes(self) -> None:
        for sub in list(self._subs):
            if sub.ws.closed:
                continue
            out = []
            for symbol in sorted(sub.quotes):
                q = self.venue.quote(symbol)
                key = (q["bp"], q["bs"], q["ap"], q["as"])
                if sub.last.get(symbol) == key:
                    continue
                sub.last[symbol] = key
                out.append({"T": "q", "S": symbol, **q})
            if out:
                self._send(sub.ws, out)

    def _send(self, ws: web.WebSocketResponse, messages: list[dict[str, Any]]) -> None:
        task = asyncio.ensure_future(ws.send_str(EXACT.encode(messages).decode()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch(self) -> None:
        while self._subs:
            await asyncio.sleep(self.poll_s)
            self._push_changes()
        self._watcher = None

    def drop(self) -> None:
        """Close every data stream session (a venue restart)."""
        for sub in list(self._subs):
            self._subs.discard(sub)
            self._send_close(sub.ws)
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None

    def _send_close(self, ws: web.WebSocketResponse) -> None:
        task = asyncio.ensure_future(ws.close())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def websocket(self, request: web.Request, feed: str) -> web.StreamResponse:
        if feed not in FEEDS:
            return web.json_response({"code": 404, "message": "not found"}, status=404)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sessions += 1
        await ws.send_str('[{"T":"success","msg":"connected"}]')
        sub = _Sub(ws)
        authed = False
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                try:
                    body = json.loads(msg.data)
                    action = body.get("action")
                except (ValueError, AttributeError):
                    await ws.send_str('[{"T":"error","code":400,"msg":"invalid syntax"}]')
                    continue
                if action == "auth":
                    acct = self.venue.account_by_key(
                        str(body.get("key", "")), str(body.get("secret", ""))
                    )
                    if acct is None:
                        await ws.send_str('[{"T":"error","code":402,"msg":"auth failed"}]')
                        break
                    authed = True
                    await ws.send_str('[{"T":"success","msg":"authenticated"}]')
                elif action in ("subscribe", "unsubscribe"):
                    if not authed:
                        await ws.send_str('[{"T":"error","code":401,"msg":"not authenticated"}]')
                        continue
                    symbols = {str(s) for s in body.get("quotes") or ()}
                    if action == "subscribe":
                        sub.quotes |= symbols
                        for symbol in symbols:
                            sub.last.pop(symbol, None)
                    else:
                        sub.quotes -= symbols
                    answer: dict[str, Any] = {"T": "subscription"}
                    answer.update({c: [] for c in CHANNELS})
                    answer["quotes"] = sorted(sub.quotes)
                    await ws.send_str(json.dumps([answer]))
                    # the stream sends changes only: the quote as it is now is the baseline
                    for symbol in sub.quotes:
                        if symbol not in sub.last:
                            q = self.venue.quote(symbol)
                            sub.last[symbol] = (q["bp"], q["bs"], q["ap"], q["as"])
                    self._subs.add(sub)
                    if self._watcher is None:
                        self._watcher = asyncio.ensure_future(self._watch())
                else:
                    await ws.send_str('[{"T":"error","code":400,"msg":"invalid syntax"}]')
        finally:
            self._subs.discard(sub)
        return ws
