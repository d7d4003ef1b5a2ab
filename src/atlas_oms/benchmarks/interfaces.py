"""One limit order placed and canceled through each client interface of issue 17 (gRPC, FIX 4.4,
the Binance dialect) and, for comparison in the same sitting, through REST.

Each key starts the real ``atlas serve`` in a child process (as :mod:`atlas_oms.benchmarks.http`
does: uvicorn, one worker, SQLite journal with group commit, no market maker, the rate limits
lifted) with only its interface's port set, on a temp data dir prepared with large deposits. This
process is the client, written with the client library people use for that interface:

- ``grpc_order_us``: grpcio's asyncio client, unary ``SubmitOrder`` then ``CancelOrder``;
- ``fix_order_us``: QuickFIX's ``SocketInitiator`` (quickfix-ssl), NewOrderSingle answered by
  ExecutionReport ExecType=0 (New), OrderCancelRequest answered by ExecType=4 (Canceled);
- ``binance_order_us``: ``httpx.AsyncClient``, a signed ``POST /api/v3/order`` then
  ``DELETE /api/v3/order`` (HMAC-SHA256 of the query string, ``X-MBX-APIKEY``: as ccxt signs);
- ``rest_order_us``: ``httpx.AsyncClient``, ``POST /v1/orders`` then ``DELETE /v1/orders/{id}``.

Every order is a limit buy of ETH/USDT below the (empty) book's asks: it rests, and is canceled.
An answer comes only after the journal commit that holds its events (the interfaces answer after
``service.durable()``), so every latency is a durable one. Two phases, each after a warm-up:

1. **latency**: one client, closed loop (place, wait for the answer, cancel, wait): the p50/p99
   of a placement and of a cancel, in microseconds, from sending to the full answer. The key's
   figure is the placement's p99.
2. **throughput**: ``CLIENTS`` closed-loop clients (FIX: one session each, since a FIX session
   handles its messages in order, one at a time): orders placed and canceled per second, with
   the placement's p50/p99 under that load.

The two processes share the machine: on 2 cores the client's CPU is part of the cost, so the CPU
each side used in the throughput phase is reported with the figures.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import queue
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from atlas_oms.benchmarks.http import _cpu_s, _free_port, _prepare, _Server

SYMBOL = "ETH/USDT"
BINANCE_SYMBOL = "ETHUSDT"
QTY = "0.01"
#: Buy prices (the book has no asks: every order rests until canceled).
PRICES = tuple(str(Decimal(2900) + Decimal(i) / 100) for i in range(16))
CLIENTS = 8
CLIENTS_QUICK = 2
LATENCY_S = 3.0
LATENCY_QUICK_S = 0.3
THROUGHPUT_S = 4.0
THROUGHPUT_QUICK_S = 0.3
WARMUP_S = 0.5
WARMUP_QUICK_S = 0.1
#: The interfaces measured, in the order ``atlas bench`` runs them.
INTERFACES = ("rest", "grpc", "fix", "binance")
#: The environment that lifts the limits that would otherwise be what is measured.
UNLIMITED = {
    "ATLAS_RATE_LIMIT_PER_S": "1000000000",
    "ATLAS_BINANCE_WEIGHT_PER_MINUTE": "1000000000",
    "ATLAS_BINANCE_ORDERS_PER_10S": "1000000000",
    "ATLAS_BINANCE_ORDERS_PER_DAY": "1000000000",
}
WAIT_S = 30.0

#: One round of a client: place an order, then cancel it; returns the two latencies (seconds).
Round = Callable[[int, int], Awaitable[tuple[float, float]]]


@dataclass
class _Sizes:
    clients: int
    latency_s: float
    throughput_s: float
    warmup_s: float

    @classmethod
    def of(cls, quick: bool) -> _Sizes:
        if quick:
            return cls(CLIENTS_QUICK, LATENCY_QUICK_S, THROUGHPUT_QUICK_S, WARMUP_QUICK_S)
        return cls(CLIENTS, LATENCY_S, THROUGHPUT_S, WARMUP_S)


@dataclass
class _Samples:
    place: list[float] = field(default_factory=list)
    cancel: list[float] = field(default_factory=list)

    def add(self, place: float, cancel: float) -> None:
        self.place.append(place)
        self.cancel.append(cancel)


def _pct_us(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1e6, 1)


def _token(data_dir: Path) -> tuple[str, str]:
    """The trader key of the first start: (token, key_id)."""
    keys = [json.loads(x) for x in (data_dir / "first-keys.txt").read_text().splitlines()]
    token = next(k["token"] for k in keys if k["roles"] == ["trader"])
    return token, token.partition(".")[0]


# ---------------------------------------------------------------- asyncio clients (REST, gRPC, Binance)
async def _phase(
    make_round: Callable[[int], Awaitable[tuple[Round, Callable[[], Awaitable[None]]]]],
    clients: int,
    warmup_s: float,
    duration_s: float,
    pid: int,
) -> tuple[_Samples, float, float, float]:
    """``clients`` closed-loop clients for ``warmup_s + duration_s``; the window's samples,
    length, server CPU and client CPU seconds."""
    rounds = [await make_round(i) for i in range(clients)]
    samples = _Samples()
    window: list[float] = []
    started = time.perf_counter()
    measure_from = started + warmup_s
    stop_at = measure_from + duration_s

    async def client(i: int) -> None:
        run = rounds[i][0]
        n = i
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                return
            place, cancel = await run(i, n)
            n += clients
            if t0 >= measure_from:
                samples.add(place, cancel)

    async def mark() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        window.extend((time.perf_counter(), _cpu_s(pid), time.process_time()))

    try:
        marker = asyncio.create_task(mark())
        await asyncio.gather(*(client(i) for i in range(clients)))
        await marker
        ended = time.perf_counter()
    finally:
        for _, close in rounds:
            await close()
    return samples, ended - window[0], _cpu_s(pid) - window[1], time.process_time() - window[2]


class _Http:
    """One keep-alive HTTP connection of an ``aiohttp`` client session (its client costs a
    fraction of httpx's per request, which on 2 cores would otherwise be what is measured; the
    httpx figures are in docs/notes/bench17.md)."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=1)
        timeout = aiohttp.ClientTimeout(total=WAIT_S)
        self.session = aiohttp.ClientSession(
            base_url, headers=headers, connector=connector, timeout=timeout
        )

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.request(method, path, json=body) as r:
            return r.status, await r.json(content_type=None)

    async def close(self) -> None:
        await self.session.close()


