"""A run's statistics: pure functions over its records (``backtest/records.py``).

Conventions (the report and the summary JSON show exactly these):

- **Money** (P&L, fees, turnover, drawdown, exposure, average win/loss) is ``Decimal``, never
  rounded here.
- **Ratios and percentages** (win rate, profit factor, Sharpe, Sortino, drawdown %, time in
  market, slippage in bp, correlations) are computed in ``float`` (Sharpe, Sortino and the
  correlations need a square root) or ``Decimal`` (the others) and *presented* as strings with
  fixed decimals, never exponent notation: percentages and basis points with 2 decimals
  (``"55.56"``), ratios with 4 (``"1.2345"``). ``None`` means *undefined* (no trades, fewer
  than two equity points, zero variance...), never zero.
- **Profit factor** = gross profit / |gross loss|. With winners and no loser it is the string
  ``"inf"`` (shown as ``inf`` in the report); with no winners and no losers (no trades, or only
  break-even trades) it is ``None``.
- **Win rate** = trades with P&L > 0 / all trades × 100 (break-even trades count as non-wins).
- **Returns** are simple returns of the equity curve from one point to the next: the equity is
  sampled once per bar, so a return is a per-bar return. **Sharpe** = mean / sample standard
  deviation (n-1) × sqrt(periods per year); **Sortino** = mean / downside deviation × sqrt(periods
  per year), the downside deviation being sqrt(mean(min(r, 0)²)) over all periods (target 0).
  The risk-free rate is 0. A flat curve (zero deviation) or one without a losing period (for
  Sortino) has no ratio: ``None``.
- **Periods per year** come from the bar interval: :func:`periods_per_year` — a 365-day crypto
  year of 24-hour days by default (1-minute bars: 525,600), or ``days_per_year=252`` and the
  session length for equities (daily bars: 252).
- **Drawdown**: the running peak starts at the starting equity (or the first point); max
  drawdown is the largest ``peak - equity``, max drawdown % the largest ``(peak - equity) /
  peak`` (possibly at another point), and its duration the longest time spent below a previous
  peak (ns; an unrecovered drawdown lasts until the last point).
- **Exposure**: time in market = share of equity points with a gross exposure > 0; average
  gross exposure = mean exposure over all points (points are regular, so both are time shares).
- **Slippage** = notional-weighted average of the fills' ``slippage`` against their
  ``reference_price``, in basis points (positive = cost); fills without a reference price are
  left out. **Turnover** = traded notional, sum of |qty × price| of the fills.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Context, Decimal
from itertools import pairwise

import msgspec

from atlas_oms.backtest.records import EquityPoint, FillRecord, TradeRecord
from atlas_oms.backtest.results import AccountRun

#: Nanoseconds in a day.
DAY_NS = 86_400_000_000_000
#: Decimals shown for percentages / basis points, and for ratios.
PCT_DECIMALS = 2
RATIO_DECIMALS = 4
INF = "inf"
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """The statistics of one scope: an account, a strategy (its accounts together) or the total."""

    scope: str
    trades: int
    wins: int
    losses: int
    total_pnl: Decimal  # last equity - starting equity (realized + open positions marked)
    realized_pnl: Decimal  # sum of the round trips' P&L, after fees
    tranche_pnl: dict[str, Decimal]
    win_rate: str | None
    average_win: Decimal | None
    average_loss: Decimal | None  # negative
    profit_factor: str | None
    max_drawdown: Decimal
    max_drawdown_pct: str | None
    max_drawdown_duration_ns: int
    sharpe: str | None
    sortino: str | None
    periods_per_year: str
    time_in_market_pct: str | None
    average_exposure: Decimal | None
    average_slippage_bp: str | None
    fees: Decimal
    turnover: Decimal
    starting_equity: Decimal | None
    ending_equity: Decimal | None


class CorrelationMatrix(msgspec.Struct, frozen=True, kw_only=True):
    """Pearson correlations of the accounts' per-period returns: ``rows[i][j]`` between
    ``names[i]`` and ``names[j]``, as strings with 4 decimals (``None`` when a series is flat or
    too short)."""

    names: list[str]
    rows: list[list[str | None]]


class RunSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A whole run: the total, each account, each strategy, and the accounts' return correlation."""

    total: Summary
    accounts: dict[str, Summary]
    strategies: dict[str, Summary]
    correlation: CorrelationMatrix


