"""The backtest runner (backtest/runner.py), its result files (backtest/output.py) and
``atlas backtest`` end to end."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms.backtest.output import fmt, write_results
from atlas_oms.backtest.runner import AccountSpec, Backtest, BacktestConfigError, DataSpec
from atlas_oms.backtest.strategy import Strategy, StrategyContext, StrategyLoadError, load_strategy
from atlas_oms.cli import main
from atlas_oms.simulation.market import Bar
from conftest import bars

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "examples" / "data" / "BTCUSDT-1m-sample.csv")
SMA = str(ROOT / "examples" / "strategies" / "sma_crossover.py") + ":SmaCrossover"
BREAKOUT = str(ROOT / "examples" / "strategies" / "breakout_intents.py") + ":BreakoutIntents"


class Flip(Strategy):
    """Buy on even tens, sell on odd tens."""

    def __init__(self, qty: str = "0.1", every: int = 10) -> None:
        self.qty, self.every, self.n = Decimal(qty), every, 0

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self.n += 1
        if self.n % self.every == 0:
            if ctx.position_qty(bar.symbol) > 0:
                ctx.sell(bar.symbol, ctx.position_qty(bar.symbol))
            else:
                ctx.buy(bar.symbol, self.qty)


def test_two_accounts_share_the_total_capital_by_allocation_and_trade_independently() -> None:
    result = Backtest(
        [AccountSpec("acct-a", Flip()), AccountSpec("acct-b", Flip(every=7))],
        events=bars(300),
        total_capital=Decimal(10_000),
        allocation={"acct-a": Decimal("0.6"), "acct-b": Decimal("0.4")},
        progress=False,
    ).run()
    a, b = result.accounts["acct-a"], result.accounts["acct-b"]
    assert (a.capital, b.capital) == (Decimal(6000), Decimal(4000))
    assert len(a.fills) == 30 and len(b.fills) == 42  # every 10th and every 7th bar
    assert len(a.trades) == 15 and len(b.trades) == 21
    for acct in (a, b):
        assert all(f.account_id == acct.account_id and f.strategy == "Flip" for f in acct.fills)
        # round trips add up to the change in equity (flat at the end)
        assert sum(t.pnl for t in acct.trades) == acct.final_equity - acct.capital
        assert len(acct.equity) == 300  # one point per bar
    # equity moves only while exposed, and is carried forward while flat
    assert result.correlation["acct-a"]["acct-a"] == 1.0
    corr = result.correlation["acct-a"]["acct-b"]
    assert corr is not None and -1 <= corr <= 1
    assert result.bars == 300 and result.journal_events > 0


def test_capital_settings_that_contradict_are_refused() -> None:
    with pytest.raises(BacktestConfigError, match="more than 1"):
        Backtest(
            [AccountSpec("a", Flip()), AccountSpec("b", Flip())],
            events=bars(5),
            total_capital=Decimal(1),
            allocation={"a": Decimal("0.7"), "b": Decimal("0.5")},
        ).capitals()
    with pytest.raises(BacktestConfigError, match="no capital"):
        Backtest([AccountSpec("a", Flip())], events=bars(5)).capitals()
    with pytest.raises(BacktestConfigError, match="unique"):
        Backtest([AccountSpec("a", Flip()), AccountSpec("a", Flip())], events=bars(5))


def test_strategies_load_from_a_file_or_a_module() -> None:
    s = load_strategy(SMA, fast=5, slow=20)
    assert type(s).__name__ == "SmaCrossover" and s.name == "SmaCrossover"
    t = load_strategy("atlas_oms.benchmarks.backtest:EveryTen")
    assert t.name == "every-ten"
    with pytest.raises(StrategyLoadError, match="not a Strategy"):
        load_strategy("atlas_oms.benchmarks.backtest:make_bars")
    with pytest.raises(StrategyLoadError, match="no file"):
        load_strategy("nowhere.py:X")


def test_result_files_hold_plain_decimal_strings_at_instrument_precision(tmp_path: Path) -> None:
    result = Backtest(
        [
            AccountSpec("a", SMA, capital=Decimal(10_000)),
            AccountSpec("b", BREAKOUT, capital=Decimal(10_000)),
        ],
        data=[DataSpec(SAMPLE)],
        progress=False,
    ).run()
    write_results(result, tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["accounts"]) == {"a", "b"}
    assert summary["accounts"]["a"]["capital"] == "10000.00"
    trades = [json.loads(x) for x in (tmp_path / "a.trades.jsonl").read_text().splitlines()]
    assert trades and all(isinstance(t["pnl"], str) for t in trades)
    assert all(len(t["entry_price"].split(".")[1]) == 2 for t in trades)  # tick 0.01
    assert all(len(t["qty"].split(".")[1]) == 5 for t in trades)  # lot 0.00001
    rows = list(csv.reader((tmp_path / "b.equity.csv").open()))
    assert rows[0] == ["ts", "equity", "exposure"] and len(rows) == 3001
    text = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "E+" not in text and "E-" not in text  # never exponent notation
    assert fmt(Decimal("1E+3")) == "1000" and fmt(Decimal("-0.000"), Decimal("0.01")) == "0.00"


def test_atlas_backtest_writes_the_files_and_two_runs_are_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outs = []
    for run in ("one", "two"):
        out = tmp_path / run
        code = main(
            [
                "backtest",
                "--strategy",
                SMA,
                "--param",
                "fast=5",
                "--data",
                SAMPLE,
                "--account",
                "acct-a",
                "--account",
                "acct-b",
                "--capital",
                "20000",
                "--allocation",
                "acct-a=0.6",
                "--allocation",
                "acct-b=0.4",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        assert code == 0
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    kinds = ("trades.jsonl", "fills.jsonl", "equity.csv")
    expected = [f"{a}.{k}" for a in ("acct-a", "acct-b") for k in kinds]
    assert names == sorted([*expected, "summary.json", "report.html"])
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    summary = json.loads((outs[0] / "summary.json").read_text())
    assert summary["accounts"]["acct-a"]["capital"] == "12000.00"
    assert summary["accounts"]["acct-a"]["trades"] > 0


def test_atlas_backtest_from_a_config_file_with_a_journal(tmp_path: Path) -> None:
    fills = tmp_path / "fills.yaml"
    fills.write_text("model: fixed\nfixed_slippage_pct: 0.1\n")
    config = tmp_path / "backtest.yaml"
    config.write_text(
        f"data: [{SAMPLE}]\n"
        "capital: 10000\n"
        "accounts:\n"
        f"  trend: {{strategy: '{SMA}', params: {{fast: 8}}}}\n"
        f"  breakout: {{strategy: '{BREAKOUT}', capital: 5000}}\n"
        "fills: fills.yaml\n"
        "out: out\n"
        "journal: run.journal\n"
    )
    assert main(["backtest", "--config", str(config), "--quiet"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["accounts"]["breakout"]["capital"] == "5000.00"
    assert summary["accounts"]["trend"]["capital"] == "10000.00"
    assert (tmp_path / "run.journal").exists()
    # the journal replays to the same state
    from atlas_oms.runtime.node import Node

    with Node.open(str(tmp_path / "run.journal")) as node:
        assert node.digest() == summary["digest"]


def test_atlas_backtest_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--data", SAMPLE, "--out", str(tmp_path)]) == 2
    assert "missing --account" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n1,1,x,1,1,1\n")
    args = ["backtest", "--strategy", SMA, "--account", "a=1", "--out", str(tmp_path)]
    assert main([*args, "--data", str(bad), "--symbol", "BTCUSDT"]) == 65
    assert "bad.csv:2" in capsys.readouterr().err
    assert main([*args, "--data", SAMPLE, "--fills", str(bad)]) == 78
    assert (
        main(
            [
                "backtest",
                "--strategy",
                "nowhere.py:X",
                "--account",
                "a=1",
                "--data",
                SAMPLE,
                "--out",
                str(tmp_path),
            ]
        )
        == 78
    )
