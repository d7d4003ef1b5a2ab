"""``atlas.v1.MarketData`` (REST's /v1/book and /v1/marketdata/trades, and the WebSocket's
market channel) and ``atlas.v1.Risk`` (REST's /v1/risk/status)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import grpc

from atlas_oms.grpc_api.calls import Calls
from atlas_oms.grpc_api.convert import enum_number, fill
from atlas_oms.grpc_api.fanout import Fanout, guarded
from atlas_oms.grpc_api.gen.atlas.v1 import market_data_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import market_data_pb2_grpc as rpc
from atlas_oms.grpc_api.gen.atlas.v1 import risk_pb2 as risk_pb
from atlas_oms.grpc_api.gen.atlas.v1 import risk_pb2_grpc as risk_rpc
from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as types
from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide
from atlas_oms.service.access import role_required
from atlas_oms.service.app import Problem
from atlas_oms.service.keys import ApiKey
from atlas_oms.service.numbers import PRICE, QTY


class MarketDataService(rpc.MarketDataServicer):
    def __init__(self, calls: Calls, fanout: Fanout) -> None:
        self.calls = calls
        self.service = calls.service
        self.fanout = fanout

    def _levels(self, levels: int) -> int:
        levels = levels or 10
        if not 1 <= levels <= 100:
            raise Problem(400, "INVALID_FIELD", "levels: 1 to 100 (0: 10)")
        return levels

    def _book(self, symbol: str, levels: int) -> pb.Book:
        """The symbol's book now (404 UNKNOWN_INSTRUMENT, or NO_QUOTE for a venue's symbol that
        has sent no prices yet), as REST's /v1/book shows it."""
        service = self.service
        instrument = service.node.instrument(symbol)
        if instrument is None:
            raise Problem(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol}")
        book = self.fanout.hub.book(symbol, levels)
        if book is None:
            raise Problem(
                404,
                "NO_QUOTE",
                f"{symbol} trades on {instrument.venue}, which has sent no prices yet",
            )
        out = pb.Book(symbol=symbol, seq=service.node.seq)
        for side in ("bids", "asks"):
            for price, qty in book[side]:
                getattr(out, side).add(price=str(price), qty=str(qty))
        return out

    async def GetBook(self, request: pb.BookRequest, context: grpc.aio.ServicerContext) -> pb.Book:
        def answer(key: ApiKey) -> pb.Book:
            return self._book(request.symbol, self._levels(request.levels))

        return await self.calls.unary(context, "GetBook", answer)

    async def GetTrades(
        self, request: pb.TradesRequest, context: grpc.aio.ServicerContext
    ) -> pb.TradeList:
        def answer(key: ApiKey) -> pb.TradeList:
            symbol, limit = request.symbol, request.limit or 50
            service = self.service
            if not 1 <= limit <= 1000:
                raise Problem(400, "INVALID_FIELD", "limit: 1 to 1000 (0: 50)")
            if service.node.instrument(symbol) is None:
                raise Problem(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol}")
            out = pb.TradeList(symbol=symbol)
            for f in reversed(service.node.fills(symbol=symbol)):
                if f.liquidity_side == "TAKER":
                    out.trades.append(self._trade(key, f, with_id=False))
                    if len(out.trades) == limit:
                        break
            return out

        return await self.calls.unary(context, "GetTrades", answer)

    def _trade(self, key: ApiKey, fill_: Any, *, with_id: bool) -> pb.Trade:
        numbers = self.service.numbers
        symbol = fill_.symbol
        trade = pb.Trade(
            seq=fill_.seq,
            ts=fill_.ts_event,
            symbol=symbol,
            price=str(numbers.number(fill_.last_px, PRICE, symbol, None)),
            qty=str(numbers.number(fill_.last_qty, QTY, symbol, None)),
            taker_side=types.Side.Name(enum_number(types.Side.DESCRIPTOR, str(fill_.side))),
        )
        if with_id:
            trade_id = str(fill_.trade_id)
            trade.trade_id = trade_id if key.has("risk") else self.service.mask_text(key, trade_id)
        return trade

    async def StreamBook(
        self, request: pb.BookRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.Book]:
        async def body(key: ApiKey) -> AsyncIterator[pb.Book]:
            levels = self._levels(request.levels)
            last = self._book(request.symbol, levels)
            sub = self.fanout.subscribe()
            try:
                await self.service.durable()  # the book shows only what the journal holds
                yield last
                while True:
                    await sub.get()
                    book = self._book(request.symbol, levels)
                    if list(book.bids) != list(last.bids) or list(book.asks) != list(last.asks):
                        await self.service.durable()
                        last = book
                        yield book
            finally:
                self.fanout.unsubscribe(sub)

        async for item in guarded(self.calls, context, "StreamBook", body):
            yield item

    async def StreamTrades(
        self, request: pb.TradesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.Trade]:
        symbol = request.symbol

        async def body(key: ApiKey) -> AsyncIterator[pb.Trade]:
            if self.service.node.instrument(symbol) is None:
                raise Problem(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol}")
            sub = self.fanout.subscribe()
            try:
                while True:
                    for event in await sub.get():
                        if not isinstance(event, ev.OrderFilled) or event.symbol != symbol:
                            continue
                        if event.liquidity_side is LiquiditySide.TAKER:
                            yield self._trade(key, event, with_id=True)
            finally:
                self.fanout.unsubscribe(sub)

        async for item in guarded(self.calls, context, "StreamTrades", body):
            yield item


class RiskService(risk_rpc.RiskServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def GetRiskStatus(
        self, request: risk_pb.RiskStatusRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb.RiskStatus:
        service = self.calls.service

        def answer(key: ApiKey) -> risk_pb.RiskStatus:
            account_id = request.account_id if request.HasField("account_id") else None
            if account_id is None:
                if not key.has("risk"):
                    raise Problem(403, "FORBIDDEN_ROLE", role_required("risk"))
            else:
                service.require_account(key, account_id)
            status: dict[str, Any] = service.numbers.builtins(service.node.risk_status(account_id))
            out = fill(
                risk_pb.RiskStatus(),
                {
                    "trading_states": status["trading_states"],
                    "kill_switches": status["kill_switches"],
                    "market_status": {
                        k: v if isinstance(v, str) else json.dumps(v)
                        for k, v in status["market_status"].items()
                    },
                },
            )
            for breaker in status["circuit_breakers"]:
                out.circuit_breakers_json.append(json.dumps(breaker, separators=(",", ":")))
            for entry in status["limits"]:
                limits = out.limits.add(scope=entry["scope"], scope_id=entry["scope_id"])
                for name, value in (entry["limits"] or {}).items():
                    if value is not None:
                        limits.limits[name] = value if isinstance(value, str) else json.dumps(value)
            return out

        return await self.calls.unary(context, "GetRiskStatus", answer)


__all__ = ["MarketDataService", "RiskService"]
