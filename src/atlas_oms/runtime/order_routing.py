"""Where a new order goes, across venues and accounts (issue 15 §2): failover and rate limits
spread over a strategy's accounts, both from ``accounts.yaml``, for ``atlas serve``'s REST submit.

:meth:`OrderRouting.route` answers, for an order asked for (account, symbol):

1. **Strategy spreading** (seed 002: "where several accounts may trade a strategy, orders go to
   the account with budget left"). With ``strategy`` named, the order may go to any of the
   strategy's accounts (``account_routing.strategies: {mm: [sub_a, sub_b]}``) of the asked
   account's exchange and market: the first from the asked account on (in the file's order, round
   the ring) with an order left in its own rate-limit windows and weight left in the venue's
   shared (IP) windows. The budgets are the gateway's :class:`RateLimiter` counts (set from the
   venue's headers, ``X-MBX-ORDER-COUNT-10S``), less the orders routed there and not yet
   answered (``SUBMITTED``), through :class:`~atlas_oms.runtime.gateway.spread.BudgetBook`. A
   change of account is journaled as ``RouteSwitched`` (``account_id`` ``strategy:<name>``,
   reason ``RATE_BUDGET``; back on the asked account ``restored``).
2. **Failover** (VEN-3): the account's rule (``failover.rules``) is checked by the
   :class:`~atlas_oms.runtime.gateway.failover.FailoverRouter` (a switch journaled with the
   reason) and the order goes to the route in force, its symbol named as that venue names it.
   ``strict`` (REST ``route: "strict"``): no failover; a down venue refuses the order
   ``VENUE_NOT_TRADABLE``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from atlas_oms.model.enums import OrderStatus
from atlas_oms.model.routing import SwitchRoute
from atlas_oms.runtime.gateway.failover import ANY, FailoverRouter, FailoverRule, Route
from atlas_oms.runtime.gateway.qualified import map_symbol
from atlas_oms.runtime.gateway.spread import BudgetBook, book_for
from atlas_oms.venues.accounts import AccountsConfig, RoutingError

__all__ = ["RATE_BUDGET", "STRICT", "OrderRouting", "Routed", "RoutingError", "failover_rules"]

log = logging.getLogger("atlas.routing")

RATE_BUDGET = "RATE_BUDGET"
STRICT = "strict"


@dataclass(frozen=True)
class Routed:
    """Where an order went: ``venue``/``account_id``/``symbol``, asked as
    ``asked_account``/``asked_symbol``; ``reason`` says why it moved (a failover's
    ``DISCONNECTED``..., ``HEALTH_BELOW_THRESHOLD``, or ``RATE_BUDGET``), empty when it did
    not."""

    venue: str
    account_id: str
    symbol: str
    asked_account: str
    asked_symbol: str
    reason: str = ""
    strategy: str | None = None
    strict: bool = False

    @property
    def rerouted(self) -> bool:
        return (self.account_id, self.symbol) != (self.asked_account, self.asked_symbol)

    def as_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "account_id": self.account_id,
            "symbol": self.symbol,
            "asked_account_id": self.asked_account,
            "asked_symbol": self.asked_symbol,
            "rerouted": self.rerouted,
            "reason": self.reason,
            "strategy": self.strategy,
            "strict": self.strict,
        }


def failover_rules(config: AccountsConfig) -> list[FailoverRule]:
    """``failover.rules`` as the router's rules (a rule without symbol: for every symbol)."""
    suffixes = symbol_suffixes(config)
    out = []
    for rule in config.failover:
        if rule.symbol is None:
            alts = tuple(Route(t.venue, t.account_id, ANY) for t in rule.alternatives)
            out.append(FailoverRule(rule.account_id, ANY, alts))
            continue
        mine = suffixes.get(rule.venue, "")
        alts = tuple(
            Route(
                t.venue,
                t.account_id,
                t.symbol or map_symbol(rule.symbol, mine, suffixes.get(t.venue, "")),
            )
            for t in rule.alternatives
        )
        out.append(FailoverRule(rule.account_id, rule.symbol, alts))
    return out


def symbol_suffixes(config: AccountsConfig) -> dict[str, str]:
    return {v: ep.symbol_suffix for v, ep in config.venues.items() if ep.symbol_suffix}


