"""The OpenAPI document (``/openapi.json``): what every route answers, as the API really does it.

FastAPI alone documents each route's 200 as ``type: string`` (the routes return msgspec-encoded
responses) and a 422 validation error the API never sends (it answers 400 ``INVALID_FIELD``).
:func:`install` replaces ``app.openapi`` with a document that has, for every route:

* its success answers, typed: JSON Schemas made from the msgspec views
  (:func:`msgspec.json.schema_components`) and the response shapes below, in ``components``;
* every error status it can answer, each a problem document (``application/problem+json``:
  ``type``, ``title``, ``status``, ``detail``, ``reason``): 400 (a route with parameters or a
  body), 401 and 429 (any authenticated route), 503 (every route: the node is not taking requests)
  and those the route's entry in :data:`ROUTES` lists (403 a role, 404 an unknown or foreign
  account, order or instrument, 409 an order not in a state for it, 422 an engine refusal);
* its security: the API key (``X-API-Key`` or ``Authorization: Bearer``), optionally with the
  request signature (``X-Atlas-Timestamp`` + ``X-Atlas-Signature``; required for keys issued with
  ``require_signature``), on every route that depends on the authenticated key.

**Adding a route's typed answer is one line in** :data:`ROUTES`, keyed by method and path as the
document writes it::

    ("GET", "/v1/orders/by-client-id/{client_order_id}"): ok(OrderView, 404),

``ok(type, *errors)`` for a 200, ``created(type, *errors)`` for a 201; ``type`` is any msgspec
struct, ``list[...]`` of one, or another type msgspec can describe. tests/service/test_openapi.py
walks every route of the app and fails on one without its entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from atlas_oms.core.views import BalanceView, OrderView, PositionView
from atlas_oms.model import events as ev
from atlas_oms.model.account import Account
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.list_views import OrderListView
from atlas_oms.runtime.position_stats import PositionStats
from atlas_oms.runtime.rebalance import RunReport
from atlas_oms.runtime.trade_view import TradeView
from atlas_oms.runtime.venue_margin import OrderMarginEstimate, VenuePositionView
from atlas_oms.service.algo_views import AlgoDoc, AlgoList
from atlas_oms.service.openapi_shapes import (  # the answers' shapes
    AccountDetail,
    BatchResult,
    Book,
    CancelAllResult,
    CashResult,
    ClosedPositions,
    CorporateActionResult,
    DeniedOrder,
    FundDepositResult,
    FundingRateResult,
    Health,
    InsuranceFunds,
    IsolatedMarginResult,
    IssuedKey,
    KillResult,
    LeverageResult,
    LimitsResult,
    MarginModeResult,
    MarginTiers,
    MarginTiersSet,
    MarketStatusResult,
    MarkResult,
    Me,
    OrdersPage,
    PnlHistory,
    PolicyParamsDoc,
    PricesResult,
    Problem,
    Revoked,
    RiskStatus,
    SeqResult,
    SettleResult,
    TradeEvents,
    Trades,
    TradesPage,
    TransferResult,
    VenueAccountHealth,
    VenueHealth,
    VenueQuote,
    VenueRoute,
)
from atlas_oms.service.schemas_arbitrage import ArbitrageEventsDoc
from atlas_oms.service.schemas_books import ConsolidatedBookDoc, MarketStatsDoc
from atlas_oms.store.audit import AuditRecord

PROBLEM = "application/problem+json"
#: Routes anyone may call (no key): health, metrics, the documents and the blotter.
PUBLIC = frozenset({"/health", "/metrics", "/openapi.json", "/docs", "/redoc", "/"})

#: What each error status means on this API.
STATUS_TEXT = {
    400: "INVALID_FIELD: a parameter or body field is missing, malformed or out of range "
    "(this API answers 400 for what FastAPI calls a validation error, never 422)",
    401: "UNAUTHENTICATED, SIGNATURE_REQUIRED, SIGNATURE_EXPIRED, BAD_SIGNATURE or "
    "REPLAYED_REQUEST: no valid key, or a missing, stale, wrong or replayed signature",
    403: "FORBIDDEN or FORBIDDEN_ROLE: the key lacks the role this needs (a key that may see an "
    "account may not trade it without the trader role)",
    404: "UNKNOWN_ACCOUNT, UNKNOWN_ORDER, UNKNOWN_INSTRUMENT, UNKNOWN_VENUE or UNKNOWN_KEY: "
    "no such thing for this key (someone else's is answered the same)",
    409: "ORDER_NOT_LIVE, ORDER_PENDING or LIQUIDATION_IN_PROGRESS: not in a state for this now",
    422: "the engine refused the request (its reason code: risk limits, funds, trading rules)",
    429: "RATE_LIMITED: more requests per second than the key may make",
    503: "the node is not taking requests now (its journal cannot commit, or it is stopping)",
}


# ---------------------------------------------------------------------- response shapes
class Doc(NamedTuple):
    """A route's answers: its success type and status, other success answers, extra errors."""

    type: Any
    status: int = 200
    errors: frozenset[int] = frozenset()
    media: dict[str, Any] | None = None  # other media types of the success answer
    also: dict[int, tuple[Any, str]] | None = None  # more answers: status -> (type, text)


