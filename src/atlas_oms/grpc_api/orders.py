"""The ``atlas.v1.Orders`` service: REST's /v1/orders over gRPC (the same submit path,
``service.routes._submit``, the same checks, the same views)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pydantic

from atlas_oms.grpc_api.calls import Calls, Denied, invalid, status_code
from atlas_oms.grpc_api.convert import enum_value, fill, to_dict
from atlas_oms.grpc_api.fanout import Fanout, order_updates
from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2_grpc as rpc
from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as types
from atlas_oms.model.algos import SMART
from atlas_oms.model.enums import OrderStatus
from atlas_oms.runtime.node import CommandRefused
from atlas_oms.service import schemas as s
from atlas_oms.service.app import Problem, Service, refused
from atlas_oms.service.keys import ApiKey
from atlas_oms.service.routes import _submit


def order_in(request: pb.SubmitOrderRequest) -> s.OrderIn:
    """The request as REST's body model (validated the same way; 400 INVALID_FIELD)."""
    body = to_dict(request)
    if body.get("venue") == SMART:
        raise Problem(
            400,
            "INVALID_FIELD",
            "venue: a SMART order is a parent order: Algos.SubmitAlgo with kind ALGO_KIND_SMART",
        )
    try:
        return s.OrderIn.model_validate(body)
    except pydantic.ValidationError as exc:
        raise invalid(exc) from None


