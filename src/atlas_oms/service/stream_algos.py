"""The WebSocket's ``algos`` channel: an account's parent orders (TWAP, VWAP, iceberg, SMART) as
they change (issue 16).

Client to server::

    {"op": "subscribe", "channel": "algos", "account_id": "alice"}
    {"op": "unsubscribe", "channel": "algos", "account_id": "alice"}

Server to client::

    {"op": "subscribed", "channel": "algos", "account_id": "alice", "seq": N}
    {"channel": "algos", "type": "snapshot", "account_id": "alice", "seq": N,
     "algos": [<parent view>, …]}                        # the account's open parents, once
    {"channel": "algos", "subscription": "alice", "seq": 124, "type": "algo",
     "algo_id": "tw1", "events": ["AlgoSliceStarted", "OrderFilled", …], "algo": <parent view>}

**When.** A parent's view is pushed once per group commit in which one of its ``Algo*`` events
or an event of one of its child orders (placed, filled, canceled…) was committed: ``events``
names them, ``seq`` is the last of them, and ``algo`` is the parent as it is when the message is
sent (``GET /v1/algos/{id}`` without the route decisions: children, fills, report). Durable
first like every message of the stream: nothing goes out before the commit that holds it.
Authorization as the account channel (another account is ``UNKNOWN_ACCOUNT``). No replay: a
reconnecting client gets a new snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas_oms.model import events as ev
from atlas_oms.model import events_algos
from atlas_oms.service.algo_views import algo_body
from atlas_oms.service.stream_accounts import deliver_to_accounts, subscribe_account

if TYPE_CHECKING:
    from atlas_oms.service.stream import Connection, StreamHub

__all__ = ["deliver_algos", "subscribe_algos", "unsubscribe_algos"]

#: Parent-order subscriptions (accounts) one connection may hold.
MAX_ALGO_SUBSCRIPTIONS = 64
_ALGO_EVENTS = tuple(
    getattr(events_algos, name) for name in events_algos.__all__ if name != "AlgoSlice"
)


def snapshot(hub: StreamHub, account_id: str, seq: int | None = None) -> dict[str, Any]:
    service = hub.service
    return {
        "channel": "algos",
        "type": "snapshot",
        "account_id": account_id,
        "seq": hub.published_seq if seq is None else seq,
        "algos": [algo_body(service, v) for v in hub.node.algos(account_id, open_only=True)],
    }


def subscribe_algos(conn: Connection, msg: dict[str, Any]) -> None:
    subscribe_account(
        conn,
        msg,
        channel="algos",
        subscriptions=conn.algos,
        what="parent orders",
        limit=MAX_ALGO_SUBSCRIPTIONS,
        snapshot=snapshot,
    )


def unsubscribe_algos(conn: Connection, msg: dict[str, Any]) -> bool:
    return conn.algos.pop(str(msg.get("account_id")), None) is not None


def deliver_algos(hub: StreamHub, events: list[ev.EventBase]) -> None:
    """Send the parents the committed ``events`` changed to their accounts' subscriptions."""
    node = hub.node
    touched: dict[str, tuple[int, list[str]]] = {}  # algo id -> (last seq, event types)
    for event in events:
        algo_id: str | None = None
        if isinstance(event, _ALGO_EVENTS):
            algo_id = getattr(event, "algo_id", None)
        else:
            order_id = getattr(event, "order_id", None)
            if isinstance(order_id, int):
                algo_id = node.algo_of_order(order_id)
        if algo_id is None:
            continue
        _, kinds = touched.setdefault(algo_id, (event.seq, []))
        kinds.append(type(event).__name__)
        touched[algo_id] = (event.seq, kinds)
    messages: dict[str, list[dict[str, Any]]] = {}  # account -> messages
    for algo_id, (seq, kinds) in touched.items():
        try:
            view = node.algo(algo_id)
        except KeyError:  # a refused parent (AlgoRefused): nothing is kept
            continue
        messages.setdefault(view.account_id, []).append(
            {
                "channel": "algos",
                "subscription": view.account_id,
                "seq": seq,
                "type": "algo",
                "algo_id": algo_id,
                "events": kinds,
                "algo": algo_body(hub.service, view),
            }
        )
    deliver_to_accounts(hub, events, messages, lambda conn: conn.algos, snapshot)
