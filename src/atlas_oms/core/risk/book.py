"""The risk part of the engine's state: limits, trading states, kill switches, circuit breakers,
message-rate windows and the duplicate guard. Like the rest of the state it changes only by
folding events (the fold calls the ``on_*`` hooks), so a replay rebuilds it exactly.
"""

from __future__ import annotations

from bisect import bisect_left
from decimal import Decimal
from typing import Any

from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import (
    BreakerConfig,
    BreakerState,
    MarketStatus,
    RiskLimits,
    Scope,
    TradingState,
)

ZERO = Decimal(0)
SECOND_NS = 1_000_000_000
#: Rate and ratio windows look back at most this far.
HORIZON_S = 3600
#: What a risk alert's code does to the ratio flags: (flag, raised or cleared).
RATIO_FLAGS: dict[str, tuple[str, bool]] = {
    Reason.ORDER_TRADE_RATIO: (Reason.ORDER_TRADE_RATIO, True),
    Reason.CANCEL_REPLACE_RATIO: (Reason.CANCEL_REPLACE_RATIO, True),
    Reason.ORDER_TRADE_RATIO_CLEARED: (Reason.ORDER_TRADE_RATIO, False),
    Reason.CANCEL_REPLACE_RATIO_CLEARED: (Reason.CANCEL_REPLACE_RATIO, False),
}

ScopeKey = tuple[Scope, str]
GLOBAL_KEY: ScopeKey = (Scope.GLOBAL, "")


def scope_name(key: ScopeKey) -> str:
    """A scope as a sentence names it: ``global``, ``ACCOUNT alice``, ``STRATEGY s1``."""
    scope, sid = key
    return "global" if scope is Scope.GLOBAL else f"{scope.value} {sid}"


def scope_keys(chain: tuple[str, ...], tag: str | None) -> list[ScopeKey]:
    """The scopes an order of an account (``chain``: it and its parents) and strategy falls in."""
    keys: list[ScopeKey] = [GLOBAL_KEY, *((Scope.ACCOUNT, a) for a in chain)]
    if tag is not None:
        keys.append((Scope.STRATEGY, tag))
    return keys


_ACCOUNT = Scope.ACCOUNT


class RateWindow:
    """A count of events in one-second buckets over the last hour.

    ``since(ts, n)`` counts the events of the ``n`` seconds ending with ``ts``'s second, in
    O(log buckets); memory stays below one bucket per second of the horizon.
    """

    __slots__ = ("base", "cums", "secs", "total")

    def __init__(self) -> None:
        self.secs: list[int] = []
        self.cums: list[int] = []
        self.total = 0
        self.base = 0  # the count before the first bucket kept

    def add(self, ts: int, n: int = 1) -> None:
        sec = ts // SECOND_NS
        self.total += n
        secs = self.secs
        if secs and secs[-1] >= sec:  # same second (or a clock that stepped back): same bucket
            self.cums[-1] = self.total
            return
        secs.append(sec)
        self.cums.append(self.total)
        if len(secs) > HORIZON_S + 64:
            cut = bisect_left(secs, sec - HORIZON_S)
            if cut:
                self.base = self.cums[cut - 1]
                del secs[:cut]
                del self.cums[:cut]

    def since(self, ts: int, window_s: int) -> int:
        secs = self.secs
        start = ts // SECOND_NS - window_s + 1
        if secs and secs[-1] < start:
            return 0  # nothing in the window (the common case for one second)
        if window_s == 1 and secs and secs[-1] == start:
            return self.total - (self.cums[-2] if len(secs) > 1 else self.base)
        i = bisect_left(secs, start)
        return self.total - (self.cums[i - 1] if i else self.base)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RateWindow) and self.canonical() == other.canonical()

    def canonical(self) -> list[Any]:
        return [self.base, self.total, self.secs, self.cums]


