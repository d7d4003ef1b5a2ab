"""Failover (issue 15 §2, VEN-3): a venue account that is down stops taking new orders; the
configured alternatives take them; every switch is journaled with its reason.

*Down* means: the core's status of the venue account is not tradable (the gateway's session said
DISCONNECTED, RECONCILING, BANNED, CLOCK_SKEW, ... — stream and queries failing end there), or its
health score (:func:`health_score`, from what the session tracks) is below ``min_health``.

A rule names a primary route (Atlas account, unified symbol) and its alternatives in order: another
venue for the same unified symbol (``to_symbol`` is that venue's instrument) or another account at
the same venue. :meth:`FailoverRouter.check` decides the route of every rule and journals a change
(``SwitchRoute`` → ``RouteSwitched``); :meth:`FailoverRouter.submit` checks, then submits to the
route in force. When no route is up the order goes to the primary, which refuses it with
``VENUE_NOT_TRADABLE`` and the reason (a typed refusal, never a silent drop).

Working orders at the failed venue are not moved: they stay tracked by the core, and the venue's
session reconciles them (fills, cancels that happened meanwhile) when it connects again; the route
returns to the primary (``restored``) once it is tradable and healthy again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from atlas_oms.model.routing import SwitchRoute
from atlas_oms.runtime.gateway.qualified import map_symbol
from atlas_oms.runtime.gateway.session import SessionHealth

HEALTH_BELOW_THRESHOLD = "HEALTH_BELOW_THRESHOLD"
#: A rule's symbol meaning every symbol of the account (accounts.yaml: a rule without
#: ``symbol``): one switch per account, each order's symbol mapped to the alternative's venue.
ANY = "*"
RESTORED = "RESTORED"
NO_STATUS = "NO_STATUS"


@dataclass(frozen=True)
class Route:
    """Where new orders go: a venue account (Atlas account id) and the venue's symbol."""

    venue: str
    account_id: str
    symbol: str


@dataclass(frozen=True)
class FailoverRule:
    """The primary (account, symbol) and its alternatives, in order of preference."""

    account_id: str
    symbol: str
    alternatives: tuple[Route, ...]


@dataclass(frozen=True)
class Health:
    up: bool
    reason: str
    message: str = ""
    score: float = 1.0


def health_score(h: SessionHealth, *, silent_after_s: float = 60.0) -> float:
    """A score in [0, 1] from what a session tracks: 0 when not tradable; less for a rate-limit
    pause (the venue says: slow down), a failed last reconciliation (queries failing), a silent
    stream, and many reconnects."""
    if not h.tradable or not h.connected:
        return 0.0
    score = 1.0
    if h.rate_limit_paused_s > 0:
        score -= 0.5
    if h.last_reconciliation is not None and not h.last_reconciliation.ok:
        score -= 0.4
    if h.last_message_age_s is not None and h.last_message_age_s > silent_after_s:
        score -= 0.3
    if h.reconnects >= 3:
        score -= 0.1
    return max(0.0, round(score, 3))


