"""Events of instruments, accounts, balances and prices, and refused commands. Part of the
union in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.account import Account
from atlas_oms.model.event_base import EventBase
from atlas_oms.model.instrument import Instrument


class InstrumentAdded(EventBase, frozen=True):
    instrument: Instrument


class AccountOpened(EventBase, frozen=True):
    account: Account


class BalanceAdjusted(EventBase, frozen=True):
    account_id: str
    asset: str
    amount: Decimal
    reason: str


class FundsTransferred(EventBase, frozen=True):
    """``amount`` (positive) of ``asset`` left ``account_id`` and reached ``to_account_id``, two
    accounts of one account tree: the same Decimal on both sides, so money is neither created nor
    lost. It is in both accounts' audit trails."""

    account_id: str
    to_account_id: str
    asset: str
    amount: Decimal
    reason: str
    #: A planned (rebalancing) transfer's id, its idempotency key ("" for a manual transfer).
    transfer_id: str = ""
    #: The venue's id of the transfer (Binance ``tranId``), "" when it was made in Atlas only.
    venue_transfer_id: str = ""


class LeverageSet(EventBase, frozen=True):
    account_id: str
    symbol: str
    leverage: Decimal


class PricesUpdated(EventBase, frozen=True):
    symbol: str
    last: Decimal | None = None
    mark: Decimal | None = None


class CommandRejected(EventBase, frozen=True):
    """A command that was refused and changed nothing (a bad deposit, a duplicate account…)."""

    command: str
    reason: str
    message: str
    account_id: str | None = None
    #: Who asked, for an operator's command.
    actor: str | None = None
