"""A fake Alpaca (Trading API v2 and the ``trade_updates`` stream) on 127.0.0.1 for the real
alpaca-py clients: ``FakeAlpaca`` (``server.py``: auth, routes, fault knobs) over
``FakeAlpacaVenue`` (``venue.py``: accounts, assets, orders, fills, pushes)."""

from atlas_oms.fakes.alpaca.server import FakeAlpaca, Faults, Limits
from atlas_oms.fakes.alpaca.venue import Account, AlpacaError, Asset, FakeAlpacaVenue, Order

__all__ = [
    "Account",
    "AlpacaError",
    "Asset",
    "FakeAlpaca",
    "FakeAlpacaVenue",
    "Faults",
    "Limits",
    "Order",
]
