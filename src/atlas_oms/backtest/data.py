"""Market data files: OHLCV bars and public trades, in the shapes exchanges and ccxt export.

Bars (:func:`load_bars`):

- ccxt ``fetch_ohlcv`` rows ``[timestamp_ms, open, high, low, close, volume]`` written as CSV, with
  or without the header ``timestamp,open,high,low,close,volume`` (the timestamp is the bar's
  *open* time);
- Binance's public kline CSV (data.binance.vision): 12 columns, no header (open time, open, high,
  low, close, volume, close time, quote volume, trades, taker buy base, taker buy quote, ignore);
  times in milliseconds, or microseconds in files from 2025 on (told apart by size).

Trades (:func:`load_trades`):

- ccxt ``fetch_trades`` written as CSV with a header naming at least ``timestamp``, ``price``,
  ``amount`` (``side`` optional: ``buy``/``sell``, the aggressor);
- Binance's trades CSV (id, price, qty, quote_qty, time, is_buyer_maker, is_best_match), with or
  without its header; ``is_buyer_maker = true`` means the aggressor sold.

Parquet files with the same columns are read with pyarrow when it is installed
(``pip install atlas-oms[parquet]``); numbers are taken from their text, never through ``float``
(a Parquet double column is converted with ``repr``, which round-trips the stored value).

A bar's interval is given (``interval_ns``) or inferred: the smallest gap between two consecutive
open times (Binance files also carry the close time: ``close_time + 1 ms``). A bar's ``ts`` is its
close time (``start_ns + interval``). Every malformed row raises :class:`DataError` naming the
file and the line.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from atlas_oms.model.enums import Side
from atlas_oms.simulation.market import Bar, TradePrint

__all__ = [
    "DataError",
    "infer_symbol",
    "load_bars",
    "load_trades",
    "parse_interval",
]

_MS = 1_000_000
_US = 1_000
#: A timestamp above this (ms since the epoch would be the year 5138) is in microseconds.
_US_THRESHOLD = 100_000_000_000_000
_OHLCV_HEADER = ("timestamp", "open", "high", "low", "close", "volume")
_INTERVALS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_INTERVALS["d"] = 24 * _INTERVALS["h"]
_INTERVALS["w"] = 7 * _INTERVALS["d"]


class DataError(ValueError):
    """A data file that cannot be read: ``reason`` (a code), ``path`` and ``line`` (1-based, 0 if
    the whole file is concerned) and a sentence."""

    def __init__(self, reason: str, path: str, line: int, sentence: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{reason}: {where}: {sentence}")
        self.reason = reason
        self.path = path
        self.line = line
        self.sentence = sentence


def parse_interval(text: str) -> int:
    """``1m``, ``5m``, ``1h``, ``1d``, ``30s`` → nanoseconds."""
    m = re.fullmatch(r"(\d+)([smhdw])", text.strip())
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"bad interval {text!r}: expected a count and s, m, h, d or w (e.g. 1m)")
    return int(m.group(1)) * _INTERVALS[m.group(2)]


def infer_symbol(path: str | Path) -> str | None:
    """The symbol in a Binance-style file name (``BTCUSDT-1m-2024-01.csv`` → ``BTCUSDT``)."""
    name = Path(path).name
    m = re.match(r"([A-Z0-9]{4,})[-_]", name)
    return m.group(1) if m else None


# ------------------------------------------------------------------------------------ rows
def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of a CSV or Parquet file, blank lines skipped."""
    if path.suffix.lower() in (".parquet", ".pq"):
        yield from _parquet_rows(path)
        return
    with path.open(newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if row and any(cell.strip() for cell in row):
                yield lineno, [cell.strip() for cell in row]


def _parquet_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        raise DataError(
            "PARQUET_UNAVAILABLE",
            str(path),
            0,
            "reading Parquet needs pyarrow: install atlas-oms[parquet]",
        ) from None
    table = pq.read_table(str(path))
    names = [str(n) for n in table.column_names]
    yield 0, names  # the header (line 0: a Parquet file has no lines)
    columns = [table.column(i).to_pylist() for i in range(len(names))]
    for i in range(table.num_rows):
        yield i + 1, [_cell(col[i]) for col in columns]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "timestamp") and callable(value.timestamp):  # a datetime column
        return str(round(value.timestamp() * 1000))
    return "" if value is None else str(value)


def _dec(cell: str, path: Path, lineno: int, name: str) -> Decimal:
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise DataError(
            "BAD_NUMBER", str(path), lineno, f"{name} is not a number: {cell!r}"
        ) from None
    if not value.is_finite():
        raise DataError("BAD_NUMBER", str(path), lineno, f"{name} is not finite: {cell!r}")
    return value


