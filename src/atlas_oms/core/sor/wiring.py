"""The smart order router's command handlers (merged into ``core/engine.py::HANDLERS``)."""

from __future__ import annotations

from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.refusals import reject_command
from atlas_oms.core.sor import pair
from atlas_oms.core.sor.arbitrage import CHANGED, ENDED, NEW
from atlas_oms.model.commands_sor import NoteArbitrage, SubmitArbitragePair
from atlas_oms.model.events_sor import ArbitrageDetected
from atlas_oms.model.reasons import Reason


def note_arbitrage(ctx: Context, c: NoteArbitrage) -> None:
    """Handle ``NoteArbitrage``: journal it as ``ArbitrageDetected`` (nothing else changes)."""
    o = c.opportunity
    if c.status not in (NEW, CHANGED, ENDED) or not (o.qty > 0 and o.sell_px > 0 and o.buy_px > 0):
        reject_command(
            ctx, c, Reason.INVALID_FIELD, f"not an arbitrage opportunity ({c.status}, {o.qty})"
        )
        return
    ctx.emit(
        ArbitrageDetected(
            seq=ctx.state.seq + 1, ts_event=c.ts, symbol=c.symbol, status=c.status, opportunity=o
        )
    )


#: Command -> handler (merged into ``core/engine.py::HANDLERS``).
SOR_HANDLERS: dict[type, Any] = {
    NoteArbitrage: note_arbitrage,
    SubmitArbitragePair: pair.submit_pair,
}
