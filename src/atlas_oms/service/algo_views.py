"""Parent orders (TWAP, VWAP, iceberg, SMART) as the API shows them: the view, the children with
their fills, the route decisions (the best-execution rationale) and the execution report, with
every number at its instrument's places (:mod:`atlas_oms.service.numbers`).

The route decisions are journaled (``AlgoRouted``, ``AlgoRerouted``) but not kept in the engine's
state. :class:`RouteLog` keeps them per parent from the events the node processes once it exists,
and reads a parent's from the committed journal when it holds fewer than the parent counts (a
parent routed before the log was made, e.g. before a restart).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.views import OrderView
from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide
from atlas_oms.model.route_decision import RouteDecision
from atlas_oms.runtime.node_algos import AlgoView
from atlas_oms.service.app import Problem, Service
from atlas_oms.service.journal_reads import read_committed
from atlas_oms.service.keys import ApiKey
from atlas_oms.service.numbers import AVG, MONEY, QTY, Spec

__all__ = [
    "AlgoDoc",
    "AlgoList",
    "RouteLog",
    "algo_body",
    "owned_algo",
    "report_body",
    "route_log",
]

#: The report's decimal fields (exact strings in the library) and their kinds.
REPORT_KINDS: dict[str, Spec] = {
    "qty": QTY,
    "filled_qty": QTY,
    "leaves_qty": QTY,
    "working_qty": QTY,
    "market_volume": QTY,
    "arrival_price": AVG,
    "avg_px": AVG,
}


# ---------------------------------------------------------------------- the answers' shapes
class ChildFill(msgspec.Struct, kw_only=True):
    """One execution of a child order."""

    seq: int
    ts_event: int
    last_px: Decimal
    last_qty: Decimal
    liquidity_side: LiquiditySide
    fee: Decimal
    fee_asset: str


class ChildDoc(OrderView, frozen=True, kw_only=True):
    """A child order (an ordinary order tagged ``algo:<algo_id>``) and its executions."""

    fills: list[ChildFill] = msgspec.field(default_factory=list)


class RouteEntry(msgspec.Struct, kw_only=True):
    """One route decision of the parent (journaled ``AlgoRouted``): ``decision.seen`` is what
    each venue showed (best bid and ask, fee-adjusted price, depth) and why one was skipped,
    ``decision.allocations`` the children it made."""

    seq: int
    ts_event: int
    slice_no: int
    decision: RouteDecision


class AlgoDoc(AlgoView, frozen=True, kw_only=True):
    """A parent order: its view, its children with their fills, its route decisions and
    re-routes (``GET /v1/algos/{id}`` and the actions), the execution report."""

    children: list[ChildDoc]  # type: ignore[assignment]  # the view's children and their fills
    routes: list[RouteEntry] = msgspec.field(default_factory=list)
    reroutes: list[ev.AlgoRerouted] = msgspec.field(default_factory=list)


class AlgoList(msgspec.Struct, kw_only=True):
    """Parent orders, oldest first (without their route decisions)."""

    algos: list[AlgoDoc]


class RouteLog:
    """Each parent's route decisions (``AlgoRouted``) and re-routes (``AlgoRerouted``), oldest
    first, as JSON-ready dictionaries."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.routes: dict[str, list[dict[str, Any]]] = {}
        self.reroutes: dict[str, list[dict[str, Any]]] = {}
        service.node.subscribe(self._on_events)

    def _on_events(self, events: list[ev.EventBase]) -> None:
        for event in events:
            if isinstance(event, ev.AlgoRouted | ev.AlgoRerouted):
                self._add(event)

    def _add(self, event: ev.AlgoRouted | ev.AlgoRerouted) -> None:
        numbers = self.service.numbers
        if isinstance(event, ev.AlgoRouted):
            self.routes.setdefault(event.algo_id, []).append(
                {
                    "seq": event.seq,
                    "ts_event": event.ts_event,
                    "slice_no": event.slice_no,
                    "decision": numbers.builtins(event.decision),
                }
            )
        else:
            self.reroutes.setdefault(event.algo_id, []).append(numbers.builtins(event))

    async def of(self, view: AlgoView) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(route decisions, re-routes) of the parent ``view`` shows; read from the committed
        journal when the log holds fewer than the parent counts."""
        algo_id = view.algo_id
        routes = self.routes.get(algo_id, [])
        reroutes = self.reroutes.get(algo_id, [])
        if len(routes) >= view.report["routes"] and len(reroutes) >= view.report["reroutes"]:
            return routes, reroutes

        def read(events: Iterator[ev.Event]) -> list[ev.AlgoRouted | ev.AlgoRerouted]:
            return [
                e
                for e in events
                if isinstance(e, ev.AlgoRouted | ev.AlgoRerouted) and e.algo_id == algo_id
            ]

        found = await read_committed(self.service, read)
        self.routes.pop(algo_id, None)
        self.reroutes.pop(algo_id, None)
        for event in found:
            self._add(event)
        return self.routes.get(algo_id, []), self.reroutes.get(algo_id, [])


_LOGS: weakref.WeakKeyDictionary[Service, RouteLog] = weakref.WeakKeyDictionary()


def route_log(service: Service) -> RouteLog:
    """The service's :class:`RouteLog` (made, and subscribed to the node, on first use)."""
    log = _LOGS.get(service)
    if log is None:
        log = _LOGS[service] = RouteLog(service)
    return log


