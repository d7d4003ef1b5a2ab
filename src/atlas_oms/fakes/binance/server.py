"""The fake Binance's HTTP and WebSocket server (aiohttp, one port, 127.0.0.1).

Paths (what ``ccxt_urls`` points ccxt at):

- spot REST ``/api/v3/...``; USDⓈ-M REST ``/fapi/v1|v2|v3/...``;
- spot WebSocket API ``/ws-api/v3`` (``userDataStream.subscribe.signature``; events come as
  ``{"subscriptionId": N, "event": {...}}``);
- spot public streams ``/ws`` (``SUBSCRIBE`` protocol);
- USDⓈ-M streams under ``/fstream``: public ``/fstream/public/ws`` (bookTicker, trade),
  market ``/fstream/market/ws`` (aggTrade, markPrice, ticker), private
  ``/fstream/private/ws?listenKey=K`` (and the older ``/fstream/ws/K``).

Every REST answer carries ``X-MBX-USED-WEIGHT-1M`` (weight per IP); accepted orders carry
``X-MBX-ORDER-COUNT-10S`` and ``-1D`` (spot) or ``-1M`` (futures). Signed requests are checked for
real: ``X-MBX-APIKEY`` (-2015), HMAC-SHA256 over the query string concatenated with the body
(-1022), and the timestamp rule ``timestamp < serverTime + 1000`` and
``serverTime - timestamp <= recvWindow`` (-1021).
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
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

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


class FakeBinance:
    """A fake Binance (spot and USDⓈ-M) on 127.0.0.1.

    In the client's own event loop::

        fake = FakeBinance([AccountConfig("a", "KEY", "SECRET", spot={"USDT": Decimal(1000)})])
        await fake.start()
        ex = ccxt.pro.binance({"apiKey": "KEY", "secret": "SECRET",
                               "urls": {"api": fake.ccxt_urls()}, "options": {...}})
        ...
        await fake.stop()

    Or in a thread with its own loop (clients in other threads or processes):
    ``with FakeBinance(...).running_in_thread() as fake: fake.http, fake.ws, fake.call(...)``.
    The state (``fake.venue``), the fault knobs (``fake.faults``) and the limits
    (``fake.limits``) may be changed while it runs.
    """

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
        self.venue.user_listeners.append(self._on_user_event)
        self.venue.market_listeners.append(self._on_market_event)
        self._routes: dict[tuple[str, str], tuple[int, Handler]] = {}
        self._build_routes()

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
    def running_in_thread(self, port: int = 0) -> Iterator[FakeBinance]:
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

    # knobs that act on connections -----------------------------------------------------

    def drop_user_streams(self) -> None:
        """Close every user-data connection (spot WS-API sessions and futures listenKey streams)."""
        if self._off_loop():
            return self.call(self.drop_user_streams)
        for conn in list(self._conns):
            if conn.kind in ("wsapi", "private"):
                self._conns.discard(conn)
                asyncio.get_running_loop().create_task(conn.close())

    def expire_listen_key(self, account: str) -> None:
        """Push ``listenKeyExpired`` to the account's futures streams, close them, drop the key."""
        if self._off_loop():
            return self.call(self.expire_listen_key, account)
        acct = self.venue.accounts[account]
        key = acct.listen_key or ""
        now = self.venue.now_ms()
        for conn in list(self._conns):
            if conn.kind == "private" and conn.account == account:
                conn.send(wire.listen_key_expired(key, now))
                self._conns.discard(conn)
                asyncio.get_running_loop().create_task(conn.close())
        acct.listen_key = None
        acct.listen_key_expires = 0

    # ------------------------------------------------------------------ event fan-out

    def _on_user_event(self, market: str, account: str, event: dict[str, Any]) -> None:
        if self.faults.half_open:
            return  # withheld and lost; the connection still answers pings
        times = 2 if self.faults.duplicate_events and _is_trade(event) else 1
        for conn in self._conns:
            if market == SPOT and conn.kind == "wsapi":
                for sid, name in conn.subs.items():
                    if name == account:
                        for _ in range(times):
                            conn.send({"subscriptionId": sid, "event": event})
            elif market == USDM and conn.kind == "private" and conn.account == account:
                for _ in range(times):
                    conn.send(event)

    def _on_market_event(self, market: str, stream: str, payload: dict[str, Any]) -> None:
        kinds = ("public-spot",) if market == SPOT else ("public-usdm",)
        names = {stream}
        if stream.endswith("@markPrice"):
            names.add(stream + "@1s")
        for conn in self._conns:
            if conn.kind in kinds and conn.streams & names:
                conn.send(payload)

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

    def _build_routes(self) -> None:
        r = self._routes
        s = "/api/v3/"
        f = "/fapi/v1/"
        spot: list[tuple[str, str, int, Handler]] = [
            ("GET", "ping", 1, self._ping),
            ("GET", "time", 1, self._time),
            ("GET", "exchangeInfo", 20, self._spot_exchange_info),
            ("POST", "order", 1, self._spot_place),
            ("POST", "order/test", 1, self._spot_test_order),
            ("GET", "order", 4, self._spot_get_order),
            ("DELETE", "order", 1, self._spot_cancel),
            ("GET", "openOrders", 6, self._spot_open_orders),
            ("DELETE", "openOrders", 1, self._spot_cancel_all),
            ("GET", "allOrders", 20, self._spot_all_orders),
            ("GET", "myTrades", 20, self._spot_my_trades),
            ("GET", "account", 20, self._spot_account),
            ("PUT", "order/amend/keepPriority", 4, self._spot_amend),
            ("POST", "order/cancelReplace", 1, self._spot_cancel_replace),
        ]
        for method, path, weight, handler in spot:
            r[(method, s + path)] = (weight, handler)
        futures: list[tuple[str, str, int, Handler]] = [
            ("GET", f + "ping", 1, self._ping),
            ("GET", f + "time", 1, self._time),
            ("GET", f + "exchangeInfo", 1, self._futures_exchange_info),
            ("POST", f + "order", 0, self._futures_place),
            ("GET", f + "order", 1, self._futures_get_order),
            ("DELETE", f + "order", 1, self._futures_cancel),
            ("PUT", f + "order", 1, self._futures_modify),
            ("GET", f + "openOrders", 1, self._futures_open_orders),
            ("GET", f + "openOrder", 1, self._futures_open_order),
            ("DELETE", f + "allOpenOrders", 1, self._futures_cancel_all),
            ("GET", f + "allOrders", 5, self._futures_all_orders),
            ("GET", f + "userTrades", 5, self._futures_user_trades),
            ("GET", "/fapi/v2/account", 5, self._futures_account),
            ("GET", "/fapi/v3/account", 5, self._futures_account),
            ("GET", "/fapi/v2/balance", 5, self._futures_balance),
            ("GET", "/fapi/v3/balance", 5, self._futures_balance),
            ("GET", "/fapi/v2/positionRisk", 5, self._futures_position_risk),
            ("GET", "/fapi/v3/positionRisk", 5, self._futures_position_risk),
            ("GET", f + "leverageBracket", 1, self._futures_leverage_bracket),
            ("GET", f + "positionSide/dual", 30, self._futures_get_dual),
            ("POST", f + "positionSide/dual", 1, self._futures_set_dual),
            ("POST", f + "leverage", 1, self._futures_leverage),
            ("POST", f + "marginType", 1, self._futures_margin_type),
            ("GET", f + "symbolConfig", 5, self._futures_symbol_config),
            ("POST", f + "listenKey", 1, self._listen_key_new),
            ("PUT", f + "listenKey", 1, self._listen_key_keepalive),
            ("DELETE", f + "listenKey", 1, self._listen_key_delete),
        ]
        for method, path, weight, handler in futures:
            r[(method, path)] = (weight, handler)

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

    async def _spot_exchange_info(self, request: web.Request) -> web.Response:
        return _json(wire.spot_exchange_info(self.venue))

    async def _futures_exchange_info(self, request: web.Request) -> web.Response:
        return _json(wire.futures_exchange_info(self.venue))

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

    # ------------------------------------------------------------------ spot

    async def _spot_place(self, request: web.Request) -> web.StreamResponse:
        return await self._place(request, SPOT)

    async def _spot_test_order(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        spec = self.venue.spec(SPOT, params.get("symbol", ""))
        if params.get("type") not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise VenueError(-1116, "Invalid orderType.")
        probe = Order(
            SPOT,
            spec.symbol,
            0,
            "",
            acct.name,
            params.get("side", "BUY"),
            params.get("type", "LIMIT"),
            "GTC",
            Decimal(params.get("price", "0")),
            Decimal(params.get("quantity", "0")),
            0,
        )
        self.venue.check_filters(SPOT, spec, probe, probe.type == "MARKET")
        if params.get("computeCommissionRates", "false") == "true":
            c = acct.cfg
            return _json(
                {
                    "standardCommissionForOrder": {
                        "maker": wire.s8(c.spot_maker),
                        "taker": wire.s8(c.spot_taker),
                    },
                    "specialCommissionForOrder": {
                        "maker": wire.s8(Decimal(0)),
                        "taker": wire.s8(Decimal(0)),
                    },
                    "taxCommissionForOrder": {
                        "maker": wire.s8(Decimal(0)),
                        "taker": wire.s8(Decimal(0)),
                    },
                    "discount": {
                        "enabledForAccount": c.bnb_fees,
                        "enabledForSymbol": True,
                        "discountAsset": "BNB",
                        "discount": "0.25000000",
                    },
                }
            )
        return _json({})

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

    async def _spot_get_order(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        return _json(wire.spot_order(self._lookup(SPOT, acct, params, True)))

    async def _spot_cancel(self, request: web.Request) -> web.StreamResponse:
        acct, params = await self._signed(request)
        o = self._lookup(SPOT, acct, params, False)

        def commit() -> web.Response:
            self.venue.cancel(o, params.get("newClientOrderId"))
            return _json(wire.spot_cancel(o, self.venue.now_ms()))

        return await self._change(request, "cancels", commit)

    async def _spot_open_orders(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol")
        if symbol:
            self.venue.spec(SPOT, symbol)
        return _json([wire.spot_order(o) for o in self.venue.open_orders(SPOT, acct.name, symbol)])

    async def _spot_cancel_all(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(SPOT, symbol)
        out = []
        for o in self.venue.open_orders(SPOT, acct.name, symbol):
            self.venue.cancel(o)
            out.append(wire.spot_cancel(o, self.venue.now_ms()))
        return _json(out)

    async def _spot_all_orders(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(SPOT, symbol)
        orders = [
            o
            for o in self.venue.orders.values()
            if o.market == SPOT and o.account == acct.name and o.symbol == symbol
        ]
        return _json([wire.spot_order(o) for o in _window(orders, params)])

    async def _spot_my_trades(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(SPOT, symbol)
        return _json(
            [wire.spot_trade(t) for t in self.venue.account_trades(SPOT, acct.name, symbol, params)]
        )

    async def _spot_account(self, request: web.Request) -> web.Response:
        acct, _ = await self._signed(request)
        return _json(wire.spot_account(acct))

    async def _spot_amend(self, request: web.Request) -> web.StreamResponse:
        acct, params = await self._signed(request)
        o = self._lookup(SPOT, acct, params, False)

        def commit() -> web.Response:
            self.venue.amend_spot_keep_priority(
                o, Decimal(params.get("newQty", "0")), params.get("newClientOrderId")
            )
            return _json(wire.spot_amended(o, self.venue.now_ms(), self.venue.next_execution_id()))

        return await self._change(request, "amends", commit)

    async def _spot_cancel_replace(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        cancel_params = {
            "symbol": params.get("symbol", ""),
            "orderId": params.get("cancelOrderId", ""),
            "origClientOrderId": params.get("cancelOrigClientOrderId", ""),
        }
        try:
            old = self._lookup(SPOT, acct, cancel_params, False)
            self.venue.cancel(old, params.get("cancelNewClientOrderId"))
            cancel_body: dict[str, Any] = wire.spot_cancel(old, self.venue.now_ms())
        except VenueError as err:
            return _json(
                {
                    "code": -2022,
                    "msg": "Order cancel-replace failed.",
                    "data": {
                        "cancelResult": "FAILURE",
                        "newOrderResult": "NOT_ATTEMPTED",
                        "cancelResponse": err.body(),
                        "newOrderResponse": None,
                    },
                },
                status=400,
            )
        new_params = {
            k: v
            for k, v in params.items()
            if not k.startswith("cancel") and k not in ("cancelReplaceMode", "signature")
        }
        try:
            trades_before = len(self.venue.trades)
            new = self.venue.place(SPOT, acct, new_params)
        except VenueError as err:
            return _json(
                {
                    "code": -2021,
                    "msg": "Order cancel-replace partially failed.",
                    "data": {
                        "cancelResult": "SUCCESS",
                        "newOrderResult": "FAILURE",
                        "cancelResponse": cancel_body,
                        "newOrderResponse": err.body(),
                    },
                },
                status=409,
            )
        fills = [t for t in self.venue.trades[trades_before:] if t.order_id == new.order_id]
        return _json(
            {
                "cancelResult": "SUCCESS",
                "newOrderResult": "SUCCESS",
                "cancelResponse": cancel_body,
                "newOrderResponse": self._place_answer(SPOT, new, params, fills),
            }
        )

    # ------------------------------------------------------------------ futures

    async def _futures_place(self, request: web.Request) -> web.StreamResponse:
        return await self._place(request, USDM)

    async def _futures_get_order(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        return _json(
            wire.futures_order(self.venue, self._lookup(USDM, acct, params, True), query=True)
        )

    async def _futures_open_order(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        o = self._lookup(USDM, acct, params, True)
        if not o.is_open:
            raise VenueError(-2013, "Order does not exist.")
        return _json(wire.futures_order(self.venue, o, query=True))

    async def _futures_cancel(self, request: web.Request) -> web.StreamResponse:
        acct, params = await self._signed(request)
        o = self._lookup(USDM, acct, params, False)

        def commit() -> web.Response:
            self.venue.cancel(o)
            return _json(wire.futures_order(self.venue, o))

        return await self._change(request, "cancels", commit)

    async def _futures_modify(self, request: web.Request) -> web.StreamResponse:
        acct, params = await self._signed(request)
        o = self._lookup(USDM, acct, params, False)

        def commit() -> web.Response:
            self.venue.modify_futures(
                o, Decimal(params.get("quantity", "0")), Decimal(params.get("price", "0"))
            )
            return _json(wire.futures_order(self.venue, o))

        return await self._change(request, "amends", commit)

    async def _futures_open_orders(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol")
        if symbol:
            self.venue.spec(USDM, symbol)
        return _json(
            [
                wire.futures_order(self.venue, o, query=True)
                for o in self.venue.open_orders(USDM, acct.name, symbol)
            ]
        )

    async def _futures_cancel_all(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(USDM, symbol)
        for o in self.venue.open_orders(USDM, acct.name, symbol):
            self.venue.cancel(o)
        return _json({"code": 200, "msg": "The operation of cancel all open order is done."})

    async def _futures_all_orders(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(USDM, symbol)
        orders = [
            o
            for o in self.venue.orders.values()
            if o.market == USDM and o.account == acct.name and o.symbol == symbol
        ]
        return _json(
            [wire.futures_order(self.venue, o, query=True) for o in _window(orders, params)]
        )

    async def _futures_user_trades(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(USDM, symbol)
        trades = self.venue.account_trades(USDM, acct.name, symbol, params)
        return _json([wire.futures_trade(self.venue, t) for t in trades])

    async def _futures_account(self, request: web.Request) -> web.Response:
        acct, _ = await self._signed(request)
        return _json(wire.futures_account_v3(self.venue, acct))

    async def _futures_balance(self, request: web.Request) -> web.Response:
        acct, _ = await self._signed(request)
        return _json(wire.futures_balance(self.venue, acct))

    async def _futures_position_risk(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        return _json(wire.position_risk_v3(self.venue, acct, params.get("symbol")))

    async def _futures_leverage_bracket(self, request: web.Request) -> web.Response:
        await self._signed(request)
        return _json(wire.leverage_brackets(self.venue, None))

    async def _futures_get_dual(self, request: web.Request) -> web.Response:
        acct, _ = await self._signed(request)
        return _json({"dualSidePosition": acct.hedge})

    async def _futures_set_dual(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        want = params.get("dualSidePosition", "").lower() == "true"
        if want == acct.hedge:
            raise VenueError(-4059, "No need to change position side.")
        if any(p.amt for p in acct.positions.values()) or self.venue.open_orders(
            USDM, acct.name, None
        ):
            raise VenueError(-4068, "Position side cannot be changed if there exists position.")
        acct.hedge = want
        return _json({"code": 200, "msg": "success"})

    async def _settings_faults(self, commit: Callable[[], None]) -> None:
        """Commit a leverage or margin type change, or lose it, as the fault knobs say."""
        faults = self.faults
        if faults.lose_settings > 0:
            faults.lose_settings -= 1
            await asyncio.sleep(faults.delay_s)
            raise TIMEOUT_1007
        commit()
        if faults.delay_settings > 0:
            faults.delay_settings -= 1
            await asyncio.sleep(faults.delay_s)

    async def _futures_leverage(self, request: web.Request) -> web.Response:
        """``POST /fapi/v1/leverage``: 1 up to the first bracket's leverage; refused (-2027)
        when the position already exceeds what the brackets allow at the new leverage."""
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(USDM, symbol)
        raw = params.get("leverage", "0")
        lev = int(raw) if raw.isdigit() else 0
        brackets = wire.leverage_brackets(self.venue, symbol)[0]["brackets"]
        if not 1 <= lev <= max(int(b["initialLeverage"]) for b in brackets):
            raise VenueError(-4028, f"Leverage {raw} is not valid")
        cap = max(Decimal(str(b["notionalCap"])) for b in brackets if b["initialLeverage"] >= lev)
        if _position_notional(self.venue, acct, symbol) > cap:
            raise VenueError(-2027, "Exceeded the maximum allowable position at current leverage.")
        await self._settings_faults(lambda: acct.leverage.__setitem__(symbol, lev))
        return _json({"leverage": lev, "maxNotionalValue": str(cap), "symbol": symbol})

    async def _futures_margin_type(self, request: web.Request) -> web.Response:
        """``POST /fapi/v1/marginType``: ``-4046`` when already so; refused while the symbol
        has a position (-4048) or open orders (-4047)."""
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(USDM, symbol)
        want = params.get("marginType", "").upper()
        if want not in ("ISOLATED", "CROSSED"):
            raise VenueError(-4044, "The margin type is not valid.")
        current = acct.margin_type.get(symbol, "cross")
        mapped = "isolated" if want == "ISOLATED" else "cross"
        if mapped == current:
            raise VenueError(-4046, "No need to change margin type.")
        if any(p.amt for (sym, _ps), p in acct.positions.items() if sym == symbol):
            raise VenueError(-4048, "Margin type cannot be changed if there exists position.")
        if self.venue.open_orders(USDM, acct.name, symbol):
            raise VenueError(-4047, "Margin type cannot be changed if there exists open orders.")
        await self._settings_faults(lambda: acct.margin_type.__setitem__(symbol, mapped))
        return _json({"code": 200, "msg": "success"})

    async def _futures_symbol_config(self, request: web.Request) -> web.Response:
        """``GET /fapi/v1/symbolConfig``: leverage and margin type per symbol."""
        acct, params = await self._signed(request)
        symbol = params.get("symbol") or None
        if symbol is not None:
            self.venue.spec(USDM, symbol)
        return _json(wire.symbol_config(self.venue, acct, symbol))

    async def _listen_key_new(self, request: web.Request) -> web.Response:
        acct = self._api_key_account(request)
        return _json({"listenKey": self.venue.new_listen_key(acct)})

    async def _listen_key_keepalive(self, request: web.Request) -> web.Response:
        acct = self._api_key_account(request)
        return _json({"listenKey": self.venue.keep_alive(acct)})

    async def _listen_key_delete(self, request: web.Request) -> web.Response:
        acct = self._api_key_account(request)
        acct.listen_key = None
        for conn in list(self._conns):
            if conn.kind == "private" and conn.account == acct.name:
                self._conns.discard(conn)
                await conn.close()
        return _json({})

    # ------------------------------------------------------------------ websockets

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        # ccxt appends a stream index (``/ws/0``); Binance takes ``/ws/<stream>`` the same way.
        base = path.rstrip("/")
        if base == "/ws-api/v3":
            kind = "wsapi"
        elif base == "/fstream/private/ws" or (
            base.startswith("/fstream/ws/")
            and self.venue.account_for_listen_key(base.rsplit("/", 1)[-1])
        ):
            kind = "private"
        elif _under(base, "/ws") or _under(base, "/stream"):
            kind = "public-spot"
        elif any(
            _under(base, p)
            for p in ("/fstream/ws", "/fstream/public/ws", "/fstream/market/ws", "/fstream/stream")
        ):
            kind = "public-usdm"
        else:
            return web.Response(status=404, text="")
        account: Account | None = None
        if kind == "private":
            key = request.query.get("listenKey") or path.rsplit("/", 1)[-1]
            account = self.venue.account_for_listen_key(key)
            if account is None:
                return _json({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        conn = _Conn(ws, kind)
        conn.account = account.name if account else None
        self._conns.add(conn)
        if account is not None:
            self._fill_on_subscribe(USDM, account.name)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                if kind == "wsapi":
                    self._ws_api(conn, data)
                elif kind.startswith("public"):
                    self._ws_subscribe(conn, data)
        finally:
            self._conns.discard(conn)
            conn.queue.put_nowait(None)
        return ws

    def _ws_subscribe(self, conn: _Conn, data: dict[str, Any]) -> None:
        method = data.get("method")
        params = [str(p) for p in data.get("params") or []]
        if method == "SUBSCRIBE":
            conn.streams.update(params)
            conn.send({"result": None, "id": data.get("id")})
        elif method == "UNSUBSCRIBE":
            conn.streams.difference_update(params)
            conn.send({"result": None, "id": data.get("id")})
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send({"result": sorted(conn.streams), "id": data.get("id")})
        else:
            conn.send(
                {
                    "error": {"code": 2, "msg": f"Invalid request: unknown method {method}"},
                    "id": data.get("id"),
                }
            )

    def _ws_api(self, conn: _Conn, data: dict[str, Any]) -> None:
        rid = data.get("id")
        method = data.get("method")
        params = data.get("params") or {}
        limits = [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.limits.weight_per_window,
                "count": 2,
            }
        ]
        try:
            if method == "ping":
                result: Any = {}
            elif method == "time":
                result = {"serverTime": self.venue.now_ms()}
            elif method == "userDataStream.subscribe.signature":
                acct = self._ws_signed(params)
                self._sub_ids += 1
                conn.subs[self._sub_ids] = acct.name
                conn.send(
                    {
                        "id": rid,
                        "status": 200,
                        "result": {"subscriptionId": self._sub_ids},
                        "rateLimits": limits,
                    }
                )
                self._fill_on_subscribe(SPOT, acct.name)
                return
            elif method == "userDataStream.unsubscribe":
                sid = params.get("subscriptionId")
                ids = [int(sid)] if sid is not None else list(conn.subs)
                for i in ids:
                    if conn.subs.pop(i, None) is not None:
                        conn.send(
                            {
                                "subscriptionId": i,
                                "event": {"e": "eventStreamTerminated", "E": self.venue.now_ms()},
                            }
                        )
                result = {}
            elif method in ("userDataStream.start", "userDataStream.ping", "userDataStream.stop"):
                raise VenueError(-1020, "This operation is not supported.")
            else:
                raise VenueError(-1000, f"Unknown method {method}.")
        except VenueError as err:
            conn.send({"id": rid, "status": err.status, "error": err.body(), "rateLimits": limits})
            return
        conn.send({"id": rid, "status": 200, "result": result, "rateLimits": limits})

    def _ws_signed(self, params: dict[str, Any]) -> Account:
        """WS-API signature: HMAC-SHA256 of the params (but ``signature``) sorted by name."""
        key = str(params.get("apiKey", ""))
        acct = self.venue.by_key.get(key)
        if acct is None or not key:
            raise VenueError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        expected = hmac.new(acct.cfg.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, str(params.get("signature", ""))):
            raise VenueError(-1022, "Signature for this request is not valid.")
        self._check_timestamp({k: str(v) for k, v in params.items()})
        return acct


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


def _position_notional(venue: FakeVenue, acct: Account, symbol: str) -> Decimal:
    """The account's position notional in ``symbol`` (both legs), at the mark (else entry)."""
    total = Decimal(0)
    for (sym, _ps), pos in acct.positions.items():
        if sym == symbol and pos.amt:
            total += abs(pos.amt) * venue.mark_prices.get(sym, pos.entry)
    return total


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _is_trade(event: dict[str, Any]) -> bool:
    if event.get("e") == "executionReport":
        return event.get("x") == "TRADE"
    if event.get("e") == "ORDER_TRADE_UPDATE":
        return bool(event.get("o", {}).get("x") == "TRADE")
    return False


def _window(orders: list[Order], params: dict[str, str]) -> list[Order]:
    if "orderId" in params:
        orders = [o for o in orders if o.order_id >= int(params["orderId"])]
    if "startTime" in params:
        orders = [o for o in orders if o.time >= int(params["startTime"])]
    if "endTime" in params:
        orders = [o for o in orders if o.time <= int(params["endTime"])]
    limit = int(params.get("limit", "500"))
    return orders[:limit] if "orderId" in params else orders[-limit:]
