"""``atlas serve`` (what ``make run`` runs): starts on its embedded defaults, serves the README's
requests, keeps secrets out of its log, and resumes from its journal after a restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(data: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atlas_oms.cli",
            "serve",
            "--data-dir",
            str(data),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "ATLAS_LOG_LEVEL": "INFO"},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"atlas serve did not start: {proc.communicate()[1].decode()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err.decode()


def test_atlas_serve_runs_the_readme_flow_and_resumes_after_a_restart(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start(tmp_path, port)
    try:
        lines = (tmp_path / "first-keys.txt").read_text().splitlines()
        keys = [json.loads(line) for line in lines]
        assert [k["roles"] for k in keys] == [["admin"], ["risk"], ["trader"]]
        assert oct((tmp_path / "first-keys.txt").stat().st_mode & 0o777) == "0o600"
        trader = {"X-API-Key": keys[2]["token"]}
        book: dict[str, Any] = {}
        for _ in range(50):  # the market maker quotes within its first second
            book = httpx.get(f"{url}/v1/book/BTC/USDT?levels=3", headers=trader).json()
            if book["asks"]:
                break
            time.sleep(0.1)
        assert book["asks"] and book["bids"]
        filled = httpx.post(
            f"{url}/v1/orders",
            headers=trader,
            json={
                "account_id": "desk",
                "symbol": "BTC/USDT",
                "side": "BUY",
                "order_type": "MARKET",
                "qty": "0.01",
            },
        ).json()
        assert filled["status"] == "FILLED"
        positions = httpx.get(f"{url}/v1/positions?account_id=desk", headers=trader).json()
        assert [p["qty"] for p in positions if p["symbol"] == "BTC/USDT"] == [
            "0.01000"
        ]  # at the lot size 0.00001
    finally:
        log = stop(proc)
    for k in keys:
        assert k["token"].split(".", 1)[1] not in log  # secrets never reach the log
    assert '"event": "first API keys issued"' in log

    proc = start(tmp_path, port)
    try:
        again = httpx.get(
            f"{url}/v1/orders/{filled['order_id']}?account_id=desk", headers=trader
        ).json()
        assert again["status"] == "FILLED" and again["avg_px"] == filled["avg_px"]
        assert (tmp_path / "first-keys.txt").read_text().splitlines() == lines  # not re-issued
    finally:
        stop(proc)


def test_atlas_serve_speaks_tls_when_a_certificate_is_configured(tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atlas_oms.cli",
            "serve",
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(port),
            "--tls-cert",
            str(tmp_path / "cert.pem"),
            "--tls-key",
            str(tmp_path / "key.pem"),
            "--no-market-maker",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                status = httpx.get(
                    f"https://127.0.0.1:{port}/health", verify=str(tmp_path / "ca.pem"), timeout=1
                ).status_code
            except httpx.TransportError:
                time.sleep(0.1)
        assert status == 200
        try:
            plain = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code
        except httpx.TransportError:
            plain = None
        assert plain != 200  # plain HTTP is not served on a TLS port
    finally:
        stop(proc)
