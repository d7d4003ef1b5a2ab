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
from atlas_oms.runtime.clock import LiveClock, ManualClock
from atlas_oms.runtime.node import CommandRefused, Node

__all__ = [
    "CommandRefused",
    "Engine",
    "EngineConfig",
    "Instrument",
    "InstrumentKind",
    "LiveClock",
    "ManualClock",
    "Node",
    "OrderStatus",
    "OrderType",
    "OrderView",
    "PositionMode",
    "PositionSide",
    "Reason",
    "Side",
    "TimeInForce",
    "TrailingOffsetType",
    "TriggerType",
]
