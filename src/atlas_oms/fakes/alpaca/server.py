"""The fake Alpaca on 127.0.0.1: Trading API v2 REST and the ``trade_updates`` stream on one
aiohttp server, for the real alpaca-py ``TradingClient`` and ``TradingStream``.

- Auth for real: every REST call must carry ``APCA-API-KEY-ID`` and ``APCA-API-SECRET-KEY`` of a
  configured account (else 401 ``{"code":40110000,"message":"request is not authorized"}``); the
  stream's first message must be ``{"action":"authenticate","data":{"key_id","secret_key"}}``.
- The stream answers in **binary** frames holding JSON (as the paper stream does);
  alpaca-py's ``json.loads`` takes bytes.
- Errors are Alpaca's ``{"code": N, "message": "..."}``; a duplicate client order id is
  ``422 {"code":40010001,"message":"client_order_id must be unique"}``.
- Market data (``data_url`` = this server): ``/v2/stocks/snapshots``,
  ``/v2/stocks/{symbol}/snapshot``, ``…/trades/latest``, ``…/quotes/latest``,
  ``/v2/stocks/quotes/latest?symbols=`` with the NBBO of the fake's book (sizes in round lots)
  and the last execution; prices are JSON **numbers** written exactly from Decimals (as
  Alpaca's data API sends them). Metered apart from the trading API. The real-time data stream
  ``/v2/{feed}`` (``quotes``) is :mod:`.quotes`.
- :class:`Faults` holds the knobs (held, dropped or 504/500 answers to places and changes,
  half-open stream, duplicate events, visibility lag, a low request limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from atlas_oms.fakes.alpaca.quotes import FEEDS, AlpacaQuotes
from atlas_oms.fakes.alpaca.venue import (
    Account,
    AlpacaError,
    Asset,
    FakeAlpacaVenue,
    Order,
    num,
    rfc3339,
)

API_ERROR_UNAUTHORIZED = (401, 40110000, "request is not authorized")
NOT_FOUND = (404, 40410000, "order not found")


@dataclass
class Faults:
    #: Places: ``delay``: committed, reply held ``delay_s``; ``drop``: committed, connection
    #: closed; ``fail_after``: committed, then 504; ``fail_before``: 500, not committed.
    delay_places: int = 0
    drop_places: int = 0
    fail_places_after: int = 0
    fail_places_before: int = 0
    #: The same for changes, keyed ``cancel``/``amend``.
    delay_changes: dict[str, int] = field(default_factory=dict)
    drop_changes: dict[str, int] = field(default_factory=dict)
    fail_changes_after: dict[str, int] = field(default_factory=dict)
    fail_changes_before: dict[str, int] = field(default_factory=dict)
    delay_s: float = 0.0
    half_open: bool = False
    duplicate_events: bool = False
    visibility_lag_s: float = 0.0
    fill_on_subscribe: list[str] = field(default_factory=list)
    #: The next cancel finds its order filled (in full) just before it arrives.
    cancel_races_fill: int = 0
    #: Fill queries return only executions younger than this (0: all).
    fill_history_s: float = 0.0


@dataclass
class Limits:
    #: Requests per window per account (Alpaca: 200 per minute).
    requests_per_window: int = 200
    window_s: float = 60.0


class _Conn:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.account: str | None = None
        self.listening = False
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def writer(self) -> None:
        while True:
            frame = await self.queue.get()
            if frame is None:
                return
            with contextlib.suppress(Exception):
                await self.ws.send_bytes(frame)


#: Market data answers: Decimals as JSON numbers, digit for digit.
_EXACT_JSON = msgspec.json.Encoder(decimal_format="number")


def _error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status, headers=headers)


class FakeAlpaca:
    def __init__(
        self,
        accounts: list[Account],
        assets: list[Asset] | None = None,
        *,
        last_price: Decimal = Decimal("150"),
        faults: Faults | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.venue = FakeAlpacaVenue(
            accounts, assets or [Asset("AAPL", "Apple Inc. Common Stock")], last_price
        )
        self.venue.push = self._push
        self.quotes = AlpacaQuotes(self.venue)
        self.faults = faults or Faults()
        self.limits = limits or Limits()
        self.port = 0
        self.throttled = False
        self._runner: web.AppRunner | None = None
        self._conns: set[_Conn] = set()
        self._requests: dict[str, list[float]] = {}

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stream_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream"

    # ------------------------------------------------------------------ life
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        self.quotes.drop()
        for conn in list(self._conns):
            conn.queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def drop_streams(self) -> None:
        """Close every stream connection (as a venue restart would)."""
        for conn in list(self._conns):
            conn.queue.put_nowait(None)
            asyncio.get_running_loop().create_task(conn.ws.close())
            self._conns.discard(conn)

    def end_stream_sessions(self, account: str) -> None:
        """The venue ends the account's stream sessions (a key regenerated in the dashboard, a
        second connection taking the slot): an ``unauthorized`` message, then a close."""
        for conn in list(self._conns):
            if conn.account != account:
                continue
            conn.listening = False
            frame = {
                "stream": "authorization",
                "data": {"status": "unauthorized", "action": "listen"},
            }
            conn.queue.put_nowait(json.dumps(frame).encode())
            conn.queue.put_nowait(None)
            self._conns.discard(conn)
            asyncio.get_running_loop().create_task(self._close_later(conn))

    async def _close_later(self, conn: _Conn) -> None:
        await asyncio.sleep(0.01)
        with contextlib.suppress(Exception):
            await conn.ws.close()

    # ------------------------------------------------------------------ stream out
    def _push(self, account: str, data: dict[str, Any]) -> None:
        self.quotes.changed()
        if self.faults.half_open:
            return
        frame = json.dumps({"stream": "trade_updates", "data": data}).encode()
        for conn in self._conns:
            if conn.account == account and conn.listening:
                conn.queue.put_nowait(frame)
                if self.faults.duplicate_events and data.get("event") in ("fill", "partial_fill"):
                    conn.queue.put_nowait(frame)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        conn = _Conn(ws)
        writer = asyncio.get_running_loop().create_task(conn.writer())
        self._conns.add(conn)

        def say(stream: str, data: dict[str, Any]) -> None:
            conn.queue.put_nowait(json.dumps({"stream": stream, "data": data}).encode())

        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    body = json.loads(msg.data)
                    action, data = body.get("action"), body.get("data") or {}
                except (ValueError, AttributeError):
                    say("error", {"error": "invalid syntax"})
                    continue
                if action == "authenticate":
                    acct = self.venue.account_by_key(
                        str(data.get("key_id", "")), str(data.get("secret_key", ""))
                    )
                    conn.account = acct.name if acct else None
                    status = "authorized" if acct else "unauthorized"
                    say("authorization", {"status": status, "action": "authenticate"})
                    if acct is None:
                        break
                elif action == "listen":
                    if conn.account is None:
                        say("authorization", {"status": "unauthorized", "action": "listen"})
                        break
                    streams = list(data.get("streams") or [])
                    conn.listening = "trade_updates" in streams
                    say("listening", {"streams": streams})
                    await asyncio.sleep(0)
                    while self.faults.fill_on_subscribe:
                        cid = self.faults.fill_on_subscribe.pop(0)
                        order = self.venue.by_client(conn.account, cid)
                        if order is not None and order.is_open:
                            self.venue.fill(order, order.leaves)
        finally:
            self._conns.discard(conn)
            conn.queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await writer
        return ws

    # ------------------------------------------------------------------ REST plumbing
    def _limit(self, account: str) -> dict[str, str] | None:
        now = time.monotonic()
        window = [t for t in self._requests.get(account, []) if now - t < self.limits.window_s]
        window.append(now)
        self._requests[account] = window
        limit = self.limits.requests_per_window
        # a sliding window: the oldest request it holds leaves it first (whole seconds, up)
        reset = str(math.ceil(time.time() + window[0] + self.limits.window_s - now))
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - len(window))),
            "X-RateLimit-Reset": reset,
        }
        if len(window) > limit:
            self.throttled = True
            window.pop()  # refused: not counted
            return None
        return headers

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/stream":
            return await self._stream(request)
        if path.startswith("/v2/") and path[4:] in FEEDS:
            return await self.quotes.websocket(request, path[4:])
        acct = self.venue.account_by_key(
            request.headers.get("APCA-API-KEY-ID", ""),
            request.headers.get("APCA-API-SECRET-KEY", ""),
        )
        if acct is None:
            return _error(*API_ERROR_UNAUTHORIZED)
        data_api = path.startswith("/v2/stocks")
        bucket = acct.name + ("/data" if data_api else "")
        headers = self._limit(bucket)
        if headers is None:
            oldest = self._requests[bucket][0]
            reset = str(math.ceil(time.time() + oldest + self.limits.window_s - time.monotonic()))
            return _error(
                429,
                42910000,
                "rate limit exceeded",
                {
                    "X-RateLimit-Limit": str(self.limits.requests_per_window),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset,
                },
            )
        try:
            if data_api:
                return self._market_data(request, path, headers)
            return await self._route(request, acct, path, headers)
        except AlpacaError as e:
            return _error(e.status, e.code, e.message, headers)

    def _market_data(
        self, request: web.Request, path: str, headers: dict[str, str]
    ) -> web.Response:
        v = self.venue

        def ok(body: Any) -> web.Response:
            return web.Response(
                body=_EXACT_JSON.encode(body), content_type="application/json", headers=headers
            )

        if request.method != "GET":
            raise AlpacaError(405, 40510000, "method not allowed")
        if path == "/v2/stocks/snapshots":
            wanted = [s for s in request.query.get("symbols", "").split(",") if s]
            if not wanted:
                raise AlpacaError(400, 40010001, "symbols is required")
            return ok({s: m for s in wanted if (m := v.market(s)) is not None})
        if path == "/v2/stocks/quotes/latest":
            wanted = [s for s in request.query.get("symbols", "").split(",") if s]
            if not wanted:
                raise AlpacaError(400, 40010001, "symbols is required")
            return ok({"quotes": {s: v.quote(s) for s in wanted if s in v.assets}})
        parts = path.split("/")  # ["", "v2", "stocks", symbol, ...]
        market = v.market(parts[3]) if len(parts) > 4 else None
        if market is None:
            raise AlpacaError(404, 40410000, "not found")
        tail = "/".join(parts[4:])
        if tail == "snapshot":
            return ok({"symbol": parts[3], **market})
        if tail == "trades/latest":
            return ok({"symbol": parts[3], "trade": market["latestTrade"]})
        if tail == "quotes/latest":
            return ok({"symbol": parts[3], "quote": market["latestQuote"]})
        raise AlpacaError(404, 40410000, "endpoint not found")

    def _visible(self, order: Order) -> bool:
        lag = self.faults.visibility_lag_s
        return not lag or self.venue.now_ns() - order.created_ns >= lag * 1e9

    def _order(self, acct: Account, order_id: str) -> Order:
        order = self.venue.orders.get(order_id)
        if order is None or order.account != acct.name or not self._visible(order):
            raise AlpacaError(*NOT_FOUND)
        return order

    async def _route(
        self, request: web.Request, acct: Account, path: str, headers: dict[str, str]
    ) -> web.StreamResponse:
        method = request.method
        q = request.query
        v = self.venue

        def ok(body: Any, status: int = 200) -> web.Response:
            return web.json_response(body, status=status, headers=headers)

        if path == "/v2/account" and method == "GET":
            return ok(self._account(acct))
        if path == "/v2/clock" and method == "GET":
            return ok(
                {
                    "timestamp": rfc3339(v.now_ns()),
                    "is_open": True,
                    "next_open": rfc3339(v.now_ns()),
                    "next_close": rfc3339(v.now_ns()),
                }
            )
        if path == "/v2/assets" and method == "GET":
            return ok([a.wire() for a in v.assets.values()])
        if path.startswith("/v2/assets/") and method == "GET":
            asset = v.assets.get(path.rsplit("/", 1)[1])
            if asset is None:
                raise AlpacaError(404, 40410000, "asset not found")
            return ok(asset.wire())
        if path == "/v2/positions" and method == "GET":
            return ok([self._position(acct, s, p) for s, p in v.positions_of(acct.name).items()])
        if path == "/v2/account/activities/FILL" and method == "GET":
            return ok(self._activities(acct, q))
        if path == "/v2/orders:by_client_order_id" and method == "GET":
            order = v.by_client(acct.name, q.get("client_order_id", ""))
            if order is None or not self._visible(order):
                raise AlpacaError(*NOT_FOUND)
            return ok(order.wire())
        if path == "/v2/orders" and method == "POST":
            return await self._place(request, acct, ok)
        if path == "/v2/orders" and method == "GET":
            return ok(self._list(acct, q))
        if path == "/v2/orders" and method == "DELETE":
            out = []
            for o in [o for o in v.orders.values() if o.account == acct.name and o.is_open]:
                v.cancel(o)
                out.append({"id": o.id, "status": 200, "body": o.wire()})
            return ok(out, 207)
        if path.startswith("/v2/orders/"):
            order = self._order(acct, path.split("/", 3)[3])
            if method == "GET":
                return ok(order.wire())
            if method == "DELETE":
                return await self._change(request, "cancel", order, ok)
            if method == "PATCH":
                return await self._change(request, "amend", order, ok)
        raise AlpacaError(404, 40410000, "endpoint not found")

    async def _place(self, request: web.Request, acct: Account, ok: Any) -> web.StreamResponse:
        f = self.faults
        body = await request.json()
        if f.fail_places_before > 0:
            f.fail_places_before -= 1
            return web.Response(status=500, text="Internal Server Error")
        order = self.venue.place(acct.name, body)
        return await self._after_commit(request, "place", None, ok(order.wire()))

    async def _change(
        self, request: web.Request, kind: str, order: Order, ok: Any
    ) -> web.StreamResponse:
        f = self.faults
        if f.fail_changes_before.get(kind, 0) > 0:
            f.fail_changes_before[kind] -= 1
            return web.Response(status=500, text="Internal Server Error")
        if kind == "cancel":
            if f.cancel_races_fill > 0 and order.is_open:
                f.cancel_races_fill -= 1
                self.venue.fill(order, order.leaves)
            self.venue.cancel(order)
            answer = web.Response(status=204)
        else:
            body = await request.json()
            answer = ok(self.venue.replace(order, body).wire())
        return await self._after_commit(request, kind, kind, answer)

    async def _after_commit(
        self, request: web.Request, what: str, kind: str | None, answer: web.StreamResponse
    ) -> web.StreamResponse:
        f = self.faults

        def take(counter: dict[str, int] | None, name: str) -> bool:
            if counter is None:
                value = getattr(f, name)
                if value > 0:
                    setattr(f, name, value - 1)
                    return True
                return False
            if counter.get(what, 0) > 0:
                counter[what] -= 1
                return True
            return False

        changes = kind is not None
        if take(f.fail_changes_after if changes else None, "fail_places_after"):
            # Alpaca's gateway timing out after the order went through: a 504 (HTML body)
            return web.Response(status=504, text="<html><body>504 Gateway Time-out</body></html>")
        if take(f.drop_changes if changes else None, "drop_places"):
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        if take(f.delay_changes if changes else None, "delay_places"):
            await asyncio.sleep(f.delay_s)
        return answer

    # ------------------------------------------------------------------ shapes
    def _account(self, acct: Account) -> dict[str, Any]:
        v = self.venue
        long_value = sum(
            (p[0] * v.last_price for p in acct.positions.values() if p[0] > 0), Decimal(0)
        )
        short_value = sum(
            (p[0] * v.last_price for p in acct.positions.values() if p[0] < 0), Decimal(0)
        )
        equity = acct.cash + long_value + short_value
        return {
            "id": acct.id,
            "account_number": "PA" + acct.id[:10].upper().replace("-", ""),
            "status": "ACTIVE",
            "currency": "USD",
            "cash": num(acct.cash),
            "buying_power": num(acct.cash),
            "regt_buying_power": num(acct.cash),
            "daytrading_buying_power": "0",
            "non_marginable_buying_power": num(acct.cash),
            "portfolio_value": num(equity),
            "equity": num(equity),
            "last_equity": num(equity),
            "long_market_value": num(long_value),
            "short_market_value": num(short_value),
            "initial_margin": "0",
            "maintenance_margin": "0",
            "last_maintenance_margin": "0",
            "sma": "0",
            "daytrade_count": 0,
            "multiplier": "1",
            "pattern_day_trader": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "trade_suspended_by_user": False,
            "shorting_enabled": True,
            "created_at": "2026-01-02T15:00:00Z",
            "crypto_status": "INACTIVE",
        }

    def _position(self, acct: Account, symbol: str, pos: list[Decimal]) -> dict[str, Any]:
        qty, avg = pos
        px = self.venue.last_price
        asset = self.venue.assets[symbol]
        return {
            "asset_id": asset.id,
            "symbol": symbol,
            "exchange": asset.exchange,
            "asset_class": "us_equity",
            "asset_marginable": True,
            "avg_entry_price": num(avg),
            "qty": num(qty),
            "qty_available": num(qty),
            "side": "long" if qty > 0 else "short",
            "market_value": num(qty * px),
            "cost_basis": num(qty * avg),
            "unrealized_pl": num(qty * (px - avg)),
            "unrealized_plpc": "0",
            "unrealized_intraday_pl": "0",
            "unrealized_intraday_plpc": "0",
            "current_price": num(px),
            "lastday_price": num(px),
            "change_today": "0",
        }

    def _list(self, acct: Account, q: Any) -> list[dict[str, Any]]:
        status = q.get("status", "open")
        limit = int(q.get("limit", "50"))
        after = _parse_time(q.get("after"))
        rows = [o for o in self.venue.orders.values() if o.account == acct.name]
        rows = [o for o in rows if self._visible(o)]
        if status == "open":
            rows = [o for o in rows if o.is_open]
        elif status == "closed":
            rows = [o for o in rows if not o.is_open]
        if after is not None:
            rows = [o for o in rows if o.created_ns > after]
        symbols = q.get("symbols")
        if symbols:
            wanted = set(symbols.split(","))
            rows = [o for o in rows if o.symbol in wanted]
        rows.sort(key=lambda o: o.created_ns, reverse=q.get("direction", "desc") == "desc")
        return [o.wire() for o in rows[:limit]]

    def _activities(self, acct: Account, q: Any) -> list[dict[str, Any]]:
        """``GET /v2/account/activities/FILL``: ``after``, ``page_size`` (max 100),
        ``page_token`` (the last row's id), ``direction`` (default desc)."""
        rows = [f for f in self.venue.fills if f.account == acct.name]
        after = _parse_time(q.get("after"))
        if after is not None:
            rows = [f for f in rows if f.ts > after]
        if self.faults.fill_history_s:
            oldest = self.venue.now_ns() - int(self.faults.fill_history_s * 1e9)
            rows = [f for f in rows if f.ts >= oldest]
        desc = q.get("direction", "desc") == "desc"
        if desc:
            rows.reverse()
        token = q.get("page_token")
        if token:
            ids = [f.id for f in rows]
            rows = rows[ids.index(token) + 1 :] if token in ids else []
        size = min(int(q.get("page_size", "100")), 100)
        return [f.wire() for f in rows[:size]]


def _parse_time(value: str | None) -> int | None:
    """An RFC 3339 time (or a date) as ns since the epoch."""
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    frac_ns = 0
    if "." in text:
        head, rest = text.split(".", 1)
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        tz = rest[len(digits) :]
        frac_ns = int((digits + "000000000")[:9])
        text = head + tz
    parsed = datetime.fromisoformat(text)
    return int(parsed.timestamp()) * 1_000_000_000 + frac_ns
