"""The standard gRPC health service (``grpc.health.v1.Health``, from grpcio-health-checking):
what load balancers, Kubernetes' gRPC probes and ``grpc_health_probe`` ask.

SERVING while the node takes writes; NOT_SERVING while ``service.unavailable`` says it refuses
them (the journal cannot be written, the node is stopping), and for good once the server stops.
The overall service ``""`` and each Atlas service by its full name report the same status (one
node behind them all); another name is NOT_FOUND (``Check``) or SERVICE_UNKNOWN (``Watch``), as
the protocol says. ``Check`` reads the node's state when it is asked; ``Watch`` streams follow
it (looked at every :data:`POLL_S` seconds) and end when the server stops, after sending
NOT_SERVING, so an open watch never holds the stop. Like REST's ``/health`` it needs no API key:
it says nothing about any account.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

if TYPE_CHECKING:
    from atlas_oms.service.app import Service

#: How often ``Watch`` streams look at the node's state (seconds).
POLL_S = 0.25
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
#: The standard health service's full name (for reflection).
HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class NodeHealth(health_pb2_grpc.HealthServicer):
    """The health servicer of one node: ``""`` and every name in ``names`` follow
    ``service.unavailable``."""

    def __init__(self, service: Service, names: Iterable[str]) -> None:
        self.service = service
        self.names = frozenset(("", *names))
        self.stopped = False
        self.changed = asyncio.Event()

    def status(self, name: str = "") -> int:
        """``name``'s status now: NOT_SERVING while the node refuses writes or stops."""
        if name not in self.names:
            return int(SERVICE_UNKNOWN)
        if self.stopped or self.service.unavailable is not None:
            return int(NOT_SERVING)
        return int(SERVING)

    async def Check(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        if request.service not in self.names:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=self.status(request.service))

    async def Watch(self, request: Any, context: grpc.aio.ServicerContext) -> None:
        last: int | None = None
        while True:
            status = self.status(request.service)
            if status != last:
                await context.write(health_pb2.HealthCheckResponse(status=status))
                last = status
            if self.stopped:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), POLL_S)

    def stopping(self) -> None:
        """NOT_SERVING for good (the server is stopping): open watches say so and end."""
        self.stopped = True
        self.changed.set()


__all__ = ["HEALTH_SERVICE_NAME", "NOT_SERVING", "POLL_S", "SERVING", "NodeHealth"]
