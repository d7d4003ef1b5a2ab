"""``atlas trades submit|list|show|params``: managed trades (issue 13, seed 001) on a running
server.

* ``submit SYMBOL SIDE --entry IDEAL --max MAX --stop STOP --risk R``: a trade intent (the
  options name its bounded values: ``--urgency``, ``--bias``, ``--scale-out``, ``--targets``,
  ``--key-level``; ``--id`` the intent id, the idempotency key: the same id again prints the trade
  it already names).
* ``list``: the trades the key sees (``-a`` one account, ``--symbol``, ``--phase``, ``--open``).
* ``show ID``: one trade: its intent, orders by role, tranches, stop history, lots, P&L and
  events.
* ``params``: the policy parameters in force on the server (value, default, source);
  ``--set NAME=VALUE`` (repeatable, admin key) puts overrides in force, ``--reset`` returns to the
  seed's defaults.

Tables for a person, or ``--json`` for the server's JSON as it came (exact decimal strings).
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Sequence
from typing import Any

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_server import account_of, run_online, show
from atlas_oms.cli.options import (
    UsageError,
    account_option,
    choice,
    decimal_text,
    group_help,
    parse_pairs,
    server_options,
)
from atlas_oms.cli.tables import cell, render, utc

__all__ = ["add_parser", "trade_text", "trades_table"]

ORDER_HEADERS = ["id", "role", "type", "side", "qty", "price", "trigger", "filled", "avg px"]
ORDER_HEADERS += ["status", "realized"]


def trades_table(trades: Sequence[dict[str, Any]]) -> str:
    """Managed trades as the server sent them: one row each."""
    rows = [
        [
            t["trade_id"],
            t["account_id"],
            t["symbol"],
            t["side"],
            t["phase"],
            cell(t["position"]),
            cell(t.get("entry_avg_px")),
            cell(t.get("stop_trigger")),
            " ".join(f"{x['price']}x{x['planned_qty']}" for x in t.get("tranches", ())) or "-",
            cell(t.get("realized_pnl")),
            cell(t.get("unrealized_pnl")),
        ]
        for t in trades
    ]
    headers = ["trade", "account", "symbol", "side", "phase", "position", "entry avg", "stop"]
    headers += ["targets (px x qty)", "realized", "unrealized"]
    return render(headers, rows, align="lllllrrrlrr")


def _orders(t: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *t.get("entries", ()),
        *t.get("stops", ()),
        *t.get("target_orders", ()),
        *t.get("exits", ()),
    ]


def trade_text(t: dict[str, Any]) -> str:
    """One trade, for a person: a summary and its tables."""
    i = t.get("intent") or {}
    lines = [
        f"trade {t['trade_id']}  {t['account_id']}  {t['side']} {t['symbol']}  "
        f"{t['phase']}  cycle {t['cycle']}"
        + (f"  closed: {t['close_cause']}" if t.get("close_cause") else ""),
        f"  intent: entry {i.get('entry_ideal')}..{i.get('entry_max')}  stop {i.get('stop0')}  "
        f"R {i.get('risk_amount')}  size {i.get('qty')}  {i.get('scale_out')}/"
        f"{i.get('target_policy')}  urgency {i.get('urgency')}  bias {i.get('bias')}",
        f"  position {t['position']} of {t['entry_filled']} filled @ avg "
        f"{cell(t.get('entry_avg_px'))}  stop {cell(t.get('stop_trigger'))}"
        f"{' (break-even)' if t.get('break_even') else ''}  last {cell(t.get('last_px'))}",
        f"  P&L realized {cell(t.get('realized_pnl'))}  unrealized {cell(t.get('unrealized_pnl'))}",
        "",
    ]
    orders = [
        [
            o["order_id"],
            o["role"] + (f" {o['tranche']}" if o.get("tranche") is not None else ""),
            o["order_type"],
            o["side"],
            cell(o["qty"]),
            cell(o["price"] if o["price"] is not None else o.get("trigger_price")),
            cell(o.get("trigger_price")),
            cell(o["cum_qty"]),
            cell(o["avg_px"]),
            o["status"],
            cell(o.get("realized_pnl")),
        ]
        for o in _orders(t)
    ]
    lines.append(
        render(
            ORDER_HEADERS,
            orders,
            title="orders",
            align="rlllrrrrrlr",
        )
    )
    tranches = [
        [
            x["index"],
            x["order_id"],
            cell(x["price"]),
            cell(x["planned_qty"]),
            cell(x["filled_qty"]),
            cell(x["avg_px"]),
            x["status"],
            cell(x["realized_pnl"]),
        ]
        for x in t.get("tranches", ())
    ]
    lines.append(
        render(
            ["tranche", "order", "price", "planned", "filled", "avg px", "status", "realized"],
            tranches,
            title="tranches",
            align="rrrrrrlr",
        )
    )
    stops = [[utc(s["ts"]), cell(s["trigger"]), s["cause"]] for s in t.get("stop_history", ())]
    lines.append(render(["time", "trigger", "cause"], stops, title="stop history", align="lrl"))
    lots = [
        [
            lot["order_id"],
            cell(lot["price"]),
            cell(lot["qty"]),
            cell(lot["open_qty"]),
            cell(lot["realized_pnl"]),
            cell(lot.get("unrealized_pnl")),
        ]
        for lot in t.get("lots", ())
    ]
    lines.append(
        render(
            ["lot (order)", "price", "qty", "open", "realized", "unrealized"],
            lots,
            title="lots",
            align="rrrrrr",
        )
    )
    events = t.get("events")
    if events:
        rows = [[e.get("seq"), utc(e.get("ts_event")), e.get("type"), _what(e)] for e in events]
        lines.append(render(["seq", "time", "event", "details"], rows, title="events"))
    return "\n".join(lines)


def _what(e: dict[str, Any]) -> str:
    """The event's telling fields, short."""
    keys = ("order_id", "price", "qty", "trigger", "cause", "reason", "last_qty", "last_px")
    return " ".join(f"{k}={e[k]}" for k in keys if e.get(k) is not None)


