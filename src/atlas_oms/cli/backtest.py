"""``atlas backtest``: run strategies over data files and write the result files (and the report).

    atlas backtest --strategy examples/strategies/sma_crossover.py:SmaCrossover \\
        --data examples/data/BTCUSDT-1m-sample.csv --account demo=10000 --out out/ [--no-report]

or over a feed recorded by ``atlas paper --record FILE`` (with the venue's instruments kept beside
it in ``FILE.instruments.json``): ``atlas backtest --feed FILE ...``, the same data as the paper
session that recorded it, so the same decisions;

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

__all__ = [
    "EXIT_BAD_DATA",
    "add_parser",
    "add_run_options",
    "cmd_backtest",
    "finish",
    "missing_options",
    "run_settings",
]

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
            "feed",
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
    for d in getattr(args, "data", None) or []:
        data.append({"path": d})
    plan["data"] = data
    if getattr(args, "feed", None):
        plan["feed"] = args.feed
    elif plan.get("feed"):
        plan["feed"] = rel(str(plan["feed"]))
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


def run_settings(plan: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The accounts (``AccountSpec``) of a plan and the settings a ``Backtest`` or a
    ``PaperSession`` takes besides its data (capital, allocation, fills, journal, policy).
    Raises ``ValueError`` on a wrong number."""
    from atlas_oms.backtest.runner import AccountSpec

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
    if plan.get("journal"):
        Path(plan["journal"]).parent.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = {
        "total_capital": capital,
        "allocation": allocation,
        "fills": plan.get("fills"),
        "journal": plan.get("journal"),
        "policy_overrides": plan.get("policy"),
    }
    return accounts, settings


def missing_options(plan: dict[str, Any], data: str | None) -> list[str]:
    """The options a run cannot go without that the plan lacks (``data``: the name of the
    data option when the plan has no data, None when it has)."""
    missing = [
        opt
        for opt, ok in (
            (data or "", data is None),
            ("--account", plan["accounts"]),
            ("--out", plan.get("out")),
        )
        if not ok
    ]
    if not missing and any(not s.get("strategy") for s in plan["accounts"].values()):
        missing.append("--strategy")
    return missing


def finish(
    result: Any,
    plan: dict[str, Any],
    *,
    wall: float,
    quiet: bool,
    what: str = "events",
    title: str = "Backtest",
) -> list[Path]:
    """Write a run's result files (and the report unless the plan says not), close its node,
    print the summary (unless ``quiet``); return the files written."""
    from atlas_oms.backtest.output import fmt, money_step, write_report, write_results

    out = Path(plan["out"])
    written = write_results(result, out)
    if plan.get("report", True):
        written.append(write_report(result, out / "report.html", title=title))
    if result.node is not None:
        result.node.close()
    if not quiet:
        step = money_step(result)
        rate = result.events / result.elapsed_s if result.elapsed_s else 0.0
        print(
            f"{result.events} {what} ({result.bars} bars) in {wall:.2f}s "
            f"({rate:,.0f} events/s in the loop); {result.journal_events} journal events"
        )
        for line in getattr(result, "stress", ()):
            print(f"  stress: {line}")
        for acct in result.accounts.values():
            print(
                f"  {acct.account_id} ({acct.strategy}): capital {fmt(acct.capital, step)} -> "
                f"{fmt(acct.final_equity, step)} {result.quote}, {len(acct.trades)} trades, "
                f"{len(acct.fills)} fills"
            )
        for path in written:
            print(f"  wrote {path}")
    return written


def cmd_backtest(args: argparse.Namespace, ctx: Context) -> int:
    """Run the backtest the options (or ``--config``) describe; write its files; print a summary."""
    from atlas_oms.backtest.data import DataError
    from atlas_oms.backtest.runner import Backtest, BacktestConfigError, DataSpec
    from atlas_oms.backtest.strategy import StrategyLoadError

    name = "atlas backtest"
    try:
        plan = _plan(args)
    except ValueError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    has_data = bool(plan["data"] or plan.get("feed"))
    missing = missing_options(plan, None if has_data else "--data (or --feed)")
    if missing:
        print(f"{name}: missing {', '.join(missing)} (or name them in --config)", file=sys.stderr)
        return 2
    try:
        accounts, settings = run_settings(plan)
        data = [
            DataSpec(
                path=d["path"],
                symbol=d.get("symbol") or plan.get("symbol"),
                kind=d.get("kind", "auto"),
                interval=d.get("interval") or plan.get("interval"),
            )
            for d in plan["data"]
        ]
        events = None
        if plan.get("feed"):
            from atlas_oms.backtest.paper import read_feed, read_instruments

            try:
                events = read_feed(plan["feed"])
                settings["instruments"] = read_instruments(plan["feed"])
            except (OSError, ValueError) as exc:
                raise DataError("BAD_FEED", str(plan["feed"]), 0, str(exc)) from None
            if data:
                from atlas_oms.backtest.runner import load_events

                events = sorted([*events, *load_events(data, plan.get("symbol"))], key=_ts)
        backtest = Backtest(
            accounts,
            data=data,
            events=events,
            symbol=plan.get("symbol"),
            progress=False if args.quiet else None,
            stress=plan["stress"],
            **settings,
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
    finish(result, plan, wall=wall, quiet=args.quiet)
    return 0


def _ts(event: Any) -> int:
    return int(event.ts)


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The options ``atlas backtest`` and ``atlas paper`` share (strategies, accounts, capital,
    fills, journal, results)."""
    p.add_argument("--config", metavar="FILE.yaml", help="a run file naming all of it")
    p.add_argument("--strategy", metavar="FILE.py:Class", help="the strategy (or module:Class)")
    p.add_argument(
        "--param", action="append", metavar="KEY=VALUE", help="a strategy parameter (repeat)"
    )
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


def add_parser(sub: Any) -> None:
    """``atlas backtest``."""
    p = sub.add_parser(
        "backtest",
        help="run strategies over data files; write trades, equity and a summary",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_options(p)
    p.add_argument("--data", action="append", metavar="FILE", help="a data file (repeat)")
    p.add_argument(
        "--feed", metavar="FILE.jsonl", help="a recorded feed (atlas paper --record) as data"
    )
    p.add_argument("--symbol", help="the symbol when the file name does not say it")
    p.add_argument("--interval", help="the bar interval (1m, 1h...) when not inferred")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary lines")
    p.set_defaults(func=cmd_backtest)
