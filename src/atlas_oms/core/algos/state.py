"""A parent order's state (``state.algos``) and the fold of the ``Algo*`` events.

The fold only books: the schedule, the children, pauses and the end are fields of events. The
parent's filled quantity, average price and leaves are never booked here: they are read from its
child orders (:func:`filled`), which the order fold books, so parent = sum of children always.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from atlas_oms.core.decimals import ZERO
from atlas_oms.model import events_algos as ea
from atlas_oms.model.algos import AlgoStatus
from atlas_oms.model.enums import Side

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

#: Statuses in which a parent still works (or may again).
OPEN_STATUSES = (AlgoStatus.WORKING.value, AlgoStatus.PAUSED.value)
MS = 1_000_000


@dataclass(slots=True)
class AlgoState:
    """One parent order (field order is the digest's and the snapshot's)."""

    algo_id: str
    account_id: str
    symbol: str
    side: Side
    qty: Decimal
    kind: str
    venue: str
    limit_price: Decimal | None
    strategy: str | None
    remainder: str
    start_ts: int
    end_ts: int
    randomize_pct: Decimal
    seed: int
    slice_aggression_bps: Decimal
    participation_pct: Decimal | None
    display_qty: Decimal | None
    display_variance_pct: Decimal
    native: bool
    depth_margin_pct: Decimal
    reroute_after_ms: int
    arrival_price: Decimal | None
    accepted_ts: int
    status: str = AlgoStatus.WORKING.value
    #: (due ts, planned qty) per slice (TWAP, VWAP); empty for ICEBERG and SMART.
    schedule: list[tuple[int, Decimal]] = field(default_factory=list)
    #: The next slice not yet started.
    next_slice: int = 0
    #: Every child order, in placement order, and its slice number.
    children: list[tuple[int, int]] = field(default_factory=list)
    #: Children refused by the pre-trade checks: (slice no, order id, reason, message).
    refused: list[tuple[int, int, str, str]] = field(default_factory=list)
    #: A routed slice waiting for a book: (slice no, qty); None: none waits.
    route_pending: tuple[int, Decimal] | None = None
    routes: int = 0
    reroutes: int = 0
    #: Iceberg refills so far (the next display child's number).
    refills: int = 0
    ended_ts: int | None = None
    end_reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def child_ids(self) -> list[int]:
        return [order_id for order_id, _ in self.children]

    def cumulative(self, through: int) -> Decimal:
        """The planned quantity of slices 0..``through``."""
        return sum((q for _, q in self.schedule[: through + 1]), ZERO)


def filled(state: State, a: AlgoState) -> tuple[Decimal, Decimal]:
    """(filled qty, filled notional) of the parent: the sum over its children."""
    qty = notional = ZERO
    orders = state.orders
    for order_id, _ in a.children:
        o = orders.get(order_id)
        if o is not None:
            qty += o.cum_qty
            notional += o.cum_notional
    return qty, notional


def working(state: State, a: AlgoState) -> Decimal:
    """What the parent's live children still work."""
    orders = state.orders
    total = ZERO
    for order_id, _ in a.children:
        o = orders.get(order_id)
        if o is not None and o.is_live:
            total += o.leaves_qty
    return total


def live_children(state: State, a: AlgoState) -> list[Any]:
    orders = state.orders
    out = []
    for order_id, _ in a.children:
        o = orders.get(order_id)
        if o is not None and o.is_live:
            out.append(o)
    return out


# ------------------------------------------------------------------------------------ fold
def apply_accepted(state: State, e: ea.AlgoAccepted) -> None:
    state.algos[e.algo_id] = AlgoState(
        algo_id=e.algo_id,
        account_id=e.account_id,
        symbol=e.symbol,
        side=e.side,
        qty=e.qty,
        kind=e.kind,
        venue=e.venue,
        limit_price=e.limit_price,
        strategy=e.strategy,
        remainder=e.remainder,
        start_ts=e.start_ts,
        end_ts=e.end_ts,
        randomize_pct=e.randomize_pct,
        seed=e.seed,
        slice_aggression_bps=e.slice_aggression_bps,
        participation_pct=e.participation_pct,
        display_qty=e.display_qty,
        display_variance_pct=e.display_variance_pct,
        native=e.native,
        depth_margin_pct=e.depth_margin_pct,
        reroute_after_ms=e.reroute_after_ms,
        arrival_price=e.arrival_price,
        accepted_ts=e.ts_event,
    )
    state.algos_open[e.algo_id] = None


