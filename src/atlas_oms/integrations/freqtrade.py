"""freqtrade on Atlas: a freqtrade strategy's entries and exits pass Atlas's risk checks, kill
switches and circuit breakers, and its fills are booked into Atlas's positions.

A strategy mixes in :class:`AtlasGuard` before ``IStrategy`` and names an :class:`Atlas` client::

    class MyStrategy(AtlasGuard, IStrategy):
        atlas = EmbeddedAtlas.create(node, "bot-1")        # a Node in the bot's process
        # or: atlas = RestAtlas("http://127.0.0.1:8000", "<key_id>.<secret>", "bot-1")

How it works (the decision this module takes): every entry and exit freqtrade wants to place is
SUBMITTED TO ATLAS FOR REAL in ``confirm_trade_entry``/``confirm_trade_exit``, not only checked.
Atlas runs every pre-trade check on it (kill switches, trading states, circuit breakers, order
rates, size and position limits...), journals the decision, and the callback answers freqtrade
True only when Atlas accepted the order. A denied order never reaches the exchange.

- :class:`EmbeddedAtlas` (library): the order goes to a venue of the node, :class:`FreqtradeVenue`,
  that stands for freqtrade's exchange: it acknowledges and works the order, and freqtrade's
  fills (``order_filled``) are booked on it, so Atlas's positions, balances, P&L and breakers
  follow freqtrade's trades. A fill freqtrade made without asking (a backtest's forced exit at
  the end of the data) is submitted and booked at fill time.
- :class:`RestAtlas` (a running ``atlas serve``): the order is placed through ``POST /v1/orders``
  on the server's own venue of the instrument (the built-in exchange, or a real venue): Atlas
  is the execution path and books its own fills; freqtrade's ``order_filled`` books nothing more.

freqtrade speaks floats; Atlas takes Decimals: every amount and price is converted through its
``str`` and rounded to the instrument's lot (down) and tick. An error while asking Atlas denies
the order (freqtrade would otherwise read an exception in ``confirm_trade_entry`` as a yes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

import httpx
import msgspec

from atlas_oms.model import events as ev
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import LiquiditySide, OrderType, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.reports import (
    Report,
    VenueAccepted,
    VenueCanceled,
    VenueFilled,
    VenueModifyRejected,
)
from atlas_oms.model.requests import CancelAtVenue, ModifyAtVenue, SubmitToVenue, VenueRequest
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.node import Node

__all__ = [
    "Atlas",
    "AtlasGuard",
    "EmbeddedAtlas",
    "FreqtradeVenue",
    "Intent",
    "RestAtlas",
    "Verdict",
    "to_price",
    "to_qty",
]

log = logging.getLogger(__name__)

#: The name of the node's venue that stands for freqtrade's exchange.
VENUE = "freqtrade"


# --------------------------------------------------------------------------- values
@dataclass(frozen=True, slots=True)
class Intent:
    """One order freqtrade wants to place, in Atlas's terms."""

    symbol: str
    side: Side
    qty: Decimal
    #: The limit price; None for a market order.
    price: Decimal | None
    #: The price freqtrade sees now (its proposed rate): Atlas's last price before the order.
    rate: Decimal
    reduce_only: bool
    tag: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """Atlas's answer: accepted (``ref`` names the order in Atlas), or refused with a reason
    code and a sentence."""

    accepted: bool
    reason: str = ""
    message: str = ""
    ref: str | None = None


class Atlas(Protocol):
    """What the mixin needs of Atlas, in a process (:class:`EmbeddedAtlas`) or over REST
    (:class:`RestAtlas`)."""

    account_id: str

    def instrument(self, symbol: str) -> Instrument | None: ...

    def place(self, intent: Intent) -> Verdict: ...

    def book_fill(
        self, ref: str, qty: Decimal, price: Decimal, fee: Decimal, ts_ns: int
    ) -> None: ...

    def position_qty(self, symbol: str) -> Decimal: ...