def ok(type_: Any, *errors: int, **kw: Any) -> Doc:
    return Doc(type_, 200, frozenset(errors), **kw)


def created(type_: Any, *errors: int, **kw: Any) -> Doc:
    return Doc(type_, 201, frozenset(errors), **kw)


_TEXT = {"schema": {"type": "string"}}

#: Every route's answers, by method and path as the document writes them.
ROUTES: dict[tuple[str, str], Doc] = {
    ("GET", "/health"): ok(Health),
    ("GET", "/health/{venue}/{account_id}"): ok(
        VenueHealth, 404, also={503: (VenueHealth, "The venue account is not tradable now")}
    ),
    ("GET", "/v1/venues"): ok(list[VenueAccountHealth]),
    ("POST", "/v1/order-lists"): created(OrderListView, 403, 404, 422),
    ("GET", "/v1/order-lists/{list_id}"): ok(OrderListView, 404),
    ("GET", "/v1/venues/route"): ok(VenueRoute, 404, 422),
    ("GET", "/v1/venues/quotes/{symbol}"): ok(VenueQuote, 404),
    ("POST", "/v1/venues/{venue}/{account_id}/reconcile"): ok(ev.VenueReconciled, 403, 404, 503),
    ("GET", "/v1/venues/{venue}/{account_id}/reconciliations"): ok(list[ev.VenueReconciled], 404),
    ("GET", "/metrics"): Doc(None, media={"text/plain": _TEXT}),
    ("GET", "/v1/instruments"): ok(list[Instrument]),
    ("GET", "/v1/me"): ok(Me),
    ("GET", "/v1/accounts"): ok(list[Account]),
    ("POST", "/v1/accounts"): created(Account, 403, 404, 409, 422),
    ("GET", "/v1/accounts/{account_id}"): ok(AccountDetail, 404),
    ("POST", "/v1/orders"): created(
        OrderView,
        403,
        404,
        409,
        also={
            200: (OrderView, "A retry with the same client_order_id: the original order"),
            422: (DeniedOrder, "The engine denied the order (journaled, with its id)"),
        },
    ),
    # parent orders (routes_algos.py)
    ("POST", "/v1/algos"): created(
        AlgoDoc,
        403,
        404,
        409,
        422,
        also={200: (AlgoDoc, "The algo_id again: the parent it already names")},
    ),
    ("GET", "/v1/algos"): ok(AlgoList, 404),
    ("GET", "/v1/algos/{algo_id}"): ok(AlgoDoc, 404),
    ("GET", "/v1/algos/{algo_id}/report"): ok(dict[str, Any], 404),
    ("POST", "/v1/algos/{algo_id}/pause"): ok(AlgoDoc, 403, 404, 409),
    ("POST", "/v1/algos/{algo_id}/resume"): ok(AlgoDoc, 403, 404, 409),
    ("POST", "/v1/algos/{algo_id}/cancel"): ok(AlgoDoc, 403, 404, 409),
    ("DELETE", "/v1/algos/{algo_id}"): ok(AlgoDoc, 403, 404, 409),
    ("POST", "/v1/orders/batch"): ok(BatchResult, 403, 404, 409, 422),
    ("GET", "/v1/orders"): ok(OrdersPage, 404),
    ("GET", "/v1/orders/{order_id}"): ok(OrderView, 404),
    ("DELETE", "/v1/orders/{order_id}"): ok(OrderView, 403, 404, 409, 422),
    ("PATCH", "/v1/orders/{order_id}"): ok(OrderView, 403, 404, 409, 422),
    ("GET", "/v1/orders/by-client-id/{client_order_id}"): ok(OrderView, 404),
    ("DELETE", "/v1/orders/by-client-id/{client_order_id}"): ok(OrderView, 403, 404, 409, 422),
    ("PATCH", "/v1/orders/by-client-id/{client_order_id}"): ok(OrderView, 403, 404, 409, 422),
    ("POST", "/v1/orders/cancel-all"): ok(CancelAllResult, 403, 404),
    ("GET", "/v1/fills"): ok(list[ev.OrderFilled], 404),
    ("GET", "/v1/positions"): ok(list[PositionView], 404),
    ("GET", "/v1/venue-positions"): ok(list[VenuePositionView], 404),
    ("POST", "/v1/margin/estimate"): ok(OrderMarginEstimate, 404, 422),
    ("GET", "/v1/balances"): ok(list[BalanceView], 404),
    ("POST", "/v1/transfers"): created(TransferResult, 403, 404, 409, 422),
    ("GET", "/v1/transfers"): ok(list[ev.FundsTransferred], 404),
    ("POST", "/v1/rebalance"): ok(RunReport, 403, 409),
    ("GET", "/v1/book/{symbol}"): ok(Book, 404),
    ("GET", "/v1/marketdata/trades/{symbol}"): ok(Trades, 404),
    # consolidated market data (routes_books.py)
    ("GET", "/v1/books/{symbol}/consolidated"): ok(ConsolidatedBookDoc, 404),
    ("GET", "/v1/market/{symbol}/stats"): ok(MarketStatsDoc),
    ("GET", "/v1/arbitrage"): ok(ArbitrageEventsDoc),  # routes_arbitrage.py
    # managed trades (routes_trades.py)
    ("POST", "/v1/trades"): created(
        TradeView,
        403,
        404,
        409,
        422,
        also={200: (TradeView, "The intent id again: the trade it already names")},
    ),
    ("GET", "/v1/trades"): ok(TradesPage, 404),
    ("GET", "/v1/trades/{trade_id}"): ok(TradeView, 404),
    ("GET", "/v1/trades/{trade_id}/events"): ok(TradeEvents, 404),
    ("POST", "/v1/trades/{trade_id}/actions"): ok(TradeView, 403, 404, 409, 422),
    ("GET", "/v1/policy/params"): ok(PolicyParamsDoc),
    ("PUT", "/v1/policy/params"): ok(PolicyParamsDoc, 403, 409, 422),
    ("POST", "/v1/marketdata/prices"): ok(PricesResult, 403, 404, 409, 422),
    ("GET", "/v1/risk/status"): ok(RiskStatus, 403, 404),
    ("PUT", "/v1/risk/limits"): ok(LimitsResult, 403, 404, 409, 422),
    ("PUT", "/v1/risk/state"): ok(RiskStatus, 403, 404, 409, 422),
    ("POST", "/v1/risk/kill"): ok(KillResult, 403, 404, 409, 422),
    ("POST", "/v1/risk/kill/reset"): ok(SeqResult, 403, 404, 409, 422),
    ("POST", "/v1/risk/breaker/reset"): ok(SeqResult, 403, 404, 409, 422),
    ("GET", "/v1/audit/{account_id}"): ok(
        list[AuditRecord],
        404,
        media={"application/x-ndjson": _TEXT, "text/csv": _TEXT},
    ),
    ("DELETE", "/v1/keys/{key_id}"): ok(Revoked, 403, 404),
    ("POST", "/v1/keys"): created(IssuedKey, 403, 404, 422),
    # operator actions (routes_operator.py); a write's refusal is 404/409/422 by its reason
    ("PUT", "/v1/accounts/{account_id}/leverage"): ok(LeverageResult, 403, 404, 409, 422),
    ("PUT", "/v1/accounts/{account_id}/margin-mode"): ok(MarginModeResult, 403, 404, 409, 422),
    ("POST", "/v1/accounts/{account_id}/isolated-margin"): ok(
        IsolatedMarginResult, 403, 404, 409, 422
    ),
    ("POST", "/v1/accounts/{account_id}/deposits"): created(CashResult, 403, 404, 409, 422),
    ("POST", "/v1/accounts/{account_id}/withdrawals"): created(CashResult, 403, 404, 409, 422),
    ("PUT", "/v1/instruments/{symbol}/funding-rate"): ok(FundingRateResult, 403, 404, 409, 422),
    ("GET", "/v1/instruments/{symbol}/margin-tiers"): ok(MarginTiers, 404),
    ("PUT", "/v1/instruments/{symbol}/margin-tiers"): ok(MarginTiersSet, 403, 404, 409, 422),
    ("PUT", "/v1/instruments/{symbol}/market-status"): ok(MarketStatusResult, 403, 404, 409, 422),
    ("POST", "/v1/instruments/{symbol}/settle"): ok(SettleResult, 403, 404, 409, 422),
    ("POST", "/v1/corporate-actions"): ok(CorporateActionResult, 403, 404, 409, 422),
    ("POST", "/v1/instruments/{symbol}/mark"): ok(MarkResult, 403, 404, 409, 422),
    ("GET", "/v1/insurance-funds"): ok(InsuranceFunds, 403),
    ("POST", "/v1/insurance-funds/{asset}/deposits"): created(
        FundDepositResult, 403, 404, 409, 422
    ),
    # account history (routes_history.py)
    ("GET", "/v1/accounts/{account_id}/positions/closed"): ok(ClosedPositions, 404),
    ("GET", "/v1/accounts/{account_id}/pnl"): ok(PnlHistory, 404),
    ("GET", "/v1/accounts/{account_id}/position-stats"): ok(PositionStats, 404),
}

