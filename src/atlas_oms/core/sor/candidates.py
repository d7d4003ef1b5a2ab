"""The (venue instrument, account) pairs an order may be routed to, from a route book and the
state: fees, quote conversion, venue filters and the account's capacity there."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.venues.status import venue_refusal
from atlas_oms.model.enums import Side
from atlas_oms.model.route_book import RouteBook
from atlas_oms.model.route_decision import RouteCandidate, Skip

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State
    from atlas_oms.model.instrument import Instrument

ONE = Decimal(1)
ZERO = Decimal(0)


def quote_rate(book: RouteBook, quote: str) -> Decimal | None:
    """One unit of ``quote`` in the book's reference quote (1 for the reference itself); None
    when the book gives no rate for it."""
    if quote == book.quote:
        return ONE
    for r in book.rates:
        if r.quote == quote:
            return r.rate if r.rate > 0 else None
    return None


def capacity(
    state: State, account_id: str, inst: Instrument, side: Side
) -> tuple[Decimal | None, Decimal | None]:
    """(buy_power, sell_qty) of the account on the instrument (see :class:`RouteCandidate`).

    Spot: a buy is bounded by the free quote balance, a sell by the free base balance. A linear
    derivative (settled in its quote): free settle margin x the account's leverage bounds the
    notional on either side. An inverse derivative: not computed here (None: the risk check of
    each child order decides)."""
    if inst.is_derivative:
        if inst.settle_asset != inst.quote:
            return None, None
        lev = state.leverage_of(account_id, inst.symbol)
        return max(state.free(account_id, inst.settle_asset), ZERO) * lev, None
    if side is Side.BUY:
        return max(state.free(account_id, inst.quote), ZERO), None
    return None, max(state.free(account_id, inst.base), ZERO)


def route_candidates(
    state: State,
    account_id: str,
    side: Side,
    book: RouteBook,
    avoid: frozenset[str] = frozenset(),
) -> list[RouteCandidate]:
    """Every (venue instrument, account) of ``book``: one candidate per book whose instrument the
    engine knows and per account (``book.accounts``, else ``account_id`` alone) that exists.

    A candidate that may not be used carries ``skipped``: the instrument is not tradable or the
    venue account is not (``NOT_TRADABLE``; the built-in venue ``sim`` takes any account, a venue
    a gateway manages needs a tradable status, see ``core/venues/status.py``), it has no
    rate-limit budget (``THROTTLED``: ``venue/account`` in ``book.throttled``), or its quote has no
    conversion (``NO_RATE``), or ``"venue/account"`` is in ``avoid`` (``VENUE_REJECTED``: the
    parent's earlier child there was rejected by the venue). A venue account that a gateway
    manages (it has a venue status) trades only on its own venue: elsewhere (the built-in
    exchange) it is ``NOT_TRADABLE``, since its balances are the venue's. Fees: the account's
    tier in ``book.fees``, else the instrument's. Order: books as given, accounts in routing
    order (``rank``)."""
    accounts = book.accounts or (account_id,)
    throttled = set(book.throttled)
    home: dict[str, set[str]] = {}
    for venue, acc in state.venues.status:
        home.setdefault(acc, set()).add(venue)
    tiers = {(f.venue, f.account_id): f for f in book.fees}
    out: list[RouteCandidate] = []
    for vb in book.books:
        inst = state.instruments.get(vb.symbol)
        if inst is None:
            continue
        rate = quote_rate(book, inst.quote)
        for rank, acc in enumerate(accounts):
            if acc not in state.accounts:
                continue
            skipped = ""
            pair = f"{vb.venue}/{acc}"
            if (
                not inst.tradable
                or (acc in home and inst.venue not in home[acc])
                or venue_refusal(state, acc, inst) is not None
            ):
                skipped = Skip.NOT_TRADABLE
            elif pair in throttled:
                skipped = Skip.THROTTLED
            elif pair in avoid:
                skipped = Skip.VENUE_REJECTED
            elif rate is None:
                skipped = Skip.NO_RATE
            buy_power, sell_qty = capacity(state, acc, inst, side)
            tier = tiers.get((vb.venue, acc))
            out.append(
                RouteCandidate(
                    venue=vb.venue,
                    symbol=vb.symbol,
                    account_id=acc,
                    taker_fee=inst.taker_fee if tier is None else tier.taker,
                    maker_fee=inst.maker_fee if tier is None else tier.maker,
                    rate=rate if rate is not None else ZERO,
                    tick_size=inst.tick_size,
                    lot_size=inst.lot_size,
                    min_qty=inst.min_qty,
                    min_notional=inst.min_notional,
                    buy_power=buy_power,
                    sell_qty=sell_qty,
                    rank=rank,
                    skipped=skipped,
                    multiplier=inst.multiplier,
                )
            )
    return out
