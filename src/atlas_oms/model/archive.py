"""The command that loads an archived order back into the engine (see ``OrderRestored``)."""

from __future__ import annotations

from atlas_oms.model.commands import Command
from atlas_oms.model.events import ArchivedOrder


class RestoreOrder(Command, frozen=True):
    """Load ``order`` (read from the journal's history) back into memory, so that a late venue
    report, a reused client order id or a request for it applies as it would have live."""

    order: ArchivedOrder
