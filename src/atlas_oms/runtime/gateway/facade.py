"""The venue as the node sees it: ``Node.venues[name]`` for an external venue.

``Node.process`` journals and flushes an order's intent before it calls :meth:`handle` (record
before send, since the venue is not ``synchronous``); :meth:`handle` only queues the request for
the sender of the order's venue account and returns at once. The answers come back later, as
messages the gateway gives the node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlas_oms.model import reports as rep
from atlas_oms.model.reports import Report
from atlas_oms.model.requests import CancelAtVenue, ModifyAtVenue, VenueRequest

if TYPE_CHECKING:
    from atlas_oms.runtime.gateway.nodeport import NodePort
    from atlas_oms.runtime.gateway.session import VenueSession

NO_VENUE_ACCOUNT = "NO_VENUE_ACCOUNT"


class VenueFacade:
    synchronous = False

    def __init__(self, name: str, node: NodePort) -> None:
        self.name = name
        self.node = node
        #: The session of each Atlas account trading here.
        self.sessions: dict[str, VenueSession] = {}

    def handle(self, request: VenueRequest) -> list[Report]:
        # One Atlas account trades one venue account (the core checks its status by the same id).
        session = self.sessions.get(request.account_id)
        if session is None:
            message = f"account {request.account_id} has no venue account at {self.name}"
            if isinstance(request, CancelAtVenue):
                return [
                    rep.VenueCancelRejected(
                        order_id=request.order_id,
                        ts=request.ts,
                        reason=NO_VENUE_ACCOUNT,
                        message=message,
                    )
                ]
            if isinstance(request, ModifyAtVenue):
                return [
                    rep.VenueModifyRejected(
                        order_id=request.order_id,
                        ts=request.ts,
                        reason=NO_VENUE_ACCOUNT,
                        message=message,
                    )
                ]
            return [
                rep.VenueRejected(
                    order_id=request.order_id,
                    ts=request.ts,
                    reason=NO_VENUE_ACCOUNT,
                    message=message,
                )
            ]
        session.orders.put(request)
        return []
