"""The context every handler receives: the state it reads, ``emit`` (record an event and fold it
in), the outbox of venue requests, the configuration, and pure caches.

Handlers are plain functions ``handler(ctx, message)``; they change state only by emitting events
(``emit`` calls the fold, :mod:`atlas_oms.core.state.fold`). The caches hold values derived from
immutable inputs or rebuilt from the state; they are never journaled, hashed or snapshotted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.core.config import EngineConfig
from atlas_oms.core.decimals import HUNDRED, ONE
from atlas_oms.core.state.fold import APPLIERS
from atlas_oms.core.state.state import State
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side
from atlas_oms.model.requests import VenueRequest

if TYPE_CHECKING:
    from atlas_oms.core.derivatives.adl import AdlQueue
    from atlas_oms.core.risk.limits import Limits


class Context:
    """What a handler works with. One per engine; ``out`` is the current message's events."""

    __slots__ = (
        "adl_queues",
        "collar_down",
        "collar_up",
        "config",
        "dup_warning",
        "fee_mult",
        "limits_cache",
        "limits_version",
        "liq_sweep",
        "liq_venues",
        "out",
        "outbox",
        "protect_cache",
        "session_release",
        "state",
    )

    def __init__(self, state: State, config: EngineConfig) -> None:
        self.state = state
        self.config = config
        #: The events the current message produced, in order (``Engine.handle`` returns them).
        self.out: list[ev.EventBase] = []
        #: Requests for venues, drained by the runtime (``Engine.take_requests``).
        self.outbox: list[VenueRequest] = []
        self.collar_up = ONE + config.market_protection_pct / HUNDRED
        self.collar_down = ONE - config.market_protection_pct / HUNDRED
        self.liq_venues = config.liquidation_venues
        #: Liquidations move on when their own order reports; after a restart, all are looked at.
        self.liq_sweep = True
        #: A warning the duplicate guard raised for the order being submitted (an alert follows).
        self.dup_warning: str | None = None
        #: When the order being submitted is released, if it is queued for its session.
        self.session_release: int | None = None
        # Pure caches.
        self.fee_mult: dict[str, Decimal] = {}
        self.protect_cache: dict[tuple[Side, Decimal, Decimal], Decimal] = {}
        self.limits_cache: dict[tuple[str, str, str | None], Limits | None] = {}
        self.limits_version = -1
        self.adl_queues: dict[str, AdlQueue] = {}

    def emit(self, event: Any) -> None:
        """Record ``event`` (numbered ``state.seq + 1`` by its maker) and fold it into the state."""
        self.out.append(event)
        state = self.state
        state.seq = event.seq
        APPLIERS[event.__class__](state, event)
