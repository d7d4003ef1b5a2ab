"""The fold of reference data, money and prices: instruments, accounts, deposits and
withdrawals, transfers, leverage, last and mark prices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlas_oms.model import events as ev

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State


def apply_instrument_added(state: State, e: ev.InstrumentAdded) -> None:
    state.instruments[e.instrument.symbol] = e.instrument


def apply_account_opened(state: State, e: ev.AccountOpened) -> None:
    state.accounts[e.account.account_id] = e.account
    state.risk.on_account(e.account.account_id, e.account.parent_id)


def apply_balance_adjusted(state: State, e: ev.BalanceAdjusted) -> None:
    state.balance(e.account_id, e.asset).total += e.amount
    state.liq_index.dirty.add(e.account_id)


def apply_funds_transferred(state: State, e: ev.FundsTransferred) -> None:
    # The same Decimal leaves one balance and reaches the other: nothing is created or lost.
    state.balance(e.account_id, e.asset).total -= e.amount
    state.balance(e.to_account_id, e.asset).total += e.amount
    dirty = state.liq_index.dirty  # both accounts' cross margin (liquidation prices) moved
    dirty.add(e.account_id)
    dirty.add(e.to_account_id)


def apply_leverage_set(state: State, e: ev.LeverageSet) -> None:
    state.leverage[(e.account_id, e.symbol)] = e.leverage


def apply_prices_updated(state: State, e: ev.PricesUpdated) -> None:
    if e.last is not None:
        state.last[e.symbol] = e.last
    if e.mark is not None:
        state.mark[e.symbol] = e.mark
        state.liq_index.epoch += 1
