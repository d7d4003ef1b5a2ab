"""The node: one engine wired to its venues, journal and clock, driven one message at a time.

This is the library API (``from atlas_oms import Node``) and the path every other front end (the
``atlas`` command, later the service) goes through. Each call stamps a command with the clock,
lets the engine decide, journals the events, sends the engine's requests to venues and feeds their
reports back, until nothing is left to do; then it returns.
"""

from __future__ import annotations

import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.engine import Engine, EngineConfig
from atlas_oms.core.equities import BuyingPower, buying_power
from atlas_oms.core.liquidation import MarginInfo
from atlas_oms.core.orders import OrderView
from atlas_oms.core.ports import Clock, Venue
from atlas_oms.core.positions import BalanceView, PositionView
from atlas_oms.core.state import export_state, import_state
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
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
from atlas_oms.model.margin import MarginMode, MarginTier
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import (
    EquityAccountType,
    MarketOrderReason,
    MarketStatus,
    RiskLimits,
    Scope,
    TradingState,
)
from atlas_oms.runtime.clock import LiveClock, ManualClock
from atlas_oms.store.audit import AuditRecord, audit_trail
from atlas_oms.store.base import Journal
from atlas_oms.store.memory import MemoryJournal
from atlas_oms.store.opener import open_journal
from atlas_oms.venues.sim import SimVenue

Number = Decimal | int | str | float
Listener = Callable[[list[ev.EventBase]], None]

#: Bumped whenever the pickled state layout changes; older snapshots are then ignored (full replay).
SNAPSHOT_VERSION = 4  # 2: the equities book; 3: the risk book; 4: the derivatives venue book


class NetPosition(msgspec.Struct, frozen=True, kw_only=True):
    """One instrument's position summed over several accounts."""

    symbol: str
    net_qty: Decimal
    gross_qty: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal


