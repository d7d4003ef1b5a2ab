"""``atlas venues status`` and ``atlas venues reconcile``: a running server's venue accounts.

* ``status``: every venue account the key may see: tradable or not and why, connected, last
  message age, clock offset, rate-limit budget, unresolved orders, last reconciliation.
* ``reconcile VENUE ACCOUNT`` (admin or risk key): reconcile now and print the exception report:
  every difference found between Atlas and the venue and what was done about it. Exit code 0 when
  the venue agreed with Atlas, 1 when differences were found (and corrected or reported).
* ``reconcile VENUE ACCOUNT --history``: the account's past exception reports, newest first.
"""

from __future__ import annotations

import argparse
from typing import Any

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_server import run_online, show
from atlas_oms.cli.options import server_options
from atlas_oms.cli.tables import fmt, render

__all__ = ["add_parsers", "cmd_reconcile", "cmd_status"]


def _age(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f}s"


def _status_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no venue accounts (the server trades on its built-in exchange only)"
    body = []
    for h in rows:
        last = h.get("last_reconciliation") or {}
        budget = ", ".join(f"{k}={v}" for k, v in sorted((h.get("rate_limit") or {}).items()))
        body.append(
            [
                f"{h['venue']}/{h['account_id']}",
                "yes" if h["tradable"] else "no",
                h["reason"],
                "yes" if h["connected"] else "no",
                _age(h.get("last_message_age_s")),
                "-" if h.get("clock_offset_ms") is None else f"{h['clock_offset_ms']:.0f}ms",
                budget or "-",
                h.get("unresolved_orders", 0),
                f"{last.get('reason', '-')} ({last.get('differences', 0)} diff)" if last else "-",
                h.get("message") or "",
            ]
        )
    headers = (
        "VENUE ACCOUNT",
        "TRADABLE",
        "REASON",
        "CONNECTED",
        "LAST MSG",
        "CLOCK",
        "RATE LIMIT LEFT",
        "UNRESOLVED",
        "LAST RECONCILIATION",
        "MESSAGE",
    )
    return render(headers, body, align="llllrrlrll")


def report_text(report: dict[str, Any]) -> str:
    """An exception report as text: a heading, then one line per difference."""
    head = (
        f"{report['venue']}/{report['account_id']} reconciled ({report['reason']}, seq "
        f"{report['seq']}): {report.get('orders', 0)} orders, {report.get('fills', 0)} fills "
        f"({report.get('fills_booked', 0)} booked), {report.get('positions', 0)} positions, "
        f"{report.get('balances', 0)} balances"
    )
    diffs = report.get("differences") or []
    if not diffs:
        return head + "\nno differences: Atlas agrees with the venue"
    rows = []
    for d in diffs:
        what = d.get("symbol") or d.get("asset") or ""
        ref = d.get("order_id") or d.get("client_order_id") or d.get("venue_order_id") or ""
        rows.append(
            [
                d.get("kind", ""),
                what,
                ref,
                fmt(d.get("atlas")),
                fmt(d.get("venue")),
                d.get("action", ""),
            ]
        )
    table = render(("DIFFERENCE", "WHAT", "ORDER", "ATLAS", "VENUE", "ACTION"), rows)
    pending = report.get("pending") or []
    tail = (
        f"\n{len(pending)} balance difference(s) wait for confirmation by the next reconciliation"
        if pending
        else ""
    )
    return f"{head}\n{len(diffs)} difference(s):\n{table}{tail}"


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    """``atlas venues status``: every venue account the key may see."""

    def act(client: AtlasClient) -> int:
        reply = client.request("GET", "/v1/venues")
        return show(args, reply, _status_table(reply.data or []))

    return run_online(args, ctx, act)


def cmd_reconcile(args: argparse.Namespace, ctx: Context) -> int:
    """``atlas venues reconcile VENUE ACCOUNT``: reconcile now (or ``--history``)."""
    base = f"/v1/venues/{args.venue}/{args.account_id}"

    def act(client: AtlasClient) -> int:
        if args.history:
            reply = client.request("GET", base + "/reconciliations", params={"limit": args.limit})
            reports = reply.data or []
            text = "\n\n".join(report_text(r) for r in reports) or "no reconciliations yet"
            return show(args, reply, text)
        reply = client.request("POST", base + "/reconcile")
        show(args, reply, report_text(reply.data))
        return 1 if (reply.data or {}).get("differences") else 0

    return run_online(args, ctx, act)


def add_parsers(actions: Any) -> None:
    """Add ``status`` and ``reconcile`` to the ``atlas venues`` group."""
    status = actions.add_parser(
        "status", help="a running server's venue accounts: tradable, connected, clock, limits"
    )
    server_options(status)
    status.set_defaults(func=cmd_status)
    rec = actions.add_parser(
        "reconcile",
        help="reconcile a venue account now and print the exception report (admin or risk key)",
        description="Compares the venue's open orders, fills, balances and positions with "
        "Atlas's, books what is missing (marked as reconciliation) and prints every difference "
        "and what was done. Exit code 0: no differences; 1: differences found.",
    )
    rec.add_argument("venue", help="the venue (binance, binanceusdm)")
    rec.add_argument("account_id", metavar="ACCOUNT", help="the Atlas account of the venue account")
    rec.add_argument(
        "--history", action="store_true", help="print the past exception reports instead"
    )
    rec.add_argument("--limit", type=int, default=20, help="with --history: how many (20)")
    server_options(rec)
    rec.set_defaults(func=cmd_reconcile)
