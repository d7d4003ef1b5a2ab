"""Table and number formatting (``atlas_oms.cli.tables``)."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.cli.tables import cell, fmt, grouped, money, pct, price, render, utc


def test_fmt_prints_decimals_without_exponent_noise() -> None:
    assert fmt(Decimal("0E-8")) == "0"
    assert fmt(Decimal("-0.00")) == "0"
    assert fmt(Decimal("1.50000")) == "1.5"
    assert fmt(Decimal("1E+2")) == "100"
    assert fmt(Decimal("64003.33333333333333"), 2) == "64003.33"
    assert fmt(None) == "-"


def test_render_right_aligns_numeric_columns() -> None:
    text = render(["name", "qty"], [["a", "1"], ["bb", "10.5"]])
    lines = text.splitlines()
    assert lines[0] == "  name   qty"
    assert lines[2] == "  a        1"
    assert lines[3] == "  bb    10.5"


def test_rounding_for_reading() -> None:
    assert price(Decimal("2957.725213890286864620030196"), Decimal("0.01")) == "2957.73"
    assert price(Decimal("3249.44"), Decimal("0.1")) == "3249.4"
    assert price(None) == "-"
    assert money(Decimal("200386.271"), group=True) == "200,386.27"
    assert money(Decimal("20"), sign=True) == "+20" and money(Decimal(0), sign=True) == "0"
    assert pct(Decimal("0.3")) == "30%"
    assert grouped(Decimal("500000")) == "500,000" and grouped(None) == "-"
    assert utc(1_767_225_601_500_000_000) == "2026-01-01 00:00:01 UTC" and utc(None) == "-"


def test_a_cell_reads_decimal_strings_exactly_and_keeps_other_text() -> None:
    assert cell("0.10000") == Decimal("0.10000") and fmt(cell("0.10000")) == "0.1"
    assert cell("desk") == "desk" and cell("NaN") == "NaN"
    assert cell(None) == "" and cell(7) == 7
