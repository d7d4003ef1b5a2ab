"""Read views of managed trades (issue 13): immutable copies of the core's trade state.

A :class:`TradeView` shows one managed trade: its phase, cycle and intent; its orders grouped by
role (entries, stops, targets, other exits: market and forced-close orders); the tranches; the
stop history; the position and the entry's average price; and its P&L.

**P&L, decided here** (the seed is silent; fees are not included, they are on each order):

* *Entry average*: the exact notional of every entry fill over the filled quantity (every
  entry order of the trade: each reprice is a new order).
* *Per exit order* (a target tranche, a stop, a market or forced-close exit): realized =
  ``(exit avg px - entry avg) x filled qty`` (sign-reversed for a short), counting only what
  filled: a partially filled target shows the P&L of its filled part, a canceled one the part it
  filled before the cancel, an unfilled one zero. A stop or a market exit is never a tranche:
  it is a row of its own (role ``STOP`` / ``EXIT``) in the order table and counts in the total.
* *Per tranche*: the P&L of the tranche's target order(s) as above.
* *Per lot*: a lot is one entry order's fills (its own entry price, as the position's lots in
  core/state/positions.py are keyed by opening order). Every exit is priced against the trade's
  entry average, so the exits close every lot *pro rata* (each lot closes the same fraction of
  its quantity); a lot's realized P&L is its closed part times (exit average - lot price), and
  the lots' P&L adds up to the per-tranche total. (The account's position books its own lots
  FIFO across everything the account trades; a trade's view does not depend on other trades.)
* *Unrealized*: the open position at the symbol's last price (None without a price).

The events of a trade (its audit trail) are read from the journal by :func:`trade_events` and
shown by the single view only (``events``; None in lists).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.decimals import ZERO
from atlas_oms.core.orders.order import OrderView
from atlas_oms.core.policy.trade_state import CLOSED, TradeState
from atlas_oms.core.state.state import State
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus, OrderType, Side

__all__ = [
    "StopChange",
    "TargetLeg",
    "TradeIntentView",
    "TradeLotView",
    "TradeOrderView",
    "TradeView",
    "TrancheView",
    "is_trade_event",
    "trade_events",
    "trade_view",
]

#: Order roles in a trade.
ENTRY, STOP, TARGET, EXIT = "ENTRY", "STOP", "TARGET", "EXIT"
_STOPS = (OrderType.STOP_LIMIT, OrderType.STOP_MARKET)


class StopChange(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of the stop history; unpacks as ``(ts, trigger, cause)``."""

    ts: int
    trigger: Decimal
    cause: str

    def __iter__(self) -> Iterator[Any]:
        return iter((self.ts, self.trigger, self.cause))


class TargetLeg(msgspec.Struct, frozen=True, kw_only=True):
    """A working target; unpacks as ``(order_id, tranche, qty, price)``."""

    order_id: int
    tranche: int
    qty: Decimal
    price: Decimal

    def __iter__(self) -> Iterator[Any]:
        return iter((self.order_id, self.tranche, self.qty, self.price))


class TradeIntentView(msgspec.Struct, frozen=True, kw_only=True):
    """What the strategy asked for (and the size Atlas derived: ``qty``)."""

    entry_ideal: Decimal
    entry_max: Decimal
    stop0: Decimal
    risk_amount: Decimal
    qty: Decimal
    scale_out: str
    target_policy: str
    urgency: str
    bias: str
    key_level: Decimal | None


class TradeOrderView(msgspec.Struct, frozen=True, kw_only=True):
    """One order of the trade with its role (``ENTRY``, ``STOP``, ``TARGET``, ``EXIT``)."""

    order_id: int
    role: str
    tranche: int | None
    order_type: str
    side: str
    status: str
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    cum_qty: Decimal
    avg_px: Decimal | None
    market_reason: str | None
    #: Exits only: realized P&L of what filled, against the entry average (None: entries).
    realized_pnl: Decimal | None


class TrancheView(msgspec.Struct, frozen=True, kw_only=True):
    """One tranche (seed 001 section 6) and its target order."""

    index: int
    order_id: int
    planned_qty: Decimal
    price: Decimal
    filled_qty: Decimal
    avg_px: Decimal | None
    status: str
    realized_pnl: Decimal


class TradeLotView(msgspec.Struct, frozen=True, kw_only=True):
    """One lot: one entry order's fills at their own price (see the module docstring)."""

    order_id: int
    price: Decimal
    qty: Decimal
    open_qty: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None


