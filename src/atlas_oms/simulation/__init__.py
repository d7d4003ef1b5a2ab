"""Simulated fills against market data: the venue that paper trading and backtests share
(fill models, commissions, queue position, latency, stress scenarios)."""

from atlas_oms.simulation.config import (
    BINANCE_SPOT_TIERS,
    CommissionTier,
    FillConfig,
    FillConfigError,
)
from atlas_oms.simulation.market import Bar, BookSnapshot, MarketEvent, TradePrint
from atlas_oms.simulation.sizing import validate_order_size
from atlas_oms.simulation.venue import SimulatedVenue

__all__ = [
    "BINANCE_SPOT_TIERS",
    "Bar",
    "BookSnapshot",
    "CommissionTier",
    "FillConfig",
    "FillConfigError",
    "MarketEvent",
    "SimulatedVenue",
    "TradePrint",
    "validate_order_size",
]
