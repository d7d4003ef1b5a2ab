"""The Binance dialect's server: one aiohttp app on its own port (``ATLAS_BINANCE_PORT``; off
by default) in front of the Atlas node, started by ``atlas serve`` from
:func:`atlas_oms.service.interfaces.attach_interfaces` as :func:`serve_binance`.

Every request goes through :meth:`Dialect.handle`: the route table (``(method, path) ->``
:class:`~atlas_oms.binance_api.table.Route`), the per-IP request weight
(``X-MBX-USED-WEIGHT-1M`` on every answer, -1003 over ``binance_weight_per_minute``), the
route's security (:class:`~atlas_oms.binance_api.table.Security`: ``X-MBX-APIKEY`` -> the
Atlas key and its account (keys.py), HMAC-SHA256 of the query string + body with the derived
secret (-1022), the ``timestamp``/``recvWindow`` rule (-1021), the key's token bucket
(``service.rate_limit``) and its right to the account (-2015)), then the handler, whose answer
is encoded as Binance's compact JSON (Decimals as exact strings) or whose
:class:`~atlas_oms.binance_api.errors.BinanceError` becomes ``{"code": .., "msg": ..}`` with
its HTTP status. Atlas refusals translate (errors.py); a commit timeout is Binance's own
"unknown": HTTP 503, -1007. Each request counts in ``atlas_interface_requests_total`` (interface
``binance``, method ``GET /api/v3/depth``, outcome ``ok`` or the reason) and writes one JSON
line to ``atlas.access``.

REGISTERING ROUTES. A module contributes a *route provider*: a function
``(dialect) -> list[Route]``, listed in :data:`ROUTE_PROVIDERS` below by its dotted name
(``"atlas_oms.binance_api.spot_market:spot_market_routes"``). The spot dialect's providers are
``spot_market`` (public market data), ``spot_trade`` (account, orders) and ``spot_ws`` (the
``/ws``, ``/stream`` and ``/ws-api/v3`` WebSockets). The USDⓈ-M dialect adds its line, e.g.
``"atlas_oms.binance_api.futures_rest:futures_routes"``. A provider may keep state on the
dialect (``dialect.extras[name]``), use ``dialect.service`` / ``dialect.node`` /
``dialect.hub``, listen to durable events with ``dialect.hub.on_durable(listener)``, authorize
a WebSocket's key with :meth:`Dialect.authorize`, and a WebSocket route is ``Route("WS",
path, 0, Security.NONE, handler)`` whose handler returns the ``web.WebSocketResponse``.
Symbols: ``dialect.spot_symbols`` (:class:`~atlas_oms.binance_api.symbols.Symbols`); a futures
module makes its own ``Symbols(node, InstrumentKind.PERPETUAL)``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import importlib
import json
import logging
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from atlas_oms.binance_api.errors import BinanceError, invalid_key, mandatory, translate
from atlas_oms.binance_api.keys import derived_secret, resolve, server_secret
from atlas_oms.binance_api.symbols import Symbols
from atlas_oms.binance_api.table import Call, Route, Security
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.live import CommitTimeout
from atlas_oms.service.app import Problem
from atlas_oms.service.keys import ApiKey
from atlas_oms.service.logs import redact

if TYPE_CHECKING:
    from atlas_oms.runtime.node import Node
    from atlas_oms.service.app import Service
    from atlas_oms.service.stream import StreamHub

#: The route providers, by dotted name ``module:function`` (see the module doc). ONE LINE EACH.
ROUTE_PROVIDERS: list[str] = [
    "atlas_oms.binance_api.spot_market:spot_market_routes",
    "atlas_oms.binance_api.spot_trade:spot_trade_routes",
    "atlas_oms.binance_api.spot_ws:spot_ws_routes",
    "atlas_oms.binance_api.futures_rest:futures_routes",
]

INTERFACE = "binance"
access = logging.getLogger("atlas.access")
log = logging.getLogger("atlas.binance")


def now_ms() -> int:
    """Binance's clock: wall-clock milliseconds (what clients sign their timestamps with)."""
    return int(time.time() * 1000)