def _rest_rounds(server: _Server, token: str) -> Any:
    async def make(i: int) -> tuple[Round, Callable[[], Awaitable[None]]]:
        http = _Http(server.url, {"X-API-Key": token})

        async def run(i: int, n: int) -> tuple[float, float]:
            body = {"account_id": "desk", "symbol": SYMBOL, "side": "BUY", "qty": QTY}
            body["price"] = PRICES[n % len(PRICES)]
            t0 = time.perf_counter()
            status, answer = await http.call("POST", "/v1/orders", body)
            t1 = time.perf_counter()
            if status != 201:
                raise RuntimeError(f"REST submit answered {status}: {answer}")
            path = f"/v1/orders/{answer['order_id']}?account_id=desk"
            t2 = time.perf_counter()
            status, answer = await http.call("DELETE", path)
            t3 = time.perf_counter()
            if status != 200 or answer["status"] != "CANCELED":
                raise RuntimeError(f"REST cancel answered {status}: {answer}")
            return t1 - t0, t3 - t2

        return run, http.close

    return make


def _grpc_rounds(port: int, token: str) -> Any:
    import grpc

    from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2 as pb
    from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2_grpc as rpc
    from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as types

    md = (("x-api-key", token),)

    async def make(i: int) -> tuple[Round, Callable[[], Awaitable[None]]]:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        await asyncio.wait_for(channel.channel_ready(), WAIT_S)
        stub = rpc.OrdersStub(channel)

        async def run(i: int, n: int) -> tuple[float, float]:
            request = pb.SubmitOrderRequest(
                account_id="desk",
                symbol=SYMBOL,
                side=types.SIDE_BUY,
                order_type=types.ORDER_TYPE_LIMIT,
                qty=QTY,
                price=PRICES[n % len(PRICES)],
            )
            t0 = time.perf_counter()
            order = await stub.SubmitOrder(request, metadata=md, timeout=WAIT_S)
            t1 = time.perf_counter()
            ref = pb.OrderRef(account_id="desk", order_id=order.order_id)
            t2 = time.perf_counter()
            done = await stub.CancelOrder(ref, metadata=md, timeout=WAIT_S)
            t3 = time.perf_counter()
            if done.status != types.ORDER_STATUS_CANCELED:
                raise RuntimeError(f"gRPC cancel answered {done}")
            return t1 - t0, t3 - t2

        async def close() -> None:
            await channel.close()

        return run, close

    return make


