"""The per-account desk of managed trades (issue 13; seed 001 sections 8.2, 12, 13, 14, 16) and
its fold: the trading day and its capital, the cycle counters, the slippage window (§14.2), the
repricing degradation windows and modes (§8.2), and the prints per symbol for the pre-market
volume check (§13).

Like the rest of the state it changes only by events, and the fold only books: the decisions
(day capital, cycle numbers, escalations, degradations) are fields of the events of
``model/events_cycles.py``; the windows are bookkeeping of what the trade events say (an entry
placed is an order, an entry repriced a cancel/replace, a bracket an executed attempt, an entry
abandoned with nothing filled an unfilled attempt).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.core.decimals import ZERO
from atlas_oms.core.policy import trade_state as ts_
from atlas_oms.model import events as ev

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State


@dataclass(slots=True)
class DeskState:
    """One account's day, cycles and guards."""

    account_id: str
    #: The New York calendar day (days since 1970-01-01) of the trading day; -1 before the first.
    day: int = -1
    capital: Decimal = ZERO
    currency: str = ""
    #: The trades accepted this day, in order (each a cycle).
    day_trades: list[str] = field(default_factory=list)
    #: symbol -> the last cycle number of the pipeline (account, symbol) this day.
    cycles: dict[str, int] = field(default_factory=dict)
    #: §14.2: the adverse slippage of the last trades, oldest first, and the two flags.
    slippage: list[Decimal] = field(default_factory=list)
    slippage_warning: bool = False
    slippage_reduced: bool = False
    #: §8.2: timestamps (ns) of entry orders, entry cancel/replaces, executed attempts; the
    #: outcome of the last attempts (True: executed); the degraded modes in force.
    orders: list[int] = field(default_factory=list)
    cancel_replaces: list[int] = field(default_factory=list)
    fills: list[int] = field(default_factory=list)
    attempts: list[bool] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CyclesBook:
    """Every account's desk, and per symbol the prints of the last volume window:
    ``(ts, qty, venue trade id)``, each trade once."""

    desks: dict[str, DeskState] = field(default_factory=dict)
    prints: dict[str, list[tuple[int, Decimal, str]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.desks)


def desk_of(state: State, account_id: str) -> DeskState | None:
    book: CyclesBook = state.cycles
    return book.desks.get(account_id)


def _keep(state: State) -> int:
    p = state.policy.repricing
    return max(p.cancel_replace_window_ms, p.order_trade_window_ms) * 1_000_000


def _stamp(stamps: list[int], ts: int, keep: int) -> None:
    while stamps and stamps[0] <= ts - keep:
        del stamps[0]
    stamps.append(ts)


# ------------------------------------------------------------------------------------ fold
def apply_day_opened(state: State, e: Any) -> None:
    book: CyclesBook = state.cycles
    desk = book.desks.get(e.account_id)
    if desk is None:
        desk = book.desks[e.account_id] = DeskState(e.account_id)
    desk.day = e.day
    desk.capital = e.capital
    desk.currency = e.currency
    desk.day_trades = []
    desk.cycles = {}


def apply_sized(state: State, e: Any) -> None:
    t = state.trades[e.trade_id]
    t.cycle_number = e.cycle_number
    t.add_to = e.add_to
    t.premarket = e.premarket
    desk = desk_of(state, e.account_id)
    if desk is not None:
        desk.day_trades.append(e.trade_id)
        desk.cycles[t.symbol] = e.cycle_number


def apply_slippage_recorded(state: State, e: Any) -> None:
    state.trades[e.trade_id].entry_slippage = e.adverse
    desk = desk_of(state, e.account_id)
    if desk is not None:
        p = state.policy.slippage
        desk.slippage.append(e.adverse)
        del desk.slippage[: -max(p.warn_trades, p.reduce_trades, 1)]


_SLIPPAGE_FLAGS = {
    "SLIPPAGE_WARN": ("slippage_warning", True),
    "SLIPPAGE_WARN_CLEARED": ("slippage_warning", False),
    "SLIPPAGE_REDUCE_SIZE_25": ("slippage_reduced", True),
    "SLIPPAGE_SIZE_RESTORED": ("slippage_reduced", False),
}


def apply_slippage_escalated(state: State, e: Any) -> None:
    desk = desk_of(state, e.account_id)
    flag = _SLIPPAGE_FLAGS.get(e.action)
    if desk is not None and flag is not None:
        setattr(desk, flag[0], flag[1])


def apply_degraded(state: State, e: Any) -> None:
    desk = desk_of(state, e.account_id)
    if desk is None:
        return
    if e.entered and e.mode not in desk.modes:
        desk.modes.append(e.mode)
    elif not e.entered and e.mode in desk.modes:
        desk.modes.remove(e.mode)


def apply_resumed(state: State, e: Any) -> None:
    desk = desk_of(state, e.account_id)
    if desk is not None:
        desk.attempts = []
        if "LOW_FILL_RATE" in desk.modes:
            desk.modes.remove("LOW_FILL_RATE")


def _attempt(state: State, account_id: str, executed: bool, ts: int) -> None:
    desk = desk_of(state, account_id)
    if desk is None:
        return
    desk.attempts.append(executed)
    del desk.attempts[: -max(state.policy.repricing.fill_rate_attempts, 1)]
    if executed:
        _stamp(desk.fills, ts, _keep(state))


def apply_entry_placed(state: State, e: ev.TradeEntryPlaced) -> None:
    ts_.apply_entry_placed(state, e)
    desk = desk_of(state, state.trades[e.trade_id].account_id)
    if desk is not None:
        _stamp(desk.orders, e.ts_event, _keep(state))


def apply_entry_repriced(state: State, e: ev.TradeEntryRepriced) -> None:
    ts_.apply_entry_repriced(state, e)
    desk = desk_of(state, state.trades[e.trade_id].account_id)
    if desk is not None:
        _stamp(desk.cancel_replaces, e.ts_event, _keep(state))


def apply_bracket_placed(state: State, e: ev.TradeBracketPlaced) -> None:
    ts_.apply_bracket_placed(state, e)
    _attempt(state, state.trades[e.trade_id].account_id, True, e.ts_event)


def apply_entry_abandoned(state: State, e: ev.TradeEntryAbandoned) -> None:
    t = state.trades[e.trade_id]
    unfilled = t.stop_order_id is None and not e.filled_qty
    ts_.apply_entry_abandoned(state, e)
    if unfilled:
        _attempt(state, t.account_id, False, e.ts_event)


def book_print(state: State, e: ev.OrderFilled) -> None:
    """§13: keep the symbol's prints of the last ``premarket.volume-window-ms`` (both sides of
    a trade on the built-in exchange arrive one after the other: the second is not counted).
    Only instruments that can be in pre-market are counted: a session schedule or a market
    status set by an operator."""
    book: CyclesBook = state.cycles
    prints = book.prints.get(e.symbol)
    if prints is None:
        inst = state.instruments.get(e.symbol)
        if (inst is None or inst.session is None) and e.symbol not in state.risk.market_status:
            return  # no pre-market for this instrument: nothing to count
        prints = book.prints[e.symbol] = []
    elif prints[-1][2] == e.trade_id:
        return
    horizon = e.ts_event - state.policy.premarket.volume_window_ms * 1_000_000
    while prints and prints[0][0] <= horizon:
        del prints[0]
    prints.append((e.ts_event, e.last_qty, e.trade_id))


def chain_filled(applier: Any) -> Any:
    """The ``OrderFilled`` applier followed by :func:`book_print`."""

    def apply_filled(state: State, e: ev.OrderFilled) -> None:
        applier(state, e)
        book_print(state, e)

    return apply_filled


DESK_APPLIERS: dict[type, Any] = {
    ev.TradingDayOpened: apply_day_opened,
    ev.TradeSized: apply_sized,
    ev.TradeSlippageRecorded: apply_slippage_recorded,
    ev.SlippageEscalated: apply_slippage_escalated,
    ev.RepricingDegraded: apply_degraded,
    ev.TradingResumed: apply_resumed,
    ev.TradeEntryPlaced: apply_entry_placed,
    ev.TradeEntryRepriced: apply_entry_repriced,
    ev.TradeBracketPlaced: apply_bracket_placed,
    ev.TradeEntryAbandoned: apply_entry_abandoned,
}
