"""What the engine keeps about external venue accounts: each (venue, account)'s tradable status,
the orders it adopted, the commands in doubt, balance differences awaiting confirmation and the
latest reconciliation report. Changed only by the fold (:mod:`atlas_oms.core.venues.fold`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus

#: (venue, account id)
VenueKey = tuple[str, str]


class VenueBook:
    """External venue accounts as the engine knows them."""

    __slots__ = ("adopted", "external", "in_doubt", "pending", "reports", "routes", "status")

    def __init__(self) -> None:
        #: (venue, account) -> its latest status change.
        self.status: dict[VenueKey, ev.VenueStatusChanged] = {}
        #: (venue, account, venue order id) -> the Atlas order id an external order was adopted as.
        self.adopted: dict[tuple[str, str, str], int] = {}
        #: The adopted order ids (derived from ``adopted``).
        self.external: set[int] = set()
        #: order id -> (seq of its OrderOutcomeUnknown, action, and the order's status, filled
        #: quantity and venue order id then): in doubt while those are unchanged.
        self.in_doubt: dict[int, tuple[int, str, OrderStatus, Decimal, str | None]] = {}
        #: (venue, account) -> balance differences seen once while orders were working:
        #: asset -> (Atlas total, venue total).
        self.pending: dict[VenueKey, dict[str, tuple[Decimal, Decimal]]] = {}
        #: (venue, account) -> its latest reconciliation report.
        self.reports: dict[VenueKey, ev.VenueReconciled] = {}
        #: (account, symbol) -> the failover switch in force (never a restored one).
        self.routes: dict[tuple[str, str], ev.RouteSwitched] = {}

    def __bool__(self) -> bool:
        return bool(
            self.status
            or self.adopted
            or self.in_doubt
            or self.pending
            or self.reports
            or self.routes
        )

    def venue_managed(self, venue: str) -> bool:
        """Whether a gateway has ever reported on ``venue`` (its accounts then need a status)."""
        return any(k[0] == venue for k in self.status)

    def canonical(self) -> list[Any]:
        out: list[Any] = [
            sorted(self.status.items()),
            sorted(self.adopted.items()),
            sorted(self.in_doubt.items()),
            sorted((k, sorted(v.items())) for k, v in self.pending.items()),
            sorted(self.reports.items()),
        ]
        if self.routes:  # only once a failover happened (older digests unchanged)
            out.append(sorted(self.routes.items()))
        return out