def _binance_rounds(server_url: str, api_key: str, secret: str) -> Any:
    key = secret.encode()

    def signed(params: dict[str, str]) -> str:
        params["timestamp"] = str(int(time.time() * 1000))
        query = urlencode(params)
        return query + "&signature=" + hmac.new(key, query.encode(), hashlib.sha256).hexdigest()

    async def make(i: int) -> tuple[Round, Callable[[], Awaitable[None]]]:
        http = _Http(server_url, {"X-MBX-APIKEY": api_key})

        async def run(i: int, n: int) -> tuple[float, float]:
            t0 = time.perf_counter()
            query = signed(
                {
                    "symbol": BINANCE_SYMBOL,
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": QTY,
                    "price": PRICES[n % len(PRICES)],
                    "newOrderRespType": "ACK",
                }
            )
            status, answer = await http.call("POST", "/api/v3/order?" + query)
            t1 = time.perf_counter()
            if status != 200:
                raise RuntimeError(f"Binance order answered {status}: {answer}")
            t2 = time.perf_counter()
            query = signed({"symbol": BINANCE_SYMBOL, "orderId": str(answer["orderId"])})
            status, answer = await http.call("DELETE", "/api/v3/order?" + query)
            t3 = time.perf_counter()
            if status != 200 or answer["status"] != "CANCELED":
                raise RuntimeError(f"Binance cancel answered {status}: {answer}")
            return t1 - t0, t3 - t2

        return run, http.close

    return make


def _ccxt_rounds(server_url: str, api_key: str, secret: str) -> Any:
    """The same round through ccxt's async ``binance`` client (``create_order`` and
    ``cancel_order``): what a ccxt bot sees, the client's own work included."""

    async def make(i: int) -> tuple[Round, Callable[[], Awaitable[None]]]:
        import ccxt.async_support as ccxt_async

        from atlas_oms.fakes.binance.urls import ccxt_config

        ws = server_url.replace("http://", "ws://")
        exchange = ccxt_async.binance(ccxt_config("spot", api_key, secret, server_url, ws))
        await exchange.load_markets()

        async def run(i: int, n: int) -> tuple[float, float]:
            price = float(PRICES[n % len(PRICES)])
            t0 = time.perf_counter()
            order = await exchange.create_order(SYMBOL, "limit", "buy", float(QTY), price)
            t1 = time.perf_counter()
            t2 = time.perf_counter()
            done = await exchange.cancel_order(order["id"], SYMBOL)
            t3 = time.perf_counter()
            if done["status"] != "canceled":
                raise RuntimeError(f"ccxt cancel answered {done}")
            return t1 - t0, t3 - t2

        return run, exchange.close

    return make


