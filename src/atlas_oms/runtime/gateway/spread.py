"""Rate limits spread across accounts (issue 15 §2, seed 002): where several accounts may trade a
strategy, an order goes to an account with budget left.

Budgets are counted per account (Binance's order counts, Bybit/OKX per-UID limits) and per shared
scope (the IP's request weight, a UID several sub-accounts share); both come from the venue's own
headers through :class:`~atlas_oms.runtime.gateway.ratelimit.RateLimiter`
(:meth:`BudgetBook.refresh`). The chooser is pure and fast: the accounts are kept in a ring,
the last account chosen is tried first, and only when its budget (or one of its scopes') is spent
does it move on — so choosing is O(1) until a switch, and a switch walks to the next account with
budget left (``atlas bench`` ``account_switch_ns``: choosing among 200).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from atlas_oms.runtime.gateway.ratelimit import Counts, Limits


def choose(
    left: Sequence[int],
    scopes: Sequence[Sequence[int]],
    scope_left: Sequence[int],
    start: int,
    weight: int = 1,
) -> int:
    """The index of the first account from ``start`` (round the ring) with an order left in its
    own budget (``left[i] >= 1``) and ``weight`` left in every shared scope it belongs to
    (``scope_left[s] >= weight`` for ``s`` in ``scopes[i]``); -1 when none has. Pure."""
    n = len(left)
    i = start
    for _ in range(n):
        if left[i] > 0:
            for s in scopes[i]:
                if scope_left[s] < weight:
                    break
            else:
                return i
        i += 1
        if i == n:
            i = 0
    return -1


@dataclass
class BudgetBook:
    """What each account and each shared scope has left in its current windows."""

    accounts: list[str]
    #: The shared scopes of each account (e.g. ``("binance:ip",)``), by name.
    account_scopes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    left: list[int] = field(default_factory=list)
    scope_names: list[str] = field(default_factory=list)
    scope_left: list[int] = field(default_factory=list)
    scopes: list[tuple[int, ...]] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    scope_index: dict[str, int] = field(default_factory=dict)
    cursor: int = 0

    def __post_init__(self) -> None:
        self.index = {a: i for i, a in enumerate(self.accounts)}
        names = sorted({s for a in self.accounts for s in self.account_scopes.get(a, ())})
        self.scope_names = names
        self.scope_index = {s: i for i, s in enumerate(names)}
        self.scopes = [
            tuple(self.scope_index[s] for s in self.account_scopes.get(a, ()))
            for a in self.accounts
        ]
        if not self.left:
            self.left = [0] * len(self.accounts)
        if not self.scope_left:
            self.scope_left = [0] * len(names)

    # ------------------------------------------------------------------ budgets
    def set_account(self, account: str, left: int) -> None:
        self.left[self.index[account]] = max(0, left)

    def set_scope(self, scope: str, left: int) -> None:
        self.scope_left[self.scope_index[scope]] = max(0, left)

    def refresh(self, limits: Limits, venue_of: Mapping[str, str]) -> None:
        """Take every budget from the rate limiters (whose counts the venue's headers set):
        an account's own order windows give its budget; a venue's shared windows (IP weight)
        give the scope ``<venue>:ip``; a paused or banned scope has nothing left."""
        for account, i in self.index.items():
            venue = venue_of[account]
            limiter = limits.scope(venue)
            budget = limiter.budget(account)
            own, shared = [], []
            for window in limiter.spec.windows:
                value = budget.get(window.name, 0)
                if window.per_account and window.counts is Counts.ORDERS:
                    own.append(value)
                elif not window.per_account:
                    shared.append(value)
            paused = limiter.paused_for() > 0
            self.left[i] = 0 if paused else min(own, default=1 << 30)
            scope = f"{venue}:ip"
            if scope in self.scope_index:
                self.scope_left[self.scope_index[scope]] = (
                    0 if paused else min(shared, default=1 << 30)
                )

    # ------------------------------------------------------------------ choosing
    def choose(self, weight: int = 1) -> str | None:
        """The account to send the next order with (None: every budget is spent)."""
        i = choose(self.left, self.scopes, self.scope_left, self.cursor, weight)
        if i < 0:
            return None
        self.cursor = i
        return self.accounts[i]

    def take(self, account: str, weight: int = 1) -> None:
        """Count one order of ``weight`` against the account and its scopes (until the next
        refresh from the venue's headers sets the true counts)."""
        i = self.index[account]
        self.left[i] -= 1
        for s in self.scopes[i]:
            self.scope_left[s] -= weight

    def choose_and_take(self, weight: int = 1) -> str | None:
        left, scopes, scope_left = self.left, self.scopes, self.scope_left
        i = self.cursor
        if left[i] > 0 and all(scope_left[s] >= weight for s in scopes[i]):
            pass  # the fast path: the current account still has budget
        else:
            i = choose(left, scopes, scope_left, i, weight)
            if i < 0:
                return None
            self.cursor = i
        left[i] -= 1
        for s in scopes[i]:
            scope_left[s] -= weight
        return self.accounts[i]


def book_for(
    accounts: Iterable[str], venue_of: Mapping[str, str], shared_ip: bool = True
) -> BudgetBook:
    """A book whose accounts share their venue's IP scope (every account behind one gateway)."""
    names = list(accounts)
    scopes = {a: (f"{venue_of[a]}:ip",) if shared_ip else () for a in names}
    return BudgetBook(names, scopes)
