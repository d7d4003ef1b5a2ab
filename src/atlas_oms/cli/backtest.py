"""``atlas backtest``: run strategies over data files and write the result files (and the report).

    atlas backtest --strategy examples/strategies/sma_crossover.py:SmaCrossover \\
        --data examples/data/BTCUSDT-1m-sample.csv --account demo=10000 --out out/ [--no-report]

or ``atlas backtest --config backtest.yaml`` naming all of it (paths in it are relative to the
file's folder)::

    data: [examples/data/BTCUSDT-1m-sample.csv]      # or [{path: ..., symbol: ..., kind: bars}]
    symbol: BTCUSDT                                    # when the file names do not say it
    capital: 20000                                     # the total capital ...
    allocation: {acct-a: 0.6, acct-b: 0.4}             # ... shared out (seed 002 phase 16)
    accounts:
      acct-a: {strategy: strategies/sma.py:SmaCrossover, params: {fast: 5}}
      acct-b: {strategy: strategies/breakout.py:BreakoutIntents}
    fills: fills.yaml                                  # or the fill settings inline
    stress: [conservative, "gap:2024-01-02T00:00:-5"]  # stress scenarios (also --stress)
    out: out/
    journal: run.journal                               # optional: keep the journal to audit
    report: true                                       # the HTML report (the default)

Command-line options override the file's. Exit codes: 0 done; 2 misused (a missing option); 78
(``EXIT_CONFIG``) a wrong configuration (config file, fill settings, strategy, accounts); 65
(``EX_DATAERR``, the same code as a damaged journal) a data file that cannot be read.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from atlas_oms.cli.context import Context
from atlas_oms.cli.exit_codes import EXIT_CONFIG, EXIT_JOURNAL_DAMAGED

__all__ = ["EXIT_BAD_DATA", "add_parser", "cmd_backtest"]

#: A data file that cannot be read (EX_DATAERR, the code of a damaged journal too).
EXIT_BAD_DATA = EXIT_JOURNAL_DAMAGED


class _Misuse(Exception):
    pass


def _decimal(text: Any, what: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise ValueError(f"{what}: not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what}: must be a non-negative number, got {text!r}")
    return value


def _param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"--param {text!r}: expected KEY=VALUE")
    import yaml

    return key.strip(), yaml.safe_load(value)


def _plan(args: argparse.Namespace) -> dict[str, Any]:
    """Merge the config file (if any) and the options into one plan."""
    import yaml

    plan: dict[str, Any] = {}
    base = Path(".")
    if args.config:
        path = Path(args.config)
        try:
            loaded = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise ValueError(f"--config {path}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ValueError(f"--config {path}: not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"--config {path}: expected a mapping at the top")
        known = {
            "data",
            "symbol",
            "interval",
            "capital",
            "allocation",
            "accounts",
            "fills",
            "out",
            "journal",
            "report",
            "strategy",
            "params",
            "policy",
            "stress",
        }
        unknown = set(loaded) - known
        if unknown:
            raise ValueError(f"--config {path}: unknown keys {sorted(unknown)}")
        plan.update(loaded)
        base = path.parent

    def rel(p: str) -> str:
        q = Path(p)
        return str(q if q.is_absolute() else base / q)

    data: list[dict[str, Any]] = []
    for d in plan.get("data") or []:
        spec = {"path": d} if isinstance(d, str) else dict(d)
        spec["path"] = rel(str(spec["path"]))
        data.append(spec)
    for d in args.data or []:
        data.append({"path": d})
    plan["data"] = data
    for key in ("symbol", "interval", "journal", "out"):
        value = getattr(args, key, None)
        if value:
            plan[key] = value
        elif key in ("journal", "out") and plan.get(key):
            plan[key] = rel(str(plan[key]))
    if args.fills:
        plan["fills"] = args.fills
    elif isinstance(plan.get("fills"), str):
        plan["fills"] = rel(plan["fills"])
    if args.capital is not None:
        plan["capital"] = args.capital
    if args.allocation:
        alloc = {}
        for a in args.allocation:
            name, sep, share = a.partition("=")
            if not sep:
                raise ValueError(f"--allocation {a!r}: expected NAME=SHARE")
            alloc[name] = share
        plan["allocation"] = alloc
    accounts: dict[str, dict[str, Any]] = {}
    for name, spec in (plan.get("accounts") or {}).items():
        spec = {"strategy": spec} if isinstance(spec, str) else dict(spec or {})
        if isinstance(spec.get("strategy"), str) and ".py:" in spec["strategy"]:
            spec["strategy"] = rel(spec["strategy"])
        accounts[str(name)] = spec
    for a in args.account or []:
        name, sep, capital = a.partition("=")
        spec = accounts.setdefault(name, {})
        if sep:
            spec["capital"] = capital
    strategy = args.strategy or plan.get("strategy")
    params = dict(plan.get("params") or {})
    params.update(dict(_param(p) for p in args.param or []))
    for spec in accounts.values():
        spec.setdefault("strategy", strategy)
        if params and "params" not in spec:
            spec["params"] = params
    plan["accounts"] = accounts
    if args.report is not None:
        plan["report"] = args.report
    stress = plan.get("stress") or []
    if not isinstance(stress, list):
        stress = [stress]
    plan["stress"] = [*stress, *(args.stress or [])]
    return plan


def cmd_backtest(args: argparse.Namespace, ctx: Context) -> int:
    """Run the backtest the options (or ``--config``) describe; write its files; print a summary."""
    from atlas_oms.backtest.data import DataError
    from atlas_oms.backtest.output import write_report, write_results
    from atlas_oms.backtest.runner import AccountSpec, Backtest, BacktestConfigError, DataSpec
    from atlas_oms.backtest.strategy import StrategyLoadError

    name = "atlas backtest"
    try:
        plan = _plan(args)
    except ValueError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    missing = [
        opt
        for opt, ok in (
            ("--data", plan["data"]),
            ("--account", plan["accounts"]),
            ("--out", plan.get("out")),
        )
        if not ok
    ]
    if not missing and any(not s.get("strategy") for s in plan["accounts"].values()):
        missing.append("--strategy")
    if missing:
        print(f"{name}: missing {', '.join(missing)} (or name them in --config)", file=sys.stderr)
        return 2
    try:
        accounts = [
            AccountSpec(
                name=acct,
                strategy=str(spec["strategy"]),
                capital=_decimal(spec["capital"], f"account {acct}")
                if spec.get("capital") not in (None, "")
                else None,
                params=dict(spec.get("params") or {}),
            )
            for acct, spec in plan["accounts"].items()
        ]
        allocation = {
            k: _decimal(v, f"allocation {k}") for k, v in (plan.get("allocation") or {}).items()
        }
        capital = _decimal(plan["capital"], "capital") if plan.get("capital") is not None else None
        data = [
            DataSpec(
                path=d["path"],
                symbol=d.get("symbol") or plan.get("symbol"),
                kind=d.get("kind", "auto"),
                interval=d.get("interval") or plan.get("interval"),
            )
            for d in plan["data"]
        ]
        backtest = Backtest(
            accounts,
            data=data,
            symbol=plan.get("symbol"),
            total_capital=capital,
            allocation=allocation,
            fills=plan.get("fills"),
            journal=plan.get("journal"),
            progress=False if args.quiet else None,
            policy_overrides=plan.get("policy"),
            stress=plan["stress"],
        )
        t0 = time.perf_counter()
        result = backtest.run()
        wall = time.perf_counter() - t0
    except DataError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_BAD_DATA
    except (BacktestConfigError, StrategyLoadError, ValueError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    out = Path(plan["out"])
    written = write_results(result, out)
    report = write_report(result, out / "report.html") if plan.get("report", True) else None
    if result.node is not None:
        result.node.close()
    if not args.quiet:
        from atlas_oms.backtest.output import fmt, money_step

        step = money_step(result)

        rate = result.events / result.elapsed_s if result.elapsed_s else 0.0
        print(
            f"{result.events} events ({result.bars} bars) in {wall:.2f}s "
            f"({rate:,.0f} events/s in the loop); {result.journal_events} journal events"
        )
        for line in result.stress:
            print(f"  stress: {line}")
        for acct in result.accounts.values():
            print(
                f"  {acct.account_id} ({acct.strategy}): capital {fmt(acct.capital, step)} -> "
                f"{fmt(acct.final_equity, step)} {result.quote}, {len(acct.trades)} trades, "
                f"{len(acct.fills)} fills"
            )
        for path in [*written, *([report] if report else [])]:
            print(f"  wrote {path}")
    return 0


def add_parser(sub: Any) -> None:
    """``atlas backtest``."""
    p = sub.add_parser(
        "backtest",
        help="run strategies over data files; write trades, equity and a summary",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", metavar="FILE.yaml", help="a backtest file naming all of it")
    p.add_argument("--strategy", metavar="FILE.py:Class", help="the strategy (or module:Class)")
    p.add_argument(
        "--param", action="append", metavar="KEY=VALUE", help="a strategy parameter (repeat)"
    )
    p.add_argument("--data", action="append", metavar="FILE", help="a data file (repeat)")
    p.add_argument("--symbol", help="the symbol when the file name does not say it")
    p.add_argument("--interval", help="the bar interval (1m, 1h...) when not inferred")
    p.add_argument(
        "--account",
        action="append",
        metavar="NAME[=CAPITAL]",
        help="an account running the strategy, with its capital (repeat)",
    )
    p.add_argument("--capital", help="the total capital, shared by --allocation (or equally)")
    p.add_argument(
        "--allocation", action="append", metavar="NAME=SHARE", help="an account's share (0..1)"
    )
    p.add_argument("--fills", metavar="FILE.yaml", help="the simulated venue's fill settings")
    p.add_argument(
        "--stress",
        action="append",
        metavar="SCENARIO",
        help="a stress scenario (repeat): conservative[:K], gap:AT:PCT, halt:FROM:TO "
        "(AT/FROM/TO: ns or ISO time, UTC)",
    )
    p.add_argument("--journal", metavar="PATH", help="keep the run's journal there")
    p.add_argument("--out", metavar="DIR", help="where the result files go")
    p.add_argument(
        "--report",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the self-contained HTML report report.html (the default; --no-report: not)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary lines")
    p.set_defaults(func=cmd_backtest)
