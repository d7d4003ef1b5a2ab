"""The gateway's knobs: every wait is a parameter, so tests run with small ones."""

from __future__ import annotations

from dataclasses import dataclass, field

from atlas_oms.runtime.gateway.ratelimit import ScopeSpec, default_specs


@dataclass(frozen=True, kw_only=True)
class GatewayConfig:
    #: After an unknown outcome: how long to wait for the stream to tell before querying.
    stream_wait_s: float = 3.0
    #: How long "not found" only means "not visible yet" (after the send).
    visibility_s: float = 30.0
    #: Query backoff while resolving: first wait, doubling up to the maximum.
    query_backoff_s: float = 0.2
    query_backoff_max_s: float = 2.0
    #: At restart, an order journaled but unknown to the venue is sent again (same client order
    #: id) when younger than this; older, it ends REJECTED ``NOT_SENT``.
    resend_max_age_s: float = 60.0
    #: Periodic reconciliation, and reconciliation when the stream is silent this long.
    reconcile_every_s: float = 60.0
    silent_after_s: float = 60.0
    #: Fills are fetched from the last known fill minus this margin.
    fills_margin_s: float = 60.0
    #: Trading stops while the venue clock's offset exceeds this (half Binance's recvWindow).
    max_clock_offset_s: float = 2.5
    clock_every_s: float = 60.0
    #: How long the stream may take to open (its first ``StreamGap``).
    stream_open_timeout_s: float = 10.0
    #: Reconnection backoff of a failed session.
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0
    #: Requests of one venue account in flight at once (those of one order always in turn).
    max_in_flight: int = 8
    #: Market data: at most one price update per symbol this often (and only on change).
    price_every_s: float = 0.25
    #: How often the session's timers look at their deadlines.
    tick_s: float = 1.0
    #: Rate-limit scopes per venue (Binance request weight and order counts by default).
    rate_limits: dict[str, ScopeSpec] = field(default_factory=default_specs)
