"""Events of US markets (issue 15 §3): session calendars, corporate actions, close equity,
session-queued orders and adopted share counts. Part of the union in
:mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.enums import (
    OrderStatus,
    PositionSide,
)
from atlas_oms.model.event_base import EventBase


class SessionCalendarSet(EventBase, frozen=True):
    """A session's holidays and early closes from ``first_day`` to ``last_day`` (``YYYY-MM-DD``):
    each exception is (day, close minute after local midnight, or None for a holiday, name)."""

    session: str
    first_day: str
    last_day: str
    exceptions: tuple[tuple[str, int | None, str], ...]
    actor: str
    reason: str = ""


class CorporateActionApplied(EventBase, frozen=True):
    """A split, bonus or cash dividend on ``symbol`` (POS-5), as booked: ``holdings`` lists
    (account, shares before, shares after, cash paid in the quote currency) per holder; a
    split's open orders are then modified (``OrderPendingReplace``/``OrderReplaced``)."""

    symbol: str
    kind: str
    action_id: str
    ratio: Decimal | None
    amount: Decimal | None
    holdings: tuple[tuple[str, Decimal, Decimal, Decimal], ...]
    actor: str
    reason: str = ""


class CloseEquityRecorded(EventBase, frozen=True):
    """US equities: each margin account's equity at the regular close of trade day ``day``
    (``YYYY-MM-DD``), as (account, currency, equity)."""

    day: str
    equities: tuple[tuple[str, str, Decimal], ...]


class OrderSessionQueued(EventBase, frozen=True):
    """An order accepted while its session is closed (US equities with a journaled calendar):
    Atlas holds it (status ACCEPTED, pending the session) until ``release_ts``, the open of the
    next session it may trade in (pre-market for an extended-hours order, else the regular open);
    it may be canceled or modified meanwhile."""

    order_id: int
    session: str
    release_ts: int


class OrderSessionReleased(EventBase, frozen=True):
    """A session-queued order released at its session's open: sent to its venue (status
    SUBMITTED), or, a stop or take-profit, held by its trigger from now on."""

    order_id: int
    session: str
    order_status: OrderStatus


class OrderSessionReleaseRefused(EventBase, frozen=True):
    """A session-queued order that fails, at its release, a check that depends on the market or
    the account at that moment (price band after a gap, kill switch, halt, buying power, PDT,
    blocked account: ``core/equities/release_checks.py``): canceled by Atlas with ``reason`` (a
    ``Reason`` code) and ``message``; it never reaches the venue."""

    order_id: int
    session: str
    reason: str
    message: str


class PositionQtyAdopted(EventBase, frozen=True):
    """A reconciliation adopted the broker's share count of an equity (a corporate action
    applied in Atlas but not at the broker, or the reverse): the position's lots are rescaled
    from ``qty_before`` to ``qty_after`` with their total cost kept (each lot's price scaled the
    other way), so position and balance agree again. ``action_ids``: the corporate actions
    Atlas applied to the symbol (the likely cause), newest last."""

    account_id: str
    symbol: str
    position_side: PositionSide
    qty_before: Decimal
    qty_after: Decimal
    venue: str
    action_ids: tuple[str, ...] = ()
