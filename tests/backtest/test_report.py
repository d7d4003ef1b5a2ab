"""The HTML report: one offline file with the charts, the statistics, the correlation and the
parameters of a run."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

from atlas_oms.backtest.records import EquityPoint, TradeRecord
from atlas_oms.backtest.report import write_report
from atlas_oms.backtest.results import AccountRun
from atlas_oms.backtest.stats import summarize_runs
from atlas_oms.model.enums import Side

D = Decimal
MIN = 60_000_000_000
T0 = 1_700_000_000_000_000_000


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.script_srcs: list[str] = []
        self.links: list[str] = []
        self.tables = 0
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts += 1
            if values.get("src"):
                self.script_srcs.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag == "table":
            self.tables += 1


def run(strategy: str, start: str, values: list[str], pnl: str) -> AccountRun:
    equity = tuple(
        EquityPoint(ts=T0 + i * MIN, equity=D(v), exposure=D(100) if i % 2 else D(0))
        for i, v in enumerate(values)
    )
    trade = TradeRecord(
        account_id="x",
        strategy=strategy,
        symbol="BTC-USD",
        side=Side.BUY,
        qty=D(1),
        entry_price=D(100),
        exit_price=D(110),
        opened_ts=T0,
        closed_ts=T0 + MIN,
        pnl=D(pnl),
        fees=D("0.1"),
    )
    return AccountRun(
        strategy=strategy,
        starting_capital=D(start),
        trades=(trade,),
        equity=equity,
        params={"symbol": "BTC-USD"},
    )


def test_the_report_is_one_offline_html_file_with_the_runs_numbers(tmp_path: Path) -> None:
    accounts = {
        "alpha-acct": run("trend", "1000", ["1000", "1010", "990", "1040"], "40"),
        "beta-acct": run("meanrev", "500", ["500", "495", "505", "490"], "-10"),
    }
    path = write_report(
        tmp_path / "out" / "report.html",
        title="Backtest <BTC>",
        accounts=accounts,
        params={"data": "btc-1m.csv", "interval": "1m"},
        periods_per_year=525_600,
    )
    text = path.read_text(encoding="utf-8")
    stats = summarize_runs(accounts, periods_per_year=525_600)
    parser = Collector()
    parser.feed(text)
    parser.close()
    assert parser.script_srcs == []  # plotly.js is inline: opens offline
    assert not [href for href in parser.links if href.startswith(("http:", "https:", "//"))]
    assert parser.scripts >= 4  # plotly.js + three charts
    assert "plotly" in text.lower()
    assert parser.tables == 3  # statistics, correlation, parameters
    assert "Backtest &lt;BTC&gt;" in text  # escaped
    for expected in (
        "alpha-acct",
        "beta-acct",
        "Strategy trend",
        "Strategy meanrev",
        ">40.00<",  # alpha's total P&L, at the money step (2 decimals by default)
        ">-10.00<",  # beta's total P&L
        ">30.00<",  # total P&L
        "btc-1m.csv",
        "Equity and drawdown",
        "P&amp;L per trade",
        "Exposure over time",
        f">{stats.correlation.rows[0][1]}<",  # the accounts' correlation
        f">{stats.accounts['alpha-acct'].sharpe}<",
    ):
        assert expected in text, expected


def test_a_run_without_trades_still_writes_a_report(tmp_path: Path) -> None:
    accounts = {
        "idle": AccountRun(
            strategy="none",
            starting_capital=D(100),
            equity=(EquityPoint(ts=T0, equity=D(100)), EquityPoint(ts=T0 + MIN, equity=D(100))),
        )
    }
    path = write_report(tmp_path / "r.html", title="idle", accounts=accounts)
    text = path.read_text(encoding="utf-8")
    assert "idle" in text and "n/a" in text  # undefined ratios are shown as n/a


def test_a_long_runs_curves_are_thinned_for_the_charts_without_losing_a_peak_or_a_trough() -> None:
    from atlas_oms.backtest.report import thin

    n = 100_000
    equity = [float(i % 977) for i in range(n)]
    equity[54_321] = 5_000.0  # one peak
    drawdown = [0.0] * n
    drawdown[77_777] = -42.0  # one trough
    kept = thin([equity, drawdown], limit=2_000)
    assert len(kept) <= 2_000 + 2 and kept == sorted(set(kept))
    assert {0, n - 1, 54_321, 77_777} <= set(kept)
    assert thin([[1.0, 2.0, 3.0]], limit=10) == [0, 1, 2]  # short curves: every point