def to_qty(value: float, inst: Instrument) -> Decimal:
    """A freqtrade amount as a Decimal, rounded down to the instrument's lot."""
    d = Decimal(str(value))
    return (d / inst.lot_size).to_integral_value(ROUND_DOWN) * inst.lot_size


def to_price(value: float, inst: Instrument) -> Decimal:
    """A freqtrade rate as a Decimal, rounded to the instrument's tick."""
    d = Decimal(str(value))
    return (d / inst.tick_size).to_integral_value(ROUND_HALF_EVEN) * inst.tick_size


def to_ns(when: datetime | None) -> int:
    return 0 if when is None else int(when.timestamp() * 1_000_000) * 1_000


def pair_symbol(pair: str) -> str:
    """freqtrade's pair is ccxt's unified symbol (``BTC/USDT``, ``BTC/USDT:USDT``), as Atlas's."""
    return pair


# --------------------------------------------------------------------------- embedded
class FreqtradeVenue:
    """The node's venue for orders freqtrade executes on its own exchange: it acknowledges and
    works every order; fills arrive from freqtrade (:meth:`EmbeddedAtlas.book_fill`)."""

    synchronous = True

    def __init__(self, name: str = VENUE) -> None:
        self.name = name

    def handle(self, request: VenueRequest) -> list[Report]:
        if type(request) is SubmitToVenue:
            return [
                VenueAccepted(
                    order_id=request.order_id,
                    ts=request.ts,
                    venue_order_id=f"{self.name}-{request.order_id}",
                )
            ]
        if type(request) is CancelAtVenue:
            return [VenueCanceled(order_id=request.order_id, ts=request.ts, reason="CANCELED")]
        if type(request) is ModifyAtVenue:
            return [
                VenueModifyRejected(
                    order_id=request.order_id,
                    ts=request.ts,
                    reason="NOT_SUPPORTED",
                    message="freqtrade replaces orders itself",
                )
            ]
        raise TypeError(f"{self.name} venue cannot handle {type(request).__name__}")

    def restore(self, orders: Iterable[Any]) -> None:
        """Nothing to rebuild: the orders' state is Atlas's own."""


@dataclass
class EmbeddedAtlas:
    """Atlas as a library in the bot's process: ``node`` must have a :class:`FreqtradeVenue`
    (``Node.in_memory(venues=[FreqtradeVenue()])``) and instruments on it."""

    node: Node
    account_id: str
    venue: str = VENUE
    _exec: int = field(default=0, init=False)

    @classmethod
    def create(cls, node: Node, account_id: str) -> EmbeddedAtlas:
        if not any(isinstance(v, FreqtradeVenue) for v in node.venues.values()):
            raise ValueError("the node needs a FreqtradeVenue: Node(venues=[FreqtradeVenue()])")
        return cls(node, account_id)

    def instrument(self, symbol: str) -> Instrument | None:
        return self.node.instrument(symbol)

    def _follow(self, ts_ns: int) -> None:
        """A node on a manual clock (a backtest) follows freqtrade's time, never back."""
        clock = self.node.clock
        if isinstance(clock, ManualClock) and ts_ns > clock.now():
            clock.set(ts_ns)

    def place(self, intent: Intent) -> Verdict:
        node = self.node
        self._follow(intent.ts_ns)
        node.update_prices(intent.symbol, last=intent.rate)
        cmd = SubmitOrder(
            ts=node.clock.now(),
            account_id=self.account_id,
            symbol=intent.symbol,
            side=intent.side,
            order_type=OrderType.MARKET if intent.price is None else OrderType.LIMIT,
            qty=intent.qty,
            price=intent.price,
            reduce_only=intent.reduce_only,
            tag=intent.tag,
        )
        for event in node.process(cmd):
            if isinstance(event, ev.CommandRejected):
                return Verdict(False, str(event.reason), event.message)
            if isinstance(event, ev.OrderDenied):
                return Verdict(False, str(event.reason), event.message, str(event.order_id))
            if isinstance(event, ev.OrderSubmitted):
                return Verdict(True, ref=str(event.order_id))
        return Verdict(False, "NO_ANSWER", "Atlas gave no answer to the order")

    def book_fill(self, ref: str, qty: Decimal, price: Decimal, fee: Decimal, ts_ns: int) -> None:
        self._follow(ts_ns)
        self._exec += 1
        order_id = int(ref)
        inst = self.node.instrument(self.node.order(order_id).symbol)
        assert inst is not None
        self.node.feed(
            VenueFilled(
                order_id=order_id,
                ts=self.node.clock.now(),
                exec_id=f"{self.venue}-x{self._exec}",
                trade_id=f"{self.venue}-t{self._exec}",
                last_qty=qty,
                last_px=price,
                liquidity_side=LiquiditySide.TAKER,
                fee=fee,
                fee_asset=inst.quote,
                venue_order_id=f"{self.venue}-{order_id}",
            )
        )

    def position_qty(self, symbol: str) -> Decimal:
        view = self.node.position(self.account_id, symbol)
        return Decimal(0) if view is None else view.qty


