"""``atlas futures``: the perpetual-futures venue of a journal, operated from the command line.

Here the account's side: ``tiers`` (show, or set from Binance's leverage-bracket JSON),
``leverage``, ``mode`` (isolated or cross), ``margin`` (add to or remove from an isolated
position) and ``positions``; the market's side (``mark``, ``funding-rate``, ``settle``, ``fund``,
``liquidations``) is in :mod:`atlas_oms.cli.futures_market`. Tables round prices to the tick;
``--json`` prints exact decimal strings.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.cli import futures_market
from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.futures_report import (
    cross_margin_table,
    position_json,
    positions_table,
    tiers_json,
    tiers_table,
)
from atlas_oms.cli.on_either import actor_of, either_options, number, run_either, server_ticks
from atlas_oms.cli.on_journal import derivative, known_account, run_on_journal, ticks
from atlas_oms.cli.options import (
    UsageError,
    by,
    decimal_arg,
    group_help,
    journal_option,
    json_option,
    print_json,
)
from atlas_oms.cli.tables import fmt, grouped, utc
from atlas_oms.core.views import PositionView
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.margin import MarginTier
from atlas_oms.runtime.node import Node
from atlas_oms.store.reference import load_brackets

__all__ = ["add_parser"]


def _cross_margin(node: Node, views: Sequence[PositionView]) -> list[dict[str, Any]]:
    """The cross-margin figures of every (account, settlement asset) among ``views``."""
    pairs: set[tuple[str, str]] = set()
    for v in views:
        inst = node.instrument(v.symbol)
        if v.margin_mode == "CROSS" and inst is not None:
            pairs.add((v.account_id, inst.settle_asset))
    return [
        {"account_id": a, "asset": asset, **node.account_margin(a, asset)}
        for a, asset in sorted(pairs)
    ]


def _settle_asset(node: Node, symbol: str) -> str:
    inst = node.instrument(symbol)
    return inst.settle_asset if inst is not None else ""


def _tiers_file(args: argparse.Namespace, inst_name: str) -> tuple[str, list[MarginTier]]:
    """The entry of ``--file`` to use (its name) and its tiers; a UsageError naming the trouble."""
    name = args.binance_symbol or inst_name
    try:
        tables = load_brackets(args.file)
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    except (ValueError, msgspec.MsgspecError) as exc:
        raise UsageError(f"{args.file} is not a Binance leverage-bracket file: {exc}") from None
    if name not in tables:
        raise UsageError(
            f"{args.file} has no brackets for {name} (it has {', '.join(sorted(tables))}): "
            "name one with --binance-symbol"
        )
    return name, list(tables[name])


def _print_tiers(
    args: argparse.Namespace, where: dict[str, str], symbol: str, source: str, tiers: Any
) -> int:
    """The tier table read (``source`` set or default) or just set (``source`` the file entry)."""
    if args.file is None:
        if args.json:
            print_json(where | {"symbol": symbol, "source": source, "tiers": tiers_json(tiers)})
            return 0
        what = "" if source == "set" else " (none set: the engine's default single tier)"
        print(f"Margin tiers of {symbol} in {next(iter(where.values()))}{what}")
        print(tiers_table(tiers))
        return 0
    if args.json:
        print_json({"symbol": symbol, "source": source, "tiers": tiers_json(tiers)})
        return 0
    print(f"margin tiers of {symbol} set from {args.file} ({source}) {by(args.actor, args.reason)}")
    print(tiers_table(tiers))
    return 0


def cmd_tiers(args: argparse.Namespace, ctx: Context) -> int:
    """Show a symbol's margin tiers, or set them from a Binance leverage-bracket file."""

    def check() -> None:
        if args.file is None and (args.actor or args.reason or args.binance_symbol):
            raise UsageError("--binance-symbol, --actor and --reason go with --file")

    def offline(node: Node) -> int:
        check()
        inst = derivative(node, args.symbol)
        where = {"journal": args.journal}
        if args.file is None:
            source = "set" if inst.margin_tiers is not None else "default"
            return _print_tiers(args, where, inst.symbol, source, node.margin_tiers(inst.symbol))
        if not args.actor:
            raise UsageError("setting tiers needs --actor WHO")
        name, tiers = _tiers_file(args, f"{inst.base}{inst.quote}")
        node.set_margin_tiers(inst.symbol, tiers, actor=args.actor, reason=args.reason)
        return _print_tiers(args, where, inst.symbol, name, node.margin_tiers(inst.symbol))

    def online(client: AtlasClient) -> int:
        check()
        path = f"/v1/instruments/{args.symbol}/margin-tiers"
        if args.file is None:
            data = client.request("GET", path).data
            tiers = msgspec.convert(data["tiers"], list[MarginTier], strict=False)
            where = {"server": client.url}
            return _print_tiers(args, where, data["symbol"], data["source"], tiers)
        inst = client.request("GET", "/v1/instruments").data
        found = next((i for i in inst if i["symbol"] == args.symbol), None)
        name, tiers = _tiers_file(
            args, f"{found['base']}{found['quote']}" if found else args.symbol
        )
        body = {"tiers": msgspec.to_builtins(tiers), "source": name, "reason": args.reason}
        data = client.request("PUT", path, json=body).data
        args.actor = actor_of(client)
        tiers = msgspec.convert(data["tiers"], list[MarginTier], strict=False)
        return _print_tiers(args, {}, data["symbol"], name, tiers)

    return run_either(args, ctx, offline, online, readonly=args.file is None)


