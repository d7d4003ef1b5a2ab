"""``atlas algo submit|list|show|report|pause|resume|cancel``: parent orders (TWAP, VWAP,
iceberg, SMART) on a running server (``--url``, ``--key``: service/routes_algos.py), and
``list|show|report`` offline on a journal (``--journal``).

``submit KIND SYMBOL SIDE QTY`` takes the options of its kind (an option of another kind is a
usage error): TWAP ``--duration-ms`` (or ``--end-ts``), ``--slices``, ``--randomize-pct``,
``--seed``, ``--aggression-bps``; VWAP the same and ``--weights``, ``--lookback-windows``,
``--participation-pct``; ICEBERG ``--display-qty``, ``--display-variance-pct``, ``--native``;
SMART ``--depth-margin-pct``; every kind ``--limit``, ``--id``, ``--venue``, ``--strategy``,
``--remainder``, ``--reroute-after-ms``, ``--start-ts``.

``show`` prints the parent, its children and each route decision: the prices every venue showed,
why a venue was skipped, and where the children went (the best-execution rationale).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

import msgspec

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_journal import run_on_journal
from atlas_oms.cli.on_server import account_of, run_online, show
from atlas_oms.cli.options import (
    UsageError,
    account_option,
    choice,
    decimal_text,
    group_help,
    print_json,
    server_options,
)
from atlas_oms.cli.tables import cell, render
from atlas_oms.model import events as ev
from atlas_oms.model.algos import AlgoKind, Remainder
from atlas_oms.model.enums import Side
from atlas_oms.runtime.node import Node

__all__ = ["add_parser", "algo_text", "algos_table", "report_text", "submit_body"]

#: ``submit`` options by kind: (argparse dest, request field); options for every kind: COMMON.
COMMON = {
    "limit": "limit_price",
    "algo_id": "algo_id",
    "venue": "venue",
    "strategy": "strategy",
    "remainder": "remainder",
    "reroute_after_ms": "reroute_after_ms",
    "start_ts": "start_ts",
}
_TIMED = {
    "duration_ms": "duration_ms",
    "end_ts": "end_ts",
    "slices": "slices",
    "randomize_pct": "randomize_pct",
    "seed": "seed",
    "aggression_bps": "slice_aggression_bps",
}
BY_KIND: dict[str, dict[str, str]] = {
    "TWAP": _TIMED,
    "VWAP": _TIMED
    | {
        "weights": "weights",
        "lookback_windows": "lookback_windows",
        "participation_pct": "participation_pct",
    },
    "ICEBERG": {
        "display_qty": "display_qty",
        "display_variance_pct": "display_variance_pct",
        "native": "native",
    },
    "SMART": {"depth_margin_pct": "depth_margin_pct"},
}


def submit_body(args: argparse.Namespace) -> dict[str, Any]:
    """The ``POST /v1/algos`` body: the given options of the kind (a usage error for an option
    of another kind)."""
    kind = args.kind
    own = COMMON | BY_KIND[kind]
    body: dict[str, Any] = {
        "account_id": account_of(args),
        "symbol": args.symbol,
        "side": args.side,
        "qty": args.qty,
        "kind": kind,
    }
    others = {d for fields in BY_KIND.values() for d in fields} - set(own)
    for dest in sorted(others):
        if getattr(args, dest) not in (None, False):
            raise UsageError(f"--{dest.replace('_', '-')} is not an option of a {kind} order")
    for dest, field in own.items():
        value = getattr(args, dest)
        if value is None or (value is False and dest != "native"):
            continue
        if dest == "weights":
            value = [w.strip() for w in value.split(",") if w.strip()]
        body[field] = value
    return body


# ---------------------------------------------------------------------------- tables
PARENT_HEADERS = ["id", "account", "kind", "symbol", "side", "qty", "filled", "avg px"]
PARENT_HEADERS += ["leaves", "limit", "venue", "status", "reason"]


def algos_table(algos: Sequence[dict[str, Any]]) -> str:
    """Parents as the server sent them (JSON), one row each."""
    rows = [
        [
            a["algo_id"],
            a["account_id"],
            a["kind"],
            a["symbol"],
            a["side"],
            cell(a["qty"]),
            cell(a["cum_qty"]),
            cell(a["avg_px"]),
            cell(a["leaves_qty"]),
            cell(a.get("limit_price")),
            a.get("venue") or "-",
            a["status"],
            cell(a.get("end_reason") or None),
        ]
        for a in algos
    ]
    return render(PARENT_HEADERS, rows, align="lllllrrrrrlll")


def children_table(children: Sequence[dict[str, Any]]) -> str:
    """A parent's children as the server sent them, one row each (venue, account, fills)."""
    headers = ["order", "venue", "account", "symbol", "side", "qty", "price", "filled", "avg px"]
    headers += ["fills", "status", "client id"]
    rows = [
        [
            c["order_id"],
            c["venue"],
            c["account_id"],
            c["symbol"],
            c["side"],
            cell(c["qty"]),
            cell(c["price"]),
            cell(c["cum_qty"]),
            cell(c["avg_px"]),
            len(c.get("fills", ())),
            c["status"],
            cell(c["client_order_id"]),
        ]
        for c in children
    ]
    return render(headers, rows, align="rllllrrrrrll")