class TradeView(msgspec.Struct, frozen=True, kw_only=True):
    """One managed trade: phase, entry, the position and its protection."""

    trade_id: str
    account_id: str
    symbol: str
    side: str
    phase: str
    qty: Decimal
    entry_filled: Decimal
    position: Decimal
    entry_px: Decimal | None
    entry_order_id: int | None
    entry_price: Decimal | None
    cycle: int
    stop_order_id: int | None
    stop_trigger: Decimal | None
    stop_qty: Decimal
    targets: tuple[TargetLeg, ...]
    stop_history: tuple[StopChange, ...]
    break_even: bool
    close_cause: str | None
    # -- the full picture (interfaces, h13-api)
    is_open: bool = True
    opened_ts: int = 0
    intent: TradeIntentView | None = None
    entry_avg_px: Decimal | None = None
    stop_limit: Decimal | None = None
    entries: tuple[TradeOrderView, ...] = ()
    stops: tuple[TradeOrderView, ...] = ()
    target_orders: tuple[TradeOrderView, ...] = ()
    exits: tuple[TradeOrderView, ...] = ()
    tranches: tuple[TrancheView, ...] = ()
    lots: tuple[TradeLotView, ...] = ()
    last_px: Decimal | None = None
    realized_pnl: Decimal = ZERO
    unrealized_pnl: Decimal | None = None
    #: The trade's events (single view only: :func:`trade_events`); None in lists.
    events: tuple[Any, ...] | None = None
    #: Seed 001 §12-14: the pipeline's cycle number, the trade it adds to (scale-up), whether it
    #: entered in pre-market, and the entry's adverse slippage.
    cycle_number: int = 0
    add_to: str | None = None
    premarket: bool = False
    entry_slippage: Decimal | None = None


OrderLookup = Callable[[int], OrderView | None]


def _filled(state: State, lookup: OrderLookup | None, order_id: int) -> tuple[Decimal, Decimal]:
    """(filled qty, exact filled notional) of an order."""
    order = state.orders.get(order_id)
    if order is not None:
        return order.cum_qty, order.cum_notional
    view = lookup(order_id) if lookup is not None else None
    if view is None or not view.cum_qty or view.avg_px is None:
        return ZERO, ZERO
    return view.cum_qty, view.cum_qty * view.avg_px


def _view(state: State, lookup: OrderLookup | None, order_id: int) -> OrderView | None:
    order = state.orders.get(order_id)
    if order is not None:
        return order.view()
    return lookup(order_id) if lookup is not None else None


