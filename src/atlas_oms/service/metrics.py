"""Prometheus metrics of one node: orders by status, rejections by reason, engine latency,
journal lag, circuit-breaker states, WebSocket clients (``/metrics``)."""

from __future__ import annotations

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
