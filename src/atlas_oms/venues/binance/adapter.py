"""Binance spot (``binance``) and USDⓈ-M futures (``binanceusdm``) behind Atlas's venue ports.

One adapter serves one venue account. REST calls go through ccxt's *implicit* endpoint methods
(``privatePostOrder``, ``fapiPrivatePutOrder``…) so the answer is Binance's own JSON, translated
by :mod:`.parse`; ccxt's unified layer (which rounds amounts, injects its broker client id and
flattens statuses) is bypassed. Errors are classified by :mod:`.errors` from the HTTP status and
Binance's ``code``/``msg``. Commands never raise for venue outcomes; queries raise
:class:`~atlas_oms.core.ports.VenueQueryFailed`.

The private stream uses ccxt.pro for the connection, the authentication (spot: WS-API
``userDataStream.subscribe.signature``; USDⓈ-M: listenKey, kept alive by ccxt) and reconnection;
every raw message is captured before ccxt's caches (which coalesce rapid updates) and translated
here. Each (re)subscription first yields a :class:`StreamGap` (reason ``STARTED``) once the
stream is live, and each loss (``DISCONNECTED``, ``LISTEN_KEY_EXPIRED``, ``STREAM_TERMINATED``)
yields one as soon as it is seen; ``since_ts`` is the time of the last message before the gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import ccxt

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.enums import TimeInForce
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
from atlas_oms.venues.binance import errors
from atlas_oms.venues.binance import parse as p
from atlas_oms.venues.binance.books import BinanceBooks
from atlas_oms.venues.binance.client import BinanceHttpError, build_client, set_time_offset
from atlas_oms.venues.binance.endpoints import DEFAULTS, BinanceEndpoints
from atlas_oms.venues.binance.errors import Action, Failure
from atlas_oms.venues.rewatch import keep_watching

log = logging.getLogger("atlas.venues.binance")

#: How many orders' client ids (by venue order id) the adapter remembers for fills rows.
CLIENT_ID_MEMORY = 50_000
FILLS_PAGE = 1000


def num(value: Decimal) -> str:
    return format(value, "f")


class BinanceAdapter:
    venue: str = ""
    futures: bool = False

    def __init__(
        self,
        *,
        account_id: str,
        api_key: str,
        secret: str,
        decode_client_id: Callable[[str], int | None],
        endpoints: BinanceEndpoints | None = None,
        recv_window_ms: int = 5000,
        timeout_ms: int = 10_000,
        symbols: list[str] | None = None,
        heartbeat_s: float = 30.0,
        reconnect_min_s: float = 0.2,
        reconnect_max_s: float = 10.0,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.account_id = account_id
        self.endpoints = endpoints or DEFAULTS[self.venue]
        self.before_request: Callable[[int, bool], Awaitable[None]] | None = None
        self.on_response: Callable[[int, Mapping[str, str]], None] | None = None
        self.heartbeat_s = heartbeat_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.settings = VenueAccountSettings()
        self._ctx = p.Context(self.venue, account_id, decode_client_id)
        self._venue_symbols: dict[str, str] = {}
        #: Whether each loaded symbol takes native icebergs (exchangeInfo ``icebergAllowed``).
        self._iceberg_allowed: dict[str, bool] = {}
        self._traded: set[str] = set(symbols or ())
        self._client_ids: OrderedDict[str, str] = OrderedDict()
        #: The last price seen of each order (by client order id): a spot amend that keeps it
        #: is a quantity change, which spot can do.
        self._order_prices: OrderedDict[str, Decimal] = OrderedDict()
        self._client = build_client(
            self.venue,
            self.endpoints,
            api_key=api_key,
            secret=secret,
            recv_window_ms=recv_window_ms,
            timeout_ms=timeout_ms,
            options=options,
        )
        self._client.atlas_before_request = self._before_request
        self._client.atlas_on_response = self._on_response
        self._client.atlas_on_message = self._on_ws_message
        self._client.atlas_on_connection = self._on_ws_connection
        self._facts: asyncio.Queue[VenueFact] | None = None
        self._prices: asyncio.Queue[PriceTick] | None = None
        #: Symbols the book ticker stream has priced (the REST snapshot does not overwrite).
        self._booked: set[str] = set()
        #: Symbols the trade stream has priced.
        self._last_seen: set[str] = set()
        #: How often symbols no stream has priced yet are priced from the REST tickers (s).
        self.price_refresh_s = 30.0
        self._stream_up = False
        self._last_ts = 0
        self._markets_loaded = False

    # ------------------------------------------------------------------ hooks and lifecycle
    async def _before_request(self, weight: int, is_order: bool) -> None:
        if self.before_request is not None:
            await self.before_request(weight, is_order)

    def _on_response(self, status: int, headers: Mapping[str, str]) -> None:
        if self.on_response is not None:
            self.on_response(status, headers)

    def set_clock_offset(self, offset_ns: int) -> None:
        set_time_offset(self._client, offset_ns)

    def rotate_credentials(self, api_key: str, secret: str, **_: Any) -> None:
        """Sign with a new key from the next request on (a passphrase, which Binance keys do
        not have, is ignored). The private stream belongs to the old
        key (a listenKey, a WS-API subscription signed with it): forget it and drop the
        connection, so the stream reconnects under the new key (a gap, which the gateway
        reconciles)."""
        client = self._client
        client.apiKey = api_key
        client.secret = secret
        for market in ("spot", "margin", "future", "linear", "delivery", "inverse"):
            options = client.options.get(market)
            if isinstance(options, dict):
                if "listenKey" in options:
                    options["listenKey"] = None
                if "lastAuthenticatedTime" in options:
                    options["lastAuthenticatedTime"] = 0
        for url in list(getattr(client, "clients", None) or {}):
            if self._is_private(url):
                self._reconnect(url, "KEY_ROTATED")

    async def start(self) -> None:
        """Load the instruments (also into ccxt, whose streams need its markets) and, for
        futures, read the account's position mode into :attr:`settings`."""
        # After a failed connection the gateway closes the adapter and starts it again: reopen
        # the ccxt client, which otherwise refuses every REST call once closed.
        self._client.open()
        await self.instruments()
        if self.futures:
            self.settings = await self.account_settings()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._client.close()

    async def account_settings(self) -> VenueAccountSettings:
        return VenueAccountSettings()

    # ------------------------------------------------------------------ symbols and ids
    def venue_symbol(self, symbol: str) -> str:
        """``BTC/USDT`` or ``BTC/USDT:USDT`` → ``BTCUSDT`` (from the instruments loaded, or by
        Binance's naming rule when they are not)."""
        known = self._venue_symbols.get(symbol)
        if known:
            return known
        return symbol.split(":")[0].replace("/", "")

    def _remember(self, order: VenueOrder) -> None:
        if order.client_order_id and order.venue_order_id:
            self._client_ids[order.venue_order_id] = order.client_order_id
            self._client_ids.move_to_end(order.venue_order_id)
            while len(self._client_ids) > CLIENT_ID_MEMORY:
                self._client_ids.popitem(last=False)
        if order.client_order_id and order.price:
            self._order_prices[order.client_order_id] = order.price
            self._order_prices.move_to_end(order.client_order_id)
            while len(self._order_prices) > CLIENT_ID_MEMORY:
                self._order_prices.popitem(last=False)
        self._traded.add(order.symbol)

    # ------------------------------------------------------------------ REST plumbing
    def _api(self, name: str) -> Callable[[dict[str, Any]], Awaitable[Any]]:
        method: Callable[[dict[str, Any]], Awaitable[Any]] = getattr(self._client, name)
        return method

    async def _write(
        self, action: Action, call: Callable[[], Awaitable[Any]]
    ) -> tuple[Any, Refused | Unknown | None]:
        try:
            return await call(), None
        except BinanceHttpError as e:
            return None, errors.classify_write(
                action, Failure.ANSWERED, status=e.status, code=e.code, msg=e.msg
            )
        except ccxt.RequestTimeout as e:
            return None, errors.classify_write(action, Failure.TIMEOUT, msg=str(e))
        except ccxt.NetworkError as e:
            return None, errors.classify_write(action, Failure.DISCONNECTED, msg=str(e))
        except ccxt.BaseError as e:
            # Raised by ccxt while building the request (missing credentials, bad argument):
            # nothing left the machine.
            return None, errors.classify_write(action, Failure.NOT_SENT, msg=str(e))
        except TimeoutError as e:
            return None, errors.classify_write(action, Failure.TIMEOUT, msg=str(e))
        except Exception as e:
            return None, Unknown(reason=errors.SERVER_ERROR, message=f"{type(e).__name__}: {e}")

    async def _read(self, call: Callable[[], Awaitable[Any]], *, not_found_ok: bool = False) -> Any:
        try:
            return await call()
        except BinanceHttpError as e:
            if not_found_ok and errors.is_not_found(code=e.code, msg=e.msg):
                return None
            raise errors.classify_read(
                Failure.ANSWERED,
                status=e.status,
                code=e.code,
                msg=e.msg,
                retry_after_s=e.retry_after_s,
            ) from e
        except (TimeoutError, ccxt.RequestTimeout) as e:
            raise errors.classify_read(Failure.TIMEOUT, msg=str(e)) from e
        except ccxt.NetworkError as e:
            raise errors.classify_read(Failure.DISCONNECTED, msg=str(e)) from e
        except ccxt.BaseError as e:
            raise errors.classify_read(Failure.NOT_SENT, msg=str(e)) from e

    # ------------------------------------------------------------------ commands
    def _order_params(self, order: PlaceOrder) -> dict[str, Any] | Refused:
        raise NotImplementedError

    async def place(self, order: PlaceOrder) -> Outcome:
        """Place one order under Atlas's client order id (ccxt never injects its own).

        A market order with a protection price is sent as a LIMIT IOC at that price: Binance
        has no native market-with-protection order, and an IOC limit executes like a market
        order up to the bound and cancels the rest."""
        if order.tif in (TimeInForce.GTD, TimeInForce.DAY):
            return Refused(
                reason=errors.UNSUPPORTED_ORDER,
                code="",
                message=f"{self.venue} takes GTC, IOC and FOK orders; {order.tif} is not offered",
            )
        params = self._order_params(order)
        if isinstance(params, Refused):
            return params
        name = "fapiPrivatePostOrder" if self.futures else "privatePostOrder"
        raw, failed = await self._write(Action.PLACE, lambda: self._api(name)(params))
        if failed is not None:
            return failed
        placed = p.parse_order(raw, self._ctx, futures=self.futures)
        fills = () if self.futures else p.parse_full_fills(raw, placed)
        self._remember(placed)
        return Acknowledged(venue_order_id=placed.venue_order_id, order=placed, fills=fills)

    def _limit_params(self, order: PlaceOrder) -> dict[str, Any] | Refused:
        params: dict[str, Any] = {
            "symbol": self.venue_symbol(order.symbol),
            "side": order.side.value,
            "quantity": num(order.qty),
            "newClientOrderId": order.client_order_id,
        }
        if order.price is None and order.protection_price is None:
            if order.post_only:
                return Refused(
                    reason=errors.INVALID_REQUEST,
                    code="",
                    message="a post-only order needs a limit price",
                )
            params["type"] = "MARKET"
            return params
        price = order.price if order.price is not None else order.protection_price
        assert price is not None
        params["type"] = "LIMIT"
        params["price"] = num(price)
        tif = TimeInForce.IOC if order.price is None else order.tif
        if order.post_only and tif is not TimeInForce.GTC:
            return Refused(
                reason=errors.INVALID_REQUEST,
                code="",
                message=f"a post-only order rests on the book: it cannot be {tif}",
            )
        params["timeInForce"] = tif.value
        return params

    async def cancel(self, order: CancelOrder) -> Outcome:
        """Cancel by ``origClientOrderId``. "Unknown order" (``-2011``) is a refusal with reason
        UNKNOWN_ORDER, never a cancel: the gateway queries the order to learn its state."""
        params = {
            "symbol": self.venue_symbol(order.symbol),
            "origClientOrderId": order.client_order_id,
        }
        name = "fapiPrivateDeleteOrder" if self.futures else "privateDeleteOrder"
        raw, failed = await self._write(Action.CANCEL, lambda: self._api(name)(params))
        if failed is not None:
            return failed
        if not self.futures:  # spot: ``clientOrderId`` is the cancel request's own id
            raw = dict(raw, clientOrderId=raw.get("origClientOrderId") or order.client_order_id)
        canceled = p.parse_order(raw, self._ctx, futures=self.futures)
        self._remember(canceled)
        return Acknowledged(venue_order_id=canceled.venue_order_id, order=canceled)

    async def amend(self, order: AmendOrder) -> Outcome:
        raise NotImplementedError

    # ------------------------------------------------------------------ queries
    async def _get(self, name: str, params: dict[str, Any], **kw: Any) -> Any:
        return await self._read(lambda: self._api(name)(params), **kw)

    async def instruments(self) -> list[VenueInstrument]:
        name = "fapiPublicGetExchangeInfo" if self.futures else "publicGetExchangeInfo"
        raw = await self._get(name, {})
        found = p.parse_exchange_info(raw, self.venue, futures=self.futures)
        self._ctx.learn(found)
        for vi in found:
            self._venue_symbols[vi.instrument.symbol] = vi.venue_symbol
            self._iceberg_allowed[vi.instrument.symbol] = vi.instrument.iceberg_allowed
        if not self._markets_loaded:
            # ccxt's streams need its markets; give it the same answer (no second request).
            with contextlib.suppress(Exception):
                self._client.set_markets(self._client.parse_markets(raw.get("symbols") or []))
                self._markets_loaded = True
        return found

    async def server_time(self) -> int:
        name = "fapiPublicGetTime" if self.futures else "publicGetTime"
        raw = await self._get(name, {})
        return p.ms_to_ns(raw.get("serverTime"))

    async def open_orders(self) -> list[VenueOrder]:
        name = "fapiPrivateGetOpenOrders" if self.futures else "privateGetOpenOrders"
        rows = await self._get(name, {})
        out = [p.parse_order(row, self._ctx, futures=self.futures) for row in rows or ()]
        for order in out:
            self._remember(order)
        return out

    async def order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> VenueOrder | None:
        params: dict[str, Any] = {"symbol": self.venue_symbol(symbol)}
        if client_order_id:
            params["origClientOrderId"] = client_order_id
        elif venue_order_id:
            params["orderId"] = venue_order_id
        else:
            raise ValueError("order() needs a client or a venue order id")
        name = "fapiPrivateGetOrder" if self.futures else "privateGetOrder"
        raw = await self._get(name, params, not_found_ok=True)
        if raw is None:
            return None
        found = p.parse_order(raw, self._ctx, futures=self.futures)
        self._remember(found)
        return found

    async def fills(self, since_ts: int, symbol: str | None = None) -> list[VenueFill]:
        """Executions since ``since_ts`` (ns). Binance lists trades per symbol only: without a
        symbol, every symbol this adapter traded or saw (plus the ``symbols`` it was given).
        Pages through ``fromId`` when a page is full. Rows carry no client order id: it comes
        from the orders the adapter has seen, else from one order query per unknown order."""
        name = "fapiPrivateGetUserTrades" if self.futures else "privateGetMyTrades"
        symbols = [symbol] if symbol else sorted(self._traded)
        out: list[VenueFill] = []
        for sym in symbols:
            params: dict[str, Any] = {
                "symbol": self.venue_symbol(sym),
                "startTime": since_ts // 1_000_000,
                "limit": FILLS_PAGE,
            }
            while True:
                rows = list(await self._get(name, params) or ())
                for row in rows:
                    cid = await self._client_id_of(sym, str(row.get("orderId", "")))
                    out.append(
                        p.parse_trade(row, self._ctx, futures=self.futures, client_order_id=cid)
                    )
                if len(rows) < FILLS_PAGE:
                    break
                params = {
                    "symbol": params["symbol"],
                    "fromId": int(rows[-1]["id"]) + 1,
                    "limit": FILLS_PAGE,
                }
        return out

    async def _client_id_of(self, symbol: str, venue_order_id: str) -> str | None:
        if not venue_order_id:
            return None
        known = self._client_ids.get(venue_order_id)
        if known is None:
            found = await self.order(symbol, venue_order_id=venue_order_id)
            known = found.client_order_id if found is not None else None
            if known is None:
                self._client_ids[venue_order_id] = ""
        return known or None

    async def balances(self) -> list[VenueBalance]:
        if self.futures:
            return p.parse_futures_balances(await self._get("fapiPrivateV3GetAccount", {}))
        return p.parse_spot_balances(await self._get("privateGetAccount", {}))

    async def positions(self) -> list[VenuePosition]:
        return []

    # ------------------------------------------------------------------ sub-account transfers
    async def transfer(self, t: VenueTransfer) -> VenueTransferResult:
        """Move funds between this (master) account and one of its sub-accounts:
        ``POST /sapi/v1/sub-account/universalTransfer`` with ``clientTranId`` = ``t.transfer_id``
        (Binance refuses a repeated one, so a retry never moves money twice). A timeout, a
        dropped connection, a 5xx or ``-1007`` is ``UNKNOWN``: ask :meth:`transfer_status`."""
        params: dict[str, Any] = {
            "fromAccountType": t.from_type,
            "toAccountType": t.to_type,
            "asset": t.asset,
            "amount": num(t.amount),
            "clientTranId": t.transfer_id,
        }
        if t.from_email:
            params["fromEmail"] = t.from_email
        if t.to_email:
            params["toEmail"] = t.to_email
        call = self._api("sapiPostSubAccountUniversalTransfer")
        try:
            raw = await call(params)
        except BinanceHttpError as e:
            if e.status >= 500 or e.code in (-1007, -1006, -1003) or e.status in (418, 429):
                return VenueTransferResult(
                    status="UNKNOWN", reason=errors.SERVER_ERROR, message=e.msg or str(e)
                )
            reason = (
                errors.AUTH
                if e.status in (401, 403) or e.code in (-2015, -1002, -1022)
                else (
                    errors.INSUFFICIENT_FUNDS
                    if "amount" in (e.msg or "")
                    else errors.VENUE_REJECTED
                )
            )
            return VenueTransferResult(
                status="REFUSED", reason=reason, message=f"{e.code}: {e.msg}"
            )
        except (TimeoutError, ccxt.RequestTimeout) as e:
            return VenueTransferResult(status="UNKNOWN", reason=errors.TIMEOUT, message=str(e))
        except ccxt.NetworkError as e:
            return VenueTransferResult(status="UNKNOWN", reason=errors.DISCONNECTED, message=str(e))
        except ccxt.BaseError as e:  # built, never sent
            return VenueTransferResult(
                status="REFUSED", reason=errors.INVALID_REQUEST, message=str(e)
            )
        return VenueTransferResult(status="DONE", venue_transfer_id=str(raw.get("tranId", "")))

    async def transfer_status(self, t: VenueTransfer, since_ms: int) -> VenueTransferResult:
        """What became of transfer ``t``: the master's transfer history
        (``GET /sapi/v1/sub-account/universalTransfer``, by ``clientTranId`` and the sending
        side's email, from ``since_ms``, at most 7 days). ``NOT_FOUND`` when it holds no such
        transfer; raises :class:`~atlas_oms.core.ports.VenueQueryFailed` when it cannot tell."""
        params: dict[str, Any] = {"clientTranId": t.transfer_id, "startTime": since_ms}
        params["endTime"] = since_ms + 7 * 24 * 3600 * 1000 - 1
        if t.from_email:
            params["fromEmail"] = t.from_email
        elif t.to_email:
            params["toEmail"] = t.to_email
        raw = await self._get("sapiGetSubAccountUniversalTransfer", params)
        for row in (raw or {}).get("result") or ():
            if str(row.get("clientTranId", "")) != t.transfer_id:
                continue
            status = str(row.get("status", "")).upper()
            if status == "SUCCESS":
                return VenueTransferResult(status="DONE", venue_transfer_id=str(row.get("tranId")))
            if status in ("FAILURE", "FAILED"):
                return VenueTransferResult(status="NOT_FOUND", message=f"the venue says {status}")
            return VenueTransferResult(status="UNKNOWN", message=f"the venue says {status}")
        return VenueTransferResult(status="NOT_FOUND")

    # ------------------------------------------------------------------ the private stream
    def _is_private(self, url: str) -> bool:
        raise NotImplementedError

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

    def _now_ns(self) -> int:
        return int(self._client.milliseconds()) * 1_000_000

    def _stream_started(self) -> None:
        self._stream_up = True
        self._gap("STARTED")

    def _stream_lost(self, reason: str) -> None:
        if self._stream_up:
            self._stream_up = False
            self._gap(reason)

    def _on_ws_connection(self, url: str, connected: bool) -> None:
        if not self._is_private(url):
            return
        if not connected:
            self._stream_lost("DISCONNECTED")

    def _on_ws_message(self, url: str, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if not self._is_private(url):
            self._on_public(message)
            return
        if self._facts is None:
            return
        self._on_private(url, message)

    def _on_private(self, url: str, message: dict[str, Any]) -> None:
        raise NotImplementedError

    def _order_update(self, update: Any) -> None:
        self._remember(update.order)
        self._last_ts = max(self._last_ts, update.ts)
        self._put(update)

    def _reconnect(self, url: str, reason: str) -> None:
        """Drop the private connection (``reason``): the watcher reconnects and resubscribes."""
        self._stream_lost(reason)
        clients = getattr(self._client, "clients", None) or {}
        ws = clients.get(url)
        if ws is not None:
            ws.on_error(ccxt.NetworkError(f"{self.venue} user data stream: {reason}"))

    async def _keep_subscribed(self) -> None:
        await keep_watching(
            lambda: self._client.watch_orders(), self, lambda: self._stream_lost("DISCONNECTED")
        )

    def _private_ws(self) -> Any:
        for url, ws in (getattr(self._client, "clients", None) or {}).items():
            if self._is_private(url):
                return ws
        return None

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
                # Not ``asyncio.wait_for``: on Python 3.11 it wraps the get in a task (two more
                # turns of the loop for every fact) and swallows a cancellation that arrives as a
                # fact does (the consumer's stop then hangs). ``asyncio.timeout`` does neither.
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
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher

    # ------------------------------------------------------------------ public market data
    def _on_public(self, message: dict[str, Any]) -> None:
        if self._prices is None:
            return
        tick = p.parse_price_tick(message, self._ctx, self._now_ns())
        if tick is not None:
            if tick.bid is not None:
                self._booked.add(tick.symbol)
            if tick.last is not None:
                self._last_seen.add(tick.symbol)
            self._prices.put_nowait(tick)

    async def _price_unpriced(self, symbols: list[str], queue: asyncio.Queue[PriceTick]) -> None:
        """Price from the REST tickers the symbols the streams have not priced yet: at once, 2 s
        later (a trade made while the subscriptions were being set up is in no stream), then
        every :attr:`price_refresh_s` while some symbol is still unpriced (a quiet market)."""
        delays = [0.0, 2.0]
        while True:
            await asyncio.sleep(delays.pop(0) if delays else self.price_refresh_s)
            unpriced = [s for s in symbols if s not in self._booked or s not in self._last_seen]
            if not unpriced:
                return
            try:
                await self._seed_prices(unpriced, queue)
            except VenueQueryFailed as exc:  # the streams still price it at its next move
                log.warning("price snapshot of %s failed: %s", self.venue, exc)

    async def _seed_prices(self, symbols: list[str], queue: asyncio.Queue[PriceTick]) -> None:
        """The best bid and ask and the last price of ``symbols`` from the REST tickers, once
        the streams are subscribed: the ``bookTicker`` and ``trade`` streams send changes only,
        so a quiet market would have no price until it moves. A symbol the stream already priced
        keeps the stream's (newer) figure."""
        wanted = {self.venue_symbol(s) for s in symbols}
        if self.futures:  # one request for all (weight 5); USDⓈ-M takes no symbol list
            raw = await self._get("fapiPublicGetTickerBookTicker", {})
        else:
            listed = json.dumps(sorted(wanted), separators=(",", ":"))
            raw = await self._get("publicGetTickerBookTicker", {"symbols": listed})
        for row in raw if isinstance(raw, list) else [raw]:
            if row.get("symbol") not in wanted:
                continue
            tick = p.parse_book_ticker_row(row, self._ctx, self._now_ns())
            if tick.symbol not in self._booked:
                queue.put_nowait(tick)
        # and the last trade's price (the trade stream, too, sends only new trades)
        name = "fapiPublicGetTickerPrice" if self.futures else "publicGetTickerPrice"
        raw = await self._get(name, {})
        for row in raw if isinstance(raw, list) else [raw]:
            if row.get("symbol") not in wanted or row.get("price") in (None, ""):
                continue
            symbol = self._ctx.symbol(str(row["symbol"]))
            if symbol not in self._last_seen:
                ts = p.ms_to_ns(row.get("time")) or self._now_ns()
                queue.put_nowait(PriceTick(symbol=symbol, ts=ts, last=p.dec(row["price"])))

    def _price_watchers(self, symbols: list[str]) -> list[Callable[[], Awaitable[Any]]]:
        watchers: list[Callable[[], Awaitable[Any]]] = [
            lambda: self._client.watch_bids_asks(symbols)
        ]
        watchers += [self._trades_watcher(s) for s in symbols]
        if self.futures:
            watchers.append(lambda: self._client.watch_mark_prices(symbols))
        return watchers

    def _trades_watcher(self, symbol: str) -> Callable[[], Awaitable[Any]]:
        return lambda: self._client.watch_trades(symbol)

    async def _keep_watching(self, watch: Callable[[], Awaitable[Any]]) -> None:
        await keep_watching(watch, self)

    async def books(self, symbols: list[str], depth: int) -> AsyncIterator[VenueBook]:
        """The top ``depth`` levels (20 at most) of ``symbols`` after every change, from the
        partial book depth stream and a REST snapshot after each (re)connection
        (:mod:`.books`)."""
        async for book in BinanceBooks(self, symbols, depth, self._get, self._now_ns).run():
            yield book

    async def prices(self, symbols: list[str]) -> AsyncIterator[PriceTick]:
        """Book ticker and trades (and the mark price for perpetuals) of ``symbols`` (unified),
        taken from the raw stream messages (exact decimals); ccxt keeps the subscriptions."""
        queue: asyncio.Queue[PriceTick] = asyncio.Queue()
        self._prices = queue
        if not self._markets_loaded:
            with contextlib.suppress(VenueQueryFailed):
                await self.instruments()
        self._booked, self._last_seen = set(), set()
        tasks = [asyncio.create_task(self._keep_watching(w)) for w in self._price_watchers(symbols)]
        tasks.append(asyncio.create_task(self._price_unpriced(symbols, queue)))
        try:
            while True:
                yield await queue.get()
        finally:
            self._prices = None
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
