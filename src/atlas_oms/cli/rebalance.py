"""``atlas rebalance [--dry-run]``: one rebalancing run of a running server (``POST
/v1/rebalance``; admin key, ``--dry-run``: admin or risk): the transfers between main and
sub-accounts that keep accounts.yaml's ``min_main_balance`` / ``max_sub_balance``, each with the
rule that caused it and what became of it. Exit code 0; 1 when a transfer was refused or is in
doubt (the next run looks it up)."""

from __future__ import annotations

import argparse
from typing import Any

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_server import run_online, show
from atlas_oms.cli.options import server_options
from atlas_oms.cli.tables import fmt, render

__all__ = ["add_parser", "cmd_rebalance", "report_text"]


def report_text(report: dict[str, Any]) -> str:
    """A run's report as text: a heading, the transfers, the notes."""
    run = f"run {report['run_id']}" if report.get("run_id") else "no run journaled"
    head = f"rebalance ({report['trigger']}, {report['asset']}): {report['status']} ({run})"
    lines = [head]
    for title, rows in (
        ("resolved from an earlier run", report.get("resolved") or []),
        ("transfers", report.get("transfers") or []),
    ):
        if not rows:
            continue
        body = [
            [
                t["transfer_id"],
                t["from_account"],
                t["to_account"],
                fmt(t["amount"]),
                t["rule"],
                t["path"],
                t["outcome"],
                t.get("venue_transfer_id") or "-",
            ]
            for t in rows
        ]
        lines.append(f"{title}:")
        lines.append(
            render(
                ("ID", "FROM", "TO", "AMOUNT", "RULE", "VIA", "OUTCOME", "VENUE ID"),
                body,
                align="lllrllll",
            )
        )
    if not report.get("transfers"):
        lines.append("no transfers: every account is within its rules")
    lines += [f"note: {n}" for n in report.get("notes") or []]
    lines += [f"in doubt: {t}" for t in report.get("in_doubt") or []]
    return "\n".join(lines)


def cmd_rebalance(args: argparse.Namespace, ctx: Context) -> int:
    """``atlas rebalance``: one run (or ``--dry-run``: its plan) on the server; print the
    report."""

    def act(client: AtlasClient) -> int:
        reply = client.request("POST", "/v1/rebalance", json={"dry_run": bool(args.dry_run)})
        report = reply.data or {}
        show(args, reply, report_text(report))
        bad = [
            t for t in report.get("transfers") or [] if t["outcome"] not in ("BOOKED", "PLANNED")
        ]
        return 1 if bad or report.get("in_doubt") else 0

    return run_online(args, ctx, act)


def add_parser(sub: Any) -> None:
    """Add ``atlas rebalance``."""
    p = sub.add_parser(
        "rebalance",
        help="move money between main and sub-accounts to keep accounts.yaml's balance rules",
        description="Runs rebalancing on a running server now: subs above max_sub_balance (or "
        "their max_balance_usdt) send the excess to their main, a main below min_main_balance "
        "pulls from its subs' free money; at the venue first (sub-account transfer), then in "
        "Atlas. --dry-run shows the plan and moves nothing.",
    )
    p.add_argument("--dry-run", action="store_true", help="show the plan, move nothing")
    server_options(p)
    p.set_defaults(func=cmd_rebalance)
