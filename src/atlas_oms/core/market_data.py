"""Consolidated market data (issue 16, MD-1): the core journals what the runtime's spread monitor
saw (``runtime/market/spread.py`` decides when a level is crossed; the decision is the command's
fields), so the audit trail tells when the desk was told of a cross-venue spread."""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.model.events_market_data import NoteVenueSpread, VenueSpreadCrossed


def note_venue_spread(ctx: Context, c: NoteVenueSpread) -> None:
    """Handle ``NoteVenueSpread``: journal :class:`VenueSpreadCrossed` (no state changes)."""
    ctx.emit(
        VenueSpreadCrossed(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            symbol=c.symbol,
            buy_venue=c.buy_venue,
            sell_venue=c.sell_venue,
            spread_bps=c.spread_bps,
            level_bps=c.level_bps,
            direction=c.direction,
            buy_symbol=c.buy_symbol,
            sell_symbol=c.sell_symbol,
            buy_price=c.buy_price,
            sell_price=c.sell_price,
        )
    )
