"""The router's decision for one order: :func:`decide_route` (pure, deterministic)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.sor.allocate import allocate
from atlas_oms.core.sor.candidates import route_candidates
from atlas_oms.model.enums import Side
from atlas_oms.model.route_book import RouteBook
from atlas_oms.model.route_decision import RouteDecision

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)


def decide_route(
    state: State,
    *,
    account_id: str,
    side: Side,
    qty: Decimal,
    limit_price: Decimal | None,
    book: RouteBook,
    depth_margin_pct: Decimal = ZERO,
    avoid: frozenset[str] = frozenset(),
) -> RouteDecision:
    """Split ``qty`` (base units) of ``book.symbol`` over the venues and accounts of ``book``.

    Candidates come from :func:`~atlas_oms.core.sor.candidates.route_candidates` (accounts:
    ``book.accounts`` or ``account_id``); books older than ``book.ts - book.stale_ns`` are not
    used (``STALE_BOOK`` in ``seen``); ``limit_price`` is in the reference quote
    (``book.quote``), None for no limit; ``depth_margin_pct`` is a percentage (``Decimal("10")``
    = 10 %) of a venue's visible depth it may be sent beyond that depth, only for what no venue
    shows; ``avoid``: ``"venue/account"`` pairs not to use (``VENUE_REJECTED``). See
    :mod:`~atlas_oms.core.sor.allocate` for the walk."""
    cands = route_candidates(state, account_id, side, book, avoid)
    return allocate(book, cands, side, qty, limit_price, depth_margin_pct)