def trade_view(state: State, t: TradeState, lookup: OrderLookup | None = None) -> TradeView:
    """The view of ``t``; ``lookup`` finds orders no longer in memory (archived)."""
    sign = Decimal(1) if t.side is Side.BUY else Decimal(-1)
    # -- entries and lots
    entry_qty = entry_notional = ZERO
    lots: list[tuple[int, Decimal, Decimal]] = []  # (order id, qty, notional)
    for oid in t.entry_orders:
        qty, notional = _filled(state, lookup, oid)
        if qty:
            lots.append((oid, qty, notional))
            entry_qty += qty
            entry_notional += notional
    entry_avg = entry_notional / entry_qty if entry_qty else None
    # -- exits
    plan = dict(t.tranche_plan)
    plan.update(t.targets)
    entries: list[TradeOrderView] = []
    stops: list[TradeOrderView] = []
    targets: list[TradeOrderView] = []
    exits: list[TradeOrderView] = []
    exit_qty = exit_notional = realized = ZERO
    by_order: dict[int, tuple[Decimal, Decimal | None, Decimal]] = {}
    for oid in t.entry_orders:
        view = _view(state, lookup, oid)
        if view is not None:
            entries.append(_order(view, ENTRY, None, None))
    seen: set[int] = set()
    for oid in t.exit_orders:
        if oid in seen:
            continue
        seen.add(oid)
        qty, notional = _filled(state, lookup, oid)
        pnl = sign * (notional - qty * entry_avg) if entry_avg is not None else ZERO
        exit_qty += qty
        exit_notional += notional
        realized += pnl
        view = _view(state, lookup, oid)
        by_order[oid] = (qty, notional / qty if qty else None, pnl)
        if view is None:
            continue
        if oid in plan:
            targets.append(_order(view, TARGET, plan[oid][0], pnl))
        elif view.order_type in _STOPS:
            stops.append(_order(view, STOP, None, pnl))
        else:
            exits.append(_order(view, EXIT, None, pnl))
    tranches = []
    for oid, (index, qty, price) in sorted(plan.items(), key=lambda kv: (kv[1][0], kv[0])):
        filled, avg, pnl = by_order.get(oid, (ZERO, None, ZERO))
        view = _view(state, lookup, oid)
        tranches.append(
            TrancheView(
                index=index,
                order_id=oid,
                planned_qty=qty,
                price=price,
                filled_qty=filled,
                avg_px=avg,
                status=view.status.value if view is not None else OrderStatus.CANCELED.value,
                realized_pnl=pnl,
            )
        )
    position = entry_qty - exit_qty
    last = state.last.get(t.symbol)
    unrealized = (
        sign * position * (last - entry_avg) if last is not None and entry_avg is not None else None
    )
    # -- lots: exits close each lot pro rata (module docstring)
    lot_views = []
    for oid, qty, notional in lots:
        px = notional / qty
        share = qty / entry_qty
        closed = exit_qty * share
        lot_realized = sign * share * (exit_notional - exit_qty * px)
        open_qty = qty - closed
        lot_views.append(
            TradeLotView(
                order_id=oid,
                price=px,
                qty=qty,
                open_qty=open_qty,
                realized_pnl=lot_realized,
                unrealized_pnl=sign * open_qty * (last - px) + ZERO if last is not None else None,
            )
        )
    stop = state.orders.get(t.stop_order_id or 0)
    stop_qty = stop.leaves_qty if stop is not None and stop.is_live else ZERO
    return TradeView(
        trade_id=t.trade_id,
        account_id=t.account_id,
        symbol=t.symbol,
        side=t.side.value,
        phase=t.phase,
        qty=t.qty,
        entry_filled=entry_qty,
        position=position,
        entry_px=t.entry_px,
        entry_order_id=t.entry_order_id,
        entry_price=t.entry_price,
        cycle=t.cycle,
        stop_order_id=t.stop_order_id,
        stop_trigger=t.stop_trigger,
        stop_qty=stop_qty,
        targets=tuple(
            TargetLeg(order_id=oid, tranche=i, qty=q, price=p)
            for oid, (i, q, p) in t.targets.items()
        ),
        stop_history=tuple(StopChange(ts=ts, trigger=px, cause=c) for ts, px, c in t.stop_history),
        break_even=t.break_even,
        close_cause=t.close_cause,
        is_open=t.phase != CLOSED and (t.is_open or position != 0),
        opened_ts=t.opened_ts,
        intent=TradeIntentView(
            entry_ideal=t.entry_ideal,
            entry_max=t.entry_max,
            stop0=t.stop0,
            risk_amount=t.risk_amount,
            qty=t.qty,
            scale_out=t.scale_out,
            target_policy=t.target_policy,
            urgency=t.urgency,
            bias=t.bias,
            key_level=t.key_level,
        ),
        entry_avg_px=entry_avg,
        stop_limit=t.stop_limit,
        entries=tuple(entries),
        stops=tuple(stops),
        target_orders=tuple(targets),
        exits=tuple(exits),
        tranches=tuple(tranches),
        lots=tuple(lot_views),
        last_px=last,
        realized_pnl=realized,
        unrealized_pnl=unrealized,
        cycle_number=t.cycle_number,
        add_to=t.add_to,
        premarket=t.premarket,
        entry_slippage=t.entry_slippage,
    )


def _order(view: OrderView, role: str, tranche: int | None, pnl: Decimal | None) -> TradeOrderView:
    return TradeOrderView(
        order_id=view.order_id,
        role=role,
        tranche=tranche,
        order_type=view.order_type.value,
        side=view.side.value,
        status=view.status.value,
        qty=view.qty,
        price=view.price,
        trigger_price=view.trigger_price,
        cum_qty=view.cum_qty,
        avg_px=view.avg_px,
        market_reason=view.market_reason.value if view.market_reason is not None else None,
        realized_pnl=pnl,
    )


def is_trade_event(event: object) -> bool:
    """A managed trade's own event (``Trade*`` with a ``trade_id``; not an order fill, whose
    ``trade_id`` is the venue's execution id)."""
    return type(event).__name__.startswith("Trade") and isinstance(
        getattr(event, "trade_id", None), str
    )


def trade_events(
    events: Iterable[ev.EventBase], trade_id: str, order_ids: Iterable[int]
) -> list[ev.EventBase]:
    """The events of one trade: its own ``Trade*`` events and every event of its orders."""
    orders = set(order_ids)
    out: list[ev.EventBase] = []
    for event in events:
        if is_trade_event(event):
            if getattr(event, "trade_id", None) == trade_id:
                out.append(event)
        elif getattr(event, "order_id", None) in orders:
            out.append(event)
    return out
