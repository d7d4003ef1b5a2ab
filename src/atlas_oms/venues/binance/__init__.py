"""Binance spot (venue ``binance``) and USDⓈ-M futures (venue ``binanceusdm``) through ccxt."""

from __future__ import annotations

from atlas_oms.venues.binance.adapter import BinanceSpotAdapter, BinanceUsdmAdapter
from atlas_oms.venues.binance.endpoints import BinanceEndpoints

__all__ = ["BinanceEndpoints", "BinanceSpotAdapter", "BinanceUsdmAdapter"]