def _ts_ns(cell: str, path: Path, lineno: int, name: str = "timestamp") -> int:
    try:
        raw = int(Decimal(cell))
    except (InvalidOperation, ValueError):
        raise DataError(
            "BAD_TIMESTAMP", str(path), lineno, f"{name} is not an integer time: {cell!r}"
        ) from None
    if raw < 0:
        raise DataError("BAD_TIMESTAMP", str(path), lineno, f"{name} is negative: {cell!r}")
    return raw * (_US if raw >= _US_THRESHOLD else _MS)


def _is_header(row: Sequence[str]) -> bool:
    try:
        Decimal(row[0])
    except InvalidOperation:
        return True
    return False


def _file_and_symbol(path: str | Path, symbol: str | None) -> tuple[Path, str]:
    """The data file (it must exist) and its symbol: ``symbol``, else the one in a
    Binance-style file name."""
    p = Path(path)
    if not p.exists():
        raise DataError("NO_FILE", str(p), 0, "no such file")
    sym = symbol or infer_symbol(p)
    if not sym:
        raise DataError(
            "NO_SYMBOL", str(p), 0, "the symbol is not in the file name: give it (--symbol)"
        )
    return p, sym


# ------------------------------------------------------------------------------------ bars
def load_bars(
    path: str | Path, symbol: str | None = None, *, interval_ns: int | None = None
) -> list[Bar]:
    """Every bar of a ccxt or Binance OHLCV file (CSV or Parquet), in time order.

    ``symbol`` defaults to the one in a Binance-style file name; ``interval_ns`` to the one the
    timestamps show. Raises :class:`DataError` for a malformed file or row."""
    p, sym = _file_and_symbol(path, symbol)
    # (line, open ns, close ns, (open, high, low, close, volume))
    raw: list[tuple[int, int, int | None, tuple[Decimal, ...]]] = []
    columns: dict[str, int] | None = None
    for lineno, row in _rows(p):
        if columns is None and (lineno == 0 or _is_header(row)):
            columns = _bar_columns(row, p, lineno)
            continue
        if columns is None:
            columns = {name: i for i, name in enumerate(_OHLCV_HEADER)}
            if len(row) == 12:
                columns["close_time"] = 6
        if len(row) < 6:
            raise DataError(
                "BAD_ROW", str(p), lineno, f"expected at least 6 columns, got {len(row)}"
            )
        start = _ts_ns(row[columns["timestamp"]], p, lineno)
        close_col = columns.get("close_time")
        close = _ts_ns(row[close_col], p, lineno, "close time") if close_col is not None else None
        if raw and start <= raw[-1][1]:
            raise DataError(
                "OUT_OF_ORDER", str(p), lineno, "bars must be in time order, one per open time"
            )
        raw.append((lineno, start, close, _ohlcv(row, columns, p, lineno)))
    if not raw:
        raise DataError("EMPTY", str(p), 0, "no bars in the file")
    interval = interval_ns or _infer_interval(raw, p)
    out: list[Bar] = []
    for _lineno, start, _close, (o, h, lo, cl, v) in raw:
        out.append(
            Bar(
                symbol=sym,
                start_ns=start,
                ts=start + interval,
                open=o,
                high=h,
                low=lo,
                close=cl,
                volume=v,
            )
        )
    return out


def _ohlcv(
    row: Sequence[str], c: dict[str, int], p: Path, lineno: int
) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    o = _dec(row[c["open"]], p, lineno, "open")
    h = _dec(row[c["high"]], p, lineno, "high")
    lo = _dec(row[c["low"]], p, lineno, "low")
    cl = _dec(row[c["close"]], p, lineno, "close")
    v = _dec(row[c["volume"]], p, lineno, "volume")
    if not (lo <= o <= h and lo <= cl <= h) or lo <= 0 or v < 0:
        raise DataError(
            "BAD_BAR",
            str(p),
            lineno,
            f"inconsistent bar: open {o} high {h} low {lo} close {cl} volume {v}",
        )
    return o, h, lo, cl, v


def _bar_columns(header: Sequence[str], path: Path, lineno: int) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    aliases = {
        "timestamp": ("timestamp", "open_time", "time", "date", "ts"),
        "open": ("open",),
        "high": ("high",),
        "low": ("low",),
        "close": ("close",),
        "volume": ("volume", "vol"),
    }
    out: dict[str, int] = {}
    for key, options in aliases.items():
        found = next((names.index(o) for o in options if o in names), None)
        if found is None:
            raise DataError(
                "BAD_HEADER", str(path), lineno, f"no {key!r} column in the header {header}"
            )
        out[key] = found
    if "close_time" in names:
        out["close_time"] = names.index("close_time")
    return out


