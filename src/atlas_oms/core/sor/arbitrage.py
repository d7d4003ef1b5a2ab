"""Arbitrage detection on a consolidated book (issue 16, MD-1/VEN-5): pure and deterministic.

:func:`find_arbitrage` finds every ordered pair of venue instruments where one's best bid beats
the other's best ask by more than both taker fees plus a threshold, and sizes it by walking both
books while each further unit is still profitable. :class:`ArbitrageTracker` turns successive
results into ``NoteArbitrage`` commands: only a new, changed or ended opportunity is one (the
runtime's consolidated-book watcher calls it on each book change and submits what it returns).

The watcher's call (stable)::

    tracker = ArbitrageTracker(threshold_bps=Decimal("5"))
    for command in tracker.update(route_book, fees):   # fees: {symbol: taker fee} or candidates
        node.process(command)

``fees`` gives each venue instrument's taker fee: a mapping ``symbol -> fee`` or the router's
candidates (``route_candidates(state, account, side, book)``; the lowest fee among a symbol's
usable candidates, skipped ones left out). A book without a fee, without a quote rate or older
than ``book.stale_ns`` is not used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from atlas_oms.core.decimals import round_money
from atlas_oms.core.sor.allocate import is_stale
from atlas_oms.core.sor.candidates import quote_rate
from atlas_oms.model.commands_sor import NoteArbitrage
from atlas_oms.model.route_book import BookLevel, RouteBook
from atlas_oms.model.route_decision import ArbOpportunity, RouteCandidate

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)
NEW, CHANGED, ENDED = "NEW", "CHANGED", "ENDED"


def _fees(
    book: RouteBook, fees: Mapping[str, Decimal] | Sequence[RouteCandidate]
) -> dict[str, tuple[Decimal, Decimal | None]]:
    """symbol -> (taker fee, quote rate): a candidate's own rate, else the rate of the quote the
    symbol names."""
    if isinstance(fees, Mapping):
        return {s: (f, quote_rate(book, _quote(book, s))) for s, f in fees.items()}
    out: dict[str, tuple[Decimal, Decimal | None]] = {}
    for c in fees:
        if c.skipped:
            continue
        now = out.get(c.symbol)
        if now is None or c.taker_fee < now[0]:
            out[c.symbol] = (c.taker_fee, c.rate)
    return out


def find_arbitrage(
    book: RouteBook,
    fees: Mapping[str, Decimal] | Sequence[RouteCandidate],
    threshold_bps: Decimal = ZERO,
) -> list[ArbOpportunity]:
    """Every opportunity in ``book``, the most profitable first (ties: buy then sell symbol).

    A pair (buy on A, sell on B) is one when ``bid_B x rate_B x (1 - fee_B) - ask_A x rate_A x
    (1 + fee_A) > ask_A x rate_A x threshold_bps / 10 000``; its size is what both books show
    while that still holds level by level. Each pair is sized on its own: two opportunities may
    count the same level."""
    fee_of = _fees(book, fees)
    sides: list[
        tuple[str, str, Decimal, Decimal, tuple[BookLevel, ...], tuple[BookLevel, ...]]
    ] = []
    for vb in book.books:
        fee, rate = fee_of.get(vb.symbol, (ZERO, None))
        if rate is None or is_stale(book, vb):
            continue
        sides.append((vb.venue, vb.symbol, fee, rate, vb.asks, vb.bids))
    th = threshold_bps / BPS
    out: list[ArbOpportunity] = []
    for a_venue, a_sym, a_fee, a_rate, asks, _ in sides:
        if not asks:
            continue
        for b_venue, b_sym, b_fee, b_rate, _, bids in sides:
            if b_sym == a_sym or not bids:
                continue
            opp = _pair(
                book.symbol,
                a_venue,
                a_sym,
                a_fee,
                a_rate,
                asks,
                b_venue,
                b_sym,
                b_fee,
                b_rate,
                bids,
                th,
            )
            if opp is not None:
                out.append(opp)
    out.sort(key=lambda o: (-o.expected_profit, o.buy_symbol, o.sell_symbol))
    return out


def _quote(book: RouteBook, symbol: str) -> str:
    """A venue symbol's quote currency, read from the symbol (``BTC/KRW@upbit`` -> ``KRW``;
    ``BTC/USDT:USDT`` -> ``USDT``); the book's own quote when it names none."""
    pair = symbol.partition("@")[0].partition(":")[0]
    _, slash, quote = pair.partition("/")
    return quote if slash and quote else book.quote


