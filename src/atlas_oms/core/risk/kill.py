"""Kill switches: block a scope, cancel its open orders and, with ``flatten``, close its
accounts' positions with reduce-only market orders once their orders are gone."""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.core.orders.amend import cancel_for
from atlas_oms.core.orders.submit import submit
from atlas_oms.core.risk.pretrade import FLATTEN_TAG
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus, OrderType, PositionMode, Side
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import AlertLevel, MarketOrderReason, Scope


def flatten_accounts(ctx: Context, scope: Scope, scope_id: str) -> list[str]:
    """The accounts of a scope that hold a position: a flattening kill switch closes them."""
    state = ctx.state
    return sorted(
        {
            p.account_id
            for p in state.positions.values()
            if p.qty and state.in_scope(scope, scope_id, p.account_id, None)
        }
    )


def trip_kill(
    ctx: Context, scope: Scope, scope_id: str, actor: str, reason: str, flatten: bool, ts: int
) -> None:
    """Block the scope, cancel its open orders, and (``flatten``) close its positions."""
    ctx.emit(
        ev.KillSwitchTripped(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            scope=scope,
            scope_id=scope_id,
            actor=actor,
            reason=reason,
            flatten=flatten,
            flatten_accounts=flatten_accounts(ctx, scope, scope_id) if flatten else [],
        )
    )
    cancel_scope(ctx, scope, scope_id, ts, Reason.KILL_SWITCH)
    if ctx.state.risk.flatten_todo:
        flatten_ready(ctx, ts)


def cancel_scope(ctx: Context, scope: Scope, scope_id: str, ts: int, reason: Reason) -> None:
    """Cancel every live order of the scope but the kill switch's own flattening orders and
    liquidation orders (a liquidation runs to its end)."""
    state = ctx.state
    live = [
        o
        for o in state.orders.values()
        if o.leaves_qty
        and o.is_live
        and state.in_scope(scope, scope_id, o.account_id, o.tag)
        and o.status is not OrderStatus.PENDING_CANCEL
        and o.tag != FLATTEN_TAG
        and o.order_id not in state.liq.orders
    ]
    for order in live:
        cancel_for(ctx, order, ts, reason)


def flatten_ready(ctx: Context, ts: int) -> None:
    """Flatten each account whose open orders are gone (their reservations are free)."""
    state = ctx.state
    for account_id, kill in sorted(state.risk.flatten_todo.items()):
        if state.open_orders.get(account_id, 0):
            continue
        ctx.emit(
            ev.AccountFlattening(
                seq=state.seq + 1,
                ts_event=ts,
                account_id=account_id,
                scope=kill.scope,
                scope_id=kill.scope_id,
                actor=kill.actor,
                reason=kill.reason,
            )
        )
        hedge = state.accounts[account_id].position_mode is PositionMode.HEDGE
        for pos in list(state.account_positions.get(account_id, ())):
            if not pos.qty:
                continue
            first = len(ctx.out)
            submit(
                ctx,
                cmd.SubmitOrder(
                    ts=ts,
                    account_id=account_id,
                    symbol=pos.symbol,
                    side=Side.SELL if pos.qty > 0 else Side.BUY,
                    order_type=OrderType.MARKET,
                    qty=abs(pos.qty),
                    reduce_only=True,
                    position_side=pos.position_side if hedge else None,
                    market_reason=MarketOrderReason.KILL_SWITCH,
                    tag=FLATTEN_TAG,
                ),
            )
            denied = next((e for e in ctx.out[first:] if isinstance(e, ev.OrderDenied)), None)
            if denied is not None:
                ctx.emit(
                    ev.RiskAlert(
                        seq=state.seq + 1,
                        ts_event=ts,
                        level=AlertLevel.CRITICAL,
                        code=Reason.KILL_SWITCH_FLATTEN_FAILED,
                        message=f"could not flatten {pos.symbol} {pos.qty}: {denied.message}",
                        account_id=account_id,
                        order_id=denied.order_id,
                        symbol=pos.symbol,
                    )
                )
