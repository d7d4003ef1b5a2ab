"""The ``urls['api']`` override that points ccxt's Binance clients at a fake (or any base URL).

``ccxt_urls(base_http, base_ws)`` returns one dict for both ``ccxt.pro.binance`` (spot) and
``ccxt.pro.binanceusdm``: every REST key ccxt knows for Binance (so nothing can reach the real
host) and the ``ws`` subtree. Pass it as ``{"urls": {"api": ccxt_urls(...)}}`` in the client's
constructor. What ccxt then builds:

- spot REST: ``<http>/api/v3/<path>``; futures REST: ``<http>/fapi/v1|v2|v3/<path>``;
- spot user data: WS-API ``<ws>/ws-api/v3`` (``userDataStream.subscribe.signature``);
- spot public streams: ``<ws>/ws``;
- USDⓈ-M: linear base ``<ws>/fstream/ws``; ccxt rewrites it to ``<ws>/fstream/public/ws``
  (bookTicker, trade), ``<ws>/fstream/market/ws`` (aggTrade, markPrice, ticker) and the user
  stream ``<ws>/fstream/private/ws?listenKey=K`` after ``POST /fapi/v1/listenKey``.

Recommended client options: ``fetchCurrencies=False``, ``fetchMargins=False`` (else ccxt calls
``/sapi`` endpoints the fake does not serve).
"""

from __future__ import annotations

from typing import Any


def ccxt_urls(base_http: str, base_ws: str) -> dict[str, Any]:
    """The ``urls['api']`` dict for ccxt ``binance`` and ``binanceusdm`` against these bases."""
    h = base_http.rstrip("/")
    w = base_ws.rstrip("/")
    return {
        "sapi": f"{h}/sapi/v1",
        "sapiV2": f"{h}/sapi/v2",
        "sapiV3": f"{h}/sapi/v3",
        "sapiV4": f"{h}/sapi/v4",
        "dapiPublic": f"{h}/dapi/v1",
        "dapiPrivate": f"{h}/dapi/v1",
        "dapiPrivateV2": f"{h}/dapi/v2",
        "dapiData": f"{h}/futures/data",
        "eapiPublic": f"{h}/eapi/v1",
        "eapiPrivate": f"{h}/eapi/v1",
        "fapiPublic": f"{h}/fapi/v1",
        "fapiPublicV2": f"{h}/fapi/v2",
        "fapiPublicV3": f"{h}/fapi/v3",
        "fapiPrivate": f"{h}/fapi/v1",
        "fapiPrivateV2": f"{h}/fapi/v2",
        "fapiPrivateV3": f"{h}/fapi/v3",
        "fapiData": f"{h}/futures/data",
        "public": f"{h}/api/v3",
        "private": f"{h}/api/v3",
        "v1": f"{h}/api/v1",
        "papi": f"{h}/papi/v1",
        "papiV2": f"{h}/papi/v2",
        "ws": {
            "spot": f"{w}/ws",
            "margin": f"{w}/ws",
            "linear": f"{w}/fstream/ws",
            "inverse": f"{w}/dstream/ws",
            "stock": f"{w}/equity/ws",
            "option": f"{w}/eoptions/public/ws",
            "optionMarket": f"{w}/eoptions/market/ws",
            "optionPrivate": f"{w}/eoptions/private/ws",
            "papi": f"{w}/pm/ws",
            "ws-api": {
                "spot": f"{w}/ws-api/v3",
                "linear": f"{w}/ws-fapi/v1",
                "inverse": f"{w}/ws-dapi/v1",
            },
        },
    }


def ccxt_config(
    market: str, api_key: str, secret: str, base_http: str, base_ws: str, **options: Any
) -> dict[str, Any]:
    """A whole ccxt constructor config for ``market`` ``"spot"`` or ``"usdm"`` against a fake."""
    opts: dict[str, Any] = {
        "fetchCurrencies": False,
        "fetchMargins": False,
        "fetchMarkets": {"types": ["spot"] if market == "spot" else ["linear"]},
    }
    opts.update(options)
    return {
        "apiKey": api_key,
        "secret": secret,
        "enableRateLimit": False,
        "urls": {"api": ccxt_urls(base_http, base_ws)},
        "options": opts,
    }
