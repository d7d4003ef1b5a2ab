"""Seed 001 execution policy: pure decision tables a managed trade calls."""