class OrdersService(rpc.OrdersServicer):
    def __init__(self, calls: Calls, fanout: Fanout) -> None:
        self.calls = calls
        self.service: Service = calls.service
        self.fanout = fanout

    def _order(self, body: dict[str, Any]) -> types.Order:
        return fill(types.Order(), body)

    def _view(self, order_id: int) -> types.Order:
        service = self.service
        return self._order(service.numbers.builtins(service.node.order(order_id)))

    def _place(self, key: ApiKey, order: s.OrderIn) -> tuple[int, dict[str, Any]]:
        status, body = _submit(self.service, key, order)
        return status, body

    # ------------------------------------------------------------------ writes
    async def SubmitOrder(
        self, request: pb.SubmitOrderRequest, context: grpc.aio.ServicerContext
    ) -> types.Order:
        def answer(key: ApiKey) -> types.Order:
            status, body = self._place(key, order_in(request))
            if status == 422:  # denied: journaled, answered with the order and its reason
                order = self._order(body["order"])
                raise Denied(
                    Problem(422, body["reason"], body["detail"]),
                    [
                        ("atlas-order-id", str(order.order_id)),
                        ("atlas-order-bin", order.SerializeToString()),
                    ],
                )
            return self._order(body)

        return await self.calls.unary(context, "SubmitOrder", answer, write=True)

    async def SubmitBatch(
        self, request: pb.SubmitBatchRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitBatchResponse:
        def answer(key: ApiKey) -> pb.SubmitBatchResponse:
            if not 1 <= len(request.orders) <= 100:
                raise Problem(400, "INVALID_FIELD", "orders: send 1 to 100 orders")
            orders = [order_in(o) for o in request.orders]  # all parse before any is sent
            for o in orders:  # every account is checked before anything is sent
                self.service.require_trading(key, o.account_id, "place orders")
            out = pb.SubmitBatchResponse()
            for o in orders:
                result = out.results.add()
                try:
                    status, body = self._place(key, o)
                except (CommandRefused, Problem) as exc:
                    problem = refused(exc) if isinstance(exc, CommandRefused) else exc
                    result.code = status_code(problem).value[0]
                    result.reason, result.detail = problem.reason, problem.detail
                    continue
                if status == 422:
                    problem = Problem(422, body["reason"], body["detail"])
                    result.code = status_code(problem).value[0]
                    result.reason, result.detail = problem.reason, problem.detail
                    result.order.CopyFrom(self._order(body["order"]))
                else:
                    result.order.CopyFrom(self._order(body))
            return out

        return await self.calls.unary(context, "SubmitBatch", answer, write=True)

    async def CancelOrder(
        self, request: pb.OrderRef, context: grpc.aio.ServicerContext
    ) -> types.Order:
        def answer(key: ApiKey) -> types.Order:
            account_id = request.account_id
            order_id = self._resolve(key, request, "cancel")
            if request.WhichOneof("id") == "client_order_id":
                view = self.service.node.cancel(account_id, client_order_id=request.client_order_id)
            else:
                view = self.service.node.cancel(account_id, order_id)
            return self._order(self.service.numbers.builtins(view))

        return await self.calls.unary(context, "CancelOrder", answer, write=True)

    async def ModifyOrder(
        self, request: pb.ModifyOrderRequest, context: grpc.aio.ServicerContext
    ) -> types.Order:
        def answer(key: ApiKey) -> types.Order:
            body = to_dict(request)
            body.pop("order_id", None)
            body.pop("client_order_id", None)
            try:
                change = s.ModifyIn.model_validate(body)
            except pydantic.ValidationError as exc:
                raise invalid(exc) from None
            ref = pb.OrderRef(account_id=request.account_id)
            which = request.WhichOneof("id")
            if which == "client_order_id":
                ref.client_order_id = request.client_order_id
            elif which == "order_id":
                ref.order_id = request.order_id
            order_id = self._resolve(key, ref, "modify")
            node = self.service.node
            terms: dict[str, Any] = {
                "qty": change.qty,
                "price": change.price,
                "trigger_price": change.trigger_price,
            }
            if which == "client_order_id":
                view = node.modify(
                    change.account_id, client_order_id=request.client_order_id, **terms
                )
            else:
                view = node.modify(change.account_id, order_id, **terms)
            return self._order(self.service.numbers.builtins(view))

        return await self.calls.unary(context, "ModifyOrder", answer, write=True)

    async def CancelAll(
        self, request: pb.CancelAllRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelAllResponse:
        def answer(key: ApiKey) -> pb.CancelAllResponse:
            service = self.service
            service.require_cancel(key, request.account_id)
            node = service.node
            symbol = request.symbol if request.HasField("symbol") else None
            out = pb.CancelAllResponse()
            for view in node.orders(request.account_id, open_only=True):
                if symbol is not None and view.symbol != symbol:
                    continue
                try:
                    node.cancel(request.account_id, view.order_id)
                    out.canceled.append(view.order_id)
                except CommandRefused as exc:
                    out.refused.add(order_id=view.order_id, reason=exc.reason)
            return out

        return await self.calls.unary(context, "CancelAll", answer, write=True)

    # ------------------------------------------------------------------ reads
    async def GetOrder(
        self, request: pb.OrderRef, context: grpc.aio.ServicerContext
    ) -> types.Order:
        def answer(key: ApiKey) -> types.Order:
            return self._view(self._resolve(key, request, None))

        return await self.calls.unary(context, "GetOrder", answer)

    async def ListOrders(
        self, request: pb.ListOrdersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOrdersResponse:
        def answer(key: ApiKey) -> pb.ListOrdersResponse:
            service = self.service
            service.require_account(key, request.account_id)
            limit = request.limit or 100
            if not 1 <= limit <= 1000:
                raise Problem(400, "INVALID_FIELD", "limit: 1 to 1000 (0: 100)")
            status = enum_value(types.OrderStatus.DESCRIPTOR, request.status)
            found = service.node.orders(
                request.account_id,
                open_only=request.open_only,
                status=OrderStatus(status) if status is not None else None,
                symbol=request.symbol if request.HasField("symbol") else None,
                since_ns=request.since_ns if request.HasField("since_ns") else None,
                until_ns=request.until_ns if request.HasField("until_ns") else None,
                after=request.after,
                limit=limit + 1,
            )
            page = found[:limit]
            out = pb.ListOrdersResponse()
            for view in page:
                out.orders.append(self._order(service.numbers.builtins(view)))
            if len(found) > limit:
                out.next_after = page[-1].order_id
            return out

        return await self.calls.unary(context, "ListOrders", answer)

    def _resolve(self, key: ApiKey, ref: pb.OrderRef, act: str | None) -> int:
        """The order ``ref`` names, the account's (404 UNKNOWN_ORDER otherwise), after the key's
        right to ``act`` on it (None: see; ``cancel``; ``modify``), as REST checks them."""
        service = self.service
        account_id = ref.account_id
        if act == "cancel":
            service.require_cancel(key, account_id)
        elif act is not None:
            service.require_trading(key, account_id, f"{act} orders")
        else:
            service.require_account(key, account_id)
        which = ref.WhichOneof("id")
        if which == "client_order_id":
            view = service.node.find_order(account_id, None, ref.client_order_id)
            if view is None:
                raise Problem(
                    404,
                    "UNKNOWN_ORDER",
                    f"account {account_id} has no order {ref.client_order_id!r}",
                )
            return view.order_id
        if which != "order_id":
            raise Problem(400, "INVALID_FIELD", "id: send order_id or client_order_id")
        if service.node.order_owner(ref.order_id) != account_id:
            raise Problem(404, "UNKNOWN_ORDER", f"account {account_id} has no order {ref.order_id}")
        return ref.order_id

    # ------------------------------------------------------------------ stream
    async def StreamOrderUpdates(
        self, request: pb.StreamOrderUpdatesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.OrderUpdate]:
        since = request.since_seq if request.HasField("since_seq") else None
        async for update in order_updates(
            self.calls, self.fanout, context, request.account_id, since, request.subaccounts
        ):
            yield update


__all__ = ["OrdersService", "order_in"]
