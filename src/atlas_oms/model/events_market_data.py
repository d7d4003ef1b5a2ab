"""Consolidated market data in the journal (issue 16, MD-1): the runtime's cross-venue spread
monitor (``runtime/market/spread.py``) sends :class:`NoteVenueSpread` when the spread between two
venues of one unified symbol crosses a configured level; the core journals it as
:class:`VenueSpreadCrossed` (``core/market_data.py``). The event changes no state: it is the audit
trail of what the desk was told. Part of the union in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from atlas_oms.model.commands import Command
from atlas_oms.model.event_base import EventBase

SpreadDirection = Literal["UP", "DOWN"]


class NoteVenueSpread(Command, frozen=True):
    """The spread on unified ``symbol`` between buying at ``buy_venue`` (its best ask) and
    selling at ``sell_venue`` (its best bid), ``spread_bps`` = (bid - ask) / ask in basis
    points, prices normalized to one quote currency, crossed ``level_bps`` going ``direction``
    (``UP``: it is now at or above the level; ``DOWN``: below it)."""

    symbol: str
    buy_venue: str
    sell_venue: str
    spread_bps: Decimal
    level_bps: Decimal
    direction: SpreadDirection
    buy_symbol: str = ""
    sell_symbol: str = ""
    buy_price: Decimal | None = None
    sell_price: Decimal | None = None


class VenueSpreadCrossed(EventBase, frozen=True):
    """A :class:`NoteVenueSpread`, journaled (the fields are the command's)."""

    symbol: str
    buy_venue: str
    sell_venue: str
    spread_bps: Decimal
    level_bps: Decimal
    direction: str
    buy_symbol: str = ""
    sell_symbol: str = ""
    buy_price: Decimal | None = None
    sell_price: Decimal | None = None
