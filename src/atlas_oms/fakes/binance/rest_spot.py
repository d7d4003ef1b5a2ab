"""The fake Binance's spot REST handlers (``/api/v3/...``), a mixin on ``ServerBase``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from atlas_oms.fakes.binance import books, wire
from atlas_oms.fakes.binance.config import SPOT, USDM
from atlas_oms.fakes.binance.server_base import ServerBase, _json, _window
from atlas_oms.fakes.binance.venue import Order, VenueError
from atlas_oms.fakes.binance.wire_common import s8


class SpotRest(ServerBase):
    """Spot: exchangeInfo, orders (place, test, query, cancel, amend keepPriority,
    cancelReplace), open and all orders, myTrades, account."""

    async def _spot_exchange_info(self, request: web.Request) -> web.Response:
        return _json(wire.spot_exchange_info(self.venue))

    async def _book_ticker(self, request: web.Request, market: str) -> web.Response:
        """``GET .../ticker/bookTicker``: one symbol (``symbol``), some (``symbols``, a JSON list,
        spot only) or all."""
        query = request.query
        if "symbol" in query:
            return _json(
                wire.book_ticker_rest(
                    self.venue, market, self.venue.spec(market, query["symbol"]).symbol
                )
            )
        if "symbols" in query:
            try:
                names = json.loads(query["symbols"])
            except ValueError:
                raise VenueError(
                    -1100, "Illegal characters found in parameter 'symbols'."
                ) from None
            specs = [self.venue.spec(market, str(n)) for n in names]
        else:
            specs = [self.venue.spec(market, sym) for (m, sym) in self.venue.books if m == market]
        return _json([wire.book_ticker_rest(self.venue, market, s.symbol) for s in specs])

    async def _depth(self, request: web.Request, market: str) -> web.Response:
        """``GET /api/v3/depth`` (limit 1..5000, default 100) and ``GET /fapi/v1/depth`` (limit
        5, 10, 20, 50, 100, 500 or 1000, default 500): the book's top levels and its update id."""
        query = request.query
        if not query.get("symbol"):
            raise VenueError(
                -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
            )
        spec = self.venue.spec(market, query["symbol"])
        try:
            limit = int(query.get("limit", "100" if market == SPOT else "500"))
        except ValueError:
            raise VenueError(-1100, "Illegal characters found in parameter 'limit'.") from None
        if market == SPOT:
            if limit < 1:
                raise VenueError(-1130, "Data sent for parameter 'limit' is not valid.")
            limit = min(limit, 5000)
        elif limit not in books.FUTURES_LIMITS:
            raise VenueError(-1130, "Data sent for parameter 'limit' is not valid.")
        return _json(books.depth_rest(self.venue, self.venue.book_feed, market, spec.symbol, limit))

    async def _spot_depth(self, request: web.Request) -> web.Response:
        return await self._depth(request, SPOT)

    async def _futures_depth(self, request: web.Request) -> web.Response:
        return await self._depth(request, USDM)

    async def _last_price(self, request: web.Request, market: str) -> web.Response:
        """``GET .../ticker/price``: the last trade's price (symbols the fake has traded)."""
        query = request.query
        ts = self.venue.now_ms()

        def row(symbol: str) -> dict[str, Any]:
            out: dict[str, Any] = {
                "symbol": symbol,
                "price": s8(self.venue.day_stats[(market, symbol)][3]),
            }
            if market != SPOT:
                out["time"] = ts
            return out

        if "symbol" in query:
            symbol = self.venue.spec(market, query["symbol"]).symbol
            if (market, symbol) not in self.venue.day_stats:
                raise VenueError(-1121, "Invalid symbol.")
            return _json(row(symbol))
        traded = sorted(sym for (m, sym) in self.venue.day_stats if m == market)
        return _json([row(sym) for sym in traded])

    async def _spot_last_price(self, request: web.Request) -> web.Response:
        return await self._last_price(request, SPOT)

    async def _futures_last_price(self, request: web.Request) -> web.Response:
        return await self._last_price(request, USDM)

    async def _spot_book_ticker(self, request: web.Request) -> web.Response:
        return await self._book_ticker(request, SPOT)

    async def _futures_book_ticker(self, request: web.Request) -> web.Response:
        return await self._book_ticker(request, USDM)

    async def _spot_place(self, request: web.Request) -> web.StreamResponse:
        return await self._place(request, SPOT)

    async def _spot_test_order(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        spec = self.venue.spec(SPOT, params.get("symbol", ""))
        if params.get("type") not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise VenueError(-1116, "Invalid orderType.")
        probe = Order(
            SPOT,
            spec.symbol,
            0,
            "",
            acct.name,
            params.get("side", "BUY"),
            params.get("type", "LIMIT"),
            "GTC",
            Decimal(params.get("price", "0")),
            Decimal(params.get("quantity", "0")),
            0,
        )
        self.venue.check_filters(SPOT, spec, probe, probe.type == "MARKET")
        if params.get("computeCommissionRates", "false") == "true":
            c = acct.cfg
            return _json(
                {
                    "standardCommissionForOrder": {
                        "maker": wire.s8(c.spot_maker),
                        "taker": wire.s8(c.spot_taker),
                    },
                    "specialCommissionForOrder": {
                        "maker": wire.s8(Decimal(0)),
                        "taker": wire.s8(Decimal(0)),
                    },
                    "taxCommissionForOrder": {
                        "maker": wire.s8(Decimal(0)),
                        "taker": wire.s8(Decimal(0)),
                    },
                    "discount": {
                        "enabledForAccount": c.bnb_fees,
                        "enabledForSymbol": True,
                        "discountAsset": "BNB",
                        "discount": "0.25000000",
                    },
                }
            )
        return _json({})

    async def _spot_get_order(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        return _json(wire.spot_order(self._lookup(SPOT, acct, params, True)))

    async def _spot_cancel(self, request: web.Request) -> web.StreamResponse:
        acct, params = await self._signed(request)
        o = self._lookup(SPOT, acct, params, False)

        def commit() -> web.Response:
            self.venue.cancel(o, params.get("newClientOrderId"))
            return _json(wire.spot_cancel(o, self.venue.now_ms()))

        return await self._change(request, "cancels", commit)

    async def _spot_open_orders(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol")
        if symbol:
            self.venue.spec(SPOT, symbol)
        return _json([wire.spot_order(o) for o in self.venue.open_orders(SPOT, acct.name, symbol)])

    async def _spot_cancel_all(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(SPOT, symbol)
        out = []
        for o in self.venue.open_orders(SPOT, acct.name, symbol):
            self.venue.cancel(o)
            out.append(wire.spot_cancel(o, self.venue.now_ms()))
        return _json(out)

    async def _spot_all_orders(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(SPOT, symbol)
        orders = [
            o
            for o in self.venue.orders.values()
            if o.market == SPOT and o.account == acct.name and o.symbol == symbol
        ]
        return _json([wire.spot_order(o) for o in _window(orders, params)])

    async def _spot_my_trades(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(SPOT, symbol)
        return _json(
            [wire.spot_trade(t) for t in self.venue.account_trades(SPOT, acct.name, symbol, params)]
        )

    async def _spot_account(self, request: web.Request) -> web.Response:
        acct, _ = await self._signed(request)
        return _json(wire.spot_account(acct))

    async def _spot_amend(self, request: web.Request) -> web.StreamResponse:
        acct, params = await self._signed(request)
        o = self._lookup(SPOT, acct, params, False)

        def commit() -> web.Response:
            self.venue.amend_spot_keep_priority(
                o, Decimal(params.get("newQty", "0")), params.get("newClientOrderId")
            )
            return _json(wire.spot_amended(o, self.venue.now_ms(), self.venue.next_execution_id()))

        return await self._change(request, "amends", commit)

    async def _spot_cancel_replace(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        cancel_params = {
            "symbol": params.get("symbol", ""),
            "orderId": params.get("cancelOrderId", ""),
            "origClientOrderId": params.get("cancelOrigClientOrderId", ""),
        }
        try:
            old = self._lookup(SPOT, acct, cancel_params, False)
            self.venue.cancel(old, params.get("cancelNewClientOrderId"))
            cancel_body: dict[str, Any] = wire.spot_cancel(old, self.venue.now_ms())
        except VenueError as err:
            return _json(
                {
                    "code": -2022,
                    "msg": "Order cancel-replace failed.",
                    "data": {
                        "cancelResult": "FAILURE",
                        "newOrderResult": "NOT_ATTEMPTED",
                        "cancelResponse": err.body(),
                        "newOrderResponse": None,
                    },
                },
                status=400,
            )
        new_params = {
            k: v
            for k, v in params.items()
            if not k.startswith("cancel") and k not in ("cancelReplaceMode", "signature")
        }
        try:
            trades_before = len(self.venue.trades)
            new = self.venue.place(SPOT, acct, new_params)
        except VenueError as err:
            return _json(
                {
                    "code": -2021,
                    "msg": "Order cancel-replace partially failed.",
                    "data": {
                        "cancelResult": "SUCCESS",
                        "newOrderResult": "FAILURE",
                        "cancelResponse": cancel_body,
                        "newOrderResponse": err.body(),
                    },
                },
                status=409,
            )
        fills = [t for t in self.venue.trades[trades_before:] if t.order_id == new.order_id]
        return _json(
            {
                "cancelResult": "SUCCESS",
                "newOrderResult": "SUCCESS",
                "cancelResponse": cancel_body,
                "newOrderResponse": self._place_answer(SPOT, new, params, fills),
            }
        )
