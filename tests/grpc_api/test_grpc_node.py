"""A gRPC client in another language that we did not write: Node.js with the gRPC project's
``@grpc/grpc-js`` and ``@grpc/proto-loader``, loading Atlas's ``.proto`` files as they are
(tests/grpc_api/node_client.js). It places, finds and cancels an order, is denied one with the
reason code in the trailer, cannot see another account's order, and streams the order's durable
updates.

The npm packages are installed by this test from the npm registry into a cache folder
(``~/.cache/atlas-oms/node-grpc-<versions>``, ``ATLAS_TEST_CACHE`` to move it; ~5 s the first
time). Node.js and npm come from the machine (Debian's ``nodejs``/``npm``); without them the
test is skipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from grpc_kit import SPOT, grpc_env

from atlas_oms.grpc_api import regen

PACKAGES = ("@grpc/grpc-js@1.14.7", "@grpc/proto-loader@0.8.1")
CLIENT = Path(__file__).with_name("node_client.js")


def node_modules() -> Path:
    """The npm packages' folder, installed once (atomically: a parallel run waits for none)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are not installed (apt-get install nodejs npm)")
    cache = Path(os.environ.get("ATLAS_TEST_CACHE") or Path.home() / ".cache" / "atlas-oms")
    name = "node-grpc-" + "-".join(p.rsplit("@", 1)[1] for p in PACKAGES)
    folder = cache / name
    if (folder / "node_modules" / "@grpc" / "grpc-js").is_dir():
        return folder / "node_modules"
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=f".{name}-"))
    (staging / "package.json").write_text('{"private": true}\n')
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES],
        cwd=staging,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    try:
        staging.rename(folder)
    except OSError:  # another run installed it first
        shutil.rmtree(staging, ignore_errors=True)
    return folder / "node_modules"


def test_a_node_grpc_js_client_trades_through_the_protos(tmp_path: Path) -> None:
    modules = node_modules()
    with grpc_env(tmp_path) as env:
        run = subprocess.run(
            [
                "node",
                str(CLIENT),
                str(regen.PROTO),
                env.target,
                env.tokens["bob"],
                "bob",
                SPOT,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NODE_PATH": str(modules)},
        )
        assert run.returncode == 0, run.stderr[-3000:]
        out: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
        placed = out["placed"]
        assert placed["status"] == "ORDER_STATUS_ACCEPTED"
        assert placed["price"] == "32000.50" and placed["qty"] == "0.2500"  # exact strings
        assert out["found"] == {"order_id": placed["order_id"], "status": "ORDER_STATUS_ACCEPTED"}
        view = env.node.get_order(int(placed["order_id"]))
        assert view is not None and view.client_order_id == "from-node"
        denied = out["denied"]
        assert denied["code"] == "FAILED_PRECONDITION" and denied["reason"].isupper()
        assert env.node.get_order(int(denied["order_id"])) is not None  # journaled, denied
        # another account (bob's key, alice's account): as if it did not exist
        assert out["other"] == {"code": "NOT_FOUND", "reason": "UNKNOWN_ACCOUNT"}
        assert out["canceled"] == "ORDER_STATUS_CANCELED"
        types = [u["type"] for u in out["updates"]]
        assert types[:2] == ["OrderSubmitted", "OrderAccepted"] and types[-1] == "OrderCanceled"
