"""Plain-text tables and number formatting for the ``atlas`` command: the one place for both.

:func:`render` lines up columns and right-aligns numeric ones; :func:`fmt` prints a ``Decimal``
the way a trader reads it (``0`` rather than ``0E-8``, ``1.5`` rather than ``1.50000``);
:func:`price`, :func:`money`, :func:`pct` and :func:`grouped` round for reading (JSON output keeps
every number exact instead); :func:`utc` and :func:`fmt_ns` print epoch nanoseconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from atlas_oms.model.numbers import NotANumber, parse_decimal

__all__ = ["cell", "fmt", "fmt_ns", "grouped", "money", "pct", "price", "render", "utc"]

HUNDRED = Decimal(100)

_NUMERIC_CHARS = frozenset("0123456789.-+,%")


def fmt(value: Any, places: int | None = None, *, dash: str = "-") -> str:
    """Format a number exactly, without exponent or trailing zeros; ``None`` becomes ``dash``.

    ``places`` rounds to at most that many decimals first (half-even), e.g. for an average price.
    """
    if value is None:
        return dash
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if not isinstance(value, Decimal):
        return str(value)
    if not value.is_finite():
        return str(value)
    if places is not None:
        # InvalidOperation: too many digits for the context; keep the value as it is.
        with contextlib.suppress(InvalidOperation):
            value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if not value:
        return "0"  # also folds -0 and 0E-8
    return format(value.normalize(), "f")


def fmt_ns(ts: int) -> str:
    """An epoch-nanosecond timestamp as ``YYYY-MM-DD HH:MM:SS.mmm`` UTC."""
    dt = datetime.fromtimestamp(ts // 1_000_000_000, tz=UTC)
    return f"{dt:%Y-%m-%d %H:%M:%S}.{ts // 1_000_000 % 1000:03d}"


def utc(ts: int | None) -> str:
    """An epoch-nanosecond time as ``YYYY-MM-DD HH:MM:SS UTC``; ``-`` for none."""
    return "-" if ts is None else fmt_ns(ts)[:19] + " UTC"


def cell(value: Any) -> Any:
    """A table cell from a wire or journal value: a decimal string as a ``Decimal`` (so that
    :func:`fmt` trims it), None as an empty cell, anything else as it is."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            return parse_decimal(value)
        except NotANumber:
            return value
    return value


def price(value: Decimal | None, tick: Decimal | None = None) -> str:
    """A price rounded (half-even) to a multiple of ``tick``, or to 2 decimals without one."""
    if value is None:
        return "-"
    if tick is None or tick <= 0:
        return fmt(value, 2)
    try:
        steps = (value / tick).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:  # too many digits to round in the context: as it is, 2 decimals
        return fmt(value, 2)
    return fmt(steps * tick)


def money(value: Decimal | None, *, sign: bool = False, group: bool = False) -> str:
    """An amount rounded to 2 decimals; ``sign`` writes a ``+`` on positive amounts, ``group``
    separates thousands (``200,386.27``)."""
    text = fmt(value, 2)
    if group and text not in ("-", "0"):
        text = format(Decimal(text), ",f")
    return f"+{text}" if sign and value is not None and value > 0 and text != "0" else text


def pct(ratio: Decimal | None) -> str:
    """A ratio as a percentage with 2 decimals (``0.3`` -> ``30%``); ``-`` for none."""
    return "-" if ratio is None else fmt(ratio * HUNDRED, 2) + "%"


def grouped(value: Decimal | None) -> str:
    """A notional with thousands separators (``500,000``); ``-`` for none (no cap)."""
    if value is None:
        return "-"
    return format(value.normalize(), ",f") if value else "0"


def _looks_numeric(text: str) -> bool:
    return bool(text) and text != "-" and all(ch in _NUMERIC_CHARS for ch in text)


def render(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    indent: str = "  ",
    align: str | None = None,
) -> str:
    """Render ``rows`` under ``headers`` as an aligned text table and return it (no final newline).

    Cells are turned into text with :func:`fmt`. A column is right-aligned when every non-empty
    cell in it looks like a number; ``align`` overrides that with one letter per column
    (``l``/``r``).
    """
    body = [[fmt(cell) for cell in row] for row in rows]
    ncols = len(headers)
    for row in body:
        if len(row) != ncols:
            raise ValueError(f"row has {len(row)} cells, expected {ncols}: {row!r}")
    widths = [len(h) for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    if align is None:
        right = [
            bool(body) and all(_looks_numeric(r[i]) or r[i] in ("", "-") for r in body)
            for i in range(ncols)
        ]
    else:
        if len(align) != ncols:
            raise ValueError(f"align needs {ncols} letters, got {align!r}")
        right = [a == "r" for a in align]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if right[i] else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return (indent + "  ".join(parts)).rstrip()

    out = []
    if title:
        out.append(title)
    out.append(line(list(headers)))
    out.append(indent + "  ".join("-" * w for w in widths))
    out.extend(line(row) for row in body)
    if not body:
        out.append(indent + "(none)")
    return "\n".join(out)
