"""Paired arbitrage orders (issue 16, VEN-5, off by default: only an explicit
``SubmitArbitragePair`` makes one).

Both legs go out at once as IOC limit orders (ordinary orders through ``core/orders/submit.py``,
so every risk check applies to each), tagged ``arb:<pair id>`` unless the command names a tag.
When both have ended, a leg that filled more than the other (in base units) is unwound: a market
IOC order for the excess on that leg's instrument and account, opposite side. Events:
``ArbitragePairPlaced`` -> (``ArbitragePairUnwound``) -> ``ArbitragePairDone``; the pair lives in
``state.pairs`` until it is done, and the engine runs :func:`after_events` only while one does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.context import Context
from atlas_oms.core.orders.submit import submit
from atlas_oms.core.refusals import reject_command
from atlas_oms.core.sor.pair_state import UNWINDING, WORKING, PairState
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.commands_sor import SubmitArbitragePair
from atlas_oms.model.enums import TERMINAL_STATUSES, OrderType, Side, TimeInForce
from atlas_oms.model.events_sor import (
    ArbitragePairDone,
    ArbitragePairPlaced,
    ArbitragePairUnwound,
)
from atlas_oms.model.reasons import Reason

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)


def _place(ctx: Context, c: cmd.SubmitOrder) -> int | None:
    """Submit ``c``; the id the engine gave it (a refused order may have one), or None."""
    state = ctx.state
    before = state.next_order_id
    submit(ctx, c)
    return before if state.next_order_id > before else None


def submit_pair(ctx: Context, c: SubmitArbitragePair) -> None:
    """Handle ``SubmitArbitragePair``: both legs at once, then follow them."""
    state = ctx.state
    buy = state.instruments.get(c.buy_symbol)
    sell = state.instruments.get(c.sell_symbol)
    problem: tuple[Reason, str] | None = None
    if c.pair_id in state.pairs or any(
        (c.buy_account_id, f"{c.pair_id}:{x}") in state.client_ids for x in "BSU"
    ):
        problem = (Reason.INVALID_FIELD, f"arbitrage pair {c.pair_id} already exists")
    elif buy is None or sell is None:
        missing = c.buy_symbol if buy is None else c.sell_symbol
        problem = (Reason.UNKNOWN_INSTRUMENT, f"no instrument {missing}")
    elif c.buy_symbol == c.sell_symbol:
        problem = (Reason.INVALID_FIELD, "the two legs of an arbitrage pair need two instruments")
    elif not (c.buy_qty > 0 and c.sell_qty > 0 and c.buy_limit > 0 and c.sell_limit > 0):
        problem = (Reason.INVALID_FIELD, "leg quantities and limits must be positive")
    if problem is not None or buy is None or sell is None:
        reason, message = problem or (Reason.INVALID_FIELD, "")
        reject_command(ctx, c, reason, message, c.buy_account_id)
        return
    tag = c.tag or f"arb:{c.pair_id}"
    legs: list[int | None] = []
    for account, symbol, side, qty, limit, x in (
        (c.buy_account_id, c.buy_symbol, Side.BUY, c.buy_qty, c.buy_limit, "B"),
        (c.sell_account_id, c.sell_symbol, Side.SELL, c.sell_qty, c.sell_limit, "S"),
    ):
        legs.append(
            _place(
                ctx,
                cmd.SubmitOrder(
                    ts=c.ts,
                    account_id=account,
                    symbol=symbol,
                    side=side,
                    order_type=OrderType.LIMIT,
                    qty=qty,
                    price=limit,
                    tif=TimeInForce.IOC,
                    client_order_id=f"{c.pair_id}:{x}",
                    tag=tag,
                ),
            )
        )
    ctx.emit(
        ArbitragePairPlaced(
            seq=state.seq + 1,
            ts_event=c.ts,
            pair_id=c.pair_id,
            buy_account_id=c.buy_account_id,
            buy_symbol=c.buy_symbol,
            buy_qty=c.buy_qty,
            buy_limit=c.buy_limit,
            sell_account_id=c.sell_account_id,
            sell_symbol=c.sell_symbol,
            sell_qty=c.sell_qty,
            sell_limit=c.sell_limit,
            buy_order_id=legs[0],
            sell_order_id=legs[1],
            base_mult_buy=buy.multiplier,
            base_mult_sell=sell.multiplier,
        )
    )
    check(ctx, state.pairs[c.pair_id], c.ts)


def _ended(state: State, order_id: int | None) -> bool:
    order = state.orders.get(order_id) if order_id is not None else None
    return order is None or order.status in TERMINAL_STATUSES


def _filled(state: State, order_id: int | None) -> Decimal:
    order = state.orders.get(order_id) if order_id is not None else None
    return order.cum_qty if order is not None else ZERO


def check(ctx: Context, p: PairState, ts: int) -> None:
    """Move pair ``p`` on when its orders have ended: unwind an excess, or finish."""
    state = ctx.state
    bought = _filled(state, p.buy_order_id) * p.base_mult_buy
    sold = _filled(state, p.sell_order_id) * p.base_mult_sell
    if p.status == WORKING:
        if not (_ended(state, p.buy_order_id) and _ended(state, p.sell_order_id)):
            return
        if bought == sold:
            _done(ctx, p, bought, sold, ZERO, ZERO, ts)
            return
        over_buy = bought > sold
        account = p.buy_account_id if over_buy else p.sell_account_id
        symbol = p.buy_symbol if over_buy else p.sell_symbol
        mult = p.base_mult_buy if over_buy else p.base_mult_sell
        side = Side.SELL if over_buy else Side.BUY
        qty = abs(bought - sold) / mult
        order_id = _place(
            ctx,
            cmd.SubmitOrder(
                ts=ts,
                account_id=account,
                symbol=symbol,
                side=side,
                order_type=OrderType.MARKET,
                qty=qty,
                tif=TimeInForce.IOC,
                client_order_id=f"{p.pair_id}:U",
                tag=f"arb:{p.pair_id}",
            ),
        )
        ctx.emit(
            ArbitragePairUnwound(
                seq=state.seq + 1,
                ts_event=ts,
                pair_id=p.pair_id,
                buy_filled=bought,
                sell_filled=sold,
                account_id=account,
                symbol=symbol,
                side=side.value,
                qty=qty,
                order_id=order_id,
            )
        )
    if p.status == UNWINDING and _ended(state, p.unwind_order_id):
        unwound = _filled(state, p.unwind_order_id) * p.unwind_mult
        _done(ctx, p, bought, sold, unwound, abs(bought - sold) - unwound, ts)


def _done(
    ctx: Context,
    p: PairState,
    bought: Decimal,
    sold: Decimal,
    unwound: Decimal,
    open_qty: Decimal,
    ts: int,
) -> None:
    ctx.emit(
        ArbitragePairDone(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            pair_id=p.pair_id,
            buy_filled=bought,
            sell_filled=sold,
            unwound=unwound,
            open_qty=open_qty,
        )
    )


#: Events after which a pair's order may have ended or filled.
_WATCH = (
    ev.OrderFilled,
    ev.OrderCanceled,
    ev.OrderExpired,
    ev.OrderRejected,
    ev.OrderDenied,
)


def after_events(ctx: Context, out: list[ev.EventBase], start: int) -> None:
    """Follow the pairs whose orders the events among ``out[start:]`` touched (run by the
    engine only while a pair is in flight)."""
    state = ctx.state
    by_order = state.pair_orders
    i = start
    while i < len(out):
        event = out[i]
        i += 1
        if isinstance(event, _WATCH):
            pair_id = by_order.get(event.order_id)
            p = state.pairs.get(pair_id) if pair_id is not None else None
            if p is not None:
                check(ctx, p, event.ts_event)
