"""Read views of managed trades (issue 13): immutable copies of the core's trade state."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.core.policy.cycles import realized_pnl
from atlas_oms.core.policy.trade_state import TradeState
from atlas_oms.core.state.state import State


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
    targets: tuple[tuple[int, int, Decimal, Decimal], ...]
    stop_history: tuple[tuple[int, Decimal, str], ...]
    break_even: bool
    close_cause: str | None
    #: Seed 001 §12-14: the pipeline's cycle number, the trade it adds to (scale-up), whether it
    #: entered in pre-market, the entry's adverse slippage, and its realized P&L.
    cycle_number: int = 0
    add_to: str | None = None
    premarket: bool = False
    entry_slippage: Decimal | None = None
    realized_pnl: Decimal = Decimal(0)


def trade_view(state: State, t: TradeState) -> TradeView:
    stop = state.orders.get(t.stop_order_id or 0)
    stop_qty = stop.leaves_qty if stop is not None and stop.is_live else Decimal(0)
    return TradeView(
        trade_id=t.trade_id,
        account_id=t.account_id,
        symbol=t.symbol,
        side=t.side.value,
        phase=t.phase,
        qty=t.qty,
        entry_filled=t.entry_filled(state),
        position=t.position(state),
        entry_px=t.entry_px,
        entry_order_id=t.entry_order_id,
        entry_price=t.entry_price,
        cycle=t.cycle,
        stop_order_id=t.stop_order_id,
        stop_trigger=t.stop_trigger,
        stop_qty=stop_qty,
        targets=tuple((oid, *v) for oid, v in t.targets.items()),
        stop_history=tuple(t.stop_history),
        break_even=t.break_even,
        close_cause=t.close_cause,
        cycle_number=t.cycle_number,
        add_to=t.add_to,
        premarket=t.premarket,
        entry_slippage=t.entry_slippage,
        realized_pnl=realized_pnl(state, t),
    )
