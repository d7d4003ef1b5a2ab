"""Backtests: data files, strategies as small classes, the runner on a simulated clock, and the
results (statistics, files, the HTML report)."""
