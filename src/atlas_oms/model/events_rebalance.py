"""Events of rebalancing (seed 002 §10.5, issue 15 §2). Part of the union in
:mod:`atlas_oms.model.events`; the commands are in :mod:`atlas_oms.model.rebalance`. A planned
transfer that was carried out is a ``FundsTransferred`` with its ``transfer_id``."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.event_base import EventBase
from atlas_oms.model.rebalance import PlannedTransfer


class RebalancePlanned(EventBase, frozen=True):
    """A rebalancing run's plan (``run_id`` is this event's seq): the transfers that bring the
    accounts within ``min_main_balance`` / ``max_sub_balance`` in ``asset``, in the order they are
    made, and ``notes`` (accounts left out and why, a main still short after every sub gave what
    it can spare). An empty plan is a run that found nothing to do."""

    trigger: str
    actor: str
    asset: str
    min_main_balance: Decimal | None = None
    max_sub_balance: Decimal | None = None
    transfers: tuple[PlannedTransfer, ...] = ()
    notes: tuple[str, ...] = ()
    #: Every account of the run (in each one's audit trail).
    account_ids: tuple[str, ...] = ()


class VenueTransferNoted(EventBase, frozen=True):
    """A planned transfer's outcome other than done (see
    :class:`~atlas_oms.model.rebalance.NoteVenueTransfer`): ``UNKNOWN``, ``REFUSED``,
    ``NOT_DONE`` or ``BOOK_REFUSED``. In both accounts' audit trails."""

    transfer_id: str
    account_id: str
    to_account_id: str
    asset: str
    amount: Decimal
    status: str
    reason: str = ""
    message: str = ""
    venue: str = ""
    venue_transfer_id: str = ""
