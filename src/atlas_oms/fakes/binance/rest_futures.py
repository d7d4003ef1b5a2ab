"""The fake Binance's USDⓈ-M REST handlers (``/fapi/v1|v2|v3/...``), a mixin on ``ServerBase``:
orders, account, positions, leverage and margin settings, position mode, listenKey."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from aiohttp import web

from atlas_oms.fakes.binance import wire
from atlas_oms.fakes.binance.config import USDM
from atlas_oms.fakes.binance.server_base import TIMEOUT_1007, ServerBase, _json, _window
from atlas_oms.fakes.binance.venue import Account, FakeVenue, VenueError


class FuturesRest(ServerBase):
    """USDⓈ-M: exchangeInfo, orders, account and positions, settings, listenKey."""

    async def _futures_exchange_info(self, request: web.Request) -> web.Response:
        return _json(wire.futures_exchange_info(self.venue))

    async def _futures_place(self, request: web.Request) -> web.StreamResponse:
        return await self._place(request, USDM)

    async def _futures_get_order(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        return _json(
            wire.futures_order(self.venue, self._lookup(USDM, acct, params, True), query=True)
        )

    async def _futures_open_order(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        o = self._lookup(USDM, acct, params, True)
        if not o.is_open:
            raise VenueError(-2013, "Order does not exist.")
        return _json(wire.futures_order(self.venue, o, query=True))

    async def _futures_cancel(self, request: web.Request) -> web.StreamResponse:
        acct, params = await self._signed(request)
        o = self._lookup(USDM, acct, params, False)

        def commit() -> web.Response:
            self.venue.cancel(o)
            return _json(wire.futures_order(self.venue, o))

        return await self._change(request, "cancels", commit)

    async def _futures_modify(self, request: web.Request) -> web.StreamResponse:
        acct, params = await self._signed(request)
        o = self._lookup(USDM, acct, params, False)

        def commit() -> web.Response:
            self.venue.modify_futures(
                o, Decimal(params.get("quantity", "0")), Decimal(params.get("price", "0"))
            )
            return _json(wire.futures_order(self.venue, o))

        return await self._change(request, "amends", commit)

    async def _futures_open_orders(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol")
        if symbol:
            self.venue.spec(USDM, symbol)
        return _json(
            [
                wire.futures_order(self.venue, o, query=True)
                for o in self.venue.open_orders(USDM, acct.name, symbol)
            ]
        )

    async def _futures_cancel_all(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(USDM, symbol)
        for o in self.venue.open_orders(USDM, acct.name, symbol):
            self.venue.cancel(o)
        return _json({"code": 200, "msg": "The operation of cancel all open order is done."})

    async def _futures_all_orders(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(USDM, symbol)
        orders = [
            o
            for o in self.venue.orders.values()
            if o.market == USDM and o.account == acct.name and o.symbol == symbol
        ]
        return _json(
            [wire.futures_order(self.venue, o, query=True) for o in _window(orders, params)]
        )

    async def _futures_user_trades(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(USDM, symbol)
        trades = self.venue.account_trades(USDM, acct.name, symbol, params)
        return _json([wire.futures_trade(self.venue, t) for t in trades])

    async def _futures_account(self, request: web.Request) -> web.Response:
        acct, _ = await self._signed(request)
        return _json(wire.futures_account_v3(self.venue, acct))

    async def _futures_balance(self, request: web.Request) -> web.Response:
        acct, _ = await self._signed(request)
        return _json(wire.futures_balance(self.venue, acct))

    async def _futures_position_risk(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        return _json(wire.position_risk_v3(self.venue, acct, params.get("symbol")))

    async def _futures_leverage_bracket(self, request: web.Request) -> web.Response:
        await self._signed(request)
        return _json(wire.leverage_brackets(self.venue, None))

    async def _futures_get_dual(self, request: web.Request) -> web.Response:
        acct, _ = await self._signed(request)
        return _json({"dualSidePosition": acct.hedge})

    async def _futures_set_dual(self, request: web.Request) -> web.Response:
        acct, params = await self._signed(request)
        want = params.get("dualSidePosition", "").lower() == "true"
        if want == acct.hedge:
            raise VenueError(-4059, "No need to change position side.")
        if any(p.amt for p in acct.positions.values()) or self.venue.open_orders(
            USDM, acct.name, None
        ):
            raise VenueError(-4068, "Position side cannot be changed if there exists position.")
        acct.hedge = want
        return _json({"code": 200, "msg": "success"})

    # ------------------------------------------------------------------ settings

    async def _settings_faults(self, commit: Callable[[], None]) -> None:
        """Commit a leverage or margin type change, or lose it, as the fault knobs say."""
        faults = self.faults
        if faults.lose_settings > 0:
            faults.lose_settings -= 1
            await asyncio.sleep(faults.delay_s)
            raise TIMEOUT_1007
        commit()
        if faults.delay_settings > 0:
            faults.delay_settings -= 1
            await asyncio.sleep(faults.delay_s)

    async def _futures_leverage(self, request: web.Request) -> web.Response:
        """``POST /fapi/v1/leverage``: 1 up to the first bracket's leverage; refused (-2027)
        when the position already exceeds what the brackets allow at the new leverage."""
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(USDM, symbol)
        raw = params.get("leverage", "0")
        lev = int(raw) if raw.isdigit() else 0
        brackets = wire.leverage_brackets(self.venue, symbol)[0]["brackets"]
        if not 1 <= lev <= max(int(b["initialLeverage"]) for b in brackets):
            raise VenueError(-4028, f"Leverage {raw} is not valid")
        cap = max(Decimal(str(b["notionalCap"])) for b in brackets if b["initialLeverage"] >= lev)
        if _position_notional(self.venue, acct, symbol) > cap:
            raise VenueError(-2027, "Exceeded the maximum allowable position at current leverage.")
        await self._settings_faults(lambda: acct.leverage.__setitem__(symbol, lev))
        return _json({"leverage": lev, "maxNotionalValue": str(cap), "symbol": symbol})

    async def _futures_margin_type(self, request: web.Request) -> web.Response:
        """``POST /fapi/v1/marginType``: ``-4046`` when already so; refused while the symbol
        has a position (-4048) or open orders (-4047)."""
        acct, params = await self._signed(request)
        symbol = params.get("symbol", "")
        self.venue.spec(USDM, symbol)
        want = params.get("marginType", "").upper()
        if want not in ("ISOLATED", "CROSSED"):
            raise VenueError(-4044, "The margin type is not valid.")
        current = acct.margin_type.get(symbol, "cross")
        mapped = "isolated" if want == "ISOLATED" else "cross"
        if mapped == current:
            raise VenueError(-4046, "No need to change margin type.")
        if any(p.amt for (sym, _ps), p in acct.positions.items() if sym == symbol):
            raise VenueError(-4048, "Margin type cannot be changed if there exists position.")
        if self.venue.open_orders(USDM, acct.name, symbol):
            raise VenueError(-4047, "Margin type cannot be changed if there exists open orders.")
        await self._settings_faults(lambda: acct.margin_type.__setitem__(symbol, mapped))
        return _json({"code": 200, "msg": "success"})

    async def _futures_symbol_config(self, request: web.Request) -> web.Response:
        """``GET /fapi/v1/symbolConfig``: leverage and margin type per symbol."""
        acct, params = await self._signed(request)
        symbol = params.get("symbol") or None
        if symbol is not None:
            self.venue.spec(USDM, symbol)
        return _json(wire.symbol_config(self.venue, acct, symbol))

    # ------------------------------------------------------------------ listenKey

    async def _listen_key_new(self, request: web.Request) -> web.Response:
        acct = self._api_key_account(request)
        return _json({"listenKey": self.venue.new_listen_key(acct)})

    async def _listen_key_keepalive(self, request: web.Request) -> web.Response:
        acct = self._api_key_account(request)
        return _json({"listenKey": self.venue.keep_alive(acct)})

    async def _listen_key_delete(self, request: web.Request) -> web.Response:
        acct = self._api_key_account(request)
        acct.listen_key = None
        for conn in list(self._conns):
            if conn.kind == "private" and conn.account == acct.name:
                self._conns.discard(conn)
                await conn.close()
        return _json({})


def _position_notional(venue: FakeVenue, acct: Account, symbol: str) -> Decimal:
    """The account's position notional in ``symbol`` (both legs), at the mark (else entry)."""
    total = Decimal(0)
    for (sym, _ps), pos in acct.positions.items():
        if sym == symbol and pos.amt:
            total += abs(pos.amt) * venue.mark_prices.get(sym, pos.entry)
    return total
