"""Data files in the shapes exchanges and ccxt export (backtest/data.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms.backtest.data import DataError, load_bars, load_trades, merge, parse_interval
from atlas_oms.model.enums import Side

MS = 1_000_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC in ms


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_ccxt_ohlcv_csv_with_a_header_gives_bars_with_decimals_from_the_text(
    tmp_path: Path,
) -> None:
    p = write(
        tmp_path,
        "ohlcv.csv",
        "timestamp,open,high,low,close,volume\n"
        f"{T0},42000.1,42010.25,41990,42005.3,1.234567891\n"
        f"{T0 + 60_000},42005.3,42020,42000,42019.99,0.1\n",
    )
    bars = load_bars(p, "BTCUSDT")
    assert len(bars) == 2
    b = bars[0]
    assert (b.symbol, b.start_ns, b.ts) == ("BTCUSDT", T0 * MS, (T0 + 60_000) * MS)
    assert b.open == Decimal("42000.1") and str(b.volume) == "1.234567891"
    assert bars[1].close == Decimal("42019.99")  # never through float


def test_ccxt_ohlcv_rows_without_a_header(tmp_path: Path) -> None:
    p = write(tmp_path, "x.csv", f"{T0},1,2,0.5,1.5,10\n{T0 + 300_000},1.5,2,1,1,3\n")
    bars = load_bars(p, "ETHUSDT")
    assert bars[0].ts - bars[0].start_ns == 300 * 10**9  # 5m inferred from the gap


def test_binance_kline_csv_in_milliseconds_infers_the_interval_and_symbol_from_the_file(
    tmp_path: Path,
) -> None:
    row = "{o},42000.00,42100.00,41900.00,42050.00,12.5,{c},525000.0,100,6.0,252000.0,0\n"
    text = row.format(o=T0, c=T0 + 59_999) + row.format(o=T0 + 60_000, c=T0 + 119_999)
    p = write(tmp_path, "BTCUSDT-1m-2024-01.csv", text)
    bars = load_bars(p)
    assert [b.symbol for b in bars] == ["BTCUSDT", "BTCUSDT"]
    assert bars[0].start_ns == T0 * MS and bars[0].ts == (T0 + 60_000) * MS


def test_binance_kline_csv_in_microseconds_since_2025(tmp_path: Path) -> None:
    t = 1_735_689_600_000_000  # 2025-01-01 in µs
    row = "{o},1.0,1.0,1.0,1.0,1,{c},1,1,1,1,0\n"
    p = write(tmp_path, "ETHUSDT-1h-2025-01.csv", row.format(o=t, c=t + 3_599_999_999))
    bars = load_bars(p)
    assert bars[0].start_ns == t * 1000
    assert bars[0].ts - bars[0].start_ns == 3_600 * 10**9  # one bar: interval from close time


def test_a_bad_row_is_a_typed_error_naming_the_file_and_line(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "bad.csv",
        "timestamp,open,high,low,close,volume\n"
        f"{T0},1,2,0.5,1.5,10\n"
        f"{T0 + 60_000},1,abc,0.5,1.5,10\n",
    )
    with pytest.raises(DataError) as info:
        load_bars(p, "X")
    assert (info.value.reason, info.value.line) == ("BAD_NUMBER", 3)
    assert "bad.csv:3" in str(info.value)


def test_an_inconsistent_bar_and_bars_out_of_order_are_refused(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", f"{T0},1,2,0.5,2.5,10\n{T0 + 60_000},1,2,0.5,1,1\n")
    with pytest.raises(DataError) as info:
        load_bars(p, "X")
    assert (info.value.reason, info.value.line) == ("BAD_BAR", 1)
    p = write(tmp_path, "b.csv", f"{T0 + 60_000},1,2,0.5,1,1\n{T0},1,2,0.5,1,1\n")
    with pytest.raises(DataError) as info:
        load_bars(p, "X")
    assert (info.value.reason, info.value.line) == ("OUT_OF_ORDER", 2)


def test_no_symbol_and_one_bar_without_interval_are_refused(tmp_path: Path) -> None:
    p = write(tmp_path, "data.csv", f"{T0},1,2,0.5,1,1\n")
    with pytest.raises(DataError, match="NO_SYMBOL"):
        load_bars(p)
    with pytest.raises(DataError, match="NO_INTERVAL"):
        load_bars(p, "X")
    assert load_bars(p, "X", interval_ns=parse_interval("1m"))[0].ts == (T0 + 60_000) * MS


def test_ccxt_trades_csv_with_side(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "t.csv",
        "id,timestamp,datetime,symbol,side,price,amount,cost\n"
        f"1,{T0},2024-01-01T00:00:00Z,BTC/USDT,buy,42000.5,0.001,42.0005\n"
        f"2,{T0 + 5},2024-01-01T00:00:00Z,BTC/USDT,sell,41999.99,0.25,10499.9975\n",
    )
    trades = load_trades(p, "BTCUSDT")
    assert [(t.side, t.price, t.qty) for t in trades] == [
        (Side.BUY, Decimal("42000.5"), Decimal("0.001")),
        (Side.SELL, Decimal("41999.99"), Decimal("0.25")),
    ]
    assert trades[1].ts == (T0 + 5) * MS


def test_binance_trades_csv_with_and_without_header(tmp_path: Path) -> None:
    rows = f"101,42000.10,0.005,210.0005,{T0},true,true\n102,42000.20,0.010,420.002,{T0 + 1},false,true\n"
    header = "id,price,qty,quote_qty,time,is_buyer_maker,is_best_match\n"
    for name, text in (("BTCUSDT-trades-2024-01.csv", rows), ("h.csv", header + rows)):
        trades = load_trades(write(tmp_path, name, text), "BTCUSDT")
        # is_buyer_maker: the aggressor sold
        assert [t.side for t in trades] == [Side.SELL, Side.BUY]
        assert trades[0].price == Decimal("42000.10")


def test_a_bad_trade_row_names_its_line(tmp_path: Path) -> None:
    p = write(tmp_path, "t.csv", f"timestamp,price,amount\n{T0},1,1\n{T0 + 1},1,-2\n")
    with pytest.raises(DataError) as info:
        load_trades(p, "X")
    assert info.value.line == 3


def test_parquet_without_pyarrow_is_a_typed_error_naming_the_extra(tmp_path: Path) -> None:
    pytest.importorskip("pytest")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        p = write(tmp_path, "BTCUSDT-1m.parquet", "not really parquet")
        with pytest.raises(DataError, match=r"atlas-oms\[parquet\]"):
            load_bars(p)
    else:  # pragma: no cover - pyarrow installed: round-trip a real Parquet file
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table(
            {
                "timestamp": [T0, T0 + 60_000],
                "open": ["1.5", "1.6"],
                "high": ["2", "2"],
                "low": ["1", "1"],
                "close": ["1.6", "1.7"],
                "volume": ["3", "4"],
            }
        )
        p = tmp_path / "BTCUSDT-1m.parquet"
        pq.write_table(table, p)
        assert load_bars(p)[1].close == Decimal("1.7")


def test_merge_orders_several_streams_by_time_ties_in_stream_order(tmp_path: Path) -> None:
    a = load_bars(write(tmp_path, "AAAUSDT-1m.csv", f"{T0},1,1,1,1,1\n{T0 + 60_000},1,1,1,1,1\n"))
    b = load_bars(write(tmp_path, "BBBUSDT-1m.csv", f"{T0},2,2,2,2,1\n{T0 + 60_000},2,2,2,2,1\n"))
    merged = list(merge([a, b]))
    assert [(e.symbol, e.ts) for e in merged] == [
        ("AAAUSDT", a[0].ts),
        ("BBBUSDT", b[0].ts),
        ("AAAUSDT", a[1].ts),
        ("BBBUSDT", b[1].ts),
    ]
