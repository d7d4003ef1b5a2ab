"""``failover:`` of ``accounts.yaml``: the rules as written, and resolved (:class:`FailoverConfig`)
against the file's venue accounts. Part of :mod:`atlas_oms.venues.accounts`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import field_validator

from atlas_oms.venues.accounts_base import _Strict

if TYPE_CHECKING:
    from atlas_oms.venues.accounts import VenueAccountConfig


class FailoverAlternativeEntry(_Strict):
    #: An Atlas account id (``bybit_spot_main``): its venue takes the orders.
    account: str
    #: The symbol there (default: the primary's unified symbol as that venue names it).
    symbol: str | None = None


class FailoverRuleEntry(_Strict):
    #: The Atlas account id whose new orders fail over.
    account: str
    #: Only this symbol (default: every symbol of the account).
    symbol: str | None = None
    alternatives: list[FailoverAlternativeEntry]


class FailoverSection(_Strict):
    #: A venue account whose health score is below this is down too (0 to 1).
    min_health: float = 0.5
    #: How often the routes are checked (a switch and a restore are journaled without orders).
    check_every_s: float = 1.0
    rules: list[FailoverRuleEntry] = []

    @field_validator("min_health")
    @classmethod
    def _health(cls, value: float) -> float:
        if not (math.isfinite(value) and 0 <= value <= 1):
            raise ValueError(f"must be between 0 and 1, not {value}")
        return value

    @field_validator("check_every_s")
    @classmethod
    def _every(cls, value: float) -> float:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"must be positive, not {value}")
        return value


@dataclass(frozen=True, slots=True)
class FailoverTarget:
    """One alternative of a failover rule: the venue account and its symbol (None: the
    primary's symbol as this venue names it)."""

    venue: str
    account_id: str
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class FailoverConfig:
    """``failover.rules[i]`` resolved: the primary account (and symbol; None: every symbol) and
    its alternatives, in order."""

    account_id: str
    venue: str
    symbol: str | None
    alternatives: tuple[FailoverTarget, ...]


def _failover(
    section: FailoverSection,
    accounts: Sequence[VenueAccountConfig],
    problem: Callable[[Iterable[str], str], None],
) -> tuple[FailoverConfig, ...]:
    """``failover.rules`` resolved: every account named must be an Atlas account of the file;
    an alternative is another venue account; without symbols, an alternative trades the same
    market (spot for spot, futures for futures) so the unified symbol means the same thing."""
    by_id = {a.account_id: a for a in accounts}
    known = ", ".join(sorted(by_id)) or "none"
    out: list[FailoverConfig] = []
    seen: set[tuple[str, str | None]] = set()
    for i, rule in enumerate(section.rules):
        where = ("failover", "rules", str(i))
        primary = by_id.get(rule.account)
        if primary is None:
            problem((*where, "account"), f"no Atlas account {rule.account!r} (known: {known})")
            continue
        if (rule.account, rule.symbol) in seen:
            problem(where, f"a second rule for {rule.account} {rule.symbol or '(every symbol)'}")
        seen.add((rule.account, rule.symbol))
        if not rule.alternatives:
            problem((*where, "alternatives"), "names no alternative")
        targets: list[FailoverTarget] = []
        for j, alt in enumerate(rule.alternatives):
            at = (*where, "alternatives", str(j))
            acc = by_id.get(alt.account)
            if acc is None:
                problem((*at, "account"), f"no Atlas account {alt.account!r} (known: {known})")
                continue
            if acc.account_id == primary.account_id:
                problem((*at, "account"), "is the primary account itself")
                continue
            if alt.symbol is None and acc.market != primary.market:
                problem(
                    (*at, "account"),
                    f"trades {acc.market}, the primary {primary.market}: name the symbol",
                )
                continue
            if rule.symbol is None and alt.symbol is not None:
                problem((*at, "symbol"), "a rule for every symbol maps symbols by venue only")
                continue
            targets.append(FailoverTarget(acc.venue, acc.account_id, alt.symbol))
        if targets:
            out.append(FailoverConfig(rule.account, primary.venue, rule.symbol, tuple(targets)))
    return tuple(out)
