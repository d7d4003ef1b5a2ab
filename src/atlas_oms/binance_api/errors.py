"""Binance's error answers: ``{"code": -1121, "msg": "..."}`` with Binance's HTTP status, and the
translation of Atlas's refusals (``Problem``, ``CommandRefused``, ``CommitTimeout``) into them."""

from __future__ import annotations

from typing import Any

from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.live import CommitTimeout
from atlas_oms.service.app import Problem

#: Binance's own "unknown" answer: the order may or may not have been taken.
UNKNOWN_MSG = (
    "Timeout waiting for response from backend server. Send status unknown; "
    "execution status unknown."
)
INVALID_KEY_MSG = "Invalid API-key, IP, or permissions for action."
INSUFFICIENT_MSG = "Account has insufficient balance for requested action."
#: Atlas reason codes that Binance answers with its own insufficient-balance sentence.
FUNDS_REASONS = frozenset(
    {"INSUFFICIENT_BALANCE", "INSUFFICIENT_BUYING_POWER", "INSUFFICIENT_MARGIN"}
)


class BinanceError(Exception):
    """A refusal in Binance's words. ``reason``: the Atlas reason code behind it, if any (the
    metrics' outcome and the audit line name it)."""

    def __init__(
        self,
        code: int,
        msg: str,
        status: int = 400,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.reason = reason
        #: cancelReplace's failures carry what happened to each half.
        self.data = data

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            out["data"] = self.data
        return out

    @property
    def outcome(self) -> str:
        return self.reason or f"BINANCE{self.code}"


def invalid_key(reason: str = "UNAUTHENTICATED") -> BinanceError:
    return BinanceError(-2015, INVALID_KEY_MSG, 401, reason)


def unknown_outcome() -> BinanceError:
    return BinanceError(-1007, UNKNOWN_MSG, 503, "COMMIT_OUTCOME_UNKNOWN")


def mandatory(name: str) -> BinanceError:
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def bad_param(name: str, value: str = "") -> BinanceError:
    return BinanceError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '{value}'."
    )


def bad_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def from_problem(problem: Problem) -> BinanceError:
    """An Atlas API refusal (401/403/404 on the key or account, 429, 503) as Binance's."""
    if problem.status in (401, 403) or problem.reason == "UNKNOWN_ACCOUNT":
        return invalid_key(problem.reason)
    if problem.status == 429:
        return BinanceError(-1003, f"Too many requests; {problem.detail}.", 429, problem.reason)
    if problem.reason == "UNKNOWN_ORDER":
        return BinanceError(-2013, "Order does not exist.", 400, problem.reason)
    if problem.status == 503:
        return BinanceError(-1001, f"Internal error; {problem.detail}", 503, problem.reason)
    return BinanceError(-1013, f"{problem.reason}: {problem.detail}", 400, problem.reason)


def from_refusal(reason: str, message: str, code: int = -2010) -> BinanceError:
    """An engine refusal of an order (-2010 NEW_ORDER_REJECTED) or a cancel (-2011): Binance's
    insufficient-balance sentence for funds, else the Atlas reason code and sentence."""
    if reason in FUNDS_REASONS and code == -2010:
        return BinanceError(code, INSUFFICIENT_MSG, 400, reason)
    return BinanceError(code, f"{reason}: {message}", 400, reason)


def from_command_refused(exc: CommandRefused, code: int = -2010) -> BinanceError:
    return from_refusal(exc.reason, exc.message, code)


def translate(exc: Exception) -> BinanceError:
    """An Atlas refusal as Binance's error (a commit timeout: 503 -1007, "unknown")."""
    if isinstance(exc, BinanceError):
        return exc
    if isinstance(exc, Problem):
        return from_problem(exc)
    if isinstance(exc, CommandRefused):
        return from_command_refused(exc)
    if isinstance(exc, CommitTimeout):
        return unknown_outcome()
    raise exc


__all__ = [
    "BinanceError",
    "bad_param",
    "bad_symbol",
    "from_command_refused",
    "from_problem",
    "from_refusal",
    "invalid_key",
    "mandatory",
    "translate",
    "unknown_outcome",
]
