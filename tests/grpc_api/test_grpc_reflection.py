"""Server reflection, through a reflection-based client we did not write (grpc_requests), and
the committed stubs are what ``python -m atlas_oms.grpc_api.regen`` makes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from grpc_kit import SPOT, grpc_env

from atlas_oms.grpc_api import regen


def test_reflection_lists_the_services_and_a_reflection_client_calls_them(tmp_path: Path) -> None:
    from grpc_requests import Client

    with grpc_env(tmp_path) as env:
        client = Client.get_by_endpoint(env.target)
        services = set(client.service_names)
        assert {
            "atlas.v1.Orders",
            "atlas.v1.Positions",
            "atlas.v1.Balances",
            "atlas.v1.Accounts",
            "atlas.v1.MarketData",
            "atlas.v1.Risk",
        } <= services
        # a call built from the server's own descriptors (JSON in, JSON out: grpcurl-style)
        placed = client.request(
            "atlas.v1.Orders",
            "SubmitOrder",
            {
                "account_id": "bob",
                "symbol": SPOT,
                "side": "SIDE_SELL",
                "order_type": "ORDER_TYPE_LIMIT",
                "qty": "0.5",
                "price": "31000",
            },
            metadata=env.md("bob"),
        )
        assert placed["status"] == "ORDER_STATUS_ACCEPTED" and placed["price"] == "31000.00"
        book = client.request(
            "atlas.v1.MarketData", "GetBook", {"symbol": SPOT}, metadata=env.md("bob")
        )
        assert book["asks"] == [{"price": "31000.00", "qty": "0.5000"}], json.dumps(book)


def test_the_committed_stubs_are_current() -> None:
    generated = regen.generate()
    for name, data in generated.items():
        assert (regen.GEN / name).read_bytes() == data, f"gen/{name} is stale: run regen"
    committed = {
        str(p.relative_to(regen.GEN))
        for p in regen.GEN.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert committed == set(generated)
    check = subprocess.run(
        [sys.executable, "-m", "atlas_oms.grpc_api.regen", "--check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
