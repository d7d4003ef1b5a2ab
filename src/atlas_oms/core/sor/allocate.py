"""Split an order across venues and accounts by walking the consolidated book (pure).

The walk: every level on the side the order takes (a buy takes asks, a sell bids) of every usable
candidate's book, converted to the reference quote (x ``rate``) and fee-adjusted (buy:
x (1 + taker), sell: x (1 - taker)), best first; ties by the best rank among the accounts trading
that book, then venue, symbol, level (deterministic). It stops at the order's limit price
(reference quote, compared on the converted price before fees). A level's quantity is shared by
the accounts trading that venue book: in rank order, each takes what its capacity allows.

Venue filters: each child is rounded down onto its lot; a child below its ``min_qty`` or whose
notional (qty x its limit price) is below ``min_notional`` is dropped and the walk is redone
without it, and a rounded-down child is capped at its rounded quantity and the walk redone, so
the quantity it could not take goes to the next best levels. Each child's limit price is the
worst level it walks, on the venue's tick grid (a buy rounds up, a sell down, so it stays
marketable against that level; if that would cross the order's limit it rounds the other way).

Depth margin: what no venue shows (the remainder after the walk) may be sent beyond a venue's
visible depth, at most ``depth_margin_pct`` percent of that venue's depth within the limit, to the
children already made (best worst-level first), priced at their limit price. Whatever is left is
``unallocated``.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from atlas_oms.core.decimals import round_money, round_to_tick
from atlas_oms.model.enums import Side
from atlas_oms.model.route_book import BookLevel, RouteBook, VenueBook
from atlas_oms.model.route_decision import (
    ChildAllocation,
    RouteCandidate,
    RouteDecision,
    Skip,
    VenueSeen,
)

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


def is_stale(book: RouteBook, vb: VenueBook) -> bool:
    """Whether a venue book is too old to route on (``book.stale_ns`` 0: never)."""
    return book.stale_ns > 0 and vb.ts < book.ts - book.stale_ns


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def _within(levels: tuple[BookLevel, ...], rate: Decimal, buy: bool, limit: Decimal | None) -> int:
    """How many of ``levels`` (best first) are within the limit (reference quote)."""
    if limit is None:
        return len(levels)
    n = 0
    if rate == ONE:  # the reference quote itself: compare the prices as they are
        for lvl in levels:
            if (lvl.price > limit) if buy else (lvl.price < limit):
                break
            n += 1
        return n
    for lvl in levels:
        px = lvl.price * rate
        if (px > limit) if buy else (px < limit):
            break
        n += 1
    return n


#: One walk entry: (fee-adjusted reference price, negated for a sell; the best rank among the
#: accounts sharing it; venue; symbol; level; the candidates sharing it, in rank order).
_Entry = tuple[Decimal, int, str, str, int, tuple[int, ...]]


class _Walk:
    """One walk's result: per candidate index, the (level index, base qty) taken."""

    __slots__ = ("remaining", "takes", "total")

    def __init__(self, qty: Decimal) -> None:
        self.remaining = qty
        self.takes: dict[int, list[tuple[int, Decimal]]] = {}
        self.total: dict[int, Decimal] = {}


