"""The simulated venue: orders fill against market data (bars, trade prints, book snapshots)
through pluggable fill models, for paper trading and backtests alike.

Wiring it into a node (the venue needs the node's live instruments mapping, which exists only
once the node does)::

    venue = SimulatedVenue(name="paper", config=FillConfig(...))
    node = Node.in_memory(venues=[venue])
    venue.bind(node.engine.state.instruments)  # or SimulatedVenue(node.engine.state.instruments)
    node.add_instrument(Instrument.spot("BTC/USDT", ..., venue="paper"))
    for event in market_data:
        for report in venue.on_market(event):
            node.feed(report)

After a restart, ``venue.restore((o.symbol, o.order_id, o.account_id, o.side, o.price,
o.leaves_qty) for o in node.resting_orders("paper"))``.

Semantics (``docs/SIMULATION.md``):

- An order submitted at ``ts`` arrives at ``ts + latency_ms``; before that nothing fills it (with
  latency the venue acknowledges at once and works the order on the first market event at or
  after its arrival).
- On arrival a market order (or the marketable part of a limit) takes liquidity: it walks the last
  book snapshot when the model is ``book``/``realistic`` and a book is known (the depth it takes
  is gone until the next snapshot; what the book cannot give is canceled, MARKET_NO_LIQUIDITY);
  otherwise it fills at the reference price (book mid, last trade or bar close, whichever came
  last) moved by the model's slippage, at most ``max_volume_pct`` of the last bar's volume: the
  rest of a market order waits for the next bars. No market data yet: rejected
  (NO_REFERENCE_PRICE). IOC cancels its remainder, FOK fills entirely or not at all
  (FOK_NOT_FILLABLE), a post-only order that would take is rejected (POST_ONLY_WOULD_TAKE).
- A resting limit fills as maker at its price by the queue rules of :mod:`.queue`.
- Fees: ``notional * rate`` in the instrument's settle asset, the rate from the commission tiers
  (30-day volume per account at this venue) or else the instrument's maker/taker fee.
- Ids are deterministic: ``venue_order_id = f"{name}-{order_id}"``, ``exec_id = trade_id =
  f"{name}-{order_id}-{ts}-{leaves before the fill}"`` (stable across a restart).
- Halts (:meth:`halt`): while a symbol is halted its market data is ignored and new orders are
  rejected (INSTRUMENT_HALTED).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import msgspec

from atlas_oms.model.enums import LiquiditySide, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.reports import (
    Report,
    VenueAccepted,
    VenueCanceled,
    VenueCancelRejected,
    VenueFilled,
    VenueModified,
    VenueModifyRejected,
    VenueRejected,
)
from atlas_oms.model.requests import CancelAtVenue, ModifyAtVenue, SubmitToVenue, VenueRequest
from atlas_oms.simulation import queue as q
from atlas_oms.simulation.book_walk import Level, available, crosses, walk
from atlas_oms.simulation.commission import Commissions
from atlas_oms.simulation.config import FillConfig
from atlas_oms.simulation.market import Bar, BookSnapshot, MarketEvent, TradePrint
from atlas_oms.simulation.models import ModelFill, capped_qty, market_fill
from atlas_oms.simulation.sizing import validate_order_size

ZERO = Decimal(0)
TWO = Decimal(2)
DAY_NS = 24 * 3600 * 1_000_000_000
_MAKER = LiquiditySide.MAKER
_TAKER = LiquiditySide.TAKER
_EMPTY: list[Report] = []


@dataclass(slots=True)
class SimOrder:
    """An order the venue works: ``price`` None is a market order waiting (latency or volume cap)."""

    order_id: int
    account_id: str
    symbol: str
    side: Side
    qty: Decimal
    leaves: Decimal
    price: Decimal | None
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    protection: Decimal | None = None
    no_taker_fee: bool = False
    active_ts: int = 0
    active: bool = True
    #: Volume ahead in the queue (None: not known yet, set from the next book snapshot).
    ahead: Decimal | None = ZERO


@dataclass(slots=True)
class SymbolMarket:
    """What the venue knows of one symbol's market."""

    book: BookSnapshot | None = None
    last: Decimal | None = None
    ts: int = 0
    bar_volume: Decimal | None = None
    #: Rolling 24h notional (quote) from bars and trade prints, kept only when needed.
    window: deque[tuple[int, Decimal]] = field(default_factory=deque)
    volume_24h: Decimal = ZERO

    def add_volume(self, ts: int, notional: Decimal) -> None:
        self.window.append((ts, notional))
        total = self.volume_24h + notional
        start = ts - DAY_NS
        window = self.window
        while window and window[0][0] <= start:
            total -= window.popleft()[1]
        self.volume_24h = total


