"""The WebSocket stream ``/v1/ws``: an account's events as they happen, and market data.

One JSON object per text frame. Decimals travel as strings, like everywhere in the API.

Client to server::

    {"op": "auth", "token": "ak_….secret"}            # unless the upgrade request carried it
    {"op": "subscribe", "channel": "account", "account_id": "alice",
     "since_seq": 123, "subaccounts": true}             # since_seq and subaccounts optional
    {"op": "subscribe", "channel": "market", "symbol": "BTC/USDT", "levels": 10}
    {"op": "unsubscribe", "channel": "account", "account_id": "alice"}
    {"op": "subscribe", "channel": "trades", "account_id": "alice"}  # managed trades:
                                                        # see service/stream_trades.py
    {"op": "subscribe", "channel": "algos", "account_id": "alice"}   # parent orders:
                                                        # see service/stream_algos.py
    {"op": "subscribe", "channel": "consolidated", "symbol": "BTC/USDT"}  # consolidated book:
                                                        # see service/stream_books.py
    {"op": "ping"}

**The key** goes in a header of the upgrade request (``X-API-Key: <key>`` or
``Authorization: Bearer <key>``: programs) or in the first message (``{"op": "auth", …}``, within
``ws_auth_timeout_s``: browsers, which cannot set headers on a WebSocket). ``/v1/ws?token=<key>``
still works for old clients but is discouraged: a URL ends up in proxies' logs and browser
history (Atlas's own log redacts it).

A key that requires signatures adds ``"timestamp"`` (epoch ms) and ``"signature"`` to its auth
message (or sends ``X-Atlas-Timestamp`` and ``X-Atlas-Signature`` with the header key):
HMAC-SHA256 of ``timestamp + "GET" + "/v1/ws"`` with the key's secret, hex (the REST signature of
a bodiless GET of ``/v1/ws``).

Server to client::

    {"op": "authenticated", "key_id": …, "roles": […], "seq": N}
    {"op": "subscribed", "channel": "account", "account_id": "alice", "seq": N}
    {"channel": "account", "subscription": "alice", "seq": 124, "type": "OrderFilled",
     …the event's fields…, "view": {"order": {…}, "position": {…}, "balances": […]}}
    {"op": "live", "channel": "account", "account_id": "alice", "seq": N}
    {"channel": "market", "type": "book", "symbol": …, "seq": N, "bids": [[px, qty], …], "asks": …}
    {"channel": "market", "type": "trade", "symbol": …, "seq": N, "trade_id": …, "price": …,
     "qty": …, "side": "BUY" (the taker's), "ts_event": …}
    {"op": "error", "reason": "UNKNOWN_ACCOUNT", "detail": "…"}
    {"op": "pong", "seq": N}

**Which events.** An account subscription gets every event that concerns the account (and, with
``subaccounts``, its sub-accounts), by the audit trail's rule (:func:`concerns_account`): a client
never receives another account's data. ``view`` is the order, position and balances the event
changed *as they are when the message is sent* (live events only; replayed ones have none). Live
and replayed messages alike show a trader the built-in exchange's trade ids masked
(:meth:`Service.mask_text`): the same opaque id in both.

**Durable first, no gap, no duplicate.** Events are published after the group commit that makes
them durable, so a ``seq`` a client has seen is never forgotten by a restart. A subscription with
``since_seq`` first replays the journal's concerning events after it, then goes live: the replay
reads the journal up to the last published seq, and the switch to live happens synchronously on
the event loop when the replay has caught up (no event is processed between the last read and the
switch), so every event is sent exactly once. ``{"op": "live"}`` marks the switch. Reconnect with
the last ``seq`` received.

**Slow clients.** Each connection has a bounded queue; publishing never waits for a client. A
client whose queue overflows is closed with code 4408 and reconnects with its ``since_seq``. A
replay is paced by the client instead (it waits for room and never overflows the queue).

Close codes: 4401 not authenticated (bad key, no key in time, bad signature), 4429 rate limited,
4408 too slow, 4400 a message that is not JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide, PositionSide, Side
from atlas_oms.service.app import Problem, Service
from atlas_oms.service.keys import ApiKey
from atlas_oms.service.numbers import PRICE, QTY
from atlas_oms.service.stream_algos import deliver_algos, subscribe_algos, unsubscribe_algos
from atlas_oms.service.stream_trades import deliver_trades, subscribe_trades, unsubscribe_trades
from atlas_oms.store.audit import concerns_account

log = logging.getLogger("atlas.service.stream")

CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_SLOW = 4408
CLOSE_RATE_LIMITED = 4429

#: Events read from the journal per step of a replay (the loop serves others between steps).
REPLAY_CHUNK = 2_000
MAX_LEVELS = 50
#: Account (and, separately, market) subscriptions one connection may hold.
MAX_SUBSCRIPTIONS = 64

_encode = msgspec.json.Encoder().encode


def _text(obj: Any) -> str:
    return _encode(obj).decode()


class Outbox:
    """A connection's bounded queue of encoded messages, drained by its sender task."""

    def __init__(self, limit: int) -> None:
        self.limit = max(2, limit)
        self.soft = max(1, self.limit // 2)
        self.items: deque[str] = deque()
        self.closing: tuple[int, str] | None = None
        self._ready = asyncio.Event()
        self._room = asyncio.Event()

    def push(self, message: str) -> bool:
        """Queue without waiting; False when the queue is full (or closing)."""
        if self.closing is not None or len(self.items) >= self.limit:
            return False
        self.items.append(message)
        self._ready.set()
        return True

    async def push_paced(self, message: str) -> bool:
        """Queue once the queue is at most half full (replays: the client sets the pace)."""
        while self.closing is None and len(self.items) >= self.soft:
            self._room.clear()
            await self._room.wait()
        return self.push(message)

    def close(self, code: int, reason: str) -> None:
        """Drop what is queued and have the sender close the socket with ``code``."""
        if self.closing is None:
            self.closing = (code, reason)
            self.items.clear()
        self._ready.set()
        self._room.set()

    async def pop(self) -> str | tuple[int, str]:
        """The next message, or ``(code, reason)`` once closing."""
        while True:
            if self.closing is not None:
                return self.closing
            if self.items:
                message = self.items.popleft()
                if len(self.items) < self.soft:
                    self._room.set()
                return message
            self._ready.clear()
            await self._ready.wait()


@dataclass(eq=False)
class AccountSub:
    account_id: str
    members: set[str]
    subaccounts: bool
    #: Events up to this seq were sent (or predate the subscription): only later ones go out.
    after: int
    live: bool = False
    replay: asyncio.Task[None] | None = None

    def matches(self, event: ev.EventBase, owner: Callable[[int], str | None]) -> bool:
        if self.subaccounts and isinstance(event, ev.AccountOpened):
            parent = event.account.parent_id
            if parent is not None and parent in self.members:
                self.members.add(event.account.account_id)
        return concerns_account(event, self.members, owner)


@dataclass(eq=False)
class MarketSub:
    symbol: str
    levels: int
    last_book: Any = None
    #: The first book goes out with the next commit (the book held uncommitted orders).
    snapshot_due: bool = False


@dataclass(eq=False)
class Connection:
    hub: StreamHub
    websocket: WebSocket
    key: ApiKey
    outbox: Outbox
    accounts: dict[str, AccountSub] = field(default_factory=dict)
    markets: dict[str, MarketSub] = field(default_factory=dict)
    #: Trade subscriptions (service/stream_trades.py): account -> snapshot due at the next commit.
    trades: dict[str, bool] = field(default_factory=dict)
    #: Parent-order subscriptions (service/stream_algos.py), as ``trades``.
    algos: dict[str, bool] = field(default_factory=dict)
    #: Consolidated-book subscriptions (service/stream_books.py): symbol -> its subscription.
    books: dict[str, Any] = field(default_factory=dict)

    def send(self, message: dict[str, Any] | str) -> bool:
        """Queue a message now; a full queue closes the connection as too slow."""
        text = message if isinstance(message, str) else _text(message)
        text = self.hub.service.mask_text(self.key, text)  # no other side's order id in trade ids
        if self.outbox.push(text):
            return True
        if self.outbox.closing is None:
            self.hub.service.metrics.ws_slow.inc()
            self.outbox.close(
                CLOSE_TOO_SLOW,
                f"too slow: {self.outbox.limit} messages queued; reconnect with since_seq",
            )
            self.hub.connections.discard(self)
        return False

    def error(self, reason: str, detail: str, **extra: Any) -> None:
        self.send({"op": "error", "reason": reason, "detail": detail, **extra})

    # ------------------------------------------------------------------ client messages
    def handle(self, raw: str) -> None:
        try:
            msg = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            self.outbox.close(CLOSE_BAD_MESSAGE, "messages must be JSON objects")
            return
        if not isinstance(msg, dict):
            self.error("INVALID_MESSAGE", "a message is a JSON object with an op")
            return
        op = msg.get("op")
        try:
            self.hub.service.rate_limit(self.key)  # one budget per key, REST and stream alike
        except Problem as exc:
            self.error(exc.reason, exc.detail, request=op)
            return
        if op == "ping":
            self.send({"op": "pong", "seq": self.hub.published_seq})
        elif op == "subscribe":
            self.subscribe(msg)
        elif op == "unsubscribe":
            self.unsubscribe(msg)
        elif op == "auth":
            self.error("ALREADY_AUTHENTICATED", "this connection is already authenticated")
        else:
            self.error("INVALID_MESSAGE", f"unknown op {op!r}: use subscribe, unsubscribe or ping")

    def subscribe(self, msg: dict[str, Any]) -> None:
        channel = msg.get("channel")
        if channel == "account":
            self._subscribe_account(msg)
        elif channel == "market":
            self._subscribe_market(msg)
        elif channel == "trades":
            subscribe_trades(self, msg)
        elif channel == "algos":
            subscribe_algos(self, msg)
        elif channel == "consolidated":
            from atlas_oms.service.stream_books import subscribe_books

            subscribe_books(self, msg)
        else:
            self.error("INVALID_MESSAGE", f"unknown channel {channel!r}: use account or market")

    def _subscribe_account(self, msg: dict[str, Any]) -> None:
        hub = self.hub
        service = hub.service
        account_id = msg.get("account_id")
        since = msg.get("since_seq")
        subaccounts = msg.get("subaccounts", False)
        if not isinstance(account_id, str) or not isinstance(subaccounts, bool):
            self.error("INVALID_MESSAGE", "account_id (a string) is required")
            return
        if service.node.account(account_id) is None or not service.visible(self.key, account_id):
            self.error("UNKNOWN_ACCOUNT", f"no account {account_id} for this key")
            return
        if since is not None and (
            not isinstance(since, int) or isinstance(since, bool) or since < 0
        ):
            self.error("INVALID_MESSAGE", "since_seq must be a whole number >= 0")
            return
        end = hub.published_seq  # what a client can have seen: never an uncommitted seq
        if since is not None and since > end:
            self.error(
                "SEQ_AHEAD",
                f"this node's journal ends at seq {end}: subscribe again without since_seq",
                account_id=account_id,
            )
            return
        if account_id in self.accounts:
            self.error("ALREADY_SUBSCRIBED", f"already subscribed to account {account_id}")
            return
        if len(self.accounts) >= MAX_SUBSCRIPTIONS:
            self.error("TOO_MANY_SUBSCRIPTIONS", f"at most {MAX_SUBSCRIPTIONS} accounts each")
            return
        members = set(service.node.account_tree(account_id)) if subaccounts else {account_id}
        start = hub.published_seq if since is None else since
        sub = AccountSub(account_id, members, subaccounts, after=start)
        self.accounts[account_id] = sub
        self.send(
            {
                "op": "subscribed",
                "channel": "account",
                "account_id": account_id,
                "subaccounts": subaccounts,
                "since_seq": start,
                "seq": hub.published_seq,
            }
        )
        sub.replay = asyncio.create_task(self._replay(sub))

    async def _replay(self, sub: AccountSub) -> None:
        """Send the journal's concerning events after ``sub.after``, then go live (see the module
        docstring: the switch happens with no await after the last read, so nothing is lost or
        sent twice)."""
        hub = self.hub
        owner = hub.node.order_owner
        try:
            while True:
                target = hub.published_seq
                if sub.after >= target:
                    sub.live = True  # from here on, publish() delivers seq > sub.after
                    self.send(
                        {
                            "op": "live",
                            "channel": "account",
                            "account_id": sub.account_id,
                            "seq": max(sub.after, target),
                        }
                    )
                    return
                chunk = hub.read(sub.after + 1, target, REPLAY_CHUNK)
                if not chunk:  # the journal lacks what was published: cannot happen
                    self.outbox.close(1011, "the journal cannot be read")
                    return
                for event in chunk:
                    if sub.matches(event, owner):
                        message = hub.account_message(sub.account_id, event, view=False)
                        # Masked exactly as live messages are (Connection.send): no other
                        # side's order id in a replayed trade id either.
                        message = hub.service.mask_text(self.key, message)
                        if not await self.outbox.push_paced(message):
                            return  # closing
                    if self.accounts.get(sub.account_id) is not sub:
                        return  # unsubscribed meanwhile
                sub.after = chunk[-1].seq
                await asyncio.sleep(0)  # let the engine and the others in between chunks
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("replay failed")
            self.outbox.close(1011, "replay failed")

    def _subscribe_market(self, msg: dict[str, Any]) -> None:
        hub = self.hub
        symbol = msg.get("symbol")
        levels = msg.get("levels", 10)
        if not isinstance(symbol, str):
            self.error("INVALID_MESSAGE", "symbol (a string) is required")
            return
        if not isinstance(levels, int) or isinstance(levels, bool) or not 1 <= levels <= MAX_LEVELS:
            self.error("INVALID_MESSAGE", f"levels must be 1 to {MAX_LEVELS}")
            return
        if hub.service.node.instrument(symbol) is None:
            self.error("UNKNOWN_INSTRUMENT", f"no instrument {symbol}")
            return
        if symbol not in self.markets and len(self.markets) >= MAX_SUBSCRIPTIONS:
            self.error("TOO_MANY_SUBSCRIPTIONS", f"at most {MAX_SUBSCRIPTIONS} symbols each")
            return
        sub = MarketSub(symbol, levels)
        self.markets[symbol] = sub
        self.send({"op": "subscribed", "channel": "market", "symbol": symbol, "levels": levels})
        if hub.service.committer.dirty:
            # Durable first: the book now shows orders the journal does not hold yet; the
            # commit that takes them (milliseconds away) sends the first book.
            sub.snapshot_due = True
            return
        book = hub.book(symbol, levels)
        if book is not None:
            sub.last_book = book
            self.send(hub.book_message(symbol, book))

    def unsubscribe(self, msg: dict[str, Any]) -> None:
        channel = msg.get("channel")
        if channel == "account":
            sub = self.accounts.pop(str(msg.get("account_id")), None)
            if sub is not None and sub.replay is not None:
                sub.replay.cancel()
            found = sub is not None
            name = {"account_id": msg.get("account_id")}
        elif channel == "market":
            found = self.markets.pop(str(msg.get("symbol")), None) is not None
            name = {"symbol": msg.get("symbol")}
        elif channel == "trades":
            found = unsubscribe_trades(self, msg)
            name = {"account_id": msg.get("account_id")}
        elif channel == "algos":
            found = unsubscribe_algos(self, msg)
            name = {"account_id": msg.get("account_id")}
        elif channel == "consolidated":
            from atlas_oms.service.stream_books import unsubscribe_books

            found = unsubscribe_books(self, msg)
            name = {"symbol": msg.get("symbol")}
        else:
            self.error("INVALID_MESSAGE", f"unknown channel {channel!r}: use account or market")
            return
        if found:
            self.send({"op": "unsubscribed", "channel": channel, **name})
        else:
            self.error("NOT_SUBSCRIBED", f"no {channel} subscription {name}")

    def stop(self) -> None:
        for sub in self.accounts.values():
            if sub.replay is not None:
                sub.replay.cancel()


class StreamHub:
    """Every connection of one node; publishes the events of each group commit to them."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.node = service.node
        self.node.flush()
        #: The last seq handed to the connections (every event up to it is durable).
        self.published_seq = self.node.seq
        self.connections: set[Connection] = set()
        self._pending: list[ev.EventBase] = []
        #: Called with each durable batch of events (the other interfaces' streams: gRPC, FIX,
        #: the Binance dialect's user data), after the WebSocket connections.
        self._durable_listeners: list[Callable[[list[ev.EventBase]], None]] = []
        self.node.subscribe(self._on_events)
        service.on_commit(self.publish)

    def on_durable(self, listener: Callable[[list[ev.EventBase]], None]) -> None:
        """Call ``listener(events)`` with every batch of events once the journal holds it (in seq
        order, never an uncommitted event). A listener that raises is logged and stays."""
        self._durable_listeners.append(listener)

    def _on_events(self, events: list[ev.EventBase]) -> None:
        self._pending.extend(events)

    # ------------------------------------------------------------------ reading
    def read(self, first: int, last: int, limit: int) -> list[ev.EventBase]:
        """Up to ``limit`` journal events with ``first <= seq <= last`` (whole batches)."""
        out: list[ev.EventBase] = []
        batches = self.node.journal.read_batches(first)
        try:
            for batch in batches:
                for event in batch:
                    if event.seq > last:
                        return out
                    out.append(event)
                if len(out) >= limit:
                    break
        finally:
            close = getattr(batches, "close", None)
            if close is not None:  # a generator: release its cursor now, not when collected
                close()
        return out

    def book(self, symbol: str, levels: int) -> dict[str, Any] | None:
        try:
            book = self.service.book(symbol, levels)
        except KeyError:  # an instrument the built-in exchange has no book for
            return None
        if book is None:
            return None
        sides = {"bids": book["bids"], "asks": book["asks"]}
        out: dict[str, Any] = self.service.numbers.builtins(sides, symbol)
        return out

    def book_message(self, symbol: str, book: dict[str, Any]) -> str:
        return _text(
            {"channel": "market", "type": "book", "symbol": symbol, "seq": self.published_seq}
            | book
        )

    def account_message(
        self,
        subscription: str,
        event: ev.EventBase,
        *,
        view: bool,
        cache: dict[int, Any] | None = None,
    ) -> str:
        body: dict[str, Any] = {"channel": "account", "subscription": subscription}
        body.update(self.service.numbers.builtins(event))
        if view:
            if cache is None:
                body["view"] = self.view(event)
            else:
                if event.seq not in cache:
                    cache[event.seq] = self.view(event)
                body["view"] = cache[event.seq]
        else:
            body["replay"] = True
        return _text(body)

    def view(self, event: ev.EventBase) -> dict[str, Any]:
        """The order, position and balances ``event`` touched, as they are now."""
        node = self.node
        _to_builtins = self.service.numbers.builtins  # numbers at their places
        out: dict[str, Any] = {}
        order_id = getattr(event, "order_id", None)
        order = node.get_order(order_id) if isinstance(order_id, int) else None
        if order is not None:
            out["order"] = _to_builtins(order)
        account = getattr(event, "account_id", None) or (order.account_id if order else None)
        symbol = getattr(event, "symbol", None) or (order.symbol if order else None)
        if not isinstance(account, str):
            return out
        assets: set[str] = set()
        asset = getattr(event, "asset", None)
        if isinstance(asset, str):
            assets.add(asset)
        if isinstance(
            event,
            ev.OrderFilled
            | ev.OrderFillBusted
            | ev.OrderFillCorrected
            | ev.PositionAutoDeleveraged
            | ev.FundingSettled
            | ev.IsolatedMarginAdjusted,
        ) and isinstance(symbol, str):
            side = getattr(event, "position_side", None) or (
                order.position_side if order else PositionSide.BOTH
            )
            position = node.position(account, symbol, side)
            if position is not None:
                # Without its lots: a long-held position's lot list would grow every message.
                view = _to_builtins(position)
                view.pop("lots", None)
                out["position"] = view
            inst = node.instrument(symbol)
            if inst is not None:
                assets.update(a for a in (inst.quote, inst.settle) if a)
                if not inst.is_derivative:
                    assets.add(inst.base)
            fee_asset = getattr(event, "fee_asset", None)
            if isinstance(fee_asset, str):
                assets.add(fee_asset)
        if assets:
            out["balances"] = [_to_builtins(node.balance(account, a)) for a in sorted(assets)]
        return out

    # ------------------------------------------------------------------ publishing
    def publish(self) -> None:
        """Hand every event processed (and now durable) since the last call to the connections."""
        events, self._pending = self._pending, []
        if not events:
            return
        try:
            if self.connections:
                self._deliver(events)
        finally:
            self.published_seq = max(self.published_seq, events[-1].seq)
            for listener in self._durable_listeners:
                try:
                    listener(events)
                except Exception:  # one interface's bug must not stop the others' streams
                    log.exception("a durable-events listener failed: %r", listener)

    def _deliver(self, events: list[ev.EventBase]) -> None:
        if any(conn.trades for conn in self.connections):
            deliver_trades(self, events)
        if any(conn.algos for conn in self.connections):
            deliver_algos(self, events)
        owner = self.node.order_owner
        views: dict[int, Any] = {}
        symbols: set[str] = set()
        trades: dict[str, list[str]] = {}
        market = any(conn.markets for conn in self.connections)
        if market:
            symbols, trades = self._market_events(events)
        for conn in list(self.connections):
            for sub in list(conn.accounts.values()):
                if not sub.live:
                    continue
                for event in events:
                    if event.seq <= sub.after:
                        continue
                    if sub.matches(event, owner) and not conn.send(
                        self.account_message(sub.account_id, event, view=True, cache=views)
                    ):
                        break
                    sub.after = event.seq
                if conn.outbox.closing is not None:
                    break
        if not market:
            return
        books: dict[tuple[str, int], Any] = {}
        for conn in list(self.connections):
            for msub in conn.markets.values():
                for message in trades.get(msub.symbol, ()):
                    conn.send(message)
                if msub.symbol not in symbols and not msub.snapshot_due:
                    continue
                k = (msub.symbol, msub.levels)
                if k not in books:
                    books[k] = self.book(msub.symbol, msub.levels)
                book = books[k]
                due, msub.snapshot_due = msub.snapshot_due, False
                if book is not None and (due or book != msub.last_book):
                    msub.last_book = book
                    conn.send(self.book_message(msub.symbol, book))

    def _market_events(self, events: list[ev.EventBase]) -> tuple[set[str], dict[str, list[str]]]:
        """The symbols whose book may have changed, and each symbol's trade messages."""
        node = self.node
        numbers = self.service.numbers
        symbols: set[str] = set()
        trades: dict[str, list[str]] = {}
        # A trade between two of our orders fills both: report it once, by its taker's fill.
        taken = {
            e.trade_id
            for e in events
            if isinstance(e, ev.OrderFilled) and e.liquidity_side is LiquiditySide.TAKER
        }
        for event in events:
            symbol = getattr(event, "symbol", None)
            if not isinstance(symbol, str):
                order_id = getattr(event, "order_id", None)
                order = node.get_order(order_id) if isinstance(order_id, int) else None
                if order is None:
                    continue
                symbol = order.symbol
            symbols.add(symbol)
            if isinstance(event, ev.OrderFilled):
                if event.liquidity_side is not LiquiditySide.TAKER and event.trade_id in taken:
                    continue
                taker = (
                    event.side
                    if event.liquidity_side is LiquiditySide.TAKER
                    else (Side.SELL if event.side is Side.BUY else Side.BUY)
                )
                trades.setdefault(symbol, []).append(
                    _text(
                        {
                            "channel": "market",
                            "type": "trade",
                            "symbol": symbol,
                            "seq": event.seq,
                            "trade_id": event.trade_id,
                            "price": numbers.number(event.last_px, PRICE, symbol, None),
                            "qty": numbers.number(event.last_qty, QTY, symbol, None),
                            "side": taker.value,
                            "ts_event": event.ts_event,
                        }
                    )
                )
        return symbols, trades

    async def close_all(self) -> None:
        for conn in list(self.connections):
            conn.stop()
            conn.outbox.close(1001, "the server is stopping")
        self.connections.clear()


def register(app: FastAPI) -> None:
    @app.websocket("/v1/ws")
    async def stream(websocket: WebSocket) -> None:
        hub: StreamHub = websocket.app.state.hub
        service = hub.service
        await websocket.accept()
        key = await _authenticate(websocket, service)
        if key is None:
            return
        conn = Connection(hub, websocket, key, Outbox(service.settings.ws_queue_size))
        hub.connections.add(conn)
        service.metrics.ws_connections.inc()
        conn.send(
            {
                "op": "authenticated",
                "key_id": key.key_id,
                "roles": list(key.roles),
                "seq": hub.published_seq,
            }
        )
        sender = asyncio.create_task(_send_loop(conn))
        reader = asyncio.create_task(_read_loop(conn))
        try:
            await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            service.metrics.ws_connections.dec()
            hub.connections.discard(conn)
            conn.stop()
            for task in (sender, reader):
                task.cancel()
            for task in (sender, reader):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


def _header_token(websocket: WebSocket) -> str | None:
    """The key sent on the upgrade request: ``X-API-Key`` or ``Authorization: Bearer``."""
    token = websocket.headers.get("x-api-key")
    auth = websocket.headers.get("authorization", "")
    if token is None and auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    return token or None


async def _authenticate(websocket: WebSocket, service: Service) -> ApiKey | None:
    """The key of a connection: from the upgrade request's headers, else the URL's ``token``
    (kept for old clients; discouraged: URLs end up in logs, proxies and browser history, so the
    log redacts it), else the first message ``{"op": "auth", "token": …}``."""
    token = _header_token(websocket)
    msg: dict[str, Any] = {}
    if token is None and "token" in websocket.query_params:
        token = websocket.query_params.get("token")
        log.info("websocket key in the URL: discouraged, send it in a header or the first message")
    elif token is not None and (
        "x-atlas-signature" in websocket.headers or "x-atlas-timestamp" in websocket.headers
    ):
        msg = {
            "timestamp": websocket.headers.get("x-atlas-timestamp", ""),
            "signature": websocket.headers.get("x-atlas-signature", ""),
        }
    if token is None:
        timeout = service.settings.ws_auth_timeout_s
        try:
            raw = await asyncio.wait_for(websocket.receive_text(), timeout)
        except TimeoutError:
            await websocket.close(CLOSE_UNAUTHENTICATED, f"no key within {timeout:g} s")
            return None
        except (WebSocketDisconnect, KeyError, RuntimeError):
            return None
        try:
            decoded = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            decoded = None
        if not isinstance(decoded, dict) or decoded.get("op") != "auth":
            await websocket.close(
                CLOSE_UNAUTHENTICATED, 'authenticate first: {"op":"auth","token":"<key>"}'
            )
            return None
        msg = decoded
        token = msg.get("token")
    if not isinstance(token, str) or not token:
        await websocket.close(CLOSE_UNAUTHENTICATED, "send an API key")
        return None
    found = service.keys.verify(token)
    if found is None:
        await websocket.close(CLOSE_UNAUTHENTICATED, "the API key is not valid")
        return None
    key, secret = found
    try:
        if key.require_signature or "signature" in msg:
            stamp, sig = msg.get("timestamp"), msg.get("signature")
            if not isinstance(sig, str) or not isinstance(stamp, str | int):
                raise Problem(401, "SIGNATURE_REQUIRED", "sign the auth message")
            service.check_signature(secret, str(stamp), sig, "GET", "/v1/ws", b"")
        service.rate_limit(key)
    except Problem as exc:
        code = CLOSE_RATE_LIMITED if exc.status == 429 else CLOSE_UNAUTHENTICATED
        await websocket.close(code, f"{exc.reason}: {exc.detail}"[:120])
        return None
    websocket.state.key_id = key.key_id  # for the access log
    return key


async def _send_loop(conn: Connection) -> None:
    websocket = conn.websocket
    while True:
        item = await conn.outbox.pop()
        if isinstance(item, tuple):
            code, reason = item
            with contextlib.suppress(Exception):
                await websocket.close(code, reason[:120])
            return
        await websocket.send_text(item)


async def _read_loop(conn: Connection) -> None:
    websocket = conn.websocket
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            raw = await websocket.receive_text()
            conn.handle(raw)
            if conn.outbox.closing is not None:
                await asyncio.Event().wait()  # the sender closes; it ends the connection
