"""The interfaces beside REST and its WebSocket: each is a thin adapter over the same node, the
same command and view types, the same keys, per-account authorization, rate limits, audit log and
metrics (``atlas_interface_*``), started and stopped with ``atlas serve`` as tasks of its live
runtime. Each interface adds its one line to :func:`attach_interfaces`; a disabled one (its port
unset) adds no task."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atlas_oms.runtime.live import LiveRuntime
    from atlas_oms.service.app import Service
    from atlas_oms.service.stream import StreamHub


def attach_interfaces(service: Service, hub: StreamHub, runtime: LiveRuntime) -> None:
    """Start the configured interfaces with the node's runtime (gRPC, FIX, Binance dialect)."""
    settings = service.settings
    if settings.grpc_port is not None:  # gRPC (atlas_oms/grpc_api)
        from atlas_oms.grpc_api.server import serve_grpc

        runtime.add("grpc", functools.partial(serve_grpc, service, hub))
    if settings.fix_port is not None:  # FIX 4.4 order entry (atlas_oms/fix)
        from atlas_oms.fix.acceptor import serve_fix

        runtime.add("fix", functools.partial(serve_fix, service, hub))
    if settings.binance_port is not None:  # the Binance dialect (atlas_oms/binance_api)
        from atlas_oms.binance_api.server import serve_binance

        runtime.add(
            "binance",
            functools.partial(
                serve_binance, service, hub, settings.binance_host, settings.binance_port
            ),
        )


__all__ = ["attach_interfaces"]
