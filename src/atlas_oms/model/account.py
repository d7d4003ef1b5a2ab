"""Accounts and sub-accounts."""

from __future__ import annotations

import msgspec

from atlas_oms.model.enums import PositionMode
from atlas_oms.model.risk import EquityAccountType


class Account(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A trading account; ``parent_id`` makes it a sub-account of another.

    ``equity_type`` and ``pattern_day_trader`` set its US-equities buying power (cash account with
    settled funds only; Reg T margin 2:1 overnight; 4:1 intraday for a pattern day trader).
    """

    account_id: str
    parent_id: str | None = None
    position_mode: PositionMode = PositionMode.NETTING
    name: str = ""
    equity_type: EquityAccountType = EquityAccountType.CASH
    pattern_day_trader: bool = False
