"""The limits in force for an order: per field, the tightest of the global, instrument, account
(with its parents) and strategy scopes; and the check of a limits table an operator sets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.refusals import Refusal
from atlas_oms.core.risk.book import GLOBAL_KEY
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import BreakerConfig, DuplicateAction, RiskLimits, Scope

ZERO = Decimal(0)

_MIN_FIELDS = (
    "max_order_qty",
    "max_order_notional",
    "price_band_pct",
    "max_open_orders",
    "max_position_qty",
    "max_position_notional",
    "max_firm_net_qty",
    "max_firm_gross_qty",
    "max_orders_per_second",
    "max_orders_per_minute",
    "max_orders_per_hour",
    "protective_retry_limit",
    "order_trade_ratio_warn",
    "cancel_replace_ratio_warn",
)
_ANY_FIELDS = ("luld", "market_order_policy", "protective_failure_flatten")


class Limits:
    """The limits in force for one (account, instrument, strategy): per field, the tightest set."""

    __slots__ = (
        *_MIN_FIELDS,
        *_ANY_FIELDS,
        "cancel_replace_ratio_clear",
        "cancel_replace_window_s",
        "duplicate_refuse",
        "duplicate_window_ns",
        "order_trade_ratio_clear",
        "order_trade_window_s",
        "ratio_min_orders",
        "rates",
        "ratios",
    )

    max_order_qty: Decimal | None
    max_order_notional: Decimal | None
    price_band_pct: Decimal | None
    max_open_orders: int | None
    max_position_qty: Decimal | None
    max_position_notional: Decimal | None
    max_firm_net_qty: Decimal | None
    max_firm_gross_qty: Decimal | None
    max_orders_per_second: int | None
    max_orders_per_minute: int | None
    max_orders_per_hour: int | None
    protective_retry_limit: int | None
    order_trade_ratio_warn: Decimal | None
    cancel_replace_ratio_warn: Decimal | None
    luld: bool
    market_order_policy: bool
    protective_failure_flatten: bool
    #: The message-rate limits set: (window in seconds, limit).
    rates: tuple[tuple[int, int], ...]
    #: The ratios monitored (those with a warning level): (code, cleared code, warning level,
    #: clear level, window in seconds, whether the numerator is the order count itself).
    ratios: tuple[tuple[Reason, Reason, Decimal, Decimal, int, bool], ...]

    def __init__(self, layers: list[RiskLimits]) -> None:
        for name in _MIN_FIELDS:
            values = [v for lim in layers if (v := getattr(lim, name)) is not None]
            setattr(self, name, min(values) if values else None)
        for name in _ANY_FIELDS:
            setattr(self, name, any(getattr(lim, name) for lim in layers))
        self.protective_failure_flatten = all(lim.protective_failure_flatten for lim in layers)
        windows = [lim.duplicate_window_ms for lim in layers if lim.duplicate_window_ms]
        self.duplicate_window_ns = max(windows) * 1_000_000 if windows else 0
        self.duplicate_refuse = any(
            lim.duplicate_action is DuplicateAction.REFUSE
            for lim in layers
            if lim.duplicate_window_ms
        )
        # Ratio monitoring reads the nearest scope that sets it (they are per account).
        self.order_trade_ratio_clear = next(
            (lim.order_trade_ratio_clear for lim in layers if lim.order_trade_ratio_warn), ZERO
        )
        self.order_trade_window_s = next(
            (lim.order_trade_window_s for lim in layers if lim.order_trade_ratio_warn), 3600
        )
        self.cancel_replace_ratio_clear = next(
            (lim.cancel_replace_ratio_clear for lim in layers if lim.cancel_replace_ratio_warn),
            ZERO,
        )
        self.cancel_replace_window_s = next(
            (lim.cancel_replace_window_s for lim in layers if lim.cancel_replace_ratio_warn), 1800
        )
        self.ratio_min_orders = min((lim.ratio_min_orders for lim in layers), default=20)
        self.rates = tuple(
            (window, limit)
            for window, limit in (
                (1, self.max_orders_per_second),
                (60, self.max_orders_per_minute),
                (3600, self.max_orders_per_hour),
            )
            if limit is not None
        )
        #: The ratios monitored (those with a warning level): (code, cleared code, warning level,
        #: clear level, window in seconds, whether the numerator is the order count itself).
        ratios: list[tuple[Reason, Reason, Decimal, Decimal, int, bool]] = []
        if self.order_trade_ratio_warn is not None:
            ratios.append(
                (
                    Reason.ORDER_TRADE_RATIO,
                    Reason.ORDER_TRADE_RATIO_CLEARED,
                    self.order_trade_ratio_warn,
                    self.order_trade_ratio_clear,
                    self.order_trade_window_s,
                    True,
                )
            )
        if self.cancel_replace_ratio_warn is not None:
            ratios.append(
                (
                    Reason.CANCEL_REPLACE_RATIO,
                    Reason.CANCEL_REPLACE_RATIO_CLEARED,
                    self.cancel_replace_ratio_warn,
                    self.cancel_replace_ratio_clear,
                    self.cancel_replace_window_s,
                    False,
                )
            )
        self.ratios = tuple(ratios)


def limits_for(ctx: Context, account_id: str, symbol: str, tag: str | None) -> Limits | None:
    """The limits in force for an order, or None when no scope sets any (cached per version)."""
    risk = ctx.state.risk
    if not risk.limits:
        return None
    if ctx.limits_version != risk.version:
        ctx.limits_cache = {}
        ctx.limits_version = risk.version
    key = (account_id, symbol, tag)
    cache = ctx.limits_cache
    try:
        return cache[key]
    except KeyError:
        pass
    table = risk.limits
    layers = [
        lim
        for k in (
            GLOBAL_KEY,
            (Scope.INSTRUMENT, symbol),
            *((Scope.ACCOUNT, a) for a in risk.chain(account_id)),
            *(((Scope.STRATEGY, tag),) if tag is not None else ()),
        )
        if (lim := table.get(k)) is not None
    ]
    limits = Limits(layers) if layers else None
    if len(cache) > 100_000:
        cache.clear()
    cache[key] = limits
    return limits


def limits_refusal(scope: Scope, limits: Any) -> Refusal | None:
    if not isinstance(limits, RiskLimits):
        return Reason.INVALID_LIMITS, "limits must be a RiskLimits"
    for name in _MIN_FIELDS:
        value = getattr(limits, name)
        if value is None:
            continue
        if isinstance(value, Decimal):
            if not value.is_finite() or value <= 0:
                return Reason.INVALID_LIMITS, f"{name} must be positive, got {value}"
        elif not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return Reason.INVALID_LIMITS, f"{name} must be a positive integer, got {value!r}"
    if limits.price_band_pct is not None and limits.price_band_pct >= 100:
        return Reason.INVALID_LIMITS, "price_band_pct must be below 100"
    if limits.duplicate_window_ms is not None and limits.duplicate_window_ms <= 0:
        return Reason.INVALID_LIMITS, "duplicate_window_ms must be positive"
    for name in ("order_trade_window_s", "cancel_replace_window_s"):
        if not 0 < getattr(limits, name) <= 3600:
            return Reason.INVALID_LIMITS, f"{name} must be between 1 and 3600 seconds"
    for warn, clear in (
        (limits.order_trade_ratio_warn, limits.order_trade_ratio_clear),
        (limits.cancel_replace_ratio_warn, limits.cancel_replace_ratio_clear),
    ):
        if warn is not None and not 0 <= clear <= warn:
            return Reason.INVALID_LIMITS, "a ratio's clear level must be at or below its warning"
    breaker = limits.breaker
    if breaker is not None:
        refusal = breaker_refusal(scope, breaker)
        if refusal:
            return refusal
    return None


def breaker_refusal(scope: Scope, cfg: BreakerConfig) -> Refusal | None:
    if scope not in (Scope.ACCOUNT, Scope.STRATEGY):
        return Reason.INVALID_SCOPE, "circuit breakers are per account or per strategy"
    if scope is Scope.STRATEGY and cfg.capital is None:
        return (
            Reason.INVALID_LIMITS,
            "a strategy breaker needs its capital: a strategy has no balance to measure",
        )
    for name in ("max_daily_loss_pct", "max_drawdown_pct"):
        value = getattr(cfg, name)
        if value is not None and not (value.is_finite() and 0 < value <= 100):
            return Reason.INVALID_LIMITS, f"breaker {name} must be within (0, 100], got {value}"
    for name in (
        "max_consecutive_losses",
        "max_orders_per_minute",
        "max_orders_per_hour",
        "max_consecutive_errors",
        "auto_reset_after_minutes",
    ):
        value = getattr(cfg, name)
        if value is not None and value <= 0:
            return Reason.INVALID_LIMITS, f"breaker {name} must be positive, got {value}"
    if cfg.cooldown_minutes < 0:
        return Reason.INVALID_LIMITS, "breaker cooldown_minutes must not be negative"
    if cfg.capital is not None and not (cfg.capital.is_finite() and cfg.capital > 0):
        return Reason.INVALID_LIMITS, f"breaker capital must be positive, got {cfg.capital}"
    return None
