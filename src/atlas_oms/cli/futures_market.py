"""``atlas futures mark|funding-rate|settle|fund|liquidations``: the market's side of the
derivatives venue (marks and the liquidations they set off, funding, settlement of dated futures,
the insurance funds). The account's side is in :mod:`atlas_oms.cli.futures`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.futures_report import case_json, case_text, liquidation_cases
from atlas_oms.cli.on_either import actor_of, either_options, number, run_either, server_ticks
from atlas_oms.cli.on_journal import derivative, known_account, run_on_journal, ticks
from atlas_oms.cli.options import (
    UsageError,
    by,
    decimal_arg,
    journal_option,
    json_option,
    print_json,
)
from atlas_oms.cli.tables import fmt, money, render, utc
from atlas_oms.model import events as ev
from atlas_oms.runtime.account_history import fund_rows
from atlas_oms.runtime.node import Node

__all__ = ["add_parsers"]


def _print_mark(
    args: argparse.Namespace,
    symbol: str,
    before: Decimal | None,
    events: Sequence[ev.EventBase],
    funds: dict[str, Decimal],
    fund_now: dict[str, Decimal],
    tick_sizes: Callable[[], dict[str, Decimal]],
) -> int:
    cases = liquidation_cases(events)
    if args.json:
        print_json(
            {
                "symbol": symbol,
                "mark": args.price,
                "previous_mark": before,
                "liquidations": [case_json(c) for c in cases],
                "insurance_fund": fund_now,
                "events": [{"type": type(e).__name__} | msgspec.to_builtins(e) for e in events],
            }
        )
        return 0
    last = f", last {fmt(args.last)}" if args.last is not None else ""
    print(f"mark of {symbol}: {fmt(before)} -> {fmt(args.price)}{last}")
    funded = [e for e in events if isinstance(e, ev.FundingSettled)]
    if funded:
        print(
            f"funding settled on {funded[0].symbol} at rate {fmt(funded[0].rate)}, mark "
            f"{fmt(funded[0].mark)}: {len(funded)} positions paid or received"
        )
    for e in events:
        if isinstance(e, ev.OrderTriggered):
            print(f"order #{e.order_id} triggered")
        elif isinstance(e, ev.RiskAlert):
            print(f"alert {e.level} {e.code}: {e.message}")
    if not cases:
        print("no liquidation: no position reached its liquidation price")
    sizes = tick_sizes() if cases else {}
    for case in cases:
        print(case_text(case, sizes))
    for asset in sorted(set(funds) | set(fund_now)):
        old, new = funds.get(asset, Decimal(0)), fund_now.get(asset, Decimal(0))
        if old != new:
            print(f"insurance fund {asset}: {money(old)} -> {money(new)}")
    return 0


def cmd_mark(args: argparse.Namespace, ctx: Context) -> int:
    """A mark price: liquidate what reaches its liquidation price, print what happened."""

    def offline(node: Node) -> int:
        inst = derivative(node, args.symbol)
        before = node.mark_price(inst.symbol)
        funds = node.insurance_funds()
        events = node.update_prices(inst.symbol, mark=args.price, last=args.last)
        fund_now = node.insurance_funds()
        return _print_mark(args, inst.symbol, before, events, funds, fund_now, lambda: ticks(node))

    def online(client: AtlasClient) -> int:
        body: dict[str, Any] = {"mark": str(args.price)}
        if args.last is not None:
            body["last"] = str(args.last)
        data = client.request("POST", f"/v1/instruments/{args.symbol}/mark", json=body).data
        events = msgspec.convert(data["events"], list[ev.Event], strict=False)
        funds = msgspec.convert(data["insurance_funds_before"], dict[str, Decimal], strict=False)
        now = msgspec.convert(data["insurance_funds"], dict[str, Decimal], strict=False)
        before = number(data["previous_mark"])
        return _print_mark(
            args, data["symbol"], before, events, funds, now, lambda: server_ticks(client)
        )

    return run_either(args, ctx, offline, online)


def _print_funding_rate(args: argparse.Namespace, interval_min: int, due: int) -> int:
    if args.json:
        print_json(
            {
                "symbol": args.symbol,
                "rate": args.rate,
                "interval_min": interval_min,
                "next_funding_ts": due,
            }
        )
        return 0
    print(
        f"funding rate of {args.symbol} set to {fmt(args.rate)} "
        f"({fmt(args.rate * 100)}% of the mark value every {interval_min} min; "
        f"positive: longs pay shorts); next settlement at {utc(due)}"
    )
    return 0


def cmd_funding_rate(args: argparse.Namespace, ctx: Context) -> int:
    """Set the rate of a perpetual's next funding; print when it settles."""

    def offline(node: Node) -> int:
        node.set_funding_rate(args.symbol, args.rate)
        funding = node.funding(args.symbol)
        due = funding.next_funding_ts
        if due is None:  # no interval: the next settlement is due at once
            due = funding.last_funding_ts
        return _print_funding_rate(args, funding.interval_min, due)

    def online(client: AtlasClient) -> int:
        path = f"/v1/instruments/{args.symbol}/funding-rate"
        data = client.request("PUT", path, json={"rate": str(args.rate)}).data
        return _print_funding_rate(args, int(data["interval_min"]), int(data["next_funding_ts"]))

    return run_either(args, ctx, offline, online)


