"""When the engine next has something to do by the clock alone: the read the live runtime's clock
task asks before it sleeps, so that a timer tick (``AdvanceTime``) arrives exactly when an order
expires, a funding boundary passes or a circuit breaker may reset itself.

Pure: it reads the state and returns a timestamp; it decides nothing and emits nothing. Whatever a
tick at or before ``after`` could do was done by that tick (or waits for something other than
time, such as a mark price), so only deadlines strictly later than ``after`` are returned.
"""

from __future__ import annotations

from atlas_oms.core.algos.algo import next_algo_deadline
from atlas_oms.core.equities.session_queue import next_release
from atlas_oms.core.policy.trade import next_trade_deadline
from atlas_oms.core.state.state import State
from atlas_oms.model.risk import BreakerState

#: Larger than any order id: bounds the expiry index's (expire_ts, order_id) keys.
_NO_ID = 1 << 62
MINUTE_NS = 60_000_000_000


def next_expiry(state: State, after: int) -> int | None:
    """The earliest expiry of a live order later than ``after`` (DAY and GTD orders)."""
    orders = state.orders
    for expire_ts, order_id in state.expiries.irange(
        minimum=(after, _NO_ID), inclusive=(False, True)
    ):
        order = orders.get(order_id)
        if order is not None and order.is_live:
            return int(expire_ts)
    return None


def next_funding(state: State, after: int) -> int | None:
    """The next funding boundary later than ``after`` of a perpetual with a funding rate
    (boundaries are multiples of its interval since 00:00 UTC; see ``settle_funding_due``)."""
    liq = state.liq
    best: int | None = None
    for symbol in liq.funding_rate:
        inst = state.instruments.get(symbol)
        if inst is None or not inst.funding_interval_min:
            continue
        interval = inst.funding_interval_min * MINUTE_NS
        # A tick at t settles when floor(t / interval) * interval > last: the first such t
        # after ``after`` is the next multiple of the interval beyond both.
        due = (max(liq.last_funding.get(symbol, 0), after) // interval + 1) * interval
        if best is None or due < best:
            best = due
    return best


def next_breaker_reset(state: State, after: int) -> int | None:
    """The earliest automatic reset of an open circuit breaker later than ``after``."""
    due = [
        b.auto_reset_at
        for b in state.risk.breakers.values()
        if b.state is BreakerState.OPEN and b.auto_reset_at is not None and b.auto_reset_at > after
    ]
    return min(due) if due else None


def next_deadline(state: State, after: int) -> int | None:
    """The earliest time later than ``after`` at which a tick changes something (None: nothing is
    scheduled; the clock still ticks about once a second for the rest)."""
    found = [
        ts
        for ts in (
            next_expiry(state, after),
            next_funding(state, after),
            next_breaker_reset(state, after),
            next_trade_deadline(state, after),
            next_release(state, after),
            next_algo_deadline(state, after),
        )
        if ts is not None
    ]
    return min(found) if found else None
