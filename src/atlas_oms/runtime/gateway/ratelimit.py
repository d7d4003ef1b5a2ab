"""Rate limits per venue scope, fed by the venue's own answers.

A *scope* is what the venue meters together: Binance counts request weight per IP (every account
behind this gateway shares it) and orders per account. Each scope has windows (:class:`WindowSpec`);
``before_request(weight, is_order)`` waits until the request fits in every window (it never
exceeds a limit: it waits), and each answer's headers (``X-MBX-USED-WEIGHT-1M``,
``X-MBX-ORDER-COUNT-10S``, ...) set the venue's own count, which wins over ours. A 429 pauses the
scope for ``Retry-After``; a 418 (Binance: IP banned) pauses the whole venue until its
``Retry-After``: the sessions see :attr:`VenueLimits.banned_until` and stop trading meanwhile.

Other venues plug in with their own :class:`ScopeSpec` (Bybit and OKX meter per UID and per
endpoint: a spec per endpoint group whose windows are ``per_account``). A venue that answers its
limit in HTTP 200 (Bybit: ``retCode 10006`` with ``X-Bapi-Limit-Status: 0`` and
``X-Bapi-Limit-Reset-Timestamp``) names its remaining and reset headers in the spec
(:attr:`ScopeSpec.remaining_header`, :attr:`ScopeSpec.reset_header`): nothing left and a reset
still ahead pauses the scope until that reset.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Counts(StrEnum):
    WEIGHT = "weight"
    ORDERS = "orders"


@dataclass(frozen=True)
class WindowSpec:
    name: str
    counts: Counts
    limit: int
    window_s: float
    #: The response header that carries the venue's own count for this window (lower case).
    header: str = ""
    #: Counted per account (Binance order counts) rather than for the whole scope (IP weight).
    per_account: bool = False
    #: Headers with the venue's own limit and what is left of it (lower case; Alpaca
    #: ``x-ratelimit-limit``/``x-ratelimit-remaining``): its limit replaces ``limit`` and the
    #: used count is the limit less what is left.
    limit_header: str = ""
    remaining_header: str = ""


@dataclass(frozen=True)
class ScopeSpec:
    windows: tuple[WindowSpec, ...] = ()
    #: Default pause after a 429/418 without ``Retry-After``.
    default_retry_after_s: float = 10.0
    #: The header with the requests left (lower case; Bybit ``x-bapi-limit-status``) and the one
    #: with the epoch milliseconds when the limit resets (``x-bapi-limit-reset-timestamp``):
    #: 0 left with a reset ahead pauses the scope until the reset (at most ``max_reset_pause_s``,
    #: against a venue clock far off ours).
    remaining_header: str = ""
    reset_header: str = ""
    max_reset_pause_s: float = 60.0
    #: The reset header's unit in seconds (Bybit: milliseconds; Alpaca: seconds).
    reset_unit_s: float = 0.001


def binance_spot(
    weight_1m: int = 6000, orders_10s: int = 100, orders_1d: int = 200_000
) -> ScopeSpec:
    return ScopeSpec(
        (
            WindowSpec("weight_1m", Counts.WEIGHT, weight_1m, 60, "x-mbx-used-weight-1m"),
            WindowSpec("orders_10s", Counts.ORDERS, orders_10s, 10, "x-mbx-order-count-10s", True),
            WindowSpec("orders_1d", Counts.ORDERS, orders_1d, 86_400, "x-mbx-order-count-1d", True),
        )
    )


def binance_usdm(weight_1m: int = 2400, orders_1m: int = 1200) -> ScopeSpec:
    return ScopeSpec(
        (
            WindowSpec("weight_1m", Counts.WEIGHT, weight_1m, 60, "x-mbx-used-weight-1m"),
            WindowSpec("orders_1m", Counts.ORDERS, orders_1m, 60, "x-mbx-order-count-1m", True),
        )
    )


def upbit(orders_1s: int = 8, default_1s: int = 30) -> ScopeSpec:
    """Upbit meters each account per second and per group (``order``: place/cancel, 8/s;
    ``default``: the other exchange calls, 30/s). The adapter turns ``Remaining-Req: group=g;
    min=..; sec=left`` into ``x-upbit-used-<g>-1s`` (the limit less ``sec``)."""
    return ScopeSpec(
        (
            WindowSpec("order_1s", Counts.ORDERS, orders_1s, 1, "x-upbit-used-order-1s", True),
            WindowSpec("default_1s", Counts.WEIGHT, default_1s, 1, "x-upbit-used-default-1s", True),
        ),
        default_retry_after_s=1.0,
    )


def bybit() -> ScopeSpec:
    """Bybit meters each UID per endpoint in a rolling second (10 orders/s, more for reads) and
    tells what is left in every answer: ``X-Bapi-Limit-Status`` (remaining), ``X-Bapi-Limit``,
    ``X-Bapi-Limit-Reset-Timestamp`` (ms; the current time unless the limit was exceeded). Past
    it, the answer is HTTP 200 with ``retCode 10006 "Too many visits!"``, remaining 0 and the
    reset ahead: the scope pauses until then."""
    return ScopeSpec(
        remaining_header="x-bapi-limit-status",
        reset_header="x-bapi-limit-reset-timestamp",
        default_retry_after_s=1.0,
    )


def alpaca(requests_1m: int = 200) -> ScopeSpec:
    """Alpaca's trading API allows each account 200 requests a minute and says where it stands
    in every answer: ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``
    (epoch seconds). Past it, a 429 (the adapter turns its reset into ``Retry-After``); nothing
    left with the reset ahead pauses the scope until the reset either way."""
    return ScopeSpec(
        (
            WindowSpec(
                "requests_1m",
                Counts.WEIGHT,
                requests_1m,
                60,
                per_account=True,
                limit_header="x-ratelimit-limit",
                remaining_header="x-ratelimit-remaining",
            ),
        ),
        default_retry_after_s=1.0,
        remaining_header="x-ratelimit-remaining",
        reset_header="x-ratelimit-reset",
        reset_unit_s=1.0,
    )


def default_specs() -> dict[str, ScopeSpec]:
    return {
        "binance": binance_spot(),
        "binanceusdm": binance_usdm(),
        "upbit": upbit(),
        "bybit": bybit(),
        "bybitlinear": bybit(),
        "alpaca": alpaca(),
    }


@dataclass
class _Window:
    spec: WindowSpec
    start: float = 0.0
    used: int = 0
    #: The venue's own limit when it names one (``limit_header``), else the spec's.
    limit: int = 0
    #: When the venue said this window resets (its reset header; 0: our calendar window).
    ends: float = 0.0

    def __post_init__(self) -> None:
        self.limit = self.limit or self.spec.limit

    def roll(self, now: float) -> None:
        if self.ends:  # the venue's window: it resets when the venue said
            if now < self.ends:
                return
            self.ends, self.used = 0.0, 0
        # Binance's windows are calendar intervals (a minute starts at :00).
        start = math.floor(now / self.spec.window_s) * self.spec.window_s
        if start != self.start:
            self.start = start
            self.used = 0

    def wait_for(self, amount: int, now: float) -> float:
        """Seconds until ``amount`` more fits (0: now)."""
        self.roll(now)
        if self.used + amount <= self.limit or amount > self.limit:
            return 0.0
        return (self.ends or self.start + self.spec.window_s) - now


@dataclass
class VenueLimits:
    """Venue-wide: a ban (418) stops every account of the venue."""

    banned_until: float = 0.0
    ban_message: str = ""

    def banned(self, now: float) -> bool:
        return now < self.banned_until


Sleep = Callable[[float], Awaitable[None]]


@dataclass
class RateLimiter:
    """One scope's limiter, shared by every account in it."""

    venue: str
    spec: ScopeSpec
    venue_limits: VenueLimits = field(default_factory=VenueLimits)
    now: Callable[[], float] = time.time
    sleep: Sleep = asyncio.sleep
    paused_until: float = 0.0
    pause_reason: str = ""
    #: Requests that waited, and for how long in all (seconds).
    waits: int = 0
    waited_s: float = 0.0
    _shared: dict[str, _Window] = field(default_factory=dict)
    _accounts: dict[str, dict[str, _Window]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._shared = {w.name: _Window(w) for w in self.spec.windows if not w.per_account}

    def _windows(self, account_id: str) -> list[_Window]:
        mine = self._accounts.get(account_id)
        if mine is None:
            mine = self._accounts[account_id] = {
                w.name: _Window(w) for w in self.spec.windows if w.per_account
            }
        return [*self._shared.values(), *mine.values()]

    # ------------------------------------------------------------------ pacing
    async def before_request(self, account_id: str, weight: int, is_order: bool) -> None:
        """Wait until the request fits (pause, ban, every window), then count it."""
        waited = False
        started = self.now()
        while True:
            now = self.now()
            wait = max(self.paused_until, self.venue_limits.banned_until) - now
            if wait <= 0:
                for window in self._windows(account_id):
                    amount = weight if window.spec.counts is Counts.WEIGHT else int(is_order)
                    if amount:
                        wait = max(wait, window.wait_for(amount, now))
            if wait <= 0:
                break
            waited = True
            await self.sleep(wait)
        if waited:
            self.waits += 1
            self.waited_s += self.now() - started
        now = self.now()
        for window in self._windows(account_id):
            window.roll(now)
            window.used += weight if window.spec.counts is Counts.WEIGHT else int(is_order)

    def on_response(self, account_id: str, status: int, headers: Mapping[str, str]) -> None:
        now = self.now()
        lower = {k.lower(): v for k, v in headers.items()}
        for window in self._windows(account_id):
            used = _used(window, lower)
            if used is None:
                continue
            window.roll(now)
            window.used = used  # the venue's count wins over ours
            if window.spec.remaining_header:
                window.ends = self._reset_at(lower, now) or 0.0
        if status in (418, 429):
            retry_after = _retry_after(lower.get("retry-after"), self.spec.default_retry_after_s)
            until = now + retry_after
            if status == 418:
                if until > self.venue_limits.banned_until:
                    self.venue_limits.banned_until = until
                    self.venue_limits.ban_message = (
                        f"HTTP 418 from {self.venue}: banned for {retry_after:g} s"
                    )
            elif until > self.paused_until:
                self.paused_until = until
                self.pause_reason = f"HTTP 429 from {self.venue}: paused for {retry_after:g} s"
        self._reset_pause(lower, now)

    def _reset_pause(self, lower: Mapping[str, str], now: float) -> None:
        """Nothing left (the remaining header at 0) and the reset still ahead (Bybit: the limit
        was exceeded; otherwise it sends the current time): pause until the reset. The pause is
        the scope's (every endpoint of the venue's accounts) though the venue meters per UID and
        endpoint: a wait of at most the rolling window, only once the limit was met."""
        spec = self.spec
        if not spec.remaining_header or lower.get(spec.remaining_header, "").strip() != "0":
            return
        reset_at = self._reset_at(lower, now)
        if reset_at is None:
            return
        pause = reset_at - now
        if now + pause <= self.paused_until:
            return
        self.paused_until = now + pause
        self.pause_reason = (
            f"limit used up at {self.venue} ({spec.remaining_header} 0): "
            f"paused for {pause:.3g} s until {spec.reset_header}"
        )

    def _reset_at(self, lower: Mapping[str, str], now: float) -> float | None:
        """When the reset header says the limit resets, if ahead (at most
        ``max_reset_pause_s`` ahead, against a venue clock far off ours)."""
        spec = self.spec
        try:
            reset_s = int(lower.get(spec.reset_header, "")) * spec.reset_unit_s
        except ValueError:
            return None
        if reset_s <= now:
            return None
        return min(reset_s, now + spec.max_reset_pause_s)

    # ------------------------------------------------------------------ health
    def budget(self, account_id: str) -> dict[str, int]:
        """What is left in each window now."""
        now = self.now()
        out = {}
        for window in self._windows(account_id):
            window.roll(now)
            out[window.spec.name] = max(0, window.limit - window.used)
        return out

    def paused_for(self) -> float:
        return max(0.0, max(self.paused_until, self.venue_limits.banned_until) - self.now())


def _used(window: _Window, lower: Mapping[str, str]) -> int | None:
    """The venue's count for ``window`` in an answer's headers (None: it says nothing); a limit
    header sets the window's limit."""
    spec = window.spec
    try:
        if spec.limit_header and spec.limit_header in lower:
            window.limit = int(lower[spec.limit_header])
        if spec.header and spec.header in lower:
            return int(lower[spec.header])
        if spec.remaining_header and spec.remaining_header in lower:
            return max(0, window.limit - int(lower[spec.remaining_header]))
    except ValueError:
        return None
    return None


def _retry_after(value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


@dataclass
class Limits:
    """Every scope of the gateway: one limiter per venue (shared by its accounts)."""

    specs: Mapping[str, ScopeSpec]
    now: Callable[[], float] = time.time
    sleep: Sleep = asyncio.sleep
    _scopes: dict[str, RateLimiter] = field(default_factory=dict)
    _venues: dict[str, VenueLimits] = field(default_factory=dict)

    def scope(self, venue: str) -> RateLimiter:
        limiter = self._scopes.get(venue)
        if limiter is None:
            venue_limits = self._venues.setdefault(venue, VenueLimits())
            limiter = self._scopes[venue] = RateLimiter(
                venue, self.specs.get(venue, ScopeSpec()), venue_limits, self.now, self.sleep
            )
        return limiter

    def bind(
        self, venue: str, account_id: str
    ) -> tuple[Callable[[int, bool], Awaitable[None]], Callable[[int, Mapping[str, str]], None]]:
        """The adapter hooks (``before_request``, ``on_response``) of one venue account."""
        limiter = self.scope(venue)

        async def before_request(weight: int, is_order: bool) -> None:
            await limiter.before_request(account_id, weight, is_order)

        def on_response(status: int, headers: Mapping[str, str]) -> None:
            limiter.on_response(account_id, status, headers)

        return before_request, on_response