@dataclass
class OrderRouting:
    node: Any
    config: AccountsConfig
    gateway: Any
    router: FailoverRouter
    books: dict[tuple[str, str, str], BudgetBook] = field(default_factory=dict)
    #: Orders routed since the start (order id -> where): the order's view shows it.
    routed: dict[int, Routed] = field(default_factory=dict)

    @classmethod
    def build(cls, node: Any, config: AccountsConfig, gateway: Any) -> OrderRouting:
        venue_of = {a.account_id: a.venue for a in config.accounts + config.paper}
        router = FailoverRouter.for_gateway(
            gateway,
            failover_rules(config),
            min_health=config.min_health,
            venue_of=venue_of,
            suffixes=symbol_suffixes(config),
        )
        return cls(node, config, gateway, router)

    @property
    def venue_of(self) -> Mapping[str, str]:
        return self.router.venue_of

    # ------------------------------------------------------------------ failover checks
    def check(self) -> list[Any]:
        """Re-decide every failover rule now (a switch or restore journaled)."""
        return self.router.check() if self.router.rules else []

    async def run_checks(self) -> None:
        """Check the failover routes every ``failover.check_every_s`` (a venue that goes down or
        comes back is journaled without waiting for an order)."""
        while True:
            try:
                self.check()
            except Exception as exc:  # a check that failed is said; the next one tries again
                log.error("failover check failed: %s", exc)
            await asyncio.sleep(self.config.failover_check_s)

    # ------------------------------------------------------------------ routing an order
    def route(
        self, account_id: str, symbol: str, *, strategy: str | None = None, strict: bool = False
    ) -> Routed:
        """Where a new order asked for (account, symbol) goes now (see the module doc).
        Raises :class:`RoutingError` for a strategy that does not trade on the account."""
        account, reason = account_id, ""
        if strategy is not None:
            account = self._spread(account_id, symbol, strategy)
            if account != account_id:
                reason = RATE_BUDGET
        if strict:
            route = self.router.primary(account, symbol)
        else:
            route = self.router.resolve(account, symbol)
            if route.account_id != account:
                key = self.router.rule_key(account, symbol)
                switched = self.node.engine.state.venues.routes.get(key) if key else None
                reason = switched.reason if switched is not None else reason
        venue = route.venue
        inst = self.node.instrument(route.symbol)
        if inst is not None:
            venue = inst.venue
        return Routed(
            venue=venue,
            account_id=route.account_id,
            symbol=route.symbol,
            asked_account=account_id,
            asked_symbol=symbol,
            reason=reason,
            strategy=strategy,
            strict=strict,
        )

    def down(self, account_id: str, symbol: str) -> tuple[str, str] | None:
        """(reason, message) when the venue account of (account, symbol) takes no new orders
        now (status or health), else None."""
        health = self.router.status(self.router.primary(account_id, symbol))
        return None if health.up else (health.reason, health.message)

    def _spread(self, account_id: str, symbol: str, strategy: str) -> str:
        try:
            acc = self.config.account(account_id)
        except KeyError:
            raise RoutingError(
                "UNKNOWN_STRATEGY", f"account {account_id} is not in accounts.yaml"
            ) from None
        candidates = self.config.strategy_accounts(strategy, acc.market, acc.exchange)
        if account_id not in candidates:
            raise RoutingError(
                "UNKNOWN_STRATEGY",
                f"account {account_id} does not trade strategy {strategy!r} "
                f"(its accounts: {', '.join(candidates)})",
            )
        if len(candidates) == 1:
            return account_id
        key = (strategy, acc.exchange, acc.market)
        book = self.books.get(key)
        if book is None or book.accounts != candidates:
            book = self.books[key] = book_for(candidates, self.venue_of)
        book.refresh(self.gateway.limits, self.venue_of)
        for name in candidates:  # orders on their way, not yet counted by the venue
            waiting = len(self.node.orders(name, open_only=True, status=OrderStatus.SUBMITTED))
            book.left[book.index[name]] -= waiting
        book.cursor = book.index[account_id]
        chosen = book.choose_and_take() or account_id  # none left: the limiter waits
        self._journal_choice(strategy, account_id, chosen, symbol, book)
        return chosen

    def _journal_choice(
        self, strategy: str, asked: str, chosen: str, symbol: str, book: BudgetBook
    ) -> None:
        left = book.left[book.index[asked]]
        self.node.process(
            SwitchRoute(
                ts=self.node.clock.now(),
                venue=self.venue_of.get(asked, ""),
                account_id=f"strategy:{strategy}",
                symbol=symbol,
                to_venue=self.venue_of.get(chosen, ""),
                to_account_id=chosen,
                to_symbol=symbol,
                reason=RATE_BUDGET,
                message=f"{asked} has {max(0, left)} orders left in its rate-limit window"
                + ("" if chosen == asked else f"; {chosen} has budget"),
                restored=chosen == asked,
            )
        )
