"""Queue position of a passive limit order: it fills only after the volume ahead of it traded.

When a limit order rests, the volume ahead of it is the visible quantity at its price on its own
side of the last book snapshot (0 without a book). Then, for a buy at ``P`` (a sell mirrors it):

- a trade print below ``P`` (through the price) fills it entirely; a print AT ``P`` first
  consumes the volume ahead, the excess fills the order;
- a book snapshot whose best ask is at or below ``P`` means the whole bid level was taken: it
  fills entirely; otherwise the volume ahead shrinks to the level's visible quantity when that is
  smaller (cancellations ahead of the order);
- a bar whose low is below ``P`` (strictly: traded through) fills it entirely; a bar whose low
  equals ``P`` (a touch) is counted as a print at ``P`` of the ESTIMATED volume at that price:
  ``bar.volume / (1 + (high - low) / tick)`` (the bar's volume spread evenly over the ticks of its
  range).

With the queue turned off a touch fills the order entirely (the optimistic classic backtest).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from atlas_oms.model.enums import Side
from atlas_oms.simulation.book_walk import level_qty
from atlas_oms.simulation.market import Bar, BookSnapshot

ZERO = Decimal(0)


class QueueStep(NamedTuple):
    """What one market event did to a resting order: ``filled`` now, ``ahead`` afterwards."""

    filled: Decimal
    ahead: Decimal


def own_side(book: BookSnapshot, side: Side) -> tuple[tuple[Decimal, Decimal], ...]:
    return book.bids if side is Side.BUY else book.asks


def other_side(book: BookSnapshot, side: Side) -> tuple[tuple[Decimal, Decimal], ...]:
    return book.asks if side is Side.BUY else book.bids


def initial_ahead(book: BookSnapshot | None, side: Side, price: Decimal) -> Decimal:
    """The volume ahead of a new resting order at ``price``: the visible level (0 without a book)."""
    if book is None:
        return ZERO
    return level_qty(own_side(book, side), price)


def _beyond(side: Side, market: Decimal, price: Decimal) -> bool:
    """Whether the market traded strictly through a resting ``side`` order at ``price``."""
    return market < price if side is Side.BUY else market > price


def at_price(leaves: Decimal, ahead: Decimal, volume: Decimal) -> QueueStep:
    """``volume`` traded at the order's price: it consumes the queue ahead, then the order."""
    if volume <= ahead:
        return QueueStep(ZERO, ahead - volume)
    rest = volume - ahead
    return QueueStep(rest if rest < leaves else leaves, ZERO)


def on_trade(
    side: Side,
    price: Decimal,
    leaves: Decimal,
    ahead: Decimal,
    trade_price: Decimal,
    trade_qty: Decimal,
    queue: bool = True,
) -> QueueStep:
    if _beyond(side, trade_price, price):
        return QueueStep(leaves, ZERO)
    if trade_price == price:
        return at_price(leaves, ahead, trade_qty) if queue else QueueStep(leaves, ZERO)
    return QueueStep(ZERO, ahead)


def on_book(
    side: Side,
    price: Decimal,
    leaves: Decimal,
    ahead: Decimal,
    book: BookSnapshot,
    queue: bool = True,
) -> QueueStep:
    opposite = other_side(book, side)
    if opposite:
        best = opposite[0][0]
        if best <= price if side is Side.BUY else best >= price:
            return QueueStep(leaves, ZERO)
    if not queue:
        return QueueStep(ZERO, ZERO)
    levels = own_side(book, side)
    if levels:
        worst = levels[-1][0]
        shown = price >= worst if side is Side.BUY else price <= worst
        if shown:  # the order's level is within the displayed depth
            visible = level_qty(levels, price)
            if visible < ahead:
                ahead = visible
    return QueueStep(ZERO, ahead)


def volume_at_touch(bar: Bar, tick: Decimal) -> Decimal:
    """The estimated volume a bar traded at one price of its range."""
    ticks = (bar.high - bar.low) / tick
    return bar.volume / (1 + ticks)


def on_bar(
    side: Side,
    price: Decimal,
    leaves: Decimal,
    ahead: Decimal,
    bar: Bar,
    tick: Decimal,
    queue: bool = True,
) -> QueueStep:
    extreme = bar.low if side is Side.BUY else bar.high
    if _beyond(side, extreme, price):
        return QueueStep(leaves, ZERO)
    if extreme == price:
        if not queue:
            return QueueStep(leaves, ZERO)
        return at_price(leaves, ahead, volume_at_touch(bar, tick))
    return QueueStep(ZERO, ahead)