def _print_leverage(args: argparse.Namespace, cap: Decimal | None, settle_asset: str) -> int:
    if args.json:
        print_json(
            {
                "account_id": args.account,
                "symbol": args.symbol,
                "leverage": args.leverage,
                "max_notional": cap,
            }
        )
        return 0
    limit = "no notional cap" if cap is None else f"positions up to {grouped(cap)}"
    print(
        f"leverage of {args.account} on {args.symbol} set to {fmt(args.leverage)}x: {limit} "
        f"{settle_asset} of notional"
    )
    return 0


def cmd_leverage(args: argparse.Namespace, ctx: Context) -> int:
    """Set an account's leverage on a symbol; print the notional it allows."""

    def offline(node: Node) -> int:
        node.set_leverage(args.account, args.symbol, args.leverage)
        cap = node.max_position_notional(args.symbol, args.leverage)
        return _print_leverage(args, cap, _settle_asset(node, args.symbol))

    def online(client: AtlasClient) -> int:
        body = {"symbol": args.symbol, "leverage": str(args.leverage)}
        data = client.request("PUT", f"/v1/accounts/{args.account}/leverage", json=body).data
        return _print_leverage(args, number(data["max_notional"]), data["settle_asset"])

    return run_either(args, ctx, offline, online)


def _print_mode(args: argparse.Namespace) -> int:
    if args.json:
        print_json({"account_id": args.account, "symbol": args.symbol, "margin_mode": args.mode})
        return 0
    how = "on its own" if args.mode == "ISOLATED" else "by the whole account"
    print(f"{args.account}'s {args.symbol} position is margined {args.mode} ({how})")
    return 0


def cmd_mode(args: argparse.Namespace, ctx: Context) -> int:
    """Margin a symbol ISOLATED or CROSS."""

    def offline(node: Node) -> int:
        node.set_margin_mode(args.account, args.symbol, args.mode)
        return _print_mode(args)

    def online(client: AtlasClient) -> int:
        body = {"symbol": args.symbol, "mode": args.mode}
        client.request("PUT", f"/v1/accounts/{args.account}/margin-mode", json=body)
        return _print_mode(args)

    return run_either(args, ctx, offline, online)


def _print_margin(
    args: argparse.Namespace,
    view: PositionView | None,
    settle_asset: str,
    tick_sizes: Callable[[], dict[str, Decimal]],
) -> int:
    if args.json:
        print_json(
            {
                "account_id": args.account,
                "symbol": args.symbol,
                "action": args.action,
                "amount": args.amount,
                "position": position_json(view) if view is not None else None,
            }
        )
        return 0
    way = "added to" if args.action == "add" else "removed from"
    print(f"{fmt(args.amount)} {settle_asset} {way} {args.account}'s isolated {args.symbol} margin")
    if view is not None:
        print(positions_table([view], tick_sizes()))
    return 0


def cmd_margin(args: argparse.Namespace, ctx: Context) -> int:
    """Add margin to, or remove it from, an isolated position."""

    def offline(node: Node) -> int:
        side = PositionSide(args.side) if args.side else None
        move = node.add_margin if args.action == "add" else node.remove_margin
        move(args.account, args.symbol, args.amount, side)
        view = node.position(args.account, args.symbol, side or PositionSide.BOTH)
        return _print_margin(args, view, _settle_asset(node, args.symbol), lambda: ticks(node))

    def online(client: AtlasClient) -> int:
        body = {"symbol": args.symbol, "action": args.action, "amount": str(args.amount)}
        if args.side:
            body["position_side"] = args.side
        path = f"/v1/accounts/{args.account}/isolated-margin"
        data = client.request("POST", path, json=body).data
        found = data["position"]
        view = None if found is None else msgspec.convert(found, PositionView, strict=False)
        return _print_margin(args, view, data["settle_asset"], lambda: server_ticks(client))

    return run_either(args, ctx, offline, online)


