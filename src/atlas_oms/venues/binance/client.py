"""The ccxt client of one Binance venue account, with Atlas's hooks.

ccxt does the transport (aiohttp REST, ccxt.pro WebSockets), request signing, the WS-API and
listenKey authentication and the reconnection of streams. Atlas adds, by subclassing:

- ``fetch2``: awaits the gateway's ``before_request(weight, is_order)`` (Atlas's own limiter
  paces requests; ccxt's ``enableRateLimit`` is off);
- ``on_rest_response``: hands every HTTP answer's status and headers to ``on_response`` (the
  ``X-MBX-USED-WEIGHT-*`` headers feed the limiter);
- ``handle_errors``: raises :class:`BinanceHttpError` carrying the HTTP status and Binance's own
  ``code``/``msg`` (ccxt's classes depend on the URL, §0.3 of the reference);
- ``handle_message``/``on_connected``/``on_close``/``on_error``: every raw WebSocket message and
  every connection change is handed to the adapter before ccxt's own caches see it (those
  coalesce rapid updates, ccxt#22719).

Every base URL ccxt would use for the venue is rebased on :class:`BinanceEndpoints`, so a test or
a testnet never reaches a production host by accident.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import ccxt
import ccxt.pro

from atlas_oms.venues.binance.endpoints import BinanceEndpoints

#: (url, message) for every WebSocket message; (url, connected) for every connection change.
MessageSink = Callable[[str, Any], None]
ConnectionSink = Callable[[str, bool], None]

_AnyBase: Any = object


class BinanceHttpError(ccxt.ExchangeError):
    """A REST answer Binance refused: the HTTP status and the venue's own code and message."""

    def __init__(
        self, status: int, code: int | None, msg: str, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"HTTP {status} {code if code is not None else ''} {msg}".strip())
        self.status = status
        self.code = code
        self.msg = msg
        self.retry_after_s = retry_after_s


# Request weights (reference/venues.md §1.2, §1.3); anything not listed weighs 1.
_SPOT_WEIGHTS = {
    ("GET", "order"): 4,
    ("GET", "openOrders"): 6,
    ("GET", "allOrders"): 20,
    ("GET", "myTrades"): 20,
    ("GET", "account"): 20,
    ("GET", "exchangeInfo"): 20,
    ("PUT", "order/amend/keepPriority"): 4,
}
_FAPI_WEIGHTS = {
    ("GET", "userTrades"): 5,
    ("GET", "account"): 5,
    ("GET", "positionRisk"): 5,
    ("GET", "allOrders"): 5,
    ("GET", "positionSide/dual"): 30,
}
_ORDER_PATHS = {"order", "order/amend/keepPriority"}


def request_weight(path: str, api: Any, method: str, params: Mapping[str, Any]) -> int:
    """Binance's weight for a request (the limiter's unit)."""
    name = api[0] if isinstance(api, (list, tuple)) and api else str(api)
    futures = str(name).startswith("fapi")
    key = (method.upper(), path)
    if path == "openOrders" and method.upper() == "GET" and "symbol" not in params:
        return 40 if futures else 80
    if not futures and key == ("GET", "myTrades") and "orderId" in params:
        return 5
    return (_FAPI_WEIGHTS if futures else _SPOT_WEIGHTS).get(key, 1)


