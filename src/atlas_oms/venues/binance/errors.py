"""Binance's answers, classified from the venue's own HTTP status, ``code`` and ``msg`` (pure).

ccxt classifies Binance errors through a table keyed by the request URL; against any other host
(a testnet proxy, the loopback fake) only a generic table applies, so ``-2019`` becomes a plain
``ExchangeError`` (reference/venues.md §0.3). Atlas therefore never looks at the ccxt exception
class: the client hands the raw status, code and message to :func:`classify_write` (place, cancel,
amend) or :func:`classify_read` (queries).

The rule for writes: only a definitive refusal is :class:`Refused`; anything that leaves the
outcome open (timeout, 5xx, ``-1007``, a dropped connection, a rate-limited write, a duplicate
client order id: "it probably landed") is :class:`Unknown`, and the gateway resolves it by query.
"""

from __future__ import annotations

import re
from enum import StrEnum

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.venue import Refused, Unknown

# --------------------------------------------------------------------------- Atlas reason codes
# Unknown reasons (model/venue.py Unknown):
TIMEOUT = "TIMEOUT"
SERVER_ERROR = "SERVER_ERROR"
DISCONNECTED = "DISCONNECTED"
RATE_LIMITED = "RATE_LIMITED"
DUPLICATE = "DUPLICATE"
BANNED = "BANNED"
# Refused reasons:
CLOCK_SKEW = "CLOCK_SKEW"
UNKNOWN_ORDER = "UNKNOWN_ORDER"
INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
REDUCE_ONLY_REJECTED = "REDUCE_ONLY_REJECTED"
POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
POSITION_SIDE_MISMATCH = "POSITION_SIDE_MISMATCH"
AUTH = "AUTH"
MODIFY_NOT_SUPPORTED = "MODIFY_NOT_SUPPORTED"
UNSUPPORTED_ORDER = "UNSUPPORTED_ORDER"
ORDER_ARCHIVED = "ORDER_ARCHIVED"
INVALID_REQUEST = "INVALID_REQUEST"
#: Futures settings: a leverage the symbol does not offer (-4028), a leverage under which the
#: position (or an order) would exceed the bracket's cap (-2027), a margin type that cannot change
#: while the symbol has a position or open orders (-4048, -4047).
INVALID_LEVERAGE = "INVALID_LEVERAGE"
MAX_POSITION_AT_LEVERAGE = "MAX_POSITION_AT_LEVERAGE"
MARGIN_TYPE_LOCKED = "MARGIN_TYPE_LOCKED"
VENUE_REJECTED = "VENUE_REJECTED"
#: Prefix of a filter failure's reason: ``FILTER_LOT_SIZE``, ``FILTER_PRICE_FILTER``, ...
FILTER_PREFIX = "FILTER_"


class Action(StrEnum):
    PLACE = "PLACE"
    CANCEL = "CANCEL"
    AMEND = "AMEND"
    #: A futures account setting (leverage, margin type).
    SETTINGS = "SETTINGS"


class Failure(StrEnum):
    """How a request failed before the venue's JSON answer (if any) was read."""

    #: The venue answered (an HTTP status, possibly a JSON ``{"code","msg"}``).
    ANSWERED = "ANSWERED"
    #: No answer within the client's timeout: the request may have arrived.
    TIMEOUT = "TIMEOUT"
    #: The connection failed or dropped: the request may have arrived.
    DISCONNECTED = "DISCONNECTED"
    #: The request never left (the client refused to build it): definitely not received.
    NOT_SENT = "NOT_SENT"


_FILTER = re.compile(r"Filter failure:\s*([A-Z_]+)")

# Codes that mean the request was refused before any effect, independent of the action.
_AUTH_CODES = {-1002, -1022, -2014, -2015}
_RATE_CODES = {-1003, -1015}
# The backend timed out or misbehaved: "Send status unknown; execution status unknown."
_UNKNOWN_CODES = {-1000, -1001, -1006, -1007, -1008, -1016}


_BY_CODE = {
    -2019: INSUFFICIENT_FUNDS,
    -2022: REDUCE_ONLY_REJECTED,
    -5022: POST_ONLY_WOULD_TAKE,
    -4061: POSITION_SIDE_MISMATCH,
    -4164: FILTER_PREFIX + "MIN_NOTIONAL",
    -2026: ORDER_ARCHIVED,
    -4028: INVALID_LEVERAGE,
    -2027: MAX_POSITION_AT_LEVERAGE,
    -4047: MARGIN_TYPE_LOCKED,
    -4048: MARGIN_TYPE_LOCKED,
}


def _code_text(code: int | None) -> str:
    return "" if code is None else str(code)


