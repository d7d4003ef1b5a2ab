"""The fake Bybit's public order book (issue 16): ``GET /v5/market/orderbook`` and the public
WebSocket topic ``orderbook.{depth}.{symbol}`` on ``/v5/public/{category}``, built from the
fake's own book (house quotes and every resting order).

As Bybit v5 documents them:

- REST ``result``: ``{"s", "a", "b", "ts", "u", "seq", "cts"}``, ``limit`` spot 1..200
  (default 1), linear 1..500 (default 25);
- the topic (depths 1, 50, 200 and 1000): a ``snapshot`` right after the subscription, then a
  ``delta`` per change (the changed levels of the top ``depth``; size ``"0"``: the level left);
  depth 1 sends snapshots only. Each message: ``{"topic", "type", "ts", "data": {"s", "b", "a",
  "u", "seq"}, "cts"}``; ``u`` is the topic's update id (consecutive), ``seq`` the book's cross
  sequence. After a service restart Bybit sends a snapshot with ``u`` = 1 (:meth:`restart`).

Knobs: :attr:`PublicBooks.drop_deltas` (the next N deltas are lost: the client sees a gap in
``u``), :meth:`PublicBooks.restart` and :meth:`PublicBooks.drop_connections`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from atlas_oms.fakes.bybit.venue import BybitError, num

if TYPE_CHECKING:
    from atlas_oms.fakes.bybit.venue import FakeBybitVenue

DEPTHS = (1, 50, 200, 1000)
REST_LIMITS = {"spot": (1, 200, 1), "linear": (1, 500, 25)}

Side = list[tuple[Decimal, Decimal]]


def levels(venue: FakeBybitVenue, category: str, symbol: str) -> tuple[Side, Side]:
    """(bids best first, asks best first): every open limit order's leaves by price."""
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    for o in venue.orders.values():
        if not o.open or o.category != category or o.symbol != symbol or o.order_type != "Limit":
            continue
        side = bids if o.side == "Buy" else asks
        side[o.price] = side.get(o.price, Decimal(0)) + o.leaves
    return (
        sorted(((p, q) for p, q in bids.items() if q > 0), reverse=True),
        sorted((p, q) for p, q in asks.items() if q > 0),
    )


def _rows(side: Side) -> list[list[str]]:
    return [[num(p), num(q)] for p, q in side]


def _diff(old: Side, new: Side) -> Side:
    before, after = dict(old), dict(new)
    changed = [(p, q) for p, q in new if before.get(p) != q]
    return changed + [(p, Decimal(0)) for p, _ in old if p not in after]


class _Topic:
    def __init__(self, category: str, symbol: str, depth: int) -> None:
        self.category = category
        self.symbol = symbol
        self.depth = depth
        self.u = 0
        self.last: tuple[Side, Side] = ([], [])


class _PublicConn:
    def __init__(self, ws: web.WebSocketResponse, category: str) -> None:
        self.ws = ws
        self.category = category
        self.topics: set[str] = set()
        self._out: asyncio.Queue[str | None] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        while True:
            text = await self._out.get()
            if text is None or self.ws.closed:
                return
            with contextlib.suppress(Exception):
                await self.ws.send_str(text)

    def send(self, payload: Any) -> None:
        self._out.put_nowait(json.dumps(payload))

    def stop_writing(self) -> None:
        self._out.put_nowait(None)

    async def close(self) -> None:
        self.stop_writing()
        with contextlib.suppress(Exception):
            await self.ws.close()


