"""A loopback fake of Upbit's Exchange API (REST ``/v1/...``) and private WebSocket
(``/websocket/v1/private``: ``myOrder``, ``myAsset``), on aiohttp; the public order book
(``GET /v1/orderbook``, WebSocket ``/websocket/v1`` type ``orderbook``) is :mod:`.books`.

Authentication is checked for real with PyJWT: ``Authorization: Bearer <JWT HS256>`` whose
payload has ``access_key``, a ``nonce`` never seen before, and, when the request has a query or a
body, ``query_hash`` = SHA512 hex of the (unencoded) query string with ``query_hash_alg``
``SHA512`` (reference/venues.md §1.6). Every answer carries ``Remaining-Req: group=<g>; min=1800;
sec=<left this second>``; over the limit: 429 ``too_many_requests``; requests during a 429 back-off:
418 (Upbit bans repeated violations).

Fault knobs (:class:`Faults`) serve the venue contract suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import socket
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlencode

import jwt
from aiohttp import WSMsgType, web

from atlas_oms.fakes.upbit.books import EXACT, UpbitBooks
from atlas_oms.fakes.upbit.venue import Account, Order, UpbitError, UpbitVenue, iso, num


@dataclass
class Faults:
    delay_s: float = 0.0
    delay_places: int = 0
    drop_places: int = 0
    fail_places_after_commit: int = 0
    fail_places_before_commit: int = 0
    delay_cancels: int = 0
    drop_cancels: int = 0
    fail_cancels_after_commit: int = 0
    fail_cancels_before_commit: int = 0
    cancel_races_fill: int = 0
    fill_on_subscribe: list[str] = field(default_factory=list)
    half_open: bool = False
    duplicate_events: bool = False
    visibility_lag_s: float = 0.0


@dataclass
class Limits:
    #: Upbit's exchange API: orders 8/s, everything else 30/s, per account.
    per_second: dict[str, int] = field(default_factory=lambda: {"order": 8, "default": 30})
    #: A lower limit actually enforced, while ``Remaining-Req`` still counts down from
    #: ``per_second`` (the contract's "the limit is low and Atlas is not told").
    enforced: dict[str, int] = field(default_factory=dict)
    #: After a 429, requests inside this many seconds are answered 418.
    ban_after_429_s: float = 0.0


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    account: str
    subscribed: bool = False


class FakeUpbit:
    def __init__(self, accounts: list[Account]) -> None:
        self.venue = UpbitVenue()
        for account in accounts:
            self.venue.add_account(account)
        self.venue.push = self._push
        self.books = UpbitBooks(self.venue)
        self.faults = Faults()
        self.limits = Limits()
        self.throttled = False
        self.banned = False
        self._nonces: set[str] = set()
        self._counts: dict[tuple[str, str, int], int] = {}
        self._backoff_until: dict[str, float] = {}
        self._conns: set[_Conn] = set()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/websocket/v1"

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()

    async def stop(self) -> None:
        self.drop_streams()
        self.books.drop()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ the stream
    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _push(self, account: str, message: dict[str, Any]) -> None:
        self.books.changed()
        if self.faults.half_open:
            return
        text = json.dumps(message)
        for conn in list(self._conns):
            if conn.account == account and conn.subscribed and not conn.ws.closed:
                times = 2 if self.faults.duplicate_events and message.get("trade_uuid") else 1
                for _ in range(times):
                    # Upbit sends its WebSocket messages as binary frames of UTF-8 JSON.
                    self._spawn(self._send(conn, text))

    @staticmethod
    async def _send(conn: _Conn, text: str) -> None:
        with contextlib.suppress(Exception):
            await conn.ws.send_bytes(text.encode())

    def drop_streams(self) -> None:
        for conn in list(self._conns):
            self._conns.discard(conn)
            self._spawn(conn.ws.close())

    async def _websocket(self, request: web.Request, acct: Account) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Conn(ws, acct.name)
        self._conns.add(conn)
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                data = msg.data if isinstance(msg.data, str) else msg.data.decode()
                if data == "PING":
                    await ws.send_str(json.dumps({"status": "UP"}))
                    continue
                try:
                    request_list = json.loads(data)
                except ValueError:
                    continue
                types = {r.get("type") for r in request_list if isinstance(r, dict)}
                if types & {"myOrder", "myAsset"}:
                    conn.subscribed = True
                    while self.faults.fill_on_subscribe:
                        cid = self.faults.fill_on_subscribe.pop(0)
                        order = self.venue.find(acct, uuid=None, identifier=cid)
                        if order is not None and order.state == "wait":
                            self.venue.fill(order, order.remaining)
        finally:
            self._conns.discard(conn)
        return ws

    # ------------------------------------------------------------------ auth and limits
    def _auth(self, request: web.Request, body: dict[str, Any] | None) -> Account:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise UpbitError(401, "no_authorization_token", "Authorization 토큰이 없습니다.")
        token = header[len("Bearer ") :]
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as e:
            raise UpbitError(401, "jwt_verification", f"Jwt 토큰 검증에 실패했습니다. {e}") from e
        acct = self.venue.by_key(str(unverified.get("access_key", "")))
        if acct is None:
            raise UpbitError(401, "invalid_access_key", "잘못된 엑세스 키입니다.")
        try:
            payload = jwt.decode(token, acct.secret, algorithms=["HS256"])
        except jwt.PyJWTError as e:
            raise UpbitError(401, "jwt_verification", f"Jwt 토큰 검증에 실패했습니다. {e}") from e
        nonce = str(payload.get("nonce") or "")
        if not nonce:
            raise UpbitError(401, "jwt_verification", "nonce is missing")
        if nonce in self._nonces:
            raise UpbitError(401, "nonce_used", "이미 요청한 nonce값이 다시 사용되었습니다.")
        self._nonces.add(nonce)
        query = unquote(request.query_string)
        if body:
            query = unquote(urlencode([(k, v) for k, v in body.items()]))
        if query:
            expected = hashlib.sha512(query.encode()).hexdigest()
            if (
                payload.get("query_hash") != expected
                or payload.get("query_hash_alg", "SHA512") != "SHA512"
            ):
                raise UpbitError(
                    401, "invalid_query_payload", "JWT 토큰의 쿼리가 일치하지 않습니다."
                )
        elif "query_hash" in payload:
            raise UpbitError(401, "invalid_query_payload", "query_hash without a query")
        return acct

    def _meter(self, key: str, group: str) -> int:
        """Count one request of ``group`` for ``key``; return what is left this second."""
        now = time.time()
        if self._backoff_until.get(key, 0) > now:
            self.banned = True
            raise UpbitError(418, "too_many_requests", "Too many API requests: banned.")
        second = int(now)
        slot = (key, group, second)
        self._counts[slot] = used = self._counts.get(slot, 0) + 1
        limit = self.limits.per_second[group]
        if used > self.limits.enforced.get(group, limit):
            self.throttled = True
            if self.limits.ban_after_429_s:
                self._backoff_until[key] = now + self.limits.ban_after_429_s
            raise UpbitError(429, "too_many_requests", "Too many API requests.")
        return limit - used

    # ------------------------------------------------------------------ dispatch
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        group = (
            "order"
            if path in ("/v1/orders", "/v1/order") and request.method in ("POST", "DELETE")
            else "default"
        )
        left: int | None = None
        try:
            body: dict[str, Any] | None = None
            if request.method == "POST":
                raw = await request.read()
                body = json.loads(raw) if raw else {}
            if path == "/websocket/v1":
                return await self.books.websocket(request)
            if path == "/v1/orderbook":
                left = self._meter(request.remote or "ip", "default")
                markets = [m for m in request.query.get("markets", "").split(",") if m]
                if not markets or any(m not in self.venue.markets for m in markets):
                    raise UpbitError(404, "404", "Code not found")
                response = web.Response(
                    body=EXACT.encode(self.books.rest(markets)), content_type="application/json"
                )
                response.headers["Remaining-Req"] = f"group=orderbook; min=1800; sec={left}"
                return response
            if path == "/websocket/v1/private":
                acct = self._auth(request, None)
                return await self._websocket(request, acct)
            if path.startswith("/v1/market/") or path == "/v1/ticker":
                left = self._meter(request.remote or "ip", "default")
                return self._json(self._public(path, request), group, left)
            acct = self._auth(request, body)
            left = self._meter(acct.name, group)
            self.requests.append((request.method, path, dict(body or request.query)))
            name = _ROUTES.get((request.method, path))
            if name is None:
                raise UpbitError(404, "not_found", f"{request.method} {path}")
            answer = await getattr(self, name)(request, acct, body or {})
            if isinstance(answer, web.StreamResponse):
                return answer
            return self._json(answer, group, left)
        except UpbitError as e:
            return self._json(
                {"error": {"name": e.name, "message": e.message}}, group, left, status=e.status
            )

    def _json(self, data: Any, group: str, left: int | None, status: int = 200) -> web.Response:
        response = web.json_response(data, status=status)
        if left is not None:
            response.headers["Remaining-Req"] = f"group={group}; min=1800; sec={max(left, 0)}"
        return response

    def _public(self, path: str, request: web.Request) -> Any:
        if path == "/v1/market/all":
            return [
                {"market": m, "korean_name": base, "english_name": base, "market_warning": "NONE"}
                for m, (base, _) in self.venue.markets.items()
            ]
        if path == "/v1/ticker":
            asked = [m for m in request.query.get("markets", "").split(",") if m]
            return [self.venue.ticker(m) for m in self.venue.markets if not asked or m in asked]
        raise UpbitError(404, "not_found", path)

    # ------------------------------------------------------------------ REST handlers
    def _visible(self, order: Order) -> bool:
        lag_ms = self.faults.visibility_lag_s * 1000
        return not lag_ms or self.venue.now_ms() - order.created_ms >= lag_ms

    async def _accounts(self, request: web.Request, acct: Account, body: dict[str, Any]) -> Any:
        return self.venue.accounts_rest(acct)

    async def _chance(self, request: web.Request, acct: Account, body: dict[str, Any]) -> Any:
        market = request.query.get("market", "KRW-BTC")
        base, quote = self.venue.markets.get(market, ("BTC", "KRW"))
        rate = num(self.venue.fee_rate)
        total = num(self.venue.min_total)

        def side(currency: str) -> dict[str, Any]:
            free, locked = acct.balances.get(currency, [Decimal(0), Decimal(0)])
            return {"currency": currency, "balance": num(free), "locked": num(locked)}

        return {
            "bid_fee": rate,
            "ask_fee": rate,
            "maker_bid_fee": rate,
            "maker_ask_fee": rate,
            "market": {
                "id": market,
                "name": f"{base}/{quote}",
                "order_types": ["limit"],
                "order_sides": ["ask", "bid"],
                "bid_types": ["limit", "price"],
                "ask_types": ["limit", "market"],
                "bid": {"currency": quote, "min_total": total},
                "ask": {"currency": quote, "min_total": total},
                "max_total": "1000000000",
                "state": "active",
            },
            "bid_account": side(quote),
            "ask_account": side(base),
        }

    async def _place(self, request: web.Request, acct: Account, body: dict[str, Any]) -> Any:
        f = self.faults
        if f.fail_places_before_commit > 0:
            f.fail_places_before_commit -= 1
            raise UpbitError(500, "server_error", "Internal server error: status unknown")
        order = self.venue.place(acct, body)
        answer = order.rest()
        if f.fail_places_after_commit > 0:
            f.fail_places_after_commit -= 1
            raise UpbitError(500, "server_error", "Internal server error: status unknown")
        if f.drop_places > 0:
            f.drop_places -= 1
            return self._drop(request)
        if f.delay_places > 0:
            f.delay_places -= 1
            await asyncio.sleep(f.delay_s)
        return answer

    def _drop(self, request: web.Request) -> web.Response:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)

    def _find(self, request: web.Request, acct: Account) -> Order:
        q = request.query
        if not q.get("uuid") and not q.get("identifier"):
            raise UpbitError(400, "validation_error", "uuid or identifier is required")
        if q.get("uuid") == "None":  # what ccxt's cancel_order(None, ...) sends
            raise UpbitError(404, "order_not_found", "주문을 찾지 못했습니다.")
        order = self.venue.find(acct, uuid=q.get("uuid"), identifier=q.get("identifier"))
        if order is None or not self._visible(order):
            raise UpbitError(404, "order_not_found", "주문을 찾지 못했습니다.")
        return order

    async def _get_order(self, request: web.Request, acct: Account, body: dict[str, Any]) -> Any:
        return self._find(request, acct).rest(with_trades=True)

    async def _cancel(self, request: web.Request, acct: Account, body: dict[str, Any]) -> Any:
        f = self.faults
        if f.fail_cancels_before_commit > 0:
            f.fail_cancels_before_commit -= 1
            raise UpbitError(500, "server_error", "Internal server error: status unknown")
        order = self._find(request, acct)
        if f.cancel_races_fill > 0 and order.state == "wait":
            f.cancel_races_fill -= 1
            self.venue.fill(order, order.remaining)
        self.venue.cancel(order)
        answer = order.rest()
        answer["state"] = "wait"  # Upbit answers the cancel request with the order before it
        if f.fail_cancels_after_commit > 0:
            f.fail_cancels_after_commit -= 1
            raise UpbitError(500, "server_error", "Internal server error: status unknown")
        if f.drop_cancels > 0:
            f.drop_cancels -= 1
            return self._drop(request)
        if f.delay_cancels > 0:
            f.delay_cancels -= 1
            await asyncio.sleep(f.delay_s)
        return answer

    def _mine(self, acct: Account, states: set[str]) -> list[Order]:
        return [
            o
            for o in self.venue.orders.values()
            if o.account == acct.name and o.state in states and self._visible(o)
        ]

    async def _open(self, request: web.Request, acct: Account, body: dict[str, Any]) -> Any:
        states = set(request.query.getall("states[]", [])) or {"wait"}
        market = request.query.get("market")
        rows = [o for o in self._mine(acct, states) if not market or o.market == market]
        rows.sort(key=lambda o: o.created_ms, reverse=True)
        return [o.rest() for o in rows[: int(request.query.get("limit", 100))]]

    async def _closed(self, request: web.Request, acct: Account, body: dict[str, Any]) -> Any:
        states = set(request.query.getall("states[]", [])) or {"done", "cancel"}
        rows = self._mine(acct, states)
        rows.sort(key=lambda o: o.updated_ms, reverse=True)
        return [o.rest() for o in rows[: min(int(request.query.get("limit", 100)), 1000)]]


_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/v1/accounts"): "_accounts",
    ("GET", "/v1/orders/chance"): "_chance",
    ("POST", "/v1/orders"): "_place",
    ("GET", "/v1/order"): "_get_order",
    ("DELETE", "/v1/order"): "_cancel",
    ("GET", "/v1/orders/open"): "_open",
    ("GET", "/v1/orders/closed"): "_closed",
}

__all__ = ["Account", "FakeUpbit", "Faults", "Limits", "iso", "math"]