# -- presentation -------------------------------------------------------------------------------


def fixed(value: float | Decimal | None, decimals: int) -> str | None:
    """``value`` with exactly ``decimals`` decimals, never in exponent notation (``None`` stays)."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return INF if value > 0 else "-" + INF
        value = Decimal(repr(value))
    quantum = Decimal(1).scaleb(-decimals)
    return format(value.quantize(quantum, context=Context(prec=80)), "f")


def periods_per_year(
    bar_interval_ns: int, *, days_per_year: int = 365, session_ns: int = DAY_NS
) -> Decimal:
    """How many bars of ``bar_interval_ns`` make a year: ``days_per_year × session_ns /
    interval`` (crypto: 365 days of 24 h; equities: ``days_per_year=252`` and a 6.5-hour
    ``session_ns`` for intraday bars, or daily bars with the default session → 252)."""
    if bar_interval_ns <= 0:
        raise ValueError("bar_interval_ns must be positive")
    if bar_interval_ns >= session_ns:
        return Decimal(days_per_year) * Decimal(DAY_NS) / Decimal(bar_interval_ns)
    return Decimal(days_per_year) * Decimal(session_ns) / Decimal(bar_interval_ns)


def infer_periods_per_year(equity: Sequence[EquityPoint], *, days_per_year: int = 365) -> Decimal:
    """:func:`periods_per_year` of the median spacing of the equity points (1 if unknown)."""
    gaps = sorted(b.ts - a.ts for a, b in pairwise(equity) if b.ts > a.ts)
    if not gaps:
        return Decimal(1)
    return periods_per_year(gaps[len(gaps) // 2], days_per_year=days_per_year)


# -- the pieces ---------------------------------------------------------------------------------


def returns(equity: Sequence[EquityPoint]) -> list[float]:
    """Simple per-period returns of an equity curve (a period whose start equity is 0 is skipped)."""
    out: list[float] = []
    for before, after in pairwise(equity):
        if before.equity != 0:
            out.append(float((after.equity - before.equity) / before.equity))
    return out


def sharpe_ratio(rets: Sequence[float], periods: float) -> float | None:
    """Annualized Sharpe (risk-free 0, sample deviation); None if undefined."""
    if len(rets) < 2:
        return None
    mean = sum(rets) / len(rets)
    var = sum((r - mean) ** 2 for r in rets) / (len(rets) - 1)
    if var <= 1e-24:
        return None
    return mean / math.sqrt(var) * math.sqrt(periods)


def sortino_ratio(rets: Sequence[float], periods: float) -> float | None:
    """Annualized Sortino (target 0, downside deviation over all periods); None if undefined."""
    if len(rets) < 2:
        return None
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in rets) / len(rets))
    if downside <= 1e-12:
        return None
    return (sum(rets) / len(rets)) / downside * math.sqrt(periods)


class Drawdown(msgspec.Struct, frozen=True, kw_only=True):
    amount: Decimal
    pct: Decimal | None
    duration_ns: int


def drawdown(equity: Sequence[EquityPoint], starting_equity: Decimal | None = None) -> Drawdown:
    """Max drawdown (absolute, %, longest time under water) of an equity curve."""
    if not equity:
        return Drawdown(amount=_ZERO, pct=None, duration_ns=0)
    peak = equity[0].equity if starting_equity is None else max(starting_equity, equity[0].equity)
    peak_ts = equity[0].ts
    worst = _ZERO
    worst_pct: Decimal | None = _ZERO if peak > 0 else None
    longest = 0
    for point in equity:
        if point.equity >= peak:
            peak, peak_ts = point.equity, point.ts
            continue
        worst = max(worst, peak - point.equity)
        if peak > 0:
            pct = (peak - point.equity) / peak * _HUNDRED
            worst_pct = pct if worst_pct is None else max(worst_pct, pct)
        longest = max(longest, point.ts - peak_ts)
    return Drawdown(amount=worst, pct=worst_pct, duration_ns=longest)


def _slippage_bp(fills: Iterable[FillRecord]) -> Decimal | None:
    cost = _ZERO
    notional = _ZERO
    for fill in fills:
        if fill.reference_price is None or fill.reference_price == 0:
            continue
        cost += fill.slippage * fill.qty
        notional += fill.reference_price * fill.qty
    if notional == 0:
        return None
    return cost / notional * Decimal(10_000)


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, _ZERO) / len(values) if values else None


# -- the summary ---------------------------------------------------------------------------------


def summarize(
    fills: Sequence[FillRecord],
    trades: Sequence[TradeRecord],
    equity: Sequence[EquityPoint],
    *,
    periods_per_year: Decimal | int | None = None,
    starting_equity: Decimal | None = None,
    scope: str = "total",
) -> Summary:
    """The statistics of one scope (see the module's docstring for each definition).

    ``equity`` is the scope's one equity curve (for several accounts: their sum, see
    :func:`combine_equity`); ``periods_per_year`` defaults to the one inferred from the equity
    points' spacing with a 365-day year.
    """
    periods = (
        infer_periods_per_year(equity) if periods_per_year is None else Decimal(periods_per_year)
    )
    pnls = [t.pnl for t in trades]
    winners = [p for p in pnls if p > 0]
    losers = [p for p in pnls if p < 0]
    gross_profit = sum(winners, _ZERO)
    gross_loss = -sum(losers, _ZERO)
    if gross_loss > 0:
        profit_factor = fixed(gross_profit / gross_loss, RATIO_DECIMALS)
    else:
        profit_factor = INF if gross_profit > 0 else None
    tranche: dict[str, Decimal] = {}
    for trade in trades:
        for name, pnl in trade.tranche_pnl.items():
            tranche[name] = tranche.get(name, _ZERO) + pnl
    realized = sum(pnls, _ZERO)
    start = (
        starting_equity if starting_equity is not None else (equity[0].equity if equity else None)
    )
    end = equity[-1].equity if equity else None
    total = end - start if start is not None and end is not None else realized
    rets = returns(equity)
    dd = drawdown(equity, starting_equity)
    exposures = [p.exposure for p in equity]
    in_market = sum(1 for e in exposures if e > 0)
    return Summary(
        scope=scope,
        trades=len(trades),
        wins=len(winners),
        losses=len(losers),
        total_pnl=total,
        realized_pnl=realized,
        tranche_pnl=dict(sorted(tranche.items())),
        win_rate=fixed(Decimal(len(winners)) / len(pnls) * _HUNDRED, PCT_DECIMALS)
        if pnls
        else None,
        average_win=_mean(winners),
        average_loss=_mean(losers),
        profit_factor=profit_factor,
        max_drawdown=dd.amount,
        max_drawdown_pct=fixed(dd.pct, PCT_DECIMALS),
        max_drawdown_duration_ns=dd.duration_ns,
        sharpe=fixed(sharpe_ratio(rets, float(periods)), RATIO_DECIMALS),
        sortino=fixed(sortino_ratio(rets, float(periods)), RATIO_DECIMALS),
        periods_per_year=fixed(periods, PCT_DECIMALS) or "",
        time_in_market_pct=(
            fixed(Decimal(in_market) / len(exposures) * _HUNDRED, PCT_DECIMALS)
            if exposures
            else None
        ),
        average_exposure=_mean(exposures),
        average_slippage_bp=fixed(_slippage_bp(fills), PCT_DECIMALS),
        fees=sum((f.fee for f in fills), _ZERO),
        turnover=sum((abs(f.qty * f.price) for f in fills), _ZERO),
        starting_equity=start,
        ending_equity=end,
    )


def combine_equity(curves: Sequence[Sequence[EquityPoint]]) -> list[EquityPoint]:
    """The sum of several accounts' equity curves on the union of their timestamps: before its
    first point an account counts with its first equity and no exposure; between points, with
    its last one."""
    stamps = sorted({p.ts for curve in curves for p in curve})
    out: list[EquityPoint] = []
    cursors = [0] * len(curves)
    for ts in stamps:
        equity = _ZERO
        exposure = _ZERO
        for i, curve in enumerate(curves):
            if not curve:
                continue
            while cursors[i] + 1 < len(curve) and curve[cursors[i] + 1].ts <= ts:
                cursors[i] += 1
            point = curve[cursors[i]]
            equity += point.equity
            if point.ts <= ts:
                exposure += point.exposure
        out.append(EquityPoint(ts=ts, equity=equity, exposure=exposure))
    return out


def correlation(returns_by_account: Mapping[str, Sequence[float | Decimal]]) -> CorrelationMatrix:
    """Pearson correlation matrix of the accounts' returns (series of equal length, aligned per
    period; see :func:`aligned_returns`). A flat or shorter-than-2 series gives ``None``."""
    names = list(returns_by_account)
    series = [[float(r) for r in returns_by_account[name]] for name in names]
    lengths = {len(s) for s in series}
    if len(lengths) > 1:
        raise ValueError(f"return series of different lengths: {sorted(lengths)}")
    rows: list[list[str | None]] = []
    for a in series:
        row: list[str | None] = []
        for b in series:
            row.append(fixed(_pearson(a, b), RATIO_DECIMALS))
        rows.append(row)
    return CorrelationMatrix(names=names, rows=rows)


def _pearson(a: Sequence[float], b: Sequence[float]) -> float | None:
    n = len(a)
    if n < 2:
        return None
    mean_a = sum(a) / n
    mean_b = sum(b) / n
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    var_a = sum((x - mean_a) ** 2 for x in a)
    var_b = sum((y - mean_b) ** 2 for y in b)
    if var_a <= 1e-24 or var_b <= 1e-24:
        return None
    return max(-1.0, min(1.0, cov / math.sqrt(var_a * var_b)))


def aligned_returns(
    equity_by_account: Mapping[str, Sequence[EquityPoint]],
) -> dict[str, list[float]]:
    """Each account's per-period returns on the timestamps all the accounts share."""
    common: set[int] | None = None
    for curve in equity_by_account.values():
        stamps = {p.ts for p in curve}
        common = stamps if common is None else common & stamps
    keep = common or set()
    return {
        name: returns([p for p in curve if p.ts in keep])
        for name, curve in equity_by_account.items()
    }


