"""Spot user data by listenKey (what hummingbot, older ccxt and python-binance's
``stream_get_listen_key`` use): ``POST/PUT/DELETE /api/v3/userDataStream`` (API key header
only) and the socket ``/ws/<listenKey>`` (spot_ws.py), which carries the same payloads as the
WebSocket API's user data subscription (``executionReport``, ``outboundAccountPosition``,
``balanceUpdate``) without the ``subscriptionId`` wrapper, and ``listenKeyExpired`` when the key
lapses (60 minutes without a keepalive: listen_keys.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas_oms.binance_api.table import Call, Route, Security

if TYPE_CHECKING:
    from atlas_oms.binance_api.listen_keys import ListenKeys
    from atlas_oms.binance_api.server import Dialect

PATH = "/api/v3/userDataStream"


def _keys(call: Call) -> ListenKeys:
    keys: ListenKeys = call.dialect.extras["spot_streams"].listen_keys
    return keys


async def create(call: Call) -> Any:
    return {"listenKey": _keys(call).new(call)}


async def keepalive(call: Call) -> Any:
    _keys(call).keepalive(call)
    return {}


async def close(call: Call) -> Any:
    _keys(call).delete(call)
    return {}


def spot_listen_routes(dialect: Dialect) -> list[Route]:
    del dialect
    stream = Security.USER_STREAM
    return [
        Route("POST", PATH, 2, stream, create),
        Route("PUT", PATH, 2, stream, keepalive),
        Route("DELETE", PATH, 2, stream, close),
    ]


__all__ = ["spot_listen_routes"]
