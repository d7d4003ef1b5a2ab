"""A fake Bybit v5 (UTA: spot and linear perpetuals) on 127.0.0.1 for the real ccxt clients.

- ``FakeBybit`` (``server.py``): the aiohttp server (REST, private and public WebSockets), its
  header-HMAC checks, per-UID per-endpoint limits and fault knobs (``faults``, ``limits``).
- ``FakeBybitVenue`` (``venue.py``): accounts (one UNIFIED wallet each), orders, executions,
  positions (one-way or hedge mode), and the knobs that act on state.
"""

from atlas_oms.fakes.bybit.server import FakeBybit, Faults, Limits
from atlas_oms.fakes.bybit.venue import AccountConfig, BybitError, FakeBybitVenue, Order

__all__ = [
    "AccountConfig",
    "BybitError",
    "FakeBybit",
    "FakeBybitVenue",
    "Faults",
    "Limits",
    "Order",
]