def cmd_positions(args: argparse.Namespace, ctx: Context) -> int:
    """Derivative positions: margin, margin ratio, liquidation and bankruptcy prices."""

    def action(node: Node) -> int:
        known_account(node, args.account, args.journal)
        views = [v for v in node.positions(args.account) if v.margin_mode is not None]
        cross = _cross_margin(node, views)
        now = node.clock.now()
        if args.json:
            print_json(
                {
                    "journal": args.journal,
                    "as_of": now,
                    "positions": [position_json(v) for v in views],
                    "cross_margin": cross,
                }
            )
            return 0
        who = f", account {args.account}" if args.account else ""
        print(f"Derivative positions in {args.journal} at {utc(now)}{who}")
        print(positions_table(views, ticks(node)))
        if cross:
            print("Cross margin (per account and settlement asset; liquidation at 100%):")
            print(cross_margin_table(cross))
        return 0

    return run_on_journal(args, ctx, action, readonly=True)


def _account_parsers(fsub: Any) -> None:
    tiers = fsub.add_parser(
        "tiers",
        help="show a symbol's margin tiers, or set them from a Binance leverage-bracket file",
        description="With --file: load Binance's leverage-bracket JSON "
        '([{"symbol": "BTCUSDT", "brackets": [...]}]) and set the symbol\'s tiers (journaled, '
        "needs --actor). Without: print the current table.",
    )
    tiers.add_argument("symbol", metavar="SYMBOL", help="the perpetual, e.g. BTC/USDT:USDT")
    tiers.add_argument("--file", metavar="FILE", help="Binance leverage-bracket JSON to load")
    tiers.add_argument(
        "--binance-symbol",
        metavar="NAME",
        help="the entry of FILE to use (default: base and quote, e.g. BTCUSDT)",
    )
    journal_option(tiers)
    tiers.add_argument("--actor", metavar="WHO", help="who sets them (journaled; with --file)")
    tiers.add_argument("--reason", default="", metavar="WHY", help="why (journaled; optional)")
    json_option(tiers)
    either_options(tiers)
    tiers.set_defaults(func=cmd_tiers)

    lev = fsub.add_parser("leverage", help="set an account's leverage on a symbol")
    lev.add_argument("account", metavar="ACCOUNT")
    lev.add_argument("symbol", metavar="SYMBOL")
    lev.add_argument("leverage", type=decimal_arg, metavar="N", help="e.g. 20 for 20x")
    journal_option(lev)
    json_option(lev)
    either_options(lev)
    lev.set_defaults(func=cmd_leverage)

    mode = fsub.add_parser(
        "mode", help="margin a symbol ISOLATED or CROSS (no position or open orders there)"
    )
    mode.add_argument("account", metavar="ACCOUNT")
    mode.add_argument("symbol", metavar="SYMBOL")
    mode.add_argument(
        "mode", type=str.upper, choices=("ISOLATED", "CROSS"), metavar="isolated|cross"
    )
    journal_option(mode)
    json_option(mode)
    either_options(mode)
    mode.set_defaults(func=cmd_mode)

    margin = fsub.add_parser("margin", help="add margin to or remove it from an isolated position")
    margin.add_argument("action", choices=("add", "remove"), metavar="add|remove")
    margin.add_argument("account", metavar="ACCOUNT")
    margin.add_argument("symbol", metavar="SYMBOL")
    margin.add_argument(
        "amount", type=decimal_arg, metavar="AMOUNT", help="in the settlement asset"
    )
    margin.add_argument(
        "--side",
        type=str.upper,
        choices=("LONG", "SHORT"),
        help="the position side (hedge-mode accounts)",
    )
    journal_option(margin)
    json_option(margin)
    either_options(margin)
    margin.set_defaults(func=cmd_margin)

    positions = fsub.add_parser(
        "positions", help="derivative positions: margin, margin ratio, liquidation prices"
    )
    positions.add_argument("account", nargs="?", metavar="ACCOUNT", help="only this account")
    journal_option(positions, readonly=True)
    json_option(positions)
    positions.set_defaults(func=cmd_positions)


def add_parser(sub: Any) -> None:
    """``atlas futures ACTION``."""
    fut = sub.add_parser(
        "futures",
        help="the perpetual-futures venue on a journal: tiers, leverage, margin, marks, "
        "liquidations, the insurance fund",
    )
    fut.set_defaults(func=group_help(fut))
    fsub = fut.add_subparsers(dest="futures_command", metavar="ACTION")
    _account_parsers(fsub)
    futures_market.add_parsers(fsub)