def _params_table(rows: Sequence[dict[str, Any]]) -> str:
    table = [
        (
            r["name"],
            r["value"],
            r["default"] + ("" if r.get("seed_default", True) else " (Atlas)"),
            r["source"],
            r["seed"],
        )
        for r in rows
    ]
    return render(
        ("PARAMETER", "VALUE", "DEFAULT", "SOURCE", "SEED"),
        table,
        title="Execution policy parameters in force (seed 001 §16)",
        align="lllll",
    )


# ---------------------------------------------------------------------- commands
def cmd_submit(args: argparse.Namespace, ctx: Context) -> int:
    """Submit a trade intent."""

    def action(client: AtlasClient) -> int:
        body: dict[str, Any] = {
            "intent_id": args.id or f"cli-{uuid.uuid4().hex[:12]}",
            "account_id": account_of(args),
            "symbol": args.symbol,
            "side": args.side,
            "entry_ideal": args.entry,
            "entry_max": args.max if args.max is not None else args.entry,
            "stop": args.stop,
            "risk_amount": args.risk,
            "urgency": args.urgency,
            "bias": args.bias,
            "scale_out": args.scale_out,
            "target_policy": args.targets,
        }
        if args.key_level is not None:
            body["key_level"] = args.key_level
        reply = client.request("POST", "/v1/trades", json=body)
        head = (
            "trade already submitted (the same intent id)"
            if reply.status == 200
            else ("trade submitted")
        )
        return show(args, reply, f"{head}\n" + trade_text(reply.data))

    return run_online(args, ctx, action)


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    """The managed trades the key sees."""

    def action(client: AtlasClient) -> int:
        params = {
            "account_id": args.account,
            "symbol": args.symbol,
            "phase": args.phase,
            "open_only": args.open or None,
        }
        reply = client.request("GET", "/v1/trades", params=params)
        return show(args, reply, trades_table(reply.data["trades"]))

    return run_online(args, ctx, action)


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    """One managed trade in full."""

    def action(client: AtlasClient) -> int:
        reply = client.request("GET", f"/v1/trades/{args.trade_id}")
        return show(args, reply, trade_text(reply.data))

    return run_online(args, ctx, action)


def cmd_params(args: argparse.Namespace, ctx: Context) -> int:
    """The policy parameters in force; ``--set``/``--reset`` change them (admin)."""

    def action(client: AtlasClient) -> int:
        if args.set or args.reset:
            if args.set and args.reset:
                raise UsageError("--set or --reset, not both")
            pairs = parse_pairs(args.set or [], "--set")
            missing = [k for k, v in pairs.items() if v is None]
            if missing:
                raise UsageError(f"--set {missing[0]}: give NAME=VALUE")
            body = {"overrides": pairs, "reason": args.reason}
            reply = client.request("PUT", "/v1/policy/params", json=body)
        else:
            reply = client.request("GET", "/v1/policy/params")
        return show(args, reply, _params_table(reply.data["parameters"]))

    return run_online(args, ctx, action)


