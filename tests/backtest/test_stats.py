"""The statistics of a run, each against a hand-computed example (see backtest/stats.py)."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from atlas_oms.backtest.records import EquityPoint, FillRecord, TradeRecord
from atlas_oms.backtest.results import AccountRun
from atlas_oms.backtest.stats import (
    DAY_NS,
    combine_equity,
    correlation,
    fixed,
    periods_per_year,
    summarize,
    summarize_runs,
)
from atlas_oms.model.enums import Side

D = Decimal
MIN = 60_000_000_000


def fill(
    side: Side, qty: str, price: str, ref: str, slip: str, fee: str, ts: int = 0
) -> FillRecord:
    return FillRecord(
        account_id="a",
        strategy="s",
        symbol="BTC-USD",
        order_id=1,
        client_order_id=None,
        side=side,
        qty=D(qty),
        price=D(price),
        fee=D(fee),
        fee_asset="USD",
        liquidity="TAKER",
        ts=ts,
        reference_price=D(ref),
        slippage=D(slip),
    )


def trade(pnl: str, tranche: dict[str, Decimal] | None = None, ts: int = 0) -> TradeRecord:
    return TradeRecord(
        account_id="a",
        strategy="s",
        symbol="BTC-USD",
        side=Side.BUY,
        qty=D(1),
        entry_price=D(100),
        exit_price=D(100) + D(pnl),
        opened_ts=ts,
        closed_ts=ts + 1,
        pnl=D(pnl),
        fees=D(0),
        tranche_pnl=tranche or {},
    )


def curve(values: list[str], exposures: list[str] | None = None) -> list[EquityPoint]:
    exposures = exposures or ["0"] * len(values)
    return [
        EquityPoint(ts=i * MIN, equity=D(v), exposure=D(e))
        for i, (v, e) in enumerate(zip(values, exposures, strict=True))
    ]


# returns 0.1, -0.1, 0.1, 0.1: mean 0.05, sample deviation 0.1, downside deviation 0.05
EQUITY = curve(["1000", "1100", "990", "1089", "1197.9"], ["0", "500", "500", "0", "0"])
TRADES = [
    trade("60", {"T1": D(30), "RUNNER": D(30)}),
    trade("-20"),
    trade("40", {"T1": D(10), "STOP": D(30)}),
    trade("0"),
]
FILLS = [
    fill(Side.BUY, "1", "101", "100", "1", "0.5"),
    fill(Side.SELL, "2", "199", "200", "1", "1"),
]


@pytest.fixture
def summary():
    return summarize(FILLS, TRADES, EQUITY, periods_per_year=4, starting_equity=D(1000))


def test_pnl_total_realized_and_per_tranche(summary) -> None:
    assert summary.total_pnl == D("197.9")
    assert summary.realized_pnl == D(80)
    assert summary.tranche_pnl == {"RUNNER": D(30), "STOP": D(30), "T1": D(40)}


def test_trade_counts_win_rate_and_averages(summary) -> None:
    assert (summary.trades, summary.wins, summary.losses) == (4, 2, 1)
    assert summary.win_rate == "50.00"  # the break-even trade is not a win
    assert summary.average_win == D(50)
    assert summary.average_loss == D(-20)
    assert summary.profit_factor == "5.0000"  # 100 / 20


def test_max_drawdown_absolute_percent_and_duration(summary) -> None:
    assert summary.max_drawdown == D(110)  # 1100 -> 990
    assert summary.max_drawdown_pct == "10.00"
    assert summary.max_drawdown_duration_ns == 2 * MIN  # under water from ts1 until ts3


def test_sharpe_and_sortino_are_annualized_per_period_ratios(summary) -> None:
    # per period 0.05 / 0.1 = 0.5 and 0.05 / 0.05 = 1; x sqrt(4)
    assert summary.sharpe == "1.0000"
    assert summary.sortino == "2.0000"
    assert summary.periods_per_year == "4.00"


def test_exposure_slippage_fees_and_turnover(summary) -> None:
    assert summary.time_in_market_pct == "40.00"
    assert summary.average_exposure == D(200)
    assert summary.average_slippage_bp == "60.00"  # (1x1 + 1x2) / (100x1 + 200x2) x 10^4
    assert summary.fees == D("1.5")
    assert summary.turnover == D(499)  # 101 + 398


def test_no_trades_leaves_the_trade_ratios_undefined() -> None:
    s = summarize([], [], curve(["1000", "1000"]), periods_per_year=365)
    assert (s.trades, s.win_rate, s.profit_factor, s.average_win, s.average_loss) == (
        0,
        None,
        None,
        None,
        None,
    )
    assert s.total_pnl == 0 and s.fees == 0 and s.turnover == 0
    assert s.average_slippage_bp is None


def test_one_winning_trade_has_an_infinite_profit_factor() -> None:
    s = summarize([], [trade("5")], curve(["100", "105"]), periods_per_year=365)
    assert s.profit_factor == "inf"
    assert s.win_rate == "100.00"


def test_all_losers_have_a_zero_profit_factor() -> None:
    s = summarize([], [trade("-5"), trade("-1")], [], periods_per_year=1)
    assert s.profit_factor == "0.0000"
    assert s.win_rate == "0.00"
    assert s.total_pnl == D(-6)  # no equity curve: the realized P&L


def test_flat_equity_has_no_sharpe_or_sortino() -> None:
    s = summarize([], [], curve(["1000"] * 10), periods_per_year=365)
    assert s.sharpe is None and s.sortino is None
    assert s.max_drawdown == 0 and s.max_drawdown_duration_ns == 0


def test_a_curve_that_never_loses_has_sharpe_but_no_sortino() -> None:
    s = summarize([], [], curve(["100", "110", "115"]), periods_per_year=365)
    assert s.sharpe is not None and s.sortino is None


def test_an_unrecovered_drawdown_lasts_until_the_last_point() -> None:
    s = summarize([], [], curve(["100", "120", "90", "100"]), periods_per_year=1)
    assert s.max_drawdown == D(30)
    assert s.max_drawdown_pct == "25.00"
    assert s.max_drawdown_duration_ns == 2 * MIN


def test_periods_per_year_follow_the_bar_interval_and_the_year() -> None:
    assert periods_per_year(MIN) == D(525_600)
    assert periods_per_year(DAY_NS) == D(365)
    assert periods_per_year(DAY_NS, days_per_year=252) == D(252)
    session = 390 * MIN  # 6.5 h
    assert periods_per_year(MIN, days_per_year=252, session_ns=session) == D(252 * 390)
    # inferred from the equity points' spacing by default
    s = summarize([], [], curve(["1", "2", "3"]))
    assert s.periods_per_year == "525600.00"


def test_ratios_are_never_shown_in_exponent_notation() -> None:
    assert fixed(1e-9, 4) == "0.0000"
    assert fixed(1.5e20, 2) == "150000000000000000000.00"
    assert fixed(D("1E+3"), 2) == "1000.00"
    assert fixed(None, 2) is None


def test_correlation_of_accounts_returns() -> None:
    m = correlation(
        {
            "a": [0.1, -0.1, 0.1],
            "b": [0.2, -0.2, 0.2],
            "c": [-0.1, 0.1, -0.1],
            "flat": [0.0, 0.0, 0.0],
        }
    )
    assert m.names == ["a", "b", "c", "flat"]
    assert m.rows[0] == ["1.0000", "1.0000", "-1.0000", None]
    assert m.rows[3] == [None, None, None, None]
    with pytest.raises(ValueError):
        correlation({"a": [0.1, 0.2], "b": [0.1]})


def test_combined_equity_sums_accounts_on_the_union_of_timestamps() -> None:
    a = [EquityPoint(ts=0, equity=D(100), exposure=D(10)), EquityPoint(ts=2, equity=D(110))]
    b = [EquityPoint(ts=1, equity=D(50), exposure=D(5))]
    assert combine_equity([a, b]) == [
        EquityPoint(ts=0, equity=D(150), exposure=D(10)),  # b counts with its first equity
        EquityPoint(ts=1, equity=D(150), exposure=D(15)),
        EquityPoint(ts=2, equity=D(160), exposure=D(5)),
    ]


def test_a_run_is_summarized_per_account_per_strategy_and_in_total() -> None:
    runs = {
        "acc-1": AccountRun(
            strategy="trend",
            starting_capital=D(1000),
            trades=(trade("10"),),
            equity=tuple(curve(["1000", "1010", "1005"])),
        ),
        "acc-2": AccountRun(
            strategy="trend",
            starting_capital=D(500),
            trades=(trade("-5"),),
            equity=tuple(curve(["500", "495", "500"])),
        ),
        "acc-3": AccountRun(
            strategy="meanrev",
            starting_capital=D(200),
            equity=tuple(curve(["200", "200", "200"])),
        ),
    }
    result = summarize_runs(runs, periods_per_year=365)
    assert list(result.accounts) == ["acc-1", "acc-2", "acc-3"]
    assert result.accounts["acc-1"].total_pnl == D(5)
    assert result.strategies["trend"].trades == 2
    assert result.strategies["trend"].total_pnl == D(5)  # 1505 - 1500
    assert result.strategies["meanrev"].total_pnl == 0
    assert result.total.total_pnl == D(5)
    assert result.total.win_rate == "50.00"
    assert result.correlation.rows[0][1] == "-1.0000"  # +1%, -0.495% vs -1%, +1.01%
    # the whole summary encodes to JSON (Decimal as strings)
    assert b'"total_pnl":"5"' in msgspec.json.encode(result.total)
