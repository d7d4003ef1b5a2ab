"""The built-in exchange: price-time-priority order books. Imports ``atlas_oms.model`` only."""

from atlas_oms.matching.book import (
    REASON_FOK_NOT_FILLABLE,
    REASON_IOC_REMAINDER,
    REASON_MARKET_NO_LIQUIDITY,
    REASON_MODIFY_TO_ZERO,
    REASON_POST_ONLY_WOULD_TAKE,
    REASON_SELF_TRADE_PREVENTED,
    Fill,
    ModifyResult,
    OrderBook,
    RestingOrder,
    SubmitResult,
)

__all__ = [
    "REASON_FOK_NOT_FILLABLE",
    "REASON_IOC_REMAINDER",
    "REASON_MARKET_NO_LIQUIDITY",
    "REASON_MODIFY_TO_ZERO",
    "REASON_POST_ONLY_WOULD_TAKE",
    "REASON_SELF_TRADE_PREVENTED",
    "Fill",
    "ModifyResult",
    "OrderBook",
    "RestingOrder",
    "SubmitResult",
]
