"""Events of parent orders (execution algorithms, issue 16 §2-§3; ``core/algos/``). Part of the
union in :mod:`atlas_oms.model.events`.

Every decision is a field: the schedule (each slice's due time and size, and the random draws
that shaped them), each slice's quantity with its catch-up and price, each child placed or
refused, every route (the router's whole decision: the best-execution rationale), pauses,
re-routes and the end. The fold (``core/algos/state.py``) only books them.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.model.enums import Side
from atlas_oms.model.event_base import EventBase
from atlas_oms.model.route_decision import RouteDecision

__all__ = [
    "AlgoAccepted",
    "AlgoCanceled",
    "AlgoChildPlaced",
    "AlgoChildRefused",
    "AlgoCompleted",
    "AlgoPaused",
    "AlgoRefused",
    "AlgoRerouted",
    "AlgoResumed",
    "AlgoRouteRequested",
    "AlgoRouted",
    "AlgoSlice",
    "AlgoSliceStarted",
    "AlgoSlicesPlanned",
]


class AlgoSlice(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One planned slice: number (0 first), due time (ns), planned quantity, and the seeded
    draws that moved its size and time (fractions in [-1, 1]; 0 without randomization)."""

    no: int
    due_ts: int
    qty: Decimal
    size_draw: Decimal = Decimal(0)
    time_draw: Decimal = Decimal(0)


class AlgoAccepted(EventBase, frozen=True):
    """A parent order accepted, with every parameter that drives it and the arrival price (the
    mid of the best bid and ask on its venue when both exist, else the last price; None: no
    price yet)."""

    algo_id: str
    account_id: str
    symbol: str
    side: Side
    qty: Decimal
    kind: str
    venue: str = ""
    limit_price: Decimal | None = None
    strategy: str | None = None
    remainder: str = "STAY"
    start_ts: int = 0
    end_ts: int = 0
    randomize_pct: Decimal = Decimal(0)
    seed: int = 0
    slice_aggression_bps: Decimal = Decimal(0)
    participation_pct: Decimal | None = None
    display_qty: Decimal | None = None
    display_variance_pct: Decimal = Decimal(0)
    native: bool = False
    depth_margin_pct: Decimal = Decimal(0)
    reroute_after_ms: int = 0
    arrival_price: Decimal | None = None


class AlgoRefused(EventBase, frozen=True):
    """A parent order refused (nothing placed): ``reason`` code and a sentence."""

    algo_id: str
    account_id: str
    symbol: str
    reason: str
    message: str


class AlgoSlicesPlanned(EventBase, frozen=True):
    """The schedule of a TWAP or VWAP parent (sizes sum to its quantity)."""

    algo_id: str
    slices: tuple[AlgoSlice, ...]


class AlgoSliceStarted(EventBase, frozen=True):
    """Slice ``slice_no`` is due: it sends ``qty`` = the cumulative target through it
    (``target``) minus what filled and still works (catch-up included). ``price``: the child's
    limit (None: a market order); ``quote``: the best opposite price seen."""

    algo_id: str
    slice_no: int
    qty: Decimal
    target: Decimal
    price: Decimal | None = None
    quote: Decimal | None = None
    #: With a participation cap: the market volume traded since the start that bounded ``qty``
    #: (filled + qty <= volume x participation).
    market_volume: Decimal | None = None


class AlgoChildPlaced(EventBase, frozen=True):
    """A child order of the parent is working (an ordinary order tagged ``algo:<algo_id>``)."""

    algo_id: str
    slice_no: int
    order_id: int
    symbol: str
    qty: Decimal
    price: Decimal | None = None
    display_qty: Decimal | None = None


class AlgoChildRefused(EventBase, frozen=True):
    """A child order the pre-trade checks refused (``OrderDenied`` with ``reason``): nothing of
    it works; its quantity stays with the parent."""

    algo_id: str
    slice_no: int
    order_id: int
    symbol: str
    qty: Decimal
    reason: str
    message: str = ""


class AlgoRouteRequested(EventBase, frozen=True):
    """A routed slice (venue SMART) waits for a route book from the runtime (``RouteAlgo``);
    or a slice on an external venue waits for that venue's book to be priced from (its
    ``AlgoSliceStarted`` follows the answer)."""

    algo_id: str
    slice_no: int
    qty: Decimal


class AlgoRouted(EventBase, frozen=True):
    """The router's decision for a slice (the whole :class:`RouteDecision`: children, what
    could not be placed, and the prices seen at each venue: the best-execution rationale)."""

    algo_id: str
    slice_no: int
    decision: RouteDecision


class AlgoRerouted(EventBase, frozen=True):
    """A routed child's unfilled rest was canceled to be routed again (``REROUTE``) or to end
    the parent (``CANCEL``); ``reason``: what ended it (``REJECTED``, ``CANCELED``,
    ``EXPIRED``, ``NOT_FILLED``)."""

    algo_id: str
    order_id: int
    qty: Decimal
    policy: str
    reason: str


class AlgoPaused(EventBase, frozen=True):
    algo_id: str


class AlgoResumed(EventBase, frozen=True):
    algo_id: str


class AlgoCanceled(EventBase, frozen=True):
    """Canceled by the user: live children are being canceled; ``filled_qty`` stays filled."""

    algo_id: str
    filled_qty: Decimal


class AlgoCompleted(EventBase, frozen=True):
    """The parent ended with ``status`` (DONE, EXPIRED, CANCELED) and why."""

    algo_id: str
    status: str
    filled_qty: Decimal
    reason: str = ""
