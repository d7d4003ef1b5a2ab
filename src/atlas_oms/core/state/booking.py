"""Booking: the one place where executions and reservations move orders, positions (with their
lots), balances, fees and exposure.

A fill, a bust (the fill reversed) and a correction (the old fill reversed, the new one booked)
all go through :func:`book_trade` for the position and the balances, through :func:`track` for
the exposure of live orders, and through the reservation functions for what an order locks.
Each position's lookups (instrument, position, balances, firm exposure) are one named
:class:`PositionRefs`, cached per (account, symbol, position side) and on the order.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

import msgspec

from atlas_oms.core.decimals import round_money
from atlas_oms.core.equities.book import book_sale
from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.transitions import LIVE_STATUSES
from atlas_oms.core.state import legacy
from atlas_oms.core.state.positions import Balance, Position
from atlas_oms.model import events as ev
from atlas_oms.model.enums import InstrumentKind, OrderStatus, PositionSide, Side
from atlas_oms.model.instrument import Instrument

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)
ONE = Decimal(1)
_BUY = Side.BUY
_SELL = Side.SELL
_EQUITY = InstrumentKind.EQUITY
_FILLED = OrderStatus.FILLED


class FirmExposure:
    """One symbol over every account: net and gross position, open buy and sell quantity."""

    __slots__ = ("gross", "net", "open_buy", "open_sell")

    def __init__(self) -> None:
        self.net = ZERO
        self.gross = ZERO
        self.open_buy = ZERO
        self.open_sell = ZERO


class PositionRefs:
    """What one position's executions and its orders' reservations move.

    ``balance`` is the base asset's balance (spot, equities) or the settlement asset's
    (derivatives); ``quote`` is the quote asset's balance, None for a derivative (it settles in
    one asset). ``equity``: the instrument is a US equity (cash accounts track sale proceeds).
    """

    __slots__ = ("balance", "equity", "firm", "instrument", "position", "quote")

    def __init__(
        self,
        instrument: Instrument,
        position: Position,
        balance: Balance,
        quote: Balance | None,
        firm: FirmExposure,
    ) -> None:
        self.instrument = instrument
        self.position = position
        self.balance = balance
        self.quote = quote
        self.firm = firm
        self.equity = instrument.kind is _EQUITY


# ---------------------------------------------------------------------------------- lookups
def refs_of(
    state: State, account_id: str, symbol: str, position_side: PositionSide
) -> PositionRefs:
    """The position's :class:`PositionRefs` (created, with its position and balances, on first use)."""
    key = (account_id, symbol, position_side)
    refs = state.refs_cache.get(key)
    if refs is None:
        inst = state.instruments[symbol]
        pos = state.position(account_id, inst, position_side)
        firm = state.firm.get(symbol)
        if firm is None:
            firm = state.firm[symbol] = FirmExposure()
        if inst.is_derivative:
            refs = PositionRefs(inst, pos, state.balance(account_id, inst.settle_asset), None, firm)
        else:
            refs = PositionRefs(
                inst,
                pos,
                state.balance(account_id, inst.base),
                state.balance(account_id, inst.quote),
                firm,
            )
        state.refs_cache[key] = refs
    return refs


def order_refs(state: State, order: Order) -> PositionRefs:
    """The order's :class:`PositionRefs`, cached on the order."""
    refs = order.refs
    if refs is None:
        refs = order.refs = refs_of(state, order.account_id, order.symbol, order.position_side)
    return refs


def forget_instrument(state: State, symbol: str) -> None:
    """Drop cached lookups of an instrument that was replaced (orders re-read it on next use)."""
    for key in [k for k in state.refs_cache if k[1] == symbol]:
        del state.refs_cache[key]
    for order in state.orders.values():
        if order.symbol == symbol:
            order.refs = None


