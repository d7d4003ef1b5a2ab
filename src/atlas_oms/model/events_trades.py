"""Events of managed trades (seed 001, core/policy/trade.py). Part of the union in
:mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.enums import (
    Side,
)
from atlas_oms.model.event_base import EventBase


# ---------------------------------------------------------------------- managed trades (issue 13)
class TradeIntentAccepted(EventBase, frozen=True):
    """A trade intent became a managed trade (seed 001 section 1); ``qty`` is the derived size."""

    trade_id: str
    account_id: str
    symbol: str
    side: Side
    entry_ideal: Decimal
    entry_max: Decimal
    stop: Decimal
    risk_amount: Decimal
    qty: Decimal
    scale_out: str = "STANDARD"
    target_policy: str = "TRANCHES"
    urgency: str = "NORMAL"
    bias: str = "NEUTRAL"
    key_level: Decimal | None = None


class TradeIntentRefused(EventBase, frozen=True):
    """A trade intent was refused (``reason`` a code, ``message`` a sentence)."""

    trade_id: str
    account_id: str
    reason: str
    message: str = ""


class TradeEntryPlaced(EventBase, frozen=True):
    """The entry limit order of a trade (``cycle`` 0 = first placement, n = n-th reprice)."""

    trade_id: str
    order_id: int
    price: Decimal
    qty: Decimal
    cycle: int = 0
    next_reprice_ts: int | None = None


class TradeEntryRepriced(EventBase, frozen=True):
    """The working entry was canceled to be replaced at ``price`` (cycle ``cycle``)."""

    trade_id: str
    old_order_id: int
    price: Decimal
    cycle: int


class TradeEntryAbandoned(EventBase, frozen=True):
    """The entry gave up (``reason``); the trade is back to seeking entry with no order working."""

    trade_id: str
    reason: str
    filled_qty: Decimal = Decimal(0)


class TradeBracketPlaced(EventBase, frozen=True):
    """The protective stop and every target, decided in one step (seed 001 section 5, atomic).

    ``targets`` holds ``(order_id, tranche index, qty, price)`` per target order."""

    trade_id: str
    position_qty: Decimal
    entry_px: Decimal
    stop_order_id: int
    stop_trigger: Decimal
    stop_limit: Decimal
    targets: tuple[tuple[int, int, Decimal, Decimal], ...] = ()
    variant: str = ""
    #: When the rest of a partially filled entry is canceled (None: the entry is complete).
    entry_cancel_ts: int | None = None
    #: The account cannot hold stop and targets at once (spot, cash equities): the stop covers
    #: what the targets do not hold, an internal stop the rest (core/policy/cover.py).
    covered: bool = False


class TradeStopPlaced(EventBase, frozen=True):
    """A new protective stop replaces one the venue canceled or refused (seed 001 section 5.2:
    the position is never left without a stop); ``cause`` names why (``STOP_LOST``)."""

    trade_id: str
    order_id: int
    qty: Decimal
    trigger: Decimal
    limit: Decimal
    cause: str = ""


class TradeStopResized(EventBase, frozen=True):
    """The stop's quantity follows the remaining position."""

    trade_id: str
    order_id: int
    qty: Decimal
    cause: str = ""


class TradeStopMoved(EventBase, frozen=True):
    """The stop's trigger (and limit) moved, never loosening (``cause``: BREAK_EVEN, TRAIL...)."""

    trade_id: str
    order_id: int
    trigger: Decimal
    limit: Decimal
    cause: str = ""
    #: Stop maintenance (§10.2, core/policy/trailing.py): the term that won (``trail``,
    #: ``mfe_lock``, ``runner``, ``tighten``), every term that existed as ``(name, price)``, and
    #: what ran the maintenance (``BAR_CLOSE``, ``TARGET_FILL``, ``CRITICAL: <reason>``, ...).
    source: str = ""
    terms: tuple[tuple[str, Decimal], ...] = ()
    reason: str = ""


class TradeTargetCanceled(EventBase, frozen=True):
    """A target order the trade cancels (``cause``: STOP_FILLED, ...)."""

    trade_id: str
    order_id: int
    cause: str = ""


class TradeClosed(EventBase, frozen=True):
    """The managed trade is flat (``cause``: STOP, TARGETS, ...)."""

    trade_id: str
    cause: str
    realized_qty: Decimal = Decimal(0)


class PolicyParamsSet(EventBase, frozen=True):
    """The execution policy's parameters from now on: the seed defaults with ``overrides``
    (``(canonical name, value text)`` pairs, sorted) applied."""

    overrides: tuple[tuple[str, str], ...] = ()
    actor: str = ""
    reason: str = ""


class TradeStopFired(EventBase, frozen=True):
    """The stop level was reached (``source``: LAST_PRICE, or VENUE_TRIGGER when the venue's
    stop triggered): every target is canceled and the stop is made to cover the whole
    position (core/policy/cover.py)."""

    trade_id: str
    price: Decimal
    source: str = ""


class TradeTargetsAdded(EventBase, frozen=True):
    """More target orders for tranches that grew (seed 001 §9.1: a later entry fill grows
    stop and targets proportionally); ``targets`` as in ``TradeBracketPlaced``."""

    trade_id: str
    targets: tuple[tuple[int, int, Decimal, Decimal], ...] = ()
    cause: str = ""


class TradeScaleOutStarted(EventBase, frozen=True):
    """The trade sells ``qty`` now with a limit at the bid, repriced until filled (seed 001
    §3.1 "Normal Exit (Tranchen)"); ``cause`` SCALE_OUT (§6.2), ``reason`` the event's name."""

    trade_id: str
    qty: Decimal
    cause: str
    reason: str = ""


class TradeScaleOutPlaced(EventBase, frozen=True):
    """One exit limit of a started exit (``order_id`` 0: none could be placed yet, retried at
    ``next_reprice_ts``)."""

    trade_id: str
    order_id: int
    price: Decimal
    qty: Decimal
    next_reprice_ts: int | None = None


class TradeScaleOutEnded(EventBase, frozen=True):
    """A started exit stops (``cause``: STOP_TRIGGERED, CLOSED...): its working limit is
    canceled and it is not repriced again."""

    trade_id: str
    cause: str = ""
