"""Atlas OMS."""