def _infer_interval(raw: Sequence[tuple[int, int, int | None, Any]], path: Path) -> int:
    close = raw[0][2]
    if close is not None and close > raw[0][1]:  # Binance: close time is the last ms/µs in it
        span = close - raw[0][1]  # interval - 1 ms (or - 1 µs in µs files)
        return span + (_MS if span % _MS == 0 else _US)
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(raw) if b[1] > a[1]]
    if not gaps:
        raise DataError(
            "NO_INTERVAL",
            str(path),
            0,
            "one bar is not enough to infer the interval: give it (--interval)",
        )
    return min(gaps)


# ---------------------------------------------------------------------------------- trades
def load_trades(path: str | Path, symbol: str | None = None) -> list[TradePrint]:
    """Every trade of a ccxt ``fetch_trades`` or Binance trades file (CSV or Parquet), in time
    order (stable for equal times). Raises :class:`DataError` for a malformed file or row."""
    p, sym = _file_and_symbol(path, symbol)
    out: list[TradePrint] = []
    columns: dict[str, int] | None = None
    binance = False
    for lineno, row in _rows(p):
        if columns is None:
            if lineno == 0 or _is_header(row):
                columns, binance = _trade_columns(row, p, lineno)
                continue
            if len(row) not in (6, 7):
                raise DataError(
                    "BAD_HEADER",
                    str(p),
                    lineno,
                    "a trades file without a header must be Binance's 7 columns "
                    "(id, price, qty, quote_qty, time, is_buyer_maker, is_best_match)",
                )
            columns = {"price": 1, "qty": 2, "time": 4, "maker": 5}
            binance = True
        if len(row) <= max(columns.values()):
            raise DataError("BAD_ROW", str(p), lineno, f"too few columns: {len(row)}")
        price = _dec(row[columns["price"]], p, lineno, "price")
        qty = _dec(row[columns["qty"]], p, lineno, "amount")
        if price <= 0 or qty <= 0:
            raise DataError("BAD_ROW", str(p), lineno, "price and amount must be positive")
        ts = _ts_ns(row[columns["time"]], p, lineno)
        side: Side | None = None
        if binance and "maker" in columns:
            flag = row[columns["maker"]].lower()
            if flag not in ("true", "false", "1", "0"):
                raise DataError(
                    "BAD_ROW", str(p), lineno, f"is_buyer_maker must be true/false: {flag!r}"
                )
            side = Side.SELL if flag in ("true", "1") else Side.BUY
        elif "side" in columns:
            text = row[columns["side"]].lower()
            if text in ("buy", "sell"):
                side = Side.BUY if text == "buy" else Side.SELL
            elif text:
                raise DataError("BAD_ROW", str(p), lineno, f"side must be buy or sell: {text!r}")
        if out and ts < out[-1].ts:
            raise DataError("OUT_OF_ORDER", str(p), lineno, "trades must be in time order")
        out.append(TradePrint(symbol=sym, ts=ts, price=price, qty=qty, side=side))
    if not out:
        raise DataError("EMPTY", str(p), 0, "no trades in the file")
    return out


def _trade_columns(header: Sequence[str], path: Path, lineno: int) -> tuple[dict[str, int], bool]:
    names = [h.strip().lower() for h in header]
    if "is_buyer_maker" in names:  # Binance
        need = {"price": "price", "qty": "qty", "time": "time", "maker": "is_buyer_maker"}
        binance = True
    else:  # ccxt
        need = {"price": "price", "qty": "amount", "time": "timestamp"}
        binance = False
    out: dict[str, int] = {}
    for key, name in need.items():
        if name not in names:
            raise DataError(
                "BAD_HEADER", str(path), lineno, f"no {name!r} column in the header {header}"
            )
        out[key] = names.index(name)
    if not binance and "side" in names:
        out["side"] = names.index("side")
    return out, binance


def merge(streams: Iterable[Sequence[Any]]) -> Iterator[Any]:
    """Merge several time-ordered sequences of market events into one, by ``ts`` (ties: the
    order the streams were given, then their own order): a heap merge, lazy."""
    import heapq

    def keyed(i: int, stream: Sequence[Any]) -> Iterator[tuple[int, int, int, Any]]:
        for j, e in enumerate(stream):
            yield e.ts, i, j, e

    for _ts, _i, _j, event in heapq.merge(*(keyed(i, s) for i, s in enumerate(streams))):
        yield event
