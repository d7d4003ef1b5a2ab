"""Exact pushes for both Binance dialects: a payload is built when the node processes a batch
and delivered only once the journal holds that batch.

Built at process time (``node.subscribe``), a payload carries exactly the state that batch made
(balances, positions, the book, cumulative quantities), never a later, not yet durable, change;
delivered at commit time (``hub.on_durable``, in seq order), it is never an update that a crash
could take back. ``DurableQueue`` is the mechanism; ``UserStream`` is the per-account user data
stream on top of it (spot ``executionReport``... in spot_stream.py, USDⓈ-M
``ORDER_TRADE_UPDATE``... in futures_stream.py).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from atlas_oms.model import events as ev

if TYPE_CHECKING:
    from atlas_oms.runtime.queries import Queries

log = logging.getLogger("atlas.binance")

#: One held delivery (a closure that sends an already built payload).
Delivery = Callable[[], None]
Send = Callable[[dict[str, Any]], None]

#: The order events a user data stream reports (spot executionReport, USDⓈ-M ORDER_TRADE_UPDATE).
ORDER_EVENTS = (
    ev.OrderAccepted,
    ev.OrderFilled,
    ev.OrderCanceled,
    ev.OrderExpired,
    ev.OrderRejected,
    ev.OrderReplaced,
)


class DurableQueue:
    """Deliveries held by the seq of the batch that made them, released once it is durable."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._held: deque[tuple[int, Delivery]] = deque()

    def __len__(self) -> int:
        return len(self._held)

    def hold(
        self,
        events: list[ev.EventBase],
        build: Callable[[list[ev.EventBase]], Iterable[Delivery]],
    ) -> None:
        """Build the deliveries of a processed batch now (the node is in its state) and hold
        them until ``release`` sees a durable batch reaching its last seq."""
        if not events:
            return
        try:
            deliveries = list(build(events))
        except Exception:  # a translation bug must not break the node's loop
            log.exception("building %s failed", self.what)
            return
        last = events[-1].seq
        self._held.extend((last, d) for d in deliveries)

    def release(self, events: list[ev.EventBase]) -> None:
        """``hub.on_durable`` listener: deliver everything built from batches now durable."""
        if not events:
            return
        upto = events[-1].seq
        held = self._held
        while held and held[0][0] <= upto:
            _seq, deliver = held.popleft()
            try:
                deliver()
            except Exception:
                log.exception("delivering %s failed", self.what)


class UserStream:
    """Connected user-data senders by account; payloads built at process time for the accounts
    that have a sender (``build``), pushed once durable to the senders connected then.

    ``attach(account, send)`` registers a sender, ``detach`` removes it. ``on_processed`` goes
    to ``node.subscribe``, ``on_durable`` to ``hub.on_durable`` (``hook`` does both)."""

    what = "user-stream events"

    def __init__(self, node: Queries) -> None:
        self.node = node
        self.senders: dict[str, set[Send]] = {}
        self.queue = DurableQueue(self.what)

    def hook(self, node: Any, hub: Any) -> None:
        node.subscribe(self.on_processed)
        hub.on_durable(self.on_durable)

    def attach(self, account_id: str, send: Send) -> None:
        self.senders.setdefault(account_id, set()).add(send)

    def detach(self, account_id: str, send: Send) -> None:
        group = self.senders.get(account_id)
        if group is not None:
            group.discard(send)
            if not group:
                del self.senders[account_id]

    def build(
        self, events: list[ev.EventBase], accounts: set[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        """The (account, payload) pairs of one processed batch (the node in its state)."""
        raise NotImplementedError

    def on_processed(self, events: list[ev.EventBase]) -> None:
        if not self.senders:
            return
        accounts = set(self.senders)
        self.queue.hold(
            events,
            lambda batch: [self._delivery(a, p) for a, p in self.build(batch, accounts)],
        )

    def _delivery(self, account: str, payload: dict[str, Any]) -> Delivery:
        def deliver() -> None:
            for send in list(self.senders.get(account, ())):
                send(payload)

        return deliver

    def on_durable(self, events: list[ev.EventBase]) -> None:
        self.queue.release(events)


__all__ = ["ORDER_EVENTS", "Delivery", "DurableQueue", "Send", "UserStream"]
