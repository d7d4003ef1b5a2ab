"""Reads of managed trades (issue 13) and the execution policy: part of
:class:`~atlas_oms.runtime.queries.Queries`."""

from __future__ import annotations

import msgspec

from atlas_oms.core.policy.params import PolicyParams
from atlas_oms.model import events as ev
from atlas_oms.runtime.queries_orders import OrderQueries
from atlas_oms.runtime.trade_view import TradeView, trade_events, trade_view


class TradeQueries(OrderQueries):
    """Managed trades and the execution-policy parameters in force."""

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
