"""Margin maths for linear (USDT-settled) derivatives, as Binance USDⓈ-M and Bybit publish it.

Pure functions of their arguments; the formulas and their public sources are in ``docs/MARGIN.md``.
A *leg* is one position in the symbol being priced: ``(signed quantity, entry price)``; quantities
are in contracts and ``multiplier`` turns them into the base asset (notional = qty * price * mult).

- maintenance margin of a position = notional * rate - maintenance amount, with the tier that the
  notional falls in;
- margin balance = wallet balance + unrealized P&L;
- margin ratio = maintenance margin / margin balance: 100% or more means liquidation;
- liquidation price: the price of this symbol at which margin balance equals maintenance margin,
  with everything else held where it is (Binance's formula, tier recomputed at that price);
- bankruptcy price: the price at which margin balance is zero.
A price at or below zero means "none": the position cannot be liquidated (or go bankrupt) by a
price move alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from atlas_oms.model.margin import MarginTier

ZERO = Decimal(0)
ONE = Decimal(1)

Leg = tuple[Decimal, Decimal]  # (signed quantity, entry price)


def tier_for(tiers: Sequence[MarginTier], notional: Decimal) -> MarginTier:
    """The tier a (non-negative) notional falls in: ``floor < notional <= cap``, the first tier
    taking 0; a notional above the last cap is placed in the last tier."""
    for tier in tiers:
        if tier.cap is None or notional <= tier.cap:
            return tier
    return tiers[-1]


def maintenance_margin(tiers: Sequence[MarginTier], notional: Decimal) -> Decimal:
    """Maintenance margin of one position of this notional (absolute value)."""
    notional = abs(notional)
    if not notional:
        return ZERO
    tier = tier_for(tiers, notional)
    return notional * tier.maint_margin_rate - tier.maint_amount


def max_notional(tiers: Sequence[MarginTier], leverage: Decimal) -> Decimal | None:
    """The largest position notional allowed at ``leverage`` (None: unbounded); the cap of the
    last tier whose maximum leverage is at least ``leverage``. Zero: no tier allows it."""
    best: Decimal | None = ZERO
    for tier in tiers:
        if tier.max_leverage >= leverage:
            best = tier.cap
    return best


def unrealized_pnl(
    qty: Decimal, entry: Decimal, price: Decimal, multiplier: Decimal = ONE
) -> Decimal:
    return (price - entry) * qty * multiplier


def margin_ratio(maint: Decimal, balance: Decimal) -> Decimal | None:
    """Maintenance margin over margin balance; None when the balance is zero or less (bankrupt)."""
    if balance <= 0:
        return None
    return maint / balance


def liquidation_price(
    legs: Sequence[Leg],
    *,
    wallet: Decimal,
    tiers: Sequence[MarginTier],
    multiplier: Decimal = ONE,
    other_maint: Decimal = ZERO,
    other_upnl: Decimal = ZERO,
) -> Decimal | None:
    """Price of this symbol at which margin balance meets maintenance margin; None if none > 0.

    ``wallet`` is the isolated margin of an isolated position, or the cross wallet balance (with
    ``other_maint`` and ``other_upnl`` of the account's cross positions in other symbols). In hedge
    mode ``legs`` holds the long and the short of the symbol together (Binance's formula):

        LP = (WB - TMM1 + UPNL1 + sum cum - sum side*|qty|*EP) / (sum |qty|*MMR - sum side*|qty|)

    each leg's rate and amount taken from the tier of its notional at LP (recomputed until stable).
    """
    legs = [(q, e) for q, e in legs if q]
    if not legs:
        return None
    # Start from the tier of each leg's notional at its entry price, then move to the tier at LP.
    chosen = [tier_for(tiers, abs(q) * e * multiplier) for q, e in legs]
    lp: Decimal | None = None
    for _ in range(len(tiers) + 2):
        num = wallet - other_maint + other_upnl
        den = ZERO
        for (q, e), tier in zip(legs, chosen, strict=True):
            size = abs(q) * multiplier
            num += tier.maint_amount - q * multiplier * e
            den += size * tier.maint_margin_rate - q * multiplier
        if not den:
            return None
        lp = num / den
        # A root at or below zero is not final until it was found with the tiers of a notional
        # near zero: a long whose entry tier has a large maintenance amount can cross zero below 0
        # with that tier's line yet meet the (smaller) maintenance of a lower tier above 0.
        again = [tier_for(tiers, abs(q) * max(lp, ZERO) * multiplier) for q, _ in legs]
        if again == chosen:
            return lp if lp > 0 else None
        chosen = again
    # Tiers that never settle mean no price solves the equation with its own tiers: in hedge mode
    # balance minus maintenance can stay below zero at every price (it is concave). There is no
    # liquidation price; such an account is under maintenance now (the engine checks it directly).
    return None


def bankruptcy_price(
    legs: Sequence[Leg],
    *,
    wallet: Decimal,
    multiplier: Decimal = ONE,
    other_upnl: Decimal = ZERO,
) -> Decimal | None:
    """Price of this symbol at which margin balance is zero; None if none > 0.

        BP = (WB + UPNL1 - sum side*|qty|*EP) / (-sum side*|qty|)

    For one isolated long this is ``entry - margin / qty``; for a short ``entry + margin / qty``.
    """
    num = wallet + other_upnl
    den = ZERO
    for q, e in legs:
        num -= q * multiplier * e
        den -= q * multiplier
    if not den:
        return None
    bp = num / den
    return bp if bp > 0 else None


def isolated_liquidation_price(
    qty: Decimal,
    entry: Decimal,
    margin: Decimal,
    tiers: Sequence[MarginTier],
    multiplier: Decimal = ONE,
) -> Decimal | None:
    """Liquidation price of one isolated position holding ``margin`` (initial plus added)."""
    return liquidation_price([(qty, entry)], wallet=margin, tiers=tiers, multiplier=multiplier)


def isolated_bankruptcy_price(
    qty: Decimal, entry: Decimal, margin: Decimal, multiplier: Decimal = ONE
) -> Decimal | None:
    return bankruptcy_price([(qty, entry)], wallet=margin, multiplier=multiplier)


def liquidates_below(
    legs: Sequence[Leg], tiers: Sequence[MarginTier], price: Decimal, multiplier: Decimal = ONE
) -> bool:
    """Whether margin balance minus maintenance margin grows with the price near ``price`` (a net
    long): then liquidation comes as the price falls to the liquidation price, else as it rises."""
    slope = ZERO
    for q, _ in legs:
        tier = tier_for(tiers, abs(q) * price * multiplier)
        slope += q * multiplier - abs(q) * multiplier * tier.maint_margin_rate
    return slope > 0


def bybit_isolated_liquidation_price(
    qty: Decimal,
    entry: Decimal,
    margin: Decimal,
    tiers: Sequence[MarginTier],
    multiplier: Decimal = ONE,
) -> Decimal | None:
    """Bybit's convention for an isolated USDT contract: maintenance margin valued at the *entry*
    position value, so ``LP = entry -/+ (margin - MM_entry) / size`` (``margin`` = initial margin
    plus extra margin less fees taken from it). Binance values maintenance at the liquidation
    price itself (:func:`liquidation_price`); the two differ by a few ticks. Atlas's engine uses
    Binance's; this one is here to reproduce and compare Bybit's published figures."""
    value = abs(qty) * entry * multiplier
    return isolated_bankruptcy_price(
        qty, entry, margin - maintenance_margin(tiers, value), multiplier
    )