def dumps(payload: Any) -> str:
    """Binance's compact JSON; Decimals as exact strings (never an exponent)."""
    return json.dumps(payload, separators=(",", ":"), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return num(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def num(value: Decimal | int | None) -> str:
    """An exact decimal string (``"0.00100000"`` stays as given, ``1E+2`` becomes ``"100"``)."""
    if value is None:
        return "0"
    if isinstance(value, int):
        return str(value)
    return format(value, "f")


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=dumps(payload), status=status, headers=headers, content_type="application/json"
    )


@dataclass
class _Weight:
    window_start: float = 0.0
    used: int = 0


@dataclass
class _Orders:
    """An account's new-order times, oldest first: within the last day, and the last 10 s
    (expired ones leave from the left: O(1) an order, not a pass over the day's orders)."""

    day: deque[float] = field(default_factory=deque)
    ten: deque[float] = field(default_factory=deque)


class Dialect:
    """The Binance dialect over one Atlas service (see the module doc)."""

    def __init__(self, service: Service, hub: StreamHub, providers: list[str] | None = None):
        self.service = service
        self.hub = hub
        settings = service.settings
        self.secret = server_secret(settings.data_dir)
        self.weight_per_minute = settings.binance_weight_per_minute
        self.orders_per_10s = settings.binance_orders_per_10s
        self.orders_per_day = settings.binance_orders_per_day
        self.spot_symbols = Symbols(service.node)
        self.routes: dict[tuple[str, str], Route] = {}
        self.extras: dict[str, Any] = {}
        self._weights: dict[str, _Weight] = {}
        self._orders: dict[str, _Orders] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        for dotted in ROUTE_PROVIDERS if providers is None else providers:
            module, _, name = dotted.partition(":")
            provider = getattr(importlib.import_module(module), name)
            for route in provider(self):
                self.add(route)

    @property
    def node(self) -> Node:
        return self.service.node

    def add(self, route: Route) -> None:
        method = "GET" if route.method == "WS" else route.method
        if (method, route.path) in self.routes:
            raise ValueError(f"two routes for {route.name}")
        self.routes[(method, route.path)] = route

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        log.info("binance dialect listening on %s:%d", host, self.port)

    async def stop(self) -> None:
        for close in list(self.extras.get("on_stop", [])):
            await close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ requests
    async def handle(self, request: web.Request) -> web.StreamResponse:
        start = time.perf_counter()
        route = self.routes.get((request.method, request.path))
        call = Call(self, request, {})
        if route is None and request.headers.get("Upgrade", "").lower() == "websocket":
            route = self._ws_prefix(request.path)
        if route is not None and route.method == "WS":
            if request.headers.get("Upgrade", "").lower() != "websocket":
                return json_response({"code": -1100, "msg": "WebSocket only."}, status=400)
            return await route.handler(call)
        name = route.name if route is not None else "unknown"
        ip = request.remote or "?"
        weight = 1
        if route is not None:
            weight = route.weight
            if route.weight_without_symbol is not None and "symbol" not in request.query:
                weight = route.weight_without_symbol
        outcome = "ok"
        try:
            self._charge(ip, weight)
            if route is None:
                raise BinanceError(
                    -1100, f"Unknown endpoint {request.method} {request.path}.", 404, "NOT_FOUND"
                )
            call.raw_body, call.params = await self._params(request)
            if route.security.keyed:
                await self._authenticate(call, route.security)
            answer = await route.handler(call)
            if isinstance(answer, web.StreamResponse):
                response: web.StreamResponse = answer
            else:
                response = json_response(answer, headers=call.headers or None)
        except (BinanceError, Problem, CommandRefused, CommitTimeout) as exc:
            failure = translate(exc)
            outcome = failure.outcome
            response = self._error(call, failure, name)
        if not response.prepared:
            response.headers["X-MBX-USED-WEIGHT-1M"] = str(self._weights[ip].used)
        elapsed = time.perf_counter() - start
        metrics = self.service.metrics
        metrics.api_requests.labels(INTERFACE, name, outcome).inc()
        metrics.api_latency.labels(INTERFACE).observe(elapsed)
        self._access(request, call, name, response.status, outcome, elapsed)
        return response

    def _ws_prefix(self, path: str) -> Route | None:
        """A WebSocket route takes the paths under it (``/ws/0``, ``/ws/btcusdt@trade``)."""
        best: Route | None = None
        for route in self.routes.values():
            under = route.method == "WS" and path.startswith(route.path + "/")
            if under and (best is None or len(route.path) > len(best.path)):
                best = route
        return best

    def log_session(self, call: Call, kind: str, elapsed: float) -> None:
        """The access line of a finished WebSocket session."""
        if access.isEnabledFor(logging.INFO):
            request = call.request
            access.info(
                "websocket",
                extra={
                    "interface": INTERFACE,
                    "method": f"WS {kind}",
                    "path": redact(request.path),
                    "status": 101,
                    "outcome": "ok",
                    "duration_ms": round(elapsed * 1000, 3),
                    "key_id": call.key.key_id if call.key else None,
                    "account_id": call.account,
                    "client": request.remote,
                },
            )

    def _error(self, call: Call, err: BinanceError, name: str) -> web.Response:
        headers = {"Retry-After": "10"} if err.status == 429 else None
        if err.status >= 400 and err.code not in (-1003,):
            log.info(
                "refused",
                extra={
                    "interface": INTERFACE,
                    "method": name,
                    "status": err.status,
                    "code": err.code,
                    "reason": err.outcome,
                    "detail": err.msg,
                    "key_id": call.key.key_id if call.key else None,
                    "account_id": call.account,
                },
            )
        return json_response(err.body(), status=err.status, headers=headers)

    def _access(
        self,
        request: web.Request,
        call: Call,
        name: str,
        status: int,
        outcome: str,
        elapsed: float,
    ) -> None:
        if not access.isEnabledFor(logging.INFO):
            return
        path = request.path + (f"?{request.query_string}" if request.query_string else "")
        access.info(
            "request",
            extra={
                "interface": INTERFACE,
                "method": name,
                "path": redact(path),
                "status": status,
                "outcome": outcome,
                "duration_ms": round(elapsed * 1000, 3),
                "key_id": call.key.key_id if call.key else None,
                "account_id": call.account,
                "client": request.remote,
            },
        )

    def _charge(self, ip: str, weight: int) -> None:
        now = time.monotonic()
        st = self._weights.setdefault(ip, _Weight(window_start=now))
        if now - st.window_start >= 60:
            st.window_start = now - (now - st.window_start) % 60
            st.used = 0
        st.used += weight
        if st.used > self.weight_per_minute:
            raise BinanceError(
                -1003,
                f"Too much request weight used; current limit is {self.weight_per_minute} request"
                " weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid"
                " polling the API.",
                429,
                "RATE_LIMITED",
            )

    async def _params(self, request: web.Request) -> tuple[str, dict[str, str]]:
        """(the raw body, the merged params: the query wins over the body)."""
        raw_body = (await request.text()) if request.can_read_body else ""
        params = dict(parse_qsl(raw_body, keep_blank_values=True))
        params.update(parse_qsl(request.query_string, keep_blank_values=True))
        return raw_body, params

    async def _authenticate(self, call: Call, security: Security) -> None:
        api_key = call.request.headers.get("X-MBX-APIKEY", "")
        found = resolve(self.service.keys, api_key) if api_key else None
        if found is None:
            raise invalid_key()
        key, account = found
        call.key = key
        if security.signed:
            raw_query = call.request.query_string
            self.check_signature(api_key, raw_query, call.raw_body, call.params)
        self.service.rate_limit(key)  # Problem 429 -> -1003
        if security is Security.MARKET_DATA:
            return
        call.account = self.authorize(key, account, trade=security is Security.TRADE)

    def check_signature(
        self, api_key: str, raw_query: str, raw_body: str, params: dict[str, str]
    ) -> None:
        """HMAC-SHA256 over the query string (without ``signature``) + the body, with the
        key's derived secret (-1022), then the timestamp rule (-1021)."""
        signature = params.get("signature")
        if not signature:
            raise mandatory("signature")
        payload = strip_signature(raw_query) + strip_signature(raw_body)
        self.check_payload(api_key, payload, signature)
        check_timestamp(params)

    def check_payload(self, api_key: str, payload: str, signature: str) -> None:
        secret = derived_secret(self.secret, api_key)
        expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise BinanceError(
                -1022, "Signature for this request is not valid.", 400, "BAD_SIGNATURE"
            )

    def authorize(self, key: ApiKey, account: str | None, *, trade: bool) -> str:
        """The account a key acts for, if it may (-2015 otherwise, whether the account does not
        exist or is someone else's: no probing)."""
        service = self.service
        if account is None or service.node.account(account) is None:
            raise invalid_key("UNKNOWN_ACCOUNT")
        allowed = service.may_trade(key, account) if trade else service.visible(key, account)
        if not allowed:
            raise invalid_key(
                "FORBIDDEN_ROLE" if service.visible(key, account) else "UNKNOWN_ACCOUNT"
            )
        return account

    def count_order(self, call: Call) -> None:
        """Count a new order of the call's account (-1015 over the 10 s or day limit) and set
        the ``X-MBX-ORDER-COUNT-10S`` / ``-1D`` headers."""
        now = time.monotonic()
        counts = self._orders.setdefault(call.account_id, _Orders())
        for stamps, window in ((counts.day, 86400), (counts.ten, 10)):
            while stamps and stamps[0] <= now - window:
                stamps.popleft()
        ten = len(counts.ten)
        if ten >= self.orders_per_10s:
            raise BinanceError(
                -1015,
                f"Too many new orders; current limit is {self.orders_per_10s} orders per 10 SECOND.",
                429,
                "RATE_LIMITED",
            )
        if len(counts.day) >= self.orders_per_day:
            raise BinanceError(
                -1015,
                f"Too many new orders; current limit is {self.orders_per_day} orders per DAY.",
                429,
                "RATE_LIMITED",
            )
        counts.day.append(now)
        counts.ten.append(now)
        call.headers["X-MBX-ORDER-COUNT-10S"] = str(ten + 1)
        call.headers["X-MBX-ORDER-COUNT-1D"] = str(len(counts.day))

    async def durable(self) -> None:
        """Wait for the group commit (CommitTimeout -> 503 -1007 in :meth:`handle`)."""
        await self.service.durable()


def strip_signature(raw: str) -> str:
    """A raw query string or form body without its ``signature=`` pair, otherwise byte-exact."""
    if not raw:
        return ""
    return "&".join(p for p in raw.split("&") if not p.startswith("signature="))


def check_timestamp(params: dict[str, str]) -> None:
    """Binance's rule: ``timestamp < serverTime + 1000`` and ``serverTime - timestamp <=
    recvWindow`` (default 5000, at most 60000)."""
    try:
        ts = int(params["timestamp"])
    except (KeyError, ValueError):
        raise mandatory("timestamp") from None
    if ts > 10**14:  # microseconds
        ts //= 1000
    try:
        window = Decimal(params.get("recvWindow", "5000"))
    except ArithmeticError:
        raise mandatory("recvWindow") from None
    if window > 60000:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    now = now_ms()
    if ts >= now + 1000:
        raise BinanceError(
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
            400,
            "SIGNATURE_EXPIRED",
        )
    if now - ts > window:
        raise BinanceError(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
            400,
            "SIGNATURE_EXPIRED",
        )


async def serve_binance(service: Service, hub: StreamHub, host: str, port: int) -> None:
    """Run the dialect until cancelled (a task of ``atlas serve``'s live runtime)."""
    dialect = Dialect(service, hub)
    await dialect.start(host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await dialect.stop()


__all__ = [
    "INTERFACE",
    "ROUTE_PROVIDERS",
    "Dialect",
    "check_timestamp",
    "dumps",
    "json_response",
    "now_ms",
    "num",
    "serve_binance",
    "strip_signature",
]
