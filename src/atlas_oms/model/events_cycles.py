"""Events of the day budget, multi-cycle sizing and the entry guards of managed trades (seed 001
sections 8.2, 12, 13, 14, 16 ``risk.max-position-pct``; core/policy/cycles.py, guards.py). Part of
the union in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.event_base import EventBase


class TradingDayOpened(EventBase, frozen=True):
    """An account's trading day began at its first trade intent of the day (seed 001 §12, §13,
    §16 "Tageskapital"): ``capital`` is the account's equity in ``currency`` at that moment, the
    day capital every intent of the day is sized against. ``day`` is the New York calendar day
    (days since 1970-01-01)."""

    account_id: str
    day: int
    capital: Decimal
    currency: str


class TradeSized(EventBase, frozen=True):
    """How an accepted intent was sized (seed 001 §12, §13, §14.2, §8.2, §16): the pipeline's
    cycle number, the R granted out of the day's risk budget and every cap applied (``caps``: a
    code per cap, e.g. ``MAX_POSITION_PCT``, ``PREMARKET_MAX_POSITION_PCT``, ``DAY_BUDGET``,
    ``SLIPPAGE_SIZE_REDUCED``, ``FILL_RATE_SIZE_HALVED``)."""

    trade_id: str
    account_id: str
    cycle_number: int
    requested_qty: Decimal
    qty: Decimal
    risk_granted: Decimal
    budget_left: Decimal
    max_qty: Decimal
    caps: tuple[str, ...] = ()
    add_to: str | None = None
    premarket: bool = False


class TradeSlippageRecorded(EventBase, frozen=True):
    """A trade's entry fill compared with its intent price (seed 001 §14.1): ``adverse`` is the
    slippage against the trader as a fraction of the intent price (positive = worse)."""

    trade_id: str
    account_id: str
    intent_price: Decimal
    fill_price: Decimal
    adverse: Decimal


class SlippageEscalated(EventBase, frozen=True):
    """A §14.2 decision (``action``: SLIPPAGE_WARN, SLIPPAGE_WARN_CLEARED,
    SLIPPAGE_REDUCE_SIZE_25, SLIPPAGE_SIZE_RESTORED, SLIPPAGE_ADJUST_STOP,
    SLIPPAGE_EXIT_RR_DESTROYED) with the measured value and a sentence."""

    account_id: str
    trade_id: str
    action: str
    value: Decimal
    message: str = ""
    new_stop: Decimal | None = None


class RepricingDegraded(EventBase, frozen=True):
    """A §8.2 degraded mode entered (``entered``) or left for an account, why (``reason``) and
    the measure that decided it (``value``)."""

    account_id: str
    mode: str
    entered: bool
    reason: str
    value: Decimal
    message: str = ""


class TradingResumed(EventBase, frozen=True):
    """The strategy's next cycle (seed 001 §8.2 "naechster LLM-Zyklus"): the fill-rate
    degradation of the account ends and its attempts are forgotten."""

    account_id: str
    actor: str = ""