# ---------------------------------------------------------------- FIX: QuickFIX initiator threads
class _FixSessions:
    """``clients`` QuickFIX initiator sessions (``BENCH1``..) to the gateway, each with a thread
    that places and cancels; answers are matched to the waiting thread by ClOrdID."""

    def __init__(self, folder: Path, port: int, token: str, clients: int) -> None:
        import quickfix as fix

        from atlas_oms.fix.acceptor import spec_path

        self.fix = fix
        username, _, password = token.partition(".")
        self.waiting: dict[str, queue.SimpleQueue[tuple[str, dict[int, str]]]] = {}
        self.logged_on: set[str] = set()
        sessions = [f"BENCH{i + 1}" for i in range(clients)]
        self.comp_ids = sessions
        outer = self

        class App(fix.Application):
            def onCreate(self, session_id: Any) -> None:
                return None

            def onLogon(self, session_id: Any) -> None:
                outer.logged_on.add(session_id.getSenderCompID().getValue())

            def onLogout(self, session_id: Any) -> None:
                outer.logged_on.discard(session_id.getSenderCompID().getValue())

            def toAdmin(self, message: Any, session_id: Any) -> None:
                if message.getHeader().getField(35) == "A":
                    message.setField(553, username)
                    message.setField(554, password)

            def fromAdmin(self, message: Any, session_id: Any) -> None:
                return None

            def toApp(self, message: Any, session_id: Any) -> None:
                return None

            def fromApp(self, message: Any, session_id: Any) -> None:
                try:
                    fields: dict[int, str] = {}
                    for part in message.toString().split("\x01"):
                        tag, sep, value = part.partition("=")
                        if sep and tag.isdigit():
                            fields.setdefault(int(tag), value)
                    waiter = outer.waiting.get(fields.get(11, ""))
                    if waiter is not None:
                        waiter.put((fields.get(35, ""), fields))
                except Exception:  # pragma: no cover - never raise into QuickFIX
                    pass

        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            "[DEFAULT]",
            "ConnectionType=initiator",
            "SocketConnectHost=127.0.0.1",
            f"SocketConnectPort={port}",
            f"FileStorePath={folder / 'store'}",
            "StartTime=00:00:00",
            "EndTime=00:00:00",
            "HeartBtInt=30",
            "ReconnectInterval=1",
            "UseDataDictionary=Y",
            f"DataDictionary={spec_path()}",
        ]
        for comp_id in sessions:
            lines += ["[SESSION]", "BeginString=FIX.4.4", f"SenderCompID={comp_id}"]
            lines.append("TargetCompID=ATLAS")
        config = folder / "initiator.cfg"
        config.write_text("\n".join(lines) + "\n")
        self.app = App()
        self.settings = fix.SessionSettings(str(config))
        self.initiator = fix.SocketInitiator(
            self.app,
            fix.FileStoreFactory(self.settings),
            self.settings,
            fix.ScreenLogFactory(False, False, False),
        )
        self.initiator.start()
        deadline = time.monotonic() + WAIT_S
        while len(self.logged_on) < len(sessions):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"FIX logon: only {sorted(self.logged_on)} of {sessions}")
            time.sleep(0.02)
        self._n = 0
        self._lock = threading.Lock()

    def stop(self) -> None:
        self.initiator.stop()

    def _cl(self, i: int) -> str:
        with self._lock:
            self._n += 1
            return f"b{i}-{self._n}"

    def _send(self, comp_id: str, msg_type: str, fields: list[tuple[int, str]]) -> None:
        fix = self.fix
        message = fix.Message()
        message.getHeader().setField(fix.MsgType(msg_type))
        for tag, value in fields:
            message.setField(tag, value)
        session_id = fix.SessionID("FIX.4.4", comp_id, "ATLAS")
        if not fix.Session.sendToTarget(message, session_id):
            raise RuntimeError(f"FIX session {comp_id} refused to send")

    def _await(
        self, cl: str, box: queue.SimpleQueue[tuple[str, dict[int, str]]], want: str
    ) -> None:
        """Until ExecType ``want`` for ``cl`` (a cancel's Pending Cancel, 6, comes first)."""
        try:
            while True:
                msg_type, fields = box.get(timeout=WAIT_S)
                if msg_type == "8" and fields.get(150) == want:
                    return
                if msg_type != "8" or fields.get(150) != "6":
                    raise RuntimeError(f"FIX answer to {cl}: {fields}, want ExecType={want}")
        finally:
            self.waiting.pop(cl, None)

    def round(self, i: int, n: int) -> tuple[float, float]:
        comp_id = self.comp_ids[i]
        cl = self._cl(i)
        box: queue.SimpleQueue[tuple[str, dict[int, str]]] = queue.SimpleQueue()
        self.waiting[cl] = box
        stamp = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime())
        order = [(11, cl), (1, "desk"), (55, SYMBOL), (54, "1"), (60, stamp), (38, QTY)]
        order += [(40, "2"), (44, PRICES[n % len(PRICES)])]
        t0 = time.perf_counter()
        self._send(comp_id, "D", order)
        self._await(cl, box, "0")
        t1 = time.perf_counter()
        cancel_cl = self._cl(i)
        self.waiting[cancel_cl] = box
        cancel = [(11, cancel_cl), (41, cl), (1, "desk"), (55, SYMBOL), (54, "1")]
        cancel += [(60, stamp), (38, QTY)]
        t2 = time.perf_counter()
        self._send(comp_id, "F", cancel)
        self._await(cancel_cl, box, "4")
        t3 = time.perf_counter()
        return t1 - t0, t3 - t2


