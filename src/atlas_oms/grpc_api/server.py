"""The gRPC server: a ``grpc.aio`` server on the node's event loop (the loop uvicorn runs: the
node is single-threaded and every servicer runs on this one thread), started by
``attach_interfaces`` when ``ATLAS_GRPC_PORT`` is set, stopped with the node's runtime.

TLS: with a certificate (``ATLAS_GRPC_TLS_CERT``/``KEY``, else ``ATLAS_TLS_CERT``/``KEY``) the
port speaks TLS only. grpcio's Python API cannot pin the minimum TLS version (its core's TLS
options are not exposed): BoringSSL negotiates TLS 1.3 with any client that offers it and would
complete a TLS 1.2 handshake, so every call on a connection that reports less than TLS 1.3 is
refused (``UNAUTHENTICATED``, ``TLS_1_3_REQUIRED``; grpc_api/calls.py;
tests/grpc_api/test_grpc_tls.py checks what is negotiated). With ``ATLAS_GRPC_CLIENT_CA`` every
client must present a certificate signed by that CA (mTLS), and its subject's common name is the
``key_id`` it calls as (docs/notes/grpc.md).

Server reflection (grpcio-reflection) lists the services for reflection-based clients; the
standard health service (``grpc.health.v1.Health``, grpc_api/health.py) says whether the node
takes writes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from atlas_oms.grpc_api.algos import AlgosService
from atlas_oms.grpc_api.calls import Calls
from atlas_oms.grpc_api.fanout import Fanout
from atlas_oms.grpc_api.gen.atlas.v1 import (
    algos_pb2,
    market_data_pb2,
    orders_pb2,
    portfolio_pb2,
    risk_pb2,
)
from atlas_oms.grpc_api.gen.atlas.v1 import algos_pb2_grpc as algos_rpc
from atlas_oms.grpc_api.gen.atlas.v1 import market_data_pb2_grpc as market_rpc
from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2_grpc as orders_rpc
from atlas_oms.grpc_api.gen.atlas.v1 import portfolio_pb2_grpc as portfolio_rpc
from atlas_oms.grpc_api.gen.atlas.v1 import risk_pb2_grpc as risk_rpc
from atlas_oms.grpc_api.health import HEALTH_SERVICE_NAME, NodeHealth
from atlas_oms.grpc_api.market import MarketDataService, RiskService
from atlas_oms.grpc_api.orders import OrdersService
from atlas_oms.grpc_api.portfolio import AccountsService, BalancesService, PositionsService

if TYPE_CHECKING:
    from atlas_oms.service.app import Service
    from atlas_oms.service.stream import StreamHub

log = logging.getLogger("atlas.grpc")

#: The services this server offers (full names, as reflection lists them).
SERVICE_NAMES = (
    orders_pb2.DESCRIPTOR.services_by_name["Orders"].full_name,
    portfolio_pb2.DESCRIPTOR.services_by_name["Positions"].full_name,
    portfolio_pb2.DESCRIPTOR.services_by_name["Balances"].full_name,
    portfolio_pb2.DESCRIPTOR.services_by_name["Accounts"].full_name,
    market_data_pb2.DESCRIPTOR.services_by_name["MarketData"].full_name,
    risk_pb2.DESCRIPTOR.services_by_name["Risk"].full_name,
    algos_pb2.DESCRIPTOR.services_by_name["Algos"].full_name,
)


def credentials(service: Service) -> grpc.ServerCredentials | None:
    """The port's TLS credentials (None: plaintext, no certificate configured)."""
    settings = service.settings
    cert = settings.grpc_tls_cert or settings.tls_cert
    key = settings.grpc_tls_key or settings.tls_key
    if cert is None or key is None:
        if settings.grpc_client_ca is not None:
            raise ValueError("ATLAS_GRPC_CLIENT_CA needs a server certificate and key too")
        return None
    ca = settings.grpc_client_ca.read_bytes() if settings.grpc_client_ca is not None else None
    return grpc.ssl_server_credentials(
        [(key.read_bytes(), cert.read_bytes())],
        root_certificates=ca,
        require_client_auth=ca is not None,
    )


def build_server(
    service: Service, hub: StreamHub
) -> tuple[grpc.aio.Server, int, Fanout, NodeHealth]:
    """The server with every service, health and reflection, bound to its port: (server,
    port, the streams' fan-out, the health servicer)."""
    settings = service.settings
    creds = credentials(service)
    calls = Calls(service, tls=creds is not None, mtls=settings.grpc_client_ca is not None)
    fanout = Fanout(hub, settings.grpc_stream_queue)
    server = grpc.aio.server()
    orders_rpc.add_OrdersServicer_to_server(OrdersService(calls, fanout), server)
    portfolio_rpc.add_PositionsServicer_to_server(PositionsService(calls), server)
    portfolio_rpc.add_BalancesServicer_to_server(BalancesService(calls), server)
    portfolio_rpc.add_AccountsServicer_to_server(AccountsService(calls), server)
    market_rpc.add_MarketDataServicer_to_server(MarketDataService(calls, fanout), server)
    risk_rpc.add_RiskServicer_to_server(RiskService(calls), server)
    algos_rpc.add_AlgosServicer_to_server(AlgosService(calls), server)
    health = NodeHealth(service, SERVICE_NAMES)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    address = f"{settings.grpc_host}:{settings.grpc_port or 0}"
    if creds is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, creds)
    return server, port, fanout, health


async def serve_grpc(service: Service, hub: StreamHub) -> None:
    """Run the gRPC server until cancelled (a task of the node's live runtime), then stop it:
    the streams end at once (UNAVAILABLE ``NODE_STOPPING``), calls in flight get
    ``shutdown_timeout_s`` to finish."""
    server, port, fanout, health = build_server(service, hub)
    await server.start()
    log.info(
        "gRPC API listening",
        extra={"host": service.settings.grpc_host, "grpc_port": port},
    )
    try:
        await asyncio.Event().wait()
    finally:
        health.stopping()
        fanout.close()
        await asyncio.shield(server.stop(service.settings.shutdown_timeout_s))


__all__ = ["SERVICE_NAMES", "build_server", "credentials", "serve_grpc"]
