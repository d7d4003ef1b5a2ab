"""Linked orders over REST (core/orders/links.py): OCO, OTO and brackets.

* ``POST /v1/order-lists`` ``{"account_id", "kind": "OCO"|"OTO"|"BRACKET", "orders": [...],
  "oco_partial": "CANCEL"|"REDUCE"}``: each order is an ``/v1/orders`` body; an OTO's first order
  is the parent, a bracket's first the entry and the rest its OCO exits. 201 with the list; 422
  with the engine's reason when refused (nothing is placed).
* ``GET /v1/order-lists/{list_id}``: the list, its legs, held and released children.
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import Field

from atlas_oms.service import schemas as s
from atlas_oms.service.app import JSON, Key, Problem, service_of


class OrderListIn(s.Body):
    account_id: str = Field(min_length=1, max_length=64)
    kind: Literal["OCO", "OTO", "BRACKET"]
    orders: list[s.OrderIn] = Field(min_length=2, max_length=10)
    oco_partial: Literal["CANCEL", "REDUCE"] = "CANCEL"


def register(app: FastAPI) -> None:
    @app.post("/v1/order-lists", tags=["orders"], status_code=201)
    async def submit_list(request: Request, body: OrderListIn, key: Key) -> Response:
        """Submit linked orders: OCO (one fills or ends, the others are canceled), OTO (the
        parent's fill releases the children), BRACKET (an entry whose exits form an OCO)."""
        service = service_of(request)
        service.require_trading(key, body.account_id, "place orders")
        for order in body.orders:
            if order.account_id != body.account_id:
                raise Problem(
                    422,
                    "INVALID_ORDER_LIST",
                    f"every order of the list must be for account {body.account_id} "
                    f"(one is for {order.account_id})",
                )
        node = service.node
        try:
            view = node.submit_order_list(
                body.account_id,
                body.kind,
                [o.model_dump() for o in body.orders],
                oco_partial=body.oco_partial,
            )
        finally:
            await service.durable()
        return JSON(view, status_code=201)

    @app.get("/v1/order-lists/{list_id}", tags=["orders"])
    async def get_list(request: Request, list_id: int, key: Key) -> Response:
        """One list of linked orders."""
        service = service_of(request)
        try:
            view = service.node.order_list(list_id)
        except KeyError:
            raise Problem(404, "UNKNOWN_ORDER_LIST", f"no order list {list_id}") from None
        if not service.visible(key, view.account_id):
            raise Problem(404, "UNKNOWN_ORDER_LIST", f"no order list {list_id}")
        return JSON(view)


__all__ = ["OrderListIn", "register"]
