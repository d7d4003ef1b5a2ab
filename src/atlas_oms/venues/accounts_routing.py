"""``account_routing:`` of ``accounts.yaml``: the default account, the strategy routing lists,
balance rules and rebalance schedule as written, and the routing of a strategy to its accounts
(:class:`StrategyRouting`, a part of :class:`~atlas_oms.venues.accounts.AccountsConfig`). Part of
:mod:`atlas_oms.venues.accounts`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pydantic import StrictBool, field_validator

from atlas_oms.venues.accounts_base import MARKETS, _decimal, _Strict

if TYPE_CHECKING:
    from atlas_oms.venues.accounts import AccountEntry


_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d UTC$")


class BalanceRules(_Strict):
    min_main_balance: Decimal | None = None
    max_sub_balance: Decimal | None = None
    #: The asset the rules count (and rebalancing moves): USDT unless told.
    asset: str = "USDT"

    _numbers = field_validator("min_main_balance", "max_sub_balance", mode="before")(_decimal)


class Rebalance(_Strict):
    enabled: StrictBool = False
    schedule: Literal["hourly", "daily", "weekly"] = "daily"
    time: str = "00:00 UTC"

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError(f"{value!r} is not a time like '00:00 UTC'")
        return value


class Routing(_Strict):
    default: str
    #: Strategy -> the account name that trades it, or several (rate limits spread across them:
    #: an order goes to the first, in this order, with budget left).
    strategies: dict[str, str | list[str]] = {}
    balance_rules: BalanceRules = BalanceRules()
    rebalance: Rebalance = Rebalance()


class RoutingError(LookupError):
    """An order cannot be routed: ``reason`` ``UNKNOWN_STRATEGY`` or ``MARKET_DISABLED``."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class StrategyRouting:
    """Which Atlas account trades a strategy's orders (``account_routing`` and the accounts' own
    ``strategy:``): a part of :class:`~atlas_oms.venues.accounts.AccountsConfig`."""

    routing: Routing
    entries: Mapping[str, Mapping[str, AccountEntry]]

    def strategy_table(self) -> dict[str, str]:
        """Strategy -> account name: the routing table (the first of several), then accounts'
        own ``strategy:``."""
        table = {k: v if isinstance(v, str) else v[0] for k, v in self.routing.strategies.items()}
        for exchange_accounts in self.entries.values():
            for name, entry in exchange_accounts.items():
                if entry.strategy is not None:
                    table.setdefault(entry.strategy, name)
        return table

    def route(self, strategy: str | None, market: str, *, exchange: str | None = None) -> str:
        """The Atlas account id that trades ``strategy``'s orders in ``market``."""
        if market not in MARKETS:
            raise RoutingError("MARKET_DISABLED", f"unknown market {market!r}: spot or futures")
        if strategy is None:
            name = self.routing.default
        else:
            table = self.strategy_table()
            if strategy not in table:
                known = ", ".join(sorted(table)) or "none"
                raise RoutingError(
                    "UNKNOWN_STRATEGY",
                    f"strategy {strategy!r} is not routed to any account (known: {known})",
                )
            name = table[strategy]
        exchanges = [exchange] if exchange else [e for e in self.entries if name in self.entries[e]]
        for ex in exchanges:
            entry = self.entries.get(ex, {}).get(name)
            if entry is None:
                continue
            if not getattr(entry, f"{market}_enabled"):
                raise RoutingError(
                    "MARKET_DISABLED",
                    f"account {name} on {ex} does not trade {market} ({market}_enabled is false)",
                )
            return f"{ex}_{market}_{name}"
        raise RoutingError("UNKNOWN_STRATEGY", f"account {name!r} is not on {exchange}")

    def strategy_accounts(self, strategy: str, market: str, exchange: str) -> list[str]:
        """Every Atlas account id that may trade ``strategy`` in ``market`` on ``exchange``, in
        the file's order (``account_routing.strategies``: one name or several; else the one
        account whose own ``strategy:`` names it). Accounts of other exchanges, or that do not
        trade the market, are left out; none is :class:`RoutingError` ``UNKNOWN_STRATEGY``."""
        routed = self.routing.strategies.get(strategy)
        if routed is None:
            table = self.strategy_table()
            names = [table[strategy]] if strategy in table else []
        else:
            names = [routed] if isinstance(routed, str) else list(routed)
        named = self.entries.get(exchange, {})
        out = [
            f"{exchange}_{market}_{n}"
            for n in names
            if n in named and getattr(named[n], f"{market}_enabled", False)
        ]
        if not out:
            raise RoutingError(
                "UNKNOWN_STRATEGY",
                f"strategy {strategy!r} has no account trading {market} on {exchange}",
            )
        return out
