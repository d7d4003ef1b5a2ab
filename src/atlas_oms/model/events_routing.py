"""Events of venue failover (issue 15 §2, VEN-3): new orders of an (account, symbol) switched to a
configured alternative while its venue account is down, and back when it returns. Part of the
union in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from atlas_oms.model.event_base import EventBase


class RouteSwitched(EventBase, frozen=True):
    """New orders for ``account_id``/``symbol`` (the primary route) now go to ``to_venue``,
    ``to_account_id``, ``to_symbol`` (the primary itself when ``restored``), and why:
    ``reason`` is the primary venue account's status reason (DISCONNECTED, BANNED, ...) or
    ``HEALTH_BELOW_THRESHOLD`` on the way out, ``RESTORED`` on the way back. Working orders at the
    primary stay where they are (tracked, reconciled when it returns)."""

    venue: str
    account_id: str
    symbol: str
    to_venue: str
    to_account_id: str
    to_symbol: str
    reason: str
    message: str = ""
    restored: bool = False
    health: str = ""
