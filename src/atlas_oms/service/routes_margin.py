"""Margin at external venues over REST (issue 15 §2).

* ``GET /v1/venue-positions?account_id=&venue=``: each position as its venue last reported it
  (journaled with every reconciliation), the venue's own liquidation price, mark, maintenance
  and initial margin and margin ratio next to Atlas's estimate by that venue's convention.
* ``POST /v1/margin/estimate`` (an order body, ``?price=``): before a fill, the position the
  order would make and its liquidation price by the convention of the venue it goes to.
  Nothing is journaled or sent.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import FastAPI, Request
from fastapi.responses import Response

from atlas_oms.service import schemas as s
from atlas_oms.service.app import JSON, Key, Problem, service_of


def register(app: FastAPI) -> None:
    @app.get("/v1/venue-positions", tags=["portfolio"])
    async def venue_positions(
        request: Request, account_id: str, key: Key, venue: str | None = None
    ) -> Response:
        service = service_of(request)
        service.require_account(key, account_id)
        return JSON(service.node.venue_positions(account_id, venue))

    @app.post("/v1/margin/estimate", tags=["portfolio"])
    async def margin_estimate(
        request: Request, body: s.OrderIn, key: Key, price: str | None = None
    ) -> Response:
        from atlas_oms.service.routes import _order_cmd

        service = service_of(request)
        service.require_account(key, body.account_id)
        px = None
        if price is not None:
            try:
                px = Decimal(price)
            except InvalidOperation:
                raise Problem(422, "INVALID_PRICE", f"price {price!r} is not a number") from None
            if not px.is_finite() or px <= 0:
                raise Problem(422, "INVALID_PRICE", f"price {price} must be above 0")
        node = service.node
        estimate = node.margin_estimate(_order_cmd(body, node.clock.now()), px)
        if estimate is None:
            raise Problem(
                422, "NOT_A_DERIVATIVE", f"{body.symbol} is not a derivative: no margin to estimate"
            )
        return JSON(estimate)