def cmd_act(args: argparse.Namespace, ctx: Context) -> int:
    """An action on an open trade: scale out now, tighten its stop, trail only."""

    def action(client: AtlasClient) -> int:
        body: dict[str, Any] = {"action": args.action, "reason": args.reason}
        if args.stop is not None:
            body["stop"] = args.stop
        reply = client.request("POST", f"/v1/trades/{args.trade_id}/actions", json=body)
        return show(args, reply, trade_text(reply.data))

    return run_online(args, ctx, action)


def add_parser(sub: Any) -> None:
    """``atlas trades ACTION``."""
    trades = sub.add_parser("trades", help="managed trades (seed 001) on a running server")
    trades.set_defaults(func=group_help(trades))
    tsub = trades.add_subparsers(dest="trades_command", metavar="ACTION")

    submit = tsub.add_parser("submit", help="submit a trade intent: Atlas derives every order")
    submit.add_argument("symbol", metavar="SYMBOL")
    submit.add_argument("side", type=choice(("BUY", "SELL")), metavar="SIDE", help="buy or sell")
    submit.add_argument("--entry", required=True, type=decimal_text, metavar="PX", help="ideal")
    submit.add_argument(
        "--max", type=decimal_text, metavar="PX", help="the zone's worst entry (default: --entry)"
    )
    submit.add_argument("--stop", required=True, type=decimal_text, metavar="PX", help="stop0")
    submit.add_argument(
        "--risk", required=True, type=decimal_text, metavar="AMOUNT", help="R: the risk unit"
    )
    submit.add_argument("--urgency", type=choice(("LOW", "NORMAL", "HIGH")), default="NORMAL")
    submit.add_argument("--bias", type=choice(("NEUTRAL", "BULLISH", "BEARISH")), default="NEUTRAL")
    submit.add_argument(
        "--scale-out",
        type=choice(("OFF", "CONSERVATIVE", "STANDARD", "AGGRESSIVE")),
        default="STANDARD",
    )
    submit.add_argument(
        "--targets", type=choice(("TRANCHES", "TRAIL_ONLY")), default="TRANCHES", help="policy"
    )
    submit.add_argument("--key-level", type=decimal_text, metavar="PX")
    submit.add_argument("--id", metavar="ID", help="the intent id (idempotency key)")
    account_option(submit)
    server_options(submit)
    submit.set_defaults(func=cmd_submit)

    listing = tsub.add_parser("list", help="the managed trades the key sees")
    account_option(listing)
    listing.add_argument("--symbol", metavar="SYMBOL")
    listing.add_argument("--phase", metavar="PHASE", help="ENTERING, SEEKING, PROTECTED, CLOSED")
    listing.add_argument("--open", action="store_true", help="open trades only")
    server_options(listing)
    listing.set_defaults(func=cmd_list)

    one = tsub.add_parser("show", help="one trade: orders, tranches, stops, lots, P&L, events")
    one.add_argument("trade_id", metavar="ID")
    server_options(one)
    one.set_defaults(func=cmd_show)

    act = tsub.add_parser(
        "act", help="act on an open trade: SCALE_OUT (§6.2), TIGHTEN (§10.1), TRAIL_ONLY (§7)"
    )
    act.add_argument("trade_id", metavar="ID")
    act.add_argument(
        "action", type=choice(("SCALE_OUT", "TIGHTEN", "TRAIL_ONLY")), metavar="ACTION"
    )
    act.add_argument("--stop", type=decimal_text, metavar="PX", help="TIGHTEN: a level to take")
    act.add_argument("--reason", default="", metavar="TEXT", help="why (journaled)")
    server_options(act)
    act.set_defaults(func=cmd_act)

    params = tsub.add_parser("params", help="the policy parameters in force on the server")
    params.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="an override (admin; repeatable)"
    )
    params.add_argument("--reset", action="store_true", help="back to the seed's defaults")
    params.add_argument("--reason", default="", metavar="TEXT", help="why (journaled)")
    server_options(params)
    params.set_defaults(func=cmd_params)