def apply_nothing(state: State, e: Any) -> None:
    """A refusal changes nothing (it is in the journal, for the audit trail)."""


def apply_planned(state: State, e: ea.AlgoSlicesPlanned) -> None:
    state.algos[e.algo_id].schedule = [(s.due_ts, s.qty) for s in e.slices]


def apply_slice_started(state: State, e: ea.AlgoSliceStarted) -> None:
    a = state.algos[e.algo_id]
    a.next_slice = max(a.next_slice, e.slice_no + 1)
    pending = a.route_pending
    if pending is not None and pending[0] == e.slice_no and a.venue != "SMART":
        a.route_pending = None  # an external venue's slice got its book


def apply_child_placed(state: State, e: ea.AlgoChildPlaced) -> None:
    a = state.algos[e.algo_id]
    a.children.append((e.order_id, e.slice_no))
    if e.display_qty is not None or a.kind == "ICEBERG":
        a.refills += 1
    state.algo_orders[e.order_id] = e.algo_id


def apply_child_refused(state: State, e: ea.AlgoChildRefused) -> None:
    state.algos[e.algo_id].refused.append((e.slice_no, e.order_id, e.reason, e.message))


def apply_route_requested(state: State, e: ea.AlgoRouteRequested) -> None:
    state.algos[e.algo_id].route_pending = (e.slice_no, e.qty)


def apply_routed(state: State, e: ea.AlgoRouted) -> None:
    a = state.algos[e.algo_id]
    a.routes += 1
    a.route_pending = None


def apply_rerouted(state: State, e: ea.AlgoRerouted) -> None:
    state.algos[e.algo_id].reroutes += 1


def apply_paused(state: State, e: ea.AlgoPaused) -> None:
    a = state.algos[e.algo_id]
    a.status = AlgoStatus.PAUSED.value
    a.route_pending = None


def apply_resumed(state: State, e: ea.AlgoResumed) -> None:
    state.algos[e.algo_id].status = AlgoStatus.WORKING.value


def apply_canceled(state: State, e: ea.AlgoCanceled) -> None:
    a = state.algos[e.algo_id]
    a.status = AlgoStatus.CANCELED.value
    a.route_pending = None
    a.ended_ts = e.ts_event
    a.end_reason = "CANCELED_BY_USER"
    state.algos_open.pop(e.algo_id, None)


def apply_completed(state: State, e: ea.AlgoCompleted) -> None:
    a = state.algos[e.algo_id]
    a.status = e.status
    a.route_pending = None
    a.ended_ts = e.ts_event
    a.end_reason = e.reason
    state.algos_open.pop(e.algo_id, None)


ALGO_APPLIERS: dict[type, Any] = {
    ea.AlgoAccepted: apply_accepted,
    ea.AlgoRefused: apply_nothing,
    ea.AlgoSlicesPlanned: apply_planned,
    ea.AlgoSliceStarted: apply_slice_started,
    ea.AlgoChildPlaced: apply_child_placed,
    ea.AlgoChildRefused: apply_child_refused,
    ea.AlgoRouteRequested: apply_route_requested,
    ea.AlgoRouted: apply_routed,
    ea.AlgoRerouted: apply_rerouted,
    ea.AlgoPaused: apply_paused,
    ea.AlgoResumed: apply_resumed,
    ea.AlgoCanceled: apply_canceled,
    ea.AlgoCompleted: apply_completed,
}


def restore(state: State, algos: list[AlgoState] | None) -> None:
    """Load a snapshot's parents and rebuild the derived indexes."""
    for a in algos or ():
        state.algos[a.algo_id] = a
        for order_id, _ in a.children:
            state.algo_orders[order_id] = a.algo_id
        if a.is_open:
            state.algos_open[a.algo_id] = None


def canonical(state: State) -> list[Any]:
    """Every parent's fields in order (the digest's algos part)."""
    return [
        msgspec.to_builtins(a, builtin_types=(Decimal,)) for _, a in sorted(state.algos.items())
    ]
