"""The read-only views the core hands out: what the read side (``runtime/queries.py``) returns
and front ends show. Immutable values; nothing here gives access to the engine's state."""

from __future__ import annotations

from atlas_oms.core.derivatives.figures import MarginInfo
from atlas_oms.core.equities.buying_power import BuyingPower
from atlas_oms.core.orders.order import OrderView
from atlas_oms.core.state.positions import BalanceView, LotView, PositionView

__all__ = ["BalanceView", "BuyingPower", "LotView", "MarginInfo", "OrderView", "PositionView"]
