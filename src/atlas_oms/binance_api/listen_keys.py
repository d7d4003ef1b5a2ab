"""listenKeys, shared by the spot (``/api/v3/userDataStream``, ``/ws/<listenKey>``) and
USDⓈ-M (``/fapi/v1/listenKey``, ``/fstream/private/ws?listenKey=``) user data streams.

A listenKey names one apiKey's account (the API key header only: security USER_STREAM); one key
per apiKey (asking again while it is valid answers the same key and extends it); it expires 60
minutes after it was made or last kept alive. At expiry its open sockets get Binance's
``{"e": "listenKeyExpired", "E": ms, "listenKey": K}`` and are closed. Keys live in memory (a
restart drops them, as Binance's clients expect a new key after a disconnect). A key is 64 hex
characters (the service log redacts it in a ``/ws/<listenKey>`` path).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from atlas_oms.binance_api.errors import BinanceError
from atlas_oms.binance_api.server import now_ms

if TYPE_CHECKING:
    from atlas_oms.binance_api.durable_push import Send
    from atlas_oms.binance_api.table import Call
    from atlas_oms.service.keys import KeyStore

#: Seconds a listenKey lives after it was made or last kept alive (read when a store is made).
LISTEN_KEY_TTL_S = 3600.0
Close = Callable[[], None]


def listen_key_shaped(text: str) -> bool:
    """A path part that names a listenKey (not a stream name: no ``@``; 32+ letters/digits)."""
    return len(text) >= 32 and text.isalnum()


def unknown_key() -> BinanceError:
    return BinanceError(-1125, "This listenKey does not exist.")


@dataclass
class ListenKey:
    key_id: str
    api_key: str
    account: str
    expires: float
    #: Open sockets: (send a payload, close after what was sent).
    sockets: list[tuple[Send, Close]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class ListenKeys:
    """The listenKeys of one dialect (spot and USDⓈ-M keep one store each)."""

    def __init__(self, ttl_s: float | None = None) -> None:
        self.ttl_s = LISTEN_KEY_TTL_S if ttl_s is None else ttl_s
        self.keys: dict[str, ListenKey] = {}

    # ------------------------------------------------------------------ REST
    def new(self, call: Call) -> str:
        """POST: the apiKey's valid key (extended), else a new one."""
        api_key = call.request.headers.get("X-MBX-APIKEY", "")
        now = time.monotonic()
        for k, lk in self.keys.items():
            if lk.api_key == api_key and lk.expires > now:
                self._extend(k, lk)
                return k
        k = secrets.token_hex(32)
        lk = ListenKey(call.api_key.key_id, api_key, call.account_id, 0.0)
        self.keys[k] = lk
        self._extend(k, lk)
        return k

    def owned(self, call: Call) -> tuple[str, ListenKey]:
        """The key the call names (``listenKey``; else the apiKey's), valid and the apiKey's
        own; -1125 otherwise."""
        api_key = call.request.headers.get("X-MBX-APIKEY", "")
        k = call.params.get("listenKey") or next(
            (k for k, lk in self.keys.items() if lk.api_key == api_key), ""
        )
        lk = self.keys.get(k)
        if lk is None or lk.api_key != api_key or lk.expires <= time.monotonic():
            raise unknown_key()
        return k, lk

    def keepalive(self, call: Call) -> str:
        k, lk = self.owned(call)
        self._extend(k, lk)
        return k

    def delete(self, call: Call) -> None:
        k, lk = self.owned(call)
        if lk.timer is not None:
            lk.timer.cancel()
        del self.keys[k]

    # ------------------------------------------------------------------ sockets
    def valid(self, k: str, keys: KeyStore) -> ListenKey | None:
        """The key ``k`` if it is live and its Atlas key is not revoked."""
        lk = self.keys.get(k)
        if lk is None or lk.expires <= time.monotonic() or lk.key_id not in keys.keys:
            return None
        return lk

    def attach(self, k: str, send: Send, close: Close) -> None:
        lk = self.keys.get(k)
        if lk is not None:
            lk.sockets.append((send, close))

    def detach(self, k: str, send: Send) -> None:
        lk = self.keys.get(k)
        if lk is not None:
            lk.sockets = [s for s in lk.sockets if s[0] is not send]

    # ------------------------------------------------------------------ expiry
    def _extend(self, k: str, lk: ListenKey) -> None:
        lk.expires = time.monotonic() + self.ttl_s
        if lk.timer is not None:
            lk.timer.cancel()
        lk.timer = asyncio.get_running_loop().call_later(self.ttl_s, self._expire, k)

    def _expire(self, k: str) -> None:
        lk = self.keys.get(k)
        if lk is None:
            return
        left = lk.expires - time.monotonic()
        if left > 0:  # kept alive meanwhile (a timer that was not cancelled in time)
            lk.timer = asyncio.get_running_loop().call_later(left, self._expire, k)
            return
        del self.keys[k]
        event: dict[str, Any] = {"e": "listenKeyExpired", "E": now_ms(), "listenKey": k}
        for send, close in lk.sockets:
            send(event)
            close()

    def close(self) -> None:
        """Cancel the expiry timers (the dialect stops)."""
        for lk in self.keys.values():
            if lk.timer is not None:
                lk.timer.cancel()


__all__ = ["LISTEN_KEY_TTL_S", "ListenKey", "ListenKeys", "listen_key_shaped", "unknown_key"]