def classify_write(
    action: Action,
    failure: Failure,
    *,
    status: int | None = None,
    code: int | None = None,
    msg: str = "",
) -> Refused | Unknown:
    """What a failed place, cancel or amend means. Never raises."""
    c = _code_text(code)
    if failure is Failure.TIMEOUT:
        return Unknown(reason=TIMEOUT, code=c, message=msg or "no answer within the client timeout")
    if failure is Failure.DISCONNECTED:
        return Unknown(
            reason=DISCONNECTED, code=c, message=msg or "the connection failed or dropped"
        )
    if failure is Failure.NOT_SENT:
        return Refused(reason=INVALID_REQUEST, code=c, message=msg or "the request was not sent")
    if status == 418:
        return Unknown(reason=BANNED, code=c, message=msg or "HTTP 418: the IP is banned")
    if status == 429 or code in _RATE_CODES:
        return Unknown(reason=RATE_LIMITED, code=c, message=msg or f"HTTP {status}: rate limited")
    if (status is not None and status >= 500) or code in _UNKNOWN_CODES:
        return Unknown(reason=SERVER_ERROR, code=c, message=msg or f"HTTP {status}")
    lowered = msg.lower()
    if code == -4116 or (code == -2010 and "duplicate order" in lowered):
        return Unknown(reason=DUPLICATE, code=c, message=msg)
    if code == -1021:
        return Refused(reason=CLOCK_SKEW, code=c, message=msg)
    if code in _AUTH_CODES:
        return Refused(reason=AUTH, code=c, message=msg)
    if code == -2011 or code == -2013 or "unknown order" in lowered:
        # A cancel (or amend) of an order the venue does not know or no longer works: never a
        # cancel; the gateway queries the order to learn its terminal state.
        return Refused(reason=UNKNOWN_ORDER, code=c, message=msg)
    # The venue's code first (its messages overlap: -4164 mentions "reduce only").
    by_code = _BY_CODE.get(code) if code is not None else None
    if by_code is not None:
        return Refused(reason=by_code, code=c, message=msg)
    match = _FILTER.search(msg)
    if match:
        return Refused(reason=FILTER_PREFIX + match.group(1), code=c, message=msg)
    if code == -2010 and "insufficient" in lowered:
        return Refused(reason=INSUFFICIENT_FUNDS, code=c, message=msg)
    if code == -2010 and "immediately match and take" in lowered:
        return Refused(reason=POST_ONLY_WOULD_TAKE, code=c, message=msg)
    if code == -2010 and (
        "iceberg orders are not supported" in lowered or "unsupported order combination" in lowered
    ):
        return Refused(reason=UNSUPPORTED_ORDER, code=c, message=msg)
    if (code == -2010 and "icebergqty exceeds qty" in lowered) or code == -1106:
        return Refused(reason=INVALID_REQUEST, code=c, message=msg)
    if status is not None and 400 <= status < 500 and code is None:
        # An HTTP 4xx without Binance's JSON (a WAF 403, a proxy): the request was refused
        # before the matching engine, so the order was not placed.
        return Refused(reason=VENUE_REJECTED, code=f"HTTP{status}", message=msg)
    if code is not None and code < 0:
        return Refused(reason=VENUE_REJECTED, code=c, message=msg)
    return Unknown(reason=SERVER_ERROR, code=c, message=msg or f"unexpected answer HTTP {status}")


def is_not_found(*, code: int | None, msg: str = "") -> bool:
    """A query's "Order does not exist" (``-2013``): not found, or not visible yet."""
    return code == -2013 or "order does not exist" in msg.lower()


def classify_read(
    failure: Failure,
    *,
    status: int | None = None,
    code: int | None = None,
    msg: str = "",
    retry_after_s: float | None = None,
) -> VenueQueryFailed:
    """The exception a failed query raises (the caller checks :func:`is_not_found` first)."""
    c = _code_text(code)
    if failure is Failure.TIMEOUT:
        return VenueQueryFailed(TIMEOUT, msg or "no answer within the client timeout", code=c)
    if failure is Failure.DISCONNECTED:
        return VenueQueryFailed(DISCONNECTED, msg or "the connection failed or dropped", code=c)
    if status == 418:
        return VenueQueryFailed(
            BANNED, msg or "HTTP 418: the IP is banned", code=c, retry_after_s=retry_after_s
        )
    if status == 429 or code in _RATE_CODES:
        return VenueQueryFailed(
            RATE_LIMITED, msg or "HTTP 429: rate limited", code=c, retry_after_s=retry_after_s
        )
    if code == -1021:
        return VenueQueryFailed(CLOCK_SKEW, msg, code=c)
    if code in _AUTH_CODES:
        return VenueQueryFailed(AUTH, msg, code=c)
    if failure is Failure.NOT_SENT:
        return VenueQueryFailed(INVALID_REQUEST, msg or "the request was not sent", code=c)
    if (status is not None and status >= 500) or code in _UNKNOWN_CODES:
        return VenueQueryFailed(SERVER_ERROR, msg or f"HTTP {status}", code=c)
    return VenueQueryFailed(
        VENUE_REJECTED, msg or f"HTTP {status}", code=c or (f"HTTP{status}" if status else "")
    )
