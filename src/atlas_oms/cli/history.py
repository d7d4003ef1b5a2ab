"""``atlas positions --closed``, ``atlas positions --stats`` and ``atlas pnl``: an account's history on a running server.

Closed positions (round trips from flat to flat, with entry and exit averages, realized P&L,
fees and funding) and the P&L history (each fill, fee and funding payment with running totals;
``--equity``: the equity after each booking event), a page at a time (``--after-seq``,
``--limit``), as tables or (``--json``) the server's JSON as it came.
"""

from __future__ import annotations

import argparse
from typing import Any

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_server import account_of, run_online, show
from atlas_oms.cli.options import account_option, server_options
from atlas_oms.cli.tables import cell, fmt, render, utc

__all__ = [
    "add_parser",
    "closed_table",
    "cmd_closed",
    "cmd_pnl",
    "cmd_position_stats",
    "page_options",
    "position_stats_text",
]


def _more(data: dict[str, Any]) -> str:
    after = data.get("next_after_seq")
    return "" if after is None else f"\nmore: --after-seq {after}"


def closed_table(positions: list[dict[str, Any]]) -> str:
    """Closed positions as the server sent them, one row each."""
    headers = ["symbol", "side", "qty", "entry avg", "exit avg", "realized", "fees", "funding"]
    headers += ["opened", "closed"]
    rows = [
        [
            p["symbol"],
            p["side"],
            cell(p["qty"]),
            cell(p["entry_avg_px"]),
            cell(p["exit_avg_px"]),
            cell(p["realized_pnl"]),
            cell(p["fees"]),
            cell(p["funding"]),
            utc(p["opened_ts"]),
            utc(p["closed_ts"]),
        ]
        for p in positions
    ]
    return render(headers, rows, align="llrrrrrrll")


def cmd_closed(args: argparse.Namespace, ctx: Context) -> int:
    """The account's closed positions, oldest close first."""

    def action(client: AtlasClient) -> int:
        account = account_of(args)
        params = {"after_seq": args.after_seq, "limit": args.limit, "symbol": args.symbol}
        path = f"/v1/accounts/{account}/positions/closed"
        reply = client.request("GET", path, params=params)
        return show(args, reply, closed_table(reply.data["positions"]) + _more(reply.data))

    return run_online(args, ctx, action)


def cmd_pnl(args: argparse.Namespace, ctx: Context) -> int:
    """The account's realized P&L over time (or, with ``--equity``, its equity)."""

    def action(client: AtlasClient) -> int:
        account = account_of(args)
        params = {"after_seq": args.after_seq, "limit": args.limit}
        reply = client.request("GET", f"/v1/accounts/{account}/pnl", params=params)
        data = reply.data
        if args.equity:
            headers = ["seq", "time", "asset", "balance", "unrealized", "equity"]
            rows = [
                [
                    e["seq"],
                    utc(e["ts"]),
                    e["asset"],
                    cell(e["balance"]),
                    cell(e["unrealized_pnl"]),
                    cell(e["equity"]),
                ]
                for e in data["equity"]
            ]
            table = render(headers, rows, align="rllrrr")
        else:
            headers = ["seq", "time", "event", "symbol", "asset", "realized", "fee", "funding"]
            headers += ["total net"]
            rows = [
                [
                    e["seq"],
                    utc(e["ts"]),
                    e["event"],
                    e["symbol"] or "",
                    e["asset"],
                    cell(e["realized_pnl"]),
                    cell(e["fee"]),
                    cell(e["funding"]),
                    cell(e["total_net"]),
                ]
                for e in data["entries"]
            ]
            table = render(headers, rows, align="rllllrrrr")
        return show(args, reply, table + _more(data))

    return run_online(args, ctx, action)


def page_options(parser: argparse.ArgumentParser) -> None:
    """``--after-seq`` and ``--limit``."""
    parser.add_argument(
        "--after-seq", type=int, default=0, metavar="SEQ", help="after journal seq SEQ"
    )
    parser.add_argument("--limit", type=int, default=100, metavar="N", help="page size (100)")


def add_parser(sub: Any) -> None:
    """``atlas pnl``."""
    pnl = sub.add_parser("pnl", help="an account's realized P&L and equity history (on a server)")
    account_option(pnl)
    pnl.add_argument("--equity", action="store_true", help="the equity history instead")
    page_options(pnl)
    server_options(pnl)
    pnl.set_defaults(func=cmd_pnl)


def position_stats_text(stats: dict[str, Any]) -> str:
    """Position statistics as the server sent them: a summary line, then one row per symbol."""
    win_rate = "n/a" if stats["win_rate"] is None else f"{stats['win_rate']}%"
    total = stats["total_pnl"]
    lines = [
        f"account {stats['account_id']}: {stats['open_positions']} open position(s), "
        f"{stats['closed_trades']} closed round trip(s) ({stats['wins']} won, "
        f"{stats['losses']} lost), win rate {win_rate}, total P&L "
        + (fmt(cell(total)) if total is not None else "in several assets (below)"),
        "",
    ]
    headers = ["symbol", "asset", "qty", "trips", "wins", "realized", "unrealized", "fees"]
    headers += ["funding", "total"]
    rows = [
        [
            s["symbol"],
            s["pnl_asset"],
            cell(s["qty"]),
            str(s["closed_trades"]),
            str(s["wins"]),
            cell(s["realized_pnl"]),
            cell(s["unrealized_pnl"]),
            cell(s["fees"]),
            cell(s["funding"]),
            cell(s["total_pnl"]),
        ]
        for s in stats["symbols"]
    ]
    lines.append(render(headers, rows, align="llrrrrrrrr"))
    return "\n".join(lines)


def cmd_position_stats(args: argparse.Namespace, ctx: Context) -> int:
    """The account's position statistics (GET /v1/accounts/{id}/position-stats)."""

    def action(client: AtlasClient) -> int:
        account = account_of(args)
        path = f"/v1/accounts/{account}/position-stats"
        reply = client.request("GET", path, params={"symbol": args.symbol})
        return show(args, reply, position_stats_text(reply.data))

    return run_online(args, ctx, action)
