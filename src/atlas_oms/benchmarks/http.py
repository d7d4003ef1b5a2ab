"""Order submission over loopback HTTP: the real ``atlas serve`` in a child process on one worker.

The server is ``python -m atlas_oms.cli serve`` (uvicorn, one worker, SQLite journal with group
commit, no market maker) on a temp data dir and a free 127.0.0.1 port. Before it starts, the journal
is given the first start's instruments and accounts and large deposits (untimed), so that funds never
run out. The per-key rate limit is lifted for the run (``ATLAS_RATE_LIMIT_PER_S``): it exists to stop
one client from hogging the node, and would otherwise be what is measured.

This process is the clients: ``CLIENTS`` coroutines on one ``httpx.AsyncClient`` (keep-alive, one
connection each), each sending its next limit order as soon as the previous one is answered. Buys go
from ``desk``, sells from ``desk-algo`` (one trader key acts for both), at prices a few ticks either
side of a fixed mid: about half rest, half cross. After a warm-up, every answer in the measured
window counts: orders per second is answered orders over the window's length, and the latency of
each is from sending to the full answer (which comes after the journal commit that holds it).

The two processes share the machine: on a 2-core box the clients' own CPU is a real part of the cost,
so the CPU seconds each side used are reported with the figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

import atlas_oms

SYMBOL = "ETH/USDT"
MID = Decimal(3000)
TICK = Decimal("0.01")
QTY = "0.01"
CLIENTS = 16
CLIENTS_QUICK = 4
DURATION_S = 10.0
DURATION_QUICK_S = 0.5
WARMUP_S = 1.0
WARMUP_QUICK_S = 0.2
#: The shorter pass with httpx.AsyncClient as the client (reported beside the main figures).
HTTPX_DURATION_S = 3.0
#: Prices of the buys: the mid plus these many ticks; sells are their mirror image.
BUY_TICKS = (-6, -4, -3, -2, -1, 0, 1, 2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    """Whether 127.0.0.1:``port`` accepts a TCP connection."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _prepare(data_dir: Path) -> None:
    """The first start of ``atlas serve`` plus deposits big enough for the run (untimed)."""
    from atlas_oms.runtime.node import Node
    from atlas_oms.service.bootstrap import DESK, SUB, default_instruments, first_start

    node = Node.open(str(data_dir / "atlas.db"))
    try:
        first_start(node, default_instruments())
        for account in (DESK, SUB):
            node.deposit(account, "USDT", 10_000_000_000)
            node.deposit(account, "ETH", 100_000_000)
        node.flush()
    finally:
        node.close()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class _Server:
    """``atlas serve`` in a child process until closed."""

    def __init__(
        self, data_dir: Path, *, env: dict[str, str] | None = None, wait_port: int | None = None
    ) -> None:
        """``env``: more ATLAS_* settings; ``wait_port``: also wait until it accepts (an
        interface's port, benchmarks/interfaces.py)."""
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        extra = env or {}
        env = dict(os.environ)
        src = str(Path(atlas_oms.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        env.update(ATLAS_RATE_LIMIT_PER_S="1000000000", ATLAS_LOG_LEVEL="WARNING")
        env.update(extra)
        cmd = [sys.executable, "-m", "atlas_oms.cli", "serve", "--data-dir", str(data_dir)]
        cmd += ["--port", str(self.port), "--no-market-maker"]
        # Its log goes to a file: a pipe nobody reads could fill up and stall the server.
        self.log = data_dir / "serve.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                err = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"atlas serve exited with {self.proc.returncode}: {err}")
            try:
                healthy = httpx.get(self.url + "/health", timeout=1).status_code == 200
                if healthy and (wait_port is None or _accepts(wait_port)):
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("atlas serve did not start in 30 s")
            time.sleep(0.05)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _bodies() -> list[bytes]:
    """The orders the clients cycle through, encoded once (the client's cost is not the point)."""
    out = []
    for ticks in BUY_TICKS:
        for side, account, px in (
            ("BUY", "desk", MID + TICK * ticks),
            ("SELL", "desk-algo", MID - TICK * ticks),
        ):
            body = {
                "account_id": account,
                "symbol": SYMBOL,
                "side": side,
                "qty": QTY,
                "price": str(px),
            }
            out.append(json.dumps(body).encode())
    return out


class _Conn:
    """One keep-alive HTTP/1.1 connection that sends pre-encoded requests and reads the answers
    (status line, headers, ``Content-Length`` body): a load generator's client, a few tens of
    microseconds a request, so that the server rather than the client is what is measured."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> _Conn:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
                break
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def _requests(port: int, token: str) -> list[bytes]:
    out = []
    for body in _bodies():
        head = (
            f"POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


async def _raw_sender(port: int, token: str, clients: int) -> tuple[Any, Any]:
    requests = _requests(port, token)
    conns = [await _Conn.open("127.0.0.1", port) for _ in range(clients)]

    async def send(i: int, n: int) -> int:
        return await conns[i].send(requests[n % len(requests)])

    async def close() -> None:
        for conn in conns:
            conn.close()

    return send, close


async def _httpx_sender(url: str, token: str, clients: int) -> tuple[Any, Any]:
    bodies = _bodies()
    headers = {"X-API-Key": token, "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    http = httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30)

    async def send(i: int, n: int) -> int:
        r = await http.post("/v1/orders", content=bodies[n % len(bodies)])
        return r.status_code

    return send, http.aclose


async def _drive(
    server: _Server,
    token: str,
    clients: int,
    warmup_s: float,
    duration_s: float,
    *,
    use_httpx: bool = False,
) -> dict[str, Any]:
    """``clients`` closed-loop senders for ``warmup_s + duration_s``; figures of the window."""
    if use_httpx:
        send, close = await _httpx_sender(server.url, token, clients)
    else:
        send, close = await _raw_sender(server.port, token, clients)
    pid = server.proc.pid
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    window: list[float] = []  # start time, server CPU and client CPU at the window's start
    started = time.perf_counter()
    measure_from = started + warmup_s
    stop_at = measure_from + duration_s

    async def client(i: int) -> None:
        n = i
        perf = time.perf_counter
        while True:
            t0 = perf()
            if t0 >= stop_at:
                return
            status = await send(i, n)
            t1 = perf()
            n += clients
            if t0 >= measure_from:
                latencies.append(t1 - t0)
                statuses[status] = statuses.get(status, 0) + 1

    async def mark() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        window.extend((time.perf_counter(), _cpu_s(pid), time.process_time()))

    try:
        marker = asyncio.create_task(mark())
        await asyncio.gather(*(client(i) for i in range(clients)))
        await marker
        ended = time.perf_counter()
    finally:
        await close()
    elapsed = ended - window[0]
    server_cpu = _cpu_s(pid) - window[1]
    client_cpu = time.process_time() - window[2]
    latencies.sort()
    n = len(latencies)

    def pct(p: float) -> float:
        return round(latencies[min(n - 1, int(p * n))] * 1000, 2) if n else 0.0

    return {
        "orders_per_s": round(n / elapsed),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 2) if n else 0.0,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_cpu_pct": round(100 * server_cpu / elapsed),
        "client_cpu_pct": round(100 * client_cpu / elapsed),
        "orders": n,
        "duration_ms": round(elapsed * 1000),
    }


def _run(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return asyncio.run(coro)
    return uvloop.run(coro)


def bench_http(quick: bool) -> dict[str, Any]:
    clients = CLIENTS_QUICK if quick else CLIENTS
    duration = DURATION_QUICK_S if quick else DURATION_S
    warmup = WARMUP_QUICK_S if quick else WARMUP_S
    httpx_duration = DURATION_QUICK_S if quick else HTTPX_DURATION_S
    with tempfile.TemporaryDirectory(prefix="atlas-bench-http-") as tmp:
        data_dir = Path(tmp)
        _prepare(data_dir)
        server = _Server(data_dir)
        try:
            keys = [json.loads(x) for x in (data_dir / "first-keys.txt").read_text().splitlines()]
            token = next(k["token"] for k in keys if k["roles"] == ["trader"])
            raw = _run(_drive(server, token, clients, warmup, duration))
            # The same load from httpx, for scale: on a small box the client library is the limit.
            via = _run(_drive(server, token, clients, warmup, httpx_duration, use_httpx=True))
        finally:
            server.close()
    for run in (raw, via):
        if set(run["statuses"]) - {"201"}:
            raise RuntimeError(f"benchmark workload broken: answers {run['statuses']}, want 201")
    return {
        "http_orders_per_s": raw["orders_per_s"],
        "http_submit_p99_ms": raw["p99_ms"],
        "http_submit_p50_ms": raw["p50_ms"],
        "http_submit_max_ms": raw["max_ms"],
        "http_statuses": raw["statuses"],
        "http_server_cpu_pct": raw["server_cpu_pct"],
        "http_client_cpu_pct": raw["client_cpu_pct"],
        "http_httpx_client": {k: via[k] for k in ("orders_per_s", "p50_ms", "p99_ms")}
        | {"server_cpu_pct": via["server_cpu_pct"], "client_cpu_pct": via["client_cpu_pct"]},
        "n": {
            "http_orders": raw["orders"],
            "http_clients": clients,
            "http_duration_ms": raw["duration_ms"],
            "http_httpx_orders": via["orders"],
        },
    }
