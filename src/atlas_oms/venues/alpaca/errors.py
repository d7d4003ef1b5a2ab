"""Alpaca's answers, classified from the HTTP status and Alpaca's ``{"code","message"}`` body
(pure). alpaca-py raises ``APIError`` for every error answer; its ``code``/``message``
properties raise on a non-JSON body (a gateway's HTML 504), so the client hands the raw status
and text here.

Writes: only a definitive refusal is :class:`Refused`; a timeout, a 5xx (504 included: Alpaca's
gateway may time out *after* the order went through), a dropped connection, a 429 and a
duplicate client order id (``422 client_order_id must be unique``: "it probably landed") are
:class:`Unknown`, resolved by query.
"""

from __future__ import annotations

import json
from enum import StrEnum

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.venue import Refused, Unknown

TIMEOUT = "TIMEOUT"
SERVER_ERROR = "SERVER_ERROR"
DISCONNECTED = "DISCONNECTED"
RATE_LIMITED = "RATE_LIMITED"
DUPLICATE = "DUPLICATE"
AUTH = "AUTH"
UNKNOWN_ORDER = "UNKNOWN_ORDER"
INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
INVALID_REQUEST = "INVALID_REQUEST"
UNSUPPORTED_ORDER = "UNSUPPORTED_ORDER"
VENUE_REJECTED = "VENUE_REJECTED"

#: Alpaca's duplicate client id message (422, code 40010001).
DUPLICATE_MESSAGE = "client_order_id must be unique"


class Action(StrEnum):
    PLACE = "PLACE"
    CANCEL = "CANCEL"
    AMEND = "AMEND"


class Failure(StrEnum):
    ANSWERED = "ANSWERED"
    TIMEOUT = "TIMEOUT"
    DISCONNECTED = "DISCONNECTED"
    NOT_SENT = "NOT_SENT"


def body_of(text: str) -> tuple[str, str]:
    """(code, message) of an error body; ("", text) when it is not Alpaca's JSON."""
    try:
        body = json.loads(text)
    except (ValueError, TypeError):
        return "", (text or "").strip()[:200]
    if not isinstance(body, dict):
        return "", str(body)[:200]
    return str(body.get("code", "")), str(body.get("message", ""))


def classify_write(
    action: Action, failure: Failure, *, status: int = 0, text: str = ""
) -> Refused | Unknown:
    if failure is Failure.TIMEOUT:
        return Unknown(reason=TIMEOUT, message=text)
    if failure is Failure.DISCONNECTED:
        return Unknown(reason=DISCONNECTED, message=text)
    if failure is Failure.NOT_SENT:
        return Refused(reason=INVALID_REQUEST, code="", message=text)
    code, message = body_of(text)
    if status >= 500 or status == 0:
        return Unknown(reason=SERVER_ERROR, code=str(status), message=message)
    if status == 429:
        return Unknown(reason=RATE_LIMITED, code=code or "429", message=message)
    if status == 422 and DUPLICATE_MESSAGE in message:
        return Unknown(reason=DUPLICATE, code=code, message=message)
    if status == 401:
        return Refused(reason=AUTH, code=code, message=message)
    if action is not Action.PLACE and (status == 404 or (status == 422 and "state" in message)):
        # unknown, or no longer open ('order is already in "filled" state'): the gateway
        # queries the order to learn what it is
        return Refused(reason=UNKNOWN_ORDER, code=code, message=message)
    if status == 403 and ("buying power" in message or "insufficient" in message):
        return Refused(reason=INSUFFICIENT_FUNDS, code=code, message=message)
    if status == 403 and "wash trade" in message:
        return Refused(reason=VENUE_REJECTED, code=code, message=message)
    if status == 403:
        return Refused(reason=AUTH, code=code, message=message)
    if status in (400, 404, 422):
        return Refused(reason=INVALID_REQUEST, code=code, message=message)
    return Refused(reason=VENUE_REJECTED, code=code or str(status), message=message)


def is_not_found(status: int) -> bool:
    return status == 404


def classify_read(
    failure: Failure, *, status: int = 0, text: str = "", retry_after_s: float | None = None
) -> VenueQueryFailed:
    if failure is Failure.TIMEOUT:
        return VenueQueryFailed(TIMEOUT, text)
    if failure is Failure.DISCONNECTED:
        return VenueQueryFailed(DISCONNECTED, text)
    code, message = body_of(text)
    if status == 429:
        return VenueQueryFailed(RATE_LIMITED, message, code=code, retry_after_s=retry_after_s)
    if status in (401, 403):
        return VenueQueryFailed(AUTH, message, code=code)
    return VenueQueryFailed(SERVER_ERROR, f"HTTP {status}: {message}", code=code)
