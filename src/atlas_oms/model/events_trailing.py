"""Events of bars and stop maintenance (seed 001 §7, §10; core/policy/trailing.py and
bar_book.py). Part of the union in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.event_base import EventBase


class BarClosed(EventBase, frozen=True):
    """The 1-minute bar of ``symbol`` starting at ``start_ns`` closed because time reached its end
    (a message at or after ``start_ns + 60 s``). The bar was built from the prints the fold booked;
    the fields repeat it for the audit trail. The fold closes the bar in the bar book and folds it
    into the indicators (ATR, EMA, swing points)."""

    symbol: str
    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int = 0


class BarApplied(EventBase, frozen=True):
    """A complete 1-minute bar taken as market data (``ApplyBar``: an external venue's or a
    backtest's bar). Authoritative for its minute (core/policy/bars.py ``on_bar``): it closes an
    earlier bar in progress first and replaces one of the same minute; a late bar is counted and
    dropped by the fold."""

    symbol: str
    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class TradeTrailingStarted(EventBase, frozen=True):
    """Stop maintenance (§10) is active for the trade from its bracket (§5 "Trailing-Policy
    aktivieren"). ``entry_atr`` is the ATR at the bracket (None: not warmed up yet; the first ATR
    that becomes available is taken later, ``TradeEntryAtrSet``). Extremes for the MFE count from
    the bar starting at ``extremes_from_ns`` (the first minute that begins after the entry)."""

    trade_id: str
    entry_atr: Decimal | None = None
    extremes_from_ns: int = 0


class TradeEntryAtrSet(EventBase, frozen=True):
    """A trade bracketed before the ATR warmed up takes the first ATR available as its entry ATR."""

    trade_id: str
    entry_atr: Decimal


class TradeTargetPolicySet(EventBase, frozen=True):
    """The trade's target policy changed (§7: ``TRAIL_ONLY``: every open target canceled, the
    whole remaining position on the trailed stop)."""

    trade_id: str
    target_policy: str
    reason: str = ""
