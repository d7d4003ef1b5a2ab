"""The read side of a node: every typed query the service, the command line, the blotter and the
benchmarks ask, in one place.

Front ends never reach into the engine: they call these methods, which return immutable views
(``OrderView``, ``PositionView``, ``BalanceView``, instruments, accounts, reports) or plain
values. :class:`~atlas_oms.runtime.node.Node` is a :class:`Queries`; a test pins that nothing
outside ``core/`` and ``runtime/`` touches the engine.

The queries are grouped by topic in mixins, each in its own module: ``queries_base.py`` (what they
read from; the journal and the engine as a whole), ``queries_accounts.py``, ``queries_orders.py``,
``queries_trades.py``, ``queries_risk.py`` and ``queries_derivatives.py``; this module combines
them and keeps the reads of external venues and the built-in exchange's book. Every name that
moved is importable from here too.
"""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side
from atlas_oms.runtime.queries_accounts import AccountQueries
from atlas_oms.runtime.queries_accounts import NetPosition as NetPosition
from atlas_oms.runtime.queries_base import ZERO as ZERO
from atlas_oms.runtime.queries_base import QueriesBase as QueriesBase
from atlas_oms.runtime.queries_derivatives import DerivativeQueries
from atlas_oms.runtime.queries_derivatives import FundingInfo as FundingInfo
from atlas_oms.runtime.queries_derivatives import LiquidationSummary as LiquidationSummary
from atlas_oms.runtime.queries_derivatives import LiquidationWatch as LiquidationWatch
from atlas_oms.runtime.queries_orders import OrderQueries
from atlas_oms.runtime.queries_orders import archived_view as archived_view
from atlas_oms.runtime.queries_orders import venue_marks as venue_marks
from atlas_oms.runtime.queries_risk import RiskQueries
from atlas_oms.runtime.queries_trades import TradeQueries
from atlas_oms.runtime.venue_margin import VenuePositionView, venue_positions


class Queries(TradeQueries, OrderQueries, AccountQueries, RiskQueries, DerivativeQueries):
    """Typed reads of one node's state, journal and built-in exchange."""

    # ------------------------------------------------------------------ external venues
    def venue_status(
        self, venue: str | None = None, account_id: str | None = None
    ) -> list[ev.VenueStatusChanged]:
        """Each venue account's latest status (tradable, reason), by venue and account."""
        return [
            e
            for k, e in sorted(self.engine.state.venues.status.items())
            if (venue is None or k[0] == venue) and (account_id is None or k[1] == account_id)
        ]

    def venue_positions(
        self, account_id: str | None = None, venue: str | None = None
    ) -> list[VenuePositionView]:
        """Positions as the venues last reported them, each venue's own liquidation price and
        margin figures next to Atlas's estimate by that venue's convention (issue 15 §2)."""
        return venue_positions(self.engine.state, self.engine.config, account_id, venue)

    def reconciliation_reports(
        self, venue: str | None = None, account_id: str | None = None, *, latest: bool = True
    ) -> list[ev.VenueReconciled]:
        """Reconciliation reports (exception reports): the latest per (venue, account), or with
        ``latest=False`` every one in the journal, oldest first."""
        if latest:
            reports = [e for _, e in sorted(self.engine.state.venues.reports.items())]
        else:
            reports = [e for e in self.journal.read() if isinstance(e, ev.VenueReconciled)]
        return [
            e
            for e in reports
            if (venue is None or e.venue == venue)
            and (account_id is None or e.account_id == account_id)
        ]

    def book(self, symbol: str, levels: int = 10) -> dict[str, list[tuple[Decimal, Decimal]]]:
        book = self.sim.book(symbol)
        return {"bids": book.depth(Side.BUY, levels), "asks": book.depth(Side.SELL, levels)}
