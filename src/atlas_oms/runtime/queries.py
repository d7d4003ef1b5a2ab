"""The read side of a node: every typed query the service, the command line, the blotter and the
benchmarks ask, in one place.

Front ends never reach into the engine: they call these methods, which return immutable views
(``OrderView``, ``PositionView``, ``BalanceView``, instruments, accounts, reports) or plain
values. :class:`~atlas_oms.runtime.node.Node` is a :class:`Queries`; a test pins that nothing
outside ``core/`` and ``runtime/`` touches the engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.context import Context
from atlas_oms.core.derivatives.commands import set_leverage, set_margin_mode
from atlas_oms.core.derivatives.figures import (
    MarginInfo,
    cross_status,
    cross_wallet,
    margin_info,
    tiers_of,
)
from atlas_oms.core.derivatives.formulas import max_notional
from atlas_oms.core.derivatives.order_estimate import OrderMarginEstimate, order_margin_estimate
from atlas_oms.core.engine import Engine
from atlas_oms.core.equities.buying_power import BuyingPower, buying_power
from atlas_oms.core.orders.order import Order, OrderView
from atlas_oms.core.policy.params import PolicyParams
from atlas_oms.core.ports import Clock
from atlas_oms.core.retention import order_of
from atlas_oms.core.risk.breaker import breaker_report
from atlas_oms.core.state.positions import BalanceView, PositionView
from atlas_oms.core.state.state import State
from atlas_oms.core.venues.fold import in_doubt
from atlas_oms.model import events as ev
from atlas_oms.model.account import Account
from atlas_oms.model.commands import SetLeverage, SetMarginMode, SubmitOrder
from atlas_oms.model.enums import OrderStatus, PositionSide, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode, MarginTier
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import RiskLimits, Scope
from atlas_oms.runtime.account_history import AccountHistory
from atlas_oms.runtime.account_history import account_history as read_account_history
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.history import History
from atlas_oms.runtime.list_views import OrderListView, list_view
from atlas_oms.runtime.trade_view import TradeView, trade_events, trade_view
from atlas_oms.runtime.venue_margin import VenuePositionView, venue_positions
from atlas_oms.store.audit import AuditRecord, audit_trail
from atlas_oms.store.base import Journal
from atlas_oms.venues.sim import SimVenue

ZERO = Decimal(0)


class NetPosition(msgspec.Struct, frozen=True, kw_only=True):
    """One instrument's position summed over several accounts."""

    symbol: str
    net_qty: Decimal
    gross_qty: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal


class FundingInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A perpetual's funding: the rate of the next settlement and when it is due."""

    symbol: str
    rate: Decimal | None
    interval_min: int
    last_funding_ts: int
    next_funding_ts: int | None


