"""Seed 001 execution policy: managed trades, their market data (bars, indicators) and stop maintenance."""
