"""Each venue's margin convention for Atlas's *own* pre-trade estimate of an isolated linear
(USDT-margined) position's liquidation price (issue 15 §2; the table is in docs/MARGIN.md). For a
position held at an external venue Atlas shows the venue's own figures from its position report;
these functions follow the venue's published formula before a fill:

- ``binance``: maintenance margin valued at the liquidation price itself (tiered; formulas.py);
- ``bybit``: maintenance margin valued at the *entry* value (formulas.py);
- ``okx``: maintenance margin valued at the liquidation price, plus the taker fee to close the
  position there (OKX's margin ratio = margin balance / (maintenance margin + fees)).

Pure: Decimal in, Decimal out; ``None`` when there is no positive liquidation price.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from atlas_oms.core.derivatives.formulas import (
    bybit_isolated_liquidation_price,
    isolated_liquidation_price,
)
from atlas_oms.model.margin import MarginTier

ZERO = Decimal(0)


def okx_isolated_liquidation_price(
    qty: Decimal,
    entry: Decimal,
    margin: Decimal,
    maint_rate: Decimal,
    taker_fee_rate: Decimal,
    multiplier: Decimal = Decimal(1),
) -> Decimal | None:
    """OKX: the price ``P`` where the margin ratio ``(margin + upl) / (MM + fee to close)`` is
    100%, with ``MM = |q|·P·mmr`` and the fee to close ``|q|·P·taker`` both at ``P``:
    ``margin + q·(P − E) = |q|·P·(mmr + taker)`` → ``P = (margin − q·E) / (|q|·(mmr + taker) − q)``
    (``q`` signed, in base units after the contract ``multiplier``)."""
    if not qty:
        return None
    q = qty * multiplier
    den = abs(q) * (maint_rate + taker_fee_rate) - q
    if not den:
        return None
    lp = (margin - q * entry) / den
    return lp if lp > 0 else None


Estimate = Callable[..., Decimal | None]


def estimate_liquidation_price(
    venue: str,
    qty: Decimal,
    entry: Decimal,
    margin: Decimal,
    tiers: Sequence[MarginTier],
    *,
    taker_fee_rate: Decimal = ZERO,
    multiplier: Decimal = Decimal(1),
) -> Decimal | None:
    """The pre-trade liquidation-price estimate of an isolated position at ``venue`` by that
    venue's convention (``binanceusdm``/``binance``, ``bybit``, ``okx``); another venue (the
    built-in ``sim``, paper) gets Atlas's engine convention, which is Binance's."""
    family = venue_family(venue)
    if family == "bybit":
        return bybit_isolated_liquidation_price(qty, entry, margin, tiers, multiplier)
    if family == "okx":
        # OKX tiers give one maintenance rate per tier (no maintenance amount): the tier of the
        # notional at entry.
        value = abs(qty) * entry * multiplier
        tier = next(
            (t for t in tiers if t.cap is None or value <= t.cap), tiers[-1] if tiers else None
        )
        rate = tier.maint_margin_rate if tier is not None else ZERO
        return okx_isolated_liquidation_price(qty, entry, margin, rate, taker_fee_rate, multiplier)
    return isolated_liquidation_price(qty, entry, margin, tiers, multiplier)


def venue_family(venue: str) -> str:
    """``binance`` for binance/binanceusdm/binancecoinm, ``bybit``, ``okx``, else the name."""
    name = venue.lower()
    for family in ("binance", "bybit", "okx"):
        if name.startswith(family):
            return family
    return name


#: What each venue values its maintenance margin at (docs/MARGIN.md table).
CONVENTIONS: dict[str, str] = {
    "binance": "maintenance margin at the liquidation price (tiered, with maintenance amount)",
    "bybit": "maintenance margin at the entry value",
    "okx": "maintenance margin and the taker fee to close, both at the liquidation price",
}