#: Security schemes: the key in either header; the optional signature's two headers.
SECURITY_SCHEMES: dict[str, Any] = {
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key (`ak_<id>.<secret>`), issued by `atlas keys` or POST /v1/keys.",
    },
    "Bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The same API key as `Authorization: Bearer <key>`.",
    },
    "SignatureTimestamp": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Atlas-Timestamp",
        "description": "A signed request's time, epoch milliseconds (within the server's window).",
    },
    "Signature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Atlas-Signature",
        "description": "HMAC-SHA256, hex, with the key's secret, of timestamp + method + path "
        "(with its query) + body. Optional; required for keys issued with require_signature. "
        "Each signature is accepted once.",
    },
}
SIGNED: dict[str, list[str]] = {"SignatureTimestamp": [], "Signature": []}
SECURITY: list[dict[str, list[str]]] = [
    {"ApiKey": []},
    {"Bearer": []},
    {"ApiKey": [], **SIGNED},
    {"Bearer": [], **SIGNED},
]

#: An exact decimal as the API sends it (service/numbers.py): a string, never an exponent.
DECIMAL = {
    "type": "string",
    "format": "decimal",
    "pattern": r"^-?\d+(\.\d+)?$",
    "description": "An exact decimal as a string, without exponent, at the field's places.",
}


