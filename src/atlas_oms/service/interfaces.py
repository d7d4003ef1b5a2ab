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
    if service.settings.fix_port is not None:  # FIX 4.4 order entry (atlas_oms/fix)
        from atlas_oms.fix.acceptor import serve_fix

        runtime.add("fix", functools.partial(serve_fix, service, hub))  # no closure: del below
    del service, hub, runtime  # each interface adds its line here


__all__ = ["attach_interfaces"]
