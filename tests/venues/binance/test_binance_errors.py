"""Binance answers classified from the venue's own status, code and message (venues/binance/errors.py)."""

from __future__ import annotations

import pytest

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.venue import Refused, Unknown
from atlas_oms.venues.binance import errors
from atlas_oms.venues.binance.errors import Action, Failure, classify_read, classify_write


def write(status: int | None, code: int | None, msg: str, action: Action = Action.PLACE):
    return classify_write(action, Failure.ANSWERED, status=status, code=code, msg=msg)


@pytest.mark.parametrize(
    ("status", "code", "msg", "reason"),
    [
        (503, None, "Service Unavailable", errors.SERVER_ERROR),
        (500, -1000, "An unknown error occurred", errors.SERVER_ERROR),
        (
            400,
            -1007,
            "Timeout waiting for response from backend server. Send status unknown; "
            "execution status unknown.",
            errors.SERVER_ERROR,
        ),
        (429, -1003, "Too much request weight used", errors.RATE_LIMITED),
        (
            400,
            -1015,
            "Too many new orders; current limit is 100 orders per 10 SECOND.",
            "RATE_LIMITED",
        ),
        (
            418,
            -1003,
            "Way too much request weight used; IP banned until 1700000000000.",
            errors.BANNED,
        ),
        (400, -2010, "Duplicate order sent.", errors.DUPLICATE),
        (400, -4116, "ClientOrderId is duplicated.", errors.DUPLICATE),
    ],
)
def test_ambiguous_write_answers_are_unknown_never_refused(status, code, msg, reason) -> None:
    outcome = write(status, code, msg)
    assert isinstance(outcome, Unknown)
    assert outcome.reason == reason


@pytest.mark.parametrize(
    ("status", "code", "msg", "reason"),
    [
        (400, -1021, "Timestamp for this request is outside of the recvWindow.", errors.CLOCK_SKEW),
        (
            400,
            -2010,
            "Account has insufficient balance for requested action.",
            errors.INSUFFICIENT_FUNDS,
        ),
        (400, -2019, "Margin is insufficient.", errors.INSUFFICIENT_FUNDS),
        (400, -1013, "Filter failure: LOT_SIZE", "FILTER_LOT_SIZE"),
        (400, -1013, "Filter failure: PRICE_FILTER", "FILTER_PRICE_FILTER"),
        (400, -1013, "Filter failure: NOTIONAL", "FILTER_NOTIONAL"),
        (
            400,
            -4164,
            "Order's notional must be no smaller than 100 (unless you choose reduce only).",
            "FILTER_MIN_NOTIONAL",
        ),
        (400, -2022, "ReduceOnly Order is rejected.", errors.REDUCE_ONLY_REJECTED),
        (
            400,
            -5022,
            "Due to the order could not be executed as maker, the Post Only order will be rejected.",
            errors.POST_ONLY_WOULD_TAKE,
        ),
        (400, -2010, "Order would immediately match and take.", errors.POST_ONLY_WOULD_TAKE),
        (
            400,
            -4061,
            "Order's position side does not match user's setting.",
            errors.POSITION_SIDE_MISMATCH,
        ),
        (400, -1022, "Signature for this request is not valid.", errors.AUTH),
        (401, -2015, "Invalid API-key, IP, or permissions for action.", errors.AUTH),
        (400, -1102, "Mandatory parameter 'price' was not sent", errors.VENUE_REJECTED),
        (403, None, "Forbidden", errors.VENUE_REJECTED),
    ],
)
def test_definitive_refusals_keep_the_venues_code_and_message(status, code, msg, reason) -> None:
    outcome = write(status, code, msg)
    assert isinstance(outcome, Refused)
    assert outcome.reason == reason
    assert outcome.message == msg
    assert outcome.code == (str(code) if code is not None else f"HTTP{status}")


def test_unknown_order_on_cancel_is_a_refusal_never_a_cancel() -> None:
    outcome = write(400, -2011, "Unknown order sent.", Action.CANCEL)
    assert isinstance(outcome, Refused)
    assert outcome.reason == errors.UNKNOWN_ORDER
    amend = write(400, -2013, "Order does not exist.", Action.AMEND)
    assert isinstance(amend, Refused) and amend.reason == errors.UNKNOWN_ORDER


def test_a_timeout_or_a_dropped_connection_is_unknown_and_a_request_never_sent_is_refused() -> None:
    assert classify_write(Action.PLACE, Failure.TIMEOUT).reason == errors.TIMEOUT
    assert isinstance(classify_write(Action.CANCEL, Failure.TIMEOUT), Unknown)
    assert classify_write(Action.PLACE, Failure.DISCONNECTED).reason == errors.DISCONNECTED
    assert isinstance(classify_write(Action.PLACE, Failure.DISCONNECTED), Unknown)
    assert isinstance(classify_write(Action.PLACE, Failure.NOT_SENT, msg="no key"), Refused)


def test_query_failures_raise_with_the_reason_and_the_retry_hint() -> None:
    failed = classify_read(
        Failure.ANSWERED, status=429, code=-1003, msg="slow down", retry_after_s=7
    )
    assert isinstance(failed, VenueQueryFailed)
    assert (failed.reason, failed.code, failed.retry_after_s) == ("RATE_LIMITED", "-1003", 7)
    assert classify_read(Failure.ANSWERED, status=418, code=-1003).reason == "BANNED"
    assert classify_read(Failure.ANSWERED, status=502).reason == "SERVER_ERROR"
    assert classify_read(Failure.TIMEOUT).reason == "TIMEOUT"
    assert classify_read(Failure.DISCONNECTED).reason == "DISCONNECTED"
    assert classify_read(Failure.ANSWERED, status=400, code=-1021).reason == "CLOCK_SKEW"
    assert classify_read(Failure.ANSWERED, status=401, code=-2015).reason == "AUTH"


def test_order_does_not_exist_on_a_query_is_not_found() -> None:
    assert errors.is_not_found(code=-2013, msg="Order does not exist.")
    assert not errors.is_not_found(code=-2011, msg="Unknown order sent.")
