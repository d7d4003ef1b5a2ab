"""A fake Bybit v5 (Unified Trading Account: spot and linear) on 127.0.0.1 for the real ccxt
clients: REST under ``/v5/...`` in Bybit's envelope (``retCode``/``retMsg``/``result``, errors in
HTTP 200), the header HMAC signature checked for real (``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``,
``X-BAPI-RECV-WINDOW``, ``X-BAPI-SIGN`` = hex HMAC-SHA256 of timestamp + key + recvWindow +
query string or JSON body; accepted when ``server - recvWindow <= timestamp < server + 1000``),
per-UID per-endpoint limits in a rolling second with ``X-Bapi-Limit-Status`` / ``X-Bapi-Limit``
/ ``X-Bapi-Limit-Reset-Timestamp`` headers (``10006 Too many visits!`` past them), and the
private WebSocket ``/v5/private`` (``op: auth`` with HMAC of ``GET/realtime`` + expires,
``subscribe``, ``ping``; topics ``order``, ``execution``, ``wallet``, ``position``), and the
master's universal transfer to and from its sub-accounts (``transfers.py``).

Fault knobs are on :attr:`FakeBybit.faults` (see :class:`Faults`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import math
import socket
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from atlas_oms.fakes.bybit.books import PublicBooks
from atlas_oms.fakes.bybit.transfers import TransferRoutes
from atlas_oms.fakes.bybit.venue import (
    SPECS,
    Account,
    AccountConfig,
    BybitError,
    FakeBybitVenue,
    Order,
    Position,
    num,
)

#: Per-UID limits per endpoint and second (UTA, reference/venues.md §1.4).
WRITE_LIMIT = 10
READ_LIMIT = 50


@dataclass
class Faults:
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
    delay_s: float = 0.0
    delay_transfers: int = 0
    drop_transfers: int = 0
    fail_transfers_before_commit: int = 0
    fail_transfers_after_commit: int = 0
    fill_on_subscribe: list[str] = field(default_factory=list)
    half_open: bool = False
    duplicate_events: bool = False
    visibility_lag_s: float = 0.0
    cancel_races_fill: int = 0
    #: Fill queries return only executions younger than this (ms); 0: all.
    execution_history_ms: int = 0


@dataclass
class Limits:
    write_per_s: int = WRITE_LIMIT
    read_per_s: int = READ_LIMIT


class _Conn:
    """One private connection; messages go out in order through one writer task."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.account: str | None = None
        self.topics: set[str] = set()
        self._out: asyncio.Queue[str] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        while True:
            text = await self._out.get()
            if self.ws.closed:
                continue
            with contextlib.suppress(Exception):
                await self.ws.send_str(text)

    def send(self, payload: Any) -> None:
        self._out.put_nowait(json.dumps(payload))

    def stop_writing(self) -> None:
        self._writer.cancel()

    async def close(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(BaseException):
            await self._writer
        with contextlib.suppress(Exception):
            await self.ws.close()


class FakeBybit(TransferRoutes):
    def __init__(self, accounts: list[AccountConfig]) -> None:
        self.venue = FakeBybitVenue(accounts)
        self.transfers = []
        self.venue.publish = self._publish
        #: The public order book (``books.py``): REST, the ``orderbook`` topics, their knobs.
        self.books = PublicBooks(self.venue)
        self.venue.on_book = self.books.changed
        self.faults = Faults()
        self.limits = Limits()
        self.throttled = 0
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._accepted_at: dict[str, float] = {}
        self._conns: list[_Conn] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0
        app = web.Application()
        r = app.router
        r.add_get("/v5/market/time", self._time)
        r.add_get("/v5/market/instruments-info", self._instruments)
        r.add_get("/v5/market/tickers", self._tickers)
        r.add_get("/v5/market/orderbook", self._orderbook)
        r.add_post("/v5/order/create", self._create)
        r.add_post("/v5/order/cancel", self._cancel)
        r.add_post("/v5/order/amend", self._amend)
        r.add_get("/v5/order/realtime", self._realtime)
        r.add_get("/v5/order/history", self._history)
        r.add_get("/v5/execution/list", self._executions)
        r.add_get("/v5/account/wallet-balance", self._wallet)
        r.add_get("/v5/position/list", self._positions)
        r.add_post("/v5/position/switch-mode", self._switch_mode)
        r.add_post("/v5/asset/transfer/universal-transfer", self._universal_transfer)
        r.add_get("/v5/asset/transfer/query-universal-transfer-list", self._universal_transfer_list)
        r.add_get("/v5/private", self._private_ws)
        r.add_get("/v5/public/{category}", self.books.handle)
        self.app = app

    # ------------------------------------------------------------------ life
    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        for conn in list(self._conns):
            await conn.close()
        for public in list(self.books.conns):
            await public.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def drop_private_streams(self) -> None:
        for conn in list(self._conns):
            if conn.account is not None:
                task = asyncio.get_running_loop().create_task(conn.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    # ------------------------------------------------------------------ envelope and auth
    def _ok(self, result: Any, headers: dict[str, str] | None = None) -> web.Response:
        body = {
            "retCode": 0,
            "retMsg": "OK",
            "result": result,
            "retExtInfo": {},
            "time": self.venue.now_ms(),
        }
        return web.json_response(body, headers=headers)

    def _err(self, code: int, msg: str, headers: dict[str, str] | None = None) -> web.Response:
        body = {
            "retCode": code,
            "retMsg": msg,
            "result": {},
            "retExtInfo": {},
            "time": self.venue.now_ms(),
        }
        return web.json_response(body, headers=headers)

    async def _auth(self, request: web.Request) -> tuple[Account, dict[str, Any], str]:
        """The account of a signed request, its parameters and its raw payload; raises
        :class:`BybitError` 10003 (key), 10004 (signature) or 10002 (timestamp)."""
        h = request.headers
        key = h.get("X-BAPI-API-KEY", "")
        acct = next((a for a in self.venue.accounts.values() if a.cfg.api_key == key), None)
        if acct is None:
            raise BybitError(10003, "API key is invalid.")
        ts, recv, sign = (
            h.get("X-BAPI-TIMESTAMP", ""),
            h.get("X-BAPI-RECV-WINDOW", "5000"),
            h.get("X-BAPI-SIGN", ""),
        )
        if request.method == "GET":
            payload = request.query_string
            params: dict[str, Any] = dict(request.query)
        else:
            payload = await request.text()
            params = json.loads(payload) if payload else {}
        want = hmac.new(
            acct.cfg.secret.encode(), (ts + key + recv + payload).encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(want, sign):
            raise BybitError(10004, "error sign! origin_string[" + ts + key + recv + payload + "]")
        now = self.venue.now_ms()
        try:
            ts_i, recv_i = int(ts), int(recv)
        except ValueError as e:
            raise BybitError(10002, "invalid timestamp") from e
        if not (now - recv_i <= ts_i < now + 1000):
            raise BybitError(
                10002,
                f"invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{ts_i}],server_timestamp[{now}],recv_window[{recv_i}]",
            )
        return acct, params, payload

    def _limit(self, acct: Account, endpoint: str, write: bool) -> dict[str, str]:
        """Charge one request of the UID to the endpoint's rolling second; the headers say what
        is left. Raises 10006 past the limit."""
        now = time.monotonic()
        window = self._windows.setdefault((acct.cfg.name, endpoint), deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        limit = self.limits.write_per_s if write else self.limits.read_per_s
        # Bybit: the reset timestamp is when the limit resets once exceeded (here: when the
        # oldest request of the rolling second leaves it); otherwise just the current time.
        now_ms = self.venue.now_ms()
        if len(window) >= limit:
            self.throttled += 1
            reset = now_ms + max(1, math.ceil((window[0] + 1.0 - now) * 1000))
            headers = {
                "X-Bapi-Limit-Status": "0",
                "X-Bapi-Limit": str(limit),
                "X-Bapi-Limit-Reset-Timestamp": str(reset),
            }
            raise _Throttled(headers)
        window.append(now)
        return {
            "X-Bapi-Limit-Status": str(limit - len(window)),
            "X-Bapi-Limit": str(limit),
            "X-Bapi-Limit-Reset-Timestamp": str(now_ms),
        }

    async def _signed(
        self, request: web.Request, write: bool
    ) -> tuple[Account, dict[str, Any], dict[str, str]]:
        acct, params, _ = await self._auth(request)
        headers = self._limit(acct, request.path, write)
        return acct, params, headers

    # ------------------------------------------------------------------ public REST
    async def _time(self, request: web.Request) -> web.Response:
        now = self.venue.now_ms()
        return self._ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    async def _instruments(self, request: web.Request) -> web.Response:
        category = request.query.get("category", "spot")
        rows = []
        for (cat, _), s in SPECS.items():
            if cat != category:
                continue
            row: dict[str, Any] = {
                "symbol": s.symbol,
                "baseCoin": s.base,
                "quoteCoin": s.quote,
                "status": "Trading",
                "priceFilter": {"tickSize": num(s.tick), "minPrice": "0.1", "maxPrice": "1999999"},
            }
            if cat == "spot":
                row["innovation"] = "0"
                row["marginTrading"] = "utaOnly"
                row["lotSizeFilter"] = {
                    "basePrecision": num(s.step),
                    "quotePrecision": "0.00000001",
                    "minOrderQty": num(s.min_qty),
                    "maxOrderQty": "71.73956243",
                    "minOrderAmt": num(s.min_notional),
                    "maxOrderAmt": "2000000",
                }
            else:
                row.update(
                    contractType="LinearPerpetual",
                    settleCoin=s.quote,
                    launchTime="1585526400000",
                    deliveryTime="0",
                    deliveryFeeRate="",
                    priceScale="2",
                    leverageFilter={
                        "minLeverage": "1",
                        "maxLeverage": "100",
                        "leverageStep": "0.01",
                    },
                    lotSizeFilter={
                        "maxOrderQty": "1190",
                        "minOrderQty": num(s.min_qty),
                        "qtyStep": num(s.step),
                        "postOnlyMaxOrderQty": "1190",
                        "maxMktOrderQty": "500",
                        "minNotionalValue": num(s.min_notional),
                    },
                    unifiedMarginTrade=True,
                    fundingInterval=480,
                    settle=s.quote,
                )
            rows.append(row)
        return self._ok({"category": category, "list": rows, "nextPageCursor": ""})

    async def _tickers(self, request: web.Request) -> web.Response:
        category = request.query.get("category", "spot")
        symbol = request.query.get("symbol", "")
        rows = [
            self.venue.ticker_row(s)
            for (cat, sym), s in SPECS.items()
            if cat == category and (not symbol or sym == symbol)
        ]
        return self._ok({"category": category, "list": rows})

    async def _orderbook(self, request: web.Request) -> web.Response:
        try:
            return self._ok(self.books.rest(request.query))
        except BybitError as e:
            return self._err(e.code, e.msg)

    # ------------------------------------------------------------------ private REST
    async def _guard(self, request: web.Request, write: bool, body: Any) -> web.StreamResponse:
        try:
            acct, params, headers = await self._signed(request, write)
        except BybitError as e:
            return self._err(e.code, e.msg)
        except _Throttled as t:
            return self._err(10006, "Too many visits!", t.headers)
        try:
            result = await body(acct, params)
        except BybitError as e:
            return self._err(e.code, e.msg, headers)
        if isinstance(result, web.StreamResponse):
            return result
        return self._ok(result, headers)

    def _take(self, name: str) -> bool:
        left = getattr(self.faults, name)
        if left:
            setattr(self.faults, name, left - 1)
            return True
        return False

    async def _faulted(self, request: web.Request, prefix: str, commit: Any, answer: Any) -> Any:
        """Apply the fault knobs of a write around ``commit()``."""
        f = self.faults
        before = "fail_before_commit" if prefix == "places" else f"fail_{prefix}_before_commit"
        after = "fail_after_commit" if prefix == "places" else f"fail_{prefix}_after_commit"
        if self._take(before):
            raise BybitError(10016, "Internal server error.")
        done = commit()
        if self._take(after):
            raise BybitError(10016, "Internal server error.")
        if self._take(f"drop_{prefix}"):
            transport = request.transport
            if transport is not None:
                transport.close()
            raise web.HTTPServiceUnavailable()
        if self._take(f"delay_{prefix}"):
            await asyncio.sleep(f.delay_s)
        return answer(done)

    async def _create(self, request: web.Request) -> web.StreamResponse:
        async def body(acct: Account, p: dict[str, Any]) -> Any:
            category = str(p.get("category", ""))
            if category not in ("spot", "linear"):
                raise BybitError(10001, "params error: category invalid")
            return await self._faulted(
                request,
                "places",
                lambda: self._place(acct, category, p),
                lambda o: {"orderId": o.order_id, "orderLinkId": o.link_id},
            )

        return await self._guard(request, True, body)

    def _place(self, acct: Account, category: str, p: dict[str, Any]) -> Order:
        order = self.venue.place(acct.cfg.name, category, p)
        self._accepted_at[order.order_id] = time.monotonic()
        return order

    def _lookup(self, acct: Account, p: dict[str, Any]) -> Order:
        category = str(p.get("category", ""))
        order = self.venue.find(
            acct.cfg.name,
            category,
            order_id=str(p.get("orderId") or ""),
            link_id=str(p.get("orderLinkId") or ""),
        )
        if order is None:
            code, msg = self.venue.not_found_code(category)
            raise BybitError(code, msg)
        return order

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        async def body(acct: Account, p: dict[str, Any]) -> Any:
            order = self._lookup(acct, p)
            if self._take("cancel_races_fill") and order.open:
                # The fill wins; then Bybit pushes a second ``Filled`` order message for the
                # cancel that lost (cancelType=CancelByUser, EC_OrigClOrdIDDoesNotExist).
                self.venue.fill(order, order.leaves)
                row = dict(self.venue.order_row(order), category=order.category)
                row.update(cancelType="CancelByUser", rejectReason="EC_OrigClOrdIDDoesNotExist")
                self._publish(acct.cfg.name, "order", [row])
            return await self._faulted(
                request,
                "cancels",
                lambda: self.venue.cancel(order),
                lambda _: {"orderId": order.order_id, "orderLinkId": order.link_id},
            )

        return await self._guard(request, True, body)

    async def _amend(self, request: web.Request) -> web.StreamResponse:
        async def body(acct: Account, p: dict[str, Any]) -> Any:
            order = self._lookup(acct, p)
            qty = Decimal(str(p["qty"])) if p.get("qty") else None
            price = Decimal(str(p["price"])) if p.get("price") else None
            return await self._faulted(
                request,
                "amends",
                lambda: self.venue.amend(order, qty, price),
                lambda _: {"orderId": order.order_id, "orderLinkId": order.link_id},
            )

        return await self._guard(request, True, body)

    def _visible(self, order: Order) -> bool:
        lag = self.faults.visibility_lag_s
        at = self._accepted_at.get(order.order_id)
        return not (lag and at is not None and time.monotonic() - at < lag)

    def _mine(self, acct: Account, category: str, symbol: str = "") -> list[Order]:
        return [
            o
            for o in self.venue.orders.values()
            if o.account == acct.cfg.name
            and o.category == category
            and not o.house
            and (not symbol or o.symbol == symbol)
            and self._visible(o)
        ]

    async def _realtime(self, request: web.Request) -> web.StreamResponse:
        """Open orders; by ``orderId``/``orderLinkId`` also the last 500 closed ones."""

        async def body(acct: Account, p: dict[str, Any]) -> Any:
            category = str(p.get("category", ""))
            oid, link = str(p.get("orderId") or ""), str(p.get("orderLinkId") or "")
            rows = self._mine(acct, category, str(p.get("symbol") or ""))
            if oid or link:
                rows = [
                    o
                    for o in rows
                    if (o.order_id == oid if oid else o.link_id == link)
                    and self.venue.realtime_visible(o)
                ]
            elif str(p.get("openOnly", "0")) == "0":
                rows = [o for o in rows if o.open]
            else:
                rows = [o for o in rows if self.venue.realtime_visible(o)]
            out = [self.venue.order_row(o) for o in reversed(rows)]
            return {"category": category, "list": out, "nextPageCursor": ""}

        return await self._guard(request, False, body)

    async def _history(self, request: web.Request) -> web.StreamResponse:
        """Closed orders (every status: the venue does not filter canceled ones unless asked)."""

        async def body(acct: Account, p: dict[str, Any]) -> Any:
            category = str(p.get("category", ""))
            oid, link = str(p.get("orderId") or ""), str(p.get("orderLinkId") or "")
            status = str(p.get("orderStatus") or "")
            rows = self._mine(acct, category, str(p.get("symbol") or ""))
            if oid or link:
                rows = [o for o in rows if (o.order_id == oid if oid else o.link_id == link)]
            rows = [o for o in rows if not status or o.status == status]
            out = [self.venue.order_row(o) for o in reversed(rows)]
            return {"category": category, "list": out, "nextPageCursor": ""}

        return await self._guard(request, False, body)

    async def _executions(self, request: web.Request) -> web.StreamResponse:
        async def body(acct: Account, p: dict[str, Any]) -> Any:
            category = str(p.get("category", ""))
            symbol = str(p.get("symbol") or "")
            start = int(p.get("startTime") or 0)
            now = self.venue.now_ms()
            keep = self.faults.execution_history_ms
            rows = [
                self.venue.execution_row(ex)
                for ex in self.venue.executions
                if ex.order.account == acct.cfg.name
                and ex.order.category == category
                and (not symbol or ex.order.symbol == symbol)
                and ex.time_ms >= start
                and (not keep or ex.time_ms >= now - keep)
            ]
            for row in rows:
                row.pop("category", None)
            return {"category": category, "list": list(reversed(rows)), "nextPageCursor": ""}

        return await self._guard(request, False, body)

    async def _wallet(self, request: web.Request) -> web.StreamResponse:
        async def body(acct: Account, p: dict[str, Any]) -> Any:
            if p.get("accountType") != "UNIFIED":
                raise BybitError(10001, "accountType only support UNIFIED.")
            return {"list": [self.venue.wallet_row(acct)]}

        return await self._guard(request, False, body)

    async def _positions(self, request: web.Request) -> web.StreamResponse:
        async def body(acct: Account, p: dict[str, Any]) -> Any:
            symbol = str(p.get("symbol") or "")
            if symbol:  # by symbol: every leg of the account's position mode, flat or not
                for idx in (1, 2) if acct.hedge else (0,):
                    acct.positions.setdefault((symbol, idx), Position())
                return {
                    "category": p.get("category", "linear"),
                    "list": self.venue.position_rows(acct, symbol),
                    "nextPageCursor": "",
                }
            rows = [r for r in self.venue.position_rows(acct) if Decimal(r["size"]) != 0]
            return {"category": p.get("category", "linear"), "list": rows, "nextPageCursor": ""}

        return await self._guard(request, False, body)

    async def _switch_mode(self, request: web.Request) -> web.StreamResponse:
        async def body(acct: Account, p: dict[str, Any]) -> Any:
            hedge = int(p.get("mode", 0)) == 3
            if hedge == acct.hedge:
                raise BybitError(110025, "Position mode is not modified")
            acct.hedge = hedge
            return {}

        return await self._guard(request, True, body)

    # ------------------------------------------------------------------ WebSockets
    async def _private_ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _Conn(ws)
        self._conns.append(conn)
        conn_id = str(uuid.uuid4())
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                op = data.get("op")
                req_id = data.get("req_id")
                if op == "ping":
                    await ws.send_str(
                        json.dumps(
                            {
                                "req_id": req_id,
                                "op": "pong",
                                "args": [str(self.venue.now_ms())],
                                "conn_id": conn_id,
                            }
                        )
                    )
                elif op == "auth":
                    ok, why = self._ws_auth(data.get("args") or [])
                    if ok:
                        conn.account = why
                    await ws.send_str(
                        json.dumps(
                            {
                                "success": ok,
                                "ret_msg": "" if ok else why,
                                "op": "auth",
                                "conn_id": conn_id,
                                "req_id": req_id,
                            }
                        )
                    )
                elif op == "subscribe":
                    if conn.account is None:
                        await ws.send_str(
                            json.dumps(
                                {
                                    "success": False,
                                    "ret_msg": "Request not authorized",
                                    "op": "subscribe",
                                    "conn_id": conn_id,
                                    "req_id": req_id,
                                }
                            )
                        )
                        continue
                    conn.topics.update(str(t) for t in data.get("args") or ())
                    await ws.send_str(
                        json.dumps(
                            {
                                "success": True,
                                "ret_msg": "",
                                "op": "subscribe",
                                "conn_id": conn_id,
                                "req_id": req_id,
                            }
                        )
                    )
                    self._fill_on_subscribe(conn.account)
        finally:
            self._conns.remove(conn)
            conn.stop_writing()
        return ws

    def _ws_auth(self, args: list[Any]) -> tuple[bool, str]:
        if len(args) != 3:
            return False, "error:invalid args"
        key, expires, sign = (str(a) for a in args)
        acct = next((a for a in self.venue.accounts.values() if a.cfg.api_key == key), None)
        if acct is None:
            return False, "error:USVC1111"
        want = hmac.new(
            acct.cfg.secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(want, sign):
            return False, "error:signature verification failed"
        if int(expires) < self.venue.now_ms():
            return False, "error:auth expired"
        return True, acct.cfg.name

    def _fill_on_subscribe(self, account: str) -> None:
        waiting = self.faults.fill_on_subscribe
        while waiting:
            link = waiting.pop(0)
            for category in ("spot", "linear"):
                order = self.venue.find(account, category, link_id=link)
                if order is not None and order.open:
                    self.venue.fill(order, order.leaves)

    def _publish(self, account: str, topic: str, rows: list[dict[str, Any]]) -> None:
        if self.faults.half_open:
            return
        message = {
            "id": str(uuid.uuid4()),
            "topic": topic,
            "creationTime": self.venue.now_ms(),
            "data": rows,
        }
        times = 2 if self.faults.duplicate_events and topic == "execution" else 1
        for conn in self._conns:
            if conn.account != account:
                continue
            if topic in conn.topics or any(t.startswith(topic + ".") for t in conn.topics):
                for _ in range(times):
                    conn.send(message)


class _Throttled(Exception):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("throttled")
        self.headers = headers
