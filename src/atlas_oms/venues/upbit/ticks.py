"""Upbit's KRW-market order price unit ("호가 단위"): the tick depends on the price band.

The table is data, newest rules first checked against these sources:

- Upbit developer docs, "Check the Price Unit in the KRW Market" (docs-e.upbit.com, order page,
  referenced in reference/venues.md §1.6): bands from 2,000,000 KRW (tick 1,000) down.
- Upbit notice of 2024-01 (reported by etoday.co.kr 2024-09-11): 1,000-10,000 KRW tick 5 → 1;
  100-1,000 KRW 1 → 0.1; 10-100 KRW 0.1 → 0.01.
- Upbit notice of 2024-09 (same report): from 2024-10-01 the 100-1,000 KRW band is back to 1 KRW
  (announced for 16 listed assets; applied here to the whole band: **UNVERIFIED** per asset).
- Bands below 1 KRW follow the segmentation Upbit published for SGD on 2025-12-01
  (global-docs.upbit.com/changelog/sgd-market-tick-size-adjustment), **UNVERIFIED** for KRW.

Upbit itself says the authoritative per-market tick is ``GET /v1/orderbook/instruments``; this
table is what the adapter checks before sending (an off-tick price is answered by the venue with
``invalid_price_bid`` / ``invalid_price_ask``).
"""

from __future__ import annotations

from decimal import Decimal

D = Decimal

#: (lower bound of the band, inclusive; tick) from the highest band down.
KRW_PRICE_UNITS: tuple[tuple[Decimal, Decimal], ...] = (
    (D("2000000"), D("1000")),
    (D("1000000"), D("500")),
    (D("500000"), D("100")),
    (D("100000"), D("50")),
    (D("10000"), D("10")),
    (D("1000"), D("1")),
    (D("100"), D("1")),
    (D("10"), D("0.01")),
    (D("1"), D("0.001")),
    (D("0.1"), D("0.0001")),
    (D("0.01"), D("0.00001")),
    (D("0.001"), D("0.000001")),
    (D("0.0001"), D("0.0000001")),
    (D("0"), D("0.00000001")),
)


def krw_tick(price: Decimal) -> Decimal:
    """The KRW market's price unit at ``price``."""
    for lower, tick in KRW_PRICE_UNITS:
        if price >= lower:
            return tick
    return KRW_PRICE_UNITS[-1][1]


def on_tick(price: Decimal) -> bool:
    """Whether ``price`` is a whole number of its band's ticks."""
    return price > 0 and price % krw_tick(price) == 0


def round_to_tick(price: Decimal, *, down: bool) -> Decimal:
    """``price`` moved to its band's tick (down for a buy, up for a sell: never more aggressive)."""
    tick = krw_tick(price)
    units = price / tick
    whole = units.to_integral_value(rounding="ROUND_FLOOR" if down else "ROUND_CEILING")
    return whole * tick
