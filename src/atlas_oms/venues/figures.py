"""Reading a venue's own margin figures from its position report (issue 15 §2): a missing,
empty or unparseable field is None, not zero (a venue that sends nothing told us nothing)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def optional(value: Any) -> Decimal | None:
    """The field as a Decimal, or None when absent, empty or not a number."""
    if value is None or value == "":
        return None
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        return None
    return out if out.is_finite() else None


def positive_price(value: Any) -> Decimal | None:
    """A price the venue reports, None unless above zero: Binance sends ``"0"`` and Bybit and OKX
    ``""`` for a position that no price move alone can liquidate."""
    out = optional(value)
    return out if out is not None and out > 0 else None
