"""The fake's own copy of Upbit's KRW price units (fakes import no adapter code, so a mistake in
the adapter's table is not hidden by sharing it). Same published sources as
``atlas_oms/venues/upbit/ticks.py``; ``tests/venues/upbit`` checks the two agree."""

from __future__ import annotations

from decimal import Decimal

D = Decimal

#: (lower bound of the band, inclusive; tick), highest band first.
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


def on_tick(price: Decimal) -> bool:
    if price <= 0:
        return False
    tick = next(t for lower, t in KRW_PRICE_UNITS if price >= lower)
    return price % tick == 0
