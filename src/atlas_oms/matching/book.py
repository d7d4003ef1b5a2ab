"""Price-time-priority limit order book for one instrument: the built-in exchange's matcher.

The book is pure (no clock, no I/O, no randomness) and knows nothing of fees, ids or reports:
it takes orders and returns what matched. Prices and quantities are exact ``Decimal``; tick and
lot validation is the engine's job before the book is called.

Layout, chosen for the hot path:

- each side is a ``SortedDict`` price -> ``_Level``; the best level of each side is cached, so
  an order that hits the top of book touches no sorted container at all;
- a level is a ``deque`` of ``_Entry`` plus a running total and a live count;
- cancel is O(1) by lazy deletion: the entry is marked dead and dropped from the id index, and
  matching skips dead entries when it meets them; a level with nothing live is removed at once,
  and one that piles up dead entries behind a live one is compacted (amortised O(1)).

Icebergs (``display_qty``): an entry's ``qty`` is its visible part (the only part in its level's
total, so depth shows only that) and ``hidden`` the rest. When the visible part is filled the
entry is refilled from the hidden rest and moves to the back of its level (new time priority, as
on real exchanges); a taker still at that price meets it again there. Only that branch of the
matching loop looks at ``hidden``: ordinary orders pay nothing for it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import Any, NamedTuple

import msgspec
from sortedcontainers import SortedDict

from atlas_oms.model.enums import SelfTradePrevention, Side, TimeInForce

__all__ = [
    "REASON_FOK_NOT_FILLABLE",
    "REASON_IOC_REMAINDER",
    "REASON_MARKET_NO_LIQUIDITY",
    "REASON_MODIFY_TO_ZERO",
    "REASON_POST_ONLY_WOULD_TAKE",
    "REASON_SELF_TRADE_PREVENTED",
    "Fill",
    "ModifyResult",
    "OrderBook",
    "RestingOrder",
    "SubmitResult",
]

#: IOC (or a limit order that could not rest) left a remainder; it was canceled.
REASON_IOC_REMAINDER = "IOC_REMAINDER"
#: A market order ran out of liquidity; the unfilled remainder was canceled.
REASON_MARKET_NO_LIQUIDITY = "MARKET_NO_LIQUIDITY"
#: A fill-or-kill order could not be filled completely; nothing happened.
REASON_FOK_NOT_FILLABLE = "FOK_NOT_FILLABLE"
#: A post-only order (or a post-only modify) would have taken liquidity; nothing happened.
REASON_POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
#: The taker met its own resting order; self-trade prevention canceled the taker's remainder.
REASON_SELF_TRADE_PREVENTED = "SELF_TRADE_PREVENTED"
#: ``modify`` was asked for a leaves quantity <= 0, which cancels the order.
REASON_MODIFY_TO_ZERO = "MODIFY_TO_ZERO"

_ZERO = Decimal(0)
_BUY = Side.BUY
_SELL = Side.SELL
_GTC = TimeInForce.GTC
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
_CANCEL_TAKER = SelfTradePrevention.CANCEL_TAKER
_CANCEL_MAKER = SelfTradePrevention.CANCEL_MAKER
#: Compact a level's queue once it holds this many dead entries and more dead than live.
_COMPACT_MIN_DEAD = 32


class Fill(msgspec.Struct, frozen=True, gc=False):
    """One maker matched by the taker, at the maker's price."""

    maker_order_id: int
    maker_account_id: str
    price: Decimal
    qty: Decimal
    #: The maker's leaves after this fill (an iceberg's hidden part included); 0 means it is
    #: done and has left the book.
    maker_leaves_qty: Decimal
    #: An iceberg maker: which of its visible parts this fill took (0: the first shown, 1: the
    #: first refill, ...); with the maker and taker ids it names the fill uniquely.
    part: int = 0


class SubmitResult(msgspec.Struct, frozen=True, gc=False):
    """What ``submit`` did; always ``filled_qty + canceled_qty + leaves_qty == qty``."""

    fills: list[Fill]
    filled_qty: Decimal
    #: Quantity now resting in the book (0 unless ``rested``).
    leaves_qty: Decimal
    rested: bool
    #: Quantity that will never trade: IOC/market remainder, STP remainder, or the whole order
    #: when FOK or post-only refused it.
    canceled_qty: Decimal
    reason: str | None
    #: Makers removed by self-trade prevention: (maker_order_id, leaves_qty removed).
    stp_canceled: tuple[tuple[int, Decimal], ...] = ()


