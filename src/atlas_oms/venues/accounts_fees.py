"""``fees:`` of ``accounts.yaml``: an Atlas account's fee tier per venue (issue 16). Part of
:mod:`atlas_oms.venues.accounts`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import field_validator

from atlas_oms.venues.accounts_base import _Strict


class FeeEntry(_Strict):
    """An account's fee tier at one venue (``fees: {account: {venue: {maker, taker}}}``):
    fractions of the notional (``"0.0004"`` = 4 bps; a maker rebate is negative)."""

    maker: Decimal
    taker: Decimal

    @field_validator("maker", "taker", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not number.is_finite() or abs(number) >= 1:
            raise ValueError(f"must be a fraction of the notional, not {value}")
        return number
