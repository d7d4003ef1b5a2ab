"""Prometheus metrics of one node: orders by status, rejections by reason, engine latency,
journal lag, circuit-breaker states, WebSocket clients (``/metrics``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from atlas_oms.model import events as ev


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.orders = Counter(
            "atlas_orders_total",
            "Orders by the status they reached",
            ["status"],
            registry=self.registry,
        )
        self.rejections = Counter(
            "atlas_rejections_total",
            "Denied orders and refused commands by reason",
            ["reason"],
            registry=self.registry,
        )
        self.fills = Counter("atlas_fills_total", "Fills", registry=self.registry)
        self.latency = Histogram(
            "atlas_request_seconds",
            "Time to handle an API request (engine and journal group commit)",
            ["route"],
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5),
            registry=self.registry,
        )
        self.engine = Histogram(
            "atlas_engine_seconds",
            "Time the node takes for one message and everything it sets off (engine, venue, "
            "journal append)",
            buckets=(0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.005, 0.05),
            registry=self.registry,
        )
        self.journal_lag = Gauge(
            "atlas_journal_lag_events",
            "Events processed but not yet committed",
            registry=self.registry,
        )
        self.breakers = Gauge(
            "atlas_circuit_breakers_open",
            "Circuit breakers currently open",
            registry=self.registry,
        )
        self.seq = Gauge("atlas_journal_seq", "Last event sequence number", registry=self.registry)
        self.ws_connections = Gauge(
            "atlas_ws_connections", "Open WebSocket connections", registry=self.registry
        )
        self.ws_slow = Counter(
            "atlas_ws_slow_closed_total",
            "WebSocket clients closed because their queue overflowed",
            registry=self.registry,
        )

        # The other interfaces beside REST (gRPC, FIX, the Binance dialect): one family each,
        # labelled by interface, so that a dashboard shows them side by side.
        self.api_requests = Counter(
            "atlas_interface_requests_total",
            "Requests (gRPC calls, FIX application messages, Binance-dialect requests) by "
            "interface, method and outcome (ok or the reason code of the refusal)",
            ["interface", "method", "outcome"],
            registry=self.registry,
        )
        self.api_latency = Histogram(
            "atlas_interface_request_seconds",
            "Time to answer one request of an interface (engine and journal group commit)",
            ["interface"],
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5),
            registry=self.registry,
        )
        self.api_sessions = Gauge(
            "atlas_interface_sessions",
            "Open sessions by interface (FIX sessions logged on, gRPC and WebSocket streams)",
            ["interface"],
            registry=self.registry,
        )

        venue = ["venue", "account_id"]
        self.venue_connected = Gauge(
            "atlas_venue_connected",
            "1 while the venue account's private stream is connected",
            venue,
            registry=self.registry,
        )
        self.venue_tradable = Gauge(
            "atlas_venue_tradable",
            "1 while Atlas sends new orders to the venue account (connected, reconciled, clock "
            "within bounds, not banned)",
            venue,
            registry=self.registry,
        )
        self.venue_message_age = Gauge(
            "atlas_venue_last_message_age_seconds",
            "Seconds since the venue account's stream last said anything (-1: nothing yet)",
            venue,
            registry=self.registry,
        )
        self.venue_clock_offset = Gauge(
            "atlas_venue_clock_offset_ms",
            "The venue's clock minus Atlas's, as last measured (ms)",
            venue,
            registry=self.registry,
        )
        self.venue_rate_budget = Gauge(
            "atlas_venue_rate_limit_remaining",
            "What the venue's rate limit still allows in its current window, per limit",
            [*venue, "limit"],
            registry=self.registry,
        )
        self.venue_unresolved = Gauge(
            "atlas_venue_unresolved_orders",
            "Orders whose outcome at the venue is not known yet",
            venue,
            registry=self.registry,
        )
        self.venue_reconnects = Gauge(
            "atlas_venue_reconnects",
            "Times the venue account's session reconnected since start",
            venue,
            registry=self.registry,
        )
        self.venue_differences = Gauge(
            "atlas_venue_reconciliation_differences",
            "Differences the venue account's last reconciliation found",
            venue,
            registry=self.registry,
        )

    def observe_venues(self, health: Iterable[Any]) -> None:
        """Set the venue gauges from the gateway's health of each venue account."""
        for h in health:
            labels = (h.venue, h.account_id)
            self.venue_connected.labels(*labels).set(1 if h.connected else 0)
            self.venue_tradable.labels(*labels).set(1 if h.tradable else 0)
            age = h.last_message_age_s
            self.venue_message_age.labels(*labels).set(-1 if age is None else age)
            if h.clock_offset_ms is not None:
                self.venue_clock_offset.labels(*labels).set(h.clock_offset_ms)
            for limit, left in h.rate_limit.items():
                self.venue_rate_budget.labels(*labels, limit).set(left)
            self.venue_unresolved.labels(*labels).set(h.unresolved_orders)
            self.venue_reconnects.labels(*labels).set(h.reconnects)
            last = h.last_reconciliation
            if last is not None:
                self.venue_differences.labels(*labels).set(last.differences)

    def observe_events(self, events: list[ev.EventBase]) -> None:
        for e in events:
            if isinstance(e, ev.OrderSubmitted):
                self.orders.labels("SUBMITTED").inc()
            elif isinstance(e, ev.OrderDenied):
                self.orders.labels("DENIED").inc()
                self.rejections.labels(e.reason).inc()
            elif isinstance(e, ev.OrderRejected):
                self.orders.labels("REJECTED").inc()
                self.rejections.labels(e.reason).inc()
            elif isinstance(e, ev.CommandRejected):
                self.rejections.labels(e.reason).inc()
            elif isinstance(e, ev.OrderCanceled):
                self.orders.labels("CANCELED").inc()
            elif isinstance(e, ev.OrderFilled):
                self.fills.inc()
        if events:
            self.seq.set(events[-1].seq)

    def render(self) -> bytes:
        return generate_latest(self.registry)
