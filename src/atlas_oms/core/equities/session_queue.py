"""Orders accepted outside their session, queued for the next one (MD-2, seed 004).

With a journaled calendar (``SetSessionCalendar``) an equity order that arrives when its session
is closed is no longer refused ``MARKET_CLOSED``: it is accepted and held by Atlas
(``OrderSessionQueued``: status ACCEPTED, ``session_release`` in its view, cancelable and
modifiable at once like a held stop, its funds reserved) until the open of the next session it
may trade in:

* an extended-hours LIMIT order: the next pre-market (04:00 New York) of a session day;
* any other order: the next regular open (09:30), also when it arrives in pre- or after-hours;

weekends and the calendar's holidays are skipped. The ``AdvanceTime`` tick at or after that
instant releases it (``OrderSessionReleased``): a plain order is sent to its venue (SUBMITTED),
a stop or take-profit starts watching its trigger (it stays ACCEPTED). A DAY order's expiry was
fixed when it was accepted (``calendar.day_order_expiry``): the close of that next session day
(13:00 on an early close), so one queued at night lives through the next session and ends at its
close.

Still refused outside sessions: a halted instrument; IOC and FOK orders (nothing to meet now);
an extended-hours order that is not a limit; any order when an operator set the market status
by hand (``SetMarketStatus``: the operator, not the calendar, says when it reopens) or when no
calendar was journaled (older journals decide as they did).

The checks (risk limits, buying power, reservation) run when the order is accepted; those that
depend on the market or the account at that moment run again at release
(``release_checks.py``): an order that now fails is canceled by Atlas with its reason
(``OrderSessionReleaseRefused``) and never reaches the venue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlas_oms.core.equities.calendar import (
    UsMarketBook,
    close_minute,
    has_calendar,
    local_day_minute,
    local_ts,
)
from atlas_oms.core.orders.triggers import fire_if_reached
from atlas_oms.model import events as ev
from atlas_oms.model.enums import TRIGGERED_TYPES, OrderStatus, OrderType, TimeInForce
from atlas_oms.model.requests import SubmitToVenue
from atlas_oms.model.risk import MarketStatus

if TYPE_CHECKING:
    from atlas_oms.core.context import Context
    from atlas_oms.core.state.state import State
    from atlas_oms.model.commands import SubmitOrder
    from atlas_oms.model.instrument import Instrument

#: Pre-market opens at 04:00, the regular session at 09:30 (New York time, minutes).
PRE_MARKET_OPEN_MIN = 4 * 60
REGULAR_OPEN_MIN = 9 * 60 + 30
_QUEUEABLE = (MarketStatus.CLOSED, MarketStatus.PRE_MARKET, MarketStatus.POST_MARKET)
_NOW_ONLY = (TimeInForce.IOC, TimeInForce.FOK)


def next_open(book: UsMarketBook | None, session: str, ts: int, extended: bool) -> int:
    """The first open after ``ts`` of a session an order may trade in: pre-market (04:00) for
    an extended-hours order, the regular session (09:30) for others; holidays skipped."""
    day, _ = local_day_minute(ts)
    minute = PRE_MARKET_OPEN_MIN if extended else REGULAR_OPEN_MIN
    for d in range(day, day + 30):
        if close_minute(book, session, d) is None:
            continue
        start = local_ts(d, minute)
        if start > ts:
            return start
    raise ValueError(f"no session of {session} within 30 days")  # pragma: no cover


def queue_release(
    state: State, c: SubmitOrder, inst: Instrument, status: MarketStatus
) -> int | None:
    """When a submit that arrives in ``status`` (not OPEN) is released, if it is queued at all
    (None: the session checks decide as before)."""
    session = inst.session
    if session is None or status not in _QUEUEABLE or c.tif in _NOW_ONLY:
        return None
    if state.risk.market_status.get(inst.symbol) is not None:
        return None
    us = state.equities.us
    if not has_calendar(us, session):
        return None
    if c.extended_hours and (
        c.order_type is not OrderType.LIMIT or status is not MarketStatus.CLOSED
    ):
        return None  # not an extended-hours order Atlas can work, or it trades now
    return next_open(us, session, c.ts, c.extended_hours)


def queue_order(ctx: Context, order_id: int, session: str, release_ts: int, ts: int) -> None:
    ctx.emit(
        ev.OrderSessionQueued(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            order_id=order_id,
            session=session,
            release_ts=release_ts,
        )
    )


def next_release(state: State, after: int) -> int | None:
    """The earliest release later than ``after`` (a deadline for the runtime's clock)."""
    queued = state.equities.us.queued
    due = [ts for ts in queued.values() if ts > after] if queued else None
    return min(due) if due else None


def release_due(ctx: Context, ts: int) -> None:
    """``AdvanceTime``: release every queued order whose session has opened, in release then
    order-id order."""
    state = ctx.state
    queued = state.equities.us.queued
    if not queued:
        return
    from atlas_oms.core.equities.release_checks import release_refusal  # imports pretrade

    due = sorted((rel, oid) for oid, rel in queued.items() if rel <= ts)
    for _, order_id in due:
        order = state.orders[order_id]
        if not order.is_live:  # pragma: no cover - the fold drops finished orders
            continue
        inst = state.instruments[order.symbol]
        refusal = release_refusal(ctx, order, inst, ts)
        if refusal is not None:  # the market or the account changed while it waited
            ctx.emit(
                ev.OrderSessionReleaseRefused(
                    seq=state.seq + 1,
                    ts_event=ts,
                    order_id=order_id,
                    session=inst.session or "",
                    reason=refusal[0],
                    message=refusal[1],
                )
            )
            continue
        held = order.order_type in TRIGGERED_TYPES
        ctx.emit(
            ev.OrderSessionReleased(
                seq=state.seq + 1,
                ts_event=ts,
                order_id=order_id,
                session=inst.session or "",
                order_status=OrderStatus.ACCEPTED if held else OrderStatus.SUBMITTED,
            )
        )
        if held:
            fire_if_reached(ctx, order, ts)
            continue
        intent = order.intent
        ctx.outbox.append(
            SubmitToVenue(
                order_id=order_id,
                account_id=order.account_id,
                symbol=order.symbol,
                venue=order.venue,
                ts=ts,
                side=order.side,
                qty=order.leaves_qty,
                price=order.price,
                protection_price=order.protection_price,
                tif=order.tif,
                post_only=order.post_only,
                reduce_only=order.reduce_only,
                extended_hours=intent is not None and intent.extended_hours,
                display_qty=None if intent is None else intent.display_qty,
            )
        )
