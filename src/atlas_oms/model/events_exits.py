"""Events of a managed trade's emergency exits and forced close (seed 001 sections 2, 3.2, 4,
9.1, 9.3, 11; ``core/policy/fallback.py``, ``core/policy/forced_close.py``). Part of the union
in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.event_base import EventBase


class TradeStopTriggered(EventBase, frozen=True):
    """The trade's stop-limit triggered; unless filled by ``fallback_ts`` (trigger time plus
    ``execution.stop-market-fallback-ms``) it is replaced by a market exit (seed 001 §4)."""

    trade_id: str
    order_id: int
    fallback_ts: int


class TradeExitStarted(EventBase, frozen=True):
    """The trade closes its position at market (seed 001 §3.2): ``reason`` is the
    ``MarketOrderReason`` (STOP_MARKET_FALLBACK, STOP_PARTIAL_FILL_EMERGENCY, GAP_OPENING,
    FORCED_CLOSE), ``cause`` the row that fired (STOP_LIMIT_UNFILLED, STOP_PARTIAL_FILL,
    STOP_REJECTED, GAP_OPENING, LULD_RESUME, FORCED_CLOSE). The stop, targets and any working
    entry or forced-close limit are canceled in the same step (``canceled``); the market order
    goes out once none of them works any more (:class:`TradeExitOrderPlaced`)."""

    trade_id: str
    reason: str
    cause: str
    canceled: tuple[int, ...] = ()


class TradeExitOrderPlaced(EventBase, frozen=True):
    """The trade's reduce-only market exit for ``qty`` (``order_id`` 0: the order was refused,
    the exit is tried again on the next tick or price)."""

    trade_id: str
    order_id: int
    qty: Decimal
    reason: str
    attempt: int = 1


class TradeStopRejected(EventBase, frozen=True):
    """A protective stop was refused or rejected while the position was open (seed 001 §2,
    §9.3: CRITICAL, limited retry). ``attempt`` counts the refusals of this trade's stops."""

    trade_id: str
    order_id: int
    attempt: int
    retries: int
    message: str = ""


class TradeSessionObserved(EventBase, frozen=True):
    """The trade saw its instrument's session change (``status``: OPEN, HALTED, ...; the
    previous one in ``previous``); an opening after CLOSED/PRE_MARKET/HALTED checks the stop."""

    trade_id: str
    status: str
    previous: str | None = None


class TradeForcedCloseOrder(EventBase, frozen=True):
    """Forced close (seed 001 §11): an aggressive limit at ``price`` (the best bid for a long)
    for the position; ``reprice`` counts replacements, ``next_ts`` is the next repricing."""

    trade_id: str
    order_id: int
    price: Decimal
    qty: Decimal
    reprice: int
    next_ts: int


class TradeCannotLiquidate(EventBase, frozen=True):
    """Forced close failed by ``forced-close-end`` (seed 001 §11 "Cannot Liquidate"): the
    escalation; an EMERGENCY alert and the account's kill switch (with flatten) go with it."""

    trade_id: str
    account_id: str
    symbol: str
    position: Decimal
    message: str = ""
