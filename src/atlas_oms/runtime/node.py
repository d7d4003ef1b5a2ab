"""The node: one engine wired to its venues, journal and clock, driven one message at a time.

This is the library API (``from atlas_oms import Node``) and the path every other front end (the
``atlas`` command, later the service) goes through. Each call stamps a command with the clock,
lets the engine decide, journals the events, sends the engine's requests to venues and feeds their
reports back, until nothing is left to do; then it returns.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec

from atlas_oms.core.engine import Engine, EngineConfig
from atlas_oms.core.orders.order import OrderView
from atlas_oms.core.ports import Clock, Venue
from atlas_oms.core.state.positions import BalanceView
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.archive import RestoreOrder
from atlas_oms.model.enums import (
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.numbers import Number, to_decimal
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import NeedRouteBook
from atlas_oms.model.risk import (
    EquityAccountType,
    MarketOrderReason,
    MarketStatus,
    RiskLimits,
    Scope,
    TradingState,
)
from atlas_oms.runtime.clock import LiveClock, ManualClock
from atlas_oms.runtime.damage import OnDamage, damage_policy, repair_command
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.history import History, catch_up, history_for
from atlas_oms.runtime.node_algos import AlgoOrders
from atlas_oms.runtime.node_derivatives import DerivativesVenue
from atlas_oms.runtime.node_lists import LinkedOrders
from atlas_oms.runtime.node_trailing import TrailingStops
from atlas_oms.runtime.queries import Queries
from atlas_oms.runtime.snapshots import Recovery, recover
from atlas_oms.runtime.snapshots import save as save_snapshot
from atlas_oms.store.base import Journal
from atlas_oms.store.memory import MemoryJournal
from atlas_oms.store.opener import open_journal
from atlas_oms.venues.sim import SimVenue

Listener = Callable[[list[ev.EventBase]], None]


class Node(AlgoOrders, LinkedOrders, TrailingStops, DerivativesVenue, Queries):
    """An Atlas node: the engine, the built-in exchange ``sim``, a journal and a clock."""

    def __init__(
        self,
        journal: Journal | str | None = None,
        *,
        clock: Clock | None = None,
        config: EngineConfig | None = None,
        venues: Iterable[Venue] = (),
        snapshot_every: int = 0,
        use_snapshot: bool = True,
        on_damage: OnDamage | None = None,
        actor: str = "operator",
    ) -> None:
        """``on_damage`` says what to do with a journal that lost events (``journal.recovery``):
        ``"refuse"`` (default for a writable journal) raises ``JournalDamagedError``; ``"repair"``
        journals a ``JournalRepaired`` event (by ``actor``) above everything ever written, then
        carries on; ``"open"`` (default for a read-only journal) loads the intact prefix."""
        self.engine = Engine(config)
        if journal is None:
            journal = MemoryJournal()
            policy: OnDamage = "open"
        elif isinstance(journal, str):
            opened = open_journal(journal)
            try:
                policy = damage_policy(opened, on_damage)
            except BaseException:
                opened.close()
                raise
            journal = opened
        else:
            policy = damage_policy(journal, on_damage)
        self.journal: Journal = journal
        self.clock: Clock = clock if clock is not None else LiveClock()
        self.sim = SimVenue(self.engine.state.instruments)
        self.venues: dict[str, Venue] = {"sim": self.sim}
        for venue in venues:
            self.venues[venue.name] = venue
        self.snapshot_every = snapshot_every
        self._last_snapshot_seq = 0
        self._listeners: list[Listener] = []
        self._queue: deque[Any] = deque()
        #: How the state was rebuilt from the journal (snapshot used, events replayed, and why
        #: a snapshot was not used).
        self.recovery: Recovery = recover(self.engine, self.journal, use_snapshot=use_snapshot)
        #: Archived orders, read back from the journal (see runtime/history.py).
        self.history: History = history_for(self.journal)
        catch_up(self.history, self.journal)
        self._last_snapshot_seq = self.recovery.snapshot_seq
        if self.engine.seq:
            self._restore_books()
        #: The repair this node journaled when it opened a damaged journal (None: none needed).
        self.repaired: ev.JournalRepaired | None = None
        if policy == "repair" and journal.recovery.damaged:
            events = self.process(repair_command(journal.recovery, self._now(), actor))
            self._expect(events)
            journal.flush()
            repaired = events[0]
            assert isinstance(repaired, ev.JournalRepaired)
            self.repaired = repaired

    # ------------------------------------------------------------------ construction
    @classmethod
    def in_memory(cls, *, clock: Clock | None = None, **kwargs: Any) -> Node:
        """A node that keeps its journal in memory (tests, backtests, paper sessions)."""
        return cls(MemoryJournal(), clock=clock if clock is not None else ManualClock(), **kwargs)

    @classmethod
    def open(cls, path: str, **kwargs: Any) -> Node:
        """A node on a durable journal at ``path`` (SQLite by default); recovers what it holds.
        ``on_damage`` (see the constructor) decides about a damaged journal."""
        journal = open_journal(path)
        try:
            return cls(journal, **kwargs)
        except BaseException:
            journal.close()  # a refused journal is released: nothing was written
            raise

    @property
    def recovered_events(self) -> int:
        """How many journal events were replayed when the node started."""
        return self.recovery.events_replayed

    def _restore_books(self) -> None:
        """Rebuild the built-in exchange's books from the orders resting there, in queue order."""
        self.sim.restore(
            (o.symbol, o.order_id, o.account_id, o.side, o.price, o.leaves_qty, o.display_qty)
            for o in self.resting_orders(self.sim.name)
            if o.price is not None
        )

    # ------------------------------------------------------------------ the loop
    def process(self, message: Any) -> list[ev.EventBase]:
        """Run one message and everything it sets off; return every event, in order."""
        queue = self._queue
        queue.append(message)
        if len(queue) > 1:
            return []  # re-entrant call from a listener: the running loop will get to it
        engine = self.engine
        state = engine.state
        journal = self.journal
        venues = self.venues
        produced: list[ev.EventBase] = []
        journaled = 0
        try:
            while queue:
                if state.archived:
                    self._load_back(queue[0], produced)
                try:
                    events = engine.handle(queue[0])
                except BaseException:
                    # A handler that failed half-way has folded what it emitted: journal that
                    # too, so the journal stays the state's (a replay folds the same events).
                    produced.extend(engine.folded_before_failure())
                    raise
                if events:
                    produced.extend(events)
                if engine.has_requests:
                    for request in engine.take_requests():
                        if request.__class__ is NeedRouteBook:  # a parent order's route
                            queue.append(self.answer_route(request))
                            continue
                        venue = venues[request.venue]
                        if not venue.synchronous:
                            # Record before acting: the intent is durable before it leaves the process.
                            journal.append(produced[journaled:])
                            journaled = len(produced)
                            journal.flush()
                        queue.extend(venue.handle(request))
                queue.popleft()
        finally:
            queue.clear()
            # The built-in exchange is rebuilt from this same journal, so its in-process round trip
            # needs no earlier write: one append per command keeps the hot path lean.
            if len(produced) > journaled:
                journal.append(produced[journaled:] if journaled else produced)
        if produced:
            if state.archived:
                history = self.history
                for event in produced:
                    if event.__class__ is ev.OrdersArchived:
                        history.add(event)
            for listener in self._listeners:
                listener(produced)
            if self.snapshot_every and engine.seq - self._last_snapshot_seq >= self.snapshot_every:
                self.snapshot()
        return produced

    def _load_back(self, message: Any, produced: list[ev.EventBase]) -> None:
        """Before a message that names an archived order (a late venue report, a cancel or
        modify, a reused client order id), load the order back from the history: the engine
        journals it (``OrderRestored``), so a replay does the same."""
        state = self.engine.state
        order_id = getattr(message, "order_id", None)
        client_order_id = getattr(message, "client_order_id", None)
        if order_id is None and client_order_id is not None:
            order_id = state.client_ids.get((message.account_id, client_order_id))
        if order_id is None or order_id in state.orders or order_id >= state.next_order_id:
            return
        record = self.history.get(order_id)
        if record is not None:
            produced.extend(self.engine.handle(RestoreOrder(ts=message.ts, order=record)))

    def feed(self, report: Any) -> list[ev.EventBase]:
        """Deliver a venue report (from an external venue, or a test) to the engine.

        Busts and corrections come from external venues: the built-in exchange never sends one.
        One fed by hand for an order of the built-in exchange corrects the order, the position
        and the balances like any other; but the exchange does not put back on its book what it
        reopened (exchanges that bust a trade do not reinstate the order), so it cancels the
        reopened remainder at once: ``OrderCanceled`` with ``BUST_NOT_REINSTATED``, and the
        order, its fills and its book agree again (also after a restart)."""
        events = self.process(report)
        if type(report) in _EXECUTION_CHANGES:
            order = self.engine.state.orders.get(report.order_id)
            if (
                order is not None
                and order.venue == self.sim.name
                and order.is_live
                and order.order_id not in self.sim.books.get(order.symbol, ())
            ):
                events += self.process(
                    rep.VenueCanceled(
                        order_id=order.order_id,
                        ts=report.ts,
                        reason=Reason.BUST_NOT_REINSTATED,
                        canceled_qty=order.leaves_qty,
                    )
                )
        return events

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(events)`` after every processed message that produced events."""
        self._listeners.append(listener)

    def snapshot(self) -> int:
        """Write a snapshot of the whole state to the journal; return its sequence number."""
        seq = save_snapshot(self.journal, self.engine)
        self._last_snapshot_seq = seq
        return seq

    def flush(self) -> None:
        self.journal.flush()

    def close(self) -> None:
        self.journal.close()
        self.history.close()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ set-up
    def add_instrument(self, instrument: Instrument) -> Instrument:
        self._expect(self.process(c.AddInstrument(ts=self._now(), instrument=instrument)))
        return instrument

    def open_account(
        self,
        account_id: str,
        *,
        parent_id: str | None = None,
        position_mode: PositionMode = PositionMode.NETTING,
        name: str = "",
        equity_type: EquityAccountType | str = EquityAccountType.CASH,
        pattern_day_trader: bool = False,
    ) -> str:
        self._expect(
            self.process(
                c.OpenAccount(
                    ts=self._now(),
                    account_id=account_id,
                    parent_id=parent_id,
                    position_mode=position_mode,
                    name=name,
                    equity_type=EquityAccountType(equity_type),
                    pattern_day_trader=pattern_day_trader,
                )
            )
        )
        return account_id

    def deposit(
        self, account_id: str, asset: str, amount: Number, reason: str = "deposit"
    ) -> BalanceView:
        self._expect(
            self.process(
                c.AdjustBalance(
                    ts=self._now(),
                    account_id=account_id,
                    asset=asset,
                    amount=to_decimal(amount),
                    reason=reason,
                )
            )
        )
        return self.balance(account_id, asset)

    def withdraw(
        self, account_id: str, asset: str, amount: Number, reason: str = "withdrawal"
    ) -> BalanceView:
        value = to_decimal(amount)
        assert value is not None
        return self.deposit(account_id, asset, -value, reason)

    def transfer(
        self,
        from_account: str,
        to_account: str,
        asset: str,
        amount: Number,
        reason: str = "transfer",
    ) -> tuple[BalanceView, BalanceView]:
        """Move ``amount`` of ``asset`` between two accounts of one tree (an account and its
        sub-accounts, any depth, either way); return both balances after it. Raise
        :class:`CommandRefused` if refused (nothing moves)."""
        self._expect(
            self.process(
                c.TransferFunds(
                    ts=self._now(),
                    account_id=from_account,
                    to_account_id=to_account,
                    asset=asset,
                    amount=to_decimal(amount),
                    reason=reason,
                )
            )
        )
        return self.balance(from_account, asset), self.balance(to_account, asset)

    def set_leverage(self, account_id: str, symbol: str, leverage: Number) -> None:
        self._expect(
            self.process(
                c.SetLeverage(
                    ts=self._now(),
                    account_id=account_id,
                    symbol=symbol,
                    leverage=to_decimal(leverage),
                )
            )
        )

    @staticmethod
    def _expect(events: Sequence[ev.EventBase]) -> None:
        for event in events:
            if isinstance(
                event, (ev.CommandRejected, ev.OrderCancelRejected, ev.OrderModifyRejected)
            ):
                raise CommandRefused(event.reason, event.message)

    # ------------------------------------------------------------------ risk operations
    def set_limits(
        self,
        scope: Scope | str,
        scope_id: str = "",
        limits: RiskLimits | None = None,
        *,
        actor: str,
        reason: str = "",
        **fields: Any,
    ) -> RiskLimits:
        """Replace one scope's limits (a ``RiskLimits``, or its fields as keywords)."""
        if limits is None:
            limits = msgspec.convert(fields, RiskLimits, strict=False)
        self._expect(
            self.process(
                c.SetRiskLimits(
                    ts=self._now(),
                    scope=Scope(scope),
                    scope_id=scope_id,
                    limits=limits,
                    actor=actor,
                    reason=reason,
                )
            )
        )
        return limits

    def set_trading_state(
        self,
        scope: Scope | str,
        scope_id: str = "",
        state: TradingState | str = TradingState.ACTIVE,
        *,
        actor: str,
        reason: str = "",
    ) -> list[ev.EventBase]:
        events = self.process(
            c.SetTradingState(
                ts=self._now(),
                scope=Scope(scope),
                scope_id=scope_id,
                state=TradingState(state),
                actor=actor,
                reason=reason,
            )
        )
        self._expect(events)
        return events

    def kill(
        self,
        scope: Scope | str = Scope.GLOBAL,
        scope_id: str = "",
        *,
        actor: str,
        reason: str,
        flatten: bool = False,
    ) -> list[ev.EventBase]:
        """Fire a kill switch: block new orders, cancel open ones, optionally flatten."""
        events = self.process(
            c.TripKillSwitch(
                ts=self._now(),
                scope=Scope(scope),
                scope_id=scope_id,
                actor=actor,
                reason=reason,
                flatten=flatten,
            )
        )
        self._expect(events)
        return events

    def reset_kill(
        self, scope: Scope | str = Scope.GLOBAL, scope_id: str = "", *, actor: str, reason: str
    ) -> list[ev.EventBase]:
        events = self.process(
            c.ResetKillSwitch(
                ts=self._now(), scope=Scope(scope), scope_id=scope_id, actor=actor, reason=reason
            )
        )
        self._expect(events)
        return events

    def reset_breaker(
        self, scope: Scope | str, scope_id: str, *, actor: str, reason: str
    ) -> list[ev.EventBase]:
        events = self.process(
            c.ResetCircuitBreaker(
                ts=self._now(), scope=Scope(scope), scope_id=scope_id, actor=actor, reason=reason
            )
        )
        self._expect(events)
        return events

    def set_market_status(
        self, symbol: str, status: MarketStatus | str | None, *, actor: str, reason: str = ""
    ) -> list[ev.EventBase]:
        """Halt, close or reopen an instrument; ``None`` returns it to its schedule."""
        events = self.process(
            c.SetMarketStatus(
                ts=self._now(),
                symbol=symbol,
                status=MarketStatus(status) if status is not None else None,
                actor=actor,
                reason=reason,
            )
        )
        self._expect(events)
        return events

    def apply_corporate_action(
        self,
        symbol: str,
        kind: str,
        *,
        action_id: str,
        ratio: Number | None = None,
        amount: Number | None = None,
        actor: str,
        reason: str = "",
    ) -> list[ev.EventBase]:
        """A split, stock bonus or cash dividend on an equity (POS-5; ``core/equities/
        corporate.py``); raise :class:`CommandRefused` if the core refuses it."""
        events = self.process(
            c.ApplyCorporateAction(
                ts=self._now(),
                actor=actor,
                reason=reason,
                symbol=symbol,
                kind=kind.upper(),
                action_id=action_id,
                ratio=to_decimal(ratio) if ratio is not None else None,
                amount=to_decimal(amount) if amount is not None else None,
            )
        )
        self._expect(events)
        return events

    def us_market_step(self) -> list[ev.EventBase]:
        """US equities: hand the core this year's and next year's NYSE calendar and record the
        close's equity once it is due, whatever the journal lacks (``runtime/us_markets.py``;
        ``atlas serve`` runs it by itself). Call it at start and from time to time."""
        from atlas_oms.runtime.us_markets import us_market_step

        return us_market_step(self)

    # ------------------------------------------------------------------ trading
    def submit(
        self,
        account_id: str,
        symbol: str,
        side: Side | str,
        order_type: OrderType | str,
        qty: Number,
        price: Number | None = None,
        *,
        display_qty: Number | None = None,
        trigger_price: Number | None = None,
        trigger_type: TriggerType | str = TriggerType.LAST,
        trailing_offset: Number | None = None,
        trailing_offset_type: TrailingOffsetType | str = TrailingOffsetType.PRICE,
        limit_offset: Number | None = None,
        tif: TimeInForce | str = TimeInForce.GTC,
        expire_ts: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        position_side: PositionSide | str | None = None,
        client_order_id: str | None = None,
        tag: str | None = None,
        extended_hours: bool = False,
        market_reason: MarketOrderReason | str | None = None,
    ) -> OrderView:
        """Submit an order; return its view after everything it set off (DENIED carries the reason)."""
        cmd = c.SubmitOrder(
            ts=self._now(),
            account_id=account_id,
            symbol=symbol,
            side=Side(side),
            order_type=OrderType(order_type),
            qty=to_decimal(qty),
            price=to_decimal(price),
            display_qty=to_decimal(display_qty),
            trigger_price=to_decimal(trigger_price),
            trigger_type=TriggerType(trigger_type),
            trailing_offset=to_decimal(trailing_offset),
            trailing_offset_type=TrailingOffsetType(trailing_offset_type),
            limit_offset=to_decimal(limit_offset),
            tif=TimeInForce(tif),
            expire_ts=expire_ts,
            post_only=post_only,
            reduce_only=reduce_only,
            position_side=PositionSide(position_side) if position_side else None,
            client_order_id=client_order_id,
            tag=tag,
            extended_hours=extended_hours,
            market_reason=MarketOrderReason(market_reason) if market_reason else None,
        )
        return self.submit_command(cmd)

    def submit_command(self, cmd: c.SubmitOrder) -> OrderView:
        """Process a ``SubmitOrder``; return the order's view (DENIED carries the reason; a
        reused client order id returns the existing order, marked ``duplicate``)."""
        for event in self.process(cmd):
            # The order's own event; a breaker tripping on the order rate comes before it.
            if isinstance(event, ev.CommandRejected):
                raise CommandRefused(event.reason, event.message)
            if isinstance(event, ev.OrderDuplicateIgnored):
                return _with(self.order(event.order_id), duplicate=True)
            if isinstance(event, ev.OrderDenied | ev.OrderSubmitted):
                return self.order(event.order_id)
        raise RuntimeError("submit_command called while the node is processing a message")

    def buy(
        self, account_id: str, symbol: str, qty: Number, price: Number | None = None, **kw: Any
    ) -> OrderView:
        """A limit buy when ``price`` is given, else a market buy."""
        return self.submit(
            account_id,
            symbol,
            Side.BUY,
            OrderType.LIMIT if price is not None else OrderType.MARKET,
            qty,
            price,
            **kw,
        )

    def sell(
        self, account_id: str, symbol: str, qty: Number, price: Number | None = None, **kw: Any
    ) -> OrderView:
        """A limit sell when ``price`` is given, else a market sell."""
        return self.submit(
            account_id,
            symbol,
            Side.SELL,
            OrderType.LIMIT if price is not None else OrderType.MARKET,
            qty,
            price,
            **kw,
        )

    def cancel(
        self, account_id: str, order_id: int | None = None, *, client_order_id: str | None = None
    ) -> OrderView:
        """Cancel a live order; raise :class:`CommandRefused` (with its reason code) if refused."""
        events = self.process(
            c.CancelOrder(
                ts=self._now(),
                account_id=account_id,
                order_id=order_id,
                client_order_id=client_order_id,
            )
        )
        self._expect(
            [e for e in events if isinstance(e, (ev.OrderCancelRejected, ev.OrderModifyRejected))][
                :1
            ]
        )
        return self._view_of(account_id, order_id, client_order_id)

    def modify(
        self,
        account_id: str,
        order_id: int | None = None,
        *,
        client_order_id: str | None = None,
        qty: Number | None = None,
        price: Number | None = None,
        trigger_price: Number | None = None,
    ) -> OrderView:
        """Cancel/replace a live order's quantity, price or trigger; raise :class:`CommandRefused` if refused."""
        events = self.process(
            c.ModifyOrder(
                ts=self._now(),
                account_id=account_id,
                order_id=order_id,
                client_order_id=client_order_id,
                qty=to_decimal(qty),
                price=to_decimal(price),
                trigger_price=to_decimal(trigger_price),
            )
        )
        self._expect(
            [e for e in events if isinstance(e, (ev.OrderCancelRejected, ev.OrderModifyRejected))][
                :1
            ]
        )
        return self._view_of(account_id, order_id, client_order_id)

    def _view_of(
        self, account_id: str, order_id: int | None, client_order_id: str | None
    ) -> OrderView:
        view = self.find_order(account_id, order_id, client_order_id)
        assert view is not None
        return view

    def update_prices(
        self, symbol: str, *, last: Number | None = None, mark: Number | None = None
    ) -> list[ev.EventBase]:
        """Feed market data: the last trade price and/or the mark price (fires stops, trails trailing stops)."""
        events = self.process(
            c.UpdatePrices(
                ts=self._now(), symbol=symbol, last=to_decimal(last), mark=to_decimal(mark)
            )
        )
        self._expect(events[:1])
        return events

    def advance_time(self, ns: int) -> list[ev.EventBase]:
        """Move a manual clock forward by ``ns`` and let DAY/GTD orders expire."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance_time needs a ManualClock; a live node's time moves by itself")
        self.clock.advance(ns)
        return self.tick()

    def tick(self) -> list[ev.EventBase]:
        """A timer tick at the clock's current time (expires DAY and GTD orders)."""
        return self.process(c.AdvanceTime(ts=self._now()))

    # ------------------------------------------------------------------ reading
    def venue_orders(self, venue: str, account_id: str) -> list[OrderView]:
        """The live orders Atlas has at ``venue`` for ``account_id``: sent, or being sent (not
        those Atlas holds itself until their trigger fires). The venue gateway reconciles them."""
        return [
            o.view()
            for _, o in sorted(self.engine.state.orders.items())
            if o.venue == venue and o.account_id == account_id and o.is_live and not o.held
        ]

    def last_fill_ts(self, venue: str, account_id: str) -> int | None:
        """When the last fill of ``account_id`` at ``venue`` was booked (ns), None if none is
        in memory: the venue gateway asks the venue for fills from there on."""
        orders = self.engine.state.orders
        last: int | None = None
        for fill in self.engine.state.fills.values():
            order = orders.get(fill.order_id)
            if (
                fill.account_id == account_id
                and order is not None
                and order.venue == venue
                and (last is None or fill.ts_event > last)
            ):
                last = fill.ts_event
        return last


_EXECUTION_CHANGES = (rep.VenueFillBusted, rep.VenueFillCorrected)


def _with(view: OrderView, **changes: Any) -> OrderView:
    return msgspec.structs.replace(view, **changes)
