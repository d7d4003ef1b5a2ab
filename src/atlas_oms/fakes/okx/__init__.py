"""A loopback fake of OKX v5 (REST + private/public WebSocket) for the adapter's tests."""

from atlas_oms.fakes.okx.server import FakeOkx, Faults, sign
from atlas_oms.fakes.okx.venue import Account, FakeOkxVenue, OkxError, Order

__all__ = ["Account", "FakeOkx", "FakeOkxVenue", "Faults", "OkxError", "Order", "sign"]
