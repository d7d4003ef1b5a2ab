"""What the smart order router decided, and from what (issue 16, VEN-5).

The core's router (``core/sor/``) turns a :class:`~atlas_oms.model.route_book.RouteBook` and the
account facts in the state into :class:`RouteCandidate` s (one per venue instrument and account the
order may use) and then into a :class:`RouteDecision`: the child orders to send
(:class:`ChildAllocation`), what could not be placed, and what each candidate's book showed
(:class:`VenueSeen`). The decision is deterministic and is what an event records as the
best-execution rationale (for US equities, the prices seen at each venue when routed).

Units: quantities are in base units (a contract's quantity times its multiplier), except
:attr:`ChildAllocation.qty`, which is the child order's own quantity (contracts for a derivative
with a multiplier, base units otherwise). Venue prices are in the venue's quote currency; the
*reference quote* is :attr:`RouteBook.quote`; ``rate`` converts one unit of a venue's quote into it.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.model.enums import Side

__all__ = [
    "ArbOpportunity",
    "ChildAllocation",
    "RouteCandidate",
    "RouteDecision",
    "Skip",
    "VenueSeen",
]

ZERO = Decimal(0)
ONE = Decimal(1)


class Skip:
    """Why a candidate got nothing (:attr:`VenueSeen.skipped`); ``""`` when it was used."""

    STALE_BOOK = "STALE_BOOK"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    THROTTLED = "THROTTLED"
    NOT_TRADABLE = "NOT_TRADABLE"
    NO_BALANCE = "NO_BALANCE"
    NO_RATE = "NO_RATE"
    BELOW_MIN_QTY = "BELOW_MIN_QTY"
    BELOW_MIN_NOTIONAL = "BELOW_MIN_NOTIONAL"
    LIMIT_PRICE = "LIMIT_PRICE"
    #: The parent's earlier child on this venue account was rejected by the venue (a re-route
    #: leaves it out).
    VENUE_REJECTED = "VENUE_REJECTED"
    #: Its levels were worse than what filled the order first.
    NOT_NEEDED = "NOT_NEEDED"


class RouteCandidate(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One (venue instrument, account) the order may use.

    ``rate``: one unit of the venue's quote in the reference quote. ``buy_power``: the most
    notional (venue quote, taker fee included) the account can put on here, None when unlimited or
    not computable (spot buy: free quote balance; a linear derivative, either side: free settle
    margin x leverage; spot sell: None). ``sell_qty``: the most base units a spot sell may use (free
    base balance), None otherwise. ``rank``: the account's place in the routing order (lower
    first; breaks price ties). ``skipped``: set when the candidate may not be used at all
    (``THROTTLED``, ``NOT_TRADABLE``, ``NO_RATE``); it is then only reported in ``seen``.
    ``multiplier``: the instrument's contract size (order qty x multiplier = base units)."""

    venue: str
    symbol: str
    account_id: str
    taker_fee: Decimal
    maker_fee: Decimal
    rate: Decimal
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal = ZERO
    min_notional: Decimal = ZERO
    buy_power: Decimal | None = None
    sell_qty: Decimal | None = None
    rank: int = 0
    skipped: str = ""
    multiplier: Decimal = ONE


class ChildAllocation(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One child order: ``qty`` (order units, on the lot grid) of ``symbol`` on ``venue`` for
    ``account_id`` as a marketable limit at ``limit_price`` (venue quote, on the tick grid: the
    worst level walked). ``expected_avg_px``: venue quote, fees excluded. ``expected_cost``:
    reference quote, taker fee included (a buy: what it pays; a sell: what it receives net of the
    fee). ``levels``: how many of the venue's levels it walks. ``margin_qty``: the part of ``qty``
    (order units) beyond the venue's visible depth (the depth margin), priced at ``limit_price``."""

    venue: str
    symbol: str
    account_id: str
    qty: Decimal
    limit_price: Decimal
    expected_avg_px: Decimal
    expected_cost: Decimal
    fee_rate: Decimal
    levels: int
    margin_qty: Decimal = ZERO


class VenueSeen(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What one candidate's book showed when routed (venue quote; None when that side was empty),
    ``adjusted_px``: its best price on the side the order takes, converted to the reference quote
    and fee-adjusted (buy: px x (1 + taker); sell: px x (1 - taker)); ``depth_qty``: the base
    quantity it shows within the order's limit; ``used``; ``skipped``: why not (:class:`Skip`)."""

    venue: str
    symbol: str
    account_id: str
    best_bid: Decimal | None
    bid_qty: Decimal
    best_ask: Decimal | None
    ask_qty: Decimal
    adjusted_px: Decimal | None
    depth_qty: Decimal
    used: bool
    skipped: str = ""


class RouteDecision(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The router's decision for ``qty`` (base units) of unified ``symbol``.

    ``allocations``: the children, best first. ``unallocated``: base units no venue could take
    (within the limit, depth, margin, balances and filters). ``expected_avg_px``: reference quote,
    fees excluded (None when nothing was allocated). ``expected_cost``: reference quote, fees
    included (a sell: net proceeds). ``seen``: every candidate, in candidate order.
    ``book_ts``: the route book's time."""

    symbol: str
    side: Side
    qty: Decimal
    allocations: tuple[ChildAllocation, ...]
    unallocated: Decimal
    expected_avg_px: Decimal | None
    expected_cost: Decimal
    seen: tuple[VenueSeen, ...]
    book_ts: int
    limit_price: Decimal | None = None
    quote: str = ""


class ArbOpportunity(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A crossed consolidated book (MD-1, VEN-5): buying ``qty`` (base units) on ``buy_symbol``
    (venue ``buy_venue``) and selling it on ``sell_symbol`` earns more than both taker fees plus
    the threshold. ``buy_px``/``sell_px``: the best ask and bid (venue quotes); ``buy_limit``/
    ``sell_limit``: the worst levels the size walks (marketable limits for the two legs);
    ``edge_bps``: the top-of-book profit after fees in basis points of the ask (reference quote);
    ``expected_profit``: over ``qty``, reference quote, fees included."""

    symbol: str
    buy_venue: str
    buy_symbol: str
    sell_venue: str
    sell_symbol: str
    buy_px: Decimal
    sell_px: Decimal
    buy_limit: Decimal
    sell_limit: Decimal
    qty: Decimal
    edge_bps: Decimal
    expected_profit: Decimal
    buy_fee: Decimal = ZERO
    sell_fee: Decimal = ZERO

    @property
    def key(self) -> tuple[str, str]:
        """(buy symbol, sell symbol): one opportunity per ordered pair of venue instruments."""
        return (self.buy_symbol, self.sell_symbol)
