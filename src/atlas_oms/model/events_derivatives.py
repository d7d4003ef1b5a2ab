"""Events of a derivatives venue: margin mode and tiers, funding, insurance fund, liquidation,
auto-deleveraging and future settlement. Part of the union in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.enums import (
    PositionSide,
)
from atlas_oms.model.event_base import EventBase
from atlas_oms.model.margin import MarginMode, MarginTier


class MarginModeSet(EventBase, frozen=True):
    account_id: str
    symbol: str
    mode: MarginMode


class IsolatedMarginAdjusted(EventBase, frozen=True):
    """Margin moved into (positive) or out of (negative) an isolated position."""

    account_id: str
    symbol: str
    position_side: PositionSide
    amount: Decimal


class MarginTiersSet(EventBase, frozen=True):
    symbol: str
    tiers: tuple[MarginTier, ...]
    actor: str
    reason: str


class FundingRateSet(EventBase, frozen=True):
    """The rate of the perpetual's next funding settlement. ``funding_from_ts``, on its first
    rate: the funding boundary settlements count from (the one at or before the event)."""

    symbol: str
    rate: Decimal
    funding_from_ts: int | None = None


class FundingSettled(EventBase, frozen=True):
    """One position's funding at one settlement of a perpetual, at ``mark`` and ``rate``:
    ``amount`` received (+) or paid (-) in ``asset``. One event per open position, so each
    account's trail holds its own payments only."""

    symbol: str
    asset: str
    rate: Decimal
    mark: Decimal
    funding_ts: int
    account_id: str
    position_side: PositionSide
    qty: Decimal
    amount: Decimal


class InsuranceFundDeposited(EventBase, frozen=True):
    asset: str
    amount: Decimal
    actor: str
    reason: str


class LiquidationStarted(EventBase, frozen=True):
    """An account (cross) or one position (isolated) reached 100% margin ratio at ``mark``: it is
    frozen and its positions listed in ``positions`` ``(symbol, position side)`` are liquidated."""

    case_id: int
    account_id: str
    mode: MarginMode
    asset: str
    symbol: str
    mark: Decimal
    margin_balance: Decimal
    maint_margin: Decimal
    positions: list[tuple[str, PositionSide]]


class LiquidationStep(EventBase, frozen=True):
    """The next step of liquidating one position: ``stage`` BOOK (an IOC order at the bankruptcy
    price, ``order_id``), FUND (an IOC at a worse ``price``, the insurance fund paying the
    difference) or ADL (closed against opposite positions at the bankruptcy price)."""

    case_id: int
    symbol: str
    position_side: PositionSide
    stage: str
    bankruptcy_price: Decimal
    order_id: int | None = None
    price: Decimal | None = None


class LiquidationFundTransfer(EventBase, frozen=True):
    """Between a liquidated account and the insurance fund: ``amount`` > 0 goes to the fund (the
    fills were better than the bankruptcy price), < 0 comes from it."""

    case_id: int
    order_id: int
    account_id: str
    asset: str
    amount: Decimal
    filled_qty: Decimal


class PositionAutoDeleveraged(EventBase, frozen=True):
    """ADL: ``qty`` of one account's position closed at the bankruptcy ``price``. They come in
    pairs with the same ``case_id`` and ``rank``: the liquidated position (``liquidated``) and the
    opposite position it was closed against. Neither names the other account."""

    case_id: int
    symbol: str
    price: Decimal
    qty: Decimal
    account_id: str
    position_side: PositionSide
    rank: int
    liquidated: bool = False


class LiquidationFinished(EventBase, frozen=True):
    """The case is over: the account or position is unfrozen. ``shortfall`` is any quantity that
    neither the book, the fund nor ADL could close (0 in a consistent venue)."""

    case_id: int
    account_id: str
    shortfall: Decimal = Decimal(0)


class FutureSettled(EventBase, frozen=True):
    """A dated future was cash-settled at ``price``: every position in it closed there (each
    account's realized P&L in its trail as the position's close), and it no longer trades."""

    symbol: str
    price: Decimal
    actor: str
    reason: str
