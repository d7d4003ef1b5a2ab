"""A loopback fake of Upbit (REST ``/v1`` and the private WebSocket), checking JWTs for real."""

from atlas_oms.fakes.upbit.server import FakeUpbit, Faults, Limits
from atlas_oms.fakes.upbit.venue import Account, Order, Trade, UpbitError, UpbitVenue

__all__ = ["Account", "FakeUpbit", "Faults", "Limits", "Order", "Trade", "UpbitError", "UpbitVenue"]
