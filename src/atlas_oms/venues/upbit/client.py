"""The ccxt client of one Upbit account (``ccxt.pro.upbit`` 4.5.90) with Atlas's hooks.

ccxt signs (JWT HS256 with ``query_hash``), does the transport and keeps the private WebSocket
(``myOrder``/``myAsset`` on ``/websocket/v1/private``: ccxt.pro supports it, so no hand-made
aiohttp client is needed). Atlas adds:

- ``fetch2``: awaits the gateway's ``before_request(weight, is_order)``;
- ``on_rest_response``: turns Upbit's ``Remaining-Req: group=order; min=1800; sec=7`` into the
  limiter's headers ``x-upbit-used-<group>-1s`` (the limit less ``sec``) and hands them on;
- ``handle_errors``: raises :class:`UpbitHttpError` with the HTTP status and Upbit's own
  ``error.name``/``error.message`` (never ccxt's class);
- the WebSocket capture (every raw message to the adapter before ccxt's caches);
- a fresh JWT (new nonce) for every (re)connection of the private stream: ccxt caches the first
  token in ``options['ws']['token']`` and would replay its nonce on reconnect.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import ccxt
import ccxt.pro

#: Upbit's per-second limits by ``Remaining-Req`` group (reference/venues.md §1.6).
GROUP_LIMITS = {"order": 8, "default": 30}

_UpbitBase: Any = ccxt.pro.upbit


class UpbitHttpError(ccxt.ExchangeError):
    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(f"HTTP {status} {name} {message}".strip())
        self.status = status
        self.name = name
        self.message = message


def parse_remaining_req(value: str) -> tuple[str, int | None, int | None]:
    """``group=default; min=1800; sec=29`` → (``default``, 1800, 29)."""
    parts: dict[str, str] = {}
    for item in value.split(";"):
        if "=" in item:
            key, _, val = item.partition("=")
            parts[key.strip().lower()] = val.strip()

    def integer(key: str) -> int | None:
        try:
            return int(parts[key])
        except (KeyError, ValueError):
            return None

    return parts.get("group", "default"), integer("min"), integer("sec")


def limiter_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The answer's headers plus ``x-upbit-used-<group>-1s`` read from ``Remaining-Req``."""
    out = dict(headers)
    for key, value in headers.items():
        if key.lower() == "remaining-req":
            group, _, left = parse_remaining_req(value)
            limit = GROUP_LIMITS.get(group)
            if limit is not None and left is not None:
                out[f"x-upbit-used-{group}-1s"] = str(max(0, limit - left))
    return out


def is_order_request(path: str, method: str) -> bool:
    return path in ("orders", "order", "orders/cancel_and_new") and method in ("POST", "DELETE")


class AtlasUpbit(_UpbitBase):
    atlas_before_request: Callable[[int, bool], Awaitable[None]] | None = None
    atlas_on_response: Callable[[int, Mapping[str, str]], None] | None = None
    atlas_on_message: Callable[[str, Any], None] | None = None
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
            order = is_order_request(path, method.upper())
            # order requests are metered in the ``order`` group only
            await hook(0 if order else 1, order)
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
            hook(int(code), limiter_headers(dict(response_headers or {})))
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
        headers: Any,
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> None:
        status = int(code or 0)
        if status < 400:
            return
        name, message = "", ""
        if isinstance(response, dict) and isinstance(response.get("error"), dict):
            name = str(response["error"].get("name") or "")
            message = str(response["error"].get("message") or "")
        if not message:
            message = f"{reason or ''} {(body or '')[:200]}".strip()
        raise UpbitHttpError(status, name, message)

    # ------------------------------------------------------------------ WebSocket
    def authenticate(self, params: Any = None) -> None:
        ws_options = self.options.get("ws")
        if isinstance(ws_options, dict):
            ws_options.pop("token", None)  # a new nonce for every connection
        super().authenticate(params or {})

    def handle_message(self, client: Any, message: Any) -> None:
        sink = self.atlas_on_message
        if sink is not None:
            sink(str(client.url), message)
        if isinstance(message, dict) and message.get("type") in ("myOrder", "myAsset"):
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
    rest_url: str, ws_url: str, *, api_key: str, secret: str, timeout_ms: int = 10_000
) -> AtlasUpbit:
    """A client whose every URL is ``rest_url`` / ``ws_url`` (``https://api.upbit.com``,
    ``wss://api.upbit.com/websocket/v1`` in production)."""
    client = AtlasUpbit(
        {
            "apiKey": api_key,
            "secret": secret,
            "enableRateLimit": False,
            "timeout": timeout_ms,
        }
    )
    client.urls["api"] = {
        "public": rest_url.rstrip("/"),
        "private": rest_url.rstrip("/"),
        "ws": ws_url,
    }
    return client
