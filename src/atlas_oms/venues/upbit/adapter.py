"""Upbit (KRW spot markets) behind Atlas's venue ports, over ccxt 4.5.90 ``upbit``.

REST goes through ccxt's implicit endpoints (``privatePostOrders``, ``privateDeleteOrder``,
``privateGetOrder``...) so the answer is Upbit's own JSON, translated by :mod:`.parse`; errors
are classified by :mod:`.errors` from the HTTP status and Upbit's ``error.name``.

Upbit's quirks, handled here:

- the client order id is ``identifier`` (unique among all of the account's orders, forever);
  cancel and query by it call the raw endpoint ``privateDeleteOrder({'identifier': ...})``:
  ccxt's ``cancel_order(None, ..., {'identifier': ...})`` sends ``uuid=None``;
- no account-fills endpoint: :meth:`fills` reads the ``trades[]`` of each order with an executed
  volume (open, and the last closed ones);
- ``cancel`` with ``executed_volume > 0`` is a partial fill then a cancel (:mod:`.parse`);
- ``Remaining-Req`` feeds the limiter (:mod:`.client`);
- the KRW tick depends on the price band (:mod:`.ticks`): an off-tick limit price is refused
  before sending (``FILTER_PRICE_UNIT``), never silently moved;
- no amend: Upbit's only change is ``cancel_and_new``, which needs a new identifier (a new
  Atlas order): :meth:`amend` refuses ``MODIFY_NOT_SUPPORTED``;
- a market buy is by KRW amount (``ord_type: price``): a market buy by quantity is sent as a
  limit IOC at its protection price, and refused without one.

The private stream is ccxt.pro's (``myOrder`` + ``myAsset`` on ``/websocket/v1/private``, JWT in
the handshake); raw messages are captured before ccxt's caches. Upbit does not acknowledge a
subscription, so the stream counts as started ``subscribe_settle_s`` after the connection opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import ccxt

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.enums import Side, TimeInForce
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
from atlas_oms.venues.binance.errors import (
    FILTER_PREFIX,
    MODIFY_NOT_SUPPORTED,
    UNSUPPORTED_ORDER,
    Failure,
)
from atlas_oms.venues.book_ws import stream_books
from atlas_oms.venues.rewatch import keep_watching
from atlas_oms.venues.upbit import books as upbit_books
from atlas_oms.venues.upbit import errors
from atlas_oms.venues.upbit import parse as p
from atlas_oms.venues.upbit.client import UpbitHttpError, build_client
from atlas_oms.venues.upbit.ticks import krw_tick, on_tick

REST_URL = "https://api.upbit.com"
WS_URL = "wss://api.upbit.com/websocket/v1"
#: Closed orders read for fills (Upbit's page limit is 1000).
CLOSED_PAGE = 100


def num(value: Decimal) -> str:
    return format(value, "f")


class UpbitAdapter:
    venue = "upbit"
    #: How often :meth:`prices` reads the public ticker (seconds).
    price_poll_s: float = 1.0

    def __init__(
        self,
        *,
        account_id: str,
        api_key: str,
        secret: str,
        decode_client_id: Callable[[str], int | None],
        rest_url: str = REST_URL,
        ws_url: str = WS_URL,
        timeout_ms: int = 10_000,
        heartbeat_s: float = 30.0,
        reconnect_min_s: float = 0.2,
        reconnect_max_s: float = 10.0,
        subscribe_settle_s: float = 0.05,
    ) -> None:
        self.account_id = account_id
        self.before_request: Callable[[int, bool], Awaitable[None]] | None = None
        self.on_response: Callable[[int, Mapping[str, str]], None] | None = None
        self.heartbeat_s = heartbeat_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.subscribe_settle_s = subscribe_settle_s
        self._ctx = p.Context(self.venue, account_id, decode_client_id)
        self._ws_url = ws_url.rstrip("/")
        self._client = build_client(
            rest_url, ws_url, api_key=api_key, secret=secret, timeout_ms=timeout_ms
        )
        self._client.atlas_before_request = self._before_request
        self._client.atlas_on_response = self._on_response
        self._client.atlas_on_message = self._on_ws_message
        self._client.atlas_on_connection = self._on_ws_connection
        self._facts: asyncio.Queue[VenueFact] | None = None
        self._stream_up = False
        self._last_ts = 0
        self._markets_loaded = False
        self._clock_offset_ns = 0

    # ------------------------------------------------------------------ hooks and lifecycle
    async def _before_request(self, weight: int, is_order: bool) -> None:
        if self.before_request is not None:
            await self.before_request(weight, is_order)

    def _on_response(self, status: int, headers: Mapping[str, str]) -> None:
        if self.on_response is not None:
            self.on_response(status, headers)

    def set_clock_offset(self, offset_ns: int) -> None:
        """Upbit's JWT carries no timestamp (a nonce only): nothing to sign with; kept for
        :meth:`_now_ns`."""
        self._clock_offset_ns = offset_ns

    def rotate_credentials(self, api_key: str, secret: str, **_: Any) -> None:
        """Sign (JWT) with a new key from the next request on; the private stream's handshake
        carried a JWT of the old key: forget the cached token and drop the stream, so it
        reconnects with a new one (a gap, which the gateway reconciles)."""
        client = self._client
        client.apiKey = api_key
        client.secret = secret
        ws_options = client.options.get("ws")
        if isinstance(ws_options, dict):
            ws_options.pop("token", None)
        self.drop_private_stream("KEY_ROTATED")

    async def start(self) -> None:
        # After a failed connection the gateway closes the adapter and starts it again: reopen
        # the ccxt client, which otherwise refuses every REST call once closed.
        self._client.open()
        await self.instruments()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._client.close()

    async def account_settings(self) -> VenueAccountSettings:
        return VenueAccountSettings()

    # ------------------------------------------------------------------ REST plumbing
    def _api(self, name: str) -> Callable[[dict[str, Any]], Awaitable[Any]]:
        method: Callable[[dict[str, Any]], Awaitable[Any]] = getattr(self._client, name)
        return method

    async def _write(
        self, call: Callable[[], Awaitable[Any]]
    ) -> tuple[Any, Refused | Unknown | None]:
        try:
            return await call(), None
        except UpbitHttpError as e:
            return None, errors.classify_write(
                Failure.ANSWERED, status=e.status, name=e.name, msg=e.message
            )
        except (TimeoutError, ccxt.RequestTimeout) as e:
            return None, errors.classify_write(Failure.TIMEOUT, msg=str(e))
        except ccxt.NetworkError as e:
            return None, errors.classify_write(Failure.DISCONNECTED, msg=str(e))
        except ccxt.BaseError as e:
            return None, errors.classify_write(Failure.NOT_SENT, msg=str(e))
        except Exception as e:
            return None, Unknown(reason="SERVER_ERROR", message=f"{type(e).__name__}: {e}")

    async def _get(self, name: str, params: dict[str, Any], *, not_found_ok: bool = False) -> Any:
        try:
            return await self._api(name)(params)
        except UpbitHttpError as e:
            if not_found_ok and errors.is_not_found(e.status, e.name):
                return None
            raise errors.classify_read(
                Failure.ANSWERED, status=e.status, name=e.name, msg=e.message
            ) from e
        except (TimeoutError, ccxt.RequestTimeout) as e:
            raise errors.classify_read(Failure.TIMEOUT, msg=str(e)) from e
        except ccxt.NetworkError as e:
            raise errors.classify_read(Failure.DISCONNECTED, msg=str(e)) from e
        except ccxt.BaseError as e:
            raise errors.classify_read(Failure.NOT_SENT, msg=str(e)) from e

    # ------------------------------------------------------------------ commands
    def order_params(self, order: PlaceOrder) -> dict[str, Any] | Refused:
        """Upbit's ``POST /v1/orders`` body for ``order`` (or why it cannot be sent)."""
        params: dict[str, Any] = {
            "market": p.market_of(order.symbol),
            "side": "bid" if order.side is Side.BUY else "ask",
        }
        price = order.price if order.price is not None else order.protection_price
        if price is None:
            if order.side is Side.BUY:
                return Refused(
                    reason=UNSUPPORTED_ORDER,
                    code="",
                    message="Upbit buys at market by KRW amount (ord_type price), not by "
                    "quantity: give a limit or a protection price",
                )
            params.update(ord_type="market", volume=num(order.qty))
        else:
            if not on_tick(price):
                return Refused(
                    reason=FILTER_PREFIX + "PRICE_UNIT",
                    code="",
                    message=f"price {price} is not a multiple of Upbit's KRW price unit "
                    f"{krw_tick(price)} for that band",
                )
            params.update(ord_type="limit", price=num(price), volume=num(order.qty))
            tif = TimeInForce.IOC if order.price is None else order.tif
            if order.post_only:
                params["time_in_force"] = "post_only"
            elif tif in (TimeInForce.IOC, TimeInForce.FOK):
                params["time_in_force"] = tif.value.lower()
            elif tif is not TimeInForce.GTC:
                return Refused(
                    reason=UNSUPPORTED_ORDER,
                    code="",
                    message=f"Upbit takes GTC, IOC, FOK; not {tif}",
                )
        params["identifier"] = order.client_order_id
        return params

    async def place(self, order: PlaceOrder) -> Outcome:
        params = self.order_params(order)
        if isinstance(params, Refused):
            return params
        raw, failed = await self._write(lambda: self._api("privatePostOrders")(params))
        if failed is not None:
            return failed
        placed = p.parse_order(raw, self._ctx)
        return Acknowledged(venue_order_id=placed.venue_order_id, order=placed)

    async def cancel(self, order: CancelOrder) -> Outcome:
        """``DELETE /v1/order?identifier=`` (the raw endpoint: ccxt's unified cancel would send
        ``uuid=None``). Upbit answers with the order as it was (``state: wait``): the cancel is
        taken, and the gateway reads the order's final state by query."""
        params = {"identifier": order.client_order_id}
        raw, failed = await self._write(lambda: self._api("privateDeleteOrder")(params))
        if failed is not None:
            return failed
        return Acknowledged(venue_order_id=str(raw.get("uuid") or "") or order.venue_order_id)

    async def amend(self, order: AmendOrder) -> Outcome:
        return Refused(
            reason=MODIFY_NOT_SUPPORTED,
            code="",
            message="Upbit cannot change a working order in place (cancel_and_new needs a new "
            "identifier: cancel and place a new order)",
        )

    # ------------------------------------------------------------------ queries
    async def instruments(self) -> list[VenueInstrument]:
        rows = await self._get("publicGetMarketAll", {})
        found = p.parse_markets(rows or [], self.venue)
        for vi in found:
            self._ctx.symbols[vi.venue_symbol] = vi.instrument.symbol
        if not self._markets_loaded:
            with contextlib.suppress(Exception):
                self._client.set_markets(self._client.parse_markets(rows or []))
                self._markets_loaded = True
        return found

    async def server_time(self) -> int:
        """Upbit publishes no server-time endpoint and its JWT has no timestamp: the local
        clock (offset 0) is what matters."""
        return time.time_ns()

    async def open_orders(self) -> list[VenueOrder]:
        rows = await self._get("privateGetOrdersOpen", {"limit": 100})
        return [p.parse_order(r, self._ctx) for r in rows or ()]

    async def _order_raw(
        self, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> Any:
        if client_order_id:
            params = {"identifier": client_order_id}
        elif venue_order_id:
            params = {"uuid": venue_order_id}
        else:
            raise ValueError("order() needs a client or a venue order id")
        return await self._get("privateGetOrder", params, not_found_ok=True)

    async def order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> VenueOrder | None:
        raw = await self._order_raw(client_order_id=client_order_id, venue_order_id=venue_order_id)
        return None if raw is None else p.parse_order(raw, self._ctx)

    async def fills(self, since_ts: int, symbol: str | None = None) -> list[VenueFill]:
        """Upbit has no account-fills endpoint: the fills are the ``trades[]`` of each order
        that executed something (the open ones and the last :data:`CLOSED_PAGE` closed ones),
        one ``GET /v1/order`` each; only trades at or after ``since_ts``."""
        params: dict[str, Any] = {"limit": CLOSED_PAGE}
        if symbol:
            params["market"] = p.market_of(symbol)
        rows = list(await self._get("privateGetOrdersOpen", dict(params)) or ())
        rows += list(await self._get("privateGetOrdersClosed", dict(params)) or ())
        out: list[VenueFill] = []
        seen: set[str] = set()
        for row in rows:
            uuid = str(row.get("uuid") or "")
            if not uuid or uuid in seen or p.dec(row.get("executed_volume")) <= 0:
                continue
            seen.add(uuid)
            raw = await self._order_raw(venue_order_id=uuid)
            if raw is None:
                continue
            order = p.parse_order(raw, self._ctx)
            out += [f for f in p.parse_order_trades(raw, order) if f.ts >= since_ts - 1_000_000_000]
        return out

    async def balances(self) -> list[VenueBalance]:
        return p.parse_accounts(await self._get("privateGetAccounts", {}) or [])

    async def positions(self) -> list[VenuePosition]:
        return []

    # ------------------------------------------------------------------ the private stream
    @staticmethod
    def _is_private(url: str) -> bool:
        return url.rstrip("/").endswith("/private")

    def _now_ns(self) -> int:
        return time.time_ns() + self._clock_offset_ns

    def _put(self, fact: VenueFact) -> None:
        if self._facts is not None:
            self._facts.put_nowait(fact)

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
        if not self._is_private(url):
            return
        if connected:
            loop = asyncio.get_running_loop()
            loop.call_later(self.subscribe_settle_s, self._stream_started)
        else:
            self._stream_lost("DISCONNECTED")

    def _stream_started(self) -> None:
        if not self._stream_up and self._facts is not None:
            self._stream_up = True
            self._gap("STARTED")

    def _on_ws_message(self, url: str, message: Any) -> None:
        if self._facts is None or not isinstance(message, dict) or not self._is_private(url):
            return
        kind = message.get("type")
        if kind == "myOrder":
            update = p.parse_my_order(message, self._ctx)
            self._last_ts = max(self._last_ts, update.ts)
            self._put(update)
        elif kind == "myAsset":
            self._put(p.parse_my_asset(message, self._ctx))

    async def _keep_subscribed(self, watch: Callable[[], Awaitable[Any]]) -> None:
        await keep_watching(watch, self, lambda: self._stream_lost("DISCONNECTED"))

    def _private_ws(self) -> Any:
        for url, ws in (getattr(self._client, "clients", None) or {}).items():
            if self._is_private(url):
                return ws
        return None

    def drop_private_stream(self, reason: str = "DISCONNECTED") -> None:
        ws = self._private_ws()
        self._stream_lost(reason)
        if ws is not None:
            ws.on_error(ccxt.NetworkError(f"upbit private stream: {reason}"))

    async def facts(self) -> AsyncIterator[VenueFact]:
        queue: asyncio.Queue[VenueFact] = asyncio.Queue()
        self._facts = queue
        self._stream_up = False
        if not self._markets_loaded:
            with contextlib.suppress(VenueQueryFailed):
                await self.instruments()
        watchers = [
            asyncio.create_task(self._keep_subscribed(lambda: self._client.watch_orders())),
            asyncio.create_task(self._keep_subscribed(lambda: self._client.watch_balance())),
        ]
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
                    seen = getattr(ws, "last_message_at", None) or getattr(ws, "lastPong", None)
                    if self._stream_up and seen is not None and seen != last_seen:
                        last_seen = seen
                        yield StreamAlive(
                            venue=self.venue, account_id=self.account_id, ts=self._now_ns()
                        )
                    continue
                yield fact
        finally:
            self._facts = None
            for task in watchers:
                task.cancel()
            for task in watchers:
                with contextlib.suppress(BaseException):
                    await task

    # ------------------------------------------------------------------ public market data
    async def prices(self, symbols: list[str]) -> AsyncIterator[PriceTick]:
        """The last trade price of ``symbols`` from Upbit's public ``GET /v1/ticker`` (no key),
        polled every :attr:`price_poll_s` (the gateway sends only changes on). A failed poll
        is skipped: the next one tries again. Upbit's public WebSocket ``ticker`` would push
        instead; polling keeps one code path for the fake and the venue (documented)."""
        by_market = {p.market_of(s): s for s in symbols}
        params = {"markets": ",".join(by_market)}
        seen: dict[str, tuple[Any, ...]] = {}  # symbol -> the last trade counted
        while True:
            try:
                rows = await self._get("publicGetTicker", dict(params)) or []
            except Exception:  # a failed poll: the next one tries again
                rows = []
            for row in rows:
                if not isinstance(row, dict) or row.get("trade_price") is None:
                    continue
                symbol = by_market.get(str(row.get("market")))
                if symbol is None:
                    continue
                yield p.parse_ticker(row, symbol, self._now_ns(), seen)
            await asyncio.sleep(self.price_poll_s)

    async def books(self, symbols: list[str], depth: int) -> AsyncIterator[VenueBook]:
        """The public WebSocket's ``orderbook`` of ``symbols`` (``venues/upbit/books.py``): each
        message is the market's whole top, so each is a book; a reconnect starts with the
        ``SNAPSHOT`` message."""
        markets = [p.market_of(s) for s in symbols]

        async def opened(ws: Any) -> list[VenueBook]:
            await ws.send_str(upbit_books.subscribe(markets, depth))
            return []

        def handle(message: Any) -> list[VenueBook]:
            return upbit_books.parse_orderbook(message, self._ctx, self.venue, depth)

        async for book in stream_books(
            self._ws_url,
            opened=opened,
            handle=handle,
            backoff=self,
            idle_s=30.0,
            ping="PING",
        ):
            yield book
