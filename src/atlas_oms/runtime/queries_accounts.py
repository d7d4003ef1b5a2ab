"""Reads of reference data, accounts, prices, balances and positions: part of
:class:`~atlas_oms.runtime.queries.Queries`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.derivatives.figures import (
    margin_info,
)
from atlas_oms.core.equities.buying_power import BuyingPower, buying_power
from atlas_oms.core.state.positions import BalanceView, PositionView
from atlas_oms.model import events as ev
from atlas_oms.model.account import Account
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.runtime.account_history import AccountHistory
from atlas_oms.runtime.account_history import account_history as read_account_history
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.queries_base import QueriesBase


class NetPosition(msgspec.Struct, frozen=True, kw_only=True):
    """One instrument's position summed over several accounts."""

    symbol: str
    net_qty: Decimal
    gross_qty: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal


class AccountQueries(QueriesBase):
    """Instruments, accounts, prices, transfers, buying power, account history, positions and
    balances."""

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

    def last_price(self, symbol: str) -> Decimal | None:
        return self.engine.state.last.get(symbol)

    def mark_price(self, symbol: str) -> Decimal | None:
        return self.engine.state.mark.get(symbol)

    def reference_price(self, symbol: str, *, prefer_mark: bool = False) -> Decimal | None:
        """The last trade price (or, ``prefer_mark``, the mark price), else the other one."""
        return self.engine.state.reference_price(symbol, prefer_mark=prefer_mark)

    def transfers(self, account_id: str | None = None) -> list[ev.FundsTransferred]:
        """The journal's transfers, in order; with ``account_id``, those it sent or received."""
        return [
            e
            for e in self.events()
            if isinstance(e, ev.FundsTransferred)
            and (account_id is None or account_id in (e.account_id, e.to_account_id))
        ]

    def buying_power(self, account_id: str, currency: str = "USD") -> BuyingPower:
        """US-equities buying power now: cash, settled and unsettled funds, equity, the 2:1 or 4:1
        figure and why (see docs/RISK.md)."""
        if account_id not in self.engine.state.accounts:
            raise CommandRefused(Reason.UNKNOWN_ACCOUNT, f"account {account_id} does not exist")
        return buying_power(self.engine.state, account_id, currency, self._now())

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