def allocate(
    book: RouteBook,
    cands: list[RouteCandidate],
    side: Side,
    qty: Decimal,
    limit_price: Decimal | None = None,
    depth_margin_pct: Decimal = ZERO,
) -> RouteDecision:
    """Route ``qty`` (base units) of ``book.symbol`` over ``cands`` (see the module doc)."""
    buy = side is Side.BUY
    books: dict[tuple[str, str], VenueBook] = {}
    for b in book.books:
        books.setdefault((b.venue, b.symbol), b)
    levels: list[tuple[BookLevel, ...]] = []
    depth_n: list[int] = []
    skip: list[str] = []
    within: dict[tuple[str, str, Decimal], int] = {}
    for c in cands:
        vb = books.get((c.venue, c.symbol))
        lv = () if vb is None else (vb.asks if buy else vb.bids)
        levels.append(lv)
        if c.skipped:
            k = 0
        else:
            wkey = (c.venue, c.symbol, c.rate)
            k = within.get(wkey, -1)
            if k < 0:
                k = within[wkey] = _within(lv, c.rate, buy, limit_price)
        depth_n.append(k)
        if c.skipped:
            why = c.skipped
        elif vb is None or is_stale(book, vb):
            why = Skip.STALE_BOOK
        elif not lv:
            why = Skip.NO_LIQUIDITY
        elif k == 0:
            why = Skip.LIMIT_PRICE
        elif (c.buy_power is not None and c.buy_power <= 0) or (
            not buy and c.sell_qty is not None and c.sell_qty <= 0
        ):
            why = Skip.NO_BALANCE
        else:
            why = ""
        skip.append(why)

    # The consolidated book: the levels within the limit of each usable venue book, once per
    # fee-adjustment (the accounts trading it at that fee share its levels, in rank order),
    # best first.
    #: Per candidate: its fee factor (buy: 1 + taker, sell: 1 - taker) and that times its rate.
    fee_f = [ONE + c.taker_fee if buy else ONE - c.taker_fee for c in cands]
    adj_f = [c.rate * f if c.rate != ONE else f for c, f in zip(cands, fee_f, strict=True)]
    groups: dict[tuple[str, str, Decimal], list[int]] = {}
    for i, c in enumerate(cands):
        if not skip[i]:
            groups.setdefault((c.venue, c.symbol, adj_f[i]), []).append(i)
    entries: list[_Entry] = []
    for (venue, symbol, f), members in groups.items():
        members.sort(key=lambda i: (cands[i].rank, cands[i].account_id))
        first = members[0]
        lv = levels[first]
        rank = cands[first].rank
        group = tuple(members)
        for j in range(depth_n[first]):
            adj = lv[j].price * f
            entries.append((adj if buy else -adj, rank, venue, symbol, j, group))
    entries.sort()

    caps: dict[int, Decimal] = {}
    dropped: dict[int, str] = {}
    while True:
        walk = _walk(entries, cands, levels, buy, qty, caps, dropped, fee_f)
        changed = False
        for i, taken in walk.total.items():
            c = cands[i]
            lot = c.lot_size * c.multiplier
            rounded = _floor_to(taken, lot)
            if rounded <= 0 or rounded < c.min_qty * c.multiplier:
                dropped[i] = Skip.BELOW_MIN_QTY
                changed = True
            elif rounded * _limit_px(c, levels[i], walk.takes[i][-1][0], buy, limit_price) < (
                c.min_notional
            ):
                dropped[i] = Skip.BELOW_MIN_NOTIONAL
                changed = True
            elif rounded != taken:
                caps[i] = rounded
                changed = True
        if not changed:
            break

    margin = _margin(walk, cands, levels, depth_n, buy, limit_price, depth_margin_pct, caps)
    return _decision(
        book,
        books,
        cands,
        levels,
        depth_n,
        side,
        qty,
        limit_price,
        walk,
        margin,
        skip,
        dropped,
        adj_f,
    )


def _walk(
    entries: list[_Entry],
    cands: list[RouteCandidate],
    levels: list[tuple[BookLevel, ...]],
    buy: bool,
    qty: Decimal,
    caps: dict[int, Decimal],
    dropped: dict[int, str],
    fee_f: list[Decimal],
) -> _Walk:
    w = _Walk(qty)
    left: dict[tuple[str, str, int], Decimal] = {}
    power: dict[int, Decimal] = {}
    total = w.total
    takes = w.takes
    remaining = qty
    sell = not buy
    for _adj, _rank, venue, symbol, j, group in entries:
        lkey = (venue, symbol, j)
        avail = left.get(lkey)
        if avail is None:
            avail = levels[group[0]][j].qty
        for i in group:
            if avail <= 0 or remaining <= 0:
                break
            if i in dropped:
                continue
            c = cands[i]
            take = remaining if remaining < avail else avail
            got = total.get(i, ZERO)
            cap = caps.get(i)
            if cap is not None and take > cap - got:
                take = cap - got
            if c.buy_power is not None:
                pw = power.get(i)
                if pw is None:
                    pw = c.buy_power
                unit = levels[i][j].price * fee_f[i]  # a buy: 1 + taker
                spend = take * unit
                if spend > pw:
                    take = _floor_to(pw / unit, c.lot_size * c.multiplier)
                    spend = take * unit
                power[i] = pw - spend
            if sell and c.sell_qty is not None and take > c.sell_qty - got:
                take = c.sell_qty - got
            if take <= 0:
                continue
            avail -= take
            remaining -= take
            total[i] = got + take
            mine = takes.get(i)
            if mine is None:
                takes[i] = [(j, take)]
            else:
                mine.append((j, take))
        left[lkey] = avail
        if remaining <= 0:
            break
    w.remaining = remaining
    return w


def _limit_px(
    c: RouteCandidate,
    lv: tuple[BookLevel, ...],
    j: int,
    buy: bool,
    limit: Decimal | None,
) -> Decimal:
    """A child's limit price (venue quote, on tick) when its worst level walked is ``lv[j]``."""
    px = round_to_tick(lv[j].price, c.tick_size, up=buy)
    if limit is not None and px != lv[j].price:
        ref = px * c.rate
        if (ref > limit) if buy else (ref < limit):
            px = round_to_tick(lv[j].price, c.tick_size, up=not buy)
    return px