def summarize_runs(
    accounts: Mapping[str, AccountRun], *, periods_per_year: Decimal | int | None = None
) -> RunSummary:
    """The statistics of a run: per account, per strategy (its accounts' records together and
    their equity summed), the total, and the correlation of the accounts' returns."""
    per_account = {
        name: summarize(
            run.fills,
            run.trades,
            run.equity,
            periods_per_year=periods_per_year,
            starting_equity=run.starting_capital,
            scope=name,
        )
        for name, run in accounts.items()
    }
    groups: dict[str, list[AccountRun]] = {}
    for run in accounts.values():
        groups.setdefault(run.strategy, []).append(run)
    per_strategy = {
        strategy: _summarize_group(runs, periods_per_year, scope=strategy)
        for strategy, runs in sorted(groups.items())
    }
    total = _summarize_group(list(accounts.values()), periods_per_year, scope="total")
    matrix = correlation(aligned_returns({name: run.equity for name, run in accounts.items()}))
    return RunSummary(
        total=total, accounts=per_account, strategies=per_strategy, correlation=matrix
    )


def _summarize_group(
    runs: Sequence[AccountRun], periods: Decimal | int | None, *, scope: str
) -> Summary:
    fills = sorted((f for run in runs for f in run.fills), key=lambda f: f.ts)
    trades = sorted((t for run in runs for t in run.trades), key=lambda t: t.closed_ts)
    equity = combine_equity([run.equity for run in runs])
    start = sum((run.starting_capital for run in runs), _ZERO)
    return summarize(
        fills, trades, equity, periods_per_year=periods, starting_equity=start, scope=scope
    )
