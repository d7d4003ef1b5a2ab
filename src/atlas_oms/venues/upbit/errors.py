"""Upbit's answers classified from the HTTP status and ``error.name`` (pure).

Names from the Upbit guide (global-docs.upbit.com/reference/rest-api-guide) and ccxt's table
(reference/venues.md §1.6). A 5xx, a timeout or a dropped connection leaves a write UNKNOWN; a
429/418 write was not taken by the matching engine but is still resolved by query (UNKNOWN, as
for Binance); ``duplicate_identifier`` means an order with that identifier exists: UNKNOWN
(DUPLICATE), resolved by ``GET /v1/order?identifier=``.
"""

from __future__ import annotations

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.venue import Refused, Unknown
from atlas_oms.venues.binance.errors import (
    AUTH,
    BANNED,
    DISCONNECTED,
    DUPLICATE,
    FILTER_PREFIX,
    INSUFFICIENT_FUNDS,
    INVALID_REQUEST,
    RATE_LIMITED,
    SERVER_ERROR,
    TIMEOUT,
    UNKNOWN_ORDER,
    VENUE_REJECTED,
    Failure,
)

_AUTH = {
    "jwt_verification",
    "invalid_access_key",
    "expired_access_key",
    "no_authorization_token",
    "invalid_query_payload",
    "out_of_scope",
    "no_authorization_ip",
}

_BY_NAME = {
    "insufficient_funds_bid": INSUFFICIENT_FUNDS,
    "insufficient_funds_ask": INSUFFICIENT_FUNDS,
    "under_min_total_bid": FILTER_PREFIX + "MIN_NOTIONAL",
    "under_min_total_ask": FILTER_PREFIX + "MIN_NOTIONAL",
    "invalid_price_bid": FILTER_PREFIX + "PRICE_UNIT",
    "invalid_price_ask": FILTER_PREFIX + "PRICE_UNIT",
    "order_not_found": UNKNOWN_ORDER,
    "validation_error": INVALID_REQUEST,
}


def classify_write(
    failure: Failure, *, status: int | None = None, name: str = "", msg: str = ""
) -> Refused | Unknown:
    if failure is Failure.TIMEOUT:
        return Unknown(reason=TIMEOUT, message=msg or "no answer within the client timeout")
    if failure is Failure.DISCONNECTED:
        return Unknown(reason=DISCONNECTED, message=msg or "the connection failed or dropped")
    if failure is Failure.NOT_SENT:
        return Refused(reason=INVALID_REQUEST, code="", message=msg or "the request was not sent")
    if status == 418:
        return Unknown(reason=BANNED, code=name, message=msg or "HTTP 418: banned")
    if status == 429:
        return Unknown(reason=RATE_LIMITED, code=name, message=msg or "HTTP 429")
    if status is None or status >= 500:
        return Unknown(reason=SERVER_ERROR, code=name, message=msg or f"HTTP {status}")
    if name in ("duplicate_identifier", "nonce_used"):
        # An order with this identifier exists, or this very request (its JWT nonce) arrived
        # before (aiohttp repeats a request whose connection dropped): the first may have
        # taken effect. Resolved by query.
        return Unknown(reason=DUPLICATE, code=name, message=msg)
    if name in _AUTH:
        return Refused(reason=AUTH, code=name, message=msg)
    reason = _BY_NAME.get(name)
    if reason is not None:
        return Refused(reason=reason, code=name, message=msg)
    if name.startswith("create_") or 400 <= status < 500:
        return Refused(reason=VENUE_REJECTED, code=name or f"HTTP{status}", message=msg)
    return Unknown(reason=SERVER_ERROR, code=name, message=msg)


def is_not_found(status: int, name: str) -> bool:
    return name == "order_not_found" or (status == 404 and not name)


def classify_read(
    failure: Failure, *, status: int | None = None, name: str = "", msg: str = ""
) -> VenueQueryFailed:
    if failure is Failure.TIMEOUT:
        return VenueQueryFailed(TIMEOUT, msg or "no answer within the client timeout")
    if failure is Failure.DISCONNECTED:
        return VenueQueryFailed(DISCONNECTED, msg or "the connection failed or dropped")
    if failure is Failure.NOT_SENT:
        return VenueQueryFailed(INVALID_REQUEST, msg or "the request was not sent")
    if status == 418:
        return VenueQueryFailed(BANNED, msg or "HTTP 418", code=name)
    if status == 429:
        return VenueQueryFailed(RATE_LIMITED, msg or "HTTP 429", code=name)
    if name in _AUTH:
        return VenueQueryFailed(AUTH, msg, code=name)
    if status is None or status >= 500:
        return VenueQueryFailed(SERVER_ERROR, msg or f"HTTP {status}", code=name)
    return VenueQueryFailed(VENUE_REJECTED, msg or f"HTTP {status}", code=name or f"HTTP{status}")