SEEN_HEADERS = ["venue", "symbol", "account", "bid", "bid qty", "ask", "ask qty", "adj px"]
SEEN_HEADERS += ["depth", "used", "skipped"]


def route_text(route: dict[str, Any]) -> str:
    """One route decision: what each venue showed and why, then the children it made."""
    d = route["decision"]
    head = (
        f"route of slice {route['slice_no']} (seq {route['seq']}): {d['side']} {d['qty']} "
        f"{d['symbol']}, limit {d.get('limit_price') or '-'}, expected avg px "
        f"{d.get('expected_avg_px') or '-'}, unallocated {d['unallocated']}"
    )
    seen_rows = [
        [
            v["venue"],
            v["symbol"],
            v["account_id"],
            cell(v["best_bid"]),
            cell(v["bid_qty"]),
            cell(v["best_ask"]),
            cell(v["ask_qty"]),
            cell(v["adjusted_px"]),
            cell(v["depth_qty"]),
            "yes" if v["used"] else "no",
            v.get("skipped") or "-",
        ]
        for v in d["seen"]
    ]
    seen = render(
        SEEN_HEADERS,
        seen_rows,
        align="lllrrrrrrll",
    )
    alloc_rows = [
        [
            x["venue"],
            x["symbol"],
            x["account_id"],
            cell(x["qty"]),
            cell(x["limit_price"]),
            cell(x["expected_avg_px"]),
            cell(x["expected_cost"]),
            x["levels"],
        ]
        for x in d["allocations"]
    ]
    alloc = render(
        ["venue", "symbol", "account", "qty", "limit", "exp avg px", "exp cost", "levels"],
        alloc_rows,
        align="lllrrrrr",
    )
    return f"{head}\nseen:\n{seen}\nsent:\n{alloc}"


def algo_text(a: dict[str, Any]) -> str:
    """One parent: its row, its children, its route decisions."""
    parts = [algos_table([a])]
    if a.get("children"):
        parts.append("children:\n" + children_table(a["children"]))
    for refused in a.get("refused", ()):
        parts.append(
            f"child refused (slice {refused['slice_no']}): {refused['reason']}: "
            f"{refused['message']}"
        )
    parts += [route_text(r) for r in a.get("routes", ())]
    return "\n".join(parts)


REPORT_ROWS = [
    ("arrival price", "arrival_price"),
    ("avg price", "avg_px"),
    ("slippage (bps)", "slippage_bps"),
    ("filled", "filled_qty"),
    ("leaves", "leaves_qty"),
    ("market volume", "market_volume"),
    ("participation %", "participation_pct"),
    ("slices", "slices_done"),
    ("children", "children"),
    ("children refused", "children_refused"),
    ("routes", "routes"),
    ("re-routes", "reroutes"),
]


