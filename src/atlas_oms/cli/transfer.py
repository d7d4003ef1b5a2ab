"""``atlas transfer FROM TO ASSET AMOUNT``: move an asset within an account tree, on a journal.

Between an account and one of its sub-accounts (any depth, either way) or between two
sub-accounts of one account; one ``FundsTransferred`` event, in both accounts' audit trails.
"""

from __future__ import annotations

import argparse
from typing import Any

import msgspec

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_either import either_options, run_either
from atlas_oms.cli.options import decimal_arg, journal_option, json_option, print_json
from atlas_oms.cli.tables import fmt, render
from atlas_oms.core.views import BalanceView
from atlas_oms.model import events as ev
from atlas_oms.runtime.node import Node

__all__ = ["add_parser", "cmd_transfer"]


def _print_transfer(
    args: argparse.Namespace, event: ev.FundsTransferred, balances: list[BalanceView]
) -> int:
    if args.json:
        print_json({"transfer": event, "balances": balances})
        return 0
    print(
        f"transferred {fmt(args.amount)} {args.asset} from {args.from_account} to "
        f"{args.to_account} ({args.reason}), seq {event.seq}"
    )
    print(
        render(
            ["account", "asset", "total", "locked", "free"],
            [[b.account_id, b.asset, fmt(b.total), fmt(b.locked), fmt(b.free)] for b in balances],
        )
    )
    return 0


def cmd_transfer(args: argparse.Namespace, ctx: Context) -> int:
    """Transfer; print the journaled event's seq and both balances after it."""

    def offline(node: Node) -> int:
        seq = node.seq
        sent, got = node.transfer(
            args.from_account, args.to_account, args.asset, args.amount, reason=args.reason
        )
        event = next(e for e in node.events(seq + 1) if isinstance(e, ev.FundsTransferred))
        return _print_transfer(args, event, [sent, got])

    def online(client: AtlasClient) -> int:
        body = {
            "from_account_id": args.from_account,
            "to_account_id": args.to_account,
            "asset": args.asset,
            "amount": str(args.amount),
            "reason": args.reason,
        }
        data = client.request("POST", "/v1/transfers", json=body).data
        balances = msgspec.convert([data["from"], data["to"]], list[BalanceView], strict=False)
        listed = client.request("GET", "/v1/transfers", params={"account_id": args.from_account})
        events = msgspec.convert(listed.data, list[ev.FundsTransferred], strict=False)
        event = next(e for e in reversed(events) if e.seq <= data["seq"])
        return _print_transfer(args, event, balances)

    return run_either(args, ctx, offline, online)


def add_parser(sub: Any) -> None:
    """``atlas transfer``."""
    transfer = sub.add_parser(
        "transfer",
        help="move an asset between an account and one of its sub-accounts (any depth, "
        "either way, or between two sub-accounts of one account)",
    )
    transfer.add_argument("from_account", metavar="FROM", help="the account paying")
    transfer.add_argument("to_account", metavar="TO", help="the account receiving")
    transfer.add_argument("asset", metavar="ASSET", help="e.g. USDT")
    transfer.add_argument(
        "amount",
        type=decimal_arg,
        metavar="AMOUNT",
        help="positive; at most FROM's free balance (less unsettled sale proceeds and cross "
        "unrealized losses)",
    )
    transfer.add_argument("--reason", default="transfer", metavar="WHY", help="why (journaled)")
    journal_option(transfer)
    json_option(transfer)
    either_options(transfer)
    transfer.set_defaults(func=cmd_transfer)
