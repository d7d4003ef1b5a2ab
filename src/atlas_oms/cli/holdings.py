"""``atlas positions`` and ``atlas balances``: an account's holdings on a running server."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_server import account_of, run_online, show
from atlas_oms.cli.options import account_option, server_options
from atlas_oms.cli.tables import cell, render

__all__ = ["add_parsers", "balances_table", "positions_table"]


def positions_table(positions: Sequence[dict[str, Any]]) -> str:
    """Positions as the server sent them (JSON), one row each."""
    headers = ["symbol", "side", "qty", "avg entry", "mark", "unrealized", "realized", "fees"]
    headers += ["liq. price"]
    rows = [
        [
            p["symbol"],
            p["position_side"],
            cell(p["qty"]),
            cell(p["avg_entry_px"]),
            cell(p["mark_px"]),
            cell(p["unrealized_pnl"]),
            cell(p["realized_pnl"]),
            cell(p["fees"]),
            cell(p.get("liquidation_price")),
        ]
        for p in positions
    ]
    return render(headers, rows, align="llrrrrrrr")


def balances_table(balances: Sequence[dict[str, Any]]) -> str:
    """Balances as the server sent them (JSON), one row per asset."""
    rows = [[b["asset"], cell(b["total"]), cell(b["locked"]), cell(b["free"])] for b in balances]
    return render(["asset", "total", "locked", "free"], rows, align="lrrr")


def cmd_positions(args: argparse.Namespace, ctx: Context) -> int:
    """An account's open positions."""

    def action(client: AtlasClient) -> int:
        reply = client.positions(account_of(args))
        return show(args, reply, positions_table(reply.data))

    return run_online(args, ctx, action)


def cmd_balances(args: argparse.Namespace, ctx: Context) -> int:
    """An account's balances."""

    def action(client: AtlasClient) -> int:
        reply = client.balances(account_of(args))
        return show(args, reply, balances_table(reply.data))

    return run_online(args, ctx, action)


def add_parsers(sub: Any) -> None:
    """``atlas positions`` and ``atlas balances``."""
    positions = sub.add_parser("positions", help="an account's open positions (on a server)")
    account_option(positions)
    server_options(positions)
    positions.set_defaults(func=cmd_positions)

    balances = sub.add_parser("balances", help="an account's balances (on a server)")
    account_option(balances)
    server_options(balances)
    balances.set_defaults(func=cmd_balances)
