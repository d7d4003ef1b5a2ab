"""Parent orders over REST (issue 16 §2-§3): TWAP, VWAP, iceberg and SMART.

* ``POST /v1/algos``: start a parent (every ``Node.submit_algo`` parameter but ``book``): 201 with
  its view; a repeat of a known ``algo_id`` of the same account answers that parent (200).
* ``GET /v1/algos?account_id=&open=``: the parents of the accounts the key sees, oldest first.
* ``GET /v1/algos/{id}``: the parent (status, ``cum_qty``, ``avg_px``, ``leaves_qty``), its
  children with their fills, and ``routes``: every route decision (``decision.seen``: the prices
  each venue showed and why one was skipped; ``decision.allocations``: where the children went).
* ``GET /v1/algos/{id}/report``: the execution report (arrival price, average price, slippage in
  basis points, participation, slices, children, fees).
* ``POST /v1/algos/{id}/pause`` | ``/resume`` | ``/cancel``, and ``DELETE /v1/algos/{id}``
  (= cancel).
* ``POST /v1/orders`` with ``"venue": "SMART"`` (service/routes.py hands it here): a SMART
  parent; the answer is its view with ``routing``, the route decision.

Every route checks the key's right to the parent's account as the order routes do: a parent of an
account the key does not see is ``404 UNKNOWN_ALGO``; starting, pausing and resuming need the
trader role on the account's tree, cancelling a trader or a risk key (403 ``FORBIDDEN_ROLE``).
Answers go out once the journal holds what they show (``await service.durable()``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from atlas_oms.model.algos import SMART, AlgoKind, Remainder
from atlas_oms.model.enums import OrderType
from atlas_oms.runtime.node_algos import AlgoView
from atlas_oms.service import schemas as s
from atlas_oms.service.algo_views import algo_body, owned_algo, report_body, route_log
from atlas_oms.service.app import JSON, Key, Problem, Service, service_of
from atlas_oms.service.keys import ApiKey

__all__ = ["check_venue", "register", "smart_order"]

TAGS: list[str | Enum] = ["algos"]

#: SubmitOrder fields a SMART order may not carry (a parent's children are plain limit orders of
#: the router's making), with their defaults.
_NOT_SMART = {
    "display_qty": None,
    "trigger_price": None,
    "trailing_offset": None,
    "limit_offset": None,
    "expire_ts": None,
    "post_only": False,
    "reduce_only": False,
    "position_side": None,
    "tag": None,
    "extended_hours": False,
    "market_reason": None,
}
_SMART_ONLY = ("remainder", "depth_margin_pct", "reroute_after_ms")


def check_venue(service: Service, venue: str, symbol: str) -> None:
    """A named venue (not SMART) must be the symbol's own: 422 ``VENUE_MISMATCH`` otherwise (an
    unknown symbol is left to the engine, which refuses it)."""
    if not venue or venue == SMART:
        return
    inst = service.node.instrument(symbol)
    if inst is not None and inst.venue != venue:
        raise Problem(
            422,
            "VENUE_MISMATCH",
            f"{symbol} trades on {inst.venue}, not {venue}: name its own venue, SMART, or none",
        )


def _existing(service: Service, algo_id: str) -> AlgoView | None:
    if not algo_id:
        return None
    try:
        return service.node.algo(algo_id)
    except KeyError:
        return None


def _start(service: Service, key: ApiKey, body: s.AlgoIn) -> tuple[int, AlgoView]:
    """Submit a parent; (HTTP status, view): 200 for a repeat of a known algo_id."""
    service.require_trading(key, body.account_id, "start parent orders")
    check_venue(service, body.venue, body.symbol)
    node = service.node
    known = _existing(service, body.algo_id)
    if known is not None and known.account_id != body.account_id:
        raise Problem(409, "DUPLICATE_ALGO_ID", f"the algo id {body.algo_id!r} is already taken")
    route_log(service)  # subscribed before the parent routes: its decisions are kept
    params = body.model_dump()
    view = node.submit_algo(**params)
    return (200 if known is not None else 201), view


def smart_order(service: Service, key: ApiKey, o: s.OrderIn) -> tuple[int, dict[str, Any]]:
    """``POST /v1/orders`` with ``venue: SMART``: the order as a SMART parent (``price`` its
    limit, ``client_order_id`` its algo id); (HTTP status, body with ``routing``)."""
    service.require_trading(key, o.account_id, "place orders")
    given = [f for f, default in _NOT_SMART.items() if getattr(o, f) != default]
    if given:
        raise Problem(
            422,
            "UNSUPPORTED_FOR_SMART",
            f"a SMART order is a LIMIT (or MARKET) order routed across venues: "
            f"{', '.join(given)} cannot go with it",
        )
    if o.order_type not in (OrderType.LIMIT, OrderType.MARKET):
        raise Problem(
            422, "UNSUPPORTED_FOR_SMART", f"a SMART order is LIMIT or MARKET, not {o.order_type}"
        )
    if o.order_type is OrderType.LIMIT and o.price is None:
        raise Problem(422, "INVALID_PRICE", "a LIMIT order needs a price (or order_type MARKET)")
    body = s.AlgoIn(
        account_id=o.account_id,
        symbol=o.symbol,
        side=o.side,
        qty=o.qty,
        kind=AlgoKind.SMART,
        algo_id=o.client_order_id or "",
        limit_price=o.price if o.order_type is OrderType.LIMIT else None,
        venue=SMART,
        strategy=o.strategy,
        remainder=o.remainder or Remainder.STAY,
        depth_margin_pct=o.depth_margin_pct if o.depth_margin_pct is not None else Decimal(0),
        reroute_after_ms=o.reroute_after_ms or 0,
    )
    status, view = _start(service, key, body)
    log = route_log(service)
    routes = log.routes.get(view.algo_id, [])
    out = algo_body(service, view, routes, log.reroutes.get(view.algo_id, []))
    out["routing"] = routes[0] if routes else None
    if status == 200:
        out["duplicate"] = True
    return status, out


def check_order_venue(service: Service, o: s.OrderIn) -> None:
    """An ordinary order (not SMART): a named venue must be its symbol's, and the SMART-only
    fields are refused."""
    given = [f for f in _SMART_ONLY if getattr(o, f) is not None]
    if given:
        raise Problem(422, "INVALID_FIELD", f"{', '.join(given)}: only with venue SMART")
    check_venue(service, o.venue or "", o.symbol)


async def _view(service: Service, view: AlgoView) -> dict[str, Any]:
    routes, reroutes = await route_log(service).of(view)
    return algo_body(service, view, routes, reroutes)


def register(app: FastAPI) -> None:
    @app.post("/v1/algos", tags=TAGS, status_code=201)
    async def submit_algo(request: Request, body: s.AlgoIn, key: Key) -> Response:
        """Start a parent order: TWAP (``duration_ms`` or ``end_ts``, ``slices``), VWAP (as TWAP,
        ``weights`` or the recent trades' profile), ICEBERG (``limit_price``, ``display_qty``) or
        SMART (the whole quantity routed now). 201 with its view; 200 for a repeat of its
        ``algo_id``; 422 with the reason when refused."""
        service = service_of(request)
        status, view = _start(service, key, body)
        await service.durable()
        return JSON(await _view(service, view), status_code=status)

    @app.get("/v1/algos", tags=TAGS)
    async def list_algos(
        request: Request,
        key: Key,
        account_id: str | None = None,
        open_only: Annotated[bool, Query(alias="open")] = False,
    ) -> Response:
        """The parents of ``account_id`` (or of every account the key sees), oldest first;
        ``open``: only those working or paused. Children are listed, route decisions are not
        (``GET /v1/algos/{id}``)."""
        service = service_of(request)
        if account_id is not None:
            service.require_account(key, account_id)
        views = service.node.algos(account_id, open_only=open_only)
        return JSON(
            {"algos": [algo_body(service, v) for v in views if service.visible(key, v.account_id)]}
        )

    @app.get("/v1/algos/{algo_id}", tags=TAGS)
    async def get_algo(request: Request, algo_id: str, key: Key) -> Response:
        """One parent: status, sums over its children, the children with their fills, the
        route decisions (``routes``: prices seen at each venue, why one was skipped, where each
        child went), the re-routes and the execution report."""
        service = service_of(request)
        return JSON(await _view(service, owned_algo(service, key, algo_id)))

    @app.get("/v1/algos/{algo_id}/report", tags=TAGS)
    async def algo_report(request: Request, algo_id: str, key: Key) -> Response:
        """The execution report: arrival price, average price, slippage in basis points
        (positive: a cost), participation in the market volume of the window, slices,
        children, routes, fees."""
        service = service_of(request)
        view = owned_algo(service, key, algo_id)
        report = service.node.algo_report(algo_id)
        return JSON(report_body(service, report, view.symbol))

    async def _act(request: Request, algo_id: str, key: ApiKey, act: str) -> Response:
        service = service_of(request)
        owned_algo(service, key, algo_id, act)
        node = service.node
        do = {"pause": node.pause_algo, "resume": node.resume_algo, "cancel": node.cancel_algo}
        view = do[act](algo_id)
        await service.durable()
        return JSON(await _view(service, view))

    @app.post("/v1/algos/{algo_id}/pause", tags=TAGS)
    async def pause_algo(request: Request, algo_id: str, key: Key) -> Response:
        """Pause: no new slices or refills, the live children canceled (409 ``ORDER_NOT_LIVE``
        for an ended parent; pausing a paused one changes nothing)."""
        return await _act(request, algo_id, key, "pause")

    @app.post("/v1/algos/{algo_id}/resume", tags=TAGS)
    async def resume_algo(request: Request, algo_id: str, key: Key) -> Response:
        """Resume: slices missed while paused roll into the next one, which starts at once."""
        return await _act(request, algo_id, key, "resume")

    @app.post("/v1/algos/{algo_id}/cancel", tags=TAGS)
    async def cancel_algo(request: Request, algo_id: str, key: Key) -> Response:
        """Cancel the parent and every live child; what filled stays filled."""
        return await _act(request, algo_id, key, "cancel")

    @app.delete("/v1/algos/{algo_id}", tags=TAGS)
    async def delete_algo(request: Request, algo_id: str, key: Key) -> Response:
        """Cancel the parent (as ``POST /v1/algos/{id}/cancel``)."""
        return await _act(request, algo_id, key, "cancel")
