"""The standard gRPC health service (grpc.health.v1.Health, grpcio-health-checking's stubs):
SERVING while the node takes writes, NOT_SERVING while it refuses them, for every Atlas service
and the server as a whole; listed by reflection; no key needed."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_kit import grpc_env

from atlas_oms.runtime.live import JOURNAL_UNAVAILABLE

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def check(stub: health_pb2_grpc.HealthStub, name: str = "") -> int:
    answer = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
    return int(answer.status)


def test_health_is_serving_while_the_node_takes_writes_and_not_while_the_journal_is_down(
    tmp_path: Path,
) -> None:
    with grpc_env(tmp_path) as env:
        stub = health_pb2_grpc.HealthStub(env.stubs.channel)
        assert check(stub) == SERVING  # no key: like REST's /health
        for name in ("atlas.v1.Orders", "atlas.v1.MarketData", "atlas.v1.Risk"):
            assert check(stub, name) == SERVING
        with pytest.raises(grpc.RpcError) as caught:
            check(stub, "atlas.v1.Nothing")
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]

        updates: queue.Queue[int] = queue.Queue()
        watch = stub.Watch(health_pb2.HealthCheckRequest(service="atlas.v1.Orders"))

        def read() -> None:
            try:
                for answer in watch:
                    updates.put(int(answer.status))
            except grpc.RpcError:
                pass  # cancelled at the end

        threading.Thread(target=read, daemon=True).start()
        assert updates.get(timeout=10) == SERVING

        committer = env.server.app.state.service.committer
        committer.unavailable = (JOURNAL_UNAVAILABLE, "the journal cannot be written (test)")
        try:
            assert check(stub) == NOT_SERVING
            assert check(stub, "atlas.v1.Orders") == NOT_SERVING
            assert updates.get(timeout=10) == NOT_SERVING  # the watch follows
        finally:
            committer.unavailable = None
        assert check(stub) == SERVING
        assert updates.get(timeout=10) == SERVING
        watch.cancel()


def test_reflection_lists_the_health_service(tmp_path: Path) -> None:
    from grpc_requests import Client

    with grpc_env(tmp_path) as env:
        client = Client.get_by_endpoint(env.target)
        assert "grpc.health.v1.Health" in set(client.service_names)
        answer = client.request("grpc.health.v1.Health", "Check", {"service": "atlas.v1.Orders"})
        assert answer["status"] == "SERVING"
