"""The liquidation loop of the derivatives venue. On every mark price, every isolated position
and cross account whose margin ratio reached 100% is frozen, its open orders canceled, and its
positions closed one after the other: an IOC at the bankruptcy price into the book (better fills
pay the insurance fund), then an IOC at a worse price the fund pays for, then ADL. Every decision
is an event; a case moves on as its orders report (:func:`follow_up`)."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, round_money, round_to_tick
from atlas_oms.core.derivatives.adl import deleverage, liq_step, net_hedges
from atlas_oms.core.derivatives.book import BOOK, CLOSED, FUND, Case, Key
from atlas_oms.core.derivatives.figures import (
    cross_positions,
    cross_status,
    cross_wallet,
    isolated_status,
    valuation,
)
from atlas_oms.core.derivatives.index import refresh_liq_index
from atlas_oms.core.orders.amend import cancel_for
from atlas_oms.core.orders.order import Order
from atlas_oms.core.state.positions import Position
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import (
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
)
from atlas_oms.model.margin import MarginMode
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import SubmitToVenue

#: Strategy tag of the venue's liquidation orders.
LIQUIDATION_TAG = "liquidation"
_ISOLATED = MarginMode.ISOLATED
_CROSS = MarginMode.CROSS
_TIF_IOC = TimeInForce.IOC


def check_liquidations(ctx: Context, symbol: str, ts: int) -> None:
    """On a mark price: liquidate every position (isolated) or account (cross) whose margin
    ratio has reached 100%."""
    state = ctx.state
    idx = state.liq_index
    if idx.dirty:
        refresh_liq_index(ctx)
    mark = state.mark.get(symbol)
    if mark is None:
        return
    keys: list[Key] = idx.hits(symbol, mark)
    multi = idx.cross_multi.get(symbol)
    if not keys and not multi:
        return
    asset = state.instruments[symbol].settle_asset
    candidates: set[tuple[str, str, str]] = set()
    for account_id, sym, side in keys:
        candidates.add((account_id, sym, side) if side else (account_id, asset, ""))
    if multi:
        for account_id in multi:
            candidates.add((account_id, asset, ""))
    for account_id, name, side in sorted(candidates):
        if side:
            _maybe_liquidate_isolated(ctx, account_id, name, PositionSide(side), ts)
        else:
            _maybe_liquidate_cross(ctx, account_id, name, symbol, ts)


def follow_up(ctx: Context, order_id: int | None, ts: int) -> None:
    """After each message: move on the case whose order it concerned; after a restart (the first
    message), every open case."""
    liq = ctx.state.liq
    if ctx.liq_sweep:
        ctx.liq_sweep = False
        for open_id in sorted(liq.cases):
            case = liq.cases.get(open_id)
            if case is not None:
                _advance(ctx, case, ts)
        return
    case_id = liq.orders.get(order_id) if order_id is not None else None
    if case_id is not None and case_id in liq.cases:
        _advance(ctx, liq.cases[case_id], ts)


def _maybe_liquidate_isolated(
    ctx: Context, account_id: str, symbol: str, side: PositionSide, ts: int
) -> None:
    state = ctx.state
    if state.liq.is_frozen(account_id, symbol):
        return
    pos = state.positions.get((account_id, symbol, side))
    if pos is None or not pos.qty:
        return
    inst = state.instruments[symbol]
    balance, maint = isolated_status(state, ctx.config, inst, pos)
    if balance > maint:
        return
    _start_case(
        ctx, account_id, _ISOLATED, inst.settle_asset, symbol, balance, maint, [(symbol, side)], ts
    )


def _maybe_liquidate_cross(ctx: Context, account_id: str, asset: str, symbol: str, ts: int) -> None:
    state = ctx.state
    if (account_id, "*") in state.liq.frozen:
        return
    balance, maint = cross_status(state, ctx.config, account_id, asset)
    if balance > maint or not maint:
        return
    todo = sorted(
        (pos.symbol, pos.position_side) for _, pos in cross_positions(state, account_id, asset)
    )
    if not todo:
        return
    _start_case(ctx, account_id, _CROSS, asset, symbol, balance, maint, todo, ts)


def _start_case(
    ctx: Context,
    account_id: str,
    mode: MarginMode,
    asset: str,
    symbol: str,
    balance: Decimal,
    maint: Decimal,
    todo: list[tuple[str, PositionSide]],
    ts: int,
) -> None:
    state = ctx.state
    case_id = state.liq.next_case_id
    ctx.emit(
        ev.LiquidationStarted(
            seq=state.seq + 1,
            ts_event=ts,
            case_id=case_id,
            account_id=account_id,
            mode=mode,
            asset=asset,
            symbol=symbol,
            mark=state.mark[symbol],
            margin_balance=balance,
            maint_margin=maint,
            positions=todo,
        )
    )
    # Cancel its open orders: on that instrument (isolated) or on every derivative in the
    # settlement asset (cross). Their reserved margin comes free.
    live = state.deriv_live.get(account_id)
    if live:
        for order_id in list(live):
            order = state.orders[order_id]
            if order.status is OrderStatus.PENDING_CANCEL or order_id in state.liq.orders:
                continue
            inst = state.instruments[order.symbol]
            if mode is _ISOLATED:
                if order.symbol != symbol:
                    continue
            elif inst.settle_asset != asset:
                continue
            cancel_for(ctx, order, ts, Reason.LIQUIDATION)
    if mode is _CROSS:
        net_hedges(ctx, case_id, account_id, asset, ts)
    _advance(ctx, state.liq.cases[case_id], ts)


def _advance(ctx: Context, case: Case, ts: int) -> None:
    """Move a case on as far as it can go without waiting for a venue."""
    state = ctx.state
    while True:
        if case.order_id is not None:
            order = state.orders[case.order_id]
            if order.cum_qty > case.settled_qty:
                _settle_fills(ctx, case, order, ts)
            if order.is_live:
                return  # waiting for the venue
        if case.current is not None and case.stage in (BOOK, FUND):
            symbol, side = case.current
            pos = state.positions[(case.account_id, symbol, side)]
            if pos.qty:
                if case.stage == BOOK and _fund_order(ctx, case, pos, ts):
                    return
                deleverage(ctx, case, pos, ts)
                continue
        if case.todo:
            symbol, side = case.todo[0]
            pos = state.positions[(case.account_id, symbol, side)]
            if not pos.qty:  # closed meanwhile (by a late fill): nothing to do for it
                liq_step(ctx, case.case_id, symbol, side, CLOSED, ZERO, ts)
                continue
            _book_order(ctx, case, pos, ts)
            return
        _finish(ctx, case, ts)
        return


def _bankruptcy_now(ctx: Context, case: Case, pos: Position) -> Decimal:
    """The price at which this position's closing leaves the account (cross) or the position
    (isolated) with nothing: may be <= 0 or past the mark when a gap left it under water."""
    state = ctx.state
    inst = state.instruments[pos.symbol]
    mult = inst.multiplier
    if case.mode is _ISOLATED:
        wallet, other_upnl = pos.margin, ZERO
    else:
        wallet = cross_wallet(state, case.account_id, case.asset)
        other_upnl = ZERO
        for _, other in cross_positions(state, case.account_id, case.asset):
            if other is not pos:
                other_upnl += other.unrealized_pnl(valuation(state, other))
    # wallet + other_upnl + qty * mult * (P - entry) = 0, kept to 12 decimals (rounded in the
    # account's favour) so that every amount booked from it is an exact decimal.
    price = pos.cost / abs(pos.qty) - (wallet + other_upnl) / (pos.qty * mult)
    return round_money(price, ROUND_CEILING if pos.qty > 0 else ROUND_FLOOR)


def _book_order(ctx: Context, case: Case, pos: Position, ts: int) -> None:
    inst = ctx.state.instruments[pos.symbol]
    bankruptcy = _bankruptcy_now(ctx, case, pos)
    tick = inst.tick_size
    if pos.qty > 0:  # sell: never below the bankruptcy price
        price = max(round_to_tick(bankruptcy, tick, up=True), tick)
    else:
        price = round_to_tick(bankruptcy, tick, up=False)
        if price <= 0:
            price = tick
    _liq_order(ctx, case, pos, BOOK, bankruptcy, price, ts)


def _fund_order(ctx: Context, case: Case, pos: Position, ts: int) -> bool:
    """Place the FUND stage if the insurance fund can pay for a worse price; False if not."""
    state = ctx.state
    fund = state.liq.fund.get(case.asset, ZERO) - _fund_committed(ctx, case.asset)
    bankruptcy = case.bankruptcy
    assert bankruptcy is not None
    if fund <= 0:
        return False
    inst = state.instruments[pos.symbol]
    tick = inst.tick_size
    room = fund / (abs(pos.qty) * inst.multiplier)
    # The fund pays for prices no further than the market-order collar beyond the mark.
    mark = state.mark.get(pos.symbol) or bankruptcy
    if pos.qty > 0:
        price = max(
            round_to_tick(bankruptcy - room, tick, up=True),
            round_to_tick(mark * ctx.collar_down, tick, up=True),
            tick,
        )
        if price >= max(round_to_tick(bankruptcy, tick, up=True), tick):
            return False
    else:
        price = round_to_tick(bankruptcy + room, tick, up=False)
        price = min(price, round_to_tick(mark * ctx.collar_up, tick, up=False))
        if price <= round_to_tick(bankruptcy, tick, up=False):
            return False
    _liq_order(ctx, case, pos, FUND, bankruptcy, price, ts)
    return True


def _fund_committed(ctx: Context, asset: str) -> Decimal:
    """What live FUND-stage orders may still draw from the fund: their leaves at their limit."""
    state = ctx.state
    total = ZERO
    orders = state.orders
    for other in state.liq.cases.values():
        if other.stage == FUND and other.order_id is not None and other.asset == asset:
            order = orders[other.order_id]
            if order.is_live and order.price is not None and other.bankruptcy is not None:
                mult = state.instruments[order.symbol].multiplier
                total += abs(other.bankruptcy - order.price) * order.leaves_qty * mult
    return total


def _liq_order(
    ctx: Context,
    case: Case,
    pos: Position,
    stage: str,
    bankruptcy: Decimal,
    price: Decimal,
    ts: int,
) -> None:
    state = ctx.state
    inst = state.instruments[pos.symbol]
    order_id = state.next_order_id
    side = Side.SELL if pos.qty > 0 else Side.BUY
    qty = abs(pos.qty)
    hedge = state.accounts[case.account_id].position_mode is PositionMode.HEDGE
    intent = cmd.SubmitOrder(
        ts=ts,
        account_id=case.account_id,
        symbol=pos.symbol,
        side=side,
        order_type=OrderType.LIMIT,
        qty=qty,
        price=price,
        tif=_TIF_IOC,
        reduce_only=True,
        position_side=pos.position_side if hedge else None,
        tag=LIQUIDATION_TAG,
    )
    liq_step(
        ctx,
        case.case_id,
        pos.symbol,
        pos.position_side,
        stage,
        bankruptcy,
        ts,
        order_id=order_id,
        price=price,
    )
    ctx.emit(
        ev.OrderSubmitted(
            seq=state.seq + 1,
            ts_event=ts,
            order_id=order_id,
            intent=intent,
            reserved_asset=None,
            reserve_unit=ZERO,
            protection_price=None,
            trigger_price=None,
            expire_ts=None,
        )
    )
    ctx.outbox.append(
        SubmitToVenue(
            order_id=order_id,
            account_id=case.account_id,
            symbol=pos.symbol,
            venue=inst.venue,
            ts=ts,
            side=side,
            qty=qty,
            price=price,
            tif=_TIF_IOC,
            reduce_only=True,
            liquidation=True,
        )
    )


def _settle_fills(ctx: Context, case: Case, order: Order, ts: int) -> None:
    """Fills better than the bankruptcy price pay the difference into the insurance fund;
    worse ones (the FUND stage) are paid out of it."""
    state = ctx.state
    qty = order.cum_qty - case.settled_qty
    notional = order.cum_notional - case.settled_notional
    bankruptcy = case.bankruptcy
    assert bankruptcy is not None
    mult = state.instruments[order.symbol].multiplier
    if order.side is Side.SELL:  # closing a long
        amount = (notional - bankruptcy * qty) * mult
    else:
        amount = (bankruptcy * qty - notional) * mult
    ctx.emit(
        ev.LiquidationFundTransfer(
            seq=state.seq + 1,
            ts_event=ts,
            case_id=case.case_id,
            order_id=order.order_id,
            account_id=case.account_id,
            asset=case.asset,
            amount=amount,
            filled_qty=qty,
        )
    )


def _finish(ctx: Context, case: Case, ts: int) -> None:
    state = ctx.state
    shortfall = ZERO
    for pos in state.account_positions.get(case.account_id, ()):
        if (
            pos.qty
            and state.liq.frozen.get((case.account_id, "*" if case.mode is _CROSS else pos.symbol))
            == case.case_id
        ):
            inst = state.instruments[pos.symbol]
            if inst.is_derivative and inst.settle_asset == case.asset:
                shortfall += abs(pos.qty)
    ctx.emit(
        ev.LiquidationFinished(
            seq=state.seq + 1,
            ts_event=ts,
            case_id=case.case_id,
            account_id=case.account_id,
            shortfall=shortfall,
        )
    )
