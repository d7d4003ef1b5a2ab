"""WebSocket connections shared by the spot and USDⓈ-M dialects: one connection with an ordered
writer (``Conn``), and ``WsStreams``, the base of a set of connections: accepting one (session
gauge, access log), reading its JSON messages, Binance's ``SUBSCRIBE`` / ``UNSUBSCRIBE`` /
``LIST_SUBSCRIPTIONS`` control protocol, and closing all at stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from atlas_oms.binance_api.durable_push import Send
from atlas_oms.binance_api.server import INTERFACE, dumps

if TYPE_CHECKING:
    from atlas_oms.binance_api.server import Dialect
    from atlas_oms.binance_api.table import Call

#: Messages waiting for one connection before it is closed as too slow.
QUEUE_LIMIT = 10_000


class Conn:
    """One WebSocket with an ordered writer."""

    def __init__(self, ws: web.WebSocketResponse, kind: str) -> None:
        self.ws = ws
        self.kind = kind  # "public" | "wsapi"
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.streams: set[str] = set()
        self.combined = False
        #: ws-api: subscriptionId -> account, and the sender attached to the user stream.
        self.subs: dict[int, str] = {}
        self.senders: dict[int, Send] = {}
        #: A listenKey socket: (listenKey, account, sender).
        self.listen: tuple[str, str, Send] | None = None
        self._close_when_sent = False
        self.writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        while True:
            item = await self.queue.get()
            if item is None or self.ws.closed:
                if item is None and self._close_when_sent and not self.ws.closed:
                    await self.ws.close()
                return
            try:
                await self.ws.send_str(item)
            except (ConnectionError, RuntimeError):
                return

    def send(self, payload: Any) -> None:
        if self.queue.qsize() > QUEUE_LIMIT:
            self.queue.put_nowait(None)
            asyncio.get_running_loop().create_task(self.ws.close(code=1008, message=b"too slow"))
            return
        self.queue.put_nowait(dumps(payload))

    def finish(self) -> None:
        """Close the connection once what is queued has been sent."""
        self._close_when_sent = True
        self.queue.put_nowait(None)

    def publish(self, stream: str, payload: Any) -> None:
        if stream in self.streams:
            self.send({"stream": stream, "data": payload} if self.combined else payload)


class WsStreams:
    """A dialect's set of connections. Subclasses say what a message does (``on_message``),
    what subscribing a stream does (``subscribe``) and what leaving does (``on_close``)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.conns: set[Conn] = set()
        dialect.extras.setdefault("on_stop", []).append(self.close_all)

    async def close_all(self) -> None:
        for conn in list(self.conns):
            conn.queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await conn.ws.close()
        self.conns.clear()

    async def run(self, call: Call, kind: str, log_kind: str) -> web.StreamResponse:
        """Accept the WebSocket of ``call`` and read it until it closes. Streams named in the
        path (``/ws/<stream>``) are subscribed at once."""
        request = call.request
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        conn = Conn(ws, kind)
        self.opened(conn, request.path.rstrip("/"), request.query)
        self.conns.add(conn)
        sessions = self.dialect.service.metrics.api_sessions.labels(INTERFACE)
        sessions.inc()
        start = time.perf_counter()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    conn.send({"error": {"code": -1000, "msg": "Malformed request."}, "id": None})
                    continue
                if isinstance(data, dict):
                    await self.on_message(conn, call, data)
        finally:
            sessions.dec()
            self.on_close(conn)
            self.conns.discard(conn)
            conn.queue.put_nowait(None)
            self.dialect.log_session(call, log_kind, time.perf_counter() - start)
        return ws

    def opened(self, conn: Conn, path: str, query: Any) -> None:
        """A new connection on ``path``: by default the streams named in it (``/ws/<s>/<s>``)."""
        tail = path.rsplit("/", 1)[-1]
        if "@" in tail:
            self.subscribe(conn, tail.split("/"))

    async def on_message(self, conn: Conn, call: Call, data: dict[str, Any]) -> None:
        self.control(conn, data)

    def on_close(self, conn: Conn) -> None:
        """The connection ended (nothing by default)."""

    def subscribe(self, conn: Conn, streams: Iterable[str]) -> None:
        for name in streams:
            name = name.strip()
            if name:
                conn.streams.add(name)

    def control(self, conn: Conn, data: dict[str, Any]) -> None:
        """Binance's stream control messages (the answer goes before what subscribing sends)."""
        method = data.get("method")
        params = [str(p) for p in data.get("params") or []]
        rid = data.get("id")
        if method == "SUBSCRIBE":
            conn.send({"result": None, "id": rid})
            self.subscribe(conn, params)
        elif method == "UNSUBSCRIBE":
            conn.streams.difference_update(params)
            conn.send({"result": None, "id": rid})
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send({"result": sorted(conn.streams), "id": rid})
        else:
            conn.send(
                {
                    "error": {"code": 2, "msg": f"Invalid request: unknown method {method}"},
                    "id": rid,
                }
            )


__all__ = ["QUEUE_LIMIT", "Conn", "WsStreams"]
