"""A run's result files: per account its round trips (``<account>.trades.jsonl``), fills
(``<account>.fills.jsonl``) and equity curve (``<account>.equity.csv``), and ``summary.json``.

Numbers are strings at the instrument's precision (prices at its tick size, quantities at its lot
size, money at the quote's tick size), never in exponent notation. The summary holds what this
module computes itself (capital, final equity, P&L, fills, trades, fees, the accounts'
correlation) and, under ``"stats"``, the statistics of ``backtest/stats.py::summarize_runs`` per
account, per strategy and in total; :func:`write_report` writes the HTML report
(``backtest/report.py``).
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from atlas_oms.backtest import report, stats
from atlas_oms.backtest.records import FillRecord, TradeRecord
from atlas_oms.backtest.results import AccountRun
from atlas_oms.backtest.runner import BacktestResult

__all__ = ["fmt", "summary", "write_report", "write_results"]

_ZERO = Decimal(0)


def fmt(value: Decimal | None, step: Decimal | None = None) -> str | None:
    """``value`` as plain decimal text (never ``1E+3``), rounded to ``step``'s places if given."""
    if value is None:
        return None
    if step is not None:
        exp = step.normalize().as_tuple().exponent
        places = -exp if isinstance(exp, int) and exp < 0 else 0
        value = value.quantize(Decimal(1).scaleb(-places))
    if value.is_zero():
        value = value.copy_abs()  # never "-0.00"
    return format(value, "f")


def _steps(result: BacktestResult, symbol: str | None) -> tuple[Decimal | None, Decimal | None]:
    inst = result.instruments.get(symbol) if symbol else None
    if inst is None and result.instruments:
        inst = next(iter(result.instruments.values()))
    return (inst.tick_size, inst.lot_size) if inst is not None else (None, None)


def money_step(result: BacktestResult) -> Decimal | None:
    return _steps(result, None)[0]


def trade_row(t: TradeRecord, result: BacktestResult) -> dict[str, Any]:
    tick, lot = _steps(result, t.symbol)
    return {
        "account_id": t.account_id,
        "strategy": t.strategy,
        "symbol": t.symbol,
        "side": t.side.value,
        "qty": fmt(t.qty, lot),
        "entry_price": fmt(t.entry_price, tick),
        "exit_price": fmt(t.exit_price, tick),
        "opened_ts": t.opened_ts,
        "closed_ts": t.closed_ts,
        "pnl": fmt(t.pnl, tick),
        "fees": fmt(t.fees, tick),
        "trade_id": t.trade_id,
        "tranche_pnl": {k: fmt(v, tick) for k, v in t.tranche_pnl.items()},
    }


def fill_row(f: FillRecord, result: BacktestResult) -> dict[str, Any]:
    tick, lot = _steps(result, f.symbol)
    return {
        "account_id": f.account_id,
        "strategy": f.strategy,
        "symbol": f.symbol,
        "order_id": f.order_id,
        "side": f.side.value,
        "qty": fmt(f.qty, lot),
        "price": fmt(f.price, tick),
        "fee": fmt(f.fee),
        "fee_asset": f.fee_asset,
        "liquidity": f.liquidity,
        "ts": f.ts,
        "reference_price": fmt(f.reference_price, tick),
        "slippage": fmt(f.slippage),
        "trade_id": f.trade_id,
        "tranche": f.tranche,
    }