def is_order_request(path: str, method: str) -> bool:
    return path in _ORDER_PATHS and method.upper() in ("POST", "PUT", "DELETE")


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class AtlasHooks(_AnyBase):
    """The hooks shared by the spot and USDⓈ-M clients (mixed in before the ccxt class)."""

    atlas_before_request: Callable[[int, bool], Awaitable[None]] | None = None
    atlas_on_response: Callable[[int, Mapping[str, str]], None] | None = None
    atlas_on_message: MessageSink | None = None
    atlas_on_connection: ConnectionSink | None = None

    async def fetch2(
        self,
        path: str,
        api: Any = "public",
        method: str = "GET",
        params: Any = None,
        config: Any = None,
    ) -> Any:
        params = {} if params is None else params
        hook = self.atlas_before_request
        if hook is not None:
            await hook(request_weight(path, api, method, params), is_order_request(path, method))
        return await super().fetch2(path, api, method, params, config or {})

    def on_rest_response(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        response_headers: Mapping[str, str],
        response_body: str,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        hook = self.atlas_on_response
        if hook is not None:
            hook(int(code), dict(response_headers or {}))
        return super().on_rest_response(
            code,
            reason,
            url,
            method,
            response_headers,
            response_body,
            request_headers,
            request_body,
        )

    def handle_errors(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: Mapping[str, str] | None,
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> None:
        venue_code: int | None = None
        msg = ""
        if isinstance(response, dict):
            venue_code = _int_or_none(response.get("code"))
            msg = str(response.get("msg") or "")
        status = int(code or 0)
        if status >= 400 or (venue_code is not None and venue_code < 0):
            retry_after = None
            for key, value in (headers or {}).items():
                if key.lower() == "retry-after":
                    try:
                        retry_after = float(value)
                    except ValueError:
                        retry_after = None
            if not msg and status >= 400:
                msg = f"{reason or ''} {(body or '')[:200]}".strip()
            raise BinanceHttpError(status, venue_code, msg, retry_after)

    # ------------------------------------------------------------------ WebSocket capture
    def handle_message(self, client: Any, message: Any) -> None:
        sink = self.atlas_on_message
        if sink is not None:
            sink(str(client.url), message)
        if _translated(message):
            # Atlas translated it (parse.py); ccxt's order, trade and balance caches are not
            # Atlas's source of truth and would cost a third of the node's CPU per message.
            return
        # Everything else (subscription answers, listenKeyExpired, eventStreamTerminated, public
        # data) goes on to ccxt, which keeps the connection and its subscriptions. A failure in
        # its caches must not stop us.
        with contextlib.suppress(Exception):
            super().handle_message(client, message)

    def on_connected(self, client: Any, message: Any = None) -> None:
        super().on_connected(client, message)
        sink = self.atlas_on_connection
        if sink is not None:
            sink(str(client.url), True)

    def on_close(self, client: Any, error: Any) -> None:
        sink = self.atlas_on_connection
        if sink is not None:
            sink(str(client.url), False)
        super().on_close(client, error)

    def on_error(self, client: Any, error: Any) -> None:
        sink = self.atlas_on_connection
        if sink is not None:
            sink(str(client.url), False)
        super().on_error(client, error)


class AtlasBinance(AtlasHooks, ccxt.pro.binance):
    """Binance spot with Atlas's hooks."""


class AtlasBinanceUsdm(AtlasHooks, ccxt.pro.binanceusdm):
    """Binance USDⓈ-M futures with Atlas's hooks."""


def rebase(url: str, base: str) -> str:
    """``url`` with its scheme and host replaced by ``base`` (whose own path is kept as a
    prefix): ``https://api.binance.com/api/v3`` on ``http://127.0.0.1:9/`` →
    ``http://127.0.0.1:9/api/v3``."""
    return base.rstrip("/") + urlsplit(url).path


def rebase_rest_urls(api_urls: dict[str, Any], rest_url: str) -> dict[str, Any]:
    """Every REST entry of ccxt's ``urls['api']`` rebased on ``rest_url``."""
    return {
        key: rebase(value, rest_url) if isinstance(value, str) else value
        for key, value in api_urls.items()
    }


def build_client(
    venue: str,
    endpoints: BinanceEndpoints,
    *,
    api_key: str,
    secret: str,
    recv_window_ms: int = 5000,
    timeout_ms: int = 10_000,
    options: Mapping[str, Any] | None = None,
) -> Any:
    """A ccxt.pro client for ``venue`` (``binance`` or ``binanceusdm``) at ``endpoints``."""
    futures = venue == "binanceusdm"
    cls = AtlasBinanceUsdm if futures else AtlasBinance
    opts: dict[str, Any] = {
        "fetchCurrencies": False,
        "fetchMargins": False,
        "fetchMarkets": {"types": ["linear" if futures else "spot"]},
        "recvWindow": recv_window_ms,
        "timeDifference": 0,
        "adjustForTimeDifference": False,
        "defaultType": "swap" if futures else "spot",
        "warnOnFetchOpenOrdersWithoutSymbol": False,
    }
    opts.update(options or {})
    client = cls(
        {
            "apiKey": api_key,
            "secret": secret,
            "enableRateLimit": False,
            "timeout": timeout_ms,
            "options": opts,
        }
    )
    urls = client.urls
    api = dict(urls["api"])
    ws = dict(api.get("ws") or {})
    ws_api = dict(ws.get("ws-api") or {})
    rest = rebase_rest_urls({k: v for k, v in api.items() if k != "ws"}, endpoints.rest_url)
    if futures:
        ws["linear"] = endpoints.ws_url
        if endpoints.ws_api_url:
            ws_api["linear"] = endpoints.ws_api_url
    else:
        ws["spot"] = endpoints.ws_url
        ws["margin"] = endpoints.ws_url
        if endpoints.ws_api_url:
            ws_api["spot"] = endpoints.ws_api_url
    ws["ws-api"] = ws_api
    rest["ws"] = ws
    urls["api"] = rest
    # No sandbox or demo tables: a sandbox switch would bring back production-adjacent hosts.
    urls.pop("test", None)
    urls.pop("demo", None)
    return client


def set_time_offset(client: Any, offset_ns: int) -> None:
    """Sign with the venue's clock: ccxt's ``timeDifference`` is local minus venue, in ms."""
    client.options["timeDifference"] = -round(offset_ns / 1_000_000)


#: User-data events the adapter translates itself (never handed to ccxt's caches).
TRANSLATED_EVENTS = frozenset(
    {
        "executionReport",
        "outboundAccountPosition",
        "balanceUpdate",
        "ORDER_TRADE_UPDATE",
        "ACCOUNT_UPDATE",
        "TRADE_LITE",
    }
)


def _translated(message: Any) -> bool:
    if not isinstance(message, dict):
        return False
    event = message.get("event")
    body = event if isinstance(event, dict) else message
    return body.get("e") in TRANSLATED_EVENTS
