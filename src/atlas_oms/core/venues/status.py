"""A venue account's tradable status (from the gateway), the pre-trade check that reads it, and
commands whose outcome is unknown (kept for the audit, the order keeps its status)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlas_oms.core.context import Context
from atlas_oms.core.refusals import Refusal
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason
from atlas_oms.model.venue import NoteOutcomeUnknown, SetVenueStatus

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State
    from atlas_oms.model.instrument import Instrument

#: How a refusal says why a venue account is not tradable.
_WHY = {
    "CONNECTING": "is connecting",
    "RECONCILING": "is reconciling",
    "DISCONNECTED": "is not connected",
    "CLOCK_SKEW": "has a clock offset too large to sign requests",
    "BANNED": "is paused by the venue (rate-limit ban)",
    "POSITION_MODE_MISMATCH": "has a position mode that differs from Atlas's",
}


def set_venue_status(ctx: Context, m: SetVenueStatus) -> None:
    """Handle ``SetVenueStatus``: journal a change (a repeat of the same status is nothing)."""
    state = ctx.state
    now = state.venues.status.get((m.venue, m.account_id))
    if (
        now is not None
        and now.tradable == m.tradable
        and now.reason == m.reason
        and now.message == m.message
    ):
        return
    ctx.emit(
        ev.VenueStatusChanged(
            seq=state.seq + 1,
            ts_event=m.ts,
            venue=m.venue,
            account_id=m.account_id,
            tradable=m.tradable,
            reason=m.reason,
            message=m.message,
        )
    )


def note_outcome_unknown(ctx: Context, m: NoteOutcomeUnknown) -> None:
    """Handle ``NoteOutcomeUnknown``: the order stays as it is, marked in doubt."""
    state = ctx.state
    if m.order_id not in state.orders:
        ctx.emit(
            ev.VenueReportIgnored(
                seq=state.seq + 1,
                ts_event=m.ts,
                order_id=m.order_id,
                report="NoteOutcomeUnknown",
                reason=Reason.UNKNOWN_ORDER,
                message=f"no order {m.order_id}",
            )
        )
        return
    ctx.emit(
        ev.OrderOutcomeUnknown(
            seq=state.seq + 1,
            ts_event=m.ts,
            order_id=m.order_id,
            action=m.action,
            reason=m.reason,
            message=m.message,
        )
    )


def venue_refusal(state: State, account_id: str, inst: Instrument) -> Refusal | None:
    """Refuse a new order for a venue account that is not tradable now. A venue no gateway has
    reported on (a venue plugged into the node) is not checked; on one that a gateway manages,
    an account without a status is not connected."""
    venue = inst.venue
    book = state.venues
    status = book.status.get((venue, account_id))
    if status is None:
        if not book.venue_managed(venue):
            return None
        return (
            Reason.VENUE_NOT_TRADABLE,
            f"{venue} account {account_id} is not connected: no new {inst.symbol} orders",
        )
    if status.tradable:
        return None
    why = _WHY.get(status.reason, f"is not tradable ({status.reason})")
    detail = f" ({status.message})" if status.message else ""
    return (
        Reason.VENUE_NOT_TRADABLE,
        f"{venue} account {account_id} {why}{detail}: no new {inst.symbol} orders until it is "
        "tradable again",
    )