class SimulatedVenue:
    """A venue that fills orders against market data with configurable fill models."""

    #: Reports come back synchronously and deterministically (like the built-in exchange).
    synchronous = True

    def __init__(
        self,
        instruments: Mapping[str, Instrument] | None = None,
        name: str = "paper",
        config: FillConfig | None = None,
    ) -> None:
        self.name = name
        self.config = config if config is not None else FillConfig()
        self._instruments: Mapping[str, Instrument] = instruments if instruments is not None else {}
        self.markets: dict[str, SymbolMarket] = {}
        self.orders: dict[int, SimOrder] = {}
        self._by_symbol: dict[str, dict[int, SimOrder]] = {}
        self.commissions = Commissions(self.config.commission_tiers)
        #: Halt windows ``(symbol or None for all, start_ns, end_ns)``: ``[start, end)``.
        self.halts: list[tuple[str | None, int, int]] = []
        self._track_24h = (
            self.config.volume_basis == "24h" or self.config.max_slippage_pct is not None
        )

    def bind(self, instruments: Mapping[str, Instrument]) -> None:
        """Use ``instruments`` (the node's live mapping: ``node.engine.state.instruments``)."""
        self._instruments = instruments

    def halt(self, start_ns: int, end_ns: int, symbol: str | None = None) -> None:
        """Halt ``symbol`` (every symbol when None) over ``[start_ns, end_ns)``."""
        self.halts.append((symbol, start_ns, end_ns))

    def halted(self, symbol: str, ts: int) -> bool:
        for sym, start, end in self.halts:
            if (sym is None or sym == symbol) and start <= ts < end:
                return True
        return False

    def market(self, symbol: str) -> SymbolMarket:
        m = self.markets.get(symbol)
        if m is None:
            m = self.markets[symbol] = SymbolMarket()
        return m

    def working(self, symbol: str) -> bool:
        """Whether the venue works any order of ``symbol`` (a market driver's fast path)."""
        return symbol in self._by_symbol

    def open_orders(self, symbol: str | None = None) -> list[SimOrder]:
        if symbol is None:
            return list(self.orders.values())
        return list(self._by_symbol.get(symbol, {}).values())

    # ------------------------------------------------------------------ requests
    def handle(self, request: VenueRequest) -> list[Report]:
        """Carry out one request; return the reports it produced, in order."""
        if type(request) is SubmitToVenue:
            return self._submit(request)
        if type(request) is CancelAtVenue:
            return self._cancel(request)
        if type(request) is ModifyAtVenue:
            return self._modify(request)
        raise TypeError(f"simulated venue cannot handle {type(request).__name__}")

    def restore(self, orders: Iterable[tuple[str, int, str, Side, Decimal, Decimal]]) -> None:
        """Rebuild the resting orders ``(symbol, order_id, account_id, side, price, leaves)`` given
        in time priority. Their queue position is the conservative one: the whole visible level
        of the next book snapshot (0 when only bars or trades follow)."""
        self.orders.clear()
        self._by_symbol.clear()
        for symbol, order_id, account_id, side, price, leaves in orders:
            self._add(
                SimOrder(
                    order_id=order_id,
                    account_id=account_id,
                    symbol=symbol,
                    side=side,
                    qty=leaves,
                    leaves=leaves,
                    price=price,
                    ahead=None,
                )
            )

    def _add(self, o: SimOrder) -> None:
        self.orders[o.order_id] = o
        self._by_symbol.setdefault(o.symbol, {})[o.order_id] = o

    def _remove(self, o: SimOrder) -> None:
        self.orders.pop(o.order_id, None)
        per = self._by_symbol.get(o.symbol)
        if per is not None:
            per.pop(o.order_id, None)
            if not per:
                del self._by_symbol[o.symbol]

    def _submit(self, r: SubmitToVenue) -> list[Report]:
        ts = r.ts
        if r.symbol not in self._instruments:
            return [_rejected(r.order_id, ts, Reason.UNKNOWN_INSTRUMENT, f"{r.symbol} unknown")]
        if self.halts and self.halted(r.symbol, ts):
            return [
                _rejected(
                    r.order_id, ts, Reason.INSTRUMENT_HALTED, f"{r.symbol} is halted at the venue"
                )
            ]
        o = SimOrder(
            order_id=r.order_id,
            account_id=r.account_id,
            symbol=r.symbol,
            side=r.side,
            qty=r.qty,
            leaves=r.qty,
            price=r.price,
            tif=r.tif,
            post_only=r.post_only,
            protection=r.protection_price,
            no_taker_fee=r.liquidation,
            active_ts=ts + self.config.latency_ns,
        )
        if self.config.latency_ms:
            o.active = False
            self._add(o)
            return [VenueAccepted(order_id=o.order_id, ts=ts, venue_order_id=self._vid(o))]
        out: list[Report] = []
        self._arrive(o, ts, out, acked=False)
        return out

    def _arrive(self, o: SimOrder, ts: int, out: list[Report], acked: bool) -> None:
        """The order reaches the venue: take what it may, then rest, wait or cancel the rest."""
        m = self.markets.get(o.symbol)
        inst = self._instruments[o.symbol]
        market_order = o.price is None
        limit = o.protection if market_order else o.price
        has_data = m is not None and (m.last is not None or m.book is not None)
        if market_order and not has_data:
            self._refuse(o, ts, out, acked, Reason.NO_REFERENCE_PRICE, "no market data to fill at")
            return
        marketable = m is not None and self._marketable(o, m)
        if marketable and o.post_only:
            self._refuse(
                o,
                ts,
                out,
                acked,
                Reason.POST_ONLY_WOULD_TAKE,
                "post-only order would have taken liquidity",
            )
            return
        if marketable and self.config.max_slippage_pct is not None and m is not None:
            ok, why = self._size_check(o, m, inst)
            if not ok:
                self._refuse(o, ts, out, acked, Reason.SLIPPAGE_TOO_HIGH, why or "")
                return
        fills: list[Level] = []
        carry = False
        if marketable and m is not None:
            if o.tif is TimeInForce.FOK and self._fillable(o, m, inst, limit) < o.leaves:
                if not acked:
                    out.append(
                        VenueAccepted(order_id=o.order_id, ts=ts, venue_order_id=self._vid(o))
                    )
                out.append(
                    VenueCanceled(
                        order_id=o.order_id,
                        ts=ts,
                        reason=Reason.FOK_NOT_FILLABLE,
                        canceled_qty=o.leaves,
                    )
                )
                self._remove(o)
                return
            fills, carry = self._take(o, m, inst, limit)
        filled = sum((qty for _, qty in fills), ZERO)
        if not acked and filled < o.qty:
            out.append(VenueAccepted(order_id=o.order_id, ts=ts, venue_order_id=self._vid(o)))
        for px, qty in fills:
            self._fill(out, o, inst, qty, px, _TAKER, ts)
        if o.leaves <= 0:
            self._remove(o)
            return
        if market_order:
            if carry:  # the volume cap: the rest waits for the next bars
                o.active = True
                self._add(o)
                return
            self._cancel_rest(o, ts, out, Reason.MARKET_NO_LIQUIDITY)
            return
        if o.tif is TimeInForce.IOC or o.tif is TimeInForce.FOK:
            self._cancel_rest(o, ts, out, Reason.IOC_REMAINDER)
            return
        assert o.price is not None
        o.active = True
        o.ahead = q.initial_ahead(m.book if m is not None else None, o.side, o.price)
        self._add(o)

    def _refuse(
        self, o: SimOrder, ts: int, out: list[Report], acked: bool, reason: str, message: str
    ) -> None:
        self._remove(o)
        if acked:
            out.append(
                VenueCanceled(order_id=o.order_id, ts=ts, reason=reason, canceled_qty=o.leaves)
            )
        else:
            out.append(_rejected(o.order_id, ts, reason, message))

    def _cancel_rest(self, o: SimOrder, ts: int, out: list[Report], reason: str) -> None:
        self._remove(o)
        out.append(VenueCanceled(order_id=o.order_id, ts=ts, reason=reason, canceled_qty=o.leaves))

    def _marketable(self, o: SimOrder, m: SymbolMarket) -> bool:
        """Whether the order would take liquidity now."""
        price = o.price
        if price is None:
            return True
        book = m.book
        if book is not None:
            opposite = q.other_side(book, o.side)
            if opposite:
                return crosses(o.side, opposite[0][0], price)
            if m.last is None:
                return False
        ref = m.last
        if ref is None:
            return False
        return ref <= price if o.side is Side.BUY else ref >= price

    def _uses_book(self, m: SymbolMarket, side: Side) -> bool:
        book = m.book
        return (
            book is not None
            and self.config.model in ("book", "realistic")
            and bool(q.other_side(book, side))
        )

    def _volume(self, m: SymbolMarket) -> Decimal | None:
        """The volume (base units) the volume terms and the cap compare an order with."""
        if self.config.volume_basis == "bar":
            return m.bar_volume
        if m.last is None or m.last <= 0 or m.volume_24h <= 0:
            return None
        return m.volume_24h / m.last

    def _model(self) -> str:
        model = self.config.model
        return "realistic" if model == "book" else model

    def _reference(self, m: SymbolMarket, side: Side) -> tuple[Decimal | None, bool]:
        """The price a taker's slippage is measured from: the touch of the book (best ask for a
        buy, best bid for a sell) when one is known, else the last trade or bar close; and
        whether it is the touch (then the spread is already paid and its term is left out)."""
        book = m.book
        if book is not None:
            opposite = q.other_side(book, side)
            if opposite:
                return opposite[0][0], True
        return m.last, False

    def _fillable(
        self, o: SimOrder, m: SymbolMarket, inst: Instrument, limit: Decimal | None
    ) -> Decimal:
        if self._uses_book(m, o.side):
            assert m.book is not None
            return available(q.other_side(m.book, o.side), o.side, limit)
        fill = self._formula_fill(o, m, inst)
        return fill.qty if fill is not None and crosses(o.side, fill.price, limit) else ZERO

    def _formula_fill(self, o: SimOrder, m: SymbolMarket, inst: Instrument) -> ModelFill | None:
        """What the fill model gives a taker for its leaves now (None: no price to fill at)."""
        ref, touch = self._reference(m, o.side)
        if ref is None:
            return None
        return market_fill(
            self.config,
            o.side,
            o.leaves,
            ref,
            inst.tick_size,
            inst.lot_size,
            self._volume(m),
            self._model(),
            spread=not touch,
        )

    def _take(
        self, o: SimOrder, m: SymbolMarket, inst: Instrument, limit: Decimal | None
    ) -> tuple[list[Level], bool]:
        """The fills a taker gets now (book depth it takes is consumed) and whether a market
        order's remainder may wait for later bars (the volume cap held it back)."""
        if self._uses_book(m, o.side):
            book = m.book
            assert book is not None
            result = walk(q.other_side(book, o.side), o.side, o.leaves, limit)
            if o.side is Side.BUY:
                m.book = msgspec.structs.replace(book, asks=result.remaining)
            else:
                m.book = msgspec.structs.replace(book, bids=result.remaining)
            return list(result.fills), False
        fill = self._formula_fill(o, m, inst)
        if fill is None or not crosses(o.side, fill.price, limit):
            return [], False
        fills = [(fill.price, fill.qty)] if fill.qty > 0 else []
        return fills, fill.qty < o.leaves

    def _size_check(
        self, o: SimOrder, m: SymbolMarket, inst: Instrument
    ) -> tuple[bool, str | None]:
        ref = m.last
        if ref is None and m.book is not None:
            opposite = q.other_side(m.book, o.side)
            ref = opposite[0][0] if opposite else None
        value = o.leaves * (ref or ZERO) * inst.multiplier
        assert self.config.max_slippage_pct is not None
        return validate_order_size(
            value, m.volume_24h, self.config.max_slippage_pct, config=self.config
        )

    def _vid(self, o: SimOrder) -> str:
        return f"{self.name}-{o.order_id}"

    def _fill(
        self,
        out: list[Report],
        o: SimOrder,
        inst: Instrument,
        qty: Decimal,
        px: Decimal,
        side: LiquiditySide,
        ts: int,
    ) -> None:
        notional = qty * px * inst.multiplier
        maker_rate, taker_rate = self.commissions.rates(
            o.account_id, ts, inst.maker_fee, inst.taker_fee
        )
        rate = maker_rate if side is _MAKER else ZERO if o.no_taker_fee else taker_rate
        self.commissions.record(o.account_id, ts, notional)
        trade_id = f"{self.name}-{o.order_id}-{ts}-{o.leaves}"
        o.leaves -= qty
        out.append(
            VenueFilled(
                order_id=o.order_id,
                ts=ts,
                exec_id=trade_id,
                trade_id=trade_id,
                last_qty=qty,
                last_px=px,
                liquidity_side=side,
                fee=notional * rate if rate else ZERO,
                fee_asset=inst.settle_asset,
                venue_order_id=self._vid(o),
            )
        )

    def _cancel(self, r: CancelAtVenue) -> list[Report]:
        o = self.orders.get(r.order_id)
        if o is None:
            return [
                VenueCancelRejected(
                    order_id=r.order_id,
                    ts=r.ts,
                    reason=Reason.ORDER_NOT_LIVE,
                    message="the order is not working at the venue",
                )
            ]
        self._remove(o)
        return [
            VenueCanceled(
                order_id=r.order_id, ts=r.ts, reason=Reason.CANCELED_BY_USER, canceled_qty=o.leaves
            )
        ]

    def _modify(self, r: ModifyAtVenue) -> list[Report]:
        o = self.orders.get(r.order_id)
        if o is None or o.price is None:
            return [
                VenueModifyRejected(
                    order_id=r.order_id,
                    ts=r.ts,
                    reason=Reason.ORDER_NOT_LIVE if o is None else Reason.ORDER_NOT_MODIFIABLE,
                    message="the order is not resting at the venue"
                    if o is None
                    else "a market order cannot be modified",
                )
            ]
        price = r.price if r.price is not None else o.price
        if r.leaves_qty <= 0:
            self._remove(o)
            return [
                VenueModified(order_id=r.order_id, ts=r.ts, qty=r.qty, leaves_qty=ZERO, price=price)
            ]
        m = self.markets.get(o.symbol)
        old_price, old_leaves = o.price, o.leaves
        o.price = price
        marketable = o.active and m is not None and self._marketable(o, m)
        if marketable and (r.post_only or o.post_only):
            o.price = old_price
            return [
                VenueModifyRejected(
                    order_id=r.order_id,
                    ts=r.ts,
                    reason=Reason.POST_ONLY_WOULD_TAKE,
                    message="the new price would take liquidity: post-only order unchanged",
                )
            ]
        o.qty = r.qty
        o.leaves = r.leaves_qty
        out: list[Report] = [
            VenueModified(
                order_id=r.order_id, ts=r.ts, qty=r.qty, leaves_qty=r.leaves_qty, price=price
            )
        ]
        if price != old_price or r.leaves_qty > old_leaves:
            # Loses its place: to the back of the queue (and of the venue's time priority).
            self._remove(o)
            self._add(o)
            o.ahead = q.initial_ahead(m.book if m is not None else None, o.side, price)
        if marketable and m is not None:
            self._remove(o)
            self._arrive(o, r.ts, out, acked=True)
        return out

    # ------------------------------------------------------------------ market data
    def on_market(self, event: MarketEvent) -> list[Report]:
        """Take one market event: update the market, then work the symbol's orders against it."""
        symbol = event.symbol
        m = self.markets.get(symbol)
        if m is None:
            m = self.markets[symbol] = SymbolMarket()
        if self.halts and self.halted(symbol, event.ts):
            return _EMPTY
        cls = type(event)
        if cls is Bar:
            assert isinstance(event, Bar)
            m.last = event.close
            m.bar_volume = event.volume
            if self._track_24h:
                m.add_volume(event.ts, event.close * event.volume)
        elif cls is TradePrint:
            assert isinstance(event, TradePrint)
            m.last = event.price
            if self._track_24h:
                m.add_volume(event.ts, event.price * event.qty)
        else:
            assert isinstance(event, BookSnapshot)
            m.book = event
            if event.bids and event.asks:
                m.last = (event.bids[0][0] + event.asks[0][0]) / TWO
        m.ts = event.ts
        orders = self._by_symbol.get(symbol)
        if not orders:
            return _EMPTY
        out: list[Report] = []
        ts = event.ts
        inst = self._instruments[symbol]
        for o in list(orders.values()):
            if o.order_id not in self.orders:
                continue
            if not o.active:
                if ts >= o.active_ts:
                    self._remove(o)
                    self._arrive(o, ts, out, acked=True)
                continue
            if o.price is None:
                if cls is Bar:  # a market order held back by the volume cap
                    fills, _carry = self._take(o, m, inst, o.protection)
                    for px, qty in fills:
                        self._fill(out, o, inst, qty, px, _TAKER, ts)
                    if o.leaves <= 0:
                        self._remove(o)
                continue
            self._rest(o, event, m, inst, out)
        return out

    def _rest(
        self, o: SimOrder, event: MarketEvent, m: SymbolMarket, inst: Instrument, out: list[Report]
    ) -> None:
        """A resting limit meets one market event (the queue rules of :mod:`.queue`)."""
        price = o.price
        assert price is not None
        use_queue = self.config.queue
        ahead = o.ahead
        if type(event) is BookSnapshot:
            assert isinstance(event, BookSnapshot)
            if ahead is None:  # restored after a restart: the whole visible level is ahead
                ahead = q.initial_ahead(event, o.side, price)
            step = q.on_book(o.side, price, o.leaves, ahead, event, use_queue)
        elif type(event) is TradePrint:
            assert isinstance(event, TradePrint)
            step = q.on_trade(
                o.side, price, o.leaves, ahead or ZERO, event.price, event.qty, use_queue
            )
        else:
            assert isinstance(event, Bar)
            step = q.on_bar(
                o.side, price, o.leaves, ahead or ZERO, event, inst.tick_size, use_queue
            )
            if step.filled:
                capped = capped_qty(
                    step.filled, event.volume, self.config.max_volume_pct, inst.lot_size
                )
                step = q.QueueStep(capped, step.ahead)
        o.ahead = step.ahead
        filled = step.filled
        if filled < o.leaves:  # a partial fill is a whole number of lots
            filled = (filled / inst.lot_size).to_integral_value(ROUND_FLOOR) * inst.lot_size
        if filled > 0:
            self._fill(out, o, inst, filled, price, _MAKER, event.ts)
            if o.leaves <= 0:
                self._remove(o)


def _rejected(order_id: int, ts: int, reason: str, message: str) -> VenueRejected:
    return VenueRejected(order_id=order_id, ts=ts, reason=reason, message=message)
