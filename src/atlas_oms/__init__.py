"""Atlas OMS: a deterministic, event-sourced order management system with a built-in exchange."""

from atlas_oms.core.engine import Engine, EngineConfig
from atlas_oms.core.orders import OrderView
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
]
