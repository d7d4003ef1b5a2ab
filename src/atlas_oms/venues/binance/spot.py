"""Binance spot (venue ``binance``) behind Atlas's venue ports: see adapter.py."""

from __future__ import annotations

from typing import Any

from atlas_oms.model.enums import PositionSide, TimeInForce
from atlas_oms.model.venue import (
    Acknowledged,
    AmendOrder,
    Outcome,
    PlaceOrder,
    Refused,
)
from atlas_oms.venues.binance import errors
from atlas_oms.venues.binance import parse as p

#: How many orders' client ids (by venue order id) the adapter remembers for fills rows.
from atlas_oms.venues.binance.adapter import BinanceAdapter, num
from atlas_oms.venues.binance.errors import Action


class BinanceSpotAdapter(BinanceAdapter):
    """Binance spot (venue ``binance``)."""

    venue = "binance"
    futures = False

    def _order_params(self, order: PlaceOrder) -> dict[str, Any] | Refused:
        if order.reduce_only or order.position_side not in (None, PositionSide.BOTH):
            return Refused(
                reason=errors.INVALID_REQUEST,
                code="",
                message="spot orders have no reduce-only flag and no position side",
            )
        params = self._limit_params(order)
        if isinstance(params, Refused):
            return params
        if order.display_qty is not None:
            refused = self._iceberg_refusal(order)
            if refused is not None:
                return refused
            # A native iceberg: Binance shows icebergQty, refilled from the rest as it fills.
            params["icebergQty"] = num(order.display_qty)
        if order.post_only:
            params["type"] = "LIMIT_MAKER"  # LIMIT_MAKER takes icebergQty too
            params.pop("timeInForce", None)
        params["newOrderRespType"] = "FULL"
        return params

    def _iceberg_refusal(self, order: PlaceOrder) -> Refused | None:
        """Binance's iceberg rules, checked before sending: the symbol allows icebergs
        (``icebergAllowed``), the order is a GTC limit (or LIMIT_MAKER) and shows less than
        its quantity."""
        if not self._iceberg_allowed.get(order.symbol, True):  # unknown: the venue decides
            return Refused(
                reason=errors.UNSUPPORTED_ORDER,
                code="",
                message=f"Binance takes no iceberg orders on {order.symbol} (icebergAllowed false)",
            )
        if order.price is None or (order.tif is not TimeInForce.GTC and not order.post_only):
            return Refused(
                reason=errors.UNSUPPORTED_ORDER,
                code="",
                message="a Binance iceberg (icebergQty) is a GTC limit or LIMIT_MAKER order",
            )
        assert order.display_qty is not None
        if not 0 < order.display_qty < order.qty:
            return Refused(
                reason=errors.INVALID_REQUEST,
                code="",
                message=f"icebergQty {order.display_qty} must be above 0 and below the "
                f"quantity {order.qty}",
            )
        return None

    async def amend(self, order: AmendOrder) -> Outcome:
        """Spot can only reduce a working order's quantity, keeping its priority
        (``PUT /api/v3/order/amend/keepPriority``); a price change is refused with reason
        MODIFY_NOT_SUPPORTED (cancel and place a new order instead). A price equal to the
        order's last seen price is no change (the gateway always sends the price)."""
        if order.price is not None and order.price != self._order_prices.get(order.client_order_id):
            return Refused(
                reason=errors.MODIFY_NOT_SUPPORTED,
                code="",
                message="Binance spot cannot change a working order's price: cancel it and "
                "place a new order",
            )
        params = {
            "symbol": self.venue_symbol(order.symbol),
            "origClientOrderId": order.client_order_id,
            # Binance gives the amended order a new random client id unless told to keep it.
            "newClientOrderId": order.client_order_id,
            "newQty": num(order.qty),
        }
        raw, failed = await self._write(
            Action.AMEND,
            lambda: self._client.request("order/amend/keepPriority", ["private"], "PUT", params),
        )
        if failed is not None:
            return failed
        amended = p.parse_order(raw.get("amendedOrder") or raw, self._ctx, futures=False)
        self._remember(amended)
        return Acknowledged(venue_order_id=amended.venue_order_id, order=amended)

    def _is_private(self, url: str) -> bool:
        return url == self._client.urls["api"]["ws"]["ws-api"]["spot"]

    def _on_private(self, url: str, message: dict[str, Any]) -> None:
        result = message.get("result")
        if isinstance(result, dict) and "subscriptionId" in result:
            self._stream_started()
            return
        event = p.unwrap(message)
        kind = event.get("e")
        if kind == "executionReport":
            self._order_update(p.parse_execution_report(event, self._ctx))
        elif kind == "outboundAccountPosition":
            update = p.parse_outbound_account_position(event, self._ctx)
            self._last_ts = max(self._last_ts, update.ts)
            self._put(update)
        elif kind == "eventStreamTerminated":
            self._reconnect(url, "STREAM_TERMINATED")