class Queries:
    """Typed reads of one node's state, journal and built-in exchange."""

    engine: Engine
    journal: Journal
    #: Archived orders (runtime/history.py): reads fall back to it for orders not in memory.
    history: History
    sim: SimVenue
    clock: Clock

    def _now(self) -> int:
        return self.clock.now()

    # ------------------------------------------------------------------ sequence and digest
    @property
    def seq(self) -> int:
        """The sequence number of the last event the engine applied (0: nothing yet)."""
        return self.engine.seq

    @property
    def next_order_id(self) -> int:
        """The id the next order will get."""
        return self.engine.state.next_order_id

    # ------------------------------------------------------------------ reference data
    def managed_trade(self, trade_id: str, *, events: bool = False) -> TradeView | None:
        """One managed trade (issue 13), or None; ``events``: with its events from the journal
        (a scan of the journal: see :meth:`trade_events`)."""
        state = self.engine.state
        t = state.trades.get(trade_id)
        if t is None:
            return None
        view = trade_view(state, t, self.get_order)
        if events:
            found = self.trade_events(trade_id)
            view = msgspec.structs.replace(view, events=tuple(found))
        return view

    def managed_trades(
        self,
        account_id: str | None = None,
        *,
        symbol: str | None = None,
        phase: str | None = None,
        open_only: bool = False,
    ) -> list[TradeView]:
        """Managed trades by trade id, optionally of one account, symbol or phase, or open only."""
        state = self.engine.state
        out = []
        for _, t in sorted(state.trades.items()):
            if account_id is not None and t.account_id != account_id:
                continue
            if symbol is not None and t.symbol != symbol:
                continue
            if phase is not None and t.phase != phase:
                continue
            view = trade_view(state, t, self.get_order)
            if open_only and not view.is_open:
                continue
            out.append(view)
        return out

    def trade_of_order(self, order_id: int) -> str | None:
        """The managed trade an order belongs to (None: not a trade's order)."""
        found: str | None = self.engine.state.trade_orders.get(order_id)
        return found

    def policy_params(self) -> PolicyParams:
        """Seed 001's execution-policy parameters in force."""
        return self.engine.state.policy

    def policy_overrides(self) -> dict[str, str]:
        """The overrides in force over the seed defaults (canonical name -> value text)."""
        return dict(self.engine.state.policy_overrides)

    def trade_events(self, trade_id: str) -> list[ev.EventBase]:
        """The journal's events of one managed trade (its ``Trade*`` events and its orders'),
        in order. Reads the whole journal: for the single view, not for lists."""
        t = self.engine.state.trades.get(trade_id)
        if t is None:
            return []
        return trade_events(self.journal.read(), trade_id, (*t.entry_orders, *t.exit_orders))

    def instrument(self, symbol: str) -> Instrument | None:
        return self.engine.state.instruments.get(symbol)

    def instruments(self) -> list[Instrument]:
        """Every instrument, by symbol."""
        return [i for _, i in sorted(self.engine.state.instruments.items())]

    def account(self, account_id: str) -> Account | None:
        return self.engine.state.accounts.get(account_id)

    def accounts(self) -> list[Account]:
        """Every account, by id."""
        return [a for _, a in sorted(self.engine.state.accounts.items())]

    def account_chain(self, account_id: str) -> tuple[str, ...]:
        """The account and its ancestors, nearest first."""
        return self.engine.state.risk.chain(account_id)

    # ------------------------------------------------------------------ prices
    def last_price(self, symbol: str) -> Decimal | None:
        return self.engine.state.last.get(symbol)

    def mark_price(self, symbol: str) -> Decimal | None:
        return self.engine.state.mark.get(symbol)

    def reference_price(self, symbol: str, *, prefer_mark: bool = False) -> Decimal | None:
        """The last trade price (or, ``prefer_mark``, the mark price), else the other one."""
        return self.engine.state.reference_price(symbol, prefer_mark=prefer_mark)

    # ------------------------------------------------------------------ orders
    def get_order(self, order_id: int) -> OrderView | None:
        order = self.engine.state.orders.get(order_id)
        if order is not None:
            return venue_marks(self.engine.state, order)
        record = self.history.get(order_id)
        return archived_view(record) if record is not None else None

    def find_order(
        self, account_id: str, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderView | None:
        """The account's order by id or by its client order id (None if it has no such order)."""
        state = self.engine.state
        order = state.find_order(account_id, order_id, client_order_id)
        if order is not None:
            return venue_marks(state, order)
        if order_id is None and client_order_id is not None:
            order_id = state.client_ids.get((account_id, client_order_id))
            if order_id is None:  # the key was forgotten: the latest order that had the id
                record = self.history.by_client_id(account_id, client_order_id)
                return archived_view(record) if record is not None else None
        record = self.history.get(order_id) if order_id is not None else None
        if record is None or record.account_id != account_id:
            return None
        return archived_view(record)

    def resting_orders(self, venue: str) -> list[OrderView]:
        """The live orders working at ``venue`` at a price, in their queue order there (the
        order in which they took their place): the built-in exchange is rebuilt from these."""
        state = self.engine.state
        return [
            o.view()
            for o in sorted(
                (
                    o
                    for o in state.orders.values()
                    if o.is_live
                    and o.venue == venue
                    and o.price is not None
                    and not o.held
                    and o.leaves_qty > 0
                    and o.priority_seq
                ),
                key=lambda o: o.priority_seq,
            )
        ]

    # ------------------------------------------------------------------ external venues
    def venue_status(
        self, venue: str | None = None, account_id: str | None = None
    ) -> list[ev.VenueStatusChanged]:
        """Each venue account's latest status (tradable, reason), by venue and account."""
        return [
            e
            for k, e in sorted(self.engine.state.venues.status.items())
            if (venue is None or k[0] == venue) and (account_id is None or k[1] == account_id)
        ]

    def venue_positions(
        self, account_id: str | None = None, venue: str | None = None
    ) -> list[VenuePositionView]:
        """Positions as the venues last reported them, each venue's own liquidation price and
        margin figures next to Atlas's estimate by that venue's convention (issue 15 §2)."""
        return venue_positions(self.engine.state, self.engine.config, account_id, venue)

    def reconciliation_reports(
        self, venue: str | None = None, account_id: str | None = None, *, latest: bool = True
    ) -> list[ev.VenueReconciled]:
        """Reconciliation reports (exception reports): the latest per (venue, account), or with
        ``latest=False`` every one in the journal, oldest first."""
        if latest:
            reports = [e for _, e in sorted(self.engine.state.venues.reports.items())]
        else:
            reports = [e for e in self.journal.read() if isinstance(e, ev.VenueReconciled)]
        return [
            e
            for e in reports
            if (venue is None or e.venue == venue)
            and (account_id is None or e.account_id == account_id)
        ]

    def order_ids(self) -> range:
        """Every order id given so far (1 to ``next_order_id - 1``)."""
        return range(1, self.engine.state.next_order_id)

    def transfers(self, account_id: str | None = None) -> list[ev.FundsTransferred]:
        """The journal's transfers, in order; with ``account_id``, those it sent or received."""
        return [
            e
            for e in self.events()
            if isinstance(e, ev.FundsTransferred)
            and (account_id is None or account_id in (e.account_id, e.to_account_id))
        ]

    def insurance_fund(self, asset: str) -> Decimal:
        return self.engine.state.liq.fund.get(asset, Decimal(0))

    def margin(
        self, account_id: str, symbol: str, position_side: PositionSide = PositionSide.BOTH
    ) -> MarginInfo | None:
        """Margin figures of a derivative position at the mark price (None if never held)."""
        pos = self.engine.state.positions.get((account_id, symbol, position_side))
        return margin_info(self.engine.state, self.engine.config, pos) if pos is not None else None

    def account_margin(self, account_id: str, asset: str) -> dict[str, Decimal | None]:
        """The account's cross margin: wallet balance, margin balance, maintenance margin, ratio."""
        balance, maint = cross_status(self.engine.state, self.engine.config, account_id, asset)
        return {
            "wallet_balance": cross_wallet(self.engine.state, account_id, asset),
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
        found: list[ev.EventBase] = [e for e in self.events() if isinstance(e, kinds)]
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

    def risk_status(self, account_id: str | None = None) -> dict[str, Any]:
        """Trading states, kill switches, breakers and limits (all, or those over one account)."""
        engine = self.engine
        risk = engine.state.risk
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
                breaker_report(engine.state, k[0], k[1], now)
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
        return breaker_report(self.engine.state, Scope(scope), scope_id, self._now())

    def buying_power(self, account_id: str, currency: str = "USD") -> BuyingPower:
        """US-equities buying power now: cash, settled and unsettled funds, equity, the 2:1 or 4:1
        figure and why (see docs/RISK.md)."""
        if account_id not in self.engine.state.accounts:
            raise CommandRefused(Reason.UNKNOWN_ACCOUNT, f"account {account_id} does not exist")
        return buying_power(self.engine.state, account_id, currency, self._now())

    def audit(self, account_id: str, *, include_subaccounts: bool = False) -> list[AuditRecord]:
        """The account's audit trail, read from the journal."""
        self.journal.flush()
        return audit_trail(self.journal.read(), account_id, include_subaccounts=include_subaccounts)

    def account_history_check(self, account_id: str) -> None:
        """Raise :class:`CommandRefused` (``UNKNOWN_ACCOUNT``) unless the account exists."""
        if account_id not in self.engine.state.accounts:
            raise CommandRefused(Reason.UNKNOWN_ACCOUNT, f"account {account_id} does not exist")

    def account_history(self, account_id: str) -> AccountHistory:
        """The account's closed positions (round trips), realized P&L entries with running
        totals, and equity points, read from the journal (:mod:`atlas_oms.runtime.account_history`)."""
        self.account_history_check(account_id)
        self.journal.flush()
        return read_account_history(self.journal.read(), account_id)

    def order_list(self, list_id: int) -> OrderListView:
        """The linked-order list ``list_id`` (OCO, OTO, bracket); KeyError if there is none."""
        return list_view(self.engine.state.links.lists[list_id])

    def order_lists(self, open_only: bool = False) -> list[OrderListView]:
        """Every linked-order list, oldest first."""
        lists = self.engine.state.links.lists
        return [list_view(x) for _, x in sorted(lists.items()) if x.open or not open_only]

    def order(self, order_id: int) -> OrderView:
        view = self.get_order(order_id)
        if view is None:
            raise KeyError(order_id)
        return view

    def orders(
        self,
        account_id: str | None = None,
        *,
        open_only: bool = False,
        status: OrderStatus | None = None,
        symbol: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        after: int = 0,
        limit: int | None = None,
    ) -> list[OrderView]:
        """Orders in id order: of one account (or all), live only, in one status or symbol,
        created in ``[since_ns, until_ns)``, with an id above ``after``; at most ``limit``.
        Archived orders (out of memory, see ``core/retention.py``) come from the history."""
        out: list[OrderView] = []
        orders = self.engine.state.orders
        ids = sorted(i for i in orders if i > after) if self.engine.state.archived else None
        for order_id in (
            ids if ids is not None else range(max(after + 1, 1), self.engine.state.next_order_id)
        ):
            o = orders.get(order_id)
            if (
                o is None
                or (account_id is not None and o.account_id != account_id)
                or (open_only and not o.is_live)
                or (status is not None and o.status is not status)
                or (symbol is not None and o.symbol != symbol)
                or (since_ns is not None and o.ts_init < since_ns)
                or (until_ns is not None and o.ts_init >= until_ns)
            ):
                continue
            if limit is not None and len(out) == limit:
                break
            out.append(venue_marks(self.engine.state, o))
        if open_only or not self.engine.state.archived:
            return out
        past = self.history.orders(
            account_id,
            status=status,
            symbol=symbol,
            since_ns=since_ns,
            until_ns=until_ns,
            after=after,
            limit=limit,
        )
        if past:  # merge by id (an order loaded back is in both: memory wins)
            merged = {v.order_id: v for v in map(archived_view, past)}
            merged.update((v.order_id, v) for v in out)
            out = [merged[i] for i in sorted(merged)][:limit]
        return out

    def fills(
        self, account_id: str | None = None, symbol: str | None = None
    ) -> list[ev.OrderFilled]:
        """Executions in the order they were booked (busted ones included, as the venue sent
        them): of one account and/or one symbol, or all; those of archived orders first, from
        the history."""
        live = [
            f
            for f in self.engine.state.fills.values()
            if (account_id is None or f.account_id == account_id)
            and (symbol is None or f.symbol == symbol)
        ]
        if not self.engine.state.archived:
            return live
        state_orders = self.engine.state.orders
        past = [
            f
            for r in self.history.orders(account_id, symbol=symbol)
            if r.order_id not in state_orders
            for f in r.fills
        ]
        past.sort(key=lambda f: f.seq)
        return past + live

    def orders_in_memory(self) -> int:
        """How many orders the engine holds (live and recent: see ``core/retention.py``)."""
        return len(self.engine.state.orders)

    def order_fills(self, order_id: int) -> list[ev.OrderFilled]:
        """One order's executions in booking order (an archived order's from the history)."""
        state = self.engine.state
        if order_id in state.orders:
            return [state.fills[x] for x in state.order_fills.get(order_id, ())]
        record = self.history.get(order_id)
        return list(record.fills) if record is not None else []

    def order_audit(self, order_id: int) -> list[AuditRecord]:
        """The audit trail of one order (live or archived): every journaled event naming it."""
        view = self.get_order(order_id)
        if view is None:
            return []
        return [r for r in self.audit(view.account_id) if r.order_id == order_id]

    def positions(
        self, account_id: str | None = None, *, include_flat: bool = False
    ) -> list[PositionView]:
        engine = self.engine
        return [
            self._position_view(p)
            for k, p in sorted(engine.state.positions.items())
            if (account_id is None or p.account_id == account_id) and (include_flat or p.qty)
        ]

    def _position_view(self, pos: Any) -> PositionView:
        engine = self.engine
        view = pos.view(engine.state.reference_price(pos.symbol, prefer_mark=True))
        info = margin_info(engine.state, engine.config, pos)
        if info is None:
            return view
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
        for acct in sorted(self.engine.state.accounts.values(), key=lambda a: a.account_id):
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
        for pos in engine.state.positions.values():
            if members is not None and pos.account_id not in members:
                continue
            row = sums.setdefault(pos.symbol, [Decimal(0)] * 5)
            price = engine.state.reference_price(pos.symbol, prefer_mark=True)
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
        pos = self.engine.state.positions.get((account_id, symbol, position_side))
        return self._position_view(pos) if pos else None

    def balance(self, account_id: str, asset: str) -> BalanceView:
        bal = self.engine.state.balances.get((account_id, asset))
        total, locked = (bal.total, bal.locked) if bal else (Decimal(0), Decimal(0))
        return BalanceView(
            account_id=account_id, asset=asset, total=total, locked=locked, free=total - locked
        )

    def balances(self, account_id: str | None = None) -> list[BalanceView]:
        return [
            BalanceView(account_id=a, asset=asset, total=b.total, locked=b.locked, free=b.free)
            for (a, asset), b in sorted(self.engine.state.balances.items())
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

    # ------------------------------------------------------------------ derivatives
    def margin_tiers(self, symbol: str) -> tuple[MarginTier, ...]:
        """The derivative's maintenance-margin tiers in force (its own table or the default)."""
        inst = self.engine.state.instruments.get(symbol)
        if inst is None:
            raise CommandRefused(Reason.UNKNOWN_INSTRUMENT, f"instrument {symbol} does not exist")
        return tiers_of(self.engine.config, inst)

    def max_position_notional(self, symbol: str, leverage: Decimal) -> Decimal | None:
        """The largest position notional the tier table allows at ``leverage`` (None: no
        limit; 0: no tier allows that leverage)."""
        return max_notional(self.margin_tiers(symbol), leverage)

    def insurance_funds(self) -> dict[str, Decimal]:
        """Every insurance fund's balance, by asset."""
        return dict(sorted(self.engine.state.liq.fund.items()))

    def funding(self, symbol: str) -> FundingInfo:
        """A perpetual's funding rate and settlement times."""
        inst = self.engine.state.instruments.get(symbol)
        if inst is None:
            raise CommandRefused(Reason.UNKNOWN_INSTRUMENT, f"instrument {symbol} does not exist")
        liq = self.engine.state.liq
        interval = inst.funding_interval_min * 60_000_000_000
        last = liq.last_funding.get(symbol, 0)
        return FundingInfo(
            symbol=symbol,
            rate=liq.funding_rate.get(symbol),
            interval_min=inst.funding_interval_min,
            last_funding_ts=last,
            next_funding_ts=last + interval if interval else None,
        )

    # ------------------------------------------------------------------ risk
    def risk_limits(self, scope: Scope | str, scope_id: str = "") -> RiskLimits | None:
        """The limits one scope sets (None: none)."""
        return self.engine.state.risk.limits.get((Scope(scope), scope_id))

    def next_deadline(self, after: int) -> int | None:
        """When a timer tick next has something to do, later than ``after`` (ns; None: nothing
        scheduled): the earliest order expiry, funding boundary or breaker auto-reset."""
        return self.engine.next_deadline(after)

    def open_breakers(self) -> int:
        """How many circuit breakers are open now."""
        return sum(1 for b in self.engine.state.risk.breakers.values() if b.state == "OPEN")

    # --- added for the service and benchmarks ------------------------------------------------
    # Reads the REST/WebSocket service and the benchmarks need that the queries above do not
    # give; each is a plain value or an immutable view, never an engine object.
    def order_owner(self, order_id: int) -> str | None:
        """The account that holds order ``order_id`` (None: no such order). The stream routes
        every order event by it, once per subscription: cheaper than :meth:`get_order`."""
        order = self.engine.state.orders.get(order_id)
        return order.account_id if order is not None else None

    def liquidation_summary(self) -> LiquidationSummary:
        """How many liquidation cases started, how many are still open, and how many
        auto-deleveraging trades closed a counterparty's position."""
        liq = self.engine.state.liq
        return LiquidationSummary(
            cases_started=liq.liquidations, cases_open=len(liq.cases), adl_trades=liq.adl_count
        )

    def liquidation_watch(self, symbol: str) -> LiquidationWatch:
        """What the engine watches to liquidate on ``symbol``'s mark price: how many entries
        (isolated positions, cross accounts), how many accounts await recomputation, and the
        liquidation prices nearest to the mark on either side."""
        idx = self.engine.state.liq_index
        below = idx.below.get(symbol) or ()
        above = idx.above.get(symbol) or ()
        return LiquidationWatch(
            symbol=symbol,
            watched=len(below) + len(above),
            stale_accounts=len(idx.dirty),
            nearest_below=below[-1][0] if below else None,
            nearest_above=above[0][0] if above else None,
        )

    def ratio_warnings(self) -> list[tuple[str, str]]:
        """(account, reason code) of every order-to-trade or cancel-replace ratio warning in
        force, sorted."""
        return sorted(self.engine.state.risk.ratio_flags)

    def pre_trade_check(
        self, cmd: SubmitOrder, worst: Decimal | None = None
    ) -> tuple[Reason, str] | None:
        """Run the pre-trade risk checks on ``cmd`` without submitting it: (reason, message) of
        the first refusal, or None if every check passes. ``worst`` is the worst price the order
        may execute at (default: its limit price), used by notional limits.

        Nothing is journaled and no state changes (the engine's submit sets its own duplicate
        warning afresh)."""
        inst = self.engine.state.instruments.get(cmd.symbol)
        if inst is None:
            raise CommandRefused(
                Reason.UNKNOWN_INSTRUMENT, f"instrument {cmd.symbol} does not exist"
            )
        return self.engine.pre_trade_check(cmd, inst, cmd.price if worst is None else worst)

    def margin_estimate(
        self, cmd: SubmitOrder, price: Decimal | None = None
    ) -> OrderMarginEstimate | None:
        """Before a fill: the position ``cmd`` would make if it filled in full at ``price``
        (default: its limit price, else the mark, else the last trade) and that position's
        liquidation price by the convention of the order's venue (Binance, Bybit, OKX; Atlas's
        own exchange: Binance's). None for spot and equities. Nothing is journaled."""
        state = self.engine.state
        inst = state.instruments.get(cmd.symbol)
        if inst is None:
            raise CommandRefused(
                Reason.UNKNOWN_INSTRUMENT, f"instrument {cmd.symbol} does not exist"
            )
        px = price or cmd.price or state.reference_price(cmd.symbol, prefer_mark=True)
        if px is None:
            raise CommandRefused(
                Reason.NO_REFERENCE_PRICE,
                f"{cmd.symbol} has no price to estimate a market order at",
            )
        return order_margin_estimate(state, self.engine.config, cmd, inst, px)

    # ------------------------------------------------------------------ derivative settings
    def derivative_settings(self, account_id: str) -> dict[str, tuple[Decimal | None, MarginMode]]:
        """The account's settings chosen in Atlas, per derivative: (leverage, margin mode) for
        every symbol with a leverage set (``SetLeverage``) or margined ISOLATED. The leverage is
        None where none was set (Atlas then margins at 1x); CROSS is the default mode."""
        state = self.engine.state
        out: dict[str, tuple[Decimal | None, MarginMode]] = {}
        for (acct, symbol), lev in state.leverage.items():
            if acct == account_id:
                out[symbol] = (lev, MarginMode.CROSS)
        for (acct, symbol), mode in state.liq.margin_mode.items():
            if acct == account_id:
                out[symbol] = (out.get(symbol, (None, mode))[0], mode)
        return out

    def settings_refusal(self, command: SetLeverage | SetMarginMode) -> tuple[str, str] | None:
        """Would the engine refuse this ``SetLeverage`` or ``SetMarginMode``? (reason, message)
        of its refusal, or None if it would take it. Nothing is journaled, no state changes
        (the gateway asks before it changes the setting on a venue)."""
        engine = self.engine
        ctx = _FirstEvent(engine.state, engine.config)
        handler = set_leverage if isinstance(command, SetLeverage) else set_margin_mode
        try:
            handler(ctx, command)  # type: ignore[arg-type]
        except _Decided as decided:
            if isinstance(decided.event, ev.CommandRejected):
                return decided.event.reason, decided.event.message
        return None


# --- added for the service and benchmarks: the result types of the queries above ------------
class LiquidationSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Liquidation cases started and still open, and auto-deleveraging trades, so far."""

    cases_started: int
    cases_open: int
    adl_trades: int


class LiquidationWatch(msgspec.Struct, frozen=True, kw_only=True):
    """One symbol's liquidation watch: entries, accounts awaiting recomputation, and the nearest
    liquidation prices below (net longs) and above (net shorts) the mark."""

    symbol: str
    watched: int
    stale_accounts: int
    nearest_below: Decimal | None
    nearest_above: Decimal | None


class _Decided(Exception):
    def __init__(self, event: Any) -> None:
        self.event = event


class _FirstEvent(Context):
    """A context that stops at the first event a handler emits, folding nothing."""

    __slots__ = ()

    def emit(self, event: Any) -> None:
        raise _Decided(event)


def archived_view(r: ev.ArchivedOrder) -> OrderView:
    """The view of an archived order (as its order's view was when it left memory)."""
    return order_of(r).view()


def venue_marks(state: State, order: Order) -> OrderView:
    """The order's view, marked external (adopted from a venue) or in doubt (a command got no
    definitive answer yet)."""
    view = order.view()
    book = state.venues
    if not book:
        return view
    external = order.order_id in book.external
    doubt = in_doubt(state, order)
    if external or doubt:
        return msgspec.structs.replace(view, external=external, in_doubt=doubt)
    return view
