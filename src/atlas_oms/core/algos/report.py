"""A parent order's execution report: a pure function of the state (the view shows it too).

* ``arrival_price``: the price at acceptance (``AlgoAccepted``: the mid of the best bid and ask,
  else the last price).
* ``avg_px``: the children's filled notional over their filled quantity.
* ``slippage_bps``: ``(avg_px - arrival) / arrival * 10_000`` for a buy, the opposite for a sell:
  positive is a cost (None without an arrival price or a fill).
* ``participation_pct``: filled / market volume traded on the symbol during the algo's window
  (acceptance to end, or to ``now``). On the built-in exchange the volume is every execution of
  the symbol's instruments there (each trade counted once: its maker's fill); for an external
  venue the runtime supplies it (``market_volume``); None when unknown or zero.
* ``fees``: the children's fees by asset. Decimals are exact strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.core.algos.state import AlgoState, filled, working
from atlas_oms.core.decimals import ZERO
from atlas_oms.model.enums import LiquiditySide, Side
from atlas_oms.model.route_book import unified_symbol

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

TEN_THOUSAND = Decimal(10_000)
HUNDRED = Decimal(100)


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def sim_volume(state: State, a: AlgoState, until: int) -> Decimal:
    """Base quantity traded on the built-in exchange in the parent's instruments (its unified
    symbol) from its acceptance to ``until``: each trade once (its maker's fill)."""
    unified = unified_symbol(a.symbol)
    total = ZERO
    orders = state.orders
    for f in state.fills.values():
        if f.liquidity_side is not LiquiditySide.MAKER or not (
            a.accepted_ts <= f.ts_event <= until
        ):
            continue
        if unified_symbol(f.symbol) != unified:
            continue
        o = orders.get(f.order_id)
        if o is not None and o.venue == "sim":
            total += f.last_qty
    return total


def execution_report(
    state: State, a: AlgoState, *, now: int | None = None, market_volume: Decimal | None = None
) -> dict[str, Any]:
    """The report of parent ``a`` (see the module docstring)."""
    qty, notional = filled(state, a)
    avg = notional / qty if qty else None
    arrival = a.arrival_price
    slip = None
    if avg is not None and arrival:
        diff = avg - arrival if a.side is Side.BUY else arrival - avg
        slip = (diff / arrival * TEN_THOUSAND).quantize(Decimal("0.01"))
    until = a.ended_ts if a.ended_ts is not None else (now if now is not None else state_ts(state))
    volume = market_volume
    if volume is None and a.venue in ("sim", "SMART"):
        volume = sim_volume(state, a, until)
    participation = (
        (qty / volume * HUNDRED).quantize(Decimal("0.01")) if volume and volume > 0 else None
    )
    fees: dict[str, Decimal] = {}
    orders = state.orders
    for order_id, _ in a.children:
        o = orders.get(order_id)
        if o is not None and o.fees and o.fee_asset:
            fees[o.fee_asset] = fees.get(o.fee_asset, ZERO) + o.fees
    return {
        "algo_id": a.algo_id,
        "kind": a.kind,
        "status": a.status,
        "side": a.side.value,
        "symbol": a.symbol,
        "qty": str(a.qty),
        "filled_qty": str(qty),
        "leaves_qty": str(a.qty - qty),
        "working_qty": str(working(state, a)),
        "arrival_price": _s(arrival),
        "avg_px": _s(avg),
        "slippage_bps": _s(slip),
        "market_volume": _s(volume),
        "participation_pct": _s(participation),
        "slices_planned": len(a.schedule),
        "slices_done": a.next_slice,
        "children": len(a.children),
        "children_refused": len(a.refused),
        "routes": a.routes,
        "reroutes": a.reroutes,
        "fees": {k: str(v) for k, v in sorted(fees.items())},
        "start_ts": a.start_ts,
        "end_ts": a.end_ts,
        "ended_ts": a.ended_ts,
        "end_reason": a.end_reason,
    }


def state_ts(state: State) -> int:
    """The latest time the state has seen (the last order's update), for an open window."""
    return max((o.ts_last for o in state.orders.values()), default=0)
