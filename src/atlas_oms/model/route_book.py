"""Venue order books as the smart order router sees them (issue 16, MD-1 and VEN-5).

A :class:`VenueBook` is one venue's book of one instrument, in the venue's own quote currency and
with Atlas's symbol for the instrument (``BTC/USDT@bybit``; see ``runtime/gateway/qualified.py``).
Adapters stream them (``core/ports.py::VenueBooks``), the built-in exchange's book is read the same
way, and the runtime's consolidated book (``runtime/market/consolidated.py``) keeps the latest of
each. A :class:`RouteBook` is the snapshot handed to the core when an order is routed: the books
of every venue listing the unified symbol, the quote conversions in force, and the runtime's facts
about the accounts the order may use. The core decides from it alone (deterministic), and the
decision event records what it saw.

The unified symbol of an Atlas symbol is the part before ``@`` (:func:`unified_symbol`).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = [
    "AccountFee",
    "BookLevel",
    "QuoteRate",
    "RouteBook",
    "VenueBook",
    "unified_symbol",
]


def unified_symbol(symbol: str) -> str:
    """``BTC/USDT@bybit`` -> ``BTC/USDT`` (a symbol without a venue suffix is its own)."""
    return symbol.partition("@")[0]


class BookLevel(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One price level: ``qty`` in base units (contracts already multiplied out) at ``price``
    (venue quote currency)."""

    price: Decimal
    qty: Decimal


class VenueBook(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One venue's book of one instrument, best level first on each side (bids descending, asks
    ascending). ``ts`` is when the venue (or the receiving runtime, when the venue gives no time)
    stamped it, in ns; ``update_id`` the venue's sequence number when it has one."""

    venue: str
    symbol: str
    bids: tuple[BookLevel, ...] = ()
    asks: tuple[BookLevel, ...] = ()
    ts: int = 0
    update_id: int = 0


class QuoteRate(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One unit of ``quote`` is worth ``rate`` units of the route's reference quote currency."""

    quote: str
    rate: Decimal


class AccountFee(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """An account's own fee tier at a venue (``accounts.yaml`` ``fees:``): it replaces the
    instrument's maker/taker fees for that (venue, account) when the router weighs prices."""

    venue: str
    account_id: str
    maker: Decimal
    taker: Decimal


class RouteBook(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What the router may use for one decision on unified ``symbol`` (reference quote ``quote``).

    ``books``: the latest book of each venue instrument of the symbol (any quote currency with a
    rate in ``rates``; the reference quote itself needs none). ``accounts``: the accounts the
    order may be spread over, in the strategy's routing order (empty: the order's own account
    only). ``throttled``: ``"venue/account"`` pairs with no rate-limit budget left now (the
    router skips them). ``stale_ns``: books older than ``ts - stale_ns`` are not used (0: no
    limit). ``fees``: the accounts' own fee tiers (optional; without one the instrument's fees
    apply)."""

    symbol: str
    quote: str
    ts: int
    books: tuple[VenueBook, ...] = ()
    rates: tuple[QuoteRate, ...] = ()
    accounts: tuple[str, ...] = ()
    throttled: tuple[str, ...] = ()
    stale_ns: int = 0
    fees: tuple[AccountFee, ...] = ()
