"""Where a Binance venue lives: its REST base, market-data stream base and WebSocket API base.

Each is configurable per venue so tests (the loopback fake) and testnets point Atlas anywhere.
The defaults are Binance's production hosts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BinanceEndpoints:
    """``rest_url``: scheme and host of the REST API (``/api/v3`` or ``/fapi/v1`` are appended);
    ``ws_url``: the raw market-data stream base ending in ``/ws``; ``ws_api_url``: the WebSocket
    API (spot user data since 2026-02-20; unused for USDⓈ-M, whose user data comes through a
    listenKey stream under ``ws_url``)."""

    rest_url: str
    ws_url: str
    ws_api_url: str = ""


SPOT = BinanceEndpoints(
    rest_url="https://api.binance.com",
    ws_url="wss://stream.binance.com:9443/ws",
    ws_api_url="wss://ws-api.binance.com:443/ws-api/v3",
)
USDM = BinanceEndpoints(
    rest_url="https://fapi.binance.com",
    ws_url="wss://fstream.binance.com/ws",
    ws_api_url="wss://ws-fapi.binance.com/ws-fapi/v1",
)

DEFAULTS = {"binance": SPOT, "binanceusdm": USDM}
