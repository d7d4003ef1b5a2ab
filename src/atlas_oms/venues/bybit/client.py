"""The ccxt (4.5.90) client of one Bybit v5 account, with Atlas's hooks (as for Binance,
``venues/binance/client.py``): the gateway's limiter before each request, every HTTP answer's
status and headers (``X-Bapi-Limit-Status``…) to ``on_response``, Bybit's own ``retCode`` /
``retMsg`` raised as :class:`BybitHttpError` (never ccxt's classes), and every raw WebSocket
message and connection change to the adapter before ccxt's caches.

Every URL ccxt would use is rebased on :class:`BybitEndpoints`; the unified-account options
are preset so ccxt makes no hidden ``/v5/user/query-api`` or ``/v5/account/info`` calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ccxt
import ccxt.pro


@dataclass(frozen=True)
class BybitEndpoints:
    """``rest_url``: scheme and host (``/v5/...`` is appended); ``ws_url``: scheme and host of
    the streams (``/v5/private``, ``/v5/public/<category>`` are appended)."""

    rest_url: str = "https://api.bybit.com"
    ws_url: str = "wss://stream.bybit.com"


class BybitHttpError(ccxt.ExchangeError):
    def __init__(self, status: int, code: int | None, msg: str) -> None:
        super().__init__(f"HTTP {status} {code if code is not None else ''} {msg}".strip())
        self.status = status
        self.code = code
        self.msg = msg


#: Paths that place, cancel or amend (the limiter's ``is_order``).
ORDER_PATHS = frozenset({"v5/order/create", "v5/order/cancel", "v5/order/amend"})


class AtlasBybit(ccxt.pro.bybit):
    atlas_before_request: Callable[[int, bool], Awaitable[None]] | None = None
    atlas_on_response: Callable[[int, Mapping[str, str]], None] | None = None
    atlas_on_message: Callable[[str, Any], bool] | None = None
    atlas_on_connection: Callable[[str, bool], None] | None = None

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
            await hook(1, path in ORDER_PATHS)
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
        ret: int | None = None
        msg = ""
        if isinstance(response, dict):
            try:
                ret = int(str(response.get("retCode", response.get("ret_code", 0))))
            except (TypeError, ValueError):
                ret = None
            msg = str(response.get("retMsg") or response.get("ret_msg") or "")
        status = int(code or 0)
        if status >= 400 or (ret is not None and ret != 0):
            if not msg:
                msg = f"{reason or ''} {(body or '')[:200]}".strip()
            raise BybitHttpError(status, ret, msg)

    def handle_message(self, client: Any, message: Any) -> None:
        sink = self.atlas_on_message
        if sink is not None and sink(str(client.url), message):
            return  # translated by the adapter; ccxt's caches are not Atlas's truth
        with contextlib.suppress(Exception):
            super().handle_message(client, message)

    def on_connected(self, client: Any, message: Any = None) -> None:
        super().on_connected(client, message)
        if self.atlas_on_connection is not None:
            self.atlas_on_connection(str(client.url), True)

    def on_close(self, client: Any, error: Any) -> None:
        if self.atlas_on_connection is not None:
            self.atlas_on_connection(str(client.url), False)
        super().on_close(client, error)

    def on_error(self, client: Any, error: Any) -> None:
        if self.atlas_on_connection is not None:
            self.atlas_on_connection(str(client.url), False)
        super().on_error(client, error)


def build_client(
    endpoints: BybitEndpoints,
    *,
    api_key: str,
    secret: str,
    category: str,
    recv_window_ms: int = 5000,
    timeout_ms: int = 10_000,
    options: Mapping[str, Any] | None = None,
) -> Any:
    opts: dict[str, Any] = {
        "enableUnifiedAccount": True,
        "enableUnifiedMargin": False,
        "unifiedMarginStatus": 5,
        "recvWindow": recv_window_ms,
        "timeDifference": 0,
        "adjustForTimeDifference": False,
        "defaultType": "spot" if category == "spot" else "swap",
        "defaultSubType": "linear",
        "loadAllOptions": False,
        "fetchMarkets": {"types": ["spot" if category == "spot" else "linear"]},
        "fetchCurrencies": False,
    }
    opts.update(options or {})
    client = AtlasBybit(
        {
            "apiKey": api_key,
            "secret": secret,
            "enableRateLimit": False,
            "timeout": timeout_ms,
            "options": opts,
        }
    )
    rest = endpoints.rest_url.rstrip("/")
    ws = endpoints.ws_url.rstrip("/")
    api: dict[str, Any] = {key: rest for key in ("spot", "futures", "v2", "public", "private")}
    api["ws"] = {
        "public": {c: f"{ws}/v5/public/{c}" for c in ("spot", "linear", "inverse", "option")},
        "private": {
            "spot": {"unified": f"{ws}/v5/private", "nonUnified": f"{ws}/v5/private"},
            "contract": f"{ws}/v5/private",
            "usdc": f"{ws}/v5/private",
            "trade": f"{ws}/v5/trade",
        },
    }
    client.urls["api"] = api
    for name in ("test", "demotrading"):
        client.urls.pop(name, None)
    return client


def private_url(endpoints: BybitEndpoints) -> str:
    return endpoints.ws_url.rstrip("/") + "/v5/private"


def set_time_offset(client: Any, offset_ns: int) -> None:
    client.options["timeDifference"] = -round(offset_ns / 1_000_000)
