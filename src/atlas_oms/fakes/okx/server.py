"""The fake OKX v5 server on 127.0.0.1: REST (``/api/v5/...``, every private call signed with
OKX's base64 HMAC-SHA256 over ``timestamp + METHOD + path?query + body`` and the passphrase,
checked for real) and the WebSocket ``/ws/v5/private`` (``login`` op, checked for real; the
``orders`` channel) and ``/ws/v5/public`` (``tickers``, ``trades``, and the order book:
``books``/``books5`` and ``GET /api/v5/market/books``, see :mod:`.books`).

Answers are OKX's envelope ``{"code":"0","msg":"","data":[...]}``; a failed order operation is
HTTP 200 with ``code "1"`` and the per-order ``sCode``/``sMsg`` in ``data``. Fault knobs are in
:class:`Faults`; per-UID, per-endpoint request limits (2 s windows) answer ``50011`` with 429.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from atlas_oms.fakes.okx.books import OkxBooks
from atlas_oms.fakes.okx.venue import (
    INSTRUMENTS,
    Account,
    FakeOkxVenue,
    Fill,
    OkxError,
    Order,
    position_figures,
)

D = Decimal
BUSY = OkxError("50013", "Systems are busy. Please try again later.", 503)

#: Requests per 2 s per UID for each endpoint (OKX's published limits).
LIMITS = {
    "/api/v5/trade/order": 60,
    "/api/v5/trade/batch-orders": 300,
    "/api/v5/trade/cancel-order": 60,
    "/api/v5/trade/amend-order": 60,
    "/api/v5/trade/orders-pending": 60,
    "/api/v5/trade/fills": 60,
    "/api/v5/trade/fills-history": 10,
    "/api/v5/account/balance": 10,
    "/api/v5/account/positions": 10,
    "/api/v5/public/instruments": 20,
    "/api/v5/market/books": 40,
}


@dataclass
class Faults:
    delay_s: float = 0.0
    delay_places: int = 0
    drop_places: int = 0
    fail_before_commit: int = 0
    fail_after_commit: int = 0
    delay_cancels: int = 0
    drop_cancels: int = 0
    fail_cancels_before_commit: int = 0
    fail_cancels_after_commit: int = 0
    delay_amends: int = 0
    drop_amends: int = 0
    fail_amends_before_commit: int = 0
    fail_amends_after_commit: int = 0
    fill_on_subscribe: list[str] = field(default_factory=list)
    half_open: bool = False
    duplicate_events: bool = False
    visibility_lag_s: float = 0.0
    #: ``/trade/fills`` keeps this long (OKX: 3 days); ``fills-history`` 3 months.
    fills_window_ms: int = 3 * 24 * 3600 * 1000
    cancel_races_fill: int = 0
    #: When set, every endpoint allows this many requests per window of ``window_s``.
    low_limit: int | None = None
    window_s: float = 2.0


class _Conn:
    def __init__(self, ws: web.WebSocketResponse, kind: str) -> None:
        self.ws = ws
        self.kind = kind  # private | public
        self.account: str | None = None
        self.channels: set[str] = set()
        self.tickers: set[str] = set()
        #: (channel, instId) of the order-book subscriptions (``books``, ``books5``).
        self.books: set[tuple[str, str]] = set()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        while True:
            item = await self.queue.get()
            if item is None or self.ws.closed:
                return
            try:
                await self.ws.send_str(item)
            except (ConnectionError, RuntimeError):
                return

    def send(self, payload: Any) -> None:
        self.queue.put_nowait(payload if isinstance(payload, str) else _dumps(payload))

    async def close(self) -> None:
        self.queue.put_nowait(None)
        await self.ws.close()


def num(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def iso_ms(value: str) -> int:
    """``2026-12-07T05:49:48.123Z`` -> ms since the epoch."""
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def order_wire(o: Order, fill: Fill | None = None, push: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "instType": o.inst.inst_type,
        "instId": o.inst.inst_id,
        "ccy": "",
        "ordId": o.ord_id,
        "clOrdId": o.cl_ord_id,
        "tag": "",
        "px": num(o.px),
        "sz": num(o.sz),
        "pnl": "0",
        "ordType": o.ord_type,
        "side": o.side,
        "posSide": o.pos_side,
        "tdMode": "cash" if o.inst.inst_type == "SPOT" else "cross",
        "accFillSz": num(o.acc_fill_sz),
        "fillPx": num(fill.px) if fill else "",
        "tradeId": fill.trade_id if fill else "",
        "fillSz": num(fill.sz) if fill else "0",
        "fillTime": str(fill.ts) if fill else "",
        "avgPx": num(o.avg_px) if o.avg_px is not None else "",
        "state": o.state,
        "lever": "" if o.inst.inst_type == "SPOT" else "10",
        "feeCcy": o.fee_ccy,
        "fee": num(o.fee),
        "rebateCcy": "",
        "rebate": "0",
        "category": "normal",
        "reduceOnly": "true" if o.reduce_only else "false",
        "cancelSource": o.cancel_source,
        "uTime": str(o.u_time),
        "cTime": str(o.c_time),
    }
    if push:
        row.update(
            execType=fill.exec_type if fill else "",
            fillFee=num(fill.fee) if fill else "0",
            fillFeeCcy=fill.fee_ccy if fill else "",
            fillPnl="0",
            code="0",
            msg="",
            amendResult="",
        )
    return row


def fill_wire(f: Fill) -> dict[str, Any]:
    o = f.order
    return {
        "instType": o.inst.inst_type,
        "instId": o.inst.inst_id,
        "tradeId": f.trade_id,
        "ordId": o.ord_id,
        "clOrdId": o.cl_ord_id,
        "billId": f.bill_id,
        "subType": "1" if o.side == "buy" else "2",
        "tag": "",
        "fillPx": num(f.px),
        "fillSz": num(f.sz),
        "fillIdxPx": "",
        "fillPnl": "0",
        "side": o.side,
        "posSide": o.pos_side,
        "execType": f.exec_type,
        "feeCcy": f.fee_ccy,
        "fee": num(f.fee),
        "ts": str(f.ts),
        "fillTime": str(f.ts),
    }


class FakeOkx:
    """The server (see the module doc). ``accounts``: the venue's accounts (API key, secret,
    passphrase, balances)."""

    def __init__(self, accounts: list[Account]) -> None:
        self.venue = FakeOkxVenue(accounts)
        self.faults = Faults()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._conns: set[_Conn] = set()
        self._windows: dict[tuple[str, str], list[float]] = {}
        self.throttled = 0
        self._pending_notes: list[Order] = []
        self.venue.on_change.append(self._on_order_change)
        self.books = OkxBooks(self.venue, self._send_book)
        self._dirty_books: set[str] = set()
        self.venue.on_change.append(lambda o: self._book_changed(o.inst.inst_id))
        self.venue.on_book.append(self._book_changed)
        self._routes: dict[
            tuple[str, str], Callable[[web.Request, Account | None, Any], Awaitable[Any]]
        ] = {
            ("GET", "/api/v5/public/time"): self._time,
            ("GET", "/api/v5/public/instruments"): self._instruments,
            ("GET", "/api/v5/market/books"): self._market_books,
            ("GET", "/api/v5/account/config"): self._config,
            ("GET", "/api/v5/account/balance"): self._balance,
            ("GET", "/api/v5/account/positions"): self._positions,
            ("POST", "/api/v5/trade/order"): self._place,
            ("POST", "/api/v5/trade/batch-orders"): self._place,
            ("POST", "/api/v5/trade/cancel-order"): self._cancel,
            ("POST", "/api/v5/trade/amend-order"): self._amend,
            ("GET", "/api/v5/trade/order"): self._order,
            ("GET", "/api/v5/trade/orders-pending"): self._pending,
            ("GET", "/api/v5/trade/fills"): self._fills,
            ("GET", "/api/v5/trade/fills-history"): self._fills,
        }

    # ------------------------------------------------------------------ life
    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/v5"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("GET", "/ws/v5/{kind}", self._websocket)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        for conn in list(self._conns):
            await conn.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ REST plumbing
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        handler = self._routes.get((request.method, request.path))
        if handler is None:
            return _json(
                {"code": "50000", "msg": f"Path not found: {request.path}", "data": []}, 404
            )
        body = await request.text()
        try:
            acct = None
            if not request.path.startswith(("/api/v5/public/", "/api/v5/market/")):
                acct = self._authenticate(request, body)
            limited = self._limit(acct.name if acct else request.remote or "", request.path)
            if limited is not None:
                return limited
            payload: Any = json.loads(body) if body else {}
            if request.method == "GET":
                payload = dict(request.query)
            result = await handler(request, acct, payload)
            if isinstance(result, web.StreamResponse):
                return result
            return _json({"code": "0", "msg": "", "data": result})
        except OkxError as e:
            if e.item:
                item = {
                    "sCode": e.code,
                    "sMsg": e.msg,
                    "ordId": "",
                    "clOrdId": "",
                    "tag": "",
                    "ts": str(self.venue.now_ms()),
                }
                return _json(
                    {"code": "1", "msg": "All operations failed", "data": [item]}, e.status
                )
            return _json({"code": e.code, "msg": e.msg, "data": []}, e.status)

    def _authenticate(self, request: web.Request, body: str) -> Account:
        h = request.headers
        key = h.get("OK-ACCESS-KEY", "")
        acct = self.venue.by_key.get(key)
        if acct is None:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY.", 401)
        if h.get("OK-ACCESS-PASSPHRASE", "") != acct.passphrase:
            raise OkxError("50105", "Invalid OK-ACCESS-PASSPHRASE.", 401)
        stamp = h.get("OK-ACCESS-TIMESTAMP", "")
        try:
            ts = iso_ms(stamp)
        except ValueError as e:
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401) from e
        if abs(ts - self.venue.now_ms()) > 30_000:
            raise OkxError("50102", "Timestamp request expired.", 401)
        prehash = stamp + request.method + request.raw_path + body
        expected = sign(acct.secret, prehash)
        if not hmac.compare_digest(expected, h.get("OK-ACCESS-SIGN", "")):
            raise OkxError("50113", "Invalid Sign.", 401)
        return acct

    def _limit(self, uid: str, path: str) -> web.Response | None:
        limit = self.faults.low_limit if self.faults.low_limit is not None else LIMITS.get(path, 20)
        window = self.faults.window_s
        loop = asyncio.get_running_loop()
        now = loop.time()
        stamps = [s for s in self._windows.get((uid, path), []) if s > now - window]
        if len(stamps) >= limit:
            self._windows[(uid, path)] = stamps
            self.throttled += 1
            return _json({"code": "50011", "msg": "Too Many Requests", "data": []}, 429)
        stamps.append(now)
        self._windows[(uid, path)] = stamps
        return None

    # ------------------------------------------------------------------ public
    async def _time(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        return [{"ts": str(self.venue.now_ms())}]

    async def _instruments(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        kind = p.get("instType", "")
        if kind not in ("SPOT", "SWAP", "FUTURES", "OPTION", "MARGIN"):
            raise OkxError("51000", "Parameter instType error")
        out = []
        for inst in INSTRUMENTS.values():
            if inst.inst_type != kind:
                continue
            swap = kind == "SWAP"
            out.append(
                {
                    "instType": kind,
                    "instId": inst.inst_id,
                    "uly": f"{inst.base}-{inst.quote}" if swap else "",
                    "instFamily": f"{inst.base}-{inst.quote}" if swap else "",
                    "baseCcy": "" if swap else inst.base,
                    "quoteCcy": "" if swap else inst.quote,
                    "settleCcy": inst.settle,
                    "ctVal": num(inst.ct_val) if swap else "",
                    "ctMult": "1" if swap else "",
                    "ctValCcy": inst.base if swap else "",
                    "ctType": "linear" if swap else "",
                    "listTime": "1606468572000",
                    "expTime": "",
                    "lever": "100" if swap else "10",
                    "tickSz": num(inst.tick),
                    "lotSz": num(inst.lot),
                    "minSz": num(inst.min_sz),
                    "maxLmtSz": "100000",
                    "maxMktSz": "10000",
                    "state": "live",
                    "alias": "",
                    "optType": "",
                    "stk": "",
                    "category": "1",
                }
            )
        return out

    async def _market_books(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        inst_id = str(p.get("instId", ""))
        if inst_id not in INSTRUMENTS:
            raise OkxError("51001", "Instrument ID doesn't exist.")
        try:
            sz = int(p.get("sz") or 1)
        except ValueError as e:
            raise OkxError("51000", "Parameter sz error") from e
        return self.books.rest(inst_id, sz)

    # ------------------------------------------------------------------ account
    async def _config(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        assert acct is not None
        return [
            {
                "uid": acct.name,
                "acctLv": "2",
                "posMode": "long_short_mode" if acct.hedge else "net_mode",
            }
        ]

    async def _balance(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        assert acct is not None
        details = []
        for ccy, cash in sorted(acct.cash.items()):
            frozen = self.venue.frozen(acct, ccy)
            details.append(
                {
                    "ccy": ccy,
                    "cashBal": num(cash),
                    "eq": num(cash),
                    "availBal": num(cash - frozen),
                    "frozenBal": num(frozen),
                    "ordFrozen": num(frozen),
                    "uTime": str(self.venue.now_ms()),
                }
            )
        return [{"totalEq": "", "uTime": str(self.venue.now_ms()), "details": details}]

    async def _positions(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        assert acct is not None
        out = []
        held = [
            (INSTRUMENTS[inst_id], side, pos, self.venue.last[inst_id])
            for (inst_id, side), pos in acct.positions.items()
            if pos.pos
        ]
        for inst, side, pos, mark in held:
            others = [h for h in held if h[2] is not pos and h[0].inst_id not in acct.isolated]
            out.append(
                {
                    "instType": "SWAP",
                    "instId": inst.inst_id,
                    "posSide": side,
                    "pos": num(pos.pos),
                    "avgPx": num(pos.avg_px),
                    "ccy": "USDT",
                    **position_figures(acct, inst, side, pos, mark, others),
                    "cTime": str(pos.c_time),
                    "uTime": str(self.venue.now_ms()),
                }
            )
        return out

    # ------------------------------------------------------------------ trade
    async def _place(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        assert acct is not None
        batch = isinstance(p, list)
        params = p[0] if batch else p
        faults = self.faults
        if faults.fail_before_commit > 0:
            faults.fail_before_commit -= 1
            raise BUSY
        o = self.venue.place(acct, params)
        if faults.fail_after_commit > 0:
            faults.fail_after_commit -= 1
            raise BUSY
        if faults.drop_places > 0:
            faults.drop_places -= 1
            return _drop(request)
        if faults.delay_places > 0:
            faults.delay_places -= 1
            await asyncio.sleep(faults.delay_s)
        return [_ack(o, self.venue.now_ms())]

    async def _change(self, request: web.Request, kind: str, commit: Callable[[], Order]) -> Any:
        faults = self.faults

        def take(name: str) -> bool:
            left: int = getattr(faults, name)
            if left > 0:
                setattr(faults, name, left - 1)
                return True
            return False

        if take(f"fail_{kind}_before_commit"):
            raise BUSY
        o = commit()
        if take(f"fail_{kind}_after_commit"):
            raise BUSY
        if take(f"drop_{kind}"):
            return _drop(request)
        if take(f"delay_{kind}"):
            await asyncio.sleep(faults.delay_s)
        return [_ack(o, self.venue.now_ms())]

    def _lookup(self, acct: Account, p: dict[str, Any], *, query: bool) -> Order:
        inst_id = str(p.get("instId") or "")
        if not inst_id:
            raise OkxError("51000", "Parameter instId error", item=not query)
        self.venue.inst(inst_id)
        ord_id, cl = str(p.get("ordId") or ""), str(p.get("clOrdId") or "")
        if not ord_id and not cl:
            raise OkxError("51000", "Parameter ordId or clOrdId error", item=not query)
        o = self.venue.find(acct.name, inst_id, ord_id, cl)
        lag_ms = self.faults.visibility_lag_s * 1000
        if o is not None and query and self.venue.now_ms() - o.c_time < lag_ms:
            o = None
        if o is None:
            if query:
                raise OkxError("51603", "Order does not exist")
            raise OkxError(
                "51400",
                "Order cancellation failed as the order has been filled, canceled or does not exist.",
                item=True,
            )
        return o

    async def _cancel(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        assert acct is not None

        def commit() -> Order:
            o = self._lookup(acct, p, query=False)
            if self.faults.cancel_races_fill > 0 and o.is_open:
                self.faults.cancel_races_fill -= 1
                self.venue.fill(o, o.leaves)
            return self.venue.cancel(o)

        return await self._change(request, "cancels", commit)

    async def _amend(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        assert acct is not None

        def commit() -> Order:
            o = self._lookup(acct, p, query=False)
            new_sz = D(str(p["newSz"])) if p.get("newSz") else None
            new_px = D(str(p["newPx"])) if p.get("newPx") else None
            return self.venue.amend(o, new_sz, new_px)

        return await self._change(request, "amends", commit)

    async def _order(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        assert acct is not None
        return [order_wire(self._lookup(acct, p, query=True))]

    async def _pending(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        assert acct is not None
        kind = p.get("instType")
        rows = [
            o
            for o in self.venue.orders.values()
            if o.account == acct.name and o.is_open and (not kind or o.inst.inst_type == kind)
        ]
        rows.sort(key=lambda o: int(o.ord_id), reverse=True)
        return [order_wire(o) for o in rows[: int(p.get("limit") or 100)]]

    async def _fills(self, request: web.Request, acct: Account | None, p: Any) -> Any:
        """Newest first, at most ``limit`` (100); ``after`` = an older page (by billId);
        ``begin``/``end`` in ms. ``/trade/fills`` keeps 3 days, ``fills-history`` 3 months
        (and needs ``instType``)."""
        assert acct is not None
        history = request.path.endswith("fills-history")
        if history and not p.get("instType"):
            raise OkxError("51000", "Parameter instType error")
        keep = 90 * 24 * 3600 * 1000 if history else self.faults.fills_window_ms
        now = self.venue.now_ms()
        rows = [f for f in acct.fills if f.ts >= now - keep]
        if p.get("instType"):
            rows = [f for f in rows if f.order.inst.inst_type == p["instType"]]
        if p.get("instId"):
            rows = [f for f in rows if f.order.inst.inst_id == p["instId"]]
        if p.get("begin"):
            rows = [f for f in rows if f.ts >= int(p["begin"])]
        if p.get("end"):
            rows = [f for f in rows if f.ts <= int(p["end"])]
        if p.get("after"):
            rows = [f for f in rows if int(f.bill_id) < int(p["after"])]
        rows.sort(key=lambda f: int(f.bill_id), reverse=True)
        return [fill_wire(f) for f in rows[: min(int(p.get("limit") or 100), 100)]]

    # ------------------------------------------------------------------ WebSocket
    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Conn(ws, request.match_info["kind"])
        self._conns.add(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "ping":
                    conn.send("pong")
                    continue
                try:
                    req = json.loads(msg.data)
                except ValueError:
                    conn.send(
                        {"event": "error", "code": "60012", "msg": f"Illegal request: {msg.data}"}
                    )
                    continue
                self._ws_request(conn, req)
        finally:
            self._conns.discard(conn)
            conn.queue.put_nowait(None)
        return ws

    def _ws_request(self, conn: _Conn, req: dict[str, Any]) -> None:
        op = req.get("op")
        args = req.get("args") or []
        if op == "login":
            arg = args[0] if args else {}
            acct = self.venue.by_key.get(str(arg.get("apiKey", "")))
            ok = acct is not None and arg.get("passphrase") == acct.passphrase
            stamp = str(arg.get("timestamp", ""))
            if ok and acct is not None:
                try:
                    fresh = abs(int(stamp) * 1000 - self.venue.now_ms()) <= 30_000
                except ValueError:
                    fresh = False
                expected = sign(acct.secret, stamp + "GET" + "/users/self/verify")
                ok = fresh and hmac.compare_digest(expected, str(arg.get("sign", "")))
            if not ok or acct is None:
                conn.send(
                    {"event": "error", "code": "60009", "msg": "Login failed.", "connId": "c1"}
                )
                return
            conn.account = acct.name
            conn.send({"event": "login", "code": "0", "msg": "", "connId": "c1"})
            return
        if op == "subscribe":
            for arg in args:
                channel = str(arg.get("channel", ""))
                if conn.kind == "private" and conn.account is None:
                    conn.send(
                        {"event": "error", "code": "60011", "msg": "Please log in", "connId": "c1"}
                    )
                    return
                conn.channels.add(channel)
                if channel in ("books", "books5") and conn.kind == "public":
                    inst_id = str(arg.get("instId", ""))
                    if inst_id not in INSTRUMENTS:
                        conn.channels.discard(channel)
                        conn.send(
                            {
                                "event": "error",
                                "code": "60018",
                                "msg": f"Wrong URL or channel:{channel},instId:{inst_id} "
                                "doesn't exist. Please use the correct URL, channel and "
                                "parameters referring to API document.",
                                "connId": "c1",
                            }
                        )
                        continue
                    conn.send({"event": "subscribe", "arg": arg, "connId": "c1"})
                    snapshot = self.books.snapshot(channel, inst_id)
                    conn.books.add((channel, inst_id))
                    conn.send(snapshot)
                    continue
                conn.send({"event": "subscribe", "arg": arg, "connId": "c1"})
                if channel == "tickers" and arg.get("instId") in INSTRUMENTS:
                    conn.tickers.add(str(arg["instId"]))
                    conn.send(self._ticker(str(arg["instId"])))
                if channel == "orders" and conn.account is not None:
                    self._fill_on_subscribe(conn.account)
            return
        if op == "unsubscribe":
            for arg in args:
                conn.books.discard((str(arg.get("channel", "")), str(arg.get("instId", ""))))
                conn.send({"event": "unsubscribe", "arg": arg, "connId": "c1"})
            return
        conn.send({"event": "error", "code": "60012", "msg": f"Illegal request: {_dumps(req)}"})

    def _fill_on_subscribe(self, account: str) -> None:
        wanted = self.faults.fill_on_subscribe
        for o in list(self.venue.orders.values()):
            if o.account == account and o.cl_ord_id in wanted and o.is_open:
                wanted.remove(o.cl_ord_id)
                self.venue.fill(o, o.leaves)

    def _on_order_change(self, o: Order) -> None:
        if self.faults.half_open:
            return
        push = {
            "arg": {"channel": "orders", "instType": "ANY", "uid": o.account},
            "data": [order_wire(o, o.last, push=True)],
        }
        times = 2 if self.faults.duplicate_events else 1
        for conn in self._conns:
            if conn.kind == "private" and conn.account == o.account and "orders" in conn.channels:
                for _ in range(times):
                    conn.send(push)

    def _ticker(self, inst_id: str) -> dict[str, Any]:
        venue = self.venue
        book = venue.quotes[inst_id]
        bids = [q.px for q in book if q.side == "buy"]
        asks = [q.px for q in book if q.side == "sell"]
        last = venue.last[inst_id]
        row = {
            "instType": INSTRUMENTS[inst_id].inst_type,
            "instId": inst_id,
            "last": num(last),
            "lastSz": "0",
            "bidPx": num(max(bids)) if bids else num(last - INSTRUMENTS[inst_id].tick),
            "bidSz": "1",
            "askPx": num(min(asks)) if asks else num(last + INSTRUMENTS[inst_id].tick),
            "askSz": "1",
            "ts": str(venue.now_ms()),
        }
        return {"arg": {"channel": "tickers", "instId": inst_id}, "data": [row]}

    def push_tickers(self, inst_id: str) -> None:
        """Push the ``tickers`` row of ``inst_id`` to its public subscribers."""
        for conn in self._conns:
            if conn.kind == "public" and inst_id in conn.tickers:
                conn.send(self._ticker(inst_id))

    def _book_changed(self, inst_id: str) -> None:
        """Coalesce the changes of one operation (a place that fills against quotes): the
        book is pushed once the operation is done (at the next turn of the loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.books.changed(inst_id)
            return
        if not self._dirty_books:
            loop.call_soon(self._flush_books)
        self._dirty_books.add(inst_id)

    def _flush_books(self) -> None:
        dirty, self._dirty_books = self._dirty_books, set()
        for inst_id in sorted(dirty):
            self.books.changed(inst_id)

    def _send_book(self, channel: str, inst_id: str, push: dict[str, Any]) -> None:
        for conn in self._conns:
            if conn.kind == "public" and (channel, inst_id) in conn.books:
                conn.send(push)

    def drop_public_streams(self) -> None:
        """Close every public WebSocket session (a venue restart for the market data)."""
        for conn in list(self._conns):
            if conn.kind == "public":
                asyncio.get_running_loop().create_task(conn.close())

    def end_private_sessions(self) -> None:
        """The venue ends every private session: ``notice`` 64008, then the close."""
        for conn in list(self._conns):
            if conn.kind == "private":
                conn.send(
                    {
                        "event": "notice",
                        "code": "64008",
                        "msg": "The connection will soon be closed for a service upgrade. "
                        "Please reconnect.",
                        "connId": "c1",
                    }
                )
                asyncio.get_running_loop().create_task(conn.close())

    def drop_private_streams(self) -> None:
        for conn in list(self._conns):
            if conn.kind == "private":
                asyncio.get_running_loop().create_task(conn.close())


def sign(secret: str, prehash: str) -> str:
    digest = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _ack(o: Order, ts: int) -> dict[str, Any]:
    return {
        "ordId": o.ord_id,
        "clOrdId": o.cl_ord_id,
        "tag": "",
        "ts": str(ts),
        "sCode": "0",
        "sMsg": "Order placed" if o.c_time == o.u_time else "",
    }


def _drop(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


def _dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(text=_dumps(payload), status=status, content_type="application/json")
