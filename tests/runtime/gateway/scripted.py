"""A scripted in-memory venue adapter (the ports of core/ports.py) for the gateway's tests:
programmable outcomes, stream facts, query answers, visibility lag, clock offset and delays; it
records every call in order (``calls``).

Its book behaves like a venue's: a place (or a committed unknown) puts the order in it, visible to
queries after ``visible_after_s``; a second place under a client order id the book holds is
refused as a duplicate (an Unknown ``DUPLICATE``, as Binance answers -2010/-4116).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.enums import InstrumentKind, LiquiditySide, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.venue import (
    Acknowledged,
    AmendOrder,
    CancelOrder,
    Outcome,
    PlaceOrder,
    PriceTick,
    Refused,
    StreamGap,
    Unknown,
    VenueAccountSettings,
    VenueBalance,
    VenueFact,
    VenueFill,
    VenueInstrument,
    VenueOrder,
    VenueOrderState,
    VenuePosition,
)

SPOT = "BTC/USDT"


def spot_instrument(venue: str = "binance") -> Instrument:
    return Instrument(
        symbol=SPOT,
        kind=InstrumentKind.SPOT,
        base="BTC",
        quote="USDT",
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.001"),
        venue=venue,
        venue_symbol="BTCUSDT",
    )


@dataclass
class Step:
    """What the venue does with one command. ``kind``: ack, refuse, unknown. ``commit``: the
    venue took it (an unknown that did land); ``fill``: it filled at once; ``delay_s``: the
    answer comes that late."""

    kind: str = "ack"
    reason: str = ""
    code: str = ""
    message: str = ""
    commit: bool | None = None
    fill: bool = False
    delay_s: float = 0.0
    visible_after_s: float = 0.0
    status: int = 200
    headers: Mapping[str, str] | None = None


class ScriptedAdapter:
    def __init__(
        self,
        venue: str = "binance",
        account_id: str = "A",
        *,
        hedge_mode: bool = False,
        clock_offset_ns: int = 0,
        instruments: tuple[Instrument, ...] | None = None,
    ) -> None:
        self.venue = venue
        self.account_id = account_id
        self.before_request: Callable[[int, bool], Awaitable[None]] | None = None
        self.on_response: Callable[[int, Mapping[str, str]], None] | None = None
        self.hedge_mode = hedge_mode
        self.clock_offsets: deque[int] = deque([clock_offset_ns])
        self.signing_offset_ns = 0
        self.instrument_list = instruments if instruments is not None else (spot_instrument(venue),)
        self.calls: list[str] = []
        #: Every place command as the adapter got it.
        self.placed: list[PlaceOrder] = []
        self.place_script: deque[Step] = deque()
        self.cancel_script: deque[Step] = deque()
        self.book: dict[str, VenueOrder] = {}
        self.visible_at: dict[str, float] = {}
        self.fill_list: list[VenueFill] = []
        self.balance_list: list[VenueBalance] = [VenueBalance(asset="USDT", free=Decimal(1000))]
        self.position_list: list[VenuePosition] = []
        self.query_failures = 0
        self.stream: asyncio.Queue[VenueFact | BaseException] = asyncio.Queue()
        self.stream_opens = 0
        self.ticks: asyncio.Queue[PriceTick] = asyncio.Queue()
        self.started = 0
        self.next_id = 1000
        self.query_delay_s = 0.0
        #: Answers fed to ``on_response`` (status, headers) after each request, in turn.
        self.responses: deque[tuple[int, Mapping[str, str]]] = deque()

    # ------------------------------------------------------------------ helpers
    def now(self) -> int:
        return time.time_ns()

    def _loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    async def _request(self, name: str, is_order: bool = False) -> None:
        if self.before_request is not None:
            await self.before_request(1, is_order)
        self.calls.append(name)  # once it passed the rate limiter

    def _answer(self, status: int = 200, headers: Mapping[str, str] | None = None) -> None:
        if self.on_response is None:
            return
        if headers is None and self.responses:
            status, headers = self.responses.popleft()
        self.on_response(status, headers or {})

    def vorder(
        self,
        cmd: PlaceOrder,
        state: VenueOrderState = VenueOrderState.NEW,
        cum: Decimal = Decimal(0),
    ) -> VenueOrder:
        self.next_id += 1
        return VenueOrder(
            venue=self.venue,
            account_id=self.account_id,
            symbol=cmd.symbol,
            venue_symbol="BTCUSDT",
            venue_order_id=str(self.next_id),
            client_order_id=cmd.client_order_id,
            order_id=None,
            side=cmd.side,
            order_type="LIMIT" if cmd.price is not None else "MARKET",
            qty=cmd.qty,
            price=cmd.price,
            cum_qty=cum,
            avg_px=cmd.price if cum else None,
            state=state,
            ts=self.now(),
        )

    def fill_for(self, order: VenueOrder, trade_id: str) -> VenueFill:
        return VenueFill(
            venue=self.venue,
            account_id=self.account_id,
            symbol=order.symbol,
            venue_order_id=order.venue_order_id,
            client_order_id=order.client_order_id,
            order_id=None,
            trade_id=trade_id,
            side=order.side,
            qty=order.qty,
            px=order.price or Decimal(100),
            fee=Decimal(0),
            fee_asset="USDT",
            liquidity_side=LiquiditySide.TAKER,
            ts=self.now(),
        )

    def add_to_book(self, cmd: PlaceOrder, *, fill: bool, visible_after_s: float) -> VenueOrder:
        order = self.vorder(cmd)
        if fill:
            order = self.vorder(cmd, VenueOrderState.FILLED, cmd.qty)
            self.fill_list.append(self.fill_for(order, f"t{order.venue_order_id}"))
        self.book[cmd.client_order_id] = order
        self.visible_at[cmd.client_order_id] = self._loop_time() + visible_after_s
        return order

    def places(self) -> list[str]:
        return [c for c in self.calls if c.startswith("place:")]

    async def push(self, fact: VenueFact | BaseException) -> None:
        await self.stream.put(fact)

    def gap(self, reason: str = "DISCONNECTED") -> StreamGap:
        return StreamGap(venue=self.venue, account_id=self.account_id, ts=self.now(), reason=reason)

    # ------------------------------------------------------------------ commands
    async def place(self, order: PlaceOrder) -> Outcome:
        await self._request(f"place:{order.client_order_id}", True)
        self.placed.append(order)
        step = self.place_script.popleft() if self.place_script else Step()
        if step.delay_s:
            await asyncio.sleep(step.delay_s)
        self._answer(step.status, step.headers)
        if order.client_order_id in self.book and step.kind == "ack":
            return Unknown(reason="DUPLICATE", code="-2010", message="Duplicate order sent.")
        commit = step.commit if step.commit is not None else step.kind == "ack"
        placed = None
        if commit:
            placed = self.add_to_book(order, fill=step.fill, visible_after_s=step.visible_after_s)
        if step.kind == "ack":
            assert placed is not None
            fills = tuple(f for f in self.fill_list if f.client_order_id == order.client_order_id)
            return Acknowledged(venue_order_id=placed.venue_order_id, order=placed, fills=fills)
        if step.kind == "refuse":
            return Refused(reason=step.reason, code=step.code, message=step.message)
        return Unknown(reason=step.reason or "TIMEOUT", code=step.code, message=step.message)

    async def cancel(self, order: CancelOrder) -> Outcome:
        await self._request(f"cancel:{order.client_order_id}", True)
        step = self.cancel_script.popleft() if self.cancel_script else Step()
        if step.delay_s:
            await asyncio.sleep(step.delay_s)
        self._answer(step.status, step.headers)
        if step.kind == "refuse":
            return Refused(reason=step.reason, code=step.code, message=step.message)
        known = self.book.get(order.client_order_id)
        if known is None:
            return Refused(reason="UNKNOWN_ORDER", code="-2011", message="Unknown order sent.")
        if step.commit is not False and known.state.is_open:
            known = self.book[order.client_order_id] = VenueOrder(
                **{**_fields(known), "state": VenueOrderState.CANCELED}
            )
        if step.kind == "unknown":
            return Unknown(reason=step.reason or "TIMEOUT")
        return Acknowledged(venue_order_id=known.venue_order_id, order=known)

    async def amend(self, order: AmendOrder) -> Outcome:
        await self._request(f"amend:{order.client_order_id}", True)
        return Unknown(reason="TIMEOUT")

    # ------------------------------------------------------------------ stream
    async def facts(self) -> AsyncIterator[VenueFact]:
        self.calls.append("facts")
        self.stream_opens += 1
        yield self.gap("STARTED")
        while True:
            fact = await self.stream.get()
            if isinstance(fact, BaseException):
                raise fact  # the stream fails (put an exception to break it)
            yield fact

    # ------------------------------------------------------------------ queries
    async def _query(self, name: str) -> None:
        await self._request(name)
        if self.query_delay_s:
            await asyncio.sleep(self.query_delay_s)
        if self.query_failures > 0:
            self.query_failures -= 1
            raise VenueQueryFailed("TIMEOUT", "scripted query failure")
        self._answer()

    def _visible(self, cid: str) -> bool:
        return cid in self.book and self._loop_time() >= self.visible_at.get(cid, 0.0)

    async def open_orders(self) -> list[VenueOrder]:
        await self._query("open_orders")
        return [o for cid, o in self.book.items() if o.state.is_open and self._visible(cid)]

    async def order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> VenueOrder | None:
        await self._query(f"order:{client_order_id}")
        if client_order_id is not None and self._visible(client_order_id):
            return self.book[client_order_id]
        return None

    async def fills(self, since_ts: int, symbol: str | None = None) -> list[VenueFill]:
        await self._query("fills")
        return [
            f
            for f in self.fill_list
            if f.ts >= since_ts
            and (symbol is None or f.symbol == symbol)
            and (f.client_order_id is None or self._visible(f.client_order_id))
        ]

    async def balances(self) -> list[VenueBalance]:
        await self._query("balances")
        return list(self.balance_list)

    async def positions(self) -> list[VenuePosition]:
        await self._query("positions")
        return list(self.position_list)

    async def instruments(self) -> list[VenueInstrument]:
        await self._query("instruments")
        return [
            VenueInstrument(instrument=i, venue_symbol=i.venue_symbol or i.symbol)
            for i in self.instrument_list
        ]

    async def server_time(self) -> int:
        await self._query("server_time")
        offset = self.clock_offsets[0]
        if len(self.clock_offsets) > 1:
            self.clock_offsets.popleft()
        return time.time_ns() + offset

    # ------------------------------------------------------------------ market data
    async def prices(self, symbols: list[str]) -> AsyncIterator[PriceTick]:
        self.calls.append("prices")
        while True:
            yield await self.ticks.get()

    # ------------------------------------------------------------------ account
    def set_clock_offset(self, offset_ns: int) -> None:
        self.calls.append("set_clock_offset")
        self.signing_offset_ns = offset_ns

    async def start(self) -> None:
        self.calls.append("start")
        self.started += 1

    async def close(self) -> None:
        self.calls.append("close")

    async def account_settings(self) -> VenueAccountSettings:
        await self._query("account_settings")
        return VenueAccountSettings(hedge_mode=self.hedge_mode)


def _fields(order: VenueOrder) -> dict[str, object]:
    return {f: getattr(order, f) for f in order.__struct_fields__}


__all__ = ["SPOT", "ScriptedAdapter", "Side", "Step", "spot_instrument"]
