"""``atlas corporate-action KIND SYMBOL``: a split, stock bonus or cash dividend on an equity
(POS-5), on a journal (``--journal``, ``--actor``) or on a running server (``--url``/``--key``:
``POST /v1/corporate-actions``, admin key, the key is the journaled actor).

    atlas corporate-action split AAPL --ratio 4 --id AAPL-2026-split --reason "4-for-1"
    atlas corporate-action dividend AAPL --amount 0.26 --id AAPL-2026Q3-div --url … --key …
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_either import actor_of, either_options, run_either
from atlas_oms.cli.options import by, operator_options
from atlas_oms.model import events as ev
from atlas_oms.runtime.node import Node

KINDS = ("split", "bonus", "dividend")


def _show(kind: str, symbol: str, action_id: str, holders: list[tuple[str, Any, Any, Any]]) -> None:
    print(f"{kind.upper()} {symbol} applied as {action_id}: {len(holders)} holder(s)")
    for account, before, after, cash in holders:
        text = f"  {account}: {before} -> {after} shares"
        if cash and Decimal(str(cash)):
            text += f", cash {cash}"
        print(text)


def cmd_corporate_action(args: argparse.Namespace, ctx: Context) -> int:
    """Apply the action on the journal or the server the arguments name."""
    if args.kind == "dividend" and args.amount is None:
        print("atlas corporate-action: a dividend needs --amount (cash per share)")
        return 2
    if args.kind != "dividend" and args.ratio is None:
        print(f"atlas corporate-action: a {args.kind} needs --ratio")
        return 2

    def offline(node: Node) -> int:
        events = node.apply_corporate_action(
            args.symbol,
            args.kind,
            action_id=args.id,
            ratio=args.ratio,
            amount=args.amount,
            actor=args.actor,
            reason=args.reason,
        )
        applied = next(e for e in events if isinstance(e, ev.CorporateActionApplied))
        _show(args.kind, args.symbol, args.id, list(applied.holdings))
        print(by(args.actor, args.reason))
        return 0

    def online(client: AtlasClient) -> int:
        body = {
            "action_id": args.id,
            "symbol": args.symbol,
            "kind": args.kind.upper(),
            "ratio": str(args.ratio) if args.ratio is not None else None,
            "amount": str(args.amount) if args.amount is not None else None,
            "reason": args.reason,
        }
        out = client.request("POST", "/v1/corporate-actions", json=body).data
        holders = [(h["account_id"], h["before"], h["after"], h["cash"]) for h in out["holdings"]]
        _show(args.kind, args.symbol, args.id, holders)
        print(by(actor_of(client), args.reason))
        return 0

    return run_either(args, ctx, offline, online, needs_actor=True)


def add_parser(sub: Any) -> None:
    """``atlas corporate-action KIND SYMBOL``."""
    p = sub.add_parser(
        "corporate-action",
        help="apply a split, stock bonus or cash dividend to an equity",
        description="A split (--ratio 2 = 2-for-1, 0.1 = 1-for-10), a stock bonus (--ratio "
        "0.2 = one share per five) or a cash dividend (--amount per share) on an equity: "
        "holdings, cost basis and open orders are adjusted, each action journaled once by id.",
    )
    p.add_argument("kind", type=str.lower, choices=KINDS, metavar="|".join(KINDS))
    p.add_argument("symbol", metavar="SYMBOL")
    p.add_argument("--id", required=True, metavar="ID", help="the action's id (applied once)")
    p.add_argument("--ratio", type=Decimal, metavar="R", help="split or bonus ratio")
    p.add_argument("--amount", type=Decimal, metavar="X", help="dividend per share")
    operator_options(p, reason_required=False, actor_required=False)
    either_options(p)
    p.set_defaults(func=cmd_corporate_action)