def report_text(r: dict[str, Any]) -> str:
    """The execution report as label/value lines."""
    rows = [[label, cell(r.get(key))] for label, key in REPORT_ROWS]
    rows[7][1] = f"{r['slices_done']}/{r['slices_planned']}"
    fees = ", ".join(f"{v} {k}" for k, v in r.get("fees", {}).items()) or "-"
    rows.append(["fees", fees])
    rows.append(["status", f"{r['status']} {r.get('end_reason') or ''}".strip()])
    title = f"{r['kind']} {r['algo_id']}: {r['side']} {r['qty']} {r['symbol']}"
    return title + "\n" + render(["measure", "value"], rows, align="lr")


# ---------------------------------------------------------------------------- on a journal
def _known(node: Node, algo_id: str) -> None:
    try:
        node.algo(algo_id)
    except KeyError:
        raise UsageError(f"no parent order {algo_id!r} in this journal") from None


def _offline(node: Node, algo_id: str) -> dict[str, Any]:
    """The parent as the server would show it (exact decimals), with its route decisions."""
    _known(node, algo_id)
    body: dict[str, Any] = msgspec.to_builtins(node.algo(algo_id))
    body["routes"] = [
        msgspec.to_builtins(
            {"seq": e.seq, "ts_event": e.ts_event, "slice_no": e.slice_no, "decision": e.decision}
        )
        for e in node.journal.read()
        if isinstance(e, ev.AlgoRouted) and e.algo_id == algo_id
    ]
    return body


def _on_journal(args: argparse.Namespace, ctx: Context) -> int:
    def action(node: Node) -> int:
        if args.algo_command == "list":
            algos = msgspec.to_builtins(node.algos(args.account, open_only=args.open))
            if args.json:
                print_json(algos)
            else:
                print(algos_table(algos))
            return 0
        if args.algo_command == "report":
            _known(node, args.algo_id)
            report = node.algo_report(args.algo_id)
            print_json(report) if args.json else print(report_text(report))
            return 0
        body = _offline(node, args.algo_id)
        print_json(body) if args.json else print(algo_text(body))
        return 0

    return run_on_journal(args, ctx, action, readonly=True)


# ---------------------------------------------------------------------------- commands
def cmd_submit(args: argparse.Namespace, ctx: Context) -> int:
    """Start a parent order; a repeat of a known --id answers that parent."""

    def action(client: AtlasClient) -> int:
        reply = client.request("POST", "/v1/algos", json=submit_body(args))
        a = reply.data
        note = " (a repeat: the parent this id already names)" if reply.status == 200 else ""
        return show(args, reply, f"parent {a['algo_id']} {a['status']}{note}\n" + algo_text(a))

    return run_online(args, ctx, action)


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    """Parents of an account (or of every account the key sees), oldest first."""
    if args.journal is not None:
        return _on_journal(args, ctx)

    def action(client: AtlasClient) -> int:
        account = args.account or os.environ.get("ATLAS_ACCOUNT")  # none: every account seen
        params = {"account_id": account, "open": True if args.open else None}
        reply = client.request("GET", "/v1/algos", params=params)
        return show(args, reply, algos_table(reply.data["algos"]))

    return run_online(args, ctx, action)


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    """One parent: children, fills, route decisions."""
    if args.journal is not None:
        return _on_journal(args, ctx)

    def action(client: AtlasClient) -> int:
        reply = client.request("GET", f"/v1/algos/{args.algo_id}")
        return show(args, reply, algo_text(reply.data))

    return run_online(args, ctx, action)


def cmd_report(args: argparse.Namespace, ctx: Context) -> int:
    """The execution report."""
    if args.journal is not None:
        return _on_journal(args, ctx)

    def action(client: AtlasClient) -> int:
        reply = client.request("GET", f"/v1/algos/{args.algo_id}/report")
        return show(args, reply, report_text(reply.data))

    return run_online(args, ctx, action)


def _act(verb: str) -> Any:
    def cmd(args: argparse.Namespace, ctx: Context) -> int:
        def action(client: AtlasClient) -> int:
            reply = client.request("POST", f"/v1/algos/{args.algo_id}/{verb}")
            a = reply.data
            return show(args, reply, f"parent {a['algo_id']} {a['status']}\n" + algos_table([a]))

        return run_online(args, ctx, action)

    cmd.__doc__ = f"{verb.capitalize()} a parent order."
    return cmd


