"""The router's decision read from a node, without acting on it (what-if, benchmarks, the
consolidated-book views): ``core/sor/route.py::decide_route`` on the node's state."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.sor.route import decide_route
from atlas_oms.model.enums import Side
from atlas_oms.model.route_book import RouteBook
from atlas_oms.model.route_decision import RouteDecision
from atlas_oms.runtime.node import Node

ZERO = Decimal(0)


def route_decision(
    node: Node,
    *,
    account_id: str,
    side: Side,
    qty: Decimal,
    limit_price: Decimal | None,
    book: RouteBook,
    depth_margin_pct: Decimal = ZERO,
) -> RouteDecision:
    """How the router would split ``qty`` now (nothing is journaled or sent)."""
    return decide_route(
        node.engine.state,
        account_id=account_id,
        side=side,
        qty=qty,
        limit_price=limit_price,
        book=book,
        depth_margin_pct=depth_margin_pct,
    )
