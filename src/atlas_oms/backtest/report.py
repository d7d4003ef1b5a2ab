"""A run's self-contained HTML report (plotly; opens offline).

One file: plotly.js is embedded inline once (``include_plotlyjs=True`` on the first chart, the
others reuse it), no ``<script src=...>``, no font or stylesheet from the network. Charts: the
equity curve and the drawdown of each account, the P&L of each round trip (bars), the gross
exposure over time. Tables: the statistics per account, per strategy and in total
(``stats.summarize_runs``; numbers exactly as the summary JSON shows them), the correlation
matrix of the accounts' returns, and the run's parameters.

Charts draw ``float`` copies of the ``Decimal`` records (a chart is a picture); the tables show
the ``Decimal`` values and the fixed-decimal strings of the statistics.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from atlas_oms.backtest.records import EquityPoint
from atlas_oms.backtest.results import AccountRun
from atlas_oms.backtest.stats import RunSummary, Summary, fixed, summarize_runs

#: The statistics rows of the summary table: (label, field of Summary).
SUMMARY_ROWS: tuple[tuple[str, str], ...] = (
    ("Total P&L", "total_pnl"),
    ("Realized P&L", "realized_pnl"),
    ("Trades", "trades"),
    ("Win rate %", "win_rate"),
    ("Average win", "average_win"),
    ("Average loss", "average_loss"),
    ("Profit factor", "profit_factor"),
    ("Max drawdown", "max_drawdown"),
    ("Max drawdown %", "max_drawdown_pct"),
    ("Max drawdown duration", "max_drawdown_duration_ns"),
    ("Sharpe", "sharpe"),
    ("Sortino", "sortino"),
    ("Periods per year", "periods_per_year"),
    ("Time in market %", "time_in_market_pct"),
    ("Average gross exposure", "average_exposure"),
    ("Average slippage (bp)", "average_slippage_bp"),
    ("Fees", "fees"),
    ("Turnover", "turnover"),
    ("Starting equity", "starting_equity"),
    ("Ending equity", "ending_equity"),
)

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3}
.muted{color:#777}
"""


def write_report(
    path: str | Path,
    *,
    title: str,
    accounts: Mapping[str, AccountRun],
    params: Mapping[str, str] | None = None,
    periods_per_year: Decimal | int | None = None,
    summary: RunSummary | None = None,
    money_step: Decimal | None = None,
    executor: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    stress: Sequence[str] = (),
) -> Path:
    """Write the report of a run of ``accounts`` to ``path`` and return the path.

    ``params`` are the run's parameters (data file, interval, fill model...), shown with each
    account's own ``AccountRun.params``; ``summary`` may be passed when the caller already has
    it (otherwise it is computed with ``periods_per_year``). Money amounts are shown at
    ``money_step``'s places (the quote's tick size; 2 decimals when not given), never in
    exponent notation. ``executor``: the order executor's statistics per account and mode
    (a small table under the statistics); ``stress``: the stress scenarios applied (named at
    the top).
    """
    places = _places(money_step if money_step is not None else Decimal("0.01"))
    stats = summary or summarize_runs(accounts, periods_per_year=periods_per_year)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="muted">{len(accounts)} account(s); times in UTC.</p>',
    ]
    if stress:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in stress)
        parts.append(f"<h2>Stress scenarios</h2><ul>{items}</ul>")
    parts += ["<h2>Statistics</h2>", _summary_table(stats, places)]
    if executor:
        parts += ["<h2>Order executor</h2>", _executor_table(executor)]
    figures = _figures(accounts)
    for index, (heading, figure) in enumerate(figures):
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(
            figure.to_html(
                full_html=False,
                include_plotlyjs=index == 0,
                div_id=f"chart-{index}",  # fixed ids: the same run gives the same file
                config={"displaylogo": False, "responsive": True},
            )
        )
    parts.append("<h2>Correlation of the accounts' returns</h2>")
    parts.append(_correlation_table(stats))
    parts.append("<h2>Parameters</h2>")
    parts.append(_params_table(accounts, params or {}))
    parts.append("</body></html>")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(parts), encoding="utf-8")
    return target


# -- tables -------------------------------------------------------------------------------------


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _money(value: Decimal, places: int) -> str:
    shown = fixed(value, places) or ""
    return shown[1:] if shown.startswith("-") and not Decimal(shown) else shown  # never "-0.00"


def _cell(value: object, places: int = 2) -> str:
    """Money (``Decimal``) at ``places``; ratios and percentages come as strings already."""
    if value is None:
        return '<span class="muted">n/a</span>'
    if isinstance(value, Decimal):
        return html.escape(_money(value, places))
    if isinstance(value, dict):
        return html.escape(", ".join(f"{k}: {_money(v, places)}" for k, v in value.items())) or "-"
    return html.escape(str(value))


def _duration(ns: int) -> str:
    seconds = ns // 1_000_000_000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    return f"{days}d {hours:02d}:{minutes:02d}:{seconds:02d}"


def _summary_table(stats: RunSummary, places: int) -> str:
    columns: list[tuple[str, Summary]] = [("Total", stats.total)]
    columns += [(f"Account {name}", s) for name, s in stats.accounts.items()]
    columns += [(f"Strategy {name}", s) for name, s in stats.strategies.items()]
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _ in columns)
    rows = [f"<table><thead><tr><th>Statistic</th>{head}</tr></thead><tbody>"]
    fields = (*SUMMARY_ROWS, ("P&L per tranche", "tranche_pnl"))
    for label, field in fields:
        cells = []
        for _, summary in columns:
            value = getattr(summary, field)
            cells.append(
                f"<td>{_duration(value) if field == 'max_drawdown_duration_ns' else _cell(value, places)}</td>"
            )
        rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


