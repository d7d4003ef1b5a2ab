"""Fills from an order book (L2): a taker walks the opposite side level by level.

A buy takes the asks from the best (lowest) up, a sell the bids from the best (highest) down,
never beyond ``limit`` (a limit order's price or a market order's protection price). Each level
gives one fill at its price; the VWAP is their notional over their quantity; whatever the visible
depth (or the limit) cannot give is the ``leftover``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from atlas_oms.model.enums import Side

ZERO = Decimal(0)

Level = tuple[Decimal, Decimal]


class BookWalk(NamedTuple):
    fills: tuple[Level, ...]
    filled: Decimal
    leftover: Decimal
    #: What the book still shows on that side afterwards (the taken depth removed).
    remaining: tuple[Level, ...]

    @property
    def vwap(self) -> Decimal | None:
        if not self.filled:
            return None
        return sum((p * q for p, q in self.fills), ZERO) / self.filled


def crosses(side: Side, level_price: Decimal, limit: Decimal | None) -> bool:
    """Whether an order of ``side`` with ``limit`` may take a level at ``level_price``."""
    if limit is None:
        return True
    return level_price <= limit if side is Side.BUY else level_price >= limit


def walk(
    levels: tuple[Level, ...], side: Side, qty: Decimal, limit: Decimal | None = None
) -> BookWalk:
    """Take up to ``qty`` from ``levels`` (the side opposite ``side``, best first)."""
    fills: list[Level] = []
    left = qty
    i = 0
    n = len(levels)
    remaining: list[Level] = []
    while i < n and left > 0:
        price, size = levels[i]
        if not crosses(side, price, limit):
            break
        take = size if size <= left else left
        if take > 0:
            fills.append((price, take))
            left -= take
        if take < size:
            remaining.append((price, size - take))
        i += 1
    remaining.extend(levels[i:])
    return BookWalk(tuple(fills), qty - left, left, tuple(remaining))


def available(levels: tuple[Level, ...], side: Side, limit: Decimal | None = None) -> Decimal:
    """The visible quantity an order of ``side`` could take within ``limit``."""
    total = ZERO
    for price, size in levels:
        if not crosses(side, price, limit):
            break
        total += size
    return total


def level_qty(levels: tuple[Level, ...], price: Decimal) -> Decimal:
    """The visible quantity at exactly ``price`` on one side (0 if none)."""
    for p, q in levels:
        if p == price:
            return q
    return ZERO
