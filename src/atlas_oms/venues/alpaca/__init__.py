"""Alpaca (US equities) through alpaca-py: see adapter.py."""

from atlas_oms.venues.alpaca.adapter import AlpacaAdapter

__all__ = ["AlpacaAdapter"]
