"""The USDⓈ-M user data stream (``ORDER_TRADE_UPDATE``, ``ACCOUNT_UPDATE``) from durable node
events.

Exactness: an event's payload is built when the node processes it (``node.subscribe``: the
state is then exactly the state after that batch, so positions and balances are those the
events made) and held until the journal holds the batch (``hub.on_durable``); only then is it
pushed. So a client never sees an update that a crash could take back, and never sees figures
from a later, not yet durable, state.

Payloads are built only for accounts with a connected user stream.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from atlas_oms.binance_api import futures_wire as fw
from atlas_oms.binance_api.durable_push import ORDER_EVENTS, UserStream
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus

if TYPE_CHECKING:
    from atlas_oms.core.views import OrderView
    from atlas_oms.model.instrument import Instrument
    from atlas_oms.runtime.queries import Queries

ZERO = Decimal(0)


def _order_at(node: Queries, view: OrderView, event: Any) -> tuple[OrderView, str, Any]:
    """The order as it was right after ``event``: (view, execution type, fill or None). Its
    filled quantity and average price count the executions up to the event only."""
    fills = [f for f in node.order_fills(view.order_id) if f.seq <= event.seq]
    cum = sum((f.last_qty for f in fills), ZERO)
    notional = sum((f.last_qty * f.last_px for f in fills), ZERO)
    avg = notional / cum if cum else None
    fill = None
    if isinstance(event, ev.OrderFilled):
        exec_type = "TRADE"
        status = event.order_status or (
            OrderStatus.FILLED if cum >= view.qty else OrderStatus.PARTIALLY_FILLED
        )
        fill = event
    elif isinstance(event, ev.OrderCanceled):
        exec_type, status = "CANCELED", OrderStatus.CANCELED
    elif isinstance(event, ev.OrderExpired | ev.OrderRejected):
        # Binance's futures stream has no REJECTED execution: a venue refusal after NEW expires.
        exec_type, status = "EXPIRED", OrderStatus.EXPIRED
    elif isinstance(event, ev.OrderReplaced):
        exec_type = "AMENDMENT"
        status = event.order_status or OrderStatus.ACCEPTED
        view = msgspec.structs.replace(view, qty=event.qty, price=event.price)
    else:
        exec_type, status = "NEW", OrderStatus.ACCEPTED
    view = msgspec.structs.replace(view, status=status, cum_qty=cum, avg_px=avg)
    return view, exec_type, fill


def _account_reason(event: Any) -> str | None:
    if isinstance(event, ev.FundingSettled):
        return "FUNDING_FEE"
    if isinstance(event, ev.BalanceAdjusted):
        return "DEPOSIT" if event.amount > 0 else "WITHDRAW"
    if isinstance(event, ev.FundsTransferred):
        return "ASSET_TRANSFER"
    if isinstance(event, ev.IsolatedMarginAdjusted):
        return "MARGIN_TRANSFER"
    if isinstance(event, ev.MarginModeSet):
        return "MARGIN_TYPE_CHANGE"
    return None


def _accounts_of(event: Any) -> tuple[str, ...]:
    if isinstance(event, ev.FundsTransferred):
        return (event.account_id, event.to_account_id)
    acct = getattr(event, "account_id", None)
    return (acct,) if acct else ()


def user_events(
    node: Queries, events: Iterable[ev.EventBase], accounts: set[str]
) -> list[tuple[str, dict[str, Any]]]:
    """The USDⓈ-M user-stream payloads of one processed batch, for ``accounts`` only:
    ``ORDER_TRADE_UPDATE`` per order event on a perpetual, then one ``ACCOUNT_UPDATE`` per
    account whose perpetual position or balances the batch changed. Call it with the node in
    the state right after the batch."""
    perps = {inst.symbol: inst for inst in fw.perpetuals(node).values()}
    out: list[tuple[str, dict[str, Any]]] = []
    # account -> (reason, Atlas symbols, assets, ts)
    touched: dict[str, tuple[str, set[str], set[str], int]] = {}

    def touch(acct: str, reason: str, symbol: str | None, asset: str | None, ts: int) -> None:
        old = touched.get(acct)
        symbols, assets = (old[1], old[2]) if old else (set(), set())
        if symbol:
            symbols.add(symbol)
        if asset:
            assets.add(asset)
        touched[acct] = (old[0] if old else reason, symbols, assets, ts)

    batch = list(events)
    accepted = {e.order_id for e in batch if isinstance(e, ev.OrderAccepted)}
    followed = {e.order_id for e in batch if isinstance(e, ORDER_EVENTS)}
    for event in batch:
        if isinstance(event, ev.OrderSubmitted) and (
            event.order_id not in accepted and event.order_id in followed
        ):
            # Filled, canceled or expired at once (the built-in exchange's taker, a liquidation
            # IOC): Binance still sends NEW first.
            event = ev.OrderAccepted(
                seq=event.seq, ts_event=event.ts_event, order_id=event.order_id, venue_order_id=None
            )
        if isinstance(event, ORDER_EVENTS):
            view = node.get_order(event.order_id)
            if view is None or view.account_id not in accounts:
                continue
            inst: Instrument | None = perps.get(view.symbol)
            if inst is None:
                continue
            at, exec_type, fill = _order_at(node, view, event)
            ts = fw.ms(event.ts_event)
            out.append((view.account_id, fw.order_trade_update(inst, at, exec_type, ts, fill)))
            if fill is not None:
                touch(view.account_id, "ORDER", inst.symbol, fw.margin_asset(inst), ts)
                touch(view.account_id, "ORDER", None, fill.fee_asset, ts)
            continue
        reason = _account_reason(event)
        if reason is None:
            continue
        for acct in _accounts_of(event):
            if acct not in accounts:
                continue
            symbol = getattr(event, "symbol", None)
            asset = getattr(event, "asset", None)
            if symbol is not None and symbol not in perps:
                continue
            inst = perps.get(symbol) if symbol else None
            if asset is None and inst is not None:
                asset = fw.margin_asset(inst)
            touch(acct, reason, symbol, asset, fw.ms(event.ts_event))
    for acct, (reason, symbols, assets, ts) in touched.items():
        out.append((acct, fw.account_update(node, acct, symbols, assets, reason, ts)))
    return out


class FuturesUserStream(UserStream):
    """Connected USDⓈ-M user streams by account (durable_push.py: built at process time,
    pushed once durable)."""

    what = "USDⓈ-M user-stream events"

    def build(
        self, events: list[ev.EventBase], accounts: set[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        return user_events(self.node, events, accounts)
