"""WebSocket fan-out: ``CLIENTS`` stream clients each receive every event of an ``ORDERS``-order run.

The server is the real ``atlas serve`` in a child process, started as by the HTTP benchmark
(:mod:`atlas_oms.benchmarks.http`: temp data dir, prepared journal with big deposits, free loopback
port, one worker, no market maker, rate limit lifted). The stream's settings are its defaults
(a queue of ``ws_queue_size`` messages per connection, slow clients closed with 4408).

This process is the clients, on one event loop: ``CLIENTS`` WebSocket connections (the
``websockets`` package, no compression) each subscribe to ``desk``'s account channel with its
sub-accounts, from the seq the server had when they connected. Then ``ORDER_CONNS`` keep-alive
HTTP connections (the HTTP benchmark's raw client) submit ``ORDERS`` limit orders between ``desk``
and ``desk-algo``, each buying and selling in turn a few ticks either side of a mid, so about half
rest and half cross (fills on both sides, every event concerning ``desk``'s tree; see
:func:`_requests` for why each account trades both ways). A client the server closes as
too slow (4408) reconnects with ``since_seq`` = the last seq it received and is counted as a resume.

A client is done when, on a connection that has gone live, a pong reports the server has published
everything up to the engine's seq after the last order was answered (``/health``). After the run the
journal is opened with :meth:`Node.open` and each client's seqs are compared with the audit trail of
``desk`` with its sub-accounts (:func:`audit_trail`) after the starting seq: the figure
``ws_fanout_clients`` is the number of clients whose seqs are strictly increasing, without a
duplicate, and equal to that list.

Delivery time is from the first order sent until the last client is done; messages per second is
every account message delivered to every client (replays after a resume included) over that time.
The clients' CPU (one Python process) is usually the limit on a small box, so it is reported too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

from atlas_oms.benchmarks.http import (
    BUY_TICKS,
    MID,
    QTY,
    SYMBOL,
    TICK,
    _Conn,
    _cpu_s,
    _prepare,
    _run,
    _Server,
)

ACCOUNT = "desk"
CLIENTS = 100
CLIENTS_QUICK = 5
ORDERS = 10_000
ORDERS_QUICK = 200
ORDER_CONNS = 8
ORDER_CONNS_QUICK = 2
#: Give up (and report what arrived) after this long waiting for the clients.
TIMEOUT_S = 900.0
PING_EVERY_S = 0.1


class _Msg(msgspec.Struct):
    """The few fields the clients look at (the rest of each message is skipped)."""

    op: str | None = None
    channel: str | None = None
    seq: int | None = None
    reason: str | None = None
    detail: str | None = None


_decode = msgspec.json.Decoder(_Msg).decode


class _Client:
    def __init__(self, index: int, since: int) -> None:
        self.index = index
        self.since = since
        self.seqs: list[int] = []
        self.resumes = 0
        self.frames = 0
        self.bytes = 0
        self.max_bytes = 0
        self.errors: list[str] = []
        self.ws: Any = None
        self.live = False
        self.done = asyncio.Event()
        self.done_at = 0.0


async def _client(url: str, client: _Client, target: list[int]) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    while True:
        ws = await connect(
            url,
            compression=None,
            proxy=None,
            ping_interval=None,
            max_size=None,
            open_timeout=60,
        )
        client.ws, client.live = ws, False
        sub = {
            "op": "subscribe",
            "channel": "account",
            "account_id": ACCOUNT,
            "subaccounts": True,
            "since_seq": client.since,
        }
        await ws.send(json.dumps(sub))
        seqs = client.seqs
        try:
            async for raw in ws:
                client.frames += 1
                msg = _decode(raw)
                if msg.op is None and msg.channel == "account":  # an event (not subscribed, live)
                    if msg.seq is None:  # every event carries its seq: the stream is broken
                        client.errors.append(f"an account event without a seq: {raw!r:.200}")
                        continue
                    seqs.append(msg.seq)
                    client.bytes += len(raw)
                    client.max_bytes = max(client.max_bytes, len(raw))
                    client.since = msg.seq
                elif msg.op == "live":
                    client.live = True
                elif msg.op == "pong":
                    if client.live and target and msg.seq is not None and msg.seq >= target[0]:
                        client.done_at = time.perf_counter()
                        client.done.set()
                        client.ws = None
                        await ws.close()
                        return
                elif msg.op == "error":
                    client.errors.append(f"{msg.reason}: {msg.detail}")
        except ConnectionClosed:
            pass
        client.ws = None
        code = ws.close_code
        if code == 4408:
            client.resumes += 1
            continue
        client.errors.append(f"closed with {code} {ws.close_reason!r}")
        client.done.set()
        return


async def _pinger(clients: list[_Client]) -> None:
    """Once the target is known: ask every live, unfinished client's server for its published seq."""
    ping = json.dumps({"op": "ping"})
    while True:
        for client in clients:
            if not client.done.is_set() and client.live and client.ws is not None:
                with contextlib.suppress(Exception):
                    await client.ws.send(ping)
        await asyncio.sleep(PING_EVERY_S)