def _print_settle(args: argparse.Namespace, settled: list[dict[str, Any]]) -> int:
    if args.json:
        print_json({"symbol": args.symbol, "price": args.price, "settled": settled})
        return 0
    print(
        f"{args.symbol} settled at {fmt(args.price)} by {args.actor}: "
        f"{len(settled)} positions closed; it no longer trades"
    )
    return 0


def cmd_settle(args: argparse.Namespace, ctx: Context) -> int:
    """Cash-settle an expired dated future at its settlement price."""

    def offline(node: Node) -> int:
        before = {
            p.account_id: p.qty for p in node.positions() if p.symbol == args.symbol and p.qty
        }
        node.settle_future(args.symbol, args.price, actor=args.actor, reason=args.reason)
        settled = []
        for account, qty in sorted(before.items()):
            view = node.position(account, args.symbol)
            pnl = view.realized_pnl if view is not None else None
            settled.append({"account_id": account, "qty": qty, "realized_pnl": pnl})
        return _print_settle(args, settled)

    def online(client: AtlasClient) -> int:
        body = {"price": str(args.price), "reason": args.reason}
        data = client.request("POST", f"/v1/instruments/{args.symbol}/settle", json=body).data
        settled = [
            {
                "account_id": row["account_id"],
                "qty": number(row["qty"]),
                "realized_pnl": number(row["realized_pnl"]),
            }
            for row in data["settled"]
        ]
        args.actor = actor_of(client)
        return _print_settle(args, settled)

    return run_either(args, ctx, offline, online, needs_actor=True)


def _print_funds(
    args: argparse.Namespace, where: dict[str, str], rows: list[dict[str, Any]]
) -> int:
    if args.json:
        print_json(where | {"insurance_funds": rows})
        return 0
    print(f"Insurance funds in {next(iter(where.values()))}")
    print(
        render(
            ["asset", "deposited", "from liquidations", "to liquidations", "balance"],
            [
                [
                    r["asset"],
                    money(r["deposited"]),
                    money(r["from_liquidations"], sign=True),
                    money(r["to_liquidations"]),
                    money(r["balance"]),
                ]
                for r in rows
            ],
        )
    )
    return 0


def _print_deposit(args: argparse.Namespace, balance: Decimal) -> int:
    if args.json:
        print_json({"asset": args.asset, "amount": args.amount, "balance": balance})
        return 0
    way = "deposit" if args.amount > 0 else "withdrawal"
    print(
        f"insurance fund {args.asset}: {way} of {fmt(abs(args.amount))} "
        f"{by(args.actor, args.reason)}; balance {fmt(balance)}"
    )
    return 0


def cmd_fund(args: argparse.Namespace, ctx: Context) -> int:
    """Show the insurance funds, or deposit to one (a negative amount withdraws)."""

    def offline(node: Node) -> int:
        if args.amount is None:
            rows = fund_rows(node.events(), node.insurance_funds(), args.asset)
            return _print_funds(args, {"journal": args.journal}, rows)
        if not args.actor:
            raise UsageError("a deposit to the insurance fund needs --actor WHO")
        balance = node.deposit_insurance_fund(
            args.asset, args.amount, actor=args.actor, reason=args.reason
        )
        return _print_deposit(args, balance)

    def online(client: AtlasClient) -> int:
        if args.amount is None:
            data = client.request("GET", "/v1/insurance-funds", params={"asset": args.asset}).data
            rows = [
                {k: (v if k == "asset" else number(v)) for k, v in row.items()}
                for row in data["insurance_funds"]
            ]
            return _print_funds(args, {"server": client.url}, rows)
        body = {"amount": str(args.amount), "reason": args.reason}
        path = f"/v1/insurance-funds/{args.asset}/deposits"
        data = client.request("POST", path, json=body).data
        args.actor = actor_of(client)
        balance = number(data["balance"])
        assert balance is not None
        return _print_deposit(args, balance)

    return run_either(args, ctx, offline, online, readonly=args.amount is None)


