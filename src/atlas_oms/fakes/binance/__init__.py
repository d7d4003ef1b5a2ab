"""A fake Binance (spot and USDⓈ-M futures) on 127.0.0.1 for the real ccxt clients.

- ``FakeBinance`` (``server.py``): the aiohttp server; ``start()``/``stop()`` in the caller's
  loop, or ``running_in_thread()``; ``faults`` and ``limits`` are settable while it runs.
  Built from ``server_base.py`` (lifecycle, limits, dispatch, auth, placing machinery),
  ``rest_spot.py``, ``rest_futures.py`` and ``streams.py`` (WebSockets).
- ``FakeVenue`` (``venue.py``): accounts, matching (Atlas's ``OrderBook``), fees, positions and
  the knobs that act on state (``house_quote``, ``fill``, ``fill_in_parts``,
  ``place_external``, ``seed_old_position``, ``set_mark_price``). Built from ``records.py``
  (orders, trades, positions, accounts, ``VenueError``), ``venue_state.py`` (stores, clock,
  events out, queries), ``funds.py`` (reservations, margin, fees, settlement) and
  ``trading.py`` (validation, placing, matching, fills, cancels, amends).
- ``wire.py``: every JSON shape, from ``wire_common.py``, ``wire_spot.py``,
  ``wire_futures.py`` and ``wire_market.py``.
- ``ccxt_urls`` / ``ccxt_config`` (``urls.py``): how to point ccxt at it.
- ``python -m atlas_oms.fakes.binance --port N --accounts FILE`` runs it standalone.
"""

from atlas_oms.fakes.binance.config import AccountConfig, Faults, Limits, load_accounts
from atlas_oms.fakes.binance.server import FakeBinance
from atlas_oms.fakes.binance.urls import ccxt_config, ccxt_urls
from atlas_oms.fakes.binance.venue import FakeVenue, Order, Trade, VenueError

__all__ = [
    "AccountConfig",
    "FakeBinance",
    "FakeVenue",
    "Faults",
    "Limits",
    "Order",
    "Trade",
    "VenueError",
    "ccxt_config",
    "ccxt_urls",
    "load_accounts",
]
