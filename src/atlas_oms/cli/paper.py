"""``atlas paper``: run strategies in paper mode, the same ones and the same way as ``atlas
backtest`` (the same options and config file), on market data that arrives as it happens:

    # a venue's public market data (no key): Binance spot, or USDⓈ-M with binanceusdm
    atlas paper --venue binance --symbol BTC/USDT --bars 1m \\
        --strategy examples/strategies/sma_crossover.py:SmaCrossover \\
        --account demo=10000 --out out/paper --record out/feed.jsonl [--duration 600]

    # a recorded feed played back (--speed 0: as fast as it goes; 60: a minute a second)
    atlas paper --feed out/feed.jsonl --speed 0 --strategy ... --account demo=10000 --out out/p2

``--bars 1m`` builds bars from the ticks (trade prices; book mids when a bar has no trade) and
gives the session those instead, so a bar strategy runs unchanged, on the data a backtest on bar
files sees. ``--base-url URL`` (and ``--ws-url``) point at another host than the venue's own: its testnet, or
the fake (``python -m atlas_oms.fakes.binance``). The session runs until Ctrl-C or SIGTERM, or
``--duration`` seconds, or ``--until-events`` market events, or the end of a recorded feed; it
then finishes the event it is on, calls the strategies' ``on_stop``, writes the same result files
as a backtest (per-account trades, fills and equity, ``summary.json``, ``report.html``) and exits
0.

``--record FILE`` writes every market event the session applied to FILE (a line each, flushed as
it goes) and the instruments beside it (``FILE.instruments.json``): ``atlas backtest --feed
FILE`` then runs the same strategies over the same data, and makes the same decisions, event for
event (the clock of both is the events' time: ``backtest/paper.py``).

Exit codes as ``atlas backtest``: 0 done; 2 misused; 78 a wrong configuration; 65 a feed that
cannot be read; 69 (``EX_UNAVAILABLE``) a venue that cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from atlas_oms.cli.backtest import (
    EXIT_BAD_DATA,
    _plan,
    add_run_options,
    finish,
    missing_options,
    run_settings,
)
from atlas_oms.cli.context import Context
from atlas_oms.cli.exit_codes import EXIT_CONFIG

__all__ = ["EXIT_UNAVAILABLE", "add_parser", "cmd_paper"]

#: The venue's market data cannot be had (EX_UNAVAILABLE).
EXIT_UNAVAILABLE = 69


class _Unavailable(Exception):
    pass


def cmd_paper(args: argparse.Namespace, ctx: Context) -> int:
    """Run the paper session the options describe; write its files; print a summary."""
    from atlas_oms.backtest.runner import BacktestConfigError
    from atlas_oms.backtest.strategy import StrategyLoadError

    name = "atlas paper"
    try:
        plan = _plan(args)
    except ValueError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    feed, venue = plan.get("feed"), args.venue
    if bool(feed) == bool(venue):
        print(f"{name}: give one source: --feed FILE or --venue VENUE", file=sys.stderr)
        return 2
    missing = missing_options(plan, None)
    if venue and not plan.get("symbol"):
        missing.append("--symbol")
    if missing:
        print(f"{name}: missing {', '.join(missing)} (or name them in --config)", file=sys.stderr)
        return 2
    try:
        accounts, settings = run_settings(plan)
        t0 = time.perf_counter()
        result = asyncio.run(_session(args, plan, accounts, settings))
        wall = time.perf_counter() - t0
    except _Unavailable as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except OSError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_BAD_DATA
    except (BacktestConfigError, StrategyLoadError, ValueError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_BAD_DATA if feed and "not a market event" in str(exc) else EXIT_CONFIG
    finish(result, plan, wall=wall, quiet=args.quiet, what="market events", title="Paper session")
    return 0


async def _session(
    args: argparse.Namespace, plan: dict[str, Any], accounts: list[Any], settings: dict[str, Any]
) -> Any:
    """Open the source, run the session until it is told to stop, return its result."""
    from atlas_oms.backtest.paper import (
        PaperSession,
        from_price_ticks,
        monotonic,
        read_feed,
        read_instruments,
        recording,
        replay,
        write_instruments,
    )
    from atlas_oms.simulation.market import Bar, MarketEvent

    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.duration if args.duration else None
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    adapter: Any = None
    source: AsyncIterator[MarketEvent]
    try:
        if plan.get("feed"):
            events = read_feed(plan["feed"])
            instruments = read_instruments(plan["feed"])
            symbols = sorted({e.symbol for e in events})
            source = replay(events, args.speed)
        else:
            from atlas_oms.runtime.venue_setup import public_adapter

            symbols = [s.strip() for s in str(plan["symbol"]).split(",") if s.strip()]
            adapter = public_adapter(args.venue, rest_url=args.base_url, ws_url=args.ws_url)
            try:
                listed = await adapter.instruments()
            except Exception as exc:
                raise _Unavailable(f"{args.venue}: cannot list the instruments: {exc}") from None
            by_symbol = {vi.instrument.symbol: vi.instrument for vi in listed}
            unknown = [s for s in symbols if s not in by_symbol]
            if unknown:
                raise ValueError(f"{args.venue} does not list {', '.join(unknown)}")
            instruments = [by_symbol[s] for s in symbols]
            source = monotonic(from_price_ticks(adapter.prices(symbols)))
        if args.bars:
            from atlas_oms.backtest.data import parse_interval
            from atlas_oms.backtest.paper import bars_of

            source = bars_of(source, parse_interval(args.bars))
        if args.record:
            write_instruments(args.record, instruments)
            source = recording(source, args.record)

        async def next_event() -> MarketEvent | None:
            """The source's next event, or None when it ended or the session must stop."""
            getter = asyncio.ensure_future(anext(source, None))
            stopper = asyncio.ensure_future(stop.wait())
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait(
                {getter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            stopper.cancel()
            if getter in done:
                return getter.result()
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getter
            return None

        first = await next_event()
        start_ns = (
            time.time_ns()
            if first is None
            else (first.start_ns if isinstance(first, Bar) else first.ts)
        )
        session = PaperSession(
            accounts, symbols=symbols, start_ns=start_ns, instruments=instruments, **settings
        )

        async def stream() -> AsyncIterator[MarketEvent]:
            event = first
            while event is not None:
                yield event  # the session applies it before asking for the next one
                if stop.is_set() or (deadline is not None and loop.time() >= deadline):
                    return
                event = await next_event()

        await session.run(stream(), limit=args.until_events)
        session.stop()
        return session.result()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        with contextlib.suppress(Exception):
            await source.aclose()  # type: ignore[attr-defined]
        if adapter is not None:
            with contextlib.suppress(Exception):
                await adapter.close()


def add_parser(sub: Any) -> None:
    """``atlas paper``."""
    p = sub.add_parser(
        "paper",
        help="run strategies in paper mode on a venue's market data or a recorded feed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_options(p)
    p.add_argument("--feed", metavar="FILE.jsonl", help="a recorded feed to play back")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="a recorded feed's pace: its time gaps divided by this (0: no waiting; default 1)",
    )
    p.add_argument("--venue", choices=["binance", "binanceusdm"], help="a venue's public data")
    p.add_argument("--symbol", help="the venue's symbol(s), unified (BTC/USDT; a,b for several)")
    p.add_argument("--base-url", metavar="URL", help="the venue's REST host (testnet, fake)")
    p.add_argument("--ws-url", metavar="URL", help="its market data stream (default: from URL)")
    p.add_argument(
        "--bars",
        metavar="INTERVAL",
        help="give the strategies bars (1m, 5s...) built from the ticks, instead of the ticks",
    )
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--until-events", type=int, metavar="N", help="stop after N market events")
    p.add_argument("--record", metavar="FILE.jsonl", help="record the feed (atlas backtest --feed)")
    p.add_argument("--quiet", action="store_true", help="no summary lines")
    p.set_defaults(func=cmd_paper, interval=None)