def cmd_liquidations(args: argparse.Namespace, ctx: Context) -> int:
    """Liquidation history: steps, fills against the bankruptcy price, fund, ADL."""

    def action(node: Node) -> int:
        known_account(node, args.account, args.journal)
        cases = liquidation_cases(node.events(), node.fills())
        if args.account is not None:
            cases = [c for c in cases if args.account in c.accounts()]
        if args.json:
            print_json(
                {
                    "journal": args.journal,
                    "account": args.account,
                    "liquidations": [case_json(c) for c in cases],
                }
            )
            return 0
        who = f" concerning {args.account} (liquidated or deleveraged)" if args.account else ""
        print(f"Liquidations in {args.journal}{who}: {len(cases) or 'none'}")
        tick_sizes = ticks(node)
        for case in cases:
            started = case.started
            print(f"\nseq {started.seq} at {utc(started.ts_event)}")
            print(case_text(case, tick_sizes))
        return 0

    return run_on_journal(args, ctx, action, readonly=True)


def add_parsers(fsub: Any) -> None:
    """``atlas futures mark|funding-rate|settle|fund|liquidations``."""
    mark = fsub.add_parser(
        "mark", help="a mark price: liquidates what reaches its liquidation price, prints it"
    )
    mark.add_argument("symbol", metavar="SYMBOL")
    mark.add_argument("price", type=decimal_arg, metavar="PRICE")
    mark.add_argument("--last", type=decimal_arg, metavar="PRICE", help="also a last trade price")
    journal_option(mark)
    json_option(mark)
    either_options(mark)
    mark.set_defaults(func=cmd_mark)

    rate = fsub.add_parser("funding-rate", help="the rate of a perpetual's next funding")
    rate.add_argument("symbol", metavar="SYMBOL")
    rate.add_argument("rate", type=decimal_arg, metavar="RATE", help="0.0001 = 0.01%%")
    journal_option(rate)
    json_option(rate)
    either_options(rate)
    rate.set_defaults(func=cmd_funding_rate)

    settle = fsub.add_parser(
        "settle", help="cash-settle an expired dated future at its settlement price"
    )
    settle.add_argument("symbol", metavar="SYMBOL")
    settle.add_argument("price", type=decimal_arg, metavar="PRICE")
    journal_option(settle)
    settle.add_argument("--actor", metavar="WHO", help="who settles (journaled; offline only)")
    settle.add_argument("--reason", default="expiry", metavar="WHY", help="why (journaled)")
    json_option(settle)
    either_options(settle)
    settle.set_defaults(func=cmd_settle)

    fund = fsub.add_parser(
        "fund",
        help="show the insurance funds, or deposit to one (negative: withdraw)",
        description="Without AMOUNT: the insurance funds (deposits, what liquidations paid in "
        "and took out, balance). With ASSET AMOUNT: a deposit (journaled, needs --actor).",
    )
    fund.add_argument("asset", nargs="?", metavar="ASSET")
    fund.add_argument("amount", nargs="?", type=decimal_arg, metavar="AMOUNT")
    journal_option(fund)
    fund.add_argument("--actor", metavar="WHO", help="who deposits (journaled)")
    fund.add_argument("--reason", default="", metavar="WHY", help="why (journaled; optional)")
    json_option(fund)
    either_options(fund)
    fund.set_defaults(func=cmd_fund)

    liqs = fsub.add_parser(
        "liquidations",
        help="liquidation history: steps, fills against the bankruptcy price, fund, ADL",
    )
    liqs.add_argument(
        "account", nargs="?", metavar="ACCOUNT", help="only cases it was liquidated or ADL'd in"
    )
    journal_option(liqs, readonly=True)
    json_option(liqs)
    liqs.set_defaults(func=cmd_liquidations)
