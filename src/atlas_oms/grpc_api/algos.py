"""The ``atlas.v1.Algos`` service: REST's /v1/algos over gRPC (service/routes_algos.py): the same
start (``_start``: the trader role on the account, the venue check, the idempotent ``algo_id``),
the same owner checks (``owned_algo``: another account's parent is NOT_FOUND ``UNKNOWN_ALGO``),
the same node calls and the same view (``algo_body``), which ``view_json`` carries whole."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pydantic

from atlas_oms.grpc_api.calls import Calls, invalid
from atlas_oms.grpc_api.convert import fill, to_dict
from atlas_oms.grpc_api.gen.atlas.v1 import algos_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import algos_pb2_grpc as rpc
from atlas_oms.runtime.node_algos import AlgoView
from atlas_oms.service import schemas as s
from atlas_oms.service.algo_views import algo_body, owned_algo, route_log
from atlas_oms.service.app import Problem, Service
from atlas_oms.service.keys import ApiKey
from atlas_oms.service.routes_algos import _start


def algo_in(request: pb.SubmitAlgoRequest) -> s.AlgoIn:
    """The request as REST's body model (validated the same way; 400 INVALID_FIELD)."""
    try:
        return s.AlgoIn.model_validate(to_dict(request))
    except pydantic.ValidationError as exc:
        raise invalid(exc) from None


class AlgosService(rpc.AlgosServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.service: Service = calls.service

    def _algo(self, body: dict[str, Any], *, duplicate: bool = False) -> pb.Algo:
        algo = fill(pb.Algo(), body)
        algo.duplicate = duplicate
        algo.view_json = json.dumps(body, separators=(",", ":"))
        return algo

    async def _full(self, view: AlgoView, *, duplicate: bool = False) -> pb.Algo:
        """The parent with its route decisions (as REST's ``_view``)."""
        routes, reroutes = await route_log(self.service).of(view)
        return self._algo(algo_body(self.service, view, routes, reroutes), duplicate=duplicate)

    async def SubmitAlgo(
        self, request: pb.SubmitAlgoRequest, context: grpc.aio.ServicerContext
    ) -> pb.Algo:
        async def answer(key: ApiKey) -> pb.Algo:
            status, view = _start(self.service, key, algo_in(request))
            return await self._full(view, duplicate=status == 200)

        return await self.calls.unary(context, "SubmitAlgo", answer, write=True)

    async def GetAlgo(self, request: pb.AlgoRef, context: grpc.aio.ServicerContext) -> pb.Algo:
        async def answer(key: ApiKey) -> pb.Algo:
            return await self._full(owned_algo(self.service, key, request.algo_id))

        return await self.calls.unary(context, "GetAlgo", answer)

    async def ListAlgos(
        self, request: pb.ListAlgosRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAlgosResponse:
        def answer(key: ApiKey) -> pb.ListAlgosResponse:
            service = self.service
            account_id = request.account_id if request.HasField("account_id") else None
            if account_id is not None:
                service.require_account(key, account_id)
            out = pb.ListAlgosResponse()
            for view in service.node.algos(account_id, open_only=request.open_only):
                if service.visible(key, view.account_id):
                    out.algos.append(self._algo(algo_body(service, view)))
            return out

        return await self.calls.unary(context, "ListAlgos", answer)

    async def _act(self, context: grpc.aio.ServicerContext, algo_id: str, act: str) -> pb.Algo:
        async def answer(key: ApiKey) -> pb.Algo:
            service = self.service
            if not algo_id:
                raise Problem(400, "INVALID_FIELD", "algo_id: required")
            owned_algo(service, key, algo_id, act)
            node = service.node
            do = {"pause": node.pause_algo, "resume": node.resume_algo, "cancel": node.cancel_algo}
            return await self._full(do[act](algo_id))

        return await self.calls.unary(context, f"{act.capitalize()}Algo", answer, write=True)

    async def CancelAlgo(self, request: pb.AlgoRef, context: grpc.aio.ServicerContext) -> pb.Algo:
        return await self._act(context, request.algo_id, "cancel")

    async def PauseAlgo(self, request: pb.AlgoRef, context: grpc.aio.ServicerContext) -> pb.Algo:
        return await self._act(context, request.algo_id, "pause")

    async def ResumeAlgo(self, request: pb.AlgoRef, context: grpc.aio.ServicerContext) -> pb.Algo:
        return await self._act(context, request.algo_id, "resume")


__all__ = ["AlgosService", "algo_in"]
