"""The node's parent orders (issue 16 §2-§3): TWAP, VWAP, iceberg and SMART through the library.

A mixin of :class:`~atlas_oms.runtime.node.Node`, which supplies ``process`` (the loop). The core
decides (``core/algos/``); this module builds the commands, answers the core's requests for route
books (``NeedRouteBook`` -> ``RouteAlgo``, from :attr:`route_books`), computes VWAP weights from
the trades it has seen, and shows parents as :class:`AlgoView` (exact decimals) with their
children and execution report.

``route_books(unified_symbol, account_id, strategy) -> RouteBook``: the default reads the
built-in exchange's own book (every ``sim`` instrument of the unified symbol: the resting orders
of other accounts, aggregated per price, best first); the consolidated book plugs in here.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.algos.report import execution_report
from atlas_oms.core.algos.state import AlgoState, working
from atlas_oms.core.decimals import ZERO
from atlas_oms.core.orders.order import OrderView
from atlas_oms.core.state.state import State
from atlas_oms.model import events as ev
from atlas_oms.model.algos import (
    SMART,
    AlgoKind,
    CancelAlgo,
    PauseAlgo,
    Remainder,
    ResumeAlgo,
    RouteAlgo,
    SubmitAlgo,
)
from atlas_oms.model.enums import LiquiditySide, Side
from atlas_oms.model.numbers import Number, to_decimal
from atlas_oms.model.requests import NeedRouteBook
from atlas_oms.model.route_book import BookLevel, RouteBook, VenueBook, unified_symbol
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.queries import Queries

RouteBooks = Callable[[str, str, "str | None"], RouteBook]

__all__ = [
    "AlgoChildRefusal",
    "AlgoOrders",
    "AlgoView",
    "RouteBooks",
    "hub_weights",
    "sim_route_book",
]


class AlgoChildRefusal(msgspec.Struct, frozen=True, kw_only=True):
    slice_no: int
    order_id: int
    reason: str
    message: str


class AlgoView(msgspec.Struct, frozen=True, kw_only=True):
    """A parent order as the API shows it: parameters, status, the sums over its children
    (``cum_qty``, ``avg_px``, ``leaves_qty``, ``working_qty``), the children themselves, the
    refused children, and the execution report."""

    algo_id: str
    account_id: str
    symbol: str
    side: Side
    kind: str
    venue: str
    qty: Decimal
    limit_price: Decimal | None
    status: str
    cum_qty: Decimal
    avg_px: Decimal | None
    leaves_qty: Decimal
    working_qty: Decimal
    strategy: str | None
    remainder: str
    start_ts: int
    end_ts: int
    accepted_ts: int
    ended_ts: int | None
    end_reason: str
    arrival_price: Decimal | None
    slices_planned: int
    slices_done: int
    schedule: list[tuple[int, Decimal]]
    children: list[OrderView]
    refused: list[AlgoChildRefusal]
    report: dict[str, Any]


def sim_route_book(state: State, symbol: str, account_id: str, ts: int) -> RouteBook:
    """The built-in exchange's books of unified ``symbol``: one :class:`VenueBook` per ``sim``
    instrument (resting priced orders of accounts other than ``account_id``, per price)."""
    books: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
    quote = ""
    for sym, inst in sorted(state.instruments.items()):
        if inst.venue == "sim" and unified_symbol(sym) == symbol:
            books[sym] = ({}, {})
            quote = quote or inst.quote
    for o in state.orders.values():
        sides = books.get(o.symbol)
        if (
            sides is None
            or o.price is None
            or o.held
            or not o.is_live
            or o.account_id == account_id
            or o.leaves_qty <= 0
        ):
            continue
        levels = sides[0] if o.side is Side.BUY else sides[1]
        levels[o.price] = levels.get(o.price, ZERO) + o.leaves_qty
    out = []
    for sym, (bids, asks) in books.items():
        mult = state.instruments[sym].multiplier
        out.append(
            VenueBook(
                venue="sim",
                symbol=sym,
                bids=tuple(BookLevel(p, q * mult) for p, q in sorted(bids.items(), reverse=True)),
                asks=tuple(BookLevel(p, q * mult) for p, q in sorted(asks.items())),
                ts=ts,
            )
        )
    return RouteBook(symbol=symbol, quote=quote, ts=ts, books=tuple(out))


def vwap_weights(
    state: State, symbol: str, start: int, end: int, slices: int, windows: int
) -> tuple[Decimal, ...]:
    """A volume profile for ``slices`` slices of ``[start, end)`` from the trades this node has
    seen on ``symbol``'s built-in instruments in the ``windows`` windows of the same length just
    before ``start``: slice ``k``'s weight is the volume traded in the ``k``-th part of each
    earlier window. Equal weights when no trade was seen."""
    length = end - start
    step = length // slices
    weights = [ZERO] * slices
    first = start - windows * length
    unified = unified_symbol(symbol)
    for f in state.fills.values():
        if f.liquidity_side is not LiquiditySide.MAKER or not first <= f.ts_event < start:
            continue
        if unified_symbol(f.symbol) != unified:
            continue
        offset = (f.ts_event - first) % length
        weights[min(offset // step, slices - 1)] += f.last_qty
    if not any(weights):
        return tuple(Decimal(1) for _ in range(slices))
    return tuple(weights)


def hub_weights(
    stats: Any, symbols: list[str], start: int, end: int, slices: int, windows: int
) -> tuple[Decimal, ...] | None:
    """A volume profile from a market data hub's trade statistics
    (``runtime/market/trade_stats.py::TradeStats.volume``: the venues' trades with a quantity,
    kept for its longest window): as :func:`vwap_weights`, slice ``k``'s weight is the volume of
    ``symbols`` traded in the ``k``-th part of each of the ``windows`` earlier windows of the
    same length. None when nothing traded (the caller falls back)."""
    length = end - start
    step = length // slices
    weights = [ZERO] * slices
    for w in range(1, windows + 1):
        first = start - w * length
        for k in range(slices):
            lo = first + k * step
            hi = first + length if k == slices - 1 else lo + step
            weights[k] += stats.volume(symbols, lo - 1, hi - 1)  # [lo, hi)
    return tuple(weights) if any(weights) else None


class AlgoOrders(Queries):
    """Parent orders, submitted through the node's loop."""

    #: The node's loop (``Node.process``).
    process: Callable[[Any], list[ev.EventBase]]
    #: Where route books come from (None: the built-in exchange's own, :func:`sim_route_book`).
    route_books: RouteBooks | None = None
    #: The market data hub (``runtime/market/hub.py::MarketData``) when one is attached
    #: (``service/market_data.py`` does; a library user sets it): its trade statistics give
    #: VWAP weights and the report's market volume for symbols traded on external venues.
    market_data: Any | None = None

    def _hub_symbols(self, symbol: str, venue: str) -> list[str]:
        """The Atlas symbols whose venue trades the hub counts for a parent on ``symbol``:
        the symbol itself on an external venue; every instrument of its unified symbol for a
        routed (SMART) parent when one of them is external; none otherwise (the built-in
        exchange's own fills are exact: ``core/algos/report.py::sim_volume``)."""
        if self.market_data is None:
            return []
        instruments = self.engine.state.instruments
        if venue == SMART:
            unified = unified_symbol(symbol)
            same = sorted(s for s in instruments if unified_symbol(s) == unified)
            return same if any(instruments[s].venue != "sim" for s in same) else []
        inst = instruments.get(symbol)
        return [symbol] if inst is not None and inst.venue != "sim" else []

    def _market_volume(self, a: AlgoState) -> Decimal | None:
        """The hub's volume on the parent's symbols over its window (None: no hub, or the
        built-in exchange's own count applies)."""
        symbols = self._hub_symbols(a.symbol, a.venue)
        if not symbols or self.market_data is None:
            return None
        until = a.ended_ts if a.ended_ts is not None else self._now()
        volume: Decimal = self.market_data.stats.volume(symbols, a.accepted_ts - 1, until)
        return volume

    # ------------------------------------------------------------------ route books
    def route_book(self, symbol: str, account_id: str, strategy: str | None = None) -> RouteBook:
        """The route book the node answers the core with (``route_books`` or the default)."""
        provider = self.route_books
        if provider is not None:
            return provider(symbol, account_id, strategy)
        return sim_route_book(self.engine.state, unified_symbol(symbol), account_id, self._now())

    def answer_route(self, request: NeedRouteBook) -> RouteAlgo:
        """The answer to the core's ``NeedRouteBook`` (a request naming one venue gets that
        venue's books only: a slice on an external venue is priced from them)."""
        book = self.route_book(request.symbol, request.account_id, request.strategy)
        if request.venue != SMART:
            mine = tuple(b for b in book.books if b.venue == request.venue)
            book = msgspec.structs.replace(book, books=mine)
        return RouteAlgo(ts=request.ts, algo_id=request.algo_id, book=book)

    # ------------------------------------------------------------------ commands
    def submit_algo(
        self,
        account_id: str,
        symbol: str,
        side: Side | str,
        qty: Number,
        kind: AlgoKind | str,
        *,
        algo_id: str = "",
        limit_price: Number | None = None,
        venue: str = "",
        strategy: str | None = None,
        remainder: Remainder | str = Remainder.STAY,
        start_ts: int | None = None,
        end_ts: int | None = None,
        duration_ms: int | None = None,
        slices: int = 1,
        randomize_pct: Number = 0,
        seed: int = 0,
        slice_aggression_bps: Number = 0,
        weights: tuple[Number, ...] | list[Number] | None = None,
        lookback_windows: int = 5,
        participation_pct: Number | None = None,
        display_qty: Number | None = None,
        display_variance_pct: Number = 0,
        native: bool | None = None,
        depth_margin_pct: Number = 0,
        reroute_after_ms: int = 0,
        book: RouteBook | None = None,
    ) -> AlgoView:
        """Start a parent order (see :class:`~atlas_oms.model.algos.SubmitAlgo` for each
        parameter; ``duration_ms`` sets ``end_ts`` from the start). VWAP without ``weights``:
        the profile is computed from the trades seen on the symbol in ``lookback_windows``
        earlier windows of the same length (:func:`vwap_weights`). Raises
        :class:`CommandRefused` when refused; a repeated ``algo_id`` returns the existing one."""
        now = self._now()
        start = start_ts if start_ts is not None else now
        if end_ts is None and duration_ms is not None:
            end_ts = start + duration_ms * 1_000_000
        kind = AlgoKind(kind)
        w: tuple[Decimal, ...] = ()
        if weights:
            w = tuple(to_decimal(x) for x in weights)
        elif kind is AlgoKind.VWAP and end_ts is not None and end_ts > start and slices >= 1:
            hub = self._hub_symbols(symbol, venue)
            found = (
                hub_weights(self.market_data.stats, hub, start, end_ts, slices, lookback_windows)
                if hub and self.market_data is not None
                else None
            )
            w = found or vwap_weights(
                self.engine.state, symbol, start, end_ts, slices, lookback_windows
            )
        cmd = SubmitAlgo(
            ts=now,
            account_id=account_id,
            symbol=symbol,
            side=Side(side),
            qty=to_decimal(qty),
            kind=kind,
            algo_id=algo_id,
            limit_price=to_decimal(limit_price),
            venue=venue,
            strategy=strategy,
            remainder=Remainder(remainder),
            start_ts=start_ts,
            end_ts=end_ts,
            slices=slices,
            randomize_pct=to_decimal(randomize_pct),
            seed=seed,
            slice_aggression_bps=to_decimal(slice_aggression_bps),
            weights=w,
            participation_pct=to_decimal(participation_pct),
            display_qty=to_decimal(display_qty),
            display_variance_pct=to_decimal(display_variance_pct),
            native=native,
            depth_margin_pct=to_decimal(depth_margin_pct),
            reroute_after_ms=reroute_after_ms,
            book=book,
        )
        return self.submit_algo_command(cmd)

    def submit_algo_command(self, cmd: SubmitAlgo) -> AlgoView:
        """Process a ``SubmitAlgo``; the parent's view (raises :class:`CommandRefused`)."""
        events = self.process(cmd)
        for event in events:
            if isinstance(event, ev.AlgoRefused):
                raise CommandRefused(event.reason, event.message)
            if isinstance(event, ev.AlgoAccepted):
                return self.algo(event.algo_id)
        if cmd.algo_id and cmd.algo_id in self.engine.state.algos:
            return self.algo(cmd.algo_id)  # a repeat: the parent that id names
        raise RuntimeError("submit_algo called while the node is processing a message")

    def _algo_command(self, command: Any) -> AlgoView:
        for event in self.process(command):
            if isinstance(event, ev.CommandRejected):
                raise CommandRefused(event.reason, event.message)
        return self.algo(command.algo_id)

    def pause_algo(self, algo_id: str) -> AlgoView:
        """Pause: no new slices or refills; live children canceled."""
        return self._algo_command(PauseAlgo(ts=self._now(), algo_id=algo_id))

    def resume_algo(self, algo_id: str) -> AlgoView:
        """Resume: missed slices roll into the next one, which starts at once when due."""
        return self._algo_command(ResumeAlgo(ts=self._now(), algo_id=algo_id))

    def cancel_algo(self, algo_id: str) -> AlgoView:
        """Cancel the parent and every live child; what filled stays filled."""
        return self._algo_command(CancelAlgo(ts=self._now(), algo_id=algo_id))

    # ------------------------------------------------------------------ reads
    def algo(self, algo_id: str) -> AlgoView:
        """The parent's view (KeyError: no such parent)."""
        a = self.engine.state.algos[algo_id]
        return self._algo_view(a)

    def algos(self, account_id: str | None = None, open_only: bool = False) -> list[AlgoView]:
        """Every parent (of ``account_id``), oldest first."""
        algos = sorted(self.engine.state.algos.values(), key=lambda a: (a.accepted_ts, a.algo_id))
        return [
            self._algo_view(a)
            for a in algos
            if (account_id is None or a.account_id == account_id) and (a.is_open or not open_only)
        ]

    def algo_of_order(self, order_id: int) -> str | None:
        """The parent of child order ``order_id`` (None: not a child order)."""
        return self.engine.state.algo_orders.get(order_id)

    def algo_report(self, algo_id: str, market_volume: Number | None = None) -> dict[str, Any]:
        """The execution report (``core/algos/report.py``); ``market_volume``: the volume
        traded on the symbol during the window, for an external venue (default: the market
        data hub's count, :attr:`market_data`, when there is one)."""
        a = self.engine.state.algos[algo_id]
        volume = to_decimal(market_volume)
        return execution_report(
            self.engine.state,
            a,
            now=self._now(),
            market_volume=volume if volume is not None else self._market_volume(a),
        )

    def _algo_view(self, a: AlgoState) -> AlgoView:
        state = self.engine.state
        # Sums over the children's views: an archived child is read back from the history.
        children = [v for v in (self.get_order(i) for i, _ in a.children) if v is not None]
        qty = notional = ZERO
        for v in children:
            order = state.orders.get(v.order_id)
            qty += v.cum_qty
            if order is not None:
                notional += order.cum_notional  # exact
            elif v.avg_px is not None:
                notional += v.cum_qty * v.avg_px
        return AlgoView(
            algo_id=a.algo_id,
            account_id=a.account_id,
            symbol=a.symbol,
            side=a.side,
            kind=a.kind,
            venue=a.venue,
            qty=a.qty,
            limit_price=a.limit_price,
            status=a.status,
            cum_qty=qty,
            avg_px=notional / qty if qty else None,
            leaves_qty=a.qty - qty,
            working_qty=working(state, a),
            strategy=a.strategy,
            remainder=a.remainder,
            start_ts=a.start_ts,
            end_ts=a.end_ts,
            accepted_ts=a.accepted_ts,
            ended_ts=a.ended_ts,
            end_reason=a.end_reason,
            arrival_price=a.arrival_price,
            slices_planned=len(a.schedule),
            slices_done=a.next_slice,
            schedule=list(a.schedule),
            children=children,
            refused=[
                AlgoChildRefusal(slice_no=s, order_id=o, reason=r, message=m)
                for s, o, r, m in a.refused
            ],
            report=execution_report(
                state, a, now=self._now(), market_volume=self._market_volume(a)
            ),
        )