class PublicBooks:
    """The public WebSocket connections and the order book topics of one fake Bybit."""

    def __init__(self, venue: FakeBybitVenue) -> None:
        self.venue = venue
        self.conns: list[_PublicConn] = []
        self.topics: dict[str, _Topic] = {}
        #: (category, symbol) -> cross sequence (one per change of the book).
        self.seq: dict[tuple[str, str], int] = {}
        #: The next N deltas are computed (``u`` advances) but sent to nobody.
        self.drop_deltas = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ REST
    def rest(self, query: Any) -> dict[str, Any]:
        """``GET /v5/market/orderbook``'s ``result`` (raises :class:`BybitError`)."""
        category = str(query.get("category", ""))
        if category not in REST_LIMITS:
            raise BybitError(10001, "params error: category invalid")
        symbol = str(query.get("symbol", ""))
        self.venue.spec(category, symbol)
        low, high, default = REST_LIMITS[category]
        try:
            limit = int(query.get("limit", default))
        except ValueError:
            raise BybitError(10001, "params error: limit invalid") from None
        if not low <= limit <= high:
            raise BybitError(10001, "params error: limit invalid")
        bids, asks = levels(self.venue, category, symbol)
        now = self.venue.now_ms()
        return {
            "s": symbol,
            "a": _rows(asks[:limit]),
            "b": _rows(bids[:limit]),
            "ts": now,
            "u": self.seq.get((category, symbol), 0) + 1,
            "seq": self.seq.get((category, symbol), 0),
            "cts": now,
        }

    # ------------------------------------------------------------------ stream
    def _message(self, topic: _Topic, kind: str, bids: Side, asks: Side) -> dict[str, Any]:
        now = self.venue.now_ms()
        return {
            "topic": f"orderbook.{topic.depth}.{topic.symbol}",
            "type": kind,
            "ts": now,
            "data": {
                "s": topic.symbol,
                "b": _rows(bids),
                "a": _rows(asks),
                "u": topic.u,
                "seq": self.seq.get((topic.category, topic.symbol), 0),
            },
            "cts": now,
        }

    def _subscribe(self, conn: _PublicConn, name: str) -> bool:
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != "orderbook" or not parts[1].isdigit():
            return False
        depth, symbol = int(parts[1]), parts[2]
        if depth not in DEPTHS or (conn.category, symbol) not in _specs():
            return False
        key = f"{conn.category}:{name}"
        topic = self.topics.get(key)
        if topic is None:
            topic = self.topics[key] = _Topic(conn.category, symbol, depth)
            bids, asks = levels(self.venue, conn.category, symbol)
            topic.last = (bids[:depth], asks[:depth])
            topic.u = 1
        conn.topics.add(name)
        conn.send(self._message(topic, "snapshot", *topic.last))
        return True

    def changed(self, category: str, symbol: str) -> None:
        """The book of ``symbol`` may have changed: a delta (or a depth-1 snapshot) to the
        subscribers of each topic whose top levels did."""
        bids, asks = levels(self.venue, category, symbol)
        moved = False
        for key, topic in self.topics.items():
            if (topic.category, topic.symbol) != (category, symbol):
                continue
            new = (bids[: topic.depth], asks[: topic.depth])
            if new == topic.last:
                continue
            if not moved:
                moved = True
                self.seq[(category, symbol)] = self.seq.get((category, symbol), 0) + 1
            old, topic.last = topic.last, new
            topic.u += 1
            if topic.depth == 1:
                message = self._message(topic, "snapshot", *new)
            else:
                if self.drop_deltas > 0:
                    self.drop_deltas -= 1
                    continue
                message = self._message(
                    topic, "delta", _diff(old[0], new[0]), _diff(old[1], new[1])
                )
            name = key.split(":", 1)[1]
            for conn in self.conns:
                if conn.category == category and name in conn.topics:
                    conn.send(message)

    def restart(self) -> None:
        """A service restart: every topic's ``u`` starts again at 1 with a snapshot."""
        for key, topic in self.topics.items():
            bids, asks = levels(self.venue, topic.category, topic.symbol)
            topic.last = (bids[: topic.depth], asks[: topic.depth])
            topic.u = 1
            name = key.split(":", 1)[1]
            for conn in self.conns:
                if conn.category == topic.category and name in conn.topics:
                    conn.send(self._message(topic, "snapshot", *topic.last))

    def drop_connections(self) -> None:
        for conn in list(self.conns):
            self.conns.remove(conn)
            task = asyncio.get_running_loop().create_task(conn.close())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """``/v5/public/{category}``: ``ping``, ``subscribe`` and ``unsubscribe``."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _PublicConn(ws, request.match_info.get("category", "spot"))
        self.conns.append(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                op = data.get("op")
                if op == "ping":
                    conn.send({"success": True, "ret_msg": "pong", "op": "ping"})
                elif op in ("subscribe", "unsubscribe"):
                    args = [str(a) for a in data.get("args") or ()]
                    ack: dict[str, Any] = {
                        "success": True,
                        "ret_msg": "",
                        "op": op,
                        "req_id": data.get("req_id"),
                    }
                    if op == "unsubscribe":
                        conn.topics.difference_update(args)
                        conn.send(ack)
                        continue
                    # the answer first, then each topic's snapshot (as Bybit does)
                    bad = [a for a in args if a.startswith("orderbook.") and not _valid(conn, a)]
                    if bad:
                        ack.update(success=False, ret_msg=f"Invalid topic: {bad[0]}")
                    conn.send(ack)
                    for name in args:
                        if name.startswith("orderbook.") and name not in bad:
                            self._subscribe(conn, name)
                        elif not name.startswith("orderbook."):
                            conn.topics.add(name)
        finally:
            if conn in self.conns:
                self.conns.remove(conn)
            conn.stop_writing()
        return ws


def _specs() -> set[tuple[str, str]]:
    from atlas_oms.fakes.bybit.venue import SPECS

    return set(SPECS)


def _valid(conn: _PublicConn, name: str) -> bool:
    parts = name.split(".")
    return (
        len(parts) == 3
        and parts[1].isdigit()
        and int(parts[1]) in DEPTHS
        and (conn.category, parts[2]) in _specs()
    )
