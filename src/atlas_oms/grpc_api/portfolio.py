"""``atlas.v1.Positions``, ``Balances`` and ``Accounts``: REST's /v1/positions, /v1/balances,
/v1/accounts and /v1/transfers over gRPC."""

from __future__ import annotations

import grpc
import pydantic

from atlas_oms.grpc_api.calls import Calls, invalid
from atlas_oms.grpc_api.convert import fill
from atlas_oms.grpc_api.gen.atlas.v1 import portfolio_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import portfolio_pb2_grpc as rpc
from atlas_oms.service import schemas as s
from atlas_oms.service.keys import ApiKey


class PositionsService(rpc.PositionsServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def List(
        self, request: pb.AccountRequest, context: grpc.aio.ServicerContext
    ) -> pb.PositionList:
        service = self.calls.service

        def answer(key: ApiKey) -> pb.PositionList:
            service.require_account(key, request.account_id)
            views = service.numbers.builtins(service.node.positions(request.account_id))
            out = pb.PositionList()
            for view in views:
                fill(out.positions.add(), view)
            return out

        return await self.calls.unary(context, "Positions.List", answer)


class BalancesService(rpc.BalancesServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def List(
        self, request: pb.AccountRequest, context: grpc.aio.ServicerContext
    ) -> pb.BalanceList:
        service = self.calls.service

        def answer(key: ApiKey) -> pb.BalanceList:
            service.require_account(key, request.account_id)
            out = pb.BalanceList()
            for view in service.numbers.builtins(service.node.balances(request.account_id)):
                fill(out.balances.add(), view)
            return out

        return await self.calls.unary(context, "Balances.List", answer)


class AccountsService(rpc.AccountsServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def List(
        self, request: pb.ListAccountsRequest, context: grpc.aio.ServicerContext
    ) -> pb.AccountList:
        service = self.calls.service

        def answer(key: ApiKey) -> pb.AccountList:
            out = pb.AccountList()
            for account in service.node.accounts():
                if service.visible(key, account.account_id):
                    fill(out.accounts.add(), service.numbers.builtins(account))
            return out

        return await self.calls.unary(context, "Accounts.List", answer)

    async def Get(
        self, request: pb.AccountRequest, context: grpc.aio.ServicerContext
    ) -> pb.AccountDetail:
        service = self.calls.service

        def answer(key: ApiKey) -> pb.AccountDetail:
            account_id = request.account_id
            service.require_account(key, account_id)
            node = service.node
            return fill(
                pb.AccountDetail(),
                {
                    "account": service.numbers.builtins(node.account(account_id)),
                    "sub_accounts": node.account_tree(account_id)[1:],
                    "balances": service.numbers.builtins(node.balances(account_id)),
                },
            )

        return await self.calls.unary(context, "Accounts.Get", answer)

    async def Transfer(
        self, request: pb.TransferRequest, context: grpc.aio.ServicerContext
    ) -> pb.TransferResponse:
        service = self.calls.service

        def answer(key: ApiKey) -> pb.TransferResponse:
            body = {
                "from_account_id": request.from_account_id,
                "to_account_id": request.to_account_id,
                "asset": request.asset,
                "amount": request.amount,
            }
            if request.reason:
                body["reason"] = request.reason
            try:
                t = s.TransferIn.model_validate(body)
            except pydantic.ValidationError as exc:
                raise invalid(exc) from None
            service.require_trading(key, t.from_account_id, "transfer funds")
            service.require_trading(key, t.to_account_id, "transfer funds")
            sent, received = service.node.transfer(
                t.from_account_id, t.to_account_id, t.asset, t.amount, t.reason
            )
            return fill(
                pb.TransferResponse(),
                {
                    "from_balance": service.numbers.builtins(sent),
                    "to_balance": service.numbers.builtins(received),
                    "seq": service.node.seq,
                },
            )

        return await self.calls.unary(context, "Accounts.Transfer", answer, write=True)

    async def ListTransfers(
        self, request: pb.AccountRequest, context: grpc.aio.ServicerContext
    ) -> pb.TransferList:
        service = self.calls.service

        def answer(key: ApiKey) -> pb.TransferList:
            service.require_account(key, request.account_id)
            out = pb.TransferList()
            for t in service.numbers.builtins(service.node.transfers(request.account_id)):
                fill(out.transfers.add(), t)
            return out

        return await self.calls.unary(context, "Accounts.ListTransfers", answer)


__all__ = ["AccountsService", "BalancesService", "PositionsService"]
