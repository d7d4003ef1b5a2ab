"""Reference data read from files: margin tier tables in Binance's leverage-bracket shape."""

from __future__ import annotations

from pathlib import Path

from atlas_oms.model.margin import MarginTier, parse_brackets


def load_brackets(path: str | Path) -> dict[str, tuple[MarginTier, ...]]:
    """Read a Binance-shaped leverage-bracket JSON file into tier tables by symbol (exact decimals);
    see :func:`atlas_oms.model.margin.parse_brackets`."""
    return parse_brackets(Path(path).read_bytes())