class FailoverRouter:
    """Routes new orders of the configured (account, symbol) pairs around venues that are down.

    ``node``: a runtime Node (its core's venue status and routes are read); ``health``: an
    optional reader of a venue account's :class:`SessionHealth` (a gateway's session), whose
    :func:`health_score` below ``min_health`` also counts as down.
    """

    def __init__(
        self,
        node: Any,
        rules: Iterable[FailoverRule],
        *,
        health: Callable[[str, str], SessionHealth | None] | None = None,
        min_health: float = 0.5,
        silent_after_s: float = 60.0,
        venue_of: Mapping[str, str] | None = None,
        suffixes: Mapping[str, str] | None = None,
    ) -> None:
        self.node = node
        #: Account -> its venue (the primary of a rule for every symbol); venue -> the suffix of
        #: its symbols in Atlas (runtime/gateway/qualified.py).
        self.venue_of = dict(venue_of or {})
        self.suffixes = dict(suffixes or {})
        self.silent_after_s = silent_after_s
        self.rules: dict[tuple[str, str], FailoverRule] = {
            (r.account_id, r.symbol): r for r in rules
        }
        self.health_of = health
        self.min_health = min_health

    @classmethod
    def for_gateway(
        cls,
        gateway: Any,
        rules: Iterable[FailoverRule],
        *,
        min_health: float = 0.5,
        venue_of: Mapping[str, str] | None = None,
        suffixes: Mapping[str, str] | None = None,
    ) -> FailoverRouter:
        def read(venue: str, account_id: str) -> SessionHealth | None:
            session = gateway.sessions.get((venue, account_id))
            return None if session is None else session.health()

        return cls(
            gateway.node,
            rules,
            health=read,
            min_health=min_health,
            silent_after_s=gateway.config.silent_after_s,
            venue_of=venue_of,
            suffixes=suffixes,
        )

    # ------------------------------------------------------------------ decisions
    def primary(self, account_id: str, symbol: str) -> Route:
        inst = None if symbol == ANY else self.node.instrument(symbol)
        venue = inst.venue if inst is not None else self.venue_of.get(account_id, "")
        return Route(venue, account_id, symbol)

    def rule_key(self, account_id: str, symbol: str) -> tuple[str, str] | None:
        """The rule that covers (account, symbol): its own, else the account's for every
        symbol; None: no failover for it."""
        if (account_id, symbol) in self.rules:
            return account_id, symbol
        if (account_id, ANY) in self.rules:
            return account_id, ANY
        return None

    def resolve(self, account_id: str, symbol: str, *, check: bool = True) -> Route:
        """Where a new order of (account, symbol) goes now: the rule's route is checked first
        (a switch journaled), then its symbol is named as the route's venue names it."""
        key = self.rule_key(account_id, symbol)
        if key is None:
            return self.primary(account_id, symbol)
        if check:
            self._check(*key)
        route = self.current(*key)
        if route.symbol == ANY:
            if route.account_id == account_id:
                return Route(route.venue, account_id, symbol)
            here = self.node.instrument(symbol)
            mine = self.suffixes.get(here.venue if here is not None else "", "")
            to = map_symbol(symbol, mine, self.suffixes.get(route.venue, ""))
            return Route(route.venue, route.account_id, to)
        return route

    def status(self, route: Route) -> Health:
        """Whether ``route``'s venue account takes new orders now, and why not."""
        state = self.node.engine.state.venues
        status = state.status.get((route.venue, route.account_id))
        if status is None:
            if state.venue_managed(route.venue):
                return Health(False, NO_STATUS, "no status yet", 0.0)
            return Health(True, "", "", 1.0)  # a venue no gateway manages (sim, paper)
        if not status.tradable:
            return Health(False, status.reason, status.message, 0.0)
        if self.health_of is not None:
            h = self.health_of(route.venue, route.account_id)
            if h is not None:
                score = health_score(h, silent_after_s=self.silent_after_s)
                if score < self.min_health:
                    return Health(
                        False,
                        HEALTH_BELOW_THRESHOLD,
                        f"health {score:g} < {self.min_health:g}",
                        score,
                    )
                return Health(True, "", "", score)
        return Health(True, "", "", 1.0)

    def decide(self, account_id: str, symbol: str) -> tuple[Route, Health]:
        """The route new orders of (account, symbol) should take now, and the primary's health."""
        primary = self.primary(account_id, symbol)
        mine = self.status(primary)
        rule = self.rules.get((account_id, symbol))
        if mine.up or rule is None:
            return primary, mine
        for alt in rule.alternatives:
            if self.status(alt).up:
                return alt, mine
        return primary, mine  # nowhere to go: the primary refuses, with its reason

    def current(self, account_id: str, symbol: str) -> Route:
        """The route in force (journaled)."""
        switched = self.node.engine.state.venues.routes.get((account_id, symbol))
        if switched is None:
            return self.primary(account_id, symbol)
        return Route(switched.to_venue, switched.to_account_id, switched.to_symbol)

    # ------------------------------------------------------------------ actions
    def check(self) -> list[Any]:
        """Decide every rule's route; journal the changes. Returns the events."""
        out: list[Any] = []
        for account_id, symbol in self.rules:
            out.extend(self._check(account_id, symbol))
        return out

    def _check(self, account_id: str, symbol: str) -> list[Any]:
        route, health = self.decide(account_id, symbol)
        if route == self.current(account_id, symbol):
            return []
        primary = self.primary(account_id, symbol)
        restored = route == primary
        return list(
            self.node.process(
                SwitchRoute(
                    ts=self.node.clock.now(),
                    venue=primary.venue,
                    account_id=account_id,
                    symbol=symbol,
                    to_venue=route.venue,
                    to_account_id=route.account_id,
                    to_symbol=route.symbol,
                    reason=RESTORED if restored else health.reason,
                    message=health.message,
                    restored=restored,
                    health=f"{health.score:g}",
                )
            )
        )

    def submit(
        self,
        account_id: str,
        symbol: str,
        side: Any,
        order_type: Any,
        qty: Decimal | int | str,
        price: Decimal | int | str | None = None,
        **kw: Any,
    ) -> Any:
        """Submit a new order to the route in force (checked first); returns the order view."""
        route = self.resolve(account_id, symbol)
        return self.node.submit(route.account_id, route.symbol, side, order_type, qty, price, **kw)


def rules_from_config(raw: Mapping[str, Any] | None) -> list[FailoverRule]:
    """``failover:`` of accounts.yaml: a list of
    ``{account: A, symbol: BTC/USDT, alternatives: [{venue: bybit, account: B, symbol: ...}]}``
    (an alternative without ``symbol`` keeps the primary's)."""
    if not raw:
        return []
    items = raw.get("rules", raw) if isinstance(raw, Mapping) else raw
    out = []
    for item in items:
        account, symbol = str(item["account"]), str(item["symbol"])
        alts = tuple(
            Route(str(a["venue"]), str(a.get("account", account)), str(a.get("symbol", symbol)))
            for a in item.get("alternatives", ())
        )
        if not alts:
            raise ValueError(f"failover rule {account}/{symbol} names no alternative")
        out.append(FailoverRule(account, symbol, alts))
    return out
