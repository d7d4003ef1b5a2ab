"""The US-market commands: corporate actions on US equities (POS-5) -- splits, stock bonuses,
cash dividends -- and, at the end, the session calendar and the close's equity record.

An operator (or the runtime, from a feed file) sends ``ApplyCorporateAction``; the handler
decides each holder's shares and cash and journals them in ``CorporateActionApplied``, which the
fold books (``us_fold.py``):

* **SPLIT** ``ratio`` (2 = 2-for-1, 0.1 = 1-for-10): shares × ratio; every lot's quantity × ratio
  and price ÷ ratio, so the cost basis (Σ qty × price) is unchanged and the cost per share is
  divided by the ratio. Open orders are then modified through the ordinary modify path (so a
  venue order is changed at the venue): leaves × ratio (down to the lot size) on top of what
  has filled, limit and trigger prices ÷ ratio to the tick (buys down, sells up: never a worse
  price than the holder asked for). The last and mark prices ÷ ratio too.
* **BONUS** ``ratio`` (0.2 = one new share per five held): shares × ratio more, as a new lot at
  zero cost; the average cost falls.
* **DIVIDEND** ``amount`` per share: cash (quote currency) = shares × amount, into the balance
  and the position's realized P&L; a short pays it. No position change.

Fractions a split leaves below the lot size are kept (brokers pay cash in lieu: not modelled).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.context import Context
from atlas_oms.core.equities.book import trade_day
from atlas_oms.core.equities.buying_power import buying_power
from atlas_oms.core.equities.calendar import DATE, day_text
from atlas_oms.core.orders import amend
from atlas_oms.core.refusals import operator_reject
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import InstrumentKind, Side
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import EquityAccountType

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)
KINDS = ("SPLIT", "BONUS", "DIVIDEND")


def _refusal(state: State, c: cmd.ApplyCorporateAction) -> tuple[Reason, str] | None:
    if not isinstance(c.actor, str) or not c.actor.strip():
        return Reason.MISSING_ACTOR, "say who acts: actor must not be empty"
    inst = state.instruments.get(c.symbol)
    if inst is None:
        return Reason.UNKNOWN_INSTRUMENT, f"instrument {c.symbol} does not exist"
    bad = Reason.INVALID_CORPORATE_ACTION
    if inst.kind is not InstrumentKind.EQUITY:
        return bad, f"{c.symbol} is not an equity"
    if c.kind not in KINDS:
        return bad, f"unknown corporate action {c.kind!r} (SPLIT, BONUS or DIVIDEND)"
    if not c.action_id:
        return bad, "action_id must name the action"
    if c.action_id in state.equities.us.actions:
        return bad, f"corporate action {c.action_id} was applied already"
    if c.kind == "DIVIDEND":
        if c.amount is None or not c.amount.is_finite() or c.amount <= 0:
            return bad, "a dividend needs a positive amount per share"
    elif c.ratio is None or not c.ratio.is_finite() or c.ratio <= 0:
        return bad, f"a {c.kind.lower()} needs a positive ratio"
    return None


def apply_corporate_action(ctx: Context, c: cmd.ApplyCorporateAction) -> None:
    state = ctx.state
    refusal = _refusal(state, c)
    if refusal:
        operator_reject(ctx, c, refusal)
        return
    inst = state.instruments[c.symbol]
    holdings = []
    for (account_id, asset), bal in sorted(state.balances.items()):
        if asset != inst.base or not bal.total:
            continue
        before = bal.total
        after, cash = before, ZERO
        if c.kind == "SPLIT":
            assert c.ratio is not None
            after = before * c.ratio
        elif c.kind == "BONUS":
            assert c.ratio is not None
            after = before + before * c.ratio
        else:
            assert c.amount is not None
            cash = before * c.amount * inst.multiplier
        holdings.append((account_id, before, after, cash))
    ctx.emit(
        ev.CorporateActionApplied(
            seq=state.seq + 1,
            ts_event=c.ts,
            symbol=c.symbol,
            kind=c.kind,
            action_id=c.action_id,
            ratio=c.ratio,
            amount=c.amount,
            holdings=tuple(holdings),
            actor=c.actor,
            reason=c.reason,
        )
    )
    if c.kind != "SPLIT":
        return
    assert c.ratio is not None
    live = [o for o in state.orders.values() if o.symbol == c.symbol and o.is_live and o.leaves_qty]
    # Prices fall in a split (rise in a reverse one): buys are lowered before sells (sells
    # raised before buys), so no order crosses another on the way at a venue.
    first = Side.BUY if c.ratio > 1 else Side.SELL
    for order in sorted(live, key=lambda o: (o.side is not first, o.order_id)):
        leaves = _to_step(order.leaves_qty * c.ratio, inst.lot_size, ROUND_FLOOR)
        buy = order.side is Side.BUY
        amend.modify(
            ctx,
            cmd.ModifyOrder(
                ts=c.ts,
                account_id=order.account_id,
                order_id=order.order_id,
                qty=order.cum_qty + leaves,
                price=_adjusted(order.price, c.ratio, inst.tick_size, buy),
                trigger_price=_adjusted(order.trigger_price, c.ratio, inst.tick_size, buy),
            ),
        )


def _to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding=rounding) * step


def _adjusted(px: Decimal | None, ratio: Decimal, tick: Decimal, buy: bool) -> Decimal | None:
    if px is None:
        return None
    return _to_step(px / ratio, tick, ROUND_FLOOR if buy else ROUND_CEILING)


# --------------------------------------------------------- the calendar and the close
def set_session_calendar(ctx: Context, c: cmd.SetSessionCalendar) -> None:
    refusal = None
    if not isinstance(c.actor, str) or not c.actor.strip():
        refusal = Reason.MISSING_ACTOR, "say who acts: actor must not be empty"
    elif c.session != "XNYS":
        refusal = Reason.INVALID_CALENDAR, f"unknown session {c.session!r} (XNYS)"
    else:
        for text in (c.first_day, c.last_day, *(x.day for x in c.exceptions)):
            if not DATE.fullmatch(text):
                refusal = Reason.INVALID_CALENDAR, f"{text!r} is not a YYYY-MM-DD day"
                break
        else:
            if c.last_day < c.first_day:
                refusal = Reason.INVALID_CALENDAR, "last_day is before first_day"
            for x in c.exceptions:
                if not c.first_day <= x.day <= c.last_day:
                    refusal = Reason.INVALID_CALENDAR, f"{x.day} is outside the calendar's days"
                elif x.close_min is not None and not 9 * 60 + 30 < x.close_min <= 16 * 60:
                    refusal = Reason.INVALID_CALENDAR, f"{x.day}: close must be 09:31-16:00"
    if refusal:
        operator_reject(ctx, c, refusal)
        return
    ctx.emit(
        ev.SessionCalendarSet(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            session=c.session,
            first_day=c.first_day,
            last_day=c.last_day,
            exceptions=tuple((x.day, x.close_min, x.name) for x in c.exceptions),
            actor=c.actor,
            reason=c.reason,
        )
    )


def record_close_equity(ctx: Context, c: cmd.RecordCloseEquity) -> None:
    state = ctx.state
    currencies = sorted(
        {i.quote for i in state.instruments.values() if i.kind is InstrumentKind.EQUITY}
    )
    rows = tuple(
        (a.account_id, cur, buying_power(state, a.account_id, cur, c.ts).equity)
        for a in sorted(state.accounts.values(), key=lambda a: a.account_id)
        if a.equity_type is EquityAccountType.MARGIN
        for cur in currencies
    )
    ctx.emit(
        ev.CloseEquityRecorded(
            seq=state.seq + 1, ts_event=c.ts, day=day_text(trade_day(c.ts)), equities=rows
        )
    )
