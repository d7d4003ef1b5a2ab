"""Market data as the simulation sees it: bars, trade prints and order-book snapshots.

These are the only inputs of the simulated venue and of the market driver, whatever their source
(a data file in a backtest, a venue adapter's public stream or a recorded feed in paper mode), so
the same data gives the same decisions in both modes. Prices and quantities are ``Decimal``;
``ts`` is nanoseconds since the epoch (a bar's ``ts`` is its *close* time: the moment its numbers
are known; ``start_ns`` is when it opened).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.model.enums import Side


class Bar(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One complete OHLCV bar of ``symbol`` covering ``[start_ns, ts)``."""

    symbol: str
    start_ns: int
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)


class TradePrint(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One public trade: ``side`` is the aggressor's side when the source says it (None if not)."""

    symbol: str
    ts: int
    price: Decimal
    qty: Decimal
    side: Side | None = None


class BookSnapshot(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The visible book of ``symbol`` (best first on each side: ``(price, qty)``); a book ticker
    is a snapshot with one level a side."""

    symbol: str
    ts: int
    bids: tuple[tuple[Decimal, Decimal], ...] = ()
    asks: tuple[tuple[Decimal, Decimal], ...] = ()


#: Everything the driver and the simulated venue accept.
MarketEvent = Bar | TradePrint | BookSnapshot