def owned_algo(service: Service, key: ApiKey, algo_id: str, act: str | None = None) -> AlgoView:
    """The parent ``algo_id`` if ``key`` may see it (404 ``UNKNOWN_ALGO`` otherwise: the same
    answer whether it does not exist or is another account's), and, with ``act``, act on it:
    ``cancel`` (a trader of the account's tree, or a risk key) or any other action (a trader:
    403 ``FORBIDDEN_ROLE`` for a key that only sees the account)."""
    try:
        view = service.node.algo(algo_id)
    except KeyError:
        view = None
    if view is None or not service.visible(key, view.account_id):
        raise Problem(404, "UNKNOWN_ALGO", f"no parent order {algo_id!r} for this key")
    if act == "cancel":
        service.require_cancel(key, view.account_id)
    elif act is not None:
        service.require_trading(key, view.account_id, f"{act} parent orders")
    return view


def report_body(service: Service, report: dict[str, Any], symbol: str) -> dict[str, Any]:
    """The execution report with its quantities and prices at the instrument's places (the
    library's are exact strings); basis points and percentages as computed (2 places)."""
    numbers = service.numbers
    out = dict(report)
    for name, kind in REPORT_KINDS.items():
        value = out.get(name)
        if isinstance(value, str):
            out[name] = numbers.number(Decimal(value), kind, symbol, None)
    fees = out.get("fees")
    if isinstance(fees, dict):
        out["fees"] = {
            asset: numbers.number(Decimal(v), MONEY, None, asset) for asset, v in fees.items()
        }
    return out


def algo_body(
    service: Service,
    view: AlgoView,
    routes: list[dict[str, Any]] | None = None,
    reroutes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The parent as JSON: its view, each child with its fills, the report, and (when given)
    its route decisions: ``routes[i].decision.seen`` is what each venue showed and why a venue
    was skipped, ``allocations`` where the children went."""
    numbers = service.numbers
    node = service.node
    body: dict[str, Any] = numbers.builtins(view)
    children = []
    for child, shown in zip(view.children, body["children"], strict=True):
        shown["fills"] = [
            numbers.builtins(
                {
                    "seq": f.seq,
                    "ts_event": f.ts_event,
                    "last_px": f.last_px,
                    "last_qty": f.last_qty,
                    "liquidity_side": f.liquidity_side,
                    "fee": f.fee,
                    "fee_asset": f.fee_asset,
                },
                child.symbol,
            )
            for f in node.order_fills(child.order_id)
        ]
        children.append(shown)
    body["children"] = children
    body["report"] = report_body(service, view.report, view.symbol)
    if routes is not None:
        body["routes"] = routes
    if reroutes is not None:
        body["reroutes"] = reroutes
    return body
