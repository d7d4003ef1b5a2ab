"""The WebSocket's ``trades`` channel: an account's managed trades as they change (issue 13 §3).

Client to server::

    {"op": "subscribe", "channel": "trades", "account_id": "alice"}
    {"op": "unsubscribe", "channel": "trades", "account_id": "alice"}

Server to client::

    {"op": "subscribed", "channel": "trades", "account_id": "alice", "seq": N}
    {"channel": "trades", "type": "snapshot", "account_id": "alice", "seq": N,
     "trades": [<trade view>, …]}                        # the account's open trades, once
    {"channel": "trades", "subscription": "alice", "seq": 124, "type": "TradeStopMoved",
     "trade_id": "t1", "event": {…the event…}, "trade": <trade view>}

**Which events.** Every ``Trade*`` event of a trade of the account, and every fill of one of the
trade's orders (its position and P&L changed). **What it carries**: the event, and the trade's
whole view as it is when the message is sent (the view of ``GET /v1/trades/{id}`` without its
events), not a delta: one message is enough to redraw the trade; two events of one commit carry
the same (latest) view. Authorization as the account channel (a key sees the accounts it may
see; another account is ``UNKNOWN_ACCOUNT``). Durable first, like every message of the stream:
events go out after the commit that holds them, and the snapshot after the commit that holds
what it shows. There is no replay (``since_seq``): a reconnecting client gets a new snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas_oms.model import events as ev
from atlas_oms.runtime.trade_view import is_trade_event
from atlas_oms.service.stream_accounts import deliver_to_accounts, subscribe_account

if TYPE_CHECKING:
    from atlas_oms.service.stream import Connection, StreamHub

__all__ = ["deliver_trades", "subscribe_trades", "unsubscribe_trades"]

#: Trade subscriptions (accounts) one connection may hold.
MAX_TRADE_SUBSCRIPTIONS = 64


def snapshot(hub: StreamHub, account_id: str, seq: int | None = None) -> dict[str, Any]:
    numbers = hub.service.numbers
    trades = hub.node.managed_trades(account_id, open_only=True)
    return {
        "channel": "trades",
        "type": "snapshot",
        "account_id": account_id,
        "seq": hub.published_seq if seq is None else seq,
        "trades": [numbers.builtins(t) for t in trades],
    }


def subscribe_trades(conn: Connection, msg: dict[str, Any]) -> None:
    subscribe_account(
        conn,
        msg,
        channel="trades",
        subscriptions=conn.trades,
        what="trades",
        limit=MAX_TRADE_SUBSCRIPTIONS,
        snapshot=snapshot,
    )


def unsubscribe_trades(conn: Connection, msg: dict[str, Any]) -> bool:
    return conn.trades.pop(str(msg.get("account_id")), None) is not None


def deliver_trades(hub: StreamHub, events: list[ev.EventBase]) -> None:
    """Send the committed ``events`` of managed trades to the trade subscriptions."""
    node = hub.node
    numbers = hub.service.numbers
    touched: list[tuple[str, ev.EventBase]] = []
    for event in events:
        if is_trade_event(event):
            touched.append((getattr(event, "trade_id", ""), event))
        elif isinstance(event, ev.OrderFilled):
            trade_id = node.trade_of_order(event.order_id)
            if trade_id is not None:
                touched.append((trade_id, event))
    views: dict[str, Any] = {}
    messages: dict[str, list[dict[str, Any]]] = {}  # account -> messages
    for trade_id, event in touched:
        if trade_id not in views:
            view = node.managed_trade(trade_id)
            views[trade_id] = None if view is None else (view.account_id, numbers.builtins(view))
        found = views[trade_id]
        if found is None:
            continue
        account_id, body = found
        messages.setdefault(account_id, []).append(
            {
                "channel": "trades",
                "subscription": account_id,
                "seq": event.seq,
                "type": type(event).__name__,
                "trade_id": trade_id,
                "event": numbers.builtins(event),
                "trade": body,
            }
        )
    deliver_to_accounts(hub, events, messages, lambda conn: conn.trades, snapshot)
