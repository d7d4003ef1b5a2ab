"""The consolidated order book (issue 16, MD-1): the latest :class:`VenueBook` of every venue
instrument, grouped by base asset across quote currencies.

A *group* is every Atlas instrument with the same base asset and contract kind: ``BTC/USDT``
(Binance), ``BTC/USDT@bybit``, ``BTC/USD@alpaca`` and ``BTC/KRW@upbit`` are one group; the
perpetual ``BTC/USDT:USDT`` is another (a swap is not a spot book). A view of the group is asked
for by a unified symbol; its prices are normalized to the group's *reference quote* (configured
per base asset, else the asked symbol's quote) through the configured conversions
(:class:`~atlas_oms.runtime.market.config.MarketDataConfig` ``rates``); a venue whose quote has
no conversion is left out of the views.

:meth:`ConsolidatedBook.apply` is on the market-data path and only stores the book (an older
``update_id`` of the same instrument is dropped). The views (:meth:`levels`, :meth:`best`,
:meth:`route_book`) do the work when read; before each, the *refreshers* run (the built-in
exchange's book is pushed in by one, :mod:`atlas_oms.runtime.market.sim_books`).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Literal

import msgspec

from atlas_oms.model.instrument import Instrument
from atlas_oms.model.route_book import QuoteRate, RouteBook, VenueBook, unified_symbol
from atlas_oms.runtime.market.config import MarketDataConfig

__all__ = [
    "BookSide",
    "ConsolidatedBook",
    "MergedLevel",
    "VenueBest",
    "group_of",
    "split_symbol",
]

BookSide = Literal["bid", "ask"]
ONE = Decimal(1)
ZERO = Decimal(0)
#: (venue, account) pairs -> the ``"venue/account"`` ones with no rate-limit budget left now.
Throttled = Callable[[Sequence[tuple[str, str]]], tuple[str, ...]]
#: (strategy, venues of the group) -> the (venue, account) pairs it may spread over, in order.
StrategyAccounts = Callable[[str, Sequence[str]], list[tuple[str, str]]]


def split_symbol(symbol: str) -> tuple[str, str, str]:
    """``BTC/USDT@bybit`` -> (``BTC``, ``USDT``, ``""``); ``BTC/USDT:USDT`` -> (``BTC``,
    ``USDT``, ``:USDT``); ``AAPL`` -> (``AAPL``, ``""``, ``""``)."""
    unified = unified_symbol(symbol)
    pair, colon, settle = unified.partition(":")
    base, _, quote = pair.partition("/")
    return base, quote, colon + settle


def group_of(symbol: str) -> str:
    """The group key of a symbol: its base asset and contract kind (``BTC``, ``BTC:USDT``)."""
    base, _, kind = split_symbol(symbol)
    return base + kind


class MergedLevel(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One level of one venue in a merged view: ``price`` in the venue's ``quote``,
    ``normalized`` in the reference quote, ``fee_adjusted`` the normalized price with the
    account's taker fee (an ask costs more, a bid yields less; = ``normalized`` without an
    account), ``qty`` in base units."""

    venue: str
    symbol: str
    quote: str
    price: Decimal
    normalized: Decimal
    fee_adjusted: Decimal
    qty: Decimal
    fee_rate: Decimal = ZERO