# ---------------------------------------------------------------------------------- reservations
def reserve_balance(state: State, order: Order) -> Balance:
    """The balance an order's reservation sits in: the quote of a spot or equity buy, the base
    of a sell, the settlement asset of a derivative."""
    refs = order.refs or order_refs(state, order)
    quote = refs.quote
    bal = quote if quote is not None and order.side is _BUY else refs.balance
    assert bal.asset == order.reserved_asset, (bal.asset, order.reserved_asset)
    return bal


def lock(state: State, order: Order, amount: Decimal) -> None:
    """Lock ``amount`` more for the order (its reservation grows)."""
    if amount and order.reserved_asset is not None:
        reserve_balance(state, order).locked += amount
        order.reserved += amount


def release(state: State, order: Order, amount: Decimal) -> None:
    """Unlock ``amount`` of the order's reservation."""
    if amount and order.reserved_asset is not None:
        reserve_balance(state, order).locked -= amount
        order.reserved -= amount


def release_pending(state: State, order: Order) -> None:
    """Unlock what a modify in flight locked, and forget the modify."""
    assert order.pending is not None
    extra = order.pending[3]
    if extra and order.reserved_asset is not None:
        state.balance(order.account_id, order.reserved_asset).locked -= extra
    order.pending = None


def finish(state: State, order: Order) -> None:
    """The order is done: no leaves, nothing reserved, out of the trigger and expiry indexes,
    in the retention queue (core/retention.py)."""
    order.leaves_qty = ZERO
    terminal = state.terminal
    terminal.pop(order.order_id, None)
    terminal[order.order_id] = order.ts_last
    if order.reserved:
        release(state, order, order.reserved)
    if order.pending is not None:
        release_pending(state, order)
    if order.held:
        state.triggers.remove(order.order_id)
        if order.session_release is not None:  # queued for its session (session_queue.py)
            state.equities.us.queued.pop(order.order_id, None)
            order.session_release = None
    if order.expire_ts is not None:
        state.expiries.discard((order.expire_ts, order.order_id))


def reopen(state: State, order: Order) -> None:
    """A FILLED order that a bust or a correction reopened (its leaves already set): it reserves
    for its leaves again and is back in the expiry index; :func:`track` then counts it live."""
    if order.reserved_asset is not None and order.reserve_unit:
        lock(state, order, order.leaves_qty * order.reserve_unit - order.reserved)
    if order.expire_ts is not None:
        state.expiries.add((order.expire_ts, order.order_id))


# ---------------------------------------------------------------------------------- exposure
def track(state: State, order: Order, old_leaves: Decimal) -> None:
    """Carry a change of an order's leaves into the exposure risk checks read: the position's
    open buy or sell quantity, the firm's, the account's count of live orders (live = leaves > 0)
    and the live-order indexes of derivatives and equities."""
    change = order.leaves_qty - old_leaves
    if not change:
        return
    refs = order.refs or order_refs(state, order)
    pos = refs.position
    firm = refs.firm
    if order.side is _BUY:
        pos.open_buy += change
        firm.open_buy += change
    else:
        pos.open_sell += change
        firm.open_sell += change
    account_id = order.account_id
    open_orders = state.open_orders
    if not old_leaves:
        open_orders[account_id] = open_orders.get(account_id, 0) + 1
        if refs.quote is None:
            live = state.deriv_live.get(account_id)
            if live is None:
                live = state.deriv_live[account_id] = {}
            live[order.order_id] = None
    elif not order.leaves_qty:
        open_orders[account_id] -= 1
        if refs.quote is None:
            state.deriv_live[account_id].pop(order.order_id, None)
    if refs.equity:
        state.equities.track(order)


