"""Failover routes (issue 15 §2, VEN-3): the core journals each switch the router decides
(runtime/gateway/failover.py) and keeps the route in force per (account, symbol), so a replay
knows where new orders went and why."""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.model import events as ev
from atlas_oms.model.routing import SwitchRoute


def switch_route(ctx: Context, c: SwitchRoute) -> None:
    """Handle ``SwitchRoute``: journal a change of route (a repeat of the route in force, or a
    restore while none is in force, is nothing)."""
    state = ctx.state
    now = state.venues.routes.get((c.account_id, c.symbol))
    if c.restored:
        if now is None:
            return
    elif now is not None and (now.to_venue, now.to_account_id, now.to_symbol) == (
        c.to_venue,
        c.to_account_id,
        c.to_symbol,
    ):
        return
    ctx.emit(
        ev.RouteSwitched(
            seq=state.seq + 1,
            ts_event=c.ts,
            venue=c.venue,
            account_id=c.account_id,
            symbol=c.symbol,
            to_venue=c.to_venue,
            to_account_id=c.to_account_id,
            to_symbol=c.to_symbol,
            reason=c.reason,
            message=c.message,
            restored=c.restored,
            health=c.health,
        )
    )
