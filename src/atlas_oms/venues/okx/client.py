"""The ccxt client (``ccxt.pro.okx``, ccxt 4.5.90) of one OKX account, with Atlas's hooks.

ccxt does the transport, the signing (base64 HMAC-SHA256 with the passphrase), the WebSocket
``login`` and the reconnection. Atlas adds (as for Binance, ``venues/binance/client.py``):
``fetch2`` awaits the gateway's limiter; ``on_rest_response`` hands every answer's status and
headers on; ``handle_errors`` raises :class:`OkxHttpError` with the HTTP status and OKX's own
code (the item's ``sCode`` when an order operation failed) and message; ``handle_message`` and
the connection callbacks hand every raw WebSocket message to the adapter first. ``orders``
pushes are translated by the adapter only (ccxt's caches coalesce rapid updates).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import ccxt
import ccxt.pro

from atlas_oms.venues.binance.client import AtlasHooks

#: Order-changing REST paths (the limiter's ``is_order``).
ORDER_PATHS = frozenset(
    {"trade/order", "trade/batch-orders", "trade/cancel-order", "trade/amend-order"}
)


class OkxHttpError(ccxt.ExchangeError):
    """An answer OKX refused: HTTP status, OKX's code (``sCode`` first) and message."""

    def __init__(self, status: int, code: str, msg: str, retry_after_s: float | None = None):
        super().__init__(f"HTTP {status} {code} {msg}".strip())
        self.status = status
        self.code = code
        self.msg = msg
        self.retry_after_s = retry_after_s


def venue_code(response: Any) -> tuple[str, str]:
    """(code, msg) of an OKX answer: the first failed item's ``sCode``/``sMsg`` if any, else
    the envelope's ``code``/``msg``; ``("0", "")`` when it succeeded."""
    if not isinstance(response, dict):
        return "", ""
    code = str(response.get("code", "") or "")
    msg = str(response.get("msg", "") or "")
    for item in response.get("data") or ():
        if isinstance(item, dict) and str(item.get("sCode", "0") or "0") != "0":
            return str(item["sCode"]), str(item.get("sMsg") or msg)
    return code, msg


class AtlasOkx(AtlasHooks, ccxt.pro.okx):
    """OKX with Atlas's hooks (the hook attributes and WebSocket capture are the Binance
    client's; the request weights and the error reading are OKX's)."""

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
            await hook(1, path in ORDER_PATHS and method.upper() == "POST")
        return await super(AtlasHooks, self).fetch2(path, api, method, params, config or {})

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
        status = int(code or 0)
        okx_code, msg = venue_code(response)
        if status >= 400 or (okx_code not in ("", "0")):
            retry_after = None
            for key, value in (headers or {}).items():
                if key.lower() == "retry-after":
                    with contextlib.suppress(ValueError):
                        retry_after = float(value)
            if not msg and status >= 400:
                msg = f"{reason or ''} {(body or '')[:200]}".strip()
            raise OkxHttpError(status, okx_code, msg, retry_after)

    def handle_message(self, client: Any, message: Any) -> None:
        sink = self.atlas_on_message
        if sink is not None:
            sink(str(client.url), message)
        arg = message.get("arg") if isinstance(message, dict) else None
        if isinstance(arg, dict) and arg.get("channel") == "orders" and "data" in message:
            return
        with contextlib.suppress(Exception):
            ccxt.pro.okx.handle_message(self, client, message)


def build_client(
    rest_url: str,
    ws_url: str,
    *,
    api_key: str,
    secret: str,
    passphrase: str,
    timeout_ms: int = 10_000,
    options: Mapping[str, Any] | None = None,
) -> AtlasOkx:
    """A ccxt.pro OKX client whose REST base is ``rest_url`` (ccxt appends ``/api/v5/...``) and
    WebSocket base ``ws_url`` (ccxt appends ``/private``, ``/public``, ``/business``)."""
    opts: dict[str, Any] = {"timeDifference": 0, "adjustForTimeDifference": False}
    opts.update(options or {})
    client = AtlasOkx(
        {
            "apiKey": api_key,
            "secret": secret,
            "password": passphrase,
            "enableRateLimit": False,
            "timeout": timeout_ms,
            "options": opts,
        }
    )
    api = dict(client.urls["api"])
    api["rest"] = rest_url.rstrip("/")
    api["ws"] = ws_url.rstrip("/")
    client.urls["api"] = api
    client.urls.pop("test", None)
    return client


def set_time_offset(client: Any, offset_ns: int) -> None:
    """Sign with the venue's clock (ccxt's ``timeDifference``: local minus venue, in ms)."""
    client.options["timeDifference"] = -round(offset_ns / 1_000_000)