#: The order executor's statistics shown: (label, key of ExecutionStatistics).
EXECUTOR_ROWS: tuple[tuple[str, str], ...] = (
    ("Executions", "executions"),
    ("Successes", "successes"),
    ("Success rate %", "success_rate"),
    ("Rejections", "rejections"),
    ("Retries", "retries"),
    ("Attempts", "attempts"),
    ("Average latency (ms)", "average_latency_ms"),
    ("Max latency (ms)", "max_latency_ms"),
)


def _executor_table(executor: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    columns = [
        (f"{account} ({mode})", stats)
        for account, modes in executor.items()
        for mode, stats in modes.items()
    ]
    if not columns:
        return (
            '<p class="muted">The strategies sent no order of their own through the executor '
            "(the orders of managed trades are derived by Atlas's policy, not sent by the "
            "strategy).</p>"
        )
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _ in columns)
    rows = [f"<table><thead><tr><th>Executor</th>{head}</tr></thead><tbody>"]
    for label, key in EXECUTOR_ROWS:
        cells = "".join(f"<td>{_cell(stats.get(key))}</td>" for _, stats in columns)
        rows.append(f"<tr><td>{html.escape(label)}</td>{cells}</tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def _correlation_table(stats: RunSummary) -> str:
    names = stats.correlation.names
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = "".join(
        f"<tr><td>{html.escape(name)}</td>{''.join(f'<td>{_cell(v)}</td>' for v in row)}</tr>"
        for name, row in zip(names, stats.correlation.rows, strict=True)
    )
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"


def _params_table(accounts: Mapping[str, AccountRun], params: Mapping[str, str]) -> str:
    rows = [("run", key, value) for key, value in params.items()]
    for name, run in accounts.items():
        rows.append((name, "strategy", run.strategy))
        rows.append((name, "starting capital", format(run.starting_capital, "f")))
        rows += [(name, key, value) for key, value in run.params.items()]
    body = "".join(
        f"<tr><td>{html.escape(scope)}</td><td>{html.escape(key)}</td>"
        f"<td>{html.escape(str(value))}</td></tr>"
        for scope, key, value in rows
    )
    return (
        "<table><thead><tr><th>Scope</th><th>Parameter</th><th>Value</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


# -- charts -------------------------------------------------------------------------------------


def _time(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _drawdown_curve(equity: Sequence[EquityPoint], start: Decimal) -> list[float]:
    peak = start
    out: list[float] = []
    for point in equity:
        peak = max(peak, point.equity)
        out.append(float((point.equity - peak) / peak * 100) if peak > 0 else 0.0)
    return out


#: At most this many points per curve in the charts (a long run's curves are thinned; the
#: statistics always use every point).
MAX_CHART_POINTS = 5_000


def thin(series: Sequence[Sequence[float]], limit: int = MAX_CHART_POINTS) -> list[int]:
    """The indices of the points to draw when the curves (of equal length) have more than
    ``limit`` points: in each of about ``limit / (2 × curves)`` buckets, the lowest and the
    highest point of every curve (so no peak, trough or drawdown disappears), plus the first
    and the last point; every index when the curves are short enough."""
    n = len(series[0]) if series else 0
    if n <= limit:
        return list(range(n))
    per_bucket = 2 * len(series)
    buckets = max(1, limit // per_bucket)
    size = -(-n // buckets)
    keep = {0, n - 1}
    for start in range(0, n, size):
        end = min(start + size, n)
        for values in series:
            window = range(start, end)
            keep.add(min(window, key=values.__getitem__))
            keep.add(max(window, key=values.__getitem__))
    return sorted(keep)


def _figures(accounts: Mapping[str, AccountRun]) -> list[tuple[str, Any]]:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    equity = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.7, 0.3],
        vertical_spacing=0.05,
        subplot_titles=("Equity", "Drawdown %"),
    )
    pnl = go.Figure()
    exposure = go.Figure()
    for name, run in accounts.items():
        values = [float(p.equity) for p in run.equity]
        drawdown = _drawdown_curve(run.equity, run.starting_capital)
        exposures = [float(p.exposure) for p in run.equity]
        drawn = thin([values, drawdown, exposures])
        xs = [_time(run.equity[i].ts) for i in drawn]
        equity.add_trace(
            go.Scatter(x=xs, y=[values[i] for i in drawn], mode="lines", name=name),
            row=1,
            col=1,
        )
        equity.add_trace(
            go.Scatter(
                x=xs,
                y=[drawdown[i] for i in drawn],
                mode="lines",
                fill="tozeroy",
                name=f"{name} drawdown",
            ),
            row=2,
            col=1,
        )
        pnl.add_trace(
            go.Bar(
                x=[_time(t.closed_ts) for t in run.trades],
                y=[float(t.pnl) for t in run.trades],
                name=name,
                hovertext=[f"{t.symbol} {t.side.value} {t.qty}" for t in run.trades],
            )
        )
        exposure.add_trace(
            go.Scatter(x=xs, y=[exposures[i] for i in drawn], mode="lines", name=name)
        )
    equity.update_layout(height=560, margin={"t": 40})
    pnl.update_layout(height=360, margin={"t": 20}, yaxis_title="P&L", barmode="group")
    exposure.update_layout(height=320, margin={"t": 20}, yaxis_title="Gross exposure")
    return [
        ("Equity and drawdown", equity),
        ("P&L per trade", pnl),
        ("Exposure over time", exposure),
    ]
