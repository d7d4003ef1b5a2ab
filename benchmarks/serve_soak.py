"""Memory of a real ``atlas serve`` over many orders; prints JSON.

Run: ``.venv/bin/python benchmarks/serve_soak.py [--warmup 30000] [--orders 60000]
[--retention-s 5]``.

The server runs with short retention windows (``ATLAS_ORDER_RETENTION_S``,
``ATLAS_CLIENT_ID_RETENTION_S``) so that orders leave memory within the run, and 16 HTTP clients
send, in turn, a limit order then its cancel, and a maker's resting order then a market order
that takes it (the desk buys and sells in turn, so its position stays near flat and its lots do
not pile up). Both the desk's orders carry client order ids. It reports the server's RSS at
start, after the warm-up and at the end, the growth per 100k orders over the measured part and
the rate it held (bounded by the Python client: ~450 orders/s on 2 cores). ``atlas bench``'s
``soak_rss_mb_per_100k_orders`` measures the same in-process, with the default windows and a
simulated clock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def send(url: str, trader: dict[str, str], maker: dict[str, str], pairs: int) -> None:
    limit = asyncio.Semaphore(16)
    eth = {"symbol": "ETH/USDT", "qty": "0.01"}
    async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=16)) as c:

        async def one(i: int) -> None:
            async with limit:
                if i % 2:
                    body = {**eth, "account_id": "desk", "side": "BUY", "order_type": "LIMIT"}
                    body |= {"price": "2000", "client_order_id": f"c{i}"}
                    placed = (await c.post("/v1/orders", headers=trader, json=body)).json()
                    oid = placed["order_id"]
                    await c.delete(f"/v1/orders/{oid}?account_id=desk", headers=trader)
                    return
                buy = i % 4 == 0
                rest = {**eth, "account_id": "maker", "side": "SELL" if buy else "BUY"}
                rest |= {"order_type": "LIMIT", "price": "3000"}
                await c.post("/v1/orders", headers=maker, json=rest)
                take = {**eth, "account_id": "desk", "side": "BUY" if buy else "SELL"}
                take |= {"order_type": "MARKET", "client_order_id": f"m{i}"}
                await c.post("/v1/orders", headers=trader, json=take)

        await asyncio.gather(*(one(i) for i in range(pairs)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warmup", type=int, default=30_000)
    parser.add_argument("--orders", type=int, default=60_000)
    parser.add_argument("--retention-s", default="5")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ATLAS_LOG_LEVEL": "WARNING", "ATLAS_RATE_LIMIT_PER_S": "1000000000"}
    env |= {"ATLAS_ORDER_RETENTION_S": args.retention_s}
    env |= {"ATLAS_CLIENT_ID_RETENTION_S": args.retention_s}
    cmd = [sys.executable, "-m", "atlas_oms.cli", "serve", "--data-dir", str(data)]
    cmd += ["--port", str(port), "--no-market-maker"]
    with (data / "serve.log").open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        lines = (data / "first-keys.txt").read_text().splitlines()
        keys = [json.loads(line) for line in lines]
        admin = {"X-API-Key": keys[0]["token"]}
        trader = {"X-API-Key": keys[2]["token"]}
        issued = httpx.post(
            url + "/v1/keys", headers=admin, json={"roles": ["trader"], "accounts": ["maker"]}
        )
        maker = {"X-API-Key": issued.json()["token"]}
        start = rss_mb(proc.pid)
        asyncio.run(send(url, trader, maker, args.warmup // 2))  # two orders per pair
        time.sleep(3)
        warm = rss_mb(proc.pid)
        began = time.monotonic()
        asyncio.run(send(url, trader, maker, args.orders // 2))
        took = time.monotonic() - began
        time.sleep(3)
        end = rss_mb(proc.pid)
        seq = httpx.get(url + "/health").json()["seq"]
    except httpx.HTTPError:
        code = proc.poll()
        log_text = (data / "serve.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"the server failed (exit code {code}): {log_text}") from None
    finally:
        proc.terminate()
        proc.wait(20)
    out: dict[str, Any] = {
        "rss_start_mb": round(start, 1),
        "rss_after_warmup_mb": round(warm, 1),
        "rss_end_mb": round(end, 1),
        "rss_mb_per_100k_orders": round((end - warm) / args.orders * 100_000, 2),
        "orders_per_s": round(args.orders / took),
        "journal_seq": seq,
        "exit_code": proc.returncode,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