class BreakerStatus:
    """One circuit breaker: its configuration, its state and what it has measured."""

    __slots__ = (
        "auto_reset_at",
        "cause",
        "config",
        "consecutive_errors",
        "consecutive_losses",
        "cooldown_until",
        "day",
        "message",
        "peak_equity",
        "pnl",
        "start_equity",
        "state",
        "touched_seq",
        "tripped_at",
        "trips",
    )

    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        self.state = BreakerState.CLOSED
        self.cause: str | None = None
        self.message = ""
        self.tripped_at: int | None = None
        self.cooldown_until: int | None = None
        self.auto_reset_at: int | None = None
        self.day: int | None = None
        self.start_equity: Decimal | None = None
        self.peak_equity: Decimal | None = None
        self.consecutive_losses = 0
        self.consecutive_errors = 0
        self.pnl = ZERO  # realized P&L net of fees since the breaker was configured
        self.trips = 0
        #: The last event that changed what a trip decision reads (a closing fill, an error).
        self.touched_seq = 0

    def canonical(self) -> list[Any]:
        return [getattr(self, name) for name in sorted(self.__slots__)]


class RiskBook:
    """Everything risk knows. Plain data (``core/state/snapshot.py`` writes and reads it)."""

    def __init__(self) -> None:
        self.limits: dict[ScopeKey, RiskLimits] = {}
        self.states: dict[ScopeKey, ev.TradingStateChanged] = {}
        self.kills: dict[ScopeKey, ev.KillSwitchTripped] = {}
        self.breakers: dict[ScopeKey, BreakerStatus] = {}
        self.market_status: dict[str, MarketStatus] = {}
        self.parents: dict[str, str | None] = {}
        #: Submits and modifies per account, and per strategy with a breaker.
        self.rates: dict[Any, RateWindow] = {}
        #: Ratio monitoring: orders, fills, and cancels+replaces per account.
        self.orders_w: dict[str, RateWindow] = {}
        self.fills_w: dict[str, RateWindow] = {}
        self.amends_w: dict[str, RateWindow] = {}
        self.ratio_flags: set[tuple[str, str]] = set()
        #: Duplicate guard: (account, symbol, side, qty, price) -> when last submitted.
        self.recent: dict[tuple[Any, ...], int] = {}
        self.recent_pruned_at = 0
        #: Protective-order retries: root order id -> retries so far; retry -> its root.
        self.retries: dict[int, int] = {}
        self.retry_root: dict[int, int] = {}
        #: Accounts a flattening kill switch still has to close, with the kill that asked.
        self.flatten_todo: dict[str, ev.KillSwitchTripped] = {}
        # What the fold has to count (derived from the limits set).
        self.count_rates = False
        self.count_ratios = False
        self.dup_window_ns = 0
        self.version = 0
        #: Switches the hot path reads instead of several containers (see ``refresh``).
        self.active = False
        self.gated = False
        self.after_needed = False
        self.watch_fills = False
        #: The last event that touched any breaker (see ``BreakerStatus.touched_seq``).
        self.touched_seq = 0
        self._chains: dict[str, tuple[str, ...]] = {}
        self._families: dict[str, list[str]] = {}

    def refresh(self) -> None:
        """Recompute the hot path's switches after a change of limits, states, kills or halts."""
        self.gated = bool(self.kills or self.states or self.breakers)
        self.active = bool(self.gated or self.limits or self.market_status)
        self.after_needed = bool(self.breakers or self.flatten_todo or self.count_ratios)
        self.watch_fills = bool(self.count_ratios or self.breakers)

    # ------------------------------------------------------------------ queries
    def chain(self, account_id: str) -> tuple[str, ...]:
        """The account and its ancestors, nearest first."""
        chain = self._chains.get(account_id)
        if chain is None:
            out = []
            cur: str | None = account_id
            while cur is not None and cur not in out:
                out.append(cur)
                cur = self.parents.get(cur)
            chain = self._chains[account_id] = tuple(out)
        return chain

    def family(self, account_id: str) -> list[str]:
        """The account and all its sub-accounts (any depth), in id order."""
        family = self._families.get(account_id)
        if family is None:
            family = self._families[account_id] = sorted(
                a for a in self.parents if account_id in self.chain(a)
            )
        return family

    @property
    def blocking(self) -> bool:
        """Whether any kill switch, non-active trading state or open breaker exists."""
        return bool(self.kills or self.states) or any(
            b.state is BreakerState.OPEN for b in self.breakers.values()
        )

    def breakers_of(self, account_id: str, tag: str | None) -> list[tuple[ScopeKey, BreakerStatus]]:
        found = []
        breakers = self.breakers
        for acct in self.chain(account_id):
            key = (_ACCOUNT, acct)
            b = breakers.get(key)
            if b is not None:
                found.append((key, b))
        if tag is not None:
            b = self.breakers.get((Scope.STRATEGY, tag))
            if b is not None:
                found.append(((Scope.STRATEGY, tag), b))
        return found

    # ------------------------------------------------------------------ fold hooks
    def on_account(self, account_id: str, parent_id: str | None) -> None:
        self.parents[account_id] = parent_id
        self._families.clear()

    def on_limits(self, e: ev.RiskLimitsSet) -> None:
        key = (e.scope, e.scope_id)
        self.limits[key] = e.limits
        breaker = e.limits.breaker
        if breaker is None:
            self.breakers.pop(key, None)
        elif key in self.breakers:
            self.breakers[key].config = breaker
        else:
            self.breakers[key] = BreakerStatus(breaker)
        self.recount()
        self.version += 1
        self.refresh()

    def recount(self) -> None:
        """Recompute what the fold has to count from the limits set (and the breakers)."""
        values = self.limits.values()
        self.count_rates = bool(self.breakers) or any(
            lim.max_orders_per_second or lim.max_orders_per_minute or lim.max_orders_per_hour
            for lim in values
        )
        self.count_ratios = any(
            lim.order_trade_ratio_warn is not None or lim.cancel_replace_ratio_warn is not None
            for lim in values
        )
        self.dup_window_ns = (
            max((lim.duplicate_window_ms or 0) for lim in values) * 1_000_000 if values else 0
        )

    def on_trading_state(self, e: ev.TradingStateChanged) -> None:
        key = (e.scope, e.scope_id)
        if e.state is TradingState.ACTIVE:
            self.states.pop(key, None)
        else:
            self.states[key] = e
        self.version += 1
        self.refresh()

    def on_kill(self, e: ev.KillSwitchTripped, accounts_to_flatten: list[str]) -> None:
        self.kills[(e.scope, e.scope_id)] = e
        for acct in accounts_to_flatten:
            self.flatten_todo.setdefault(acct, e)
        self.version += 1
        self.refresh()

    def on_kill_reset(self, e: ev.KillSwitchReset) -> None:
        key = (e.scope, e.scope_id)
        self.kills.pop(key, None)
        for acct, kill in list(self.flatten_todo.items()):
            if (kill.scope, kill.scope_id) == key:
                del self.flatten_todo[acct]
        self.version += 1
        self.refresh()

    def on_breaker_tripped(self, e: ev.CircuitBreakerTripped) -> None:
        b = self.breakers[(e.scope, e.scope_id)]
        b.state = BreakerState.OPEN
        b.cause = e.cause
        b.message = e.message
        b.tripped_at = e.ts_event
        b.cooldown_until = e.cooldown_until
        b.auto_reset_at = e.auto_reset_at
        b.trips += 1
        self.version += 1

    def on_breaker_reset(self, e: ev.CircuitBreakerReset) -> None:
        b = self.breakers[(e.scope, e.scope_id)]
        b.state = BreakerState.CLOSED
        b.consecutive_losses = 0
        b.consecutive_errors = 0
        b.auto_reset_at = None
        b.cooldown_until = None
        self.version += 1

    def on_equity_marked(self, e: ev.BreakerEquityMarked) -> None:
        b = self.breakers[(e.scope, e.scope_id)]
        b.day = e.day
        b.start_equity = e.start_equity
        b.peak_equity = e.peak_equity

    def on_alert(self, e: ev.RiskAlert) -> None:
        effect = RATIO_FLAGS.get(e.code)
        if effect is None or e.account_id is None:
            return
        flag, raised = effect
        if raised:
            self.ratio_flags.add((e.account_id, flag))
        else:
            self.ratio_flags.discard((e.account_id, flag))

    def on_flattening(self, account_id: str) -> None:
        self.flatten_todo.pop(account_id, None)
        self.refresh()

    def on_market_status(self, symbol: str, status: MarketStatus | None) -> None:
        if status is None:
            self.market_status.pop(symbol, None)
        else:
            self.market_status[symbol] = status
        self.refresh()

    def on_submitted(self, order_id: int, intent: Any, ts: int) -> None:
        account_id = intent.account_id
        if self.count_rates:
            w = self.rates.get(account_id)
            if w is None:
                w = self.rates[account_id] = RateWindow()
            w.add(ts)
            if intent.tag is not None and (Scope.STRATEGY, intent.tag) in self.breakers:
                self._count(self.rates, (Scope.STRATEGY, intent.tag), ts)
        if self.count_ratios:
            w = self.orders_w.get(account_id)
            if w is None:
                w = self.orders_w[account_id] = RateWindow()
            w.add(ts)
        if self.dup_window_ns:
            self.recent[(account_id, intent.symbol, intent.side, intent.qty, intent.price)] = ts
            if len(self.recent) > 2 * self.recent_pruned_at + 1024:
                horizon = ts - self.dup_window_ns
                self.recent = {k: t for k, t in self.recent.items() if t >= horizon}
                self.recent_pruned_at = len(self.recent)
        if intent.retry_of is not None:
            root = self.retry_root.get(intent.retry_of, intent.retry_of)
            self.retry_root[order_id] = root
            self.retries[root] = self.retries.get(root, 0) + 1

    def on_modify_request(self, account_id: str, tag: str | None, ts: int) -> None:
        if self.count_rates:
            self._count(self.rates, account_id, ts)
            if tag is not None and (Scope.STRATEGY, tag) in self.breakers:
                self._count(self.rates, (Scope.STRATEGY, tag), ts)
        if self.count_ratios:
            self._count(self.amends_w, account_id, ts)

    def on_cancel_request(self, account_id: str, ts: int) -> None:
        if self.count_ratios:
            self._count(self.amends_w, account_id, ts)

    def on_fill(
        self, account_id: str, tag: str | None, net_pnl: Decimal | None, ts: int, seq: int
    ) -> None:
        """One execution; ``net_pnl`` is the P&L it realized net of fees (None: it closed nothing)."""
        if self.count_ratios:
            w = self.fills_w.get(account_id)
            if w is None:
                w = self.fills_w[account_id] = RateWindow()
            w.add(ts)
        if self.breakers and net_pnl is not None:
            self.touched_seq = seq
            for _, b in self.breakers_of(account_id, tag):
                b.touched_seq = seq
                b.pnl += net_pnl
                if net_pnl < 0:
                    b.consecutive_losses += 1
                elif net_pnl > 0:
                    b.consecutive_losses = 0

    def on_rejected(self, account_id: str, tag: str | None, system_error: bool, seq: int) -> None:
        if self.breakers and system_error:
            self.touched_seq = seq
            for _, b in self.breakers_of(account_id, tag):
                b.touched_seq = seq
                b.consecutive_errors += 1

    def on_accepted(self, account_id: str, tag: str | None) -> None:
        if self.breakers:
            for _, b in self.breakers_of(account_id, tag):
                b.consecutive_errors = 0

    @staticmethod
    def _count(windows: dict[Any, RateWindow], key: Any, ts: int) -> None:
        w = windows.get(key)
        if w is None:
            w = windows[key] = RateWindow()
        w.add(ts)

    # ------------------------------------------------------------------ digest
    #: The named parts of :meth:`canonical`, in order.
    CANONICAL_PARTS = (
        "limits",
        "states",
        "kills",
        "breakers",
        "market_status",
        "rates",
        "orders_w",
        "fills_w",
        "amends_w",
        "ratio_flags",
        "recent",
        "retries",
        "retry_root",
        "flatten_todo",
    )

    def canonical(self) -> list[Any]:
        def windows(d: dict[Any, RateWindow]) -> list[Any]:
            return sorted(([str(k), w.canonical()] for k, w in d.items()), key=lambda x: x[0])

        return [
            sorted(self.limits.items()),
            sorted(self.states.items()),
            sorted(self.kills.items()),
            sorted((k, b.canonical()) for k, b in self.breakers.items()),
            sorted(self.market_status.items()),
            windows(self.rates),
            windows(self.orders_w),
            windows(self.fills_w),
            windows(self.amends_w),
            sorted(self.ratio_flags),
            sorted(self.recent.items(), key=repr),
            sorted(self.retries.items()),
            sorted(self.retry_root.items()),
            sorted(self.flatten_todo.items()),
        ]