class ModifyResult(msgspec.Struct, frozen=True, gc=False):
    """What ``modify`` did to a resting order."""

    #: True when the order kept its place in the queue (in-place decrease, or refused/no-op).
    priority_kept: bool
    #: Fills made if the re-entered order crossed the book (it is the taker in those).
    fills: list[Fill]
    filled_qty: Decimal
    #: Quantity resting after the modify (0 if the order is no longer in the book).
    leaves_qty: Decimal
    rested: bool
    #: Quantity removed without trading: STP remainder of a re-entered order, or a cancel by
    #: ``new_leaves_qty <= 0``.
    canceled_qty: Decimal
    reason: str | None
    stp_canceled: tuple[tuple[int, Decimal], ...] = ()


class RestingOrder(NamedTuple):
    """A snapshot of one resting order; the fields are ``restore()``'s tuple, in its order."""

    order_id: int
    account_id: str
    side: Side
    price: Decimal
    leaves_qty: Decimal
    stp_key: str
    #: An iceberg's visible size (None: all of it shows).
    display_qty: Decimal | None = None
    #: What shows now (an iceberg's current visible part; else ``leaves_qty``).
    shown_qty: Decimal | None = None


class _Entry(msgspec.Struct, gc=False):
    """One resting order. Untracked by the cyclic GC: it holds only scalars, never its level."""

    order_id: int
    account_id: str
    side: Side
    price: Decimal
    qty: Decimal  # leaves (an iceberg: its visible part)
    stp_key: str
    live: bool = True
    #: An iceberg: the part not shown yet, its visible size and how many refills it had.
    hidden: Decimal = _ZERO
    display: Decimal = _ZERO
    part: int = 0


class _Level(msgspec.Struct, gc=False):
    """A price level: FIFO queue (with lazily deleted entries), live total and live count."""

    price: Decimal
    queue: deque[_Entry] = msgspec.field(default_factory=deque)
    total: Decimal = _ZERO
    live: int = 0
    dead: int = 0


class _Side:
    """One side of the book: levels by price and the cached best level."""

    __slots__ = ("best", "best_index", "is_bid", "levels")

    def __init__(self, is_bid: bool) -> None:
        self.levels: SortedDict = SortedDict()
        self.is_bid = is_bid
        self.best_index = -1 if is_bid else 0
        self.best: _Level | None = None

    def drop(self, level: _Level) -> None:
        levels = self.levels
        del levels[level.price]
        if self.best is level:
            self.best = levels.peekitem(self.best_index)[1] if levels else None

    def level_for(self, price: Decimal) -> _Level:
        level = self.levels.get(price)
        if level is None:
            level = _Level(price)
            self.levels[price] = level
            best = self.best
            if best is None or (price > best.price if self.is_bid else price < best.price):
                self.best = level
        return level

    def iter_levels(self) -> Iterator[_Level]:
        values = self.levels.values()
        return reversed(values) if self.is_bid else iter(values)


