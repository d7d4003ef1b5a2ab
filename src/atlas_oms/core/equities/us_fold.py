"""The fold's appliers of the US-market events (calendars, corporate actions, close equity)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.core.equities.calendar import apply_session_calendar_set
from atlas_oms.core.equities.day_trades import apply_close_equity_recorded
from atlas_oms.core.state.positions import Lot, Position
from atlas_oms.model import events as ev

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)


def apply_corporate_action_applied(state: State, e: ev.CorporateActionApplied) -> None:
    inst = state.instruments[e.symbol]
    state.equities.us.actions.append(e.action_id)
    for account_id, before, after, cash in e.holdings:
        bal = state.balance(account_id, inst.base)
        bal.total += after - before
        if cash:
            state.balance(account_id, inst.quote).total += cash
        for pos in state.account_positions.get(account_id, ()):
            if pos.symbol != e.symbol or not pos.qty:
                continue
            if e.kind == "SPLIT":
                assert e.ratio is not None
                _split(pos, e.ratio)
            elif e.kind == "BONUS":
                assert e.ratio is not None
                _bonus(pos, e.ratio, e.ts_event)
            elif cash:
                pos.realized_pnl += cash
                cash = ZERO  # once per holder (a hedge-mode holder's first position)
    if e.kind == "SPLIT":
        assert e.ratio is not None
        for prices in (state.last, state.mark):
            if e.symbol in prices:
                prices[e.symbol] /= e.ratio
    if e.kind != "DIVIDEND":
        firm = state.firm.get(e.symbol)
        if firm is not None:
            net = gross = ZERO
            for pos in state.symbol_positions.get(e.symbol, ()):
                net += pos.qty
                gross += abs(pos.qty)
            firm.net, firm.gross = net, gross


def _split(pos: Position, ratio: Decimal) -> None:
    pos.qty *= ratio
    cost = ZERO
    for lot in pos.lots:
        lot.qty *= ratio
        lot.price /= ratio
        cost += abs(lot.qty) * lot.price
    pos.cost = cost


def _bonus(pos: Position, ratio: Decimal, ts: int) -> None:
    added = pos.qty * ratio
    pos.lots.append(Lot(added, ZERO, 0, ts))
    pos.qty += added


US_MARKET_APPLIERS: dict[type, Callable[[Any, Any], None]] = {
    ev.SessionCalendarSet: apply_session_calendar_set,
    ev.CorporateActionApplied: apply_corporate_action_applied,
    ev.CloseEquityRecorded: apply_close_equity_recorded,
}
