"""What the modules of ``accounts.yaml`` (:mod:`atlas_oms.venues.accounts`) share: the markets,
the venue that trades each (exchange, market), and the strict base of the file's models."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Market = Literal["spot", "futures"]
MARKETS: tuple[Market, ...] = ("spot", "futures")
#: (exchange, market) -> the Atlas venue that trades it. A later adapter adds its rows.
MARKET_VENUES: dict[tuple[str, str], str] = {
    ("binance", "spot"): "binance",
    ("binance", "futures"): "binanceusdm",
    ("bybit", "spot"): "bybit",
    ("bybit", "futures"): "bybitlinear",  # USDT linear perpetuals of the unified account
    ("okx", "spot"): "okx",  # one OKX adapter trades spot and SWAP (BTC-USDT-SWAP)
    ("okx", "futures"): "okx",
    ("upbit", "spot"): "upbit",  # KRW markets
    # US equities on a cash account are held like spot assets (cash and shares)
    ("alpaca", "spot"): "alpaca",
}


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"must be zero or more, not {value}")
    return number


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
