"""Bybit v5, Unified Trading Account, behind Atlas's venue ports: spot (venue ``bybit``) and
linear USDT perpetuals (venue ``bybitlinear``), one adapter per category and account.

REST goes through ccxt's *implicit* v5 methods (``privatePostV5OrderCreate``…) so the answer is
Bybit's own JSON (:mod:`.parse`); errors are classified from ``retCode``/``retMsg``
(:mod:`.errors`). Quirks handled (reference/venues.md §1.4, §2.2):

- ``orderLinkId`` is the client order id and is passed *by the adapter* for cancel, amend and
  query (ccxt's unified ``cancel_order``/``fetch_order`` do not route by it, and ``fetch_order``
  raises without ``{'acknowledged': True}``): the raw ``/v5/order/realtime`` answers open orders
  and the last 500 closed ones; when it does not know the order, ``/v5/order/history`` (which
  is queried without a status filter: ccxt's ``fetch_closed_orders`` asks ``Filled`` only and
  would miss a canceled order);
- ``PartiallyFilledCanceled`` and ``Cancelled`` with fills are CANCELED with the partial quantity;
- a cancel that races a fill brings a second ``Filled`` order message (``cancelType
  CancelByUser``, ``EC_OrigClOrdIDDoesNotExist``); executions are deduplicated by ``execId``;
- ``positionIdx`` 1/2 for the legs of hedge mode, 0 one-way;
- ``110072``/``170141`` (duplicate ``orderLinkId``) are DUPLICATE (Unknown: it probably landed);
- the ``X-Bapi-Limit-*`` headers of every answer go to ``on_response`` (per UID and endpoint).

The private stream (``/v5/private``: ``op: auth``, then ``order``, ``execution``, ``wallet`` and
(linear) ``position``) is kept by ccxt.pro; every raw message is translated here.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import ccxt

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.enums import PositionSide, TimeInForce
from atlas_oms.model.rebalance import VenueTransfer, VenueTransferResult
from atlas_oms.model.route_book import VenueBook
from atlas_oms.model.venue import (
    Acknowledged,
    AmendOrder,
    CancelOrder,
    Outcome,
    PlaceOrder,
    PriceTick,
    Refused,
    StreamAlive,
    StreamGap,
    Unknown,
    VenueAccountSettings,
    VenueBalance,
    VenueFact,
    VenueFill,
    VenueInstrument,
    VenueOrder,
    VenuePosition,
)
from atlas_oms.venues.bybit import errors
from atlas_oms.venues.bybit import parse as p
from atlas_oms.venues.bybit.books import BybitBooks
from atlas_oms.venues.bybit.client import (
    BybitEndpoints,
    BybitHttpError,
    build_client,
    private_url,
    set_time_offset,
)
from atlas_oms.venues.bybit.errors import Action, Failure
from atlas_oms.venues.rewatch import keep_watching

#: How many execution ids the stream remembers (Bybit repeats a fill on a cancel race).
EXEC_MEMORY = 10_000
PAGE = 100
WEEK_MS = 7 * 86_400_000
PRIVATE_TOPICS = frozenset({"order", "execution", "wallet", "position"})


def num(value: Decimal) -> str:
    return format(value, "f")


class BybitAdapter:
    venue: str = "bybit"
    category: str = "spot"
    #: How often :meth:`prices` reads the public tickers (seconds).
    price_poll_s: float = 1.0

    def __init__(
        self,
        *,
        account_id: str,
        api_key: str,
        secret: str,
        decode_client_id: Callable[[str], int | None],
        endpoints: BybitEndpoints | None = None,
        recv_window_ms: int = 5000,
        timeout_ms: int = 10_000,
        symbols: list[str] | None = None,
        heartbeat_s: float = 30.0,
        reconnect_min_s: float = 0.2,
        reconnect_max_s: float = 10.0,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.account_id = account_id
        self.endpoints = endpoints or BybitEndpoints()
        self.before_request: Callable[[int, bool], Awaitable[None]] | None = None
        self.on_response: Callable[[int, Mapping[str, str]], None] | None = None
        self.heartbeat_s = heartbeat_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.settings = VenueAccountSettings()
        self._ctx = p.Context(self.venue, account_id, self.category, decode_client_id)
        self._venue_symbols: dict[str, str] = {}
        self._traded: set[str] = set(symbols or ())
        self._execs: OrderedDict[str, None] = OrderedDict()
        #: The last ``X-Bapi-Limit-Status`` per path (what the UID has left in its second).
        self.limit_status: dict[str, int] = {}
        self._client = build_client(
            self.endpoints,
            api_key=api_key,
            secret=secret,
            category=self.category,
            recv_window_ms=recv_window_ms,
            timeout_ms=timeout_ms,
            options=options,
        )
        self._client.atlas_before_request = self._before_request
        self._client.atlas_on_response = self._on_response
        self._client.atlas_on_message = self._on_ws_message
        self._client.atlas_on_connection = self._on_ws_connection
        self._private_url = private_url(self.endpoints)
        self._facts: asyncio.Queue[VenueFact] | None = None
        self._stream_up = False
        self._last_ts = 0
        self._markets_loaded = False

    # ------------------------------------------------------------------ hooks and lifecycle
    async def _before_request(self, weight: int, is_order: bool) -> None:
        if self.before_request is not None:
            await self.before_request(weight, is_order)

    def _on_response(self, status: int, headers: Mapping[str, str]) -> None:
        lowered = {k.lower(): v for k, v in headers.items()}
        left = lowered.get("x-bapi-limit-status")
        if left is not None:
            with contextlib.suppress(ValueError):
                self.limit_status[str(self._client.last_request_url or "")] = int(left)
        if self.on_response is not None:
            self.on_response(status, headers)

    def set_clock_offset(self, offset_ns: int) -> None:
        set_time_offset(self._client, offset_ns)

    def rotate_credentials(self, api_key: str, secret: str, **_: Any) -> None:
        """Sign with a new key from the next request on; the private stream was authenticated
        with the old one: drop it, so it reconnects and authenticates anew (a gap, which the
        gateway reconciles)."""
        self._client.apiKey = api_key
        self._client.secret = secret
        ws = self._private_ws()
        self._stream_lost("KEY_ROTATED")
        if ws is not None:
            ws.on_error(ccxt.NetworkError(f"{self.venue} private stream: KEY_ROTATED"))

    async def start(self) -> None:
        # After a failed connection the gateway closes the adapter and starts it again: reopen
        # the ccxt client, which otherwise refuses every REST call once closed.
        self._client.open()
        await self.instruments()
        self.settings = await self.account_settings()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._client.close()

    async def account_settings(self) -> VenueAccountSettings:
        return VenueAccountSettings()

    # ------------------------------------------------------------------ sub-account transfers
    @staticmethod
    def transfer_uuid(transfer_id: str) -> str:
        """Bybit's ``transferId`` (a UUID) of an Atlas transfer id: the same every time."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"atlas-transfer:{transfer_id}"))

    async def transfer(self, t: VenueTransfer) -> VenueTransferResult:
        """Move funds between master and sub-account UIDs with this (master) key:
        ``POST /v5/asset/transfer/universal-transfer``, ``transferId`` =
        :meth:`transfer_uuid` (Bybit refuses a repeated one: ``131214``). A timeout, a 5xx,
        ``10016`` or a rate limit is ``UNKNOWN``: ask :meth:`transfer_status`."""
        params = {
            "transferId": self.transfer_uuid(t.transfer_id),
            "coin": t.asset,
            "amount": format(t.amount, "f"),
            "fromMemberId": int(t.from_uid) if t.from_uid.isdigit() else t.from_uid,
            "toMemberId": int(t.to_uid) if t.to_uid.isdigit() else t.to_uid,
            "fromAccountType": t.from_type,
            "toAccountType": t.to_type,
        }
        try:
            raw = await self._api("privatePostV5AssetTransferUniversalTransfer")(params)
        except BybitHttpError as e:
            if e.status >= 500 or e.code in errors.UNKNOWN_CODES | errors.RATE_CODES:
                return VenueTransferResult(status="UNKNOWN", reason="SERVER_ERROR", message=e.msg)
            reason = "INSUFFICIENT_FUNDS" if e.code == 131212 else "VENUE_REJECTED"
            if e.code in errors.AUTH_CODES:
                reason = "AUTH"
            return VenueTransferResult(
                status="REFUSED", reason=reason, message=f"{e.code}: {e.msg}"
            )
        except (TimeoutError, ccxt.RequestTimeout) as e:
            return VenueTransferResult(status="UNKNOWN", reason="TIMEOUT", message=str(e))
        except ccxt.NetworkError as e:
            return VenueTransferResult(status="UNKNOWN", reason="DISCONNECTED", message=str(e))
        except ccxt.BaseError as e:  # built, never sent
            return VenueTransferResult(status="REFUSED", reason="INVALID_REQUEST", message=str(e))
        result = (raw or {}).get("result") or {}
        return VenueTransferResult(
            status="DONE", venue_transfer_id=str(result.get("transferId") or params["transferId"])
        )

    async def transfer_status(self, t: VenueTransfer, since_ms: int) -> VenueTransferResult:
        """What became of transfer ``t``: ``GET /v5/asset/transfer/query-universal-transfer-list``
        by its ``transferId``. ``NOT_FOUND`` when the venue has no such transfer (or says
        ``FAILED``); raises :class:`~atlas_oms.core.ports.VenueQueryFailed` when it cannot tell."""
        tid = self.transfer_uuid(t.transfer_id)
        raw = await self._get(
            "privateGetV5AssetTransferQueryUniversalTransferList",
            {"transferId": tid, "startTime": since_ms, "endTime": since_ms + 7 * 86_400_000 - 1},
        )
        for row in raw.get("list") or ():
            if str(row.get("transferId")) != tid:
                continue
            status = str(row.get("status", "")).upper()
            if status == "SUCCESS":
                return VenueTransferResult(status="DONE", venue_transfer_id=tid)
            if status == "FAILED":
                return VenueTransferResult(status="NOT_FOUND", message="the venue says FAILED")
            return VenueTransferResult(status="UNKNOWN", message=f"the venue says {status}")
        return VenueTransferResult(status="NOT_FOUND")

    # ------------------------------------------------------------------ symbols
    def venue_symbol(self, symbol: str) -> str:
        known = self._venue_symbols.get(symbol)
        return known or symbol.split(":")[0].replace("/", "")

    # ------------------------------------------------------------------ REST plumbing
    def _api(self, name: str) -> Callable[[dict[str, Any]], Awaitable[Any]]:
        method: Callable[[dict[str, Any]], Awaitable[Any]] = getattr(self._client, name)
        return method

    async def _write(
        self, action: Action, name: str, params: dict[str, Any]
    ) -> tuple[Any, Refused | Unknown | None]:
        try:
            raw = await self._api(name)(params)
            return (raw or {}).get("result") or {}, None
        except BybitHttpError as e:
            return None, errors.classify_write(
                action, Failure.ANSWERED, status=e.status, code=e.code, msg=e.msg
            )
        except (TimeoutError, ccxt.RequestTimeout) as e:
            return None, errors.classify_write(action, Failure.TIMEOUT, msg=str(e))
        except ccxt.NetworkError as e:
            return None, errors.classify_write(action, Failure.DISCONNECTED, msg=str(e))
        except ccxt.BaseError as e:
            return None, errors.classify_write(action, Failure.NOT_SENT, msg=str(e))
        except Exception as e:
            return None, Unknown(reason=errors.SERVER_ERROR, message=f"{type(e).__name__}: {e}")

    async def _get(self, name: str, params: dict[str, Any]) -> Any:
        try:
            raw = await self._api(name)(params)
        except BybitHttpError as e:
            raise errors.classify_read(
                Failure.ANSWERED, status=e.status, code=e.code, msg=e.msg
            ) from e
        except (TimeoutError, ccxt.RequestTimeout) as e:
            raise errors.classify_read(Failure.TIMEOUT, msg=str(e)) from e
        except ccxt.NetworkError as e:
            raise errors.classify_read(Failure.DISCONNECTED, msg=str(e)) from e
        except ccxt.BaseError as e:
            raise errors.classify_read(Failure.NOT_SENT, msg=str(e)) from e
        return (raw or {}).get("result") or {}

    # ------------------------------------------------------------------ commands
    def _position_idx(self, order: PlaceOrder) -> int:
        return p.SIDE_IDX.get(order.position_side or PositionSide.BOTH, 0)

    def _order_params(self, order: PlaceOrder) -> dict[str, Any] | Refused:
        params: dict[str, Any] = {
            "category": self.category,
            "symbol": self.venue_symbol(order.symbol),
            "side": "Buy" if order.side.value == "BUY" else "Sell",
            "qty": num(order.qty),
            "orderLinkId": order.client_order_id,
        }
        if order.price is None and order.protection_price is None:
            if order.post_only:
                return Refused(
                    reason=errors.INVALID_REQUEST,
                    code="",
                    message="a post-only order needs a limit price",
                )
            params["orderType"] = "Market"
            if self.category == "spot":
                params["marketUnit"] = "baseCoin"  # spot market buys count the quote otherwise
        else:
            price = order.price if order.price is not None else order.protection_price
            assert price is not None
            params["orderType"] = "Limit"
            params["price"] = num(price)
            tif = TimeInForce.IOC if order.price is None else order.tif
            if order.post_only:
                if tif is not TimeInForce.GTC:
                    return Refused(
                        reason=errors.INVALID_REQUEST,
                        code="",
                        message=f"a post-only order rests on the book: it cannot be {tif}",
                    )
                params["timeInForce"] = "PostOnly"
            else:
                params["timeInForce"] = tif.value
        if self.category == "linear":
            params["positionIdx"] = self._position_idx(order)
            if order.reduce_only:
                params["reduceOnly"] = True
        return params

    async def place(self, order: PlaceOrder) -> Outcome:
        """``POST /v5/order/create`` under Atlas's ``orderLinkId``. Bybit answers with the ids
        only: the order's state comes from the stream (or a query)."""
        if order.tif in (TimeInForce.GTD, TimeInForce.DAY):
            return Refused(
                reason=errors.UNSUPPORTED_ORDER,
                code="",
                message=f"Bybit takes GTC, IOC, FOK and PostOnly orders; {order.tif} is not offered",
            )
        params = self._order_params(order)
        if isinstance(params, Refused):
            return params
        raw, failed = await self._write(Action.PLACE, "privatePostV5OrderCreate", params)
        if failed is not None:
            return failed
        self._traded.add(order.symbol)
        return Acknowledged(venue_order_id=str(raw.get("orderId") or "") or None)

    async def cancel(self, order: CancelOrder) -> Outcome:
        """``POST /v5/order/cancel`` by ``orderLinkId``. "Order does not exist" (``110001``,
        ``170213``) is a refusal with reason UNKNOWN_ORDER: the gateway queries the order."""
        params = {
            "category": self.category,
            "symbol": self.venue_symbol(order.symbol),
            "orderLinkId": order.client_order_id,
        }
        raw, failed = await self._write(Action.CANCEL, "privatePostV5OrderCancel", params)
        if failed is not None:
            return failed
        return Acknowledged(venue_order_id=str(raw.get("orderId") or "") or None)

    async def amend(self, order: AmendOrder) -> Outcome:
        """``POST /v5/order/amend`` by ``orderLinkId``: new total quantity and/or price."""
        params: dict[str, Any] = {
            "category": self.category,
            "symbol": self.venue_symbol(order.symbol),
            "orderLinkId": order.client_order_id,
            "qty": num(order.qty),
        }
        if order.price is not None:
            params["price"] = num(order.price)
        raw, failed = await self._write(Action.AMEND, "privatePostV5OrderAmend", params)
        if failed is not None:
            return failed
        return Acknowledged(venue_order_id=str(raw.get("orderId") or "") or None)

    # ------------------------------------------------------------------ queries
    async def instruments(self) -> list[VenueInstrument]:
        raw = await self._get("publicGetV5MarketInstrumentsInfo", {"category": self.category})
        found = p.parse_instruments(raw, self.venue, self.category)
        self._ctx.learn(found)
        for vi in found:
            self._venue_symbols[vi.instrument.symbol] = vi.venue_symbol
        if not self._markets_loaded:
            with contextlib.suppress(Exception):
                rows = [dict(r, category=self.category) for r in raw.get("list") or ()]
                self._client.set_markets(self._client.parse_markets(rows))
                self._markets_loaded = True
        return found

    async def server_time(self) -> int:
        raw = await self._get("publicGetV5MarketTime", {})
        return int(raw.get("timeNano") or 0) or int(raw.get("timeSecond") or 0) * 1_000_000_000

    def _scope(self) -> dict[str, Any]:
        params: dict[str, Any] = {"category": self.category}
        if self.category == "linear":
            params["settleCoin"] = "USDT"
        return params

    async def _pages(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        params = dict(params, limit=PAGE if "execution" in name.lower() else 50)
        while True:
            raw = await self._get(name, params)
            out.extend(raw.get("list") or ())
            cursor = raw.get("nextPageCursor") or ""
            if not cursor or not raw.get("list"):
                return out
            params = dict(params, cursor=cursor)

    async def open_orders(self) -> list[VenueOrder]:
        rows = await self._pages("privateGetV5OrderRealtime", dict(self._scope(), openOnly=0))
        return [p.parse_order(r, self._ctx) for r in rows]

    async def order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> VenueOrder | None:
        """By ``orderLinkId`` (or ``orderId``): ``/v5/order/realtime`` first (open orders and the
        last 500 closed), then ``/v5/order/history`` (every status). None when neither knows it."""
        params: dict[str, Any] = {"category": self.category, "symbol": self.venue_symbol(symbol)}
        if client_order_id:
            params["orderLinkId"] = client_order_id
        elif venue_order_id:
            params["orderId"] = venue_order_id
        else:
            raise ValueError("order() needs a client or a venue order id")
        for name in ("privateGetV5OrderRealtime", "privateGetV5OrderHistory"):
            try:
                raw = await self._get(name, params)
            except VenueQueryFailed as e:
                if errors.is_not_found(code=int(e.code) if e.code.isdigit() else None):
                    continue
                raise
            rows = raw.get("list") or ()
            if rows:
                return p.parse_order(rows[0], self._ctx)
        return None

    async def fills(self, since_ts: int, symbol: str | None = None) -> list[VenueFill]:
        """Trade executions since ``since_ts`` from ``/v5/execution/list`` (one 7-day window:
        Bybit refuses longer ones). Rows carry ``orderLinkId``: no extra order queries."""
        now_ms = int(self._client.milliseconds())
        params = self._scope()
        params["startTime"] = max(since_ts // 1_000_000, now_ms - WEEK_MS + 60_000)
        if symbol:
            params["symbol"] = self.venue_symbol(symbol)
            params.pop("settleCoin", None)
        rows = await self._pages("privateGetV5ExecutionList", params)
        return [p.parse_execution(r, self._ctx) for r in rows if p.is_trade(r)]

    async def balances(self) -> list[VenueBalance]:
        raw = await self._get("privateGetV5AccountWalletBalance", {"accountType": "UNIFIED"})
        return p.parse_wallet(raw.get("list") or ())

    async def positions(self) -> list[VenuePosition]:
        return []

    # ------------------------------------------------------------------ the private stream
    def _put(self, fact: VenueFact) -> None:
        if self._facts is not None:
            self._facts.put_nowait(fact)

    def _now_ns(self) -> int:
        return int(self._client.milliseconds()) * 1_000_000

    def _gap(self, reason: str) -> None:
        self._put(
            StreamGap(
                venue=self.venue,
                account_id=self.account_id,
                ts=self._now_ns(),
                reason=reason,
                since_ts=self._last_ts,
            )
        )

    def _stream_lost(self, reason: str) -> None:
        if self._stream_up:
            self._stream_up = False
            self._gap(reason)

    def _on_ws_connection(self, url: str, connected: bool) -> None:
        if url == self._private_url and not connected:
            self._stream_lost("DISCONNECTED")

    def _on_ws_message(self, url: str, message: Any) -> bool:
        """True when the message was translated here (ccxt's caches never see it)."""
        if not isinstance(message, dict):
            return False
        if url != self._private_url:
            return self._on_public(message)
        topic = str(message.get("topic") or "")
        if not topic:
            subscribed = message.get("op") == "subscribe" and message.get("success")
            if subscribed and self._facts is not None and not self._stream_up:
                self._stream_up = True
                self._gap("STARTED")
            return False
        kind = topic.split(".")[0]
        if kind not in PRIVATE_TOPICS:
            return False
        if self._facts is None:
            return True
        ts = p.ms_to_ns(message.get("creationTime")) or self._now_ns()
        self._last_ts = max(self._last_ts, ts)
        rows = [r for r in message.get("data") or () if isinstance(r, dict)]
        mine = [r for r in rows if r.get("category", self.category) == self.category]
        if kind == "order":
            for row in mine:
                self._put(p.order_update(row, self._ctx))
        elif kind == "execution":
            for row in mine:
                # Keyed by execId and orderId: a self-trade's two sides share the execId.
                exec_id = str(row.get("execId") or "")
                key = f"{exec_id}:{row.get('orderId') or ''}" if exec_id else ""
                if not p.is_trade(row) or self._seen(key):
                    continue
                self._put(p.execution_update(row, self._ctx))
        elif kind == "wallet":
            self._put(p.wallet_update(message, self._ctx, ts))
        elif kind == "position" and self.category == "linear":
            update = p.position_update(message, self._ctx, ts)
            if update.positions:
                self._put(update)
        return True

    def _seen(self, exec_id: str) -> bool:
        """Deduplicate executions by ``execId`` (a repeated push, a cancel racing a fill)."""
        if not exec_id:
            return False
        if exec_id in self._execs:
            return True
        self._execs[exec_id] = None
        while len(self._execs) > EXEC_MEMORY:
            self._execs.popitem(last=False)
        return False

    def _topics(self) -> list[str]:
        topics = ["order", "execution", "wallet"]
        if self.category == "linear":
            topics.append("position")
        return topics

    async def _subscribe(self) -> None:
        url = self._private_url
        await self._client.authenticate(url)
        await self._client.watch_topics(url, [f"atlas:{self.category}"], self._topics())

    async def _keep_subscribed(self) -> None:
        await keep_watching(self._subscribe, self, lambda: self._stream_lost("DISCONNECTED"))

    def _private_ws(self) -> Any:
        return (getattr(self._client, "clients", None) or {}).get(self._private_url)

    async def facts(self) -> AsyncIterator[VenueFact]:
        queue: asyncio.Queue[VenueFact] = asyncio.Queue()
        self._facts = queue
        self._stream_up = False
        if not self._markets_loaded:
            with contextlib.suppress(VenueQueryFailed):
                await self.instruments()
        watcher = asyncio.create_task(self._keep_subscribed())
        last_seen = None
        try:
            while True:
                try:
                    if queue.empty():
                        async with asyncio.timeout(self.heartbeat_s):
                            fact = await queue.get()
                    else:
                        fact = queue.get_nowait()
                except TimeoutError:
                    ws = self._private_ws()
                    seen = getattr(ws, "lastPong", None)
                    if self._stream_up and seen is not None and seen != last_seen:
                        last_seen = seen
                        yield StreamAlive(
                            venue=self.venue, account_id=self.account_id, ts=self._now_ns()
                        )
                    continue
                yield fact
        finally:
            self._facts = None
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher

    # ------------------------------------------------------------------ public market data
    def _on_public(self, message: dict[str, Any]) -> bool:
        return False

    async def books(self, symbols: list[str], depth: int) -> AsyncIterator[VenueBook]:
        """The top ``depth`` levels of ``symbols`` after every change, from the public
        ``orderbook.{depth}.{symbol}`` topic (snapshot, then deltas; a gap in ``u`` or a
        reconnection brings a fresh snapshot: :mod:`.books`)."""
        async for book in BybitBooks(self, symbols, depth, self._now_ns).run():
            yield book

    async def prices(self, symbols: list[str]) -> AsyncIterator[PriceTick]:
        """Best bid and ask (with sizes), last price and, for linear, the mark price of
        ``symbols`` from the public ``GET /v5/market/tickers`` (no key), polled every
        :attr:`price_poll_s` (the gateway sends only changes on). A failed poll is skipped: the
        next one tries again. Bybit's public WebSocket ``tickers`` topic would push instead;
        polling keeps one code path for the fake and the venue (documented)."""
        if not self._markets_loaded:
            with contextlib.suppress(VenueQueryFailed):
                await self.instruments()
        by_venue = {self.venue_symbol(s): s for s in symbols}
        while True:
            for venue_symbol, symbol in by_venue.items():
                try:
                    raw = await self._get(
                        "publicGetV5MarketTickers",
                        {"category": self.category, "symbol": venue_symbol},
                    )
                except Exception:  # a failed poll: the next one tries again
                    continue
                for row in raw.get("list") or ():
                    if isinstance(row, dict) and row.get("symbol") == venue_symbol:
                        tick = p.parse_ticker(row, symbol, self._now_ns())
                        if tick is not None:
                            yield tick
            await asyncio.sleep(self.price_poll_s)


class BybitSpotAdapter(BybitAdapter):
    """Bybit spot (venue ``bybit``) in the Unified Trading Account."""

    venue = "bybit"
    category = "spot"


class BybitLinearAdapter(BybitAdapter):
    """Bybit USDT linear perpetuals (venue ``bybitlinear``) in the Unified Trading Account."""

    venue = "bybitlinear"
    category = "linear"

    def _position_idx(self, order: PlaceOrder) -> int:
        if self.settings.hedge_mode and order.position_side in (None, PositionSide.BOTH):
            return 0  # the venue refuses it: Atlas's one-way account on a hedge-mode account
        return p.SIDE_IDX.get(order.position_side or PositionSide.BOTH, 0)

    async def positions(self) -> list[VenuePosition]:
        rows = await self._pages("privateGetV5PositionList", self._scope())
        return p.parse_positions(rows, self._ctx)

    async def account_settings(self) -> VenueAccountSettings:
        """Bybit has no "get position mode": the legs ``/v5/position/list?symbol=`` lists for a
        symbol tell it (``positionIdx`` 1 and 2 in hedge mode, 0 one-way)."""
        symbols = sorted(self._traded) or sorted(self._venue_symbols)[:1]
        hedge = False
        for symbol in symbols:
            raw = await self._get(
                "privateGetV5PositionList",
                {"category": "linear", "symbol": self.venue_symbol(symbol)},
            )
            idx = {int(r.get("positionIdx") or 0) for r in raw.get("list") or ()}
            hedge = hedge or bool(idx & {1, 2})
        self.settings = VenueAccountSettings(hedge_mode=hedge)
        return self.settings