def authenticated(route: APIRoute, principal: Callable[..., Any]) -> bool:
    """Whether the route depends on the authenticated key."""
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is principal:
            return True
        stack.extend(dependant.dependencies)
    return False


def _error(status: int) -> dict[str, Any]:
    return {
        "description": STATUS_TEXT[status],
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _decimals(node: Any) -> Any:
    """Every msgspec decimal schema (``format: decimal``) made to say how the API writes it."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "decimal":
            return dict(DECIMAL)
        return {k: _decimals(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_decimals(v) for v in node]
    return node


def build(app: FastAPI, principal: Callable[..., Any]) -> dict[str, Any]:
    """The whole document (see the module docstring)."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    types: list[Any] = [Problem]
    for known in ROUTES.values():
        types.append(known.type)
        types.extend(t for t, _ in (known.also or {}).values())
    types = [t for t in types if t is not None]
    refs, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    schema_of = {id(t): r for t, r in zip(types, refs, strict=True)}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in _decimals(components).items():
        schemas.setdefault(name, schema)  # an enum named alike by a request body: the same
    for name in ("HTTPValidationError", "ValidationError"):  # never sent: 400 is the answer
        schemas.pop(name, None)
    doc["components"]["securitySchemes"] = SECURITY_SCHEMES
    paths: dict[str, Any] = doc.get("paths", {})
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        secured = authenticated(route, principal)
        for method in route.methods or ():
            op = paths.get(route.path_format, {}).get(method.lower())
            if op is None:
                continue
            entry = ROUTES.get((method, route.path_format))
            if entry is None:
                op["responses"].pop("422", None)  # left for the completeness test to catch
                continue
            responses: dict[str, Any] = {}
            content: dict[str, Any] = {}
            if entry.type is not None:
                content["application/json"] = {"schema": schema_of[id(entry.type)]}
            content.update(entry.media or {})
            responses[str(entry.status)] = {"description": "Success", "content": content}
            for status, (type_, text) in (entry.also or {}).items():
                media = PROBLEM if status >= 400 else "application/json"
                responses[str(status)] = {
                    "description": text,
                    "content": {media: {"schema": schema_of[id(type_)]}},
                }
            errors = set(entry.errors) | {503}
            if op.get("parameters") or op.get("requestBody"):
                errors.add(400)
            if secured:
                errors |= {401, 429}
                op["security"] = SECURITY
            for status in sorted(errors):
                responses.setdefault(str(status), _error(status))
            op["responses"] = responses
    return doc


def install(app: FastAPI, principal: Callable[..., Any]) -> None:
    """Serve :func:`build`'s document at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app, principal)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
