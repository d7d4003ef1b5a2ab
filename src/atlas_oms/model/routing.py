"""The failover router's command to the core (runtime/gateway/failover.py decides; the core
journals the switch as :class:`~atlas_oms.model.events_routing.RouteSwitched`)."""

from __future__ import annotations

from atlas_oms.model.commands import Command


class SwitchRoute(Command, frozen=True):
    """Route new orders of ``account_id``/``symbol`` to the alternative named (the primary
    itself, ``restored=True``, when it is back). A repeat of the current route is nothing."""

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