def _requests(port: int, token: str) -> list[bytes]:
    """The HTTP benchmark's orders, each pair also mirrored (``desk-algo`` buys, ``desk`` sells):
    both accounts' positions swing around flat instead of growing all run long. (A position's
    view lists its open lots, and the stream sends it with every fill: one-way positions of
    thousands of lots would make each fill message hundreds of kilobytes.)"""
    out = []
    for ticks in BUY_TICKS:
        for buyer, seller in (("desk", "desk-algo"), ("desk-algo", "desk")):
            for side, account, px in (
                ("BUY", buyer, MID + TICK * ticks),
                ("SELL", seller, MID - TICK * ticks),
            ):
                body = json.dumps(
                    {
                        "account_id": account,
                        "symbol": SYMBOL,
                        "side": side,
                        "qty": QTY,
                        "price": str(px),
                    }
                ).encode()
                head = (
                    f"POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"X-API-Key: {token}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                )
                out.append(head.encode() + body)
    return out


async def _submit(port: int, token: str, orders: int, conns: int) -> dict[int, int]:
    requests = _requests(port, token)
    opened = [await _Conn.open("127.0.0.1", port) for _ in range(conns)]
    statuses: dict[int, int] = {}
    counter = iter(range(orders))

    async def worker(conn: _Conn) -> None:
        for n in counter:
            status = await conn.send(requests[n % len(requests)])
            statuses[status] = statuses.get(status, 0) + 1

    try:
        await asyncio.gather(*(worker(c) for c in opened))
    finally:
        for c in opened:
            c.close()
    return statuses


async def _drive(server: _Server, token: str, clients_n: int, orders: int, conns: int) -> Any:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{server.port}/v1/ws?token={token}"
    # The seq every client starts from: the server's, before any order of the run.
    async with connect(url, compression=None, proxy=None) as ws:
        base = int(json.loads(await ws.recv())["seq"])
    clients = [_Client(i, base) for i in range(clients_n)]
    target: list[int] = []
    tasks = [asyncio.create_task(_client(url, c, target)) for c in clients]
    # Every client subscribed and live before the first order.
    deadline = time.monotonic() + 60
    while not all(c.live for c in clients):
        if time.monotonic() > deadline or any(t.done() for t in tasks):
            raise RuntimeError("the WebSocket clients did not all go live")
        await asyncio.sleep(0.01)
    pid = server.proc.pid
    cpu0 = (_cpu_s(pid), time.process_time())
    started = time.perf_counter()
    statuses = await _submit(server.port, token, orders, conns)
    submitted = time.perf_counter()
    async with httpx.AsyncClient(base_url=server.url) as http:
        target.append(int((await http.get("/health")).json()["seq"]))
    pinger = asyncio.create_task(_pinger(clients))
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.gather(*(c.done.wait() for c in clients)), TIMEOUT_S)
    except TimeoutError:
        timed_out = True
    ended = time.perf_counter()
    cpu1 = (_cpu_s(pid), time.process_time())
    pinger.cancel()
    for task in tasks:
        task.cancel()
    for task in [pinger, *tasks]:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    return {
        "base": base,
        "target": target[0],
        "clients": clients,
        "statuses": statuses,
        "submit_s": submitted - started,
        "delivery_s": ended - started,
        "last_done_after_submit_s": ended - submitted,
        "server_cpu_s": cpu1[0] - cpu0[0],
        "client_cpu_s": cpu1[1] - cpu0[1],
        "timed_out": timed_out,
    }


