"""The journal's own history in the state: a repair after lost events (``RepairJournal``).

A damaged journal lost seqs ``lost_from_seq`` .. ``lost_to_seq``; the operator chose to carry on.
The decision made here is what keeps anything from being issued twice: the event takes the seq
just above the lost range, and the next order id and liquidation case id jump above anything the
range could have issued. Every order id and case id is issued by its own event (``OrderSubmitted``
or ``OrderDenied``, a liquidation's step; ``LiquidationStarted``), counting up from 1, so an id
issued in the lost range is at most ``lost_to_seq``.
"""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.core.refusals import reject_command
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason


def repair_journal(ctx: Context, c: cmd.RepairJournal) -> None:
    state = ctx.state
    if c.lost_from_seq != state.seq + 1 or c.lost_to_seq < c.lost_from_seq:
        reject_command(
            ctx,
            c,
            Reason.INVALID_FIELD,
            f"a repair must name the lost range from seq {state.seq + 1} on, "
            f"not {c.lost_from_seq}..{c.lost_to_seq}",
        )
        return
    ctx.emit(
        ev.JournalRepaired(
            seq=c.lost_to_seq + 1,
            ts_event=c.ts,
            reason=c.reason,
            detail=c.detail,
            lost_from_seq=c.lost_from_seq,
            lost_to_seq=c.lost_to_seq,
            lost_events=c.lost_events,
            lost_chunks=c.lost_chunks,
            kept_at=c.kept_at,
            next_order_id=max(state.next_order_id, c.lost_to_seq + 1),
            next_case_id=max(state.liq.next_case_id, c.lost_to_seq + 1),
            actor=c.actor,
        )
    )