def _fix_phase(
    sessions: _FixSessions, clients: int, warmup_s: float, duration_s: float, pid: int
) -> tuple[_Samples, float, float, float]:
    samples = _Samples()
    lock = threading.Lock()
    errors: list[BaseException] = []
    started = time.perf_counter()
    measure_from = started + warmup_s
    stop_at = measure_from + duration_s

    def client(i: int) -> None:
        n = i
        try:
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                place, cancel = sessions.round(i, n)
                n += clients
                if t0 >= measure_from:
                    with lock:
                        samples.add(place, cancel)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    window = (time.perf_counter(), _cpu_s(pid), time.process_time())
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"FIX client failed: {errors[0]!r}") from errors[0]
    ended = time.perf_counter()
    return samples, ended - window[0], _cpu_s(pid) - window[1], time.process_time() - window[2]


# ---------------------------------------------------------------- the runner
def _figures(
    name: str,
    latency: tuple[_Samples, float, float, float],
    load: tuple[_Samples, float, float, float],
    sizes: _Sizes,
) -> dict[str, Any]:
    one, _, _, _ = latency
    many, elapsed, server_cpu, client_cpu = load
    if not one.place or not many.place:
        raise RuntimeError(f"{name}: no round completed in the measured window")
    return {
        f"{name}_order_us": _pct_us(one.place, 0.99),
        f"{name}_order_p50_us": _pct_us(one.place, 0.50),
        f"{name}_cancel_p50_us": _pct_us(one.cancel, 0.50),
        f"{name}_cancel_p99_us": _pct_us(one.cancel, 0.99),
        f"{name}_orders_per_s": round(len(many.place) / elapsed),
        f"{name}_loaded": {
            "clients": sizes.clients,
            "order_p50_us": _pct_us(many.place, 0.50),
            "order_p99_us": _pct_us(many.place, 0.99),
            "cancel_p50_us": _pct_us(many.cancel, 0.50),
            "cancel_p99_us": _pct_us(many.cancel, 0.99),
            "server_cpu_pct": round(100 * server_cpu / elapsed),
            "client_cpu_pct": round(100 * client_cpu / elapsed),
        },
        "n": {
            f"{name}_latency_rounds": len(one.place),
            f"{name}_loaded_rounds": len(many.place),
            f"{name}_clients": sizes.clients,
        },
    }


