"""REST order routing: a new order's ``route`` and ``strategy`` fields applied before it is
submitted (runtime/order_routing.py decides), and the answer's ``routing`` section."""

from __future__ import annotations

from typing import Any

from atlas_oms.runtime.gateway.failover import HEALTH_BELOW_THRESHOLD
from atlas_oms.runtime.order_routing import STRICT, Routed, RoutingError
from atlas_oms.service import schemas as s
from atlas_oms.service.app import Problem, Service


def routing_of(service: Service) -> Any:
    venues = service.venues
    return None if venues is None else venues.routing


def route_order(service: Service, key: Any, o: s.OrderIn) -> tuple[s.OrderIn, Routed | None]:
    """The order as it goes (its account and symbol maybe another's) and where it went (None:
    nothing routes it: no accounts.yaml, or an account no rule or strategy covers)."""
    routing = routing_of(service)
    strict = o.route == STRICT
    if routing is None:
        if o.strategy is not None:
            raise Problem(
                422, "UNKNOWN_STRATEGY", "strategies are routed by accounts.yaml: none is loaded"
            )
        return o, None
    covered = strict or o.strategy is not None or routing.router.rule_key(o.account_id, o.symbol)
    if not covered:
        return o, None
    service.require_trading(key, o.account_id, "place orders")  # the account asked for first
    try:
        routed: Routed = routing.route(o.account_id, o.symbol, strategy=o.strategy, strict=strict)
    except RoutingError as exc:
        raise Problem(422, exc.reason, str(exc)) from None
    if strict:
        down = routing.down(routed.account_id, routed.symbol)
        if down is not None and down[0] == HEALTH_BELOW_THRESHOLD:
            # the core refuses a venue whose status is down; a poor health score is ours to say
            raise Problem(
                422,
                "VENUE_NOT_TRADABLE",
                f"{routed.venue}/{routed.account_id} is below the failover health threshold "
                f"({down[1]}) and the order asked for no failover (route: strict)",
            )
    if routed.rerouted:
        o = o.model_copy(update={"account_id": routed.account_id, "symbol": routed.symbol})
    return o, routed


def remember(service: Service, order_id: int, routed: Routed | None) -> dict[str, Any] | None:
    """Keep where an order went (its view shows it) and return the answer's section."""
    if routed is None:
        return None
    routing = routing_of(service)
    if routing is not None:
        routing.routed[order_id] = routed
    return routed.as_json()


def routing_section(service: Service, order_id: int) -> dict[str, Any] | None:
    routing = routing_of(service)
    found = None if routing is None else routing.routed.get(order_id)
    return None if found is None else found.as_json()
