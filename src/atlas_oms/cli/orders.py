"""``atlas order submit|get|modify|cancel|cancel-all|list``, ``atlas positions`` and
``atlas balances``: an account's orders and holdings on a running server.

``submit`` takes every field of :class:`~atlas_oms.model.commands.SubmitOrder` a user gives
(:func:`~atlas_oms.model.commands.user_submit_fields`): positional ``SYMBOL SIDE QTY [PRICE]``,
an option for each of the others. :data:`SUBMIT_DESTS` names the options whose argparse name
differs from the field; the request body always uses the field's own name. A price makes a LIMIT
order, no price a MARKET order, unless ``--type`` says.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from atlas_oms.cli import history
from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_server import account_of, run_online, show
from atlas_oms.cli.options import (
    UsageError,
    account_option,
    choice,
    decimal_text,
    group_help,
    server_options,
)
from atlas_oms.cli.tables import cell, render
from atlas_oms.model.commands import user_submit_fields
from atlas_oms.model.enums import (
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from atlas_oms.model.risk import MarketOrderReason

__all__ = [
    "SUBMIT_DESTS",
    "add_holdings_parsers",
    "add_parser",
    "balances_table",
    "orders_table",
    "positions_table",
    "submit_body",
]

#: SubmitOrder fields whose ``atlas order submit`` argument has another name (its argparse dest).
SUBMIT_DESTS = {"account_id": "account", "order_type": "type", "client_order_id": "client_id"}

ORDER_HEADERS = [
    "id",
    "account",
    "symbol",
    "side",
    "type",
    "qty",
    "price",
    "filled",
    "avg px",
    "status",
    "reason",
    "client id",
]


def orders_table(orders: Sequence[dict[str, Any]]) -> str:
    """Orders as the server sent them (JSON), one row each; a stop shows its trigger price."""
    rows = [
        [
            o["order_id"],
            o["account_id"],
            o["symbol"],
            o["side"],
            o["order_type"],
            cell(o["qty"]),
            cell(o["price"] if o["price"] is not None else o.get("trigger_price")),
            cell(o["cum_qty"]),
            cell(o["avg_px"]),
            o["status"],
            cell(o["reason"]),
            cell(o["client_order_id"]),
        ]
        for o in orders
    ]
    return render(ORDER_HEADERS, rows, align="rlllrrrrrlll")


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


def submit_body(args: argparse.Namespace) -> dict[str, Any]:
    """The REST body of ``atlas order submit``: every SubmitOrder field the user gave, by its
    field name (flags only when set, so the server's defaults stay the defaults)."""
    body: dict[str, Any] = {}
    for field in user_submit_fields():
        value = getattr(args, SUBMIT_DESTS.get(field, field))
        if value is not None and value is not False:
            body[field] = value
    body["account_id"] = account_of(args)
    body["order_type"] = args.type or ("LIMIT" if args.price is not None else "MARKET")
    if args.venue is not None:
        body["venue"] = "SMART" if args.venue.upper() == "SMART" else args.venue
    return body


def cmd_submit(args: argparse.Namespace, ctx: Context) -> int:
    """Submit one order; a retry with a known client id answers with the original order."""

    def action(client: AtlasClient) -> int:
        reply = client.submit(submit_body(args))
        o = reply.data
        if "algo_id" in o:  # venue SMART: a parent order, and where and why it went
            from atlas_oms.cli.algos import algo_text

            note = " (a retry: the parent with this client id)" if reply.status == 200 else ""
            return show(
                args, reply, f"SMART parent {o['algo_id']} {o['status']}{note}\n" + algo_text(o)
            )
        note = " (a retry: the original order with this client id)" if reply.status == 200 else ""
        return show(
            args, reply, f"order #{o['order_id']} {o['status']}{note}\n" + orders_table([o])
        )

    return run_online(args, ctx, action)


def cmd_get(args: argparse.Namespace, ctx: Context) -> int:
    """One order."""

    def action(client: AtlasClient) -> int:
        reply = client.order(account_of(args), args.order_id)
        return show(args, reply, orders_table([reply.data]))

    return run_online(args, ctx, action)


def cmd_modify(args: argparse.Namespace, ctx: Context) -> int:
    """Change an open order's quantity, price or trigger price."""

    def action(client: AtlasClient) -> int:
        if args.qty is None and args.price is None and args.trigger_price is None:
            raise UsageError("nothing to change: pass --qty, --price or --trigger-price")
        reply = client.modify(
            account_of(args),
            args.order_id,
            qty=args.qty,
            price=args.price,
            trigger_price=args.trigger_price,
        )
        o = reply.data
        return show(args, reply, f"order #{o['order_id']} modified\n" + orders_table([o]))

    return run_online(args, ctx, action)


def cmd_cancel(args: argparse.Namespace, ctx: Context) -> int:
    """Cancel an open order."""

    def action(client: AtlasClient) -> int:
        reply = client.cancel(account_of(args), args.order_id)
        o = reply.data
        return show(args, reply, f"order #{o['order_id']} {o['status']}\n" + orders_table([o]))

    return run_online(args, ctx, action)


def cmd_cancel_all(args: argparse.Namespace, ctx: Context) -> int:
    """Cancel an account's open orders (of one symbol, or all)."""

    def action(client: AtlasClient) -> int:
        account = account_of(args)
        reply = client.cancel_all(account, args.symbol)
        canceled, refused = reply.data["canceled"], reply.data["refused"]
        where = f"account {account}" + (f", {args.symbol}" if args.symbol else "")
        lines = [f"{where}: {len(canceled) or 'no'} open order(s) canceled"]
        if canceled:
            lines.append("canceled: " + ", ".join(f"#{i}" for i in canceled))
        lines += [f"not canceled: #{r['order_id']}: {r['reason']}" for r in refused]
        return show(args, reply, "\n".join(lines))

    return run_online(args, ctx, action)


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    """A page of an account's orders, oldest first; where the next page starts on stderr."""

    def action(client: AtlasClient) -> int:
        reply = client.orders(
            account_of(args),
            status=args.status,
            symbol=args.symbol,
            open_only=True if args.open else None,
            after=args.after or None,
            limit=args.limit,
        )
        page = reply.data
        show(args, reply, orders_table(page["orders"]))
        if page["next_after"] is not None and not args.json:
            print(f"more orders: add --after {page['next_after']}", file=sys.stderr)
        return 0

    return run_online(args, ctx, action)


def cmd_positions(args: argparse.Namespace, ctx: Context) -> int:
    """An account's open positions (``--closed``: its closed ones; ``--stats``: statistics)."""
    if args.closed:
        return history.cmd_closed(args, ctx)
    if args.stats:
        return history.cmd_position_stats(args, ctx)

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


def _submit_parser(osub: Any) -> None:
    submit = osub.add_parser(
        "submit",
        help="submit an order: SYMBOL SIDE QTY [PRICE]",
        description="A price makes a LIMIT order, no price a MARKET order, unless --type says.",
    )
    submit.add_argument("symbol", metavar="SYMBOL")
    submit.add_argument("side", type=choice(Side), metavar="SIDE", help="buy or sell")
    submit.add_argument("qty", type=decimal_text, metavar="QTY")
    submit.add_argument("price", type=decimal_text, nargs="?", metavar="PRICE")
    account_option(submit)
    submit.add_argument("--type", type=choice(OrderType), metavar="TYPE")
    submit.add_argument("--tif", type=choice(TimeInForce), metavar="TIF")
    submit.add_argument(
        "--expire-ts", type=int, metavar="NS", help="GTD: when it expires, epoch nanoseconds"
    )
    submit.add_argument(
        "--display-qty",
        type=decimal_text,
        metavar="QTY",
        help="an iceberg: only this much shows in the book at a time (limit orders)",
    )
    submit.add_argument("--trigger-price", type=decimal_text, metavar="PX")
    submit.add_argument(
        "--trigger-type",
        type=choice(TriggerType),
        metavar="LAST|MARK",
        help="the price that fires a stop or take-profit (LAST)",
    )
    submit.add_argument(
        "--trailing-offset",
        type=decimal_text,
        metavar="OFFSET",
        help="a trailing stop's distance from the best price: a price, or a percentage",
    )
    submit.add_argument(
        "--trailing-offset-type",
        type=choice(TrailingOffsetType),
        metavar="PRICE|PERCENT",
        help="how --trailing-offset reads (PRICE)",
    )
    submit.add_argument(
        "--limit-offset",
        type=decimal_text,
        metavar="PX",
        help="a trailing-stop-limit's limit price, this far beyond its trigger",
    )
    submit.add_argument("--client-id", metavar="ID", help="idempotency key (client_order_id)")
    submit.add_argument(
        "--venue",
        metavar="VENUE",
        help="SMART: route it across venues (a parent order: atlas algo show); "
        "or the symbol's own venue",
    )
    submit.add_argument("--tag", metavar="TAG", help="strategy tag")
    submit.add_argument("--position-side", type=choice(PositionSide), metavar="SIDE")
    submit.add_argument("--post-only", action="store_true")
    submit.add_argument("--reduce-only", action="store_true")
    submit.add_argument(
        "--extended-hours",
        action="store_true",
        help="equities: may execute in the pre- and post-market sessions",
    )
    submit.add_argument(
        "--market-reason",
        type=choice(MarketOrderReason),
        metavar="REASON",
        help="why this market order is allowed under the market-order policy (audited)",
    )
    server_options(submit)
    submit.set_defaults(func=cmd_submit)


def add_parser(sub: Any) -> None:
    """``atlas order ACTION``."""
    order = sub.add_parser("order", help="orders on a running Atlas server (atlas serve)")
    order.set_defaults(func=group_help(order))
    osub = order.add_subparsers(dest="order_command", metavar="ACTION")
    _submit_parser(osub)

    get = osub.add_parser("get", help="one order")
    get.add_argument("order_id", type=int, metavar="ORDER_ID")
    account_option(get)
    server_options(get)
    get.set_defaults(func=cmd_get)

    modify = osub.add_parser("modify", help="change an open order's quantity or price")
    modify.add_argument("order_id", type=int, metavar="ORDER_ID")
    account_option(modify)
    modify.add_argument("--qty", type=decimal_text, metavar="QTY")
    modify.add_argument("--price", type=decimal_text, metavar="PX")
    modify.add_argument("--trigger-price", type=decimal_text, metavar="PX")
    server_options(modify)
    modify.set_defaults(func=cmd_modify)

    cancel = osub.add_parser("cancel", help="cancel an open order")
    cancel.add_argument("order_id", type=int, metavar="ORDER_ID")
    account_option(cancel)
    server_options(cancel)
    cancel.set_defaults(func=cmd_cancel)

    cancel_all = osub.add_parser("cancel-all", help="cancel an account's open orders")
    account_option(cancel_all)
    cancel_all.add_argument("--symbol", metavar="SYMBOL", help="only this instrument's")
    server_options(cancel_all)
    cancel_all.set_defaults(func=cmd_cancel_all)

    listing = osub.add_parser("list", help="an account's orders, oldest first, a page at a time")
    account_option(listing)
    listing.add_argument("--status", type=choice(OrderStatus), metavar="STATUS")
    listing.add_argument("--symbol", metavar="SYMBOL")
    listing.add_argument("--open", action="store_true", help="only live orders")
    listing.add_argument("--after", type=int, default=0, metavar="ID", help="orders after id ID")
    listing.add_argument("--limit", type=int, default=100, metavar="N", help="page size (100)")
    server_options(listing)
    listing.set_defaults(func=cmd_list)


def add_holdings_parsers(sub: Any) -> None:
    """``atlas positions`` and ``atlas balances``."""
    positions = sub.add_parser("positions", help="an account's open positions (on a server)")
    account_option(positions)
    positions.add_argument("--closed", action="store_true", help="closed positions instead")
    positions.add_argument(
        "--stats",
        action="store_true",
        help="statistics: open positions, round trips, win rate, P&L, fees",
    )
    positions.add_argument(
        "--symbol", metavar="SYMBOL", help="with --closed or --stats: only this one"
    )
    history.page_options(positions)
    server_options(positions)
    positions.set_defaults(func=cmd_positions)

    balances = sub.add_parser("balances", help="an account's balances (on a server)")
    account_option(balances)
    server_options(balances)
    balances.set_defaults(func=cmd_balances)
