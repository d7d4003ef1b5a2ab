"""The WebSocket's ``consolidated`` channel: a symbol's consolidated order book (issue 16, MD-1;
the view of ``GET /v1/books/{symbol}/consolidated``), pushed when it changed, at most every
``md_push_every_ms``.

Client to server::

    {"op": "subscribe", "channel": "consolidated", "symbol": "BTC/USDT", "depth": 10,
     "account_id": "alice"}                             # depth and account_id optional
    {"op": "unsubscribe", "channel": "consolidated", "symbol": "BTC/USDT"}

Server to client::

    {"op": "subscribed", "channel": "consolidated", "symbol": "BTC/USDT", "depth": 10}
    {"channel": "consolidated", "type": "book", "seq": N, "symbol": "BTC/USDT", "quote": "USDT",
     "bids": [{venue, symbol, quote, price, normalized_price, fee_adjusted_price, qty}, …],
     "asks": […], "venues": [{venue, symbol, bid, ask, …, age_ms, stale}, …], "ts": …}

**Throttled**: one task (:func:`push_books`) looks at every subscription each period and sends
the book only when its levels or a venue's best changed (ages alone do not count). **Durable
first**: nothing is sent while the group commit has uncommitted events (the built-in exchange's
book may show orders the journal does not hold yet); the next period sends it. ``account_id``
(fee-adjusted prices) must be visible to the key, as everywhere.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from atlas_oms.service.routes_books import consolidated_view

if TYPE_CHECKING:
    from atlas_oms.service.stream import Connection, StreamHub

__all__ = ["BookSub", "push_books", "subscribe_books", "unsubscribe_books"]

#: Consolidated-book subscriptions one connection may hold.
MAX_BOOK_SUBSCRIPTIONS = 32


@dataclass
class BookSub:
    depth: int
    account_id: str | None
    last: Any = None


def subscribe_books(conn: Connection, msg: dict[str, Any]) -> None:
    service = conn.hub.service
    symbol = msg.get("symbol")
    depth = msg.get("depth", 10)
    account_id = msg.get("account_id")
    if not isinstance(symbol, str):
        conn.error("INVALID_MESSAGE", "symbol (a string) is required")
        return
    if not isinstance(depth, int) or isinstance(depth, bool) or not 1 <= depth <= 100:
        conn.error("INVALID_MESSAGE", "depth must be 1 to 100")
        return
    if account_id is not None and (
        not isinstance(account_id, str)
        or service.node.account(account_id) is None
        or not service.visible(conn.key, account_id)
    ):
        conn.error("UNKNOWN_ACCOUNT", f"no account {account_id} for this key")
        return
    if symbol not in conn.books and len(conn.books) >= MAX_BOOK_SUBSCRIPTIONS:
        conn.error("TOO_MANY_SUBSCRIPTIONS", f"at most {MAX_BOOK_SUBSCRIPTIONS} symbols each")
        return
    conn.books[symbol] = BookSub(depth, account_id)
    conn.send({"op": "subscribed", "channel": "consolidated", "symbol": symbol, "depth": depth})
    if not service.committer.dirty:
        _push(conn.hub, conn, symbol, conn.books[symbol], {})


def unsubscribe_books(conn: Connection, msg: dict[str, Any]) -> bool:
    return conn.books.pop(str(msg.get("symbol")), None) is not None


def _push(
    hub: StreamHub, conn: Connection, symbol: str, sub: BookSub, cache: dict[Any, Any]
) -> None:
    md = hub.service.market_data
    if md is None:
        return
    key = (symbol, sub.depth, sub.account_id)
    if key not in cache:
        cache[key] = consolidated_view(md, symbol, sub.depth, sub.account_id)
    view = cache[key]
    if view is None:
        return
    shape = (
        view["bids"],
        view["asks"],
        [{k: v for k, v in b.items() if k != "age_ms"} for b in view["venues"]],
    )
    if shape == sub.last:
        return
    sub.last = shape
    conn.send({"channel": "consolidated", "type": "book", "seq": hub.published_seq, **view})


async def push_books(hub: StreamHub, every_s: float) -> None:
    """Send each changed consolidated book every ``every_s`` until cancelled."""
    while True:
        await asyncio.sleep(every_s)
        if hub.service.committer.dirty:
            continue
        cache: dict[Any, Any] = {}
        for conn in list(hub.connections):
            for symbol, sub in list(conn.books.items()):
                _push(hub, conn, symbol, sub, cache)
