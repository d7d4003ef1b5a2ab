"""Ports: the interfaces the core's surroundings implement. The core never imports an adapter."""

from __future__ import annotations

from typing import Protocol

from atlas_oms.model.reports import Report
from atlas_oms.model.requests import VenueRequest


class Clock(Protocol):
    """Where time comes from (integer nanoseconds since the epoch)."""

    def now(self) -> int: ...


class Venue(Protocol):
    """Something that works orders: the built-in exchange, a crypto exchange, a broker."""

    name: str
    #: True when reports come back in the same call, deterministically (the built-in exchange).
    synchronous: bool

    def handle(self, request: VenueRequest) -> list[Report]:
        """Send one request; return whatever reports are already known."""
        ...
