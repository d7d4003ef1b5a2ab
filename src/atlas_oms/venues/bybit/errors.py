"""Bybit v5 answers classified from the venue's own ``retCode``/``retMsg`` and HTTP status
(pure). ccxt's classes are never consulted (reference/venues.md §0.3): Bybit's duplicates
(``110072``, ``170141``) are ``InvalidOrder`` there, like many definitive refusals.

Writes: only a definitive refusal is :class:`Refused`; a timeout, a 5xx, ``10016`` (server error
or restarting), ``10006`` (rate limited), ``110079`` (order is processing) or a duplicate
``orderLinkId`` ("it probably landed") is :class:`Unknown`, resolved by query.
"""

from __future__ import annotations

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.venue import Refused, Unknown
from atlas_oms.venues.binance.errors import (
    AUTH,
    BANNED,
    CLOCK_SKEW,
    DISCONNECTED,
    DUPLICATE,
    INSUFFICIENT_FUNDS,
    INVALID_REQUEST,
    POSITION_SIDE_MISMATCH,
    POST_ONLY_WOULD_TAKE,
    RATE_LIMITED,
    REDUCE_ONLY_REJECTED,
    SERVER_ERROR,
    TIMEOUT,
    UNKNOWN_ORDER,
    UNSUPPORTED_ORDER,
    VENUE_REJECTED,
    Action,
    Failure,
)

__all__ = [
    "UNSUPPORTED_ORDER",
    "Action",
    "Failure",
    "classify_read",
    "classify_write",
    "is_not_found",
]

DUPLICATE_CODES = frozenset({110072, 170141})
NOT_FOUND_CODES = frozenset({110001, 170213, 110008, 170142})
RATE_CODES = frozenset({10006, 10018})
UNKNOWN_CODES = frozenset({10000, 10016, 110079, 170007})
AUTH_CODES = frozenset({10003, 10004, 10005, 10007, 10009, 10010, 33004})
BY_CODE = {
    110007: INSUFFICIENT_FUNDS,
    110012: INSUFFICIENT_FUNDS,
    110004: INSUFFICIENT_FUNDS,
    110006: INSUFFICIENT_FUNDS,
    170131: INSUFFICIENT_FUNDS,
    110017: REDUCE_ONLY_REJECTED,
    170135: POST_ONLY_WOULD_TAKE,
    110025: INVALID_REQUEST,
}


def _c(code: int | None) -> str:
    return "" if code is None else str(code)


def classify_write(
    action: Action,
    failure: Failure,
    *,
    status: int | None = None,
    code: int | None = None,
    msg: str = "",
) -> Refused | Unknown:
    c = _c(code)
    if failure is Failure.TIMEOUT:
        return Unknown(reason=TIMEOUT, code=c, message=msg or "no answer within the client timeout")
    if failure is Failure.DISCONNECTED:
        return Unknown(reason=DISCONNECTED, code=c, message=msg or "the connection dropped")
    if failure is Failure.NOT_SENT:
        return Refused(reason=INVALID_REQUEST, code=c, message=msg or "the request was not sent")
    if status == 403:
        return Unknown(reason=BANNED, code=c or "HTTP403", message=msg or "access too frequent")
    if status == 429 or code in RATE_CODES:
        return Unknown(reason=RATE_LIMITED, code=c, message=msg or "rate limited")
    if (status is not None and status >= 500) or code in UNKNOWN_CODES:
        return Unknown(reason=SERVER_ERROR, code=c, message=msg or f"HTTP {status}")
    if code in DUPLICATE_CODES:
        return Unknown(reason=DUPLICATE, code=c, message=msg)
    if code == 10002:
        return Refused(reason=CLOCK_SKEW, code=c, message=msg)
    if code in AUTH_CODES:
        return Refused(reason=AUTH, code=c, message=msg)
    if code in NOT_FOUND_CODES:
        return Refused(reason=UNKNOWN_ORDER, code=c, message=msg)
    if code is not None and code in BY_CODE:
        return Refused(reason=BY_CODE[code], code=c, message=msg)
    if code == 10001 and "position idx" in msg.lower():
        return Refused(reason=POSITION_SIDE_MISMATCH, code=c, message=msg)
    if code is not None and code != 0:
        return Refused(reason=VENUE_REJECTED, code=c, message=msg)
    if status is not None and 400 <= status < 500:
        return Refused(reason=VENUE_REJECTED, code=f"HTTP{status}", message=msg)
    return Unknown(reason=SERVER_ERROR, code=c, message=msg or f"unexpected answer HTTP {status}")


def is_not_found(*, code: int | None, msg: str = "") -> bool:
    return code in (110001, 170213) or "order does not exist" in msg.lower()


def classify_read(
    failure: Failure,
    *,
    status: int | None = None,
    code: int | None = None,
    msg: str = "",
    retry_after_s: float | None = None,
) -> VenueQueryFailed:
    c = _c(code)
    if failure is Failure.TIMEOUT:
        return VenueQueryFailed(TIMEOUT, msg or "no answer within the client timeout", code=c)
    if failure is Failure.DISCONNECTED:
        return VenueQueryFailed(DISCONNECTED, msg or "the connection dropped", code=c)
    if status == 403:
        return VenueQueryFailed(BANNED, msg or "access too frequent", code=c, retry_after_s=600.0)
    if status == 429 or code in RATE_CODES:
        return VenueQueryFailed(
            RATE_LIMITED, msg or "rate limited", code=c, retry_after_s=retry_after_s
        )
    if code == 10002:
        return VenueQueryFailed(CLOCK_SKEW, msg, code=c)
    if code in AUTH_CODES:
        return VenueQueryFailed(AUTH, msg, code=c)
    if failure is Failure.NOT_SENT:
        return VenueQueryFailed(INVALID_REQUEST, msg or "the request was not sent", code=c)
    if (status is not None and status >= 500) or code in UNKNOWN_CODES:
        return VenueQueryFailed(SERVER_ERROR, msg or f"HTTP {status}", code=c)
    return VenueQueryFailed(VENUE_REJECTED, msg or f"HTTP {status}", code=c)