def bench_interface(name: str, quick: bool) -> dict[str, Any]:
    """Place-and-cancel latency and throughput through interface ``name`` (see INTERFACES)."""
    if name not in INTERFACES:
        raise KeyError(f"unknown interface {name!r}; known: {', '.join(INTERFACES)}")
    sizes = _Sizes.of(quick)
    with tempfile.TemporaryDirectory(prefix=f"atlas-bench-{name}-") as tmp:
        data_dir = Path(tmp)
        _prepare(data_dir)
        env = dict(UNLIMITED)
        port = _free_port()
        if name == "grpc":
            env["ATLAS_GRPC_PORT"] = str(port)
        elif name == "fix":
            env["ATLAS_FIX_PORT"] = str(port)
            env["ATLAS_FIX_SESSIONS"] = ",".join(f"BENCH{i + 1}" for i in range(sizes.clients))
        elif name == "binance":
            from atlas_oms.binance_api.keys import server_secret

            env["ATLAS_BINANCE_PORT"] = str(port)
            secret = server_secret(data_dir)  # the file, made before the server reads it
        server = _Server(data_dir, env=env, wait_port=None if name == "rest" else port)
        try:
            token, key_id = _token(data_dir)
            pid = server.proc.pid
            if name == "fix":
                sessions = _FixSessions(data_dir / "initiator", port, token, sizes.clients)
                try:
                    latency = _fix_phase(sessions, 1, sizes.warmup_s, sizes.latency_s, pid)
                    load = _fix_phase(
                        sessions, sizes.clients, sizes.warmup_s, sizes.throughput_s, pid
                    )
                finally:
                    sessions.stop()
            else:
                if name == "rest":
                    make = _rest_rounds(server, token)
                elif name == "grpc":
                    make = _grpc_rounds(port, token)
                else:
                    from atlas_oms.binance_api.keys import derived_secret

                    pair = derived_secret(secret, key_id)
                    make = _binance_rounds(f"http://127.0.0.1:{port}", key_id, pair)
                latency = asyncio.run(_phase(make, 1, sizes.warmup_s, sizes.latency_s, pid))
                load = asyncio.run(
                    _phase(make, sizes.clients, sizes.warmup_s, sizes.throughput_s, pid)
                )
                if name == "binance":  # one client again, through ccxt
                    via = _ccxt_rounds(f"http://127.0.0.1:{port}", key_id, pair)
                    ccxt = asyncio.run(_phase(via, 1, sizes.warmup_s, sizes.latency_s, pid))
        finally:
            server.close()
    out = _figures(name, latency, load, sizes)
    if name == "binance":
        samples = ccxt[0]
        out["binance_ccxt"] = {
            "order_p50_us": _pct_us(samples.place, 0.50),
            "order_p99_us": _pct_us(samples.place, 0.99),
            "cancel_p50_us": _pct_us(samples.cancel, 0.50),
            "cancel_p99_us": _pct_us(samples.cancel, 0.99),
        }
        out["n"]["binance_ccxt_rounds"] = len(samples.place)
    return out


def bench_rest_order(quick: bool) -> dict[str, Any]:
    return bench_interface("rest", quick)


def bench_grpc_order(quick: bool) -> dict[str, Any]:
    return bench_interface("grpc", quick)


def bench_fix_order(quick: bool) -> dict[str, Any]:
    return bench_interface("fix", quick)


def bench_binance_order(quick: bool) -> dict[str, Any]:
    return bench_interface("binance", quick)


__all__ = [
    "INTERFACES",
    "bench_binance_order",
    "bench_fix_order",
    "bench_grpc_order",
    "bench_interface",
    "bench_rest_order",
]
