"""Risk vocabulary: scopes, trading states, limits and the circuit breaker's configuration.

A *scope* is what a limit, a trading state, a kill switch or a circuit breaker applies to:
``GLOBAL`` (every order), ``ACCOUNT`` (an account and its sub-accounts), ``STRATEGY`` (orders
carrying that ``tag``) or ``INSTRUMENT`` (orders in that symbol; limits only). Every limit is
off (``None``) until someone sets it; where several scopes set the same limit, the tightest wins.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec


class Scope(StrEnum):
    GLOBAL = "global"
    ACCOUNT = "account"
    STRATEGY = "strategy"
    INSTRUMENT = "instrument"


class TradingState(StrEnum):
    """ACTIVE: normal. REDUCING: only orders that reduce exposure. HALTED: no new orders."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class BreakerState(StrEnum):
    """CLOSED: the circuit conducts, trading is normal. OPEN: tripped, no new orders."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"


class MarketStatus(StrEnum):
    """An instrument's session. PRE/POST are extended hours (equities need ``extended_hours``)."""

    OPEN = "OPEN"
    PRE_MARKET = "PRE_MARKET"
    POST_MARKET = "POST_MARKET"
    CLOSED = "CLOSED"
    HALTED = "HALTED"


class DuplicateAction(StrEnum):
    WARN = "WARN"
    REFUSE = "REFUSE"


class MarketOrderReason(StrEnum):
    """Why a market order is allowed when the market-order policy is on (CON-9)."""

    FORCED_CLOSE = "FORCED_CLOSE"
    KILL_SWITCH = "KILL_SWITCH"
    STOP_MARKET_FALLBACK = "STOP_MARKET_FALLBACK"
    STOP_PARTIAL_FILL_EMERGENCY = "STOP_PARTIAL_FILL_EMERGENCY"
    GAP_OPENING = "GAP_OPENING"
    LIQUIDATION = "LIQUIDATION"


class EquityAccountType(StrEnum):
    """US equities: CASH trades settled cash only (T+1); MARGIN is Reg T (2:1 overnight)."""

    CASH = "CASH"
    MARGIN = "MARGIN"


class AlertLevel(StrEnum):
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    #: Seed 001 §11 "Cannot Liquidate": people must act now (a kill switch has tripped).
    EMERGENCY = "EMERGENCY"


class BreakerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The circuit breaker of one scope; the defaults are seed 003's ``CircuitBreakerConfig``.

    Percentages are of start-of-day equity (daily loss) and of peak equity (drawdown). An account's
    equity is measured (see ``docs/RISK.md``); a strategy has no balance of its own, so its
    ``capital`` is the equity its P&L is measured against (required for a strategy breaker).
    """

    max_daily_loss_pct: Decimal | None = Decimal(5)
    max_drawdown_pct: Decimal | None = Decimal(15)
    max_consecutive_losses: int | None = 5
    max_orders_per_minute: int | None = 10
    max_orders_per_hour: int | None = 100
    max_consecutive_errors: int | None = 3
    #: Reset by itself this long after tripping (unless ``require_manual_reset``).
    auto_reset_after_minutes: int | None = 60
    require_manual_reset: bool = False
    #: No reset, not even a manual one, before this long after tripping.
    cooldown_minutes: int = 15
    #: The currency an account's equity is measured in (cash, assets priced in it, derivatives
    #: settled in it).
    currency: str = "USDT"
    capital: Decimal | None = None


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Pre-trade limits of one scope. ``None`` means "no limit"; the tightest scope wins."""

    # Fat finger
    max_order_qty: Decimal | None = None
    max_order_notional: Decimal | None = None
    # Price bands: limit and trigger prices within this percentage of the reference price.
    price_band_pct: Decimal | None = None
    #: US equities: a limit-up/limit-down style band by reference-price tier (5%/20%/75%).
    luld: bool = False
    # Exposure (projected: position + open orders on the same side + this order)
    max_open_orders: int | None = None
    max_position_qty: Decimal | None = None
    max_position_notional: Decimal | None = None
    #: Across all accounts, per instrument: |net| and gross (sum of |positions| + open orders).
    max_firm_net_qty: Decimal | None = None
    max_firm_gross_qty: Decimal | None = None
    # Message rates: submits and modifies per account.
    max_orders_per_second: int | None = None
    max_orders_per_minute: int | None = None
    max_orders_per_hour: int | None = None
    # Duplicate guard: same account, instrument, side, quantity and price within the window.
    duplicate_window_ms: int | None = None
    duplicate_action: DuplicateAction = DuplicateAction.WARN
    # Policies
    market_order_policy: bool = False
    #: A rejected protective order is retried this many times before the kill switch fires.
    protective_retry_limit: int | None = None
    #: Whether that kill switch also flattens the account with market orders.
    protective_failure_flatten: bool = True
    # Monitoring (warnings, never refusals), seed 001 section 8.2: a RiskAlert when a ratio
    # crosses its warning level over its rolling window, another when it falls below its clear level.
    #: Orders submitted per fill (seed: warn above 10:1 over 60 minutes, clear below 6:1).
    order_trade_ratio_warn: Decimal | None = None
    order_trade_ratio_clear: Decimal = Decimal(6)
    order_trade_window_s: int = 3600
    #: Cancels and replaces per fill (seed: warn above 5:1 over 30 minutes, clear below 3:1).
    cancel_replace_ratio_warn: Decimal | None = None
    cancel_replace_ratio_clear: Decimal = Decimal(3)
    cancel_replace_window_s: int = 1800
    #: No ratio is judged before this many orders in its window.
    ratio_min_orders: int = 20
    breaker: BreakerConfig | None = None


def explicit(settings: RiskLimits | BreakerConfig) -> dict[str, object]:
    """The fields set to something other than their default, as JSON builtins (the breaker nested
    the same way): what an operator actually configured."""
    default = type(settings)()
    out: dict[str, object] = {}
    for name in settings.__struct_fields__:
        value = getattr(settings, name)
        if value == getattr(default, name):
            continue
        if isinstance(value, BreakerConfig):
            out[name] = explicit(value)
        else:
            out[name] = msgspec.to_builtins(value)
    return out
