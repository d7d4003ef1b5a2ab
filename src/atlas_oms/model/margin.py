"""Derivatives margin reference data: margin modes and the tier ("bracket") table of an instrument.

A tier table is what Binance USDⓈ-M publishes as leverage brackets (``GET /fapi/v1/leverageBracket``)
and Bybit as risk limits: for each band of position notional, the maintenance margin rate, the
maintenance amount (Binance's ``cum``: the deduction that makes maintenance margin continuous from
one tier to the next) and the highest leverage allowed. :func:`parse_brackets` reads Binance's shape
(``atlas_oms.store.reference.load_brackets`` reads it from a file).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec

ZERO = Decimal(0)


class MarginMode(StrEnum):
    """How a derivative position is margined: on its own (ISOLATED) or by the whole account (CROSS)."""

    CROSS = "CROSS"
    ISOLATED = "ISOLATED"


class MarginTier(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One band of position notional: ``floor < notional <= cap`` (the first tier includes 0).

    ``cap`` None means no upper bound. Maintenance margin in the tier is
    ``notional * maint_margin_rate - maint_amount``.
    """

    bracket: int
    floor: Decimal
    cap: Decimal | None
    maint_margin_rate: Decimal
    maint_amount: Decimal
    max_leverage: Decimal


class BinanceBracket(msgspec.Struct, kw_only=True):
    """One entry of Binance's leverage-bracket response (field names as Binance spells them)."""

    bracket: int
    initialLeverage: Decimal  # Binance spells them in camelCase
    notionalCap: Decimal
    notionalFloor: Decimal
    maintMarginRatio: Decimal
    cum: Decimal = ZERO


class BinanceSymbolBrackets(msgspec.Struct, kw_only=True):
    symbol: str
    brackets: list[BinanceBracket]
    notionalCoef: Decimal | None = None


def validate_tiers(tiers: Sequence[MarginTier], name: str = "") -> tuple[MarginTier, ...]:
    """Check a tier table and return it as a tuple; raise ``ValueError`` with the reason if bad.

    Tiers must be contiguous from 0, with growing caps, positive leverage that never rises, rates in
    [0, 1), and maintenance amounts that keep maintenance margin continuous at every boundary.
    """
    where = f"{name}: " if name else ""
    if not tiers:
        raise ValueError(f"{where}a tier table needs at least one tier")
    out = tuple(sorted(tiers, key=lambda t: t.floor))
    if out[0].floor != 0:
        raise ValueError(f"{where}the first tier must start at notional 0")
    for i, tier in enumerate(out):
        if not (ZERO <= tier.maint_margin_rate < 1):
            raise ValueError(f"{where}tier {tier.bracket}: maintenance rate must be in [0, 1)")
        if tier.max_leverage < 1:
            raise ValueError(f"{where}tier {tier.bracket}: maximum leverage must be at least 1")
        if tier.cap is not None and tier.cap <= tier.floor:
            raise ValueError(f"{where}tier {tier.bracket}: cap must be above its floor")
        if i:
            prev = out[i - 1]
            if prev.cap != tier.floor:
                raise ValueError(
                    f"{where}tier {tier.bracket} starts at {tier.floor}, "
                    f"not where tier {prev.bracket} ends ({prev.cap})"
                )
            if tier.max_leverage > prev.max_leverage:
                raise ValueError(f"{where}tier {tier.bracket}: maximum leverage may not rise")
            # Continuity: floor*rate - amount equals the previous tier's value at the same notional.
            here = tier.floor * tier.maint_margin_rate - tier.maint_amount
            before = tier.floor * prev.maint_margin_rate - prev.maint_amount
            if here != before:
                raise ValueError(
                    f"{where}tier {tier.bracket}: maintenance amount {tier.maint_amount} leaves a "
                    f"jump at notional {tier.floor} ({before} below, {here} above)"
                )
        elif tier.maint_amount != 0:
            raise ValueError(f"{where}the first tier's maintenance amount must be 0")
    if out[-1].cap is not None:
        pass  # a last cap is the largest position allowed; notional above it is refused
    return out


def from_binance(entry: BinanceSymbolBrackets) -> tuple[MarginTier, ...]:
    tiers = [
        MarginTier(
            bracket=b.bracket,
            floor=b.notionalFloor,
            cap=b.notionalCap,
            maint_margin_rate=b.maintMarginRatio,
            maint_amount=b.cum,
            max_leverage=b.initialLeverage,
        )
        for b in entry.brackets
    ]
    return validate_tiers(tiers, entry.symbol)


def parse_brackets(data: bytes | str) -> dict[str, tuple[MarginTier, ...]]:
    """Parse Binance leverage-bracket JSON (a list of ``{"symbol", "brackets": [...]}``, or one such
    object) into tier tables by symbol. Numbers are read exactly, as decimals."""
    # Decoded straight into the typed structs: JSON numbers become Decimals from their text, never
    # through a binary float.
    decoded = msgspec.json.decode(data, type=list[BinanceSymbolBrackets] | BinanceSymbolBrackets)
    entries = decoded if isinstance(decoded, list) else [decoded]
    return {entry.symbol: from_binance(entry) for entry in entries}


def single_tier(maint_margin_rate: Decimal, max_leverage: Decimal) -> tuple[MarginTier, ...]:
    """A table of one unbounded tier (for instruments that publish no tiers)."""
    return (
        MarginTier(
            bracket=1,
            floor=ZERO,
            cap=None,
            maint_margin_rate=maint_margin_rate,
            maint_amount=ZERO,
            max_leverage=max_leverage,
        ),
    )


def tiers_from_rows(rows: Iterable[tuple[Any, ...]]) -> tuple[MarginTier, ...]:
    """Build a table from ``(floor, cap, rate, amount, max_leverage)`` rows (strings or numbers)."""
    tiers = []
    for i, (floor, cap, rate, amount, lev) in enumerate(rows, start=1):
        tiers.append(
            MarginTier(
                bracket=i,
                floor=Decimal(str(floor)),
                cap=None if cap is None else Decimal(str(cap)),
                maint_margin_rate=Decimal(str(rate)),
                maint_amount=Decimal(str(amount)),
                max_leverage=Decimal(str(lev)),
            )
        )
    return validate_tiers(tiers)
