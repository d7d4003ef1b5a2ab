"""Market data shared by the spot and USDⓈ-M dialects: kline intervals."""

from __future__ import annotations

#: Kline intervals (ms) both dialects serve; a month (``1M``) is refused (-1120).
INTERVALS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}
#: Spot has one-second klines too.
SPOT_INTERVALS = {"1s": 1_000, **INTERVALS}

__all__ = ["INTERVALS", "SPOT_INTERVALS"]
