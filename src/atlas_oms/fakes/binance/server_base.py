"""The fake Binance server's shared machinery: what every request goes through.

``ServerBase`` declares the state the server keeps (the venue, the per-IP weight windows, the
order counters, the WebSocket connections, the route table) and holds the lifecycle
(``start``/``stop``/``running_in_thread``/``call``), the weight and limit middleware, the
dispatch, the auth checks (API key, HMAC signature, timestamp window), the placing machinery
shared by both markets with its fault knobs, and the JSON helpers.

The handlers are mixins on this base: ``rest_spot.SpotRest``, ``rest_futures.FuturesRest`` and
``streams.Streams``, composed into ``FakeBinance`` (``server.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web

from atlas_oms.fakes.binance import wire
from atlas_oms.fakes.binance.config import SPOT, USDM, AccountConfig, Faults, Limits
from atlas_oms.fakes.binance.urls import ccxt_urls
from atlas_oms.fakes.binance.venue import Account, FakeVenue, Order, VenueError

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TIMEOUT_1007 = VenueError(
    -1007,
    "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
    503,
)


@dataclass
class _IpState:
    window_start: float = 0.0
    used: int = 0
    backoff_until: float = 0.0
    backoff_requests: int = 0
    banned_until: float = 0.0


@dataclass
class _OrderCounts:
    stamps: list[float] = field(default_factory=list)

    def count(self, now: float, span: float) -> int:
        return sum(1 for s in self.stamps if s > now - span)


class _Conn:
    """One WebSocket connection with an ordered writer (events keep their order)."""

    def __init__(self, ws: web.WebSocketResponse, kind: str) -> None:
        self.ws = ws
        self.kind = kind  # "wsapi" | "private" | "public-spot" | "public-usdm"
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.streams: set[str] = set()
        #: ws-api: subscriptionId -> account name; private: the account.
        self.subs: dict[int, str] = {}
        self.account: str | None = None
        #: A combined stream (``/stream``): payloads wrapped as ``{"stream": name, "data": ...}``.
        self.combined = False
        self.writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        while True:
            item = await self.queue.get()
            if item is None or self.ws.closed:
                return
            try:
                await self.ws.send_str(item)
            except (ConnectionError, RuntimeError):
                return

    def send(self, payload: Any) -> None:
        self.queue.put_nowait(_dumps(payload))

    async def close(self) -> None:
        self.queue.put_nowait(None)
        await self.ws.close()


class ServerBase:
    """The state and request machinery every handler mixin shares (see the module doc)."""

    def __init__(
        self,
        accounts: list[AccountConfig] | None = None,
        limits: Limits | None = None,
        faults: Faults | None = None,
        bnb_price: Decimal = Decimal("600"),
        listen_key_ttl_ms: int = 60 * 60 * 1000,
    ) -> None:
        self.venue = FakeVenue(accounts, limits, faults, bnb_price, listen_key_ttl_ms)
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._ips: dict[str, _IpState] = {}
        self._order_counts: dict[tuple[str, str], _OrderCounts] = {}
        self._conns: set[_Conn] = set()
        self._sub_ids = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._routes: dict[tuple[str, str], tuple[int, Handler]] = {}

    # ------------------------------------------------------------------ public face

    @property
    def faults(self) -> Faults:
        return self.venue.faults

    @property
    def limits(self) -> Limits:
        return self.venue.limits

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def ccxt_urls(self) -> dict[str, Any]:
        """``urls['api']`` for ccxt's ``binance`` and ``binanceusdm`` (see ``urls.ccxt_urls``)."""
        return ccxt_urls(self.http, self.ws)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        for conn in list(self._conns):
            await conn.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextmanager
    def running_in_thread(self, port: int = 0) -> Iterator[Self]:
        """Run the fake on its own loop in a daemon thread; yield it with ``port`` set."""
        ready: Future[None] = Future()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start(port=port))
            except BaseException as exc:
                ready.set_exception(exc)
                return
            ready.set_result(None)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-binance", daemon=True)
        self._thread.start()
        ready.result(timeout=10)
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout=10)
            loop.close()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args)`` on the fake's loop (thread-safe knob calls) and return its result."""
        loop = self._loop
        if loop is None or self._thread is None or threading.current_thread() is self._thread:
            return fn(*args, **kwargs)

        async def run() -> T:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=10)

    def _off_loop(self) -> bool:
        return self._thread is not None and threading.current_thread() is not self._thread

    # ------------------------------------------------------------------ HTTP plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await handler(request)
        route = self._routes.get((request.method, request.path))
        weight = route[0] if route else 1
        if request.path.endswith("/openOrders") and "symbol" not in request.query:
            weight = 80 if request.path.startswith("/api/") else 40
        ip = request.remote or "?"
        refused = self._charge(ip, weight)
        if refused is not None:
            return refused
        try:
            response = await handler(request)
        except VenueError as err:
            extra = {"Retry-After": "10"} if err.status == 429 else None
            response = _json(err.body(), status=err.status, headers=extra)
        if not isinstance(response, web.WebSocketResponse) and not response.prepared:
            response.headers["X-MBX-USED-WEIGHT-1M"] = str(self._ips[ip].used)
        return response

    def _charge(self, ip: str, weight: int) -> web.Response | None:
        lim = self.limits
        now = time.monotonic()
        st = self._ips.setdefault(ip, _IpState(window_start=now))
        if st.banned_until > now:
            return self._too_many(418, st.banned_until - now, st, banned=True)
        if st.backoff_until > now:
            st.backoff_requests += 1
            if st.backoff_requests > lim.requests_before_ban:
                st.banned_until = now + lim.ban_s
                return self._too_many(418, lim.ban_s, st, banned=True)
            return self._too_many(429, st.backoff_until - now, st)
        if now - st.window_start >= lim.weight_window_s:
            st.window_start = now - (now - st.window_start) % lim.weight_window_s
            st.used = 0
        st.used += weight
        if st.used > lim.weight_per_window:
            st.backoff_until = st.window_start + lim.weight_window_s
            st.backoff_requests = 0
            return self._too_many(429, st.backoff_until - now, st)
        return None

    def _too_many(
        self, status: int, wait_s: float, st: _IpState, banned: bool = False
    ) -> web.Response:
        if banned:
            until = self.venue.now_ms() + int(wait_s * 1000)
            msg = (
                f"Way too much request weight used; IP banned until {until}."
                " Please use WebSocket Streams for live updates to avoid bans."
            )
        else:
            msg = (
                f"Too much request weight used; current limit is {self.limits.weight_per_window}"
                " request weight per 1 MINUTE. Please use WebSocket Streams for live updates to"
                " avoid polling the API."
            )
        return _json(
            {"code": -1003, "msg": msg},
            status=status,
            headers={
                "Retry-After": str(max(1, math.ceil(wait_s))),
                "X-MBX-USED-WEIGHT-1M": str(st.used),
            },
        )

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        route = self._routes.get((request.method, path))
        if route is None:
            return web.Response(status=404, text="")
        return await route[1](request)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        """The WebSocket endpoints: ``streams.Streams`` provides them."""
        raise NotImplementedError

    # ------------------------------------------------------------------ auth

    async def _params(self, request: web.Request) -> tuple[str, str, dict[str, str]]:
        """(raw query, raw body, merged params: the query wins over the body)."""
        raw_query = request.query_string
        raw_body = (await request.text()) if request.can_read_body else ""
        params = dict(parse_qsl(raw_body, keep_blank_values=True))
        params.update(parse_qsl(raw_query, keep_blank_values=True))
        return raw_query, raw_body, params

    def _api_key_account(self, request: web.Request) -> Account:
        key = request.headers.get("X-MBX-APIKEY")
        acct = self.venue.by_key.get(key or "")
        if acct is None or not key:
            raise VenueError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return acct

    async def _signed(self, request: web.Request) -> tuple[Account, dict[str, str]]:
        acct = self._api_key_account(request)
        raw_query, raw_body, params = await self._params(request)
        signature = params.get("signature")
        if not signature:
            raise VenueError(
                -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
        payload = _strip_signature(raw_query) + _strip_signature(raw_body)
        expected = hmac.new(acct.cfg.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise VenueError(-1022, "Signature for this request is not valid.")
        self._check_timestamp(params)
        return acct, params

    def _check_timestamp(self, params: dict[str, str]) -> None:
        try:
            ts = int(params["timestamp"])
        except (KeyError, ValueError):
            raise VenueError(
                -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            ) from None
        if ts > 10**14:  # microseconds
            ts //= 1000
        window = Decimal(params.get("recvWindow", "5000"))
        if window > 60000:
            raise VenueError(-1131, "recvWindow must be less than 60000")
        now = self.venue.now_ms()
        if ts >= now + 1000:
            raise VenueError(
                -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if now - ts > window:
            raise VenueError(-1021, "Timestamp for this request is outside of the recvWindow.")

    # ------------------------------------------------------------------ general

    async def _ping(self, request: web.Request) -> web.Response:
        return _json({})

    async def _time(self, request: web.Request) -> web.Response:
        return _json({"serverTime": self.venue.now_ms()})

    # ------------------------------------------------------------------ placing (both markets)

    def _count_order(self, market: str, acct: Account) -> dict[str, str]:
        lim = self.limits
        now = time.monotonic()
        counts = self._order_counts.setdefault((market, acct.name), _OrderCounts())
        counts.stamps = [s for s in counts.stamps if s > now - 86400]
        ten = counts.count(now, 10)
        if ten >= lim.orders_per_10s:
            raise VenueError(
                -1015,
                f"Too many new orders; current limit is {lim.orders_per_10s} orders per 10 SECOND.",
                429,
            )
        if market == USDM and counts.count(now, 60) >= lim.orders_per_minute:
            raise VenueError(
                -1015,
                f"Too many new orders; current limit is {lim.orders_per_minute} orders per MINUTE.",
                429,
            )
        if market == SPOT and len(counts.stamps) >= lim.orders_per_day:
            raise VenueError(
                -1015,
                f"Too many new orders; current limit is {lim.orders_per_day} orders per DAY.",
                429,
            )
        counts.stamps.append(now)
        headers = {"X-MBX-ORDER-COUNT-10S": str(ten + 1)}
        if market == SPOT:
            headers["X-MBX-ORDER-COUNT-1D"] = str(len(counts.stamps))
        else:
            headers["X-MBX-ORDER-COUNT-1M"] = str(counts.count(now, 60))
        return headers

    async def _place(self, request: web.Request, market: str) -> web.StreamResponse:
        acct, params = await self._signed(request)
        headers = self._count_order(market, acct)
        faults = self.faults
        if faults.fail_before_commit > 0:
            faults.fail_before_commit -= 1
            raise TIMEOUT_1007
        trades_before = len(self.venue.trades)
        order = self.venue.place(market, acct, params)
        fills = [t for t in self.venue.trades[trades_before:] if t.order_id == order.order_id]
        if faults.fail_after_commit > 0:
            faults.fail_after_commit -= 1
            raise TIMEOUT_1007
        if faults.drop_places > 0:
            faults.drop_places -= 1
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        if faults.delay_places > 0:
            faults.delay_places -= 1
            await asyncio.sleep(faults.delay_s)
        body = self._place_answer(market, order, params, fills)
        return _json(body, headers=headers)

    async def _change(
        self, request: web.Request, kind: str, commit: Callable[[], web.Response]
    ) -> web.StreamResponse:
        """A cancel or amend (``kind``: ``cancels`` / ``amends``) through its fault knobs:
        ``fail_<kind>_before_commit``, then ``commit()``, then ``fail_<kind>_after_commit``,
        ``drop_<kind>``, ``delay_<kind>`` (as :meth:`_place` for placements)."""
        faults = self.faults

        def take(name: str) -> bool:
            left: int = getattr(faults, name)
            if left > 0:
                setattr(faults, name, left - 1)
                return True
            return False

        if take(f"fail_{kind}_before_commit"):
            raise TIMEOUT_1007
        response = commit()
        if take(f"fail_{kind}_after_commit"):
            raise TIMEOUT_1007
        if take(f"drop_{kind}"):
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        if take(f"delay_{kind}"):
            await asyncio.sleep(faults.delay_s)
        return response

    def _fill_on_subscribe(self, market: str, account: str) -> None:
        """``Faults.fill_on_subscribe``: fill the named resting orders of ``account`` now."""
        wanted = self.faults.fill_on_subscribe
        if not wanted:
            return
        mine = [
            o
            for o in self.venue.orders.values()
            if o.market == market and o.account == account and o.client_id in wanted
        ]
        for o in mine:
            wanted.remove(o.client_id)
            if o.is_open:
                self.venue.fill(o, o.leaves)

    def _place_answer(
        self, market: str, o: Order, params: dict[str, str], fills: list[Any]
    ) -> dict[str, Any]:
        if market == USDM:
            return wire.futures_order(self.venue, o)
        kind = params.get("newOrderRespType", "FULL" if o.type in ("MARKET", "LIMIT") else "ACK")
        if kind == "ACK":
            return wire.spot_order_ack(o, o.time)
        if kind == "RESULT":
            return wire.spot_order_result(o, o.time)
        return wire.spot_order_full(o, o.time, fills)

    def _lookup(self, market: str, acct: Account, params: dict[str, str], query: bool) -> Order:
        symbol = params.get("symbol", "")
        self.venue.spec(market, symbol)
        order_id = int(params["orderId"]) if params.get("orderId") else None
        client_id = params.get("origClientOrderId")
        if order_id is None and not client_id:
            raise VenueError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        o = self.venue.find(market, acct.name, symbol, order_id, client_id)
        if o is None or (query and not self.venue.visible(o)):
            if query:
                raise VenueError(-2013, "Order does not exist.")
            raise VenueError(-2011, "Unknown order sent.")
        return o


def _dumps(payload: Any) -> str:
    """Binance's compact JSON (no spaces)."""
    return json.dumps(payload, separators=(",", ":"))


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(payload, status=status, headers=headers, dumps=_dumps)


def _strip_signature(raw: str) -> str:
    """Drop the ``signature=...`` pair from a raw query string or form body, keep the rest byte-exact."""
    if not raw:
        return ""
    parts = [p for p in raw.split("&") if not p.startswith("signature=")]
    return "&".join(parts)


def _window(orders: list[Order], params: dict[str, str]) -> list[Order]:
    if "orderId" in params:
        orders = [o for o in orders if o.order_id >= int(params["orderId"])]
    if "startTime" in params:
        orders = [o for o in orders if o.time >= int(params["startTime"])]
    if "endTime" in params:
        orders = [o for o in orders if o.time <= int(params["endTime"])]
    limit = int(params.get("limit", "500"))
    return orders[:limit] if "orderId" in params else orders[-limit:]