def _submit_parser(asub: Any) -> None:
    submit = asub.add_parser(
        "submit",
        help="start a parent order: KIND SYMBOL SIDE QTY",
        description="TWAP, VWAP, ICEBERG or SMART; each kind takes its own options.",
    )
    submit.add_argument(
        "kind", type=choice(AlgoKind), metavar="KIND", help="twap|vwap|iceberg|smart"
    )
    submit.add_argument("symbol", metavar="SYMBOL")
    submit.add_argument("side", type=choice(Side), metavar="SIDE", help="buy or sell")
    submit.add_argument("qty", type=decimal_text, metavar="QTY")
    account_option(submit)
    every = submit.add_argument_group("every kind")
    every.add_argument("--limit", type=decimal_text, metavar="PX", help="price cap of every child")
    every.add_argument("--id", dest="algo_id", metavar="ID", help="idempotency key (algo_id)")
    every.add_argument("--venue", metavar="VENUE", help="SMART: route each slice")
    every.add_argument("--strategy", metavar="NAME", help="the routing rule's strategy")
    every.add_argument("--remainder", type=choice(Remainder), metavar="STAY|REROUTE|CANCEL")
    every.add_argument("--reroute-after-ms", type=int, metavar="MS")
    every.add_argument("--start-ts", type=int, metavar="NS", help="start, epoch ns (now)")
    timed = submit.add_argument_group("twap and vwap")
    timed.add_argument("--duration-ms", type=int, metavar="MS", help="the window's length")
    timed.add_argument("--end-ts", type=int, metavar="NS", help="the window's end, epoch ns")
    timed.add_argument("--slices", type=int, metavar="N")
    timed.add_argument("--randomize-pct", type=decimal_text, metavar="PCT")
    timed.add_argument("--seed", type=int, metavar="N")
    timed.add_argument("--aggression-bps", type=decimal_text, metavar="BPS")
    vwap = submit.add_argument_group("vwap")
    vwap.add_argument("--weights", metavar="W,W,...", help="the volume profile, one per slice")
    vwap.add_argument("--lookback-windows", type=int, metavar="N")
    vwap.add_argument("--participation-pct", type=decimal_text, metavar="PCT")
    ice = submit.add_argument_group("iceberg")
    ice.add_argument("--display-qty", type=decimal_text, metavar="QTY")
    ice.add_argument("--display-variance-pct", type=decimal_text, metavar="PCT")
    ice.add_argument(
        "--native",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the venue's own iceberg (the default where it has one); --no-native: emulated",
    )
    smart = submit.add_argument_group("smart")
    smart.add_argument("--depth-margin-pct", type=decimal_text, metavar="PCT")
    server_options(submit)
    submit.set_defaults(func=cmd_submit)


def _journal_or_server(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--journal", metavar="PATH", help="read this journal instead of asking a server"
    )
    server_options(parser)


def add_parser(sub: Any) -> None:
    """``atlas algo ACTION``."""
    algo = sub.add_parser("algo", help="parent orders: TWAP, VWAP, iceberg, SMART (on a server)")
    algo.set_defaults(func=group_help(algo))
    asub = algo.add_subparsers(dest="algo_command", metavar="ACTION")
    _submit_parser(asub)

    listing = asub.add_parser("list", help="parent orders, oldest first")
    account_option(listing)
    listing.add_argument("--open", action="store_true", help="only working or paused ones")
    _journal_or_server(listing)
    listing.set_defaults(func=cmd_list)

    for name, func, text in (
        ("show", cmd_show, "one parent: children, fills and route decisions (the rationale)"),
        ("report", cmd_report, "a parent's execution report"),
    ):
        p = asub.add_parser(name, help=text)
        p.add_argument("algo_id", metavar="ID")
        _journal_or_server(p)
        p.set_defaults(func=func)

    for verb, text in (
        ("pause", "pause: cancel the live children, no new slices"),
        ("resume", "resume: missed slices roll into the next one"),
        ("cancel", "cancel the parent and its live children"),
    ):
        p = asub.add_parser(verb, help=text)
        p.add_argument("algo_id", metavar="ID")
        server_options(p)
        p.set_defaults(func=_act(verb))
