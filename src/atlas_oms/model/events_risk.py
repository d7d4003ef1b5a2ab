"""Events of risk: limits, trading state, kill switch, circuit breaker, alerts, flattening and
market status. Part of the union in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.event_base import EventBase
from atlas_oms.model.risk import (
    AlertLevel,
    BreakerState,
    MarketStatus,
    RiskLimits,
    Scope,
    TradingState,
)


class RiskLimitsSet(EventBase, frozen=True):
    scope: Scope
    scope_id: str
    limits: RiskLimits
    actor: str
    reason: str


class TradingStateChanged(EventBase, frozen=True):
    scope: Scope
    scope_id: str
    state: TradingState
    actor: str
    reason: str


class KillSwitchTripped(EventBase, frozen=True):
    """From this event on, no order in the scope is accepted (its own flattening orders aside).
    With ``flatten``, the accounts in ``flatten_accounts`` (those of the scope holding a position
    when it tripped) are closed once their open orders are gone."""

    scope: Scope
    scope_id: str
    actor: str
    reason: str
    flatten: bool = False
    flatten_accounts: list[str] | None = None


class KillSwitchReset(EventBase, frozen=True):
    scope: Scope
    scope_id: str
    actor: str
    reason: str


class CircuitBreakerTripped(EventBase, frozen=True):
    """``cause`` is the limit met (``DAILY_LOSS_LIMIT``…); no reset before ``cooldown_until``,
    automatic reset at ``auto_reset_at`` (None: manual reset only)."""

    scope: Scope
    scope_id: str
    cause: str
    message: str
    cooldown_until: int
    auto_reset_at: int | None
    actor: str = "risk"
    reason: str = ""


class CircuitBreakerReset(EventBase, frozen=True):
    scope: Scope
    scope_id: str
    actor: str
    reason: str
    automatic: bool = False
    state: BreakerState = BreakerState.CLOSED


class BreakerEquityMarked(EventBase, frozen=True):
    """The breaker measured a new day (start-of-day equity) or a new equity peak."""

    scope: Scope
    scope_id: str
    day: int
    start_equity: Decimal
    peak_equity: Decimal


class RiskAlert(EventBase, frozen=True):
    """A warning or a CRITICAL alert for people to act on; ``code`` is a reason code."""

    level: AlertLevel
    code: str
    message: str
    account_id: str | None = None
    order_id: int | None = None
    symbol: str | None = None


class AccountFlattening(EventBase, frozen=True):
    """A kill switch with ``flatten`` closes this account's positions now (its orders are gone)."""

    account_id: str
    scope: Scope
    scope_id: str
    actor: str
    reason: str


class MarketStatusChanged(EventBase, frozen=True):
    symbol: str
    status: MarketStatus | None
    actor: str
    reason: str
