"""Start and stop a real ``atlas serve`` subprocess (the end-to-end tests' shared helpers)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

#: A request's bound in the end-to-end tests. Generous: on a loaded CI machine (2 cores, load
#: above 10) a server that is still connecting its venues (ccxt loading markets, on the event loop)
#: can take seconds to answer a poll, and a poll that times out fails its test although the wait
#: around it has time left. It bounds a hang; a passing test never waits for it.
REQUEST_TIMEOUT_S = 30.0
#: How long the tests wait for a server to reach a state (tradable, an order filled): a bound
#: against a hang, as above, never the expected time.
WAIT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """One ``atlas serve`` on ``data``: ``start()``, then ``stop()`` (a signal) or ``kill()``
    (kill -9); ``start()`` again on the same folder to restart."""

    def __init__(
        self,
        data: Path,
        *,
        market_maker: bool = False,
        env: dict[str, str] | None = None,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.market_maker = market_maker
        self.env = env or {}
        self.preexec_fn = preexec_fn
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._starts = 0

    def start(self) -> Served:
        args = [sys.executable, "-m", "atlas_oms.cli", "serve", "--data-dir", str(self.data)]
        args += ["--port", str(self.port)]
        if not self.market_maker:
            args.append("--no-market-maker")
        # The log goes to a file, never a pipe: the access log writes a line per request, and a
        # pipe nobody reads until the end would fill and stall the server.
        self._starts += 1
        if self._log is not None:
            self._log.close()
        # A new Served on the same folder (a restart) keeps the earlier logs: a failure after a
        # restart can be told from one before it.
        self.log_path = self.data.parent / f"{self.data.name}-serve-{self._starts}.log"
        while self.log_path.exists():
            self._starts += 1
            self.log_path = self.data.parent / f"{self.data.name}-serve-{self._starts}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed when the process ends
        self.proc = proc = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env={**os.environ, "ATLAS_LOG_LEVEL": "INFO", **self.env},
            preexec_fn=self.preexec_fn,
        )
        # Bounds against a hang, not the expected time: on a loaded machine a start that sets up
        # venues takes tens of seconds, and its event loop can be busy for seconds at a time (a
        # probe that gives up after 1 s then never sees it up).
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                probe = max(1.0, min(REQUEST_TIMEOUT_S, deadline - time.monotonic()))
                if httpx.get(f"{self.url}/health", timeout=probe).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
            if proc.poll() is not None:
                break
        proc.kill()
        proc.wait()
        raise AssertionError(f"atlas serve did not start: {self.stderr()[-3000:]}")

    def stderr(self) -> str:
        """What the server wrote on stderr so far (its JSON log)."""
        if self._log is not None:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def maker_key(self) -> dict[str, str]:
        """A trader key of the market maker's account, issued by the admin key (the first
        keys do not trade for it: risk and admin keys may not place orders)."""
        issued = httpx.post(
            f"{self.url}/v1/keys",
            json={"roles": ["trader"], "accounts": ["maker"]},
            headers=self.keys()["admin"],
        )
        assert issued.status_code in (200, 201), issued.text
        return {"X-API-Key": issued.json()["token"]}

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def keys(self) -> dict[str, dict[str, str]]:
        """The first keys by role: admin, risk, trader (headers ready to send)."""
        out = {}
        for line in (self.data / "first-keys.txt").read_text().splitlines():
            key = json.loads(line)
            out[key["roles"][0]] = {"X-API-Key": key["token"]}
        return out

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20) -> tuple[int, float, str]:
        """Send ``sig``; return (exit code, seconds to exit, stderr)."""
        assert self.proc is not None
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode, time.monotonic() - start, self.stderr()

    def kill(self) -> None:
        """kill -9: no goodbye, nothing flushed."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def ensure_stopped(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._log is not None:
            self._log.close()


def raw_request(
    port: int, method: str, path: str, headers: dict[str, str], body: Any = None
) -> socket.socket:
    """Send one HTTP request and return its socket without reading the answer (a request in
    flight while the test does something else)."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}", "", ""]
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall("\r\n".join(lines).encode() + payload)
    return sock
