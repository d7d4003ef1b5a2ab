"""Atlas OMS: a deterministic, event-sourced order management system with a built-in exchange."""

from atlas_oms.core.derivatives.figures import MarginInfo
from atlas_oms.core.engine import Engine, EngineConfig
from atlas_oms.core.orders.order import OrderView
from atlas_oms.model.enums import (
    InstrumentKind,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode, MarginTier, parse_brackets, tiers_from_rows
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import (
    BreakerConfig,
    DuplicateAction,
    EquityAccountType,
    MarketOrderReason,
    MarketStatus,
    RiskLimits,
    Scope,
    TradingState,
)
from atlas_oms.runtime.clock import LiveClock, ManualClock
from atlas_oms.runtime.node import CommandRefused, Node
from atlas_oms.store.reference import load_brackets

__all__ = [
    "BreakerConfig",
    "CommandRefused",
    "DuplicateAction",
    "Engine",
    "EngineConfig",
    "EquityAccountType",
    "Instrument",
    "InstrumentKind",
    "LiveClock",
    "ManualClock",
    "MarginInfo",
    "MarginMode",
    "MarginTier",
    "MarketOrderReason",
    "MarketStatus",
    "Node",
    "OrderStatus",
    "OrderType",
    "OrderView",
    "PositionMode",
    "PositionSide",
    "Reason",
    "RiskLimits",
    "Scope",
    "Side",
    "TimeInForce",
    "TradingState",
    "TrailingOffsetType",
    "TriggerType",
    "load_brackets",
    "parse_brackets",
    "tiers_from_rows",
]