def _margin(
    walk: _Walk,
    cands: list[RouteCandidate],
    levels: list[tuple[BookLevel, ...]],
    depth_n: list[int],
    buy: bool,
    limit: Decimal | None,
    pct: Decimal,
    caps: dict[int, Decimal],
) -> dict[int, Decimal]:
    """Base qty each child takes beyond the visible depth (only what no venue shows)."""
    out: dict[int, Decimal] = {}
    if walk.remaining <= 0 or pct <= 0:
        return out
    allowance: dict[tuple[str, str], Decimal] = {}
    order = []
    for i in walk.total:
        c = cands[i]
        k = depth_n[i]
        worst = levels[i][k - 1].price * c.rate * (ONE + c.taker_fee if buy else ONE - c.taker_fee)
        order.append(((worst if buy else -worst, c.rank, c.venue, c.symbol, c.account_id), i))
        vkey = (c.venue, c.symbol)
        if vkey not in allowance:
            allowance[vkey] = sum((lvl.qty for lvl in levels[i][:k]), ZERO) * pct / HUNDRED
    order.sort(key=lambda e: e[0])
    remaining = walk.remaining
    for _key, i in order:
        if remaining <= 0:
            break
        c = cands[i]
        vkey = (c.venue, c.symbol)
        px = _limit_px(c, levels[i], depth_n[i] - 1, buy, limit)
        extra = min(remaining, allowance[vkey])
        if c.buy_power is not None:
            spent = sum((q * levels[i][j].price for j, q in walk.takes[i]), ZERO) * (
                ONE + c.taker_fee
            )
            extra = min(extra, (c.buy_power - spent) / (px * (ONE + c.taker_fee)))
        if not buy and c.sell_qty is not None:
            extra = min(extra, c.sell_qty - walk.total[i])
        extra = _floor_to(max(extra, ZERO), c.lot_size * c.multiplier)
        if extra <= 0:
            continue
        out[i] = extra
        allowance[vkey] -= extra
        remaining -= extra
    return out


def _decision(
    book: RouteBook,
    books: dict[tuple[str, str], VenueBook],
    cands: list[RouteCandidate],
    levels: list[tuple[BookLevel, ...]],
    depth_n: list[int],
    side: Side,
    qty: Decimal,
    limit: Decimal | None,
    walk: _Walk,
    margin: dict[int, Decimal],
    skip: list[str],
    dropped: dict[int, str],
    adj_f: list[Decimal],
) -> RouteDecision:
    buy = side is Side.BUY
    allocs: list[ChildAllocation] = []
    total_base = ZERO
    total_ref = ZERO
    total_cost = ZERO
    for i in walk.total:  # insertion order = walk order: best first
        c = cands[i]
        lv = levels[i]
        takes = walk.takes[i]
        extra = margin.get(i, ZERO)
        worst_j = depth_n[i] - 1 if extra else takes[-1][0]
        px_lim = _limit_px(c, lv, worst_j, buy, limit)
        base = walk.total[i] + extra
        notional = sum((q * lv[j].price for j, q in takes), ZERO) + extra * px_lim
        fee_f = ONE + c.taker_fee if buy else ONE - c.taker_fee
        cost = round_money(notional * c.rate * fee_f)
        allocs.append(
            ChildAllocation(
                venue=c.venue,
                symbol=c.symbol,
                account_id=c.account_id,
                qty=base / c.multiplier if c.multiplier != ONE else base,
                limit_price=px_lim,
                expected_avg_px=round_money(notional / base, ROUND_HALF_EVEN),
                expected_cost=cost,
                fee_rate=c.taker_fee,
                levels=worst_j + 1,
                margin_qty=extra / c.multiplier if c.multiplier != ONE else extra,
            )
        )
        total_base += base
        total_ref += notional * c.rate
        total_cost += cost
    seen: list[VenueSeen] = []
    depth_of: dict[tuple[str, str, int], Decimal] = {}
    for i, c in enumerate(cands):
        vb = books.get((c.venue, c.symbol))
        vb_levels_bid, vb_levels_ask = ((), ()) if vb is None else (vb.bids, vb.asks)
        lv = levels[i]
        dkey = (c.venue, c.symbol, depth_n[i])
        depth = depth_of.get(dkey)
        if depth is None:
            depth = depth_of[dkey] = sum((lvl.qty for lvl in lv[: depth_n[i]]), ZERO)
        f = adj_f[i]
        used = i in walk.total
        why = skip[i] or dropped.get(i, "") or ("" if used else Skip.NOT_NEEDED)
        seen.append(
            VenueSeen(
                venue=c.venue,
                symbol=c.symbol,
                account_id=c.account_id,
                best_bid=vb_levels_bid[0].price if vb_levels_bid else None,
                bid_qty=vb_levels_bid[0].qty if vb_levels_bid else ZERO,
                best_ask=vb_levels_ask[0].price if vb_levels_ask else None,
                ask_qty=vb_levels_ask[0].qty if vb_levels_ask else ZERO,
                adjusted_px=lv[0].price * f if lv and not c.skipped else None,
                depth_qty=depth,
                used=used,
                skipped=why,
            )
        )
    return RouteDecision(
        symbol=book.symbol,
        side=side,
        qty=qty,
        allocations=tuple(allocs),
        unallocated=qty - total_base,
        expected_avg_px=(
            round_money(total_ref / total_base, ROUND_HALF_EVEN) if total_base else None
        ),
        expected_cost=total_cost,
        seen=tuple(seen),
        book_ts=book.ts,
        limit_price=limit,
        quote=book.quote,
    )