class OrderBook:
    """Price-time-priority limit order book for one instrument."""

    __slots__ = ("_asks", "_bids", "_orders", "stp", "symbol")

    def __init__(
        self, symbol: str, stp: SelfTradePrevention = SelfTradePrevention.CANCEL_TAKER
    ) -> None:
        self.symbol = symbol
        self.stp = SelfTradePrevention(stp)
        self._bids = _Side(is_bid=True)
        self._asks = _Side(is_bid=False)
        self._orders: dict[int, _Entry] = {}

    # ------------------------------------------------------------------ orders in

    def submit(
        self,
        order_id: int,
        account_id: str,
        side: Side,
        qty: Decimal,
        price: Decimal | None,
        tif: TimeInForce = _GTC,
        post_only: bool = False,
        stp_key: str | None = None,
        display_qty: Decimal | None = None,
    ) -> SubmitResult:
        """Match an order against the book and rest what is left if its time in force allows.

        ``price=None`` is a market order: it never rests. ``display_qty`` makes a resting order
        an iceberg: it takes liquidity with all of its quantity, then rests showing at most
        ``display_qty``. Raise ``ValueError`` for ``qty <= 0``, a ``display_qty <= 0`` or an
        ``order_id`` already resting (all the caller's bugs).
        """
        if qty <= _ZERO:
            raise ValueError(f"order {order_id}: qty must be positive, got {qty}")
        if display_qty is not None and not display_qty > _ZERO:
            raise ValueError(f"order {order_id}: display_qty must be positive, got {display_qty}")
        orders = self._orders
        if order_id in orders:
            raise ValueError(f"order {order_id} is already resting in {self.symbol}")
        if stp_key is None:
            stp_key = account_id
        is_buy = side == _BUY
        opp = self._asks if is_buy else self._bids
        level = opp.best

        if level is not None and price is not None:
            crosses = level.price <= price if is_buy else level.price >= price
            if not crosses:
                level = None
        if level is not None:
            if post_only:
                return SubmitResult([], _ZERO, _ZERO, False, qty, REASON_POST_ONLY_WOULD_TAKE)
            if tif == _FOK and not self._fillable(opp, is_buy, qty, price, stp_key):
                return SubmitResult([], _ZERO, _ZERO, False, qty, REASON_FOK_NOT_FILLABLE)
        elif tif == _FOK:
            return SubmitResult([], _ZERO, _ZERO, False, qty, REASON_FOK_NOT_FILLABLE)

        # ---- take liquidity: best level first, FIFO within a level, at the maker's price
        fills: list[Fill] = []
        remaining = qty
        stp_stopped = False
        stp_canceled: list[tuple[int, Decimal]] | None = None
        while level is not None:
            queue = level.queue
            level_price = level.price
            while queue:
                entry = queue[0]
                if not entry.live:
                    queue.popleft()
                    level.dead -= 1
                    continue
                maker_qty = entry.qty
                if entry.stp_key == stp_key:
                    if self.stp is _CANCEL_TAKER:
                        stp_stopped = True
                        break
                    # CANCEL_MAKER / CANCEL_BOTH: the maker leaves the book untouched by a fill.
                    queue.popleft()
                    entry.live = False
                    del orders[entry.order_id]
                    level.live -= 1
                    level.total -= maker_qty
                    if stp_canceled is None:
                        stp_canceled = []
                    stp_canceled.append((entry.order_id, maker_qty + entry.hidden))
                    if self.stp is _CANCEL_MAKER:
                        continue
                    stp_stopped = True
                    break
                if maker_qty <= remaining:
                    if entry.hidden:
                        # An iceberg's visible part is gone: refill it from the hidden rest,
                        # at the back of this level (a new time priority).
                        remaining -= maker_qty
                        hidden = entry.hidden
                        shown = entry.display if entry.display < hidden else hidden
                        hidden -= shown
                        entry.hidden = hidden
                        entry.qty = shown
                        part = entry.part
                        entry.part = part + 1
                        queue.popleft()
                        queue.append(entry)
                        level.total += shown - maker_qty
                        fills.append(
                            Fill(
                                entry.order_id,
                                entry.account_id,
                                level_price,
                                maker_qty,
                                shown + hidden,
                                part,
                            )
                        )
                        if not remaining:
                            break
                        continue
                    queue.popleft()
                    entry.live = False
                    del orders[entry.order_id]
                    level.live -= 1
                    level.total -= maker_qty
                    remaining -= maker_qty
                    fills.append(
                        Fill(
                            entry.order_id,
                            entry.account_id,
                            level_price,
                            maker_qty,
                            _ZERO,
                            entry.part,  # an iceberg's last part: not its first
                        )
                    )
                    if not remaining:
                        break
                else:
                    maker_qty -= remaining
                    entry.qty = maker_qty
                    level.total -= remaining
                    if entry.hidden:
                        fills.append(
                            Fill(
                                entry.order_id,
                                entry.account_id,
                                level_price,
                                remaining,
                                maker_qty + entry.hidden,
                                entry.part,
                            )
                        )
                    else:
                        fills.append(
                            Fill(
                                entry.order_id,
                                entry.account_id,
                                level_price,
                                remaining,
                                maker_qty,
                                entry.part,
                            )
                        )
                    remaining = _ZERO
                    break
            if not level.live:
                opp.drop(level)
            if stp_stopped or not remaining:
                break
            level = opp.best
            if level is not None and price is not None:
                crosses = level.price <= price if is_buy else level.price >= price
                if not crosses:
                    break

        stp_done = tuple(stp_canceled) if stp_canceled is not None else ()
        if not remaining:
            return SubmitResult(fills, qty, _ZERO, False, _ZERO, None, stp_done)
        filled = qty - remaining
        if stp_stopped:
            reason: str = REASON_SELF_TRADE_PREVENTED
        elif price is None:
            reason = REASON_MARKET_NO_LIQUIDITY
        elif tif == _IOC:
            reason = REASON_IOC_REMAINDER
        else:
            # GTC / DAY / GTD: rest the remainder at the back of its level.
            own = self._bids if is_buy else self._asks
            rest_level = own.level_for(price)
            entry = _Entry(
                order_id,
                account_id,
                _BUY if is_buy else _SELL,
                rest_level.price,  # the level's own key, even if ``price`` is spelled 100.0
                remaining,
                stp_key,
            )
            if display_qty is not None and display_qty < remaining:
                entry.qty = display_qty
                entry.hidden = remaining - display_qty
                entry.display = display_qty
            elif display_qty is not None:
                entry.display = display_qty  # all of what is left shows
            rest_level.queue.append(entry)
            rest_level.total += entry.qty
            rest_level.live += 1
            orders[order_id] = entry
            return SubmitResult(fills, filled, remaining, True, _ZERO, None, stp_done)
        return SubmitResult(fills, filled, _ZERO, False, remaining, reason, stp_done)

    def _fillable(
        self, opp: _Side, is_buy: bool, qty: Decimal, price: Decimal | None, stp_key: str
    ) -> bool:
        """Tell whether ``qty`` can be filled completely now, honouring the price and STP."""
        skip_self = self.stp is _CANCEL_MAKER
        need = qty
        for level in opp.iter_levels():
            if price is not None and (level.price > price if is_buy else level.price < price):
                return False
            for entry in level.queue:
                if not entry.live:
                    continue
                if entry.stp_key == stp_key:
                    if skip_self:
                        continue
                    return False  # the taker would be canceled here
                need -= entry.qty + entry.hidden
                if need <= _ZERO:
                    return True
        return False

    def cancel(self, order_id: int) -> Decimal | None:
        """Remove a resting order; return its leaves, or None if it is not resting."""
        entry = self._orders.pop(order_id, None)
        if entry is None:
            return None
        self._unlink(entry)
        return entry.qty + entry.hidden

    def _unlink(self, entry: _Entry) -> None:
        """Mark an entry (already out of the id index) dead and fix up its level."""
        entry.live = False
        book_side = self._bids if entry.side is _BUY else self._asks
        level = book_side.levels[entry.price]
        level.live -= 1
        if not level.live:
            book_side.drop(level)
            return
        level.total -= entry.qty
        level.dead += 1
        if level.dead >= _COMPACT_MIN_DEAD and level.dead > level.live:
            level.queue = deque(e for e in level.queue if e.live)
            level.dead = 0

    def modify(
        self,
        order_id: int,
        new_leaves_qty: Decimal,
        new_price: Decimal,
        post_only: bool = False,
    ) -> ModifyResult | None:
        """Change a resting order's leaves and price; return None if it is not resting.

        A decrease at the same price keeps time priority. A price change or an increase loses
        it: the order re-enters as a fresh GTC limit (matching first if it now crosses, the
        remainder resting at the back of its level). ``new_leaves_qty <= 0`` cancels. With
        ``post_only``, a change that would take liquidity is refused and the order is left
        exactly as it was (reason ``POST_ONLY_WOULD_TAKE``). An iceberg stays one: a decrease
        takes from its hidden part first, and it re-enters showing its display quantity.
        """
        entry = self._orders.get(order_id)
        if entry is None:
            return None
        shown = entry.qty
        old_qty = shown + entry.hidden
        if new_leaves_qty <= _ZERO:
            self.cancel(order_id)
            return ModifyResult(False, [], _ZERO, _ZERO, False, old_qty, REASON_MODIFY_TO_ZERO)
        if new_price == entry.price and new_leaves_qty <= old_qty:
            book_side = self._bids if entry.side is _BUY else self._asks
            now_shown = new_leaves_qty if new_leaves_qty < shown else shown
            book_side.levels[entry.price].total -= shown - now_shown
            entry.qty = now_shown
            entry.hidden = new_leaves_qty - now_shown
            return ModifyResult(True, [], _ZERO, new_leaves_qty, True, _ZERO, None)
        if post_only:
            is_buy = entry.side is _BUY
            best = (self._asks if is_buy else self._bids).best
            if best is not None and (
                best.price <= new_price if is_buy else best.price >= new_price
            ):
                return ModifyResult(
                    True, [], _ZERO, old_qty, True, _ZERO, REASON_POST_ONLY_WOULD_TAKE
                )
        del self._orders[order_id]
        self._unlink(entry)
        r = self.submit(
            order_id,
            entry.account_id,
            entry.side,
            new_leaves_qty,
            new_price,
            _GTC,
            False,
            entry.stp_key,
            entry.display or None,
        )
        return ModifyResult(
            False,
            r.fills,
            r.filled_qty,
            r.leaves_qty,
            r.rested,
            r.canceled_qty,
            r.reason,
            r.stp_canceled,
        )

    def restore(self, orders: Iterable[tuple[Any, ...]]) -> None:
        """Rest orders without matching, in the given time-priority order (after a restart).

        Each item is ``(order_id, account_id, side, price, leaves_qty, stp_key)``, optionally
        followed by an iceberg's ``display_qty`` and the part it shows now (None: a full
        display); a ``RestingOrder`` is such a tuple, so ``restore(old.orders_in_priority())``
        rebuilds a book. Raise ``ValueError`` for a duplicate id, ``leaves_qty <= 0``, or a crossed result.
        """
        index = self._orders
        for item in orders:
            order_id, account_id, side, price, leaves_qty, stp_key = item[:6]
            display = item[6] if len(item) > 6 else None
            if leaves_qty <= _ZERO:
                raise ValueError(f"order {order_id}: leaves_qty must be positive")
            if order_id in index:
                raise ValueError(f"order {order_id} is already resting in {self.symbol}")
            side = _BUY if side == _BUY else _SELL
            own = self._bids if side is _BUY else self._asks
            level = own.level_for(price)
            entry = _Entry(
                order_id,
                account_id,
                side,
                level.price,
                leaves_qty,
                account_id if stp_key is None else stp_key,
            )
            if display is not None:
                _hide(entry, display, item[7] if len(item) > 7 else None)
            level.queue.append(entry)
            level.total += entry.qty
            level.live += 1
            index[order_id] = entry
        if self.is_crossed():
            raise ValueError(f"restored book for {self.symbol} is crossed")

    # ------------------------------------------------------------------ views

    def best_bid(self) -> Decimal | None:
        """Return the highest resting bid price, or None."""
        best = self._bids.best
        return None if best is None else best.price

    def best_ask(self) -> Decimal | None:
        """Return the lowest resting ask price, or None."""
        best = self._asks.best
        return None if best is None else best.price

    def depth(self, side: Side, levels: int = 10) -> list[tuple[Decimal, Decimal]]:
        """Return up to ``levels`` (price, total leaves) pairs of one side, best first."""
        book_side = self._bids if side == _BUY else self._asks
        return [(lv.price, lv.total) for lv in islice(book_side.iter_levels(), levels)]

    def resting(self, order_id: int) -> RestingOrder | None:
        """Return a snapshot of a resting order, or None."""
        entry = self._orders.get(order_id)
        if entry is None:
            return None
        if entry.display:
            return _iceberg_view(entry, entry.price)
        return RestingOrder(
            entry.order_id,
            entry.account_id,
            entry.side,
            entry.price,
            entry.qty,
            entry.stp_key,
        )

    def orders_in_priority(self) -> Iterator[RestingOrder]:
        """Yield every resting order: bids best price first, then asks; FIFO within a level."""
        for book_side in (self._bids, self._asks):
            for level in book_side.iter_levels():
                price = level.price
                for e in level.queue:
                    if e.live:
                        if e.display:
                            yield _iceberg_view(e, price)
                            continue
                        yield RestingOrder(
                            e.order_id, e.account_id, e.side, price, e.qty, e.stp_key
                        )

    def is_crossed(self) -> bool:
        """Tell whether the best bid is at or above the best ask (never true after matching)."""
        bid = self._bids.best
        ask = self._asks.best
        return bid is not None and ask is not None and bid.price >= ask.price

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.symbol!r}, orders={len(self._orders)}, "
            f"bid={self.best_bid()}, ask={self.best_ask()})"
        )


def _hide(entry: _Entry, display: Decimal, shown: Decimal | None) -> None:
    """Make a freshly restored entry (``qty`` = all its leaves) an iceberg showing ``shown``
    (None: a full visible part)."""
    leaves = entry.qty
    if shown is None or not _ZERO < shown <= leaves:
        shown = display if display < leaves else leaves
    entry.qty = shown
    entry.hidden = leaves - shown
    entry.display = display


def _iceberg_view(e: _Entry, price: Decimal) -> RestingOrder:
    return RestingOrder(
        e.order_id, e.account_id, e.side, price, e.qty + e.hidden, e.stp_key, e.display, e.qty
    )