def summary(result: BacktestResult) -> dict[str, Any]:
    """The summary JSON's content (minimal; ``stats`` adds the statistics when present)."""
    step = money_step(result)
    accounts: dict[str, Any] = {}
    for name, acct in result.accounts.items():
        final = acct.final_equity
        fees = sum((_fee_in_quote(f, result) for f in acct.fills), _ZERO)
        wins = sum(1 for t in acct.trades if t.pnl > 0)
        peak = _ZERO
        max_dd = _ZERO
        for p in acct.equity:
            peak = max(peak, p.equity)
            if peak and (peak - p.equity) > max_dd:
                max_dd = peak - p.equity
        accounts[name] = {
            "strategy": acct.strategy,
            "capital": fmt(acct.capital, step),
            "final_equity": fmt(final, step),
            "pnl": fmt(final - acct.capital, step),
            "return_pct": fmt((final / acct.capital - 1) * 100, Decimal("0.0001"))
            if acct.capital
            else None,
            "max_drawdown": fmt(max_dd, step),
            "fills": len(acct.fills),
            "trades": len(acct.trades),
            "wins": wins,
            "fees": fmt(fees, step),
        }
    out: dict[str, Any] = {
        "start_ns": result.start_ns,
        "end_ns": result.end_ns,
        "events": result.events,
        "bars": result.bars,
        "quote": result.quote,
        "journal_events": result.journal_events,
        "digest": result.digest,
        "accounts": accounts,
        "correlation": result.correlation,
        "executor": result.executor,
        "stress": list(result.stress),
        "fills": result.fills,
    }
    out["stats"] = _jsonable(run_summary(result), step)
    return out


def run_summary(result: BacktestResult) -> stats.RunSummary:
    """The run's statistics (computed once per result: the summary file and the report share
    them)."""
    if result.statistics is None:
        result.statistics = stats.summarize_runs(account_runs(result))
    summary: stats.RunSummary = result.statistics
    return summary


def _fee_in_quote(f: FillRecord, result: BacktestResult) -> Decimal:
    inst = result.instruments.get(f.symbol)
    return f.fee * f.price if inst is not None and f.fee_asset == inst.base else f.fee


def account_runs(result: BacktestResult) -> dict[str, AccountRun]:
    """The accounts as ``backtest/results.py::AccountRun``: what ``stats.summarize_runs`` and
    ``report.write_report`` take."""
    params = {
        "symbols": ", ".join(sorted(result.instruments)),
        "events": str(result.events),
        "bars": str(result.bars),
    }
    return {
        name: AccountRun(
            strategy=acct.strategy,
            starting_capital=acct.capital,
            fills=tuple(acct.fills),
            trades=tuple(acct.trades),
            equity=tuple(acct.equity),
            params=params,
        )
        for name, acct in result.accounts.items()
    }


def _jsonable(value: Any, step: Decimal | None = None) -> Any:
    """Plain JSON data; Decimals (money amounts in the statistics) as strings at ``step``."""
    if isinstance(value, Decimal):
        return fmt(value, step)
    if isinstance(value, dict):
        return {str(k): _jsonable(v, step) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, step) for v in value]
    if hasattr(value, "__struct_fields__"):
        return {k: _jsonable(getattr(value, k), step) for k in value.__struct_fields__}
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k), step) for k in value.__dataclass_fields__}
    return value


def write_results(result: BacktestResult, out_dir: str | Path) -> list[Path]:
    """Write the result files into ``out_dir`` (created); return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    step = money_step(result)
    for name, acct in result.accounts.items():
        trades = out / f"{name}.trades.jsonl"
        with trades.open("w") as fh:
            for t in acct.trades:
                fh.write(json.dumps(trade_row(t, result), sort_keys=True) + "\n")
        fills = out / f"{name}.fills.jsonl"
        with fills.open("w") as fh:
            for f in acct.fills:
                fh.write(json.dumps(fill_row(f, result), sort_keys=True) + "\n")
        equity = out / f"{name}.equity.csv"
        with equity.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["ts", "equity", "exposure"])
            for p in acct.equity:
                w.writerow([p.ts, fmt(p.equity, step), fmt(p.exposure, step)])
        written += [trades, fills, equity]
    path = out / "summary.json"
    path.write_text(json.dumps(summary(result), indent=2, sort_keys=True) + "\n")
    written.append(path)
    return written


def write_report(result: BacktestResult, path: str | Path, title: str = "Backtest") -> Path:
    """Write the run's self-contained HTML report (``backtest/report.py``) to ``path``."""
    return Path(
        report.write_report(
            Path(path),
            title=title,
            accounts=account_runs(result),
            money_step=money_step(result),
            summary=run_summary(result),
            executor=result.executor,
            stress=result.stress,
        )
    )