class CommandRefused(Exception):
    """A cancel, modify or other command was refused; nothing changed. ``reason`` is the code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


def to_decimal(value: Number | None) -> Decimal | None:
    """Take a user's number exactly: floats go through their shortest repr (0.1 -> Decimal('0.1'))."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number here")
    if isinstance(value, (int, str)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raise TypeError(f"expected a Decimal, int, str or float, got {type(value).__name__}")


class Node:
    """An Atlas node: the engine, the built-in exchange ``sim``, a journal and a clock."""

    def __init__(
        self,
        journal: Journal | str | None = None,
        *,
        clock: Clock | None = None,
        config: EngineConfig | None = None,
        venues: Iterable[Venue] = (),
        snapshot_every: int = 0,
    ) -> None:
        self.engine = Engine(config)
        if journal is None:
            journal = MemoryJournal()
        elif isinstance(journal, str):
            journal = open_journal(journal)
        self.journal: Journal = journal
        self.clock: Clock = clock if clock is not None else LiveClock()
        self.sim = SimVenue(self.engine.instruments)
        self.venues: dict[str, Venue] = {"sim": self.sim}
        for venue in venues:
            self.venues[venue.name] = venue
        self.snapshot_every = snapshot_every
        self._last_snapshot_seq = 0
        self._listeners: list[Listener] = []
        self._queue: deque[Any] = deque()
        self.recovered_events = self._recover()

    # ------------------------------------------------------------------ construction
    @classmethod
    def in_memory(cls, *, clock: Clock | None = None, **kwargs: Any) -> Node:
        """A node that keeps its journal in memory (tests, backtests, paper sessions)."""
        return cls(MemoryJournal(), clock=clock if clock is not None else ManualClock(), **kwargs)

    @classmethod
    def open(cls, path: str, **kwargs: Any) -> Node:
        """A node on a durable journal at ``path`` (SQLite by default); recovers what it holds."""
        return cls(open_journal(path), **kwargs)

    def _recover(self) -> int:
        """Rebuild state: latest snapshot, then the journal's events after it. Return events replayed."""
        engine = self.engine
        start = 1
        snap = self.journal.latest_snapshot()
        if snap is not None:
            seq, blob = snap
            try:
                version, data = pickle.loads(blob)
            except Exception:  # an unreadable snapshot costs time, not correctness: replay all
                version, data = None, None
            if version == SNAPSHOT_VERSION:
                import_state(engine, data)
                start = seq + 1
                self._last_snapshot_seq = seq
        count = 0
        apply = engine.apply
        for batch in self.journal.read_batches(start):
            for event in batch:
                apply(event)
            count += len(batch)
        if engine.seq:
            self._restore_books()
        return count

    def _restore_books(self) -> None:
        resting = sorted(
            (
                o
                for o in self.engine.orders.values()
                if o.is_live
                and o.venue == self.sim.name
                and o.price is not None
                and not o.held
                and o.leaves_qty > 0
                and o.priority_seq
            ),
            key=lambda o: o.priority_seq,
        )
        self.sim.restore(
            (o.symbol, o.order_id, o.account_id, o.side, o.price, o.leaves_qty)  # type: ignore[misc]
            for o in resting
        )

    # ------------------------------------------------------------------ the loop
    def process(self, message: Any) -> list[ev.EventBase]:
        """Run one message and everything it sets off; return every event, in order."""
        queue = self._queue
        queue.append(message)
        if len(queue) > 1:
            return []  # re-entrant call from a listener: the running loop will get to it
        engine = self.engine
        journal = self.journal
        venues = self.venues
        produced: list[ev.EventBase] = []
        journaled = 0
        try:
            while queue:
                events = engine.handle(queue[0])
                if events:
                    produced.extend(events)
                if engine.outbox:
                    for request in engine.take_requests():
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
            for listener in self._listeners:
                listener(produced)
            if self.snapshot_every and engine.seq - self._last_snapshot_seq >= self.snapshot_every:
                self.snapshot()
        return produced

    def feed(self, report: Any) -> list[ev.EventBase]:
        """Deliver a venue report (from an external venue, or a test) to the engine."""
        return self.process(report)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(events)`` after every processed message that produced events."""
        self._listeners.append(listener)

    def snapshot(self) -> int:
        """Write a snapshot of the whole state to the journal; return its sequence number."""
        self.journal.flush()
        seq = self.engine.seq
        blob = pickle.dumps(
            (SNAPSHOT_VERSION, export_state(self.engine)), protocol=pickle.HIGHEST_PROTOCOL
        )
        self.journal.save_snapshot(seq, blob)
        self._last_snapshot_seq = seq
        return seq

    def flush(self) -> None:
        self.journal.flush()

    def close(self) -> None:
        self.journal.close()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> int:
        return self.clock.now()

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
        )  # type: ignore[arg-type]
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
                    amount=to_decimal(amount),  # type: ignore[arg-type]
                    reason=reason,
                )
            )
        )
        return self.balance(from_account, asset), self.balance(to_account, asset)

    def transfers(self, account_id: str | None = None) -> list[ev.FundsTransferred]:
        """The journal's transfers, in order; with ``account_id``, those it sent or received."""
        return [
            e
            for e in self.events()
            if isinstance(e, ev.FundsTransferred)
            and (account_id is None or account_id in (e.account_id, e.to_account_id))
        ]

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
        )  # type: ignore[arg-type]

    @staticmethod
    def _expect(events: list[ev.EventBase]) -> None:
        for event in events:
            if isinstance(
                event, (ev.CommandRejected, ev.OrderCancelRejected, ev.OrderModifyRejected)
            ):
                raise CommandRefused(event.reason, event.message)

    # ------------------------------------------------------------------ derivatives venue
    def set_margin_mode(self, account_id: str, symbol: str, mode: MarginMode | str) -> None:
        """Margin ``symbol`` ISOLATED or CROSS for the account (only while it has no position or
        open orders there)."""
        self._expect(
            self.process(
                c.SetMarginMode(
                    ts=self._now(), account_id=account_id, symbol=symbol, mode=MarginMode(mode)
                )
            )
        )

    def add_margin(
        self,
        account_id: str,
        symbol: str,
        amount: Number,
        position_side: PositionSide | None = None,
    ) -> None:
        """Move free collateral into an isolated position's margin."""
        self._adjust_margin(account_id, symbol, amount, position_side, remove=False)

    def remove_margin(
        self,
        account_id: str,
        symbol: str,
        amount: Number,
        position_side: PositionSide | None = None,
    ) -> None:
        """Take margin out of an isolated position (no more than keeps its initial margin)."""
        self._adjust_margin(account_id, symbol, amount, position_side, remove=True)

    def _adjust_margin(
        self,
        account_id: str,
        symbol: str,
        amount: Number,
        position_side: PositionSide | None,
        remove: bool,
    ) -> None:
        self._expect(
            self.process(
                c.AdjustIsolatedMargin(
                    ts=self._now(),
                    account_id=account_id,
                    symbol=symbol,
                    amount=to_decimal(amount),  # type: ignore[arg-type]
                    remove=remove,
                    position_side=position_side,
                )
            )
        )

    def set_margin_tiers(
        self, symbol: str, tiers: Iterable[MarginTier], *, actor: str, reason: str = ""
    ) -> None:
        self._expect(
            self.process(
                c.SetMarginTiers(
                    ts=self._now(), symbol=symbol, tiers=tuple(tiers), actor=actor, reason=reason
                )
            )
        )

    def set_funding_rate(self, symbol: str, rate: Number) -> None:
        """The rate the perpetual's next funding settlement applies (0.0001 = 0.01%)."""
        self._expect(
            self.process(c.SetFundingRate(ts=self._now(), symbol=symbol, rate=to_decimal(rate)))  # type: ignore[arg-type]
        )

    def deposit_insurance_fund(
        self, asset: str, amount: Number, *, actor: str, reason: str = ""
    ) -> Decimal:
        """Add to (or, negative, take from) the insurance fund; return its new balance."""
        self._expect(
            self.process(
                c.DepositInsuranceFund(
                    ts=self._now(),
                    asset=asset,
                    amount=to_decimal(amount),  # type: ignore[arg-type]
                    actor=actor,
                    reason=reason,
                )
            )
        )
        return self.insurance_fund(asset)

    def settle_future(
        self, symbol: str, price: Number, *, actor: str, reason: str = "expiry"
    ) -> list[ev.EventBase]:
        """Cash-settle a dated future at ``price`` once it has expired: orders cancelled, every
        position closed at that price, the instrument no longer trades."""
        events = self.process(
            c.SettleFuture(
                ts=self._now(),
                symbol=symbol,
                price=to_decimal(price),  # type: ignore[arg-type]
                actor=actor,
                reason=reason,
            )
        )
        self._expect(events)
        return events

    def insurance_fund(self, asset: str) -> Decimal:
        return self.engine.liq.fund.get(asset, Decimal(0))

    def margin(
        self, account_id: str, symbol: str, position_side: PositionSide = PositionSide.BOTH
    ) -> MarginInfo | None:
        """Margin figures of a derivative position at the mark price (None if never held)."""
        pos = self.engine.positions.get((account_id, symbol, position_side))
        return self.engine.margin_info(pos) if pos is not None else None

    def account_margin(self, account_id: str, asset: str) -> dict[str, Decimal | None]:
        """The account's cross margin: wallet balance, margin balance, maintenance margin, ratio."""
        balance, maint = self.engine.cross_status(account_id, asset)
        return {
            "wallet_balance": self.engine.cross_wallet(account_id, asset),
            "margin_balance": balance,
            "maint_margin": maint,
            "margin_ratio": (maint / balance) if balance > 0 else None,
        }

    def liquidations(self, account_id: str | None = None) -> list[ev.EventBase]:
        """The journal's liquidation events (start, steps, insurance-fund transfers, ADL, end), in
        order; with ``account_id``, every event of the cases it was liquidated or deleveraged in."""
        kinds = (
            ev.LiquidationStarted,
            ev.LiquidationStep,
            ev.LiquidationFundTransfer,
            ev.PositionAutoDeleveraged,
            ev.LiquidationFinished,
        )
        found = [e for e in self.events() if isinstance(e, kinds)]
        if account_id is None:
            return found
        # An account sees its own events and the steps of its own liquidations; an ADL
        # counterparty sees its side of the trade, never the liquidated account's events.
        own = {
            e.case_id
            for e in found
            if isinstance(e, ev.LiquidationStarted) and e.account_id == account_id
        }
        return [
            e
            for e in found
            if getattr(e, "account_id", None) == account_id
            or (isinstance(e, ev.LiquidationStep) and e.case_id in own)
        ]

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

    def risk_status(self, account_id: str | None = None) -> dict[str, Any]:
        """Trading states, kill switches, breakers and limits (all, or those over one account)."""
        engine = self.engine
        risk = engine.risk
        now = self._now()

        def concerns(scope: Scope, scope_id: str) -> bool:
            if account_id is None or scope in (Scope.GLOBAL, Scope.STRATEGY, Scope.INSTRUMENT):
                return True
            return scope_id in risk.chain(account_id)

        return {
            "trading_states": [
                {
                    "scope": k[0].value,
                    "scope_id": k[1],
                    "state": e.state.value,
                    "actor": e.actor,
                    "reason": e.reason,
                    "since": e.ts_event,
                }
                for k, e in sorted(risk.states.items())
                if concerns(*k)
            ],
            "kill_switches": [
                {
                    "scope": k[0].value,
                    "scope_id": k[1],
                    "actor": e.actor,
                    "reason": e.reason,
                    "flatten": e.flatten,
                    "since": e.ts_event,
                }
                for k, e in sorted(risk.kills.items())
                if concerns(*k)
            ],
            "circuit_breakers": [
                engine.breaker_report(k[0], k[1], now)
                for k in sorted(risk.breakers)
                if concerns(*k)
            ],
            "limits": [
                {"scope": k[0].value, "scope_id": k[1], "limits": lim}
                for k, lim in sorted(risk.limits.items())
                if concerns(*k)
            ],
            "market_status": dict(sorted(risk.market_status.items())),
        }

    def breaker_status(self, scope: Scope | str, scope_id: str) -> dict[str, Any] | None:
        """One circuit breaker's status report (state, daily P&L, drawdown, losses, why, when)."""
        return self.engine.breaker_report(Scope(scope), scope_id, self._now())

    def buying_power(self, account_id: str, currency: str = "USD") -> BuyingPower:
        """US-equities buying power now: cash, settled and unsettled funds, equity, the 2:1 or 4:1
        figure and why (see docs/RISK.md)."""
        if account_id not in self.engine.accounts:
            raise CommandRefused(Reason.UNKNOWN_ACCOUNT, f"account {account_id} does not exist")
        return buying_power(self.engine, account_id, currency, self._now())

    def audit(self, account_id: str, *, include_subaccounts: bool = False) -> list[AuditRecord]:
        """The account's audit trail, read from the journal."""
        self.journal.flush()
        return audit_trail(self.journal.read(), account_id, include_subaccounts=include_subaccounts)

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
            qty=to_decimal(qty),  # type: ignore[arg-type]
            price=to_decimal(price),
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
        events = self.process(cmd)
        first = events[0]
        if isinstance(first, ev.CommandRejected):
            raise CommandRefused(first.reason, first.message)
        if isinstance(first, ev.OrderDuplicateIgnored):
            view = self.engine.orders[first.order_id].view()
            return _with(view, duplicate=True)
        order_id = first.order_id  # type: ignore[attr-defined]
        return self.engine.orders[order_id].view()

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
        order = self.engine._find(account_id, order_id, client_order_id)
        assert order is not None
        return order.view()

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
    def order(self, order_id: int) -> OrderView:
        return self.engine.orders[order_id].view()

    def orders(self, account_id: str | None = None, *, open_only: bool = False) -> list[OrderView]:
        return [
            o.view()
            for o in self.engine.orders.values()
            if (account_id is None or o.account_id == account_id) and (not open_only or o.is_live)
        ]

    def fills(self, account_id: str | None = None) -> list[ev.OrderFilled]:
        return [
            f
            for f in self.engine.fills.values()
            if account_id is None or f.account_id == account_id
        ]

    def positions(
        self, account_id: str | None = None, *, include_flat: bool = False
    ) -> list[PositionView]:
        engine = self.engine
        return [
            self._position_view(p)
            for k, p in sorted(engine.positions.items())
            if (account_id is None or p.account_id == account_id) and (include_flat or p.qty)
        ]

    def _position_view(self, pos: Any) -> PositionView:
        engine = self.engine
        view = pos.view(engine.reference_price(pos.symbol, prefer_mark=True))
        info = engine.margin_info(pos)
        if info is None:
            return view  # type: ignore[no-any-return]
        return msgspec.structs.replace(
            view,
            margin_mode=info.margin_mode.value,
            leverage=info.leverage,
            notional=info.notional,
            maint_margin=info.maint_margin,
            margin_balance=info.margin_balance,
            margin_ratio=info.margin_ratio,
            liquidation_price=info.liquidation_price,
            bankruptcy_price=info.bankruptcy_price,
            funding=info.funding,
        )

    def account_tree(self, account_id: str) -> list[str]:
        """The account and all its sub-accounts, at any depth (parents before children)."""
        children: dict[str | None, list[str]] = {}
        for acct in sorted(self.engine.accounts.values(), key=lambda a: a.account_id):
            children.setdefault(acct.parent_id, []).append(acct.account_id)
        out, todo = [], [account_id]
        while todo:
            current = todo.pop(0)
            out.append(current)
            todo.extend(children.get(current, []))
        return out

    def net_positions(self, account_id: str | None = None) -> list[NetPosition]:
        """Positions summed per instrument: over every account, or over one account and its
        sub-accounts. Long and short sides of hedge-mode accounts net against each other."""
        engine = self.engine
        members = None if account_id is None else set(self.account_tree(account_id))
        sums: dict[str, list[Decimal]] = {}
        for pos in engine.positions.values():
            if members is not None and pos.account_id not in members:
                continue
            row = sums.setdefault(pos.symbol, [Decimal(0)] * 5)
            price = engine.reference_price(pos.symbol, prefer_mark=True)
            row[0] += pos.qty
            row[1] += abs(pos.qty)
            row[2] += pos.realized_pnl
            row[3] += pos.unrealized_pnl(price)
            row[4] += pos.fees
        return [
            NetPosition(
                symbol=symbol,
                net_qty=r[0],
                gross_qty=r[1],
                realized_pnl=r[2],
                unrealized_pnl=r[3],
                fees=r[4],
            )
            for symbol, r in sorted(sums.items())
            if r[1] or r[2]
        ]

    def position(
        self, account_id: str, symbol: str, position_side: PositionSide = PositionSide.BOTH
    ) -> PositionView | None:
        pos = self.engine.positions.get((account_id, symbol, position_side))
        return self._position_view(pos) if pos else None

    def balance(self, account_id: str, asset: str) -> BalanceView:
        bal = self.engine.balances.get((account_id, asset))
        total, locked = (bal.total, bal.locked) if bal else (Decimal(0), Decimal(0))
        return BalanceView(
            account_id=account_id, asset=asset, total=total, locked=locked, free=total - locked
        )

    def balances(self, account_id: str | None = None) -> list[BalanceView]:
        return [
            BalanceView(account_id=a, asset=asset, total=b.total, locked=b.locked, free=b.free)
            for (a, asset), b in sorted(self.engine.balances.items())
            if account_id is None or a == account_id
        ]

    def events(self, from_seq: int = 1) -> Iterator[ev.EventBase]:
        """The journal's events from ``from_seq`` on (flushes first)."""
        self.journal.flush()
        return self.journal.read(from_seq)

    def book(self, symbol: str, levels: int = 10) -> dict[str, list[tuple[Decimal, Decimal]]]:
        book = self.sim.book(symbol)
        return {"bids": book.depth(Side.BUY, levels), "asks": book.depth(Side.SELL, levels)}

    def digest(self) -> str:
        """SHA-256 of the whole engine state; a replay of the journal gives the same value."""
        return self.engine.digest()


def _with(view: OrderView, **changes: Any) -> OrderView:
    return msgspec.structs.replace(view, **changes)