# ---------------------------------------------------------------------------------- positions
def book_trade(
    state: State,
    refs: PositionRefs,
    account_id: str,
    order_id: int,
    side: Side,
    qty: Decimal,
    px: Decimal,
    fee: Decimal,
    fee_asset: str,
    ts: int,
    take_back: bool = False,
) -> Decimal:
    """Move a position (and its lots), the balances, the firm's exposure and, for a derivative,
    the position's margin, for one trade (a negative fee refunds one); return the P&L it
    realized (before fees). Reversing a trade is booking its opposite side; with ``take_back``
    it comes out of the lot the trade opened when that lot still holds it (nothing realized)."""
    inst = refs.instrument
    pos = refs.position
    delta = qty if side is _BUY else -qty
    old_qty = pos.qty
    if take_back and pos.take_back(delta, px, fee, order_id, ts):
        realized = ZERO
    else:
        realized = pos.apply_fill(delta, px, fee, order_id, ts)
    new_qty = pos.qty
    firm = refs.firm
    firm.net += new_qty - old_qty
    firm.gross += abs(new_qty) - abs(old_qty)
    quote = refs.quote
    bal = refs.balance
    if quote is not None:  # spot and equities swap assets
        notional = qty * px if inst.multiplier == ONE else qty * px * inst.multiplier
        if delta > ZERO:
            bal.total += qty
            quote.total -= notional
        else:
            bal.total -= qty
            quote.total += notional
        if fee:
            (
                quote if fee_asset == quote.asset else state.balance(account_id, fee_asset)
            ).total -= fee
        return realized
    state.liq_index.dirty.add(account_id)
    if realized:
        bal.total += realized
    # Margin follows the open quantity: released pro rata on reduction, added on increase.
    if not old_qty or ((old_qty > ZERO) == (new_qty > ZERO) and abs(new_qty) >= abs(old_qty)):
        closed, opened = ZERO, abs(new_qty) - abs(old_qty)
    elif not new_qty or (old_qty > ZERO) != (new_qty > ZERO):
        closed, opened = abs(old_qty), abs(new_qty)
    else:
        closed, opened = abs(old_qty) - abs(new_qty), ZERO
    if closed:
        freed = (
            pos.margin
            if closed == abs(old_qty)
            else round_money(pos.margin * closed / abs(old_qty), ROUND_FLOOR)
        )
        pos.margin -= freed
        bal.locked -= freed
    if opened:
        add = round_money(
            opened * px * inst.multiplier / state.leverage.get((account_id, inst.symbol), ONE)
        )
        pos.margin += add
        bal.locked += add
    if fee:
        (bal if fee_asset == bal.asset else state.balance(account_id, fee_asset)).total -= fee
    return realized


def _book_order_trade(
    state: State,
    order: Order,
    side: Side,
    qty: Decimal,
    px: Decimal,
    fee: Decimal,
    fee_asset: str,
    ts: int,
    take_back: bool = False,
) -> Decimal:
    return book_trade(
        state,
        order_refs(state, order),
        order.account_id,
        order.order_id,
        side,
        qty,
        px,
        fee,
        fee_asset,
        ts,
        take_back,
    )


# ---------------------------------------------------------------------------------- executions
def apply_filled(state: State, e: ev.OrderFilled) -> None:
    order = state.orders[e.order_id]
    qty = e.last_qty
    px = e.last_px
    old = order.leaves_qty
    was_live = order.status in LIVE_STATUSES
    status = e.order_status or legacy.fill_status(order, e)
    cum = order.cum_qty + qty
    order.cum_qty = cum
    order.cum_notional += qty * px
    fee = e.fee
    if fee:
        order.fees += fee
    order.fee_asset = e.fee_asset
    order.fill_count += 1
    if order.venue_order_id is None and e.venue_order_id is not None:
        order.venue_order_id = e.venue_order_id  # filled on arrival: the fill is the ack
    order.ts_last = e.ts_event
    order.status = status
    if was_live:
        order.leaves_qty = order.qty - cum
        if status is _FILLED:
            finish(state, order)
        elif order.reserved:
            unit_release = qty * order.reserve_unit
            release(state, order, unit_release if unit_release < order.reserved else order.reserved)
    state.fills[e.exec_id] = e
    order_fills = state.order_fills
    order_fills[e.order_id] = (*order_fills.get(e.order_id, ()), e.exec_id)
    state.last[e.symbol] = px
    refs = order.refs or order_refs(state, order)
    realized = book_trade(
        state, refs, order.account_id, order.order_id, e.side, qty, px, fee, e.fee_asset, e.ts_event
    )
    if refs.equity and order.side is _SELL:
        book_sale(state, order, e, e.ts_event)
    if old != order.leaves_qty:
        track(state, order, old)
    risk = state.risk
    if risk.watch_fills:
        risk.on_fill(
            order.account_id, order.tag, realized - fee if realized else None, e.ts_event, e.seq
        )


