"""A fake HashiCorp Vault KV version 2 engine on 127.0.0.1, enough for hvac's KV v2 reads.

It imitates https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2 :

- ``GET /v1/<mount>/data/<path>[?version=N]`` ("Read secret version"): ``{"data": {"data": {...},
  "metadata": {"created_time", "custom_metadata", "deletion_time", "destroyed", "version"}}}``
  inside Vault's response envelope (``request_id``, ``lease_id``, ``renewable``,
  ``lease_duration``, ``wrap_info``, ``warnings``, ``auth``, ``mount_type``);
- ``GET /v1/<mount>/metadata/<path>`` ("Read secret metadata"): ``current_version``,
  ``oldest_version``, ``versions: {"1": {...}}``...;
- a missing secret is 404 ``{"errors": []}``; a request without the right ``X-Vault-Token``
  is 403 ``{"errors": ["permission denied"]}`` (what Vault answers).

Tests write secrets with :meth:`FakeVault.put` (a new version each time) and read what was asked
in :attr:`FakeVault.requests`.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakeVault:
    def __init__(self, token: str, mount: str = "secret") -> None:
        self.token = token
        self.mount = mount
        self.secrets: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> FakeVault:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def put(self, path: str, data: dict[str, str]) -> int:
        versions = self.secrets.setdefault(path, [])
        versions.append({"data": dict(data), "created_time": _now()})
        return len(versions)

    # ----------------------------------------------------------------------------- serving
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        token = h.headers.get("X-Vault-Token")
        self.requests.append(("GET", parts.path, token))
        if token != self.token:
            return _send(h, 403, {"errors": ["permission denied"]})
        prefix = f"/v1/{self.mount}/"
        if not parts.path.startswith(prefix):
            return _send(h, 404, {"errors": ["no handler for route"]})
        kind, _, path = parts.path[len(prefix) :].partition("/")
        versions = self.secrets.get(path)
        if not versions or kind not in ("data", "metadata"):
            return _send(h, 404, {"errors": []})
        if kind == "metadata":
            return _send(h, 200, _envelope(_metadata(versions)))
        asked = parse_qs(parts.query).get("version")
        number = int(asked[0]) if asked and asked[0] != "0" else len(versions)
        if not 1 <= number <= len(versions):
            return _send(h, 404, {"errors": []})
        v = versions[number - 1]
        meta = {
            "created_time": v["created_time"],
            "custom_metadata": None,
            "deletion_time": "",
            "destroyed": False,
            "version": number,
        }
        return _send(h, 200, _envelope({"data": v["data"], "metadata": meta}))


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _metadata(versions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "cas_required": False,
        "created_time": versions[0]["created_time"],
        "current_version": len(versions),
        "custom_metadata": None,
        "delete_version_after": "0s",
        "max_versions": 0,
        "oldest_version": 1,
        "updated_time": versions[-1]["created_time"],
        "versions": {
            str(i + 1): {"created_time": v["created_time"], "deletion_time": "", "destroyed": False}
            for i, v in enumerate(versions)
        },
    }


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": None,
        "auth": None,
        "mount_type": "kv",
    }


def _send(h: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(raw)))
    h.end_headers()
    h.wfile.write(raw)
