"""What the consolidated book needs from ``accounts.yaml`` and the gateway: a strategy's accounts
on the venues of a group (``account_routing.strategies``) and which venue accounts have no
rate-limit budget left (``runtime/gateway/spread.py::BudgetBook`` over the gateway's limiters)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atlas_oms.runtime.gateway.spread import book_for
from atlas_oms.runtime.market.consolidated import StrategyAccounts, Throttled
from atlas_oms.venues.accounts import AccountsConfig

__all__ = ["gateway_throttled", "strategy_accounts_of"]


def strategy_accounts_of(config: AccountsConfig) -> StrategyAccounts:
    """(strategy, venues) -> the (venue, Atlas account id) pairs the strategy may spread over:
    the account names ``account_routing.strategies`` gives it (one or several; else the
    account whose own ``strategy:`` names it), on every exchange and market whose venue is one
    of ``venues``, in the file's order of names, then of accounts."""

    def accounts(strategy: str, venues: Sequence[str]) -> list[tuple[str, str]]:
        routed = config.routing.strategies.get(strategy)
        if routed is None:
            table = config.strategy_table()
            names = [table[strategy]] if strategy in table else []
        else:
            names = [routed] if isinstance(routed, str) else list(routed)
        wanted = set(venues)
        out: list[tuple[str, str]] = []
        for name in names:
            for acc in config.accounts + config.paper:
                if acc.name == name and acc.venue in wanted:
                    pair = (acc.venue, acc.account_id)
                    if pair not in out:
                        out.append(pair)
        return out

    return accounts


def gateway_throttled(gateway: Any) -> Throttled:
    """(venue, account) pairs -> ``"venue/account"`` of those with no order budget left (their
    own, or their venue's shared IP scope, or a paused limiter), read from the gateway's rate
    limiters now. Pairs the gateway has no session for are never throttled."""

    def throttled(pairs: Sequence[tuple[str, str]]) -> tuple[str, ...]:
        known = list(dict.fromkeys(p for p in pairs if p in gateway.sessions))
        if not known:
            return ()
        venue_of = {a: v for v, a in known}
        book = book_for(list(venue_of), venue_of)
        book.refresh(gateway.limits, venue_of)
        out = []
        for venue, account in known:
            i = book.index[account]
            if book.left[i] <= 0 or any(book.scope_left[s] <= 0 for s in book.scopes[i]):
                out.append(f"{venue}/{account}")
        return tuple(out)

    return throttled
