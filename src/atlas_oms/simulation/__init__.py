"""Simulated fills against market data: the venue that paper trading and backtests share
(fill models, commissions, queue position, latency, stress scenarios)."""