# --------------------------------------------------------------------------- over REST
class RestAtlas:
    """A running ``atlas serve`` over its REST API (``/v1``) with an API key: orders go to the
    server's venue of the instrument, which books its own fills."""

    def __init__(
        self,
        url: str,
        api_key: str,
        account_id: str,
        *,
        http: httpx.Client | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.account_id = account_id
        self.http = http if http is not None else httpx.Client(base_url=url, timeout=timeout_s)
        self.http.headers["X-API-Key"] = api_key
        self._instruments: dict[str, Instrument] = {}

    def instrument(self, symbol: str) -> Instrument | None:
        if not self._instruments:
            reply = self.http.get("/v1/instruments")
            reply.raise_for_status()
            for raw in reply.json():
                inst = msgspec.convert(raw, Instrument, strict=False)
                self._instruments[inst.symbol] = inst
        return self._instruments.get(symbol)

    def place(self, intent: Intent) -> Verdict:
        body: dict[str, Any] = {
            "account_id": self.account_id,
            "symbol": intent.symbol,
            "side": intent.side.value,
            "order_type": "MARKET" if intent.price is None else "LIMIT",
            "qty": str(intent.qty),
            "reduce_only": intent.reduce_only,
            "tag": intent.tag,
        }
        if intent.price is not None:
            body["price"] = str(intent.price)
        reply = self.http.post("/v1/orders", json=body)
        data = reply.json()
        if reply.status_code in (200, 201):
            return Verdict(True, ref=str(data["order_id"]))
        return Verdict(
            False, str(data.get("reason", reply.status_code)), str(data.get("detail", ""))
        )

    def book_fill(self, ref: str, qty: Decimal, price: Decimal, fee: Decimal, ts_ns: int) -> None:
        """Nothing: the server's venue executed the order and booked its fills."""

    def position_qty(self, symbol: str) -> Decimal:
        reply = self.http.get("/v1/positions", params={"account_id": self.account_id})
        reply.raise_for_status()
        total = Decimal(0)
        for pos in reply.json():
            if pos["symbol"] == symbol:
                total += Decimal(str(pos["qty"]))
        return total


# --------------------------------------------------------------------------- the mixin
class AtlasGuard:
    """Mix in before ``IStrategy``: freqtrade's entries and exits go through Atlas.

    ``atlas`` is the client; ``atlas_tag`` the strategy tag Atlas's per-strategy limits and
    reports use. ``atlas_refusals`` keeps every refusal (pair, side, reason, sentence) and
    ``atlas_unbooked`` every fill Atlas could not book (positions then differ: say so loudly).
    """

    atlas: Atlas
    atlas_tag: str = "freqtrade"

    def _atlas_state(self) -> dict[str, Any]:
        state: dict[str, Any] | None = self.__dict__.get("_atlas")
        if state is None:
            state = self.__dict__["_atlas"] = {"pending": {}, "refusals": [], "unbooked": []}
        return state

    @property
    def atlas_refusals(self) -> list[tuple[str, str, str, str]]:
        refusals: list[tuple[str, str, str, str]] = self._atlas_state()["refusals"]
        return refusals

    @property
    def atlas_unbooked(self) -> list[tuple[str, str, str]]:
        unbooked: list[tuple[str, str, str]] = self._atlas_state()["unbooked"]
        return unbooked

    def _atlas_ask(
        self,
        pair: str,
        side: Side,
        order_type: str,
        amount: float,
        rate: float,
        reduce_only: bool,
        when: datetime | None,
    ) -> Verdict:
        symbol = pair_symbol(pair)
        try:
            inst = self.atlas.instrument(symbol)
            if inst is None:
                verdict = Verdict(
                    False, Reason.UNKNOWN_INSTRUMENT, f"Atlas has no instrument {symbol}"
                )
            else:
                price = to_price(rate, inst)
                verdict = self.atlas.place(
                    Intent(
                        symbol=symbol,
                        side=side,
                        qty=to_qty(amount, inst),
                        price=None if order_type == "market" else price,
                        rate=price,
                        reduce_only=reduce_only,
                        tag=self.atlas_tag,
                        ts_ns=to_ns(when),
                    )
                )
        except Exception as exc:  # fail closed: freqtrade reads an exception as a yes
            log.exception("Atlas could not be asked about %s %s", side.value, pair)
            verdict = Verdict(False, "ATLAS_UNAVAILABLE", f"{type(exc).__name__}: {exc}")
        state = self._atlas_state()
        if verdict.accepted:
            state["pending"][(pair, side.value.lower())] = verdict.ref
        else:
            state["refusals"].append((pair, side.value, verdict.reason, verdict.message))
            log.warning(
                "Atlas refused %s %s: %s %s", side.value, pair, verdict.reason, verdict.message
            )
        return verdict

    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        """Enter only if Atlas accepts the order (``side``: "long" buys, "short" sells)."""
        atlas_side = Side.SELL if side == "short" else Side.BUY
        return self._atlas_ask(
            pair, atlas_side, order_type, amount, rate, False, current_time
        ).accepted

    def confirm_trade_exit(
        self,
        pair: str,
        trade: Any,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        exit_reason: str,
        current_time: datetime,
        **kwargs: Any,
    ) -> bool:
        """Exit only if Atlas accepts the (reduce-only) order."""
        atlas_side = Side.BUY if getattr(trade, "is_short", False) else Side.SELL
        return self._atlas_ask(
            pair, atlas_side, order_type, amount, rate, True, current_time
        ).accepted

    def order_filled(
        self, pair: str, trade: Any, order: Any, current_time: datetime, **kwargs: Any
    ) -> None:
        """Book freqtrade's fill into Atlas's positions (the order Atlas accepted for it; a fill
        freqtrade made without asking, such as a backtest's forced exit, is placed first)."""
        side = str(order.ft_order_side).lower()
        filled = float(order.safe_filled)
        rate = float(order.safe_price)
        state = self._atlas_state()
        ref: str | None = state["pending"].pop((pair, side), None)
        try:
            inst = self.atlas.instrument(pair_symbol(pair))
            if inst is None:
                raise LookupError(f"Atlas has no instrument {pair}")
            if ref is None:
                exiting = side == str(getattr(trade, "exit_side", "")).lower()
                verdict = self._atlas_ask(
                    pair, Side(side.upper()), "limit", filled, rate, exiting, current_time
                )
                state["pending"].pop((pair, side), None)
                if not verdict.accepted:
                    raise CommandRefused(verdict.reason, verdict.message)
                ref = verdict.ref
            assert ref is not None
            qty = to_qty(filled, inst)
            price = to_price(rate, inst)
            fee_rate = getattr(trade, "fee_close" if side == trade.exit_side else "fee_open", 0)
            fee = Decimal(str(fee_rate or 0)) * qty * price
            self.atlas.book_fill(ref, qty, price, fee, to_ns(current_time))
        except Exception as exc:
            log.exception("Atlas could not book the %s fill of %s", side, pair)
            state["unbooked"].append((pair, side, f"{type(exc).__name__}: {exc}"))
