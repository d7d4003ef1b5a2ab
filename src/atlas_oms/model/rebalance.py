"""Rebalancing between main and sub-accounts (seed 002 §10.5, issue 15 §2): the commands the
runtime's rebalancer (:mod:`atlas_oms.runtime.rebalance`) sends the core, and the plan's rows.

The core decides the plan (:mod:`atlas_oms.core.rebalance`) from its own balances and the rules
carried by :class:`PlanRebalance`, and journals it as
:class:`~atlas_oms.model.events_rebalance.RebalancePlanned`; the runtime carries each planned
transfer out (at the venue through its sub-account transfer API, or in Atlas only) and books it
with ``TransferFunds`` (its ``transfer_id``, the venue's id) once it is done, or notes a refusal or
an unknown outcome with :class:`NoteVenueTransfer`."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from atlas_oms.model.commands import Command

#: How a planned transfer is carried out: ``venue`` (the venue's sub-account transfer API, then
#: booked in Atlas), ``atlas`` (Atlas only: paper and simulated accounts).
TransferPath = Literal["venue", "atlas"]


class RebalanceAccount(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """One account the rules apply to. ``main_id``: a sub's main account (None for a main).
    ``cap``: a sub's most (its own ``max_balance_usdt``, else ``max_sub_balance``; None: no
    cap). ``path``: how its transfers are made; ``skip``: why it takes no part (the main has no
    venue account in its market, its venue has no transfer API...), "" when it does."""

    account_id: str
    role: Literal["main", "sub"]
    main_id: str | None = None
    cap: Decimal | None = None
    cap_rule: str = ""
    path: TransferPath = "atlas"
    skip: str = ""


class PlannedTransfer(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """One transfer of a plan: ``amount`` of the plan's asset from ``account_id`` to
    ``to_account_id``, because of ``rule`` (``max_sub_balance``, ``max_balance_usdt`` or
    ``min_main_balance``). ``transfer_id`` is its idempotency key (Binance ``clientTranId``)."""

    transfer_id: str
    account_id: str
    to_account_id: str
    amount: Decimal
    rule: str
    #: A :data:`TransferPath` (a plain str in the journal).
    path: str = "atlas"
    detail: str = ""


class PlanRebalance(Command, frozen=True):
    """Plan the transfers that bring ``accounts`` within the rules, in ``asset``.
    ``trigger``: ``manual`` or ``schedule``; ``actor``: who asked; ``id_prefix``: the start of
    every transfer id (the node's tag, so two nodes never share an id at one venue)."""

    asset: str = "USDT"
    min_main_balance: Decimal | None = None
    max_sub_balance: Decimal | None = None
    accounts: tuple[RebalanceAccount, ...] = ()
    trigger: str = "manual"
    actor: str = ""
    id_prefix: str = "atlas-"


class NoteVenueTransfer(Command, frozen=True):
    """What became of a planned transfer that was not booked: ``status`` ``UNKNOWN`` (no
    definitive answer: resolved later by the venue's transfer history), ``REFUSED`` (the venue
    said no: nothing moved), ``NOT_DONE`` (an unknown one the venue's history does not hold:
    nothing moved), ``BOOK_REFUSED`` (the venue moved it, Atlas refused to book it: the next
    reconciliation takes the venue's balances)."""

    transfer_id: str
    account_id: str
    to_account_id: str
    asset: str
    amount: Decimal
    status: Literal["UNKNOWN", "REFUSED", "NOT_DONE", "BOOK_REFUSED"]
    reason: str = ""
    message: str = ""
    venue: str = ""
    venue_transfer_id: str = ""


class VenueTransfer(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A transfer between a master and one of its sub-accounts as the venue names them: the
    emails (Binance: "" for the master itself) or UIDs (Bybit) and the account types (Binance
    ``SPOT``, ``USDT_FUTURE``; Bybit ``UNIFIED``) of each side. ``transfer_id`` is the client's
    id (Binance ``clientTranId``; Bybit's ``transferId`` is a UUID made from it)."""

    transfer_id: str
    asset: str
    amount: Decimal
    from_email: str = ""
    to_email: str = ""
    from_type: str = "SPOT"
    to_type: str = "SPOT"
    #: Bybit: the members' UIDs (both sides: the master's too).
    from_uid: str = ""
    to_uid: str = ""


class VenueTransferResult(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A venue's answer to a transfer or to a transfer query: ``DONE`` (moved: the venue's id),
    ``REFUSED`` (nothing moved), ``UNKNOWN`` (no definitive answer: ask its history),
    ``NOT_FOUND`` (a query: the venue's history has no transfer with that id)."""

    status: Literal["DONE", "REFUSED", "UNKNOWN", "NOT_FOUND"]
    venue_transfer_id: str = ""
    reason: str = ""
    message: str = ""
