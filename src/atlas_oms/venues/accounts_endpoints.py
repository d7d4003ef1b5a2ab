"""``venues:`` of ``accounts.yaml``: where each venue is (:class:`VenueEndpoints`) and each
venue's real endpoints (:data:`DEFAULT_VENUES`). Part of :mod:`atlas_oms.venues.accounts`."""

from __future__ import annotations

import re

from pydantic import field_validator

from atlas_oms.venues.accounts_base import _Strict


class VenueEndpoints(_Strict):
    """Where one venue is. ``ws_api_url`` is the WebSocket API (spot user data and orders);
    USDⓈ-M futures' user data uses a listenKey stream on ``ws_url``."""

    rest_url: str
    ws_url: str
    ws_api_url: str | None = None
    recv_window_ms: int = 5000
    timeout_ms: int = 10_000
    #: Added to this venue's unified symbols in Atlas (``BTC/USDT@bybit``) so that it can list
    #: the same unified symbol as another venue of the node (runtime/gateway/qualified.py).
    symbol_suffix: str = ""
    #: A separate market data API (Alpaca: ``https://data.alpaca.markets``, paper and live).
    data_url: str | None = None

    @field_validator("symbol_suffix")
    @classmethod
    def _suffix(cls, value: str) -> str:
        if value and not re.match(r"^@[a-z0-9_]+$", value):
            raise ValueError(f"{value!r} is not a suffix like '@bybit'")
        return value

    @field_validator("rest_url", "ws_url", "ws_api_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(https?|wss?)://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s):// or ws(s):// URL")
        return value

    @field_validator("recv_window_ms", "timeout_ms")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be positive")
        return value


#: Each venue's real endpoints; ``venues:`` in the file overrides them field by field.
DEFAULT_VENUES: dict[str, VenueEndpoints] = {
    "binance": VenueEndpoints(
        rest_url="https://api.binance.com",
        ws_url="wss://stream.binance.com:9443/ws",
        ws_api_url="wss://ws-api.binance.com:443/ws-api/v3",
    ),
    "binanceusdm": VenueEndpoints(
        rest_url="https://fapi.binance.com",
        ws_url="wss://fstream.binance.com/ws",
    ),
    "bybit": VenueEndpoints(rest_url="https://api.bybit.com", ws_url="wss://stream.bybit.com"),
    "bybitlinear": VenueEndpoints(
        rest_url="https://api.bybit.com", ws_url="wss://stream.bybit.com"
    ),
    "okx": VenueEndpoints(rest_url="https://www.okx.com", ws_url="wss://ws.okx.com:8443/ws/v5"),
    "upbit": VenueEndpoints(
        rest_url="https://api.upbit.com", ws_url="wss://api.upbit.com/websocket/v1"
    ),
    # Alpaca's paper URLs by default; live (api.alpaca.markets) only when ``venues:`` says so
    "alpaca": VenueEndpoints(
        rest_url="https://paper-api.alpaca.markets",
        ws_url="wss://paper-api.alpaca.markets/stream",
        data_url="https://data.alpaca.markets",
    ),
}