def apply_fill_busted(state: State, e: ev.OrderFillBusted) -> None:
    fill = state.fills[e.exec_id]
    order = state.orders[e.order_id]
    old = order.leaves_qty
    was_live = order.status in LIVE_STATUSES
    state.busted.add(e.exec_id)
    order.cum_qty -= fill.last_qty
    order.cum_notional -= fill.last_qty * fill.last_px
    order.fees -= fill.fee
    order.ts_last = e.ts_event
    status = e.order_status
    order.status = status if status is not None else legacy.bust_status(order)
    if order.is_live:
        order.leaves_qty = order.qty - order.cum_qty
        if was_live:
            lock(state, order, fill.last_qty * order.reserve_unit)
        else:
            reopen(state, order)
    # Reverse by an offsetting entry at the busted price, refunding the fee: out of the lot the
    # execution opened (journals before issue 11: FIFO, like any closing trade).
    _book_order_trade(
        state,
        order,
        fill.side.opposite,
        fill.last_qty,
        fill.last_px,
        -fill.fee,
        fill.fee_asset,
        e.ts_event,
        e.takes_back_lot,
    )
    if order.side is _SELL and order_refs(state, order).equity:
        book_sale(state, order, fill, e.ts_event, reverse=True)
    track(state, order, old)


def apply_fill_corrected(state: State, e: ev.OrderFillCorrected) -> None:
    old = state.fills[e.exec_id]
    order = state.orders[e.order_id]
    old_leaves = order.leaves_qty
    was_live = order.status in LIVE_STATUSES
    status = e.order_status or legacy.correction_status(order, e, old)
    order.cum_qty += e.last_qty - old.last_qty
    order.cum_notional += e.last_qty * e.last_px - old.last_qty * old.last_px
    order.fees += e.fee - old.fee
    order.ts_last = e.ts_event
    order.status = status
    if not was_live and status in LIVE_STATUSES:  # a FILLED order left below its quantity
        order.leaves_qty = order.qty - order.cum_qty
        reopen(state, order)
    elif was_live:
        if status is _FILLED:  # the correction completes it
            finish(state, order)
        else:
            order.leaves_qty = order.qty - order.cum_qty
            if order.reserved_asset is not None and order.reserve_unit:
                change = (old.last_qty - e.last_qty) * order.reserve_unit
                if order.reserved + change < 0:
                    change = -order.reserved
                reserve_balance(state, order).locked += change
                order.reserved += change
    # Positions and balances: reverse the execution as it was, book it as it is now.
    _book_order_trade(
        state,
        order,
        old.side.opposite,
        old.last_qty,
        old.last_px,
        -old.fee,
        old.fee_asset,
        e.ts_event,
        e.takes_back_lot,
    )
    _book_order_trade(
        state, order, old.side, e.last_qty, e.last_px, e.fee, old.fee_asset, e.ts_event
    )
    new = state.fills[e.exec_id] = msgspec.structs.replace(
        old, last_qty=e.last_qty, last_px=e.last_px, fee=e.fee
    )
    if order.side is _SELL and order_refs(state, order).equity:
        book_sale(state, order, old, e.ts_event, reverse=True)
        book_sale(state, order, new, e.ts_event)
    track(state, order, old_leaves)