def _expected(db: Path, base: int) -> list[int]:
    """The journal's seqs of the events concerning ``desk`` and its sub-accounts after ``base``."""
    from atlas_oms.runtime.node import Node
    from atlas_oms.store.audit import audit_trail

    node = Node.open(str(db))
    try:
        trail = audit_trail(node.events(), ACCOUNT, include_subaccounts=True)
    finally:
        node.close()
    return [r.seq for r in trail if r.seq > base]


def _complete(seqs: list[int], expected: list[int]) -> bool:
    increasing = all(a < b for a, b in itertools.pairwise(seqs))
    return increasing and seqs == expected


def bench_fanout(quick: bool) -> dict[str, Any]:
    clients_n = CLIENTS_QUICK if quick else CLIENTS
    orders = ORDERS_QUICK if quick else ORDERS
    conns = ORDER_CONNS_QUICK if quick else ORDER_CONNS
    with tempfile.TemporaryDirectory(prefix="atlas-bench-fanout-") as tmp:
        data_dir = Path(tmp)
        _prepare(data_dir)
        server = _Server(data_dir)
        try:
            keys = [json.loads(x) for x in (data_dir / "first-keys.txt").read_text().splitlines()]
            token = next(k["token"] for k in keys if k["roles"] == ["trader"])
            run = _run(_drive(server, token, clients_n, orders, conns))
        finally:
            server.close()
        expected = _expected(data_dir / "atlas.db", run["base"])
    if set(run["statuses"]) - {201}:
        raise RuntimeError(f"benchmark workload broken: answers {run['statuses']}, want 201")
    clients: list[_Client] = run["clients"]
    good = [c for c in clients if _complete(c.seqs, expected)]
    delivered = sum(len(c.seqs) for c in clients)
    duplicates = sum(len(c.seqs) - len(set(c.seqs)) for c in clients)
    want = set(expected)
    missing = sum(len(want - set(c.seqs)) for c in clients)
    elapsed = run["delivery_s"]
    return {
        "ws_fanout_clients": len(good),
        "ws_fanout_events_per_client": len(expected),
        "ws_fanout_messages": delivered,
        "ws_fanout_delivery_s": round(elapsed, 2),
        "ws_fanout_messages_per_s": round(delivered / elapsed),
        "ws_fanout_mean_message_bytes": round(sum(c.bytes for c in clients) / max(1, delivered)),
        "ws_fanout_max_message_bytes": max((c.max_bytes for c in clients), default=0),
        "ws_fanout_submit_s": round(run["submit_s"], 2),
        "ws_fanout_lag_after_last_order_s": round(run["last_done_after_submit_s"], 2),
        "ws_fanout_resumes": sum(c.resumes for c in clients),
        "ws_fanout_clients_resumed": sum(1 for c in clients if c.resumes),
        "ws_fanout_missing": missing,
        "ws_fanout_duplicates": duplicates,
        "ws_fanout_errors": sorted({e for c in clients for e in c.errors})[:5],
        "ws_fanout_timed_out": run["timed_out"],
        "ws_fanout_server_cpu_pct": round(100 * run["server_cpu_s"] / elapsed),
        "ws_fanout_client_cpu_pct": round(100 * run["client_cpu_s"] / elapsed),
        "n": {
            "ws_fanout_clients": clients_n,
            "ws_fanout_orders": orders,
            "ws_fanout_events": len(expected),
        },
    }
