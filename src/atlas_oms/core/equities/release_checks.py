"""The checks a session-queued order passes again when its session opens (issue 15, queue).

An order queued overnight (``session_queue.py``) was checked when it was accepted; by the open
the market and the account may have changed: a gap moved the price, an operator tripped a kill
switch, halted the symbol or the trading of the account, the venue blocked the account, the
account lost equity or made day trades. At release every check that depends on the market or the
account *at that moment* runs again, with the submit path's own functions (nothing duplicated),
as the order stands (its leaves, its current prices) and at the release instant:

* the instrument is still tradable, not halted by an operator, its venue account tradable, the
  account not being liquidated (``venue_refusal``, the market status);
* the gates: kill switches, open circuit breakers, halted/reducing trading states
  (``gates_refusal``; the order's own open quantity already counts as reducing);
* the fat finger and the price band against the reference price now (``size_refusal``,
  ``band_refusal``): the band applies to the limit price only -- a stop's trigger is the
  condition it waits for, and a gap through it is what it exists to catch;
* US equities: PDT on the release's trade day (``pdt_refusal``), and for a margin account whose
  order raises its exposure, the buying power: the account's excess equity with its open orders
  (this one included) must not be negative (the same test as at submit, from the other side).

Not checked again: order rates, duplicates, the open-order count and exposure limits (the order
is already counted in them), and a cash account's funds (reserved at acceptance and still held).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from atlas_oms.core.decimals import ZERO, plain
from atlas_oms.core.equities.buying_power import (
    buying_power,
    equity_holdings,
    gross_exposure,
    order_px,
)
from atlas_oms.core.equities.day_trades import pdt_refusal
from atlas_oms.core.risk.gates import gates_refusal
from atlas_oms.core.risk.limits import limits_for
from atlas_oms.core.risk.pretrade import band_refusal, size_refusal
from atlas_oms.core.venues.status import venue_refusal
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import InstrumentKind, Side
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import EquityAccountType, MarketStatus

if TYPE_CHECKING:
    from atlas_oms.core.context import Context
    from atlas_oms.core.orders.order import Order
    from atlas_oms.core.refusals import Refusal
    from atlas_oms.core.state.state import State
    from atlas_oms.model.instrument import Instrument


def release_refusal(ctx: Context, order: Order, inst: Instrument, ts: int) -> Refusal | None:
    """The first check the queued ``order`` now fails at ``ts`` (its release), or None."""
    state = ctx.state
    symbol = inst.symbol
    if not inst.tradable:
        return Reason.INSTRUMENT_NOT_TRADABLE, f"{symbol} is not tradable now"
    if state.risk.market_status.get(symbol) is MarketStatus.HALTED:
        return Reason.INSTRUMENT_HALTED, f"{symbol} is halted"
    if inst.venue != "sim":
        refusal = venue_refusal(state, order.account_id, inst)
        if refusal:
            return refusal
    if state.liq.frozen and state.liq.is_frozen(order.account_id, symbol):
        return (
            Reason.LIQUIDATION_IN_PROGRESS,
            f"account {order.account_id} is being liquidated: no new {symbol} orders",
        )
    leaves = order.leaves_qty
    # The order as it stands, asked now; qty 0 for the gates: its leaves already count as open.
    c = as_submit(order, ts)
    if state.risk.gated:
        refusal = gates_refusal(ctx, msgspec.structs.replace(c, qty=ZERO), inst)
        if refusal:
            return refusal
    last = state.reference_price(symbol, prefer_mark=inst.is_derivative)
    worst = order_px(
        order.side,
        order.price,
        order.protection_price,
        order.trigger_price,
        order.limit_offset,
        last,
    )
    lim = limits_for(ctx, order.account_id, symbol, order.tag)
    if lim is not None:
        if lim.max_order_qty is not None or lim.max_order_notional is not None:
            refusal = size_refusal(leaves, worst, inst, lim)
            if refusal:
                return refusal
        if order.price is not None and (
            lim.price_band_pct is not None or (lim.luld and inst.kind is InstrumentKind.EQUITY)
        ):
            refusal = band_refusal(state, inst, order.price, "limit price", lim)
            if refusal:
                return refusal
    if inst.kind is InstrumentKind.EQUITY:
        account = state.accounts[order.account_id]
        if account.equity_type is not EquityAccountType.CASH:
            refusal = pdt_refusal(state, c, inst)
            if refusal:
                return refusal
            if worst is not None:
                return _margin_refusal(state, order, inst, leaves * worst * inst.multiplier, ts)
    return None


def as_submit(order: Order, ts: int) -> SubmitOrder:
    """The order as it stands (its leaves, its current prices), as a submit at ``ts``."""
    intent = order.intent
    return SubmitOrder(
        ts=ts,
        account_id=order.account_id,
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        qty=order.leaves_qty,
        price=order.price,
        trigger_price=order.trigger_price,
        trigger_type=order.trigger_type,
        trailing_offset=order.trailing_offset,
        trailing_offset_type=order.trailing_offset_type,
        limit_offset=order.limit_offset,
        tif=order.tif,
        expire_ts=order.expire_ts,
        post_only=order.post_only,
        reduce_only=order.reduce_only,
        position_side=order.position_side,
        client_order_id=order.client_order_id,
        tag=order.tag,
        extended_hours=intent is not None and intent.extended_hours,
        market_reason=intent.market_reason if intent is not None else None,
    )


def _margin_refusal(
    state: State, order: Order, inst: Instrument, notional: Decimal, ts: int
) -> Refusal | None:
    """A margin account's order that raises its exposure needs non-negative excess equity with
    its open orders, this one included (equivalently: the margin on the raise fits in the
    excess without it)."""
    currency = inst.quote
    held = equity_holdings(state, order.account_id, currency)
    value, buys, sells = held[2].get(inst.symbol, (ZERO, ZERO, ZERO))
    with_it = gross_exposure(value, buys, sells)
    if order.side is Side.BUY:
        without = gross_exposure(value, max(ZERO, buys - notional), sells)
    else:
        without = gross_exposure(value, buys, max(ZERO, sells - notional))
    if with_it <= without:
        return None  # it reduces the exposure: always allowed
    bp = buying_power(state, order.account_id, currency, ts, held)
    if bp.excess >= 0:
        return None
    return (
        Reason.INSUFFICIENT_BUYING_POWER,
        f"at the open, {order.side} {plain(order.leaves_qty)} {inst.symbol} needs "
        f"{plain(bp.rate * (with_it - without))} {currency} of margin but account "
        f"{order.account_id}'s equity {plain(bp.equity)} is below its requirement "
        f"{plain(bp.requirement)} with its open orders ({bp.ratio}:1)",
    )
