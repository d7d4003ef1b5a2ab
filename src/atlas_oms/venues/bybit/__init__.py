"""Bybit v5 (Unified Trading Account) through ccxt: spot (venue ``bybit``) and USDT linear
perpetuals (venue ``bybitlinear``)."""

from __future__ import annotations

from atlas_oms.venues.bybit.adapter import BybitAdapter, BybitLinearAdapter, BybitSpotAdapter
from atlas_oms.venues.bybit.client import BybitEndpoints

__all__ = ["BybitAdapter", "BybitEndpoints", "BybitLinearAdapter", "BybitSpotAdapter"]
