"""OKX's answers, classified from the HTTP status, the envelope's ``code``/``msg`` and each
order item's ``sCode``/``sMsg`` (pure). Never from ccxt's exception class.

An order operation that fails comes back as HTTP 200 with ``{"code":"1","data":[{"sCode":...}]}``
(``code "2"``: a batch partly succeeded): the item's ``sCode`` is what counts. The rule for
writes is Binance's: only a definitive refusal is :class:`Refused`; a timeout, a 5xx, a busy
backend (``50001``/``50004``/``50013``/``50026``), a dropped connection, a rate-limited write and
a duplicate client order id (``51016``: "it probably landed") are :class:`Unknown`.
"""

from __future__ import annotations

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.venue import Refused, Unknown
from atlas_oms.venues.binance.errors import (
    AUTH,
    CLOCK_SKEW,
    DISCONNECTED,
    DUPLICATE,
    FILTER_PREFIX,
    INSUFFICIENT_FUNDS,
    INVALID_REQUEST,
    POSITION_SIDE_MISMATCH,
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

#: The backend is busy or down: the outcome is open.
UNKNOWN_CODES = frozenset({"50001", "50004", "50013", "50026", "50015"})
RATE_CODES = frozenset({"50011", "50061", "50040"})
AUTH_CODES = frozenset({"50100", "50101", "50103", "50104", "50105", "50111", "50113", "50114"})
CLOCK_CODES = frozenset({"50102", "50112"})
DUPLICATE_CODES = frozenset({"51016"})
#: The order is not there (any more): cancel/amend of a filled, canceled or unknown order.
NOT_FOUND_CODES = frozenset({"51400", "51401", "51402", "51503", "51509", "51510", "51603"})
BY_CODE = {
    "51008": INSUFFICIENT_FUNDS,
    "51119": INSUFFICIENT_FUNDS,
    "51131": INSUFFICIENT_FUNDS,
    "51020": FILTER_PREFIX + "LOT_SIZE",
    "51006": FILTER_PREFIX + "PRICE_FILTER",
    "51121": FILTER_PREFIX + "LOT_SIZE",
    "51169": REDUCE_ONLY_REJECTED,
    "51170": REDUCE_ONLY_REJECTED,
    "51000": INVALID_REQUEST,
    "51001": INVALID_REQUEST,
    "51026": POSITION_SIDE_MISMATCH,
}

__all__ = [
    "AUTH",
    "CLOCK_SKEW",
    "DISCONNECTED",
    "DUPLICATE",
    "FILTER_PREFIX",
    "INSUFFICIENT_FUNDS",
    "INVALID_REQUEST",
    "POSITION_SIDE_MISMATCH",
    "RATE_LIMITED",
    "REDUCE_ONLY_REJECTED",
    "SERVER_ERROR",
    "TIMEOUT",
    "UNKNOWN_ORDER",
    "UNSUPPORTED_ORDER",
    "VENUE_REJECTED",
    "Action",
    "Failure",
    "classify_read",
    "classify_write",
    "is_not_found",
]


def classify_write(
    action: Action, failure: Failure, *, status: int | None = None, code: str = "", msg: str = ""
) -> Refused | Unknown:
    """What a failed place, cancel or amend means (``code``: the item's ``sCode`` when there is
    one, else the envelope's ``code``). Never raises."""
    if failure is Failure.TIMEOUT:
        return Unknown(reason=TIMEOUT, code=code, message=msg or "no answer within the timeout")
    if failure is Failure.DISCONNECTED:
        return Unknown(reason=DISCONNECTED, code=code, message=msg or "the connection dropped")
    if failure is Failure.NOT_SENT:
        return Refused(reason=INVALID_REQUEST, code=code, message=msg or "not sent")
    if status == 429 or code in RATE_CODES:
        return Unknown(reason=RATE_LIMITED, code=code, message=msg or "rate limited")
    if (status is not None and status >= 500) or code in UNKNOWN_CODES:
        return Unknown(reason=SERVER_ERROR, code=code, message=msg or f"HTTP {status}")
    if code in DUPLICATE_CODES:
        return Unknown(reason=DUPLICATE, code=code, message=msg)
    if code in CLOCK_CODES:
        return Refused(reason=CLOCK_SKEW, code=code, message=msg)
    if code in AUTH_CODES:
        return Refused(reason=AUTH, code=code, message=msg)
    if code in NOT_FOUND_CODES and action is not Action.PLACE:
        return Refused(reason=UNKNOWN_ORDER, code=code, message=msg)
    by_code = BY_CODE.get(code)
    if by_code is not None:
        return Refused(reason=by_code, code=code, message=msg)
    if code and code != "0":
        return Refused(reason=VENUE_REJECTED, code=code, message=msg)
    if status is not None and 400 <= status < 500:
        return Refused(reason=VENUE_REJECTED, code=f"HTTP{status}", message=msg)
    return Unknown(reason=SERVER_ERROR, code=code, message=msg or f"unexpected answer {status}")


def is_not_found(code: str) -> bool:
    """A query's "Order does not exist" (``51603``): not found, or not visible yet."""
    return code in ("51603", "51001") or code in NOT_FOUND_CODES


def classify_read(
    failure: Failure,
    *,
    status: int | None = None,
    code: str = "",
    msg: str = "",
    retry_after_s: float | None = None,
) -> VenueQueryFailed:
    if failure is Failure.TIMEOUT:
        return VenueQueryFailed(TIMEOUT, msg or "no answer within the timeout", code=code)
    if failure is Failure.DISCONNECTED:
        return VenueQueryFailed(DISCONNECTED, msg or "the connection dropped", code=code)
    if status == 429 or code in RATE_CODES:
        return VenueQueryFailed(
            RATE_LIMITED, msg or "rate limited", code=code, retry_after_s=retry_after_s
        )
    if code in CLOCK_CODES:
        return VenueQueryFailed(CLOCK_SKEW, msg, code=code)
    if code in AUTH_CODES:
        return VenueQueryFailed(AUTH, msg, code=code)
    if failure is Failure.NOT_SENT:
        return VenueQueryFailed(INVALID_REQUEST, msg or "not sent", code=code)
    if (status is not None and status >= 500) or code in UNKNOWN_CODES:
        return VenueQueryFailed(SERVER_ERROR, msg or f"HTTP {status}", code=code)
    return VenueQueryFailed(VENUE_REJECTED, msg or f"HTTP {status}", code=code)
