"""A paired arbitrage order's state (``state.pairs``), folded from its events only (the
decisions are in :mod:`atlas_oms.core.sor.pair`)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from atlas_oms.model.events_sor import (
    ArbitrageDetected,
    ArbitragePairDone,
    ArbitragePairPlaced,
    ArbitragePairUnwound,
)

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

ONE = Decimal(1)
WORKING, UNWINDING = "WORKING", "UNWINDING"


class PairState(msgspec.Struct, kw_only=True, gc=False):
    """A paired arbitrage order in flight (folded from its events only)."""

    pair_id: str
    buy_account_id: str
    buy_symbol: str
    sell_account_id: str
    sell_symbol: str
    buy_order_id: int | None
    sell_order_id: int | None
    base_mult_buy: Decimal = ONE
    base_mult_sell: Decimal = ONE
    status: str = WORKING
    unwind_order_id: int | None = None
    unwind_mult: Decimal = ONE

    def order_ids(self) -> tuple[int, ...]:
        ids = (self.buy_order_id, self.sell_order_id, self.unwind_order_id)
        return tuple(i for i in ids if i is not None)


def apply_pair_placed(state: State, e: ArbitragePairPlaced) -> None:
    p = PairState(
        pair_id=e.pair_id,
        buy_account_id=e.buy_account_id,
        buy_symbol=e.buy_symbol,
        sell_account_id=e.sell_account_id,
        sell_symbol=e.sell_symbol,
        buy_order_id=e.buy_order_id,
        sell_order_id=e.sell_order_id,
        base_mult_buy=e.base_mult_buy,
        base_mult_sell=e.base_mult_sell,
    )
    state.pairs[e.pair_id] = p
    for order_id in p.order_ids():
        state.pair_orders[order_id] = e.pair_id


def apply_pair_unwound(state: State, e: ArbitragePairUnwound) -> None:
    p = state.pairs[e.pair_id]
    p.status = UNWINDING
    p.unwind_order_id = e.order_id
    p.unwind_mult = p.base_mult_buy if e.symbol == p.buy_symbol else p.base_mult_sell
    if e.order_id is not None:
        state.pair_orders[e.order_id] = e.pair_id


def apply_pair_done(state: State, e: ArbitragePairDone) -> None:
    p = state.pairs.pop(e.pair_id)
    for order_id in p.order_ids():
        state.pair_orders.pop(order_id, None)


def restore_pairs(state: State, pairs: list[PairState] | None) -> None:
    """Load the pairs of a snapshot (and their order index)."""
    for p in pairs or ():
        state.pairs[p.pair_id] = p
        for order_id in p.order_ids():
            state.pair_orders[order_id] = p.pair_id


def _nothing(state: State, event: Any) -> None:
    return None


#: Event -> applier (merged into ``core/state/fold.py::APPLIERS``).
SOR_APPLIERS: dict[type, Any] = {
    ArbitrageDetected: _nothing,
    ArbitragePairPlaced: apply_pair_placed,
    ArbitragePairUnwound: apply_pair_unwound,
    ArbitragePairDone: apply_pair_done,
}
