"""US-equities buying-power checks of a new order or a modify (MRG-4; docs/RISK.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.decimals import plain
from atlas_oms.core.equities.book import trade_date_text
from atlas_oms.core.equities.buying_power import (
    buying_power,
    equity_holdings,
    gross_exposure,
    live_notional,
    order_px,
)
from atlas_oms.core.equities.day_trades import pdt_refusal
from atlas_oms.core.orders.order import Order
from atlas_oms.core.refusals import Refusal
from atlas_oms.model.enums import Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import EquityAccountType

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State
    from atlas_oms.model.account import Account
    from atlas_oms.model.commands import SubmitOrder

ZERO = Decimal(0)
_CASH = EquityAccountType.CASH


def check_submit(
    state: State,
    c: SubmitOrder,
    inst: Instrument,
    unit: Decimal,
    protection: Decimal | None,
    trigger: Decimal | None,
) -> Refusal | None:
    """Buying power of a new equity order. ``unit`` is what one unit of it locks (cash account:
    the quote amount of a buy, fee included, or one share of a sell)."""
    account = state.accounts[c.account_id]
    what = f"{c.side} {plain(c.qty)} {inst.symbol}"
    if account.equity_type is _CASH:
        return _cash_refusal(state, c.account_id, inst, c.side, c.qty * unit, c.ts, what)
    px = order_px(
        c.side, c.price, protection, trigger, c.limit_offset, state.reference_price(inst.symbol)
    )
    if px is None:
        return (
            Reason.NO_REFERENCE_PRICE,
            f"no price for {inst.symbol} yet: a margin account's order is valued at a price",
        )
    notional = c.qty * px * inst.multiplier
    refusal = pdt_refusal(state, c, inst)
    if refusal:
        return refusal
    return _margin_refusal(state, account, inst, c.side, ZERO, notional, c.ts, what)


def check_modify(
    state: State,
    order: Order,
    inst: Instrument,
    qty: Decimal,
    price: Decimal | None,
    trigger: Decimal | None,
    protection: Decimal | None,
    unit: Decimal,
    ts: int,
) -> Refusal | None:
    """Buying power of a modify: what it adds is checked as a new order would be."""
    account = state.accounts[order.account_id]
    leaves = qty - order.cum_qty
    what = f"modify of order {order.order_id} to {plain(qty)} {inst.symbol}"
    if account.equity_type is _CASH:
        extra = leaves * unit - order.reserved if leaves > 0 else ZERO
        if extra <= 0:
            return None
        return _cash_refusal(state, order.account_id, inst, order.side, extra, ts, what)
    last = state.reference_price(inst.symbol)
    old = live_notional(order, last, inst.multiplier)
    px = order_px(order.side, price, protection, trigger, order.limit_offset, last)
    new = leaves * px * inst.multiplier if px is not None and leaves > 0 else ZERO
    return _margin_refusal(state, account, inst, order.side, old, new, ts, what)


def _cash_refusal(
    state: State,
    account_id: str,
    inst: Instrument,
    side: Side,
    need: Decimal,
    ts: int,
    what: str,
) -> Refusal | None:
    """A cash account: a buy within settled free cash, a sell within the shares held."""
    if side is Side.SELL:
        bal = state.balances.get((account_id, inst.base))
        free = bal.free if bal is not None else ZERO
        if need <= free:
            return None
        held = bal.total if bal is not None else ZERO
        offered = f", {plain(bal.locked)} already offered" if bal is not None and bal.locked else ""
        return (
            Reason.SHORT_SALE_NOT_ALLOWED,
            f"{what} needs {plain(need)} {inst.base} but account {account_id} has "
            f"{plain(free)} to sell ({plain(held)} held{offered}): a cash account may not sell short",
        )
    currency = inst.quote
    bal = state.balances.get((account_id, currency))
    free = bal.free if bal is not None else ZERO
    unsettled, settles = state.equities.unsettled_at(account_id, currency, ts)
    power = max(ZERO, free - unsettled)
    if need <= power:
        return None
    text = (
        f"{what} needs {plain(need)} {currency} but account {account_id}'s buying power is "
        f"{plain(power)} {currency} of settled free cash"
    )
    if unsettled:
        assert settles is not None
        text += (
            f" ({plain(free)} free, of which {plain(unsettled)} is sale proceeds settling T+1, "
            f"the last on {trade_date_text(settles)}): a cash account pays only with settled cash"
        )
    return Reason.INSUFFICIENT_BUYING_POWER, text


def _margin_refusal(
    state: State,
    account: Account,
    inst: Instrument,
    side: Side,
    old: Decimal,
    new: Decimal,
    ts: int,
    what: str,
) -> Refusal | None:
    """Reg T: an order whose worst case raises the account's exposure needs margin on the raise
    (plus its fee) out of the excess equity. One that does not (a sale of shares held, a buy
    covering a short, a smaller modify) always passes: it can only bring the account nearer to
    its requirement."""
    currency = inst.quote
    held = equity_holdings(state, account.account_id, currency)
    value, buys, sells = held[2].get(inst.symbol, (ZERO, ZERO, ZERO))
    before = gross_exposure(value, buys, sells)
    if side is Side.BUY:
        after = gross_exposure(value, buys - old + new, sells)
    else:
        after = gross_exposure(value, buys, sells - old + new)
    raised = after - before
    if raised <= 0:
        return None
    bp = buying_power(state, account.account_id, currency, ts, held)
    fee = max(new - old, ZERO) * max(inst.maker_fee, inst.taker_fee, ZERO)
    need = bp.rate * raised + fee
    if need <= bp.excess:
        return None
    when = "intraday" if bp.ratio == 4 else "Reg T"
    text = (
        f"{what} needs {plain(need / bp.rate)} {currency} of buying power "
        f"({plain(bp.rate * 100)}% margin on {plain(raised)} of exposure"
        + (f" + fee {plain(fee)}" if fee else "")
        + f") but account {account.account_id} has {plain(bp.buying_power)} {currency}: "
        f"{bp.ratio}:1 {when}, {bp.ratio} × (equity {plain(bp.equity)} - "
        f"{plain(bp.rate * 100)}% × exposure {plain(bp.exposure)})"
    )
    if bp.note:
        text += f"; {bp.note}"
    return Reason.INSUFFICIENT_BUYING_POWER, text
