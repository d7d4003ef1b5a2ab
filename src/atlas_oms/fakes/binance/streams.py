"""The fake Binance's WebSockets, a mixin on ``ServerBase``: public ``SUBSCRIBE`` streams of
both markets, the spot WebSocket API (``userDataStream.subscribe.signature``), the USDⓈ-M
listenKey stream; the fan-out of venue events to them and the knobs that act on connections."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

from aiohttp import WSMsgType, web

from atlas_oms.fakes.binance import wire
from atlas_oms.fakes.binance.config import SPOT, USDM
from atlas_oms.fakes.binance.server_base import ServerBase, _Conn, _json
from atlas_oms.fakes.binance.venue import Account, VenueError


class Streams(ServerBase):
    """WebSocket connections: accept, subscribe, fan out, and the knobs that drop them."""

    # ------------------------------------------------------------------ knobs that act on connections

    def drop_user_streams(self) -> None:
        """Close every user-data connection (spot WS-API sessions and futures listenKey streams)."""
        if self._off_loop():
            return self.call(self.drop_user_streams)
        for conn in list(self._conns):
            if conn.kind in ("wsapi", "private"):
                self._conns.discard(conn)
                asyncio.get_running_loop().create_task(conn.close())

    def drop_public_streams(self) -> None:
        """Close every public market-stream connection (both markets)."""
        if self._off_loop():
            return self.call(self.drop_public_streams)
        for conn in list(self._conns):
            if conn.kind.startswith("public"):
                self._conns.discard(conn)
                asyncio.get_running_loop().create_task(conn.close())

    def expire_listen_key(self, account: str) -> None:
        """Push ``listenKeyExpired`` to the account's futures streams, close them, drop the key."""
        if self._off_loop():
            return self.call(self.expire_listen_key, account)
        acct = self.venue.accounts[account]
        key = acct.listen_key or ""
        now = self.venue.now_ms()
        for conn in list(self._conns):
            if conn.kind == "private" and conn.account == account:
                conn.send(wire.listen_key_expired(key, now))
                self._conns.discard(conn)
                asyncio.get_running_loop().create_task(conn.close())
        acct.listen_key = None
        acct.listen_key_expires = 0

    # ------------------------------------------------------------------ event fan-out

    def _on_user_event(self, market: str, account: str, event: dict[str, Any]) -> None:
        if self.faults.half_open:
            return  # withheld and lost; the connection still answers pings
        times = 2 if self.faults.duplicate_events and _is_trade(event) else 1
        for conn in self._conns:
            if market == SPOT and conn.kind == "wsapi":
                for sid, name in conn.subs.items():
                    if name == account:
                        for _ in range(times):
                            conn.send({"subscriptionId": sid, "event": event})
            elif market == USDM and conn.kind == "private" and conn.account == account:
                for _ in range(times):
                    conn.send(event)

    def _on_market_event(self, market: str, stream: str, payload: dict[str, Any]) -> None:
        kinds = ("public-spot",) if market == SPOT else ("public-usdm",)
        names = {stream}
        if stream.endswith("@markPrice"):
            names.add(stream + "@1s")
        for conn in self._conns:
            if conn.kind in kinds and conn.streams & names:
                if conn.combined:
                    for name in sorted(conn.streams & names):
                        conn.send({"stream": name, "data": payload})
                else:
                    conn.send(payload)

    # ------------------------------------------------------------------ websockets

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        # ccxt appends a stream index (``/ws/0``); Binance takes ``/ws/<stream>`` the same way.
        base = path.rstrip("/")
        if base == "/ws-api/v3":
            kind = "wsapi"
        elif base == "/fstream/private/ws" or (
            base.startswith("/fstream/ws/")
            and self.venue.account_for_listen_key(base.rsplit("/", 1)[-1])
        ):
            kind = "private"
        elif _under(base, "/ws") or _under(base, "/stream"):
            kind = "public-spot"
        elif any(
            _under(base, p)
            for p in ("/fstream/ws", "/fstream/public/ws", "/fstream/market/ws", "/fstream/stream")
        ):
            kind = "public-usdm"
        else:
            return web.Response(status=404, text="")
        account: Account | None = None
        if kind == "private":
            key = request.query.get("listenKey") or path.rsplit("/", 1)[-1]
            account = self.venue.account_for_listen_key(key)
            if account is None:
                return _json({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        conn = _Conn(ws, kind)
        conn.account = account.name if account else None
        if kind.startswith("public") and (
            _under(base, "/stream") or _under(base, "/fstream/stream")
        ):
            # combined streams: ``/stream?streams=a/b`` (and SUBSCRIBE on it)
            conn.combined = True
            conn.streams.update(s for s in request.query.get("streams", "").split("/") if s)
        self._conns.add(conn)
        if account is not None:
            self._fill_on_subscribe(USDM, account.name)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                if kind == "wsapi":
                    self._ws_api(conn, data)
                elif kind.startswith("public"):
                    self._ws_subscribe(conn, data)
        finally:
            self._conns.discard(conn)
            conn.queue.put_nowait(None)
        return ws

    def _ws_subscribe(self, conn: _Conn, data: dict[str, Any]) -> None:
        method = data.get("method")
        params = [str(p) for p in data.get("params") or []]
        if method == "SUBSCRIBE":
            conn.streams.update(params)
            conn.send({"result": None, "id": data.get("id")})
        elif method == "UNSUBSCRIBE":
            conn.streams.difference_update(params)
            conn.send({"result": None, "id": data.get("id")})
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send({"result": sorted(conn.streams), "id": data.get("id")})
        else:
            conn.send(
                {
                    "error": {"code": 2, "msg": f"Invalid request: unknown method {method}"},
                    "id": data.get("id"),
                }
            )

    def _ws_api(self, conn: _Conn, data: dict[str, Any]) -> None:
        rid = data.get("id")
        method = data.get("method")
        params = data.get("params") or {}
        limits = [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.limits.weight_per_window,
                "count": 2,
            }
        ]
        try:
            if method == "ping":
                result: Any = {}
            elif method == "time":
                result = {"serverTime": self.venue.now_ms()}
            elif method == "userDataStream.subscribe.signature":
                acct = self._ws_signed(params)
                self._sub_ids += 1
                conn.subs[self._sub_ids] = acct.name
                conn.send(
                    {
                        "id": rid,
                        "status": 200,
                        "result": {"subscriptionId": self._sub_ids},
                        "rateLimits": limits,
                    }
                )
                self._fill_on_subscribe(SPOT, acct.name)
                return
            elif method == "userDataStream.unsubscribe":
                sid = params.get("subscriptionId")
                ids = [int(sid)] if sid is not None else list(conn.subs)
                for i in ids:
                    if conn.subs.pop(i, None) is not None:
                        conn.send(
                            {
                                "subscriptionId": i,
                                "event": {"e": "eventStreamTerminated", "E": self.venue.now_ms()},
                            }
                        )
                result = {}
            elif method in ("userDataStream.start", "userDataStream.ping", "userDataStream.stop"):
                raise VenueError(-1020, "This operation is not supported.")
            else:
                raise VenueError(-1000, f"Unknown method {method}.")
        except VenueError as err:
            conn.send({"id": rid, "status": err.status, "error": err.body(), "rateLimits": limits})
            return
        conn.send({"id": rid, "status": 200, "result": result, "rateLimits": limits})

    def _ws_signed(self, params: dict[str, Any]) -> Account:
        """WS-API signature: HMAC-SHA256 of the params (but ``signature``) sorted by name."""
        key = str(params.get("apiKey", ""))
        acct = self.venue.by_key.get(key)
        if acct is None or not key:
            raise VenueError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        expected = hmac.new(acct.cfg.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, str(params.get("signature", ""))):
            raise VenueError(-1022, "Signature for this request is not valid.")
        self._check_timestamp({k: str(v) for k, v in params.items()})
        return acct


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _is_trade(event: dict[str, Any]) -> bool:
    if event.get("e") == "executionReport":
        return event.get("x") == "TRADE"
    if event.get("e") == "ORDER_TRADE_UPDATE":
        return bool(event.get("o", {}).get("x") == "TRADE")
    return False
