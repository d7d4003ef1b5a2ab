"""What the WebSocket's per-account channels of views share (``trades``, issue 13, in
``stream_trades.py``; ``algos``, issue 16, in ``stream_algos.py``): subscribing to an account
(checked as the account channel, then its snapshot, held back to the next commit while the views
show what the journal does not hold yet) and delivering a commit's messages, or the snapshot that
was due instead of them, to each connection's subscriptions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from atlas_oms.model import events as ev

if TYPE_CHECKING:
    from atlas_oms.service.stream import Connection, StreamHub

__all__ = ["deliver_to_accounts", "subscribe_account"]

#: The channel's snapshot of an account: ``snapshot(hub, account_id, seq)``.
Snapshot = Callable[["StreamHub", str, "int | None"], dict[str, Any]]


def subscribe_account(
    conn: Connection,
    msg: dict[str, Any],
    *,
    channel: str,
    subscriptions: dict[str, bool],
    what: str,
    limit: int,
    snapshot: Snapshot,
) -> None:
    """Subscribe ``conn`` to the ``channel`` of the message's account (``subscriptions`` is the
    connection's own: account -> snapshot due at the next commit; ``what`` names the views in
    the ``ALREADY_SUBSCRIBED`` sentence; ``limit`` accounts at most)."""
    hub = conn.hub
    service = hub.service
    account_id = msg.get("account_id")
    if not isinstance(account_id, str):
        conn.error("INVALID_MESSAGE", "account_id (a string) is required")
        return
    if service.node.account(account_id) is None or not service.visible(conn.key, account_id):
        conn.error("UNKNOWN_ACCOUNT", f"no account {account_id} for this key")
        return
    if account_id in subscriptions:
        conn.error("ALREADY_SUBSCRIBED", f"already subscribed to {what} of {account_id}")
        return
    if len(subscriptions) >= limit:
        conn.error("TOO_MANY_SUBSCRIPTIONS", f"at most {limit} accounts each")
        return
    conn.send(
        {"op": "subscribed", "channel": channel, "account_id": account_id, "seq": hub.published_seq}
    )
    if service.committer.dirty:  # the views show what the journal does not hold yet
        subscriptions[account_id] = True  # the next commit sends the snapshot
        return
    subscriptions[account_id] = False
    conn.send(snapshot(hub, account_id, None))


def deliver_to_accounts(
    hub: StreamHub,
    events: list[ev.EventBase],
    messages: Mapping[str, list[dict[str, Any]]],
    subscriptions: Callable[[Connection], dict[str, bool]],
    snapshot: Snapshot,
) -> None:
    """Send each connection the committed ``events``' ``messages`` (account -> messages) of the
    accounts it subscribed to (``subscriptions(conn)``), or the account's snapshot where one was
    due (it already shows these events' effects)."""
    for conn in list(hub.connections):
        subs = subscriptions(conn)
        for account_id, due in list(subs.items()):
            if due:
                subs[account_id] = False
                conn.send(snapshot(hub, account_id, events[-1].seq if events else None))
                continue  # the snapshot already shows these events' effects
            for message in messages.get(account_id, ()):
                if not conn.send(message):
                    break
            if conn.outbox.closing is not None:
                break