class VenueBest(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One venue instrument's top of book (prices in its quote and normalized), its age and
    whether it is stale (older than the configured ``stale_ms``)."""

    venue: str
    symbol: str
    quote: str
    bid: Decimal | None
    bid_qty: Decimal | None
    ask: Decimal | None
    ask_qty: Decimal | None
    bid_normalized: Decimal | None
    ask_normalized: Decimal | None
    ts: int
    age_ns: int
    stale: bool


class ConsolidatedBook:
    """See the module doc. ``instruments`` looks up an Atlas symbol's instrument (its quote and
    taker fee); ``now`` is the clock the ages and the route book's ``ts`` are read from."""

    def __init__(
        self,
        config: MarketDataConfig | None = None,
        *,
        instruments: Callable[[str], Instrument | None] | None = None,
        now: Callable[[], int] = time.time_ns,
        strategy_accounts: StrategyAccounts | None = None,
        throttled: Throttled | None = None,
    ) -> None:
        self.config = config or MarketDataConfig()
        self.instruments = instruments or (lambda _s: None)
        self.now = now
        self.strategy_accounts = strategy_accounts
        self.throttled = throttled
        #: Called before every view (the built-in exchange's book is pushed in by one).
        self.refreshers: list[Callable[[], object]] = []
        self._books: dict[str, VenueBook] = {}
        #: group key -> its Atlas symbols, in the order first seen
        self._groups: dict[str, list[str]] = {}
        #: Atlas symbol -> its quote currency
        self._quotes: dict[str, str] = {}
        #: Bumped by every stored book (a reader can tell whether anything changed).
        self.version = 0
        #: Venues whose kept book is always current (the built-in exchange: in-process, pushed
        #: on change): never stale, their age 0, stamped ``now`` in a route book.
        self.live_venues: set[str] = set()

    # ------------------------------------------------------------------ the market-data path
    def apply(self, book: VenueBook) -> bool:
        """Keep ``book`` as its instrument's latest; False when it is older than the one kept
        (a lower ``update_id`` from the same venue)."""
        symbol = book.symbol
        known = self._books.get(symbol)
        if known is None:
            if symbol not in self._quotes:
                self._add_symbol(symbol)
        elif book.update_id and known.update_id > book.update_id and known.venue == book.venue:
            return False
        self._books[symbol] = book
        self.version += 1
        return True

    def remove(self, symbol: str) -> None:
        """Forget an instrument's book (its venue went away)."""
        self._books.pop(symbol, None)
        self.version += 1

    def _add_symbol(self, symbol: str) -> None:
        inst = self.instruments(symbol)
        quote = inst.quote if inst is not None else split_symbol(symbol)[1]
        self._quotes[symbol] = quote
        self._groups.setdefault(group_of(symbol), []).append(symbol)

    # ------------------------------------------------------------------ views
    def refresh(self) -> None:
        for refresher in self.refreshers:
            refresher()

    def reference_quote(self, symbol: str) -> str:
        base, quote, _ = split_symbol(symbol)
        if not quote:
            inst = self.instruments(symbol)
            quote = inst.quote if inst is not None else ""
        return self.config.reference.get(base, quote)

    def symbols(self, symbol: str) -> list[str]:
        """The Atlas symbols of ``symbol``'s group that have a book."""
        return [s for s in self._groups.get(group_of(symbol), ()) if s in self._books]

    def book(self, symbol: str) -> VenueBook | None:
        """The latest book of one Atlas instrument (no refresh)."""
        return self._books.get(symbol)

    def _members(self, symbol: str, fresh_only: bool) -> list[tuple[VenueBook, str, Decimal]]:
        """(book, quote, rate to the reference quote) of the group, by venue then symbol."""
        self.refresh()
        reference = self.reference_quote(symbol)
        stale_ns = self.config.stale_ns
        now = self.now()
        cutoff = now - stale_ns if (fresh_only and stale_ns) else None
        out = []
        for s in self._groups.get(group_of(symbol), ()):
            book = self._books.get(s)
            if book is None:
                continue
            if book.venue in self.live_venues:
                if book.ts != now:
                    book = msgspec.structs.replace(book, ts=now)
            elif cutoff is not None and book.ts < cutoff:
                continue
            quote = self._quotes[s]
            rate = self.config.rate(quote, reference)
            if rate is not None:
                out.append((book, quote, rate))
        out.sort(key=lambda m: (m[0].venue, m[0].symbol))
        return out

    def taker_fee(self, account_id: str, venue: str, symbol: str) -> Decimal:
        """The account's taker fee at ``venue`` (its configured tier, else the instrument's)."""
        tier = self.config.fees.get(account_id, {}).get(venue)
        if tier is not None:
            return tier.taker
        inst = self.instruments(symbol)
        return inst.taker_fee if inst is not None else ZERO

    def levels(
        self,
        symbol: str,
        side: BookSide,
        depth: int = 10,
        account_id: str | None = None,
    ) -> list[MergedLevel]:
        """The group's ``side`` levels merged, best first (by fee-adjusted price with an
        account, else by normalized price; ties by venue name), at most ``depth``. Stale books
        are left out."""
        bid = side == "bid"
        per_book: list[list[MergedLevel]] = []
        for book, quote, rate in self._members(symbol, fresh_only=True):
            fee = (
                ZERO if account_id is None else self.taker_fee(account_id, book.venue, book.symbol)
            )
            factor = (ONE - fee) if bid else (ONE + fee)
            out = []
            for level in (book.bids if bid else book.asks)[:depth]:
                normalized = level.price * rate
                out.append(
                    MergedLevel(
                        venue=book.venue,
                        symbol=book.symbol,
                        quote=quote,
                        price=level.price,
                        normalized=normalized,
                        fee_adjusted=normalized * factor if fee else normalized,
                        qty=level.qty,
                        fee_rate=fee,
                    )
                )
            if out:
                per_book.append(out)
        merged = heapq.merge(*per_book, key=_fee_adjusted, reverse=bid)
        return [level for level, _ in zip(merged, range(depth), strict=False)]

    def best(self, symbol: str) -> list[VenueBest]:
        """Each venue instrument's top of book in ``symbol``'s group (stale ones included and
        marked)."""
        now = self.now()
        stale_ns = self.config.stale_ns
        out = []
        for book, quote, rate in self._members(symbol, fresh_only=False):
            b = book.bids[0] if book.bids else None
            a = book.asks[0] if book.asks else None
            age = max(0, now - book.ts) if book.ts else 0
            out.append(
                VenueBest(
                    venue=book.venue,
                    symbol=book.symbol,
                    quote=quote,
                    bid=None if b is None else b.price,
                    bid_qty=None if b is None else b.qty,
                    ask=None if a is None else a.price,
                    ask_qty=None if a is None else a.qty,
                    bid_normalized=None if b is None else b.price * rate,
                    ask_normalized=None if a is None else a.price * rate,
                    ts=book.ts,
                    age_ns=age,
                    stale=bool(stale_ns) and age > stale_ns,
                )
            )
        return out

    def route_book(
        self, symbol: str, account_id: str | None = None, strategy: str | None = None
    ) -> RouteBook:
        """The snapshot the router decides from (``model/route_book.py::RouteBook``): every
        book of the group with a known conversion (stale ones too: the router leaves out those
        older than ``stale_ns``), the conversions, the strategy's accounts (``accounts.yaml``
        ``account_routing.strategies``; none without a strategy: the order's own account) and
        which of them, with ``account_id``, have no rate-limit budget left."""
        unified = unified_symbol(symbol)
        reference = self.reference_quote(unified)
        members = self._members(unified, fresh_only=False)
        rates = sorted({(q, r) for _, q, r in members if q != reference})
        venues = sorted({b.venue for b, _, _ in members})
        pairs: list[tuple[str, str]] = []
        if strategy is not None and self.strategy_accounts is not None:
            pairs = self.strategy_accounts(strategy, venues)
        accounts = tuple(a for _, a in pairs)
        throttled: tuple[str, ...] = ()
        if self.throttled is not None:
            check = list(pairs)
            if account_id is not None and account_id not in accounts:
                check += [(v, account_id) for v in venues]
            throttled = self.throttled(check) if check else ()
        return RouteBook(
            symbol=unified,
            quote=reference,
            ts=self.now(),
            books=tuple(b for b, _, _ in members),
            rates=tuple(QuoteRate(q, r) for q, r in rates),
            accounts=accounts,
            throttled=throttled,
            stale_ns=self.config.stale_ns,
        )


def _fee_adjusted(level: MergedLevel) -> Decimal:
    return level.fee_adjusted
