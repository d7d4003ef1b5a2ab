"""Binance spot (venue ``binance``) and USDⓈ-M futures (venue ``binanceusdm``) through ccxt."""

from __future__ import annotations

from atlas_oms.venues.binance.adapter import BinanceAdapter
from atlas_oms.venues.binance.endpoints import BinanceEndpoints
from atlas_oms.venues.binance.spot import BinanceSpotAdapter
from atlas_oms.venues.binance.usdm import BinanceUsdmAdapter

__all__ = ["BinanceAdapter", "BinanceEndpoints", "BinanceSpotAdapter", "BinanceUsdmAdapter"]
