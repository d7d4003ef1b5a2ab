"""Binance USDⓈ-M futures (venue ``binanceusdm``) behind Atlas's venue ports: see adapter.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.venue import (
    Acknowledged,
    AmendOrder,
    Outcome,
    PlaceOrder,
    Refused,
    VenueAccountSettings,
    VenuePosition,
)
from atlas_oms.venues.binance import errors
from atlas_oms.venues.binance import parse as p

#: How many orders' client ids (by venue order id) the adapter remembers for fills rows.
from atlas_oms.venues.binance.adapter import BinanceAdapter, num
from atlas_oms.venues.binance.errors import Action


class BinanceUsdmAdapter(BinanceAdapter):
    """Binance USDⓈ-M futures (venue ``binanceusdm``)."""

    venue = "binanceusdm"
    futures = True

    def _order_params(self, order: PlaceOrder) -> dict[str, Any] | Refused:
        if order.display_qty is not None:
            return Refused(
                reason=errors.UNSUPPORTED_ORDER,
                code="",
                message="Binance USDⓈ-M has no iceberg orders (no icebergQty): the ICEBERG "
                "algorithm emulates one",
            )
        params = self._limit_params(order)
        if isinstance(params, Refused):
            return params
        if order.post_only:
            params["timeInForce"] = "GTX"
        hedge_leg = order.position_side in (PositionSide.LONG, PositionSide.SHORT)
        if order.position_side is not None:
            params["positionSide"] = order.position_side.value
        if order.reduce_only and not hedge_leg:
            # In hedge mode Binance refuses the flag: closing a leg is already reduce-only.
            params["reduceOnly"] = "true"
        params["newOrderRespType"] = "RESULT"
        return params

    async def amend(self, order: AmendOrder) -> Outcome:
        """``PUT /fapi/v1/order``: new price and total quantity, same order id. Binance needs
        both, so an amend without a price is refused (MODIFY_NOT_SUPPORTED)."""
        if order.price is None:
            return Refused(
                reason=errors.MODIFY_NOT_SUPPORTED,
                code="",
                message="Binance USDⓈ-M amends limit orders only, with both price and quantity",
            )
        params = {
            "symbol": self.venue_symbol(order.symbol),
            "origClientOrderId": order.client_order_id,
            "side": order.side.value,
            "quantity": num(order.qty),
            "price": num(order.price),
        }
        raw, failed = await self._write(
            Action.AMEND, lambda: self._api("fapiPrivatePutOrder")(params)
        )
        if failed is not None:
            return failed
        amended = p.parse_order(raw, self._ctx, futures=True)
        self._remember(amended)
        return Acknowledged(venue_order_id=amended.venue_order_id, order=amended)

    async def positions(self) -> list[VenuePosition]:
        return p.parse_position_risk(await self._get("fapiPrivateV3GetPositionRisk", {}), self._ctx)

    async def account_settings(self) -> VenueAccountSettings:
        """Position mode (``GET /fapi/v1/positionSide/dual``), and per symbol leverage and
        margin mode from ``GET /fapi/v1/symbolConfig`` when the venue offers it."""
        raw = await self._get("fapiPrivateGetPositionSideDual", {})
        dual = raw.get("dualSidePosition")
        hedge = dual is True or str(dual).lower() == "true"
        try:
            rows = await self._get("fapiPrivateGetSymbolConfig", {})
        except VenueQueryFailed:
            rows = []  # not offered (older venues, the fake): the position mode alone
        leverage, margin = p.parse_symbol_config(rows or (), self._ctx)
        self.settings = VenueAccountSettings(
            hedge_mode=hedge, leverage=leverage, margin_mode=margin
        )
        return self.settings

    # ------------------------------------------------------------------ settings (leverage, margin)
    async def set_leverage(self, symbol: str, leverage: Decimal) -> Outcome:
        """``POST /fapi/v1/leverage``: the symbol's initial leverage, a whole number (Binance
        refuses anything else). Acknowledged (the venue's new leverage is in :attr:`settings`),
        Refused with the venue's code and message, or Unknown (timeout, 5xx: query
        :meth:`symbol_settings` to learn what the venue has)."""
        lev = Decimal(leverage)
        if not lev.is_finite() or lev != lev.to_integral_value() or lev < 1:
            return Refused(
                reason=errors.INVALID_REQUEST,
                code="",
                message=f"Binance takes a whole leverage of at least 1, not {leverage}",
            )
        params = {"symbol": self.venue_symbol(symbol), "leverage": int(lev)}
        raw, failed = await self._write(
            Action.SETTINGS, lambda: self._api("fapiPrivatePostLeverage")(params)
        )
        if failed is not None:
            return failed
        applied = p.dec(raw.get("leverage")) if isinstance(raw, dict) else lev
        self._learn_settings(symbol, leverage=applied if applied else lev)
        return Acknowledged()

    async def set_margin_mode(self, symbol: str, mode: str) -> Outcome:
        """``POST /fapi/v1/marginType`` (``mode``: ``CROSS`` or ``ISOLATED``, any case). Binance's
        ``-4046 No need to change margin type`` means it already is: Acknowledged."""
        wanted = str(mode).upper()
        if wanted not in ("CROSS", "CROSSED", "ISOLATED"):
            return Refused(
                reason=errors.INVALID_REQUEST,
                code="",
                message=f"the margin mode is CROSS or ISOLATED, not {mode!r}",
            )
        params = {
            "symbol": self.venue_symbol(symbol),
            "marginType": "ISOLATED" if wanted == "ISOLATED" else "CROSSED",
        }
        _, failed = await self._write(
            Action.SETTINGS, lambda: self._api("fapiPrivatePostMarginType")(params)
        )
        if failed is not None and not (isinstance(failed, Refused) and failed.code == "-4046"):
            return failed
        self._learn_settings(symbol, margin="isolated" if wanted == "ISOLATED" else "cross")
        return Acknowledged()

    async def symbol_settings(self, symbol: str) -> VenueAccountSettings:
        """One symbol's leverage and margin mode (``GET /fapi/v1/symbolConfig?symbol=``), with
        the position mode last read. Raises :class:`VenueQueryFailed` when it cannot be read."""
        rows = await self._get("fapiPrivateGetSymbolConfig", {"symbol": self.venue_symbol(symbol)})
        leverage, margin = p.parse_symbol_config(rows or (), self._ctx)
        for sym, lev in leverage.items():
            self._learn_settings(sym, leverage=lev)
        for sym, mode in margin.items():
            self._learn_settings(sym, margin=mode)
        return VenueAccountSettings(
            hedge_mode=self.settings.hedge_mode, leverage=leverage, margin_mode=margin
        )

    def _learn_settings(
        self, symbol: str, *, leverage: Decimal | None = None, margin: str | None = None
    ) -> None:
        known = self.settings
        levs, modes = dict(known.leverage), dict(known.margin_mode)
        if leverage is not None:
            levs[symbol] = leverage
        if margin is not None:
            modes[symbol] = margin
        self.settings = VenueAccountSettings(
            hedge_mode=known.hedge_mode, leverage=levs, margin_mode=modes
        )

    def _is_private(self, url: str) -> bool:
        return "listenKey=" in url

    def _on_ws_connection(self, url: str, connected: bool) -> None:
        if not self._is_private(url):
            return
        if connected:
            self._stream_started()
        else:
            self._stream_lost("DISCONNECTED")

    def _on_private(self, url: str, message: dict[str, Any]) -> None:
        event = p.unwrap(message)
        kind = event.get("e")
        if kind == "ORDER_TRADE_UPDATE":
            self._order_update(p.parse_order_trade_update(event, self._ctx))
        elif kind == "ACCOUNT_UPDATE":
            balances, positions = p.parse_account_update(event, self._ctx)
            self._last_ts = max(self._last_ts, balances.ts)
            self._put(balances)
            if positions.positions:
                self._put(positions)
        elif kind == "listenKeyExpired":
            # A new key is needed: forget the old one so ccxt POSTs a fresh listenKey.
            self._client.options["linear"] = {}
            self._reconnect(url, "LISTEN_KEY_EXPIRED")
