"""Instruments reloaded from a venue: the gateway sends every venue instrument at each connect."""

from __future__ import annotations

from atlas_oms.core import accounts
from atlas_oms.core.context import Context
from atlas_oms.core.refusals import reject_command
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason

SIM = "sim"


def add_instrument(ctx: Context, c: cmd.AddInstrument) -> None:
    """Handle ``AddInstrument``. A new symbol is added. The same symbol again on the same
    external venue: identical, nothing happens (no event); with changed rules, the instrument
    is updated (journaled). The symbol of an instrument of another venue is refused. The
    built-in exchange keeps refusing a duplicate."""
    new = c.instrument
    old = ctx.state.instruments.get(new.symbol)
    if old is None or (old.venue == SIM and new.venue == SIM):
        accounts.add_instrument(ctx, c)
    elif old.venue != new.venue:
        reject_command(
            ctx,
            c,
            Reason.INSTRUMENT_ON_OTHER_VENUE,
            f"instrument {new.symbol} already exists on venue {old.venue}: it cannot also be "
            f"added for venue {new.venue} under the same symbol",
        )
    elif old != new:
        ctx.emit(ev.InstrumentAdded(seq=ctx.state.seq + 1, ts_event=c.ts, instrument=new))
