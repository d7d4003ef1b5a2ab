"""Stop and targets where every sell order holds what it sells (spot wallets, cash equities).

Seed 001 §5.1 puts the protective stop on the *whole* position and, beside it, one limit per
tranche. A derivatives account (and a broker that lets working sells exceed the position) takes
that as written. A spot wallet or a cash equities account does not: each sell order locks the
base asset or the shares it sells, so a stop on the whole position leaves nothing for the
targets (the venue, and the built-in exchange, refuse them for want of balance), and targets
placed first leave the stop short.

Atlas keeps §5.2's invariant there with what the seed allows: "Broker-Stop oder interner Stop +
sofortige Exit-Policy". The targets are placed first; the venue stop covers the rest of the
position (``position - working target quantity``: :func:`stop_cover`), and the part the
targets hold is protected by an *internal* stop at the same level: when the last price reaches
the stop's trigger (or the venue stop triggers), ``TradeStopFired`` is journaled, every target
is canceled at once, and as soon as their cancels are confirmed the venue stop is replaced by
one for the whole position (``TradeStopPlaced`` cause ``STOP_FIRED``), which triggers at once
since its level is already reached. On the built-in exchange all of it happens in the one step
that crossed the price.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO
from atlas_oms.core.policy.trade_orders import cancel_if_working
from atlas_oms.core.policy.trade_state import TradeState
from atlas_oms.model import events as ev
from atlas_oms.model.enums import InstrumentKind, OrderStatus, Side
from atlas_oms.model.risk import EquityAccountType

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State


def must_cover(state: State, t: TradeState) -> bool:
    """Decided once, at the bracket (journaled as ``TradeBracketPlaced.covered``): whether the
    account cannot hold the stop on the whole position and the targets at once: a long on a
    spot instrument or in a cash equities account that does not hold, besides what the entry
    bought, another intended position's worth of the base (what the targets of a whole entry
    may sell). A derivatives or margin equities account carries the seed's bracket as
    written."""
    if t.side is not Side.BUY:
        return False
    inst = state.instruments[t.symbol]
    if inst.is_derivative:
        return False
    if inst.kind is InstrumentKind.EQUITY:
        account = state.accounts.get(t.account_id)
        if account is not None and account.equity_type is EquityAccountType.MARGIN:
            return False
    return state.free(t.account_id, inst.base) - t.entry_filled(state) < t.qty


def covered(state: object, t: TradeState) -> bool:
    """Whether the trade's targets hold part of the position (decided at its bracket)."""
    return t.covered


def target_leaves(state: object, t: TradeState) -> Decimal:
    """The quantity the trade's other working exits (targets, also those whose cancel is not
    yet confirmed) still hold besides its stop."""
    orders = state.orders  # type: ignore[attr-defined]
    total = ZERO
    for order_id in t.exit_orders:
        if order_id == t.stop_order_id:
            continue
        order = orders.get(order_id)
        if order is not None and order.is_live:
            total += order.leaves_qty
    return total


def stop_cover(state: object, t: TradeState) -> Decimal:
    """What the venue stop must hold now: the whole position, or, where sells lock what they
    sell, the part the working targets do not hold."""
    position = t.position(state)  # type: ignore[arg-type]
    if not covered(state, t):
        return position
    return max(position - target_leaves(state, t), ZERO)


def _uncovered(state: State, t: TradeState) -> Decimal:
    """The part of the position the venue stop does not hold (the internal stop's part)."""
    stop = state.orders.get(t.stop_order_id or 0)
    held = stop.leaves_qty if stop is not None and stop.is_live else ZERO
    return t.position(state) - held


def _crossed(t: TradeState, price: Decimal) -> bool:
    trigger = t.stop_trigger
    if trigger is None:
        return False
    return price <= trigger if t.side is Side.BUY else price >= trigger


def fire(ctx: Context, t: TradeState, price: Decimal, ts: int, source: str) -> None:
    """The stop level is reached: journal it, cancel every target, cover the whole position."""
    state = ctx.state
    ctx.emit(
        ev.TradeStopFired(
            seq=state.seq + 1, ts_event=ts, trade_id=t.trade_id, price=price, source=source
        )
    )
    from atlas_oms.core.policy.trade_exits import cancel_targets

    cancel_targets(ctx, t, ts, "STOP_TRIGGERED")
    settle(ctx, t, ts)


def settle(ctx: Context, t: TradeState, ts: int) -> None:
    """After the stop fired: once no target holds anything, a venue stop that holds less than
    the position and has not traded is canceled; its cancel brings the stop for the whole
    position (``trade_exits.on_stop_gone``)."""
    state = ctx.state
    if not t.stop_fired or not t.is_open or t.exit_reason is not None or target_leaves(state, t):
        return
    stop = state.orders.get(t.stop_order_id or 0)
    if stop is None or not stop.is_live:
        # the venue stop traded all it held: what the targets held needs a stop of its own
        # (a stop the venue canceled or refused is on_stop_gone's, with its retry count)
        if stop is not None and stop.status is OrderStatus.FILLED and t.position(state) > 0:
            from atlas_oms.core.policy.trade_exits import protect_again

            protect_again(ctx, t, ts, "STOP_FIRED")
        return
    if stop.cum_qty:
        return
    if stop.leaves_qty < t.position(state) and stop.status is not OrderStatus.PENDING_CANCEL:
        cancel_if_working(ctx, stop.order_id, ts)


def on_event(ctx: Context, event: ev.EventBase) -> None:
    """The internal stop's watch: a last price at or beyond a covered trade's stop fires it; a
    target's cancel confirmed after firing lets the stop cover the whole position."""
    cls = event.__class__
    state = ctx.state
    if cls is ev.PricesUpdated or cls is ev.OrderFilled:
        price = event.last if cls is ev.PricesUpdated else event.last_px  # type: ignore[attr-defined]
        if price is None:
            return
        symbol = event.symbol  # type: ignore[attr-defined]
        for t in list(state.trades.values()):
            if (
                t.symbol == symbol
                and t.is_open
                and not t.stop_fired
                and t.exit_reason is None
                and covered(state, t)
                and _uncovered(state, t) > 0
                and _crossed(t, price)
            ):
                fire(ctx, t, price, event.ts_event, "LAST_PRICE")
        if cls is ev.PricesUpdated:
            return
    if cls in _SETTLE_ON:  # a fill too: a target that traded before its cancel arrived
        trade_id = state.trade_orders.get(event.order_id)  # type: ignore[attr-defined]
        if trade_id is not None:
            t = state.trades[trade_id]
            if t.stop_fired:
                settle(ctx, t, event.ts_event)


#: After the stop fired, any of these for one of the trade's orders may let it cover more.
_SETTLE_ON = frozenset(
    {
        ev.OrderCanceled,
        ev.OrderExpired,
        ev.OrderFilled,
        ev.OrderCancelRejected,
        ev.OrderRejected,
    }
)
