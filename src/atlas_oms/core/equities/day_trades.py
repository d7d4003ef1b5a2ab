"""Pattern-day-trader counting (FINRA Rule 4210(f)(8)(B)) and prior-close equity.

A *day trade* is opening and closing a position in the same security on the same trade day in a
margin account: buy 100 then sell 100 is one; buy, buy, sell is one; buy, sell, buy, sell is two
(each close that follows an open of the same day counts once). A customer who makes four or more
day trades within five business days is a pattern day trader, and one with less than $25,000 of
equity (at the prior close) may not day trade. Atlas refuses the order that would make the
fourth day trade of the window (``PATTERN_DAY_TRADER``) -- the broker's "PDT protection" -- so
the account is never flagged; :func:`pdt_status` shows the count and the flag.

The counts are folded from fills (``OrderFilled``) of equity instruments in ``MARGIN`` accounts;
the business days come from the session calendar when the core has one (``calendar.py``).
Prior-close equity is journaled by ``RecordCloseEquity`` (the runtime sends it at the close);
without a record, the current equity stands in.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from atlas_oms.core.decimals import plain
from atlas_oms.core.equities.book import INTRADAY_SESSION, trade_day
from atlas_oms.core.equities.buying_power import PDT_MIN_EQUITY, buying_power
from atlas_oms.core.equities.calendar import business_days_back, day_number, day_text
from atlas_oms.core.refusals import Refusal
from atlas_oms.model import events as ev
from atlas_oms.model.enums import InstrumentKind, PositionSide, Side
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import EquityAccountType

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State
    from atlas_oms.model.commands import SubmitOrder
    from atlas_oms.model.instrument import Instrument

ZERO = Decimal(0)
#: Day trades within this many business days make a pattern day trader ...
WINDOW_DAYS = 5
#: ... when there are at least this many.
PDT_TRADES = 4
_OPENED, _CLOSED = 1, 2
_MARGIN = EquityAccountType.MARGIN
_EQUITY = InstrumentKind.EQUITY


class PdtStatus(msgspec.Struct, frozen=True, kw_only=True):
    """An account's day trades in the window of five business days ending ``day``."""

    account_id: str
    day: str
    window_start: str
    day_trades: int
    flagged: bool
    prior_close_equity: Decimal | None


def day_trade_count(state: State, account_id: str, day: int) -> tuple[int, int]:
    """(day trades in the five business days ending ``day``, the window's first day)."""
    us = state.equities.us
    first = business_days_back(us, INTRADAY_SESSION, day, WINDOW_DAYS)
    days = us.day_trades.get(account_id, ())
    return sum(1 for d in days if first <= d <= day), first


def prior_close_equity(state: State, account_id: str, currency: str) -> Decimal | None:
    rec = state.equities.us.close_equity.get(f"{account_id}/{currency}")
    return rec[1] if rec is not None else None


def pdt_status(state: State, account_id: str, ts: int, currency: str = "USD") -> PdtStatus:
    day = trade_day(ts)
    count, first = day_trade_count(state, account_id, day)
    return PdtStatus(
        account_id=account_id,
        day=day_text(day),
        window_start=day_text(first),
        day_trades=count,
        flagged=count >= PDT_TRADES,
        prior_close_equity=prior_close_equity(state, account_id, currency),
    )


def pdt_refusal(state: State, c: SubmitOrder, inst: Instrument) -> Refusal | None:
    """Refuse the order that would close, on its opening day, a position of a margin account
    whose fourth day trade in five business days it would be, under $25,000 of equity."""
    legs = state.equities.us.legs.get(c.account_id)
    if not legs:
        return None
    day = trade_day(c.ts)
    if legs.get(inst.symbol) != (day, _OPENED):
        return None
    pos = state.positions.get((c.account_id, inst.symbol, c.position_side or PositionSide.BOTH))
    held = pos.qty if pos is not None else ZERO
    if not ((held > 0 and c.side is Side.SELL) or (held < 0 and c.side is Side.BUY)):
        return None
    count, first = day_trade_count(state, c.account_id, day)
    if count + 1 < PDT_TRADES:
        return None
    equity = prior_close_equity(state, c.account_id, inst.quote)
    source = "prior-close"
    if equity is None:
        equity = buying_power(state, c.account_id, inst.quote, c.ts).equity
        source = "current (no close recorded)"
    if equity >= PDT_MIN_EQUITY:
        return None
    return (
        Reason.PATTERN_DAY_TRADER,
        f"{c.side} {plain(c.qty)} {inst.symbol} would be account {c.account_id}'s day trade "
        f"number {count + 1} in the 5 business days from {day_text(first)}, and its "
        f"{source} equity {plain(equity)} {inst.quote} is below {plain(PDT_MIN_EQUITY)}: "
        "a pattern day trader needs $25,000 (FINRA Rule 4210)",
    )


# ----------------------------------------------------------------------------------- fold
def chain_day_trades(
    inner: Callable[[State, ev.OrderFilled], None],
) -> Callable[[State, ev.OrderFilled], None]:
    """Wrap the fill applier: count day trades of margin accounts' equity fills."""

    def apply(state: State, e: ev.OrderFilled) -> None:
        order = state.orders.get(e.order_id)
        inst = state.instruments.get(e.symbol)
        if (
            order is None
            or inst is None
            or inst.kind is not _EQUITY
            or state.accounts[e.account_id].equity_type is not _MARGIN
        ):
            inner(state, e)
            return
        key = (e.account_id, e.symbol, order.position_side)
        pos = state.positions.get(key)
        before = pos.qty if pos is not None else ZERO
        inner(state, e)
        pos = state.positions.get(key)
        after = pos.qty if pos is not None else ZERO
        _note(state, e.account_id, e.symbol, trade_day(e.ts_event), before, after)

    return apply


def _note(state: State, account_id: str, symbol: str, day: int, before: Any, after: Any) -> None:
    us = state.equities.us
    flipped = before and after and (before > 0) != (after > 0)
    closes = flipped or abs(after) < abs(before)
    opens = flipped or abs(after) > abs(before)
    legs = us.legs.setdefault(account_id, {})
    if closes and legs.get(symbol) == (day, _OPENED):
        trades = us.day_trades.setdefault(account_id, [])
        trades.append(day)
        if len(trades) > 20:  # keep two weeks
            del trades[: len(trades) - 20]
        legs[symbol] = (day, _CLOSED)
    if opens and legs.get(symbol) != (day, _OPENED):
        for s in [s for s, (d, _) in legs.items() if d < day]:  # yesterday's legs are over
            del legs[s]
        legs[symbol] = (day, _OPENED)


def apply_close_equity_recorded(state: State, e: ev.CloseEquityRecorded) -> None:
    day = day_number(e.day)
    for account_id, currency, equity in e.equities:
        state.equities.us.close_equity[f"{account_id}/{currency}"] = (day, equity)