def _pair(
    symbol: str,
    a_venue: str,
    a_sym: str,
    a_fee: Decimal,
    a_rate: Decimal,
    asks: tuple[BookLevel, ...],
    b_venue: str,
    b_sym: str,
    b_fee: Decimal,
    b_rate: Decimal,
    bids: tuple[BookLevel, ...],
    th: Decimal,
) -> ArbOpportunity | None:
    buy_f = a_rate * (ONE + a_fee)
    sell_f = b_rate * (ONE - b_fee)
    i = j = 0
    ask_left = asks[0].qty
    bid_left = bids[0].qty
    qty = profit = ZERO
    top_edge: Decimal | None = None
    last_i = last_j = 0
    while i < len(asks) and j < len(bids):
        ask = asks[i].price
        bid = bids[j].price
        ask_ref = ask * a_rate
        edge = bid * sell_f - ask * buy_f
        if edge <= ask_ref * th:
            break
        if top_edge is None:
            top_edge = edge / ask_ref * BPS
        take = min(ask_left, bid_left)
        last_i, last_j = i, j
        qty += take
        profit += take * edge
        ask_left -= take
        bid_left -= take
        if ask_left <= 0:
            i += 1
            ask_left = asks[i].qty if i < len(asks) else ZERO
        if bid_left <= 0:
            j += 1
            bid_left = bids[j].qty if j < len(bids) else ZERO
    if top_edge is None or qty <= 0:
        return None
    return ArbOpportunity(
        symbol=symbol,
        buy_venue=a_venue,
        buy_symbol=a_sym,
        sell_venue=b_venue,
        sell_symbol=b_sym,
        buy_px=asks[0].price,
        sell_px=bids[0].price,
        buy_limit=asks[last_i].price,
        sell_limit=bids[last_j].price,
        qty=qty,
        edge_bps=round_money(top_edge, ROUND_HALF_EVEN),
        expected_profit=round_money(profit, ROUND_HALF_EVEN),
        buy_fee=a_fee,
        sell_fee=b_fee,
    )


class ArbitrageTracker:
    """The debounce rule: only a new, changed (prices or size) or ended opportunity becomes a
    ``NoteArbitrage`` command. Deterministic: the same books in the same order give the same
    commands. One tracker per unified symbol (or one for all: opportunities are keyed by
    ``(symbol, buy symbol, sell symbol)``)."""

    __slots__ = ("live", "threshold_bps")

    def __init__(self, threshold_bps: Decimal = ZERO) -> None:
        self.threshold_bps = threshold_bps
        self.live: dict[tuple[str, str, str], ArbOpportunity] = {}

    def update(
        self, book: RouteBook, fees: Mapping[str, Decimal] | Sequence[RouteCandidate]
    ) -> list[NoteArbitrage]:
        """The commands for ``book`` (stamped ``book.ts``): NEW and CHANGED in the order
        :func:`find_arbitrage` gives, then ENDED by key."""
        found = find_arbitrage(book, fees, self.threshold_bps)
        return self.changes(book.symbol, book.ts, found)

    def changes(self, symbol: str, ts: int, found: list[ArbOpportunity]) -> list[NoteArbitrage]:
        """The commands that take the tracker from what it knew of ``symbol`` to ``found``."""
        out: list[NoteArbitrage] = []
        seen: set[tuple[str, str, str]] = set()
        for opp in found:
            key = (symbol, opp.buy_symbol, opp.sell_symbol)
            seen.add(key)
            before = self.live.get(key)
            if before is None:
                status = NEW
            elif (
                before.buy_px,
                before.sell_px,
                before.qty,
                before.buy_limit,
                before.sell_limit,
            ) != (
                opp.buy_px,
                opp.sell_px,
                opp.qty,
                opp.buy_limit,
                opp.sell_limit,
            ):
                status = CHANGED
            else:
                continue
            self.live[key] = opp
            out.append(NoteArbitrage(ts=ts, symbol=symbol, status=status, opportunity=opp))
        for key in sorted(k for k in self.live if k[0] == symbol and k not in seen):
            out.append(
                NoteArbitrage(ts=ts, symbol=symbol, status=ENDED, opportunity=self.live.pop(key))
            )
        return out
