"""``atlas risk status|limits|state|kill|reset-kill|reset-breaker|market``: the risk controls of a
journal, one operator action per command (each journaled with ``--actor`` and ``--reason``).

``kill`` and ``reset-kill`` are the kill switch's own command (:mod:`atlas_oms.cli.kill`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from atlas_oms.cli.context import Context
from atlas_oms.cli.kill import add_kill_parser, add_reset_parser
from atlas_oms.cli.on_journal import known_account, run_on_journal
from atlas_oms.cli.options import (
    RISK_SCOPES,
    UsageError,
    by,
    convert_fields,
    group_help,
    journal_option,
    json_option,
    operator_options,
    parse_pairs,
    scope_arguments,
    scope_name,
    scope_of,
)
from atlas_oms.cli.risk_report import limit_items, status_text
from atlas_oms.cli.tables import render, utc
from atlas_oms.model.numbers import parse_decimal
from atlas_oms.model.risk import BreakerConfig, MarketStatus, RiskLimits, TradingState, explicit
from atlas_oms.runtime.node import Node

__all__ = ["MARKET_CHOICES", "add_parser", "limits_from_args"]

MARKET_CHOICES = (*(s.value for s in MarketStatus), "SCHEDULE")


def limits_from_args(args: argparse.Namespace, current: RiskLimits | None) -> RiskLimits:
    """The RiskLimits an ``atlas risk limits`` command line describes."""
    fields: dict[str, Any] = {}
    if args.update and current is not None:
        fields.update(msgspec.to_builtins(current))
    if args.from_file:
        try:
            loaded = json.loads(Path(args.from_file).read_text("utf-8"), parse_float=parse_decimal)
        except OSError as exc:
            raise UsageError(f"cannot read {args.from_file}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise UsageError(f"{args.from_file} is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise UsageError(f"{args.from_file} must hold one JSON object of limits")
        fields.update(loaded)
    fields.update(parse_pairs(args.set or (), "--set"))
    if args.breaker:
        breaker = fields.get("breaker")
        merged = dict(breaker) if isinstance(breaker, dict) else {}
        merged.update(parse_pairs(args.breaker, "--breaker"))
        convert_fields(merged, BreakerConfig, "breaker setting")  # names a bad key or value
        fields["breaker"] = merged
    elif isinstance(fields.get("breaker"), dict):
        convert_fields(fields["breaker"], BreakerConfig, "breaker setting")
    return convert_fields(fields, RiskLimits, "limit")


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    """Trading states, kill switches, breakers, limits and market halts (read-only)."""

    def action(node: Node) -> int:
        known_account(node, args.account, args.journal)
        now = node.clock.now()
        status = node.risk_status(args.account)
        if args.json:
            status["limits"] = [
                {**entry, "limits": explicit(entry["limits"])} for entry in status["limits"]
            ]
            print(msgspec.json.encode({"journal": args.journal, "as_of": now, **status}).decode())
            return 0
        scope = f", account {args.account} and what governs it" if args.account else ""
        print(f"Risk status of {args.journal} at {utc(now)}{scope}")
        print(status_text(status, now))
        return 0

    return run_on_journal(args, ctx, action, readonly=True)


def cmd_limits(args: argparse.Namespace, ctx: Context) -> int:
    """Replace (or, with ``--update``, amend) one scope's limits."""

    def action(node: Node) -> int:
        scope, scope_id = scope_of(args)
        previous = node.risk_limits(scope, scope_id)
        breaker = node.breaker_status(scope, scope_id)
        was_open = breaker is not None and breaker["state"] == "OPEN"
        limits = limits_from_args(args, previous)
        node.set_limits(scope, scope_id, limits, actor=args.actor, reason=args.reason)
        name = scope_name(scope, scope_id)
        print(f"limits of {name} set {by(args.actor, args.reason)}")
        print(render(["limit", "value"], limit_items(limits), align="ll"))
        if previous is not None and previous.breaker is not None and limits.breaker is None:
            state = "; it was OPEN: new orders are no longer stopped by it" if was_open else ""
            print(
                f"note: {name} no longer has a circuit breaker{state} (pass --breaker, or "
                "--update to keep what is not named)",
                file=sys.stderr,
            )
        return 0

    return run_on_journal(args, ctx, action)


def cmd_state(args: argparse.Namespace, ctx: Context) -> int:
    """Set a scope's trading state: ACTIVE, REDUCING or HALTED."""

    def action(node: Node) -> int:
        *ids, state = args.target
        if len(ids) > 1:
            raise UsageError("write: atlas risk state SCOPE [ID] STATE")
        args.scope_id = ids[0] if ids else ""
        scope, scope_id = scope_of(args)
        try:
            value = TradingState(state.upper())
        except ValueError:
            raise UsageError(
                f"unknown trading state {state!r}: {', '.join(s.value for s in TradingState)}"
            ) from None
        node.set_trading_state(scope, scope_id, value, actor=args.actor, reason=args.reason)
        print(f"{scope_name(scope, scope_id)} is {value} {by(args.actor, args.reason)}")
        return 0

    return run_on_journal(args, ctx, action)


def cmd_reset_breaker(args: argparse.Namespace, ctx: Context) -> int:
    """Reset an open circuit breaker after its cool-down."""

    def action(node: Node) -> int:
        scope, scope_id = scope_of(args)
        node.reset_breaker(scope, scope_id, actor=args.actor, reason=args.reason)
        name = scope_name(scope, scope_id)
        print(f"circuit breaker of {name} reset {by(args.actor, args.reason)}")
        return 0

    return run_on_journal(args, ctx, action)


def cmd_market(args: argparse.Namespace, ctx: Context) -> int:
    """Halt, close or reopen an instrument, or return it to its schedule."""

    def action(node: Node) -> int:
        status = None if args.status == "SCHEDULE" else MarketStatus(args.status)
        node.set_market_status(args.symbol, status, actor=args.actor, reason=args.reason)
        if status is None:
            print(f"{args.symbol} follows its schedule again ({by(args.actor, args.reason)})")
        else:
            print(f"{args.symbol} is {status} {by(args.actor, args.reason)}")
        return 0

    return run_on_journal(args, ctx, action)


def add_parser(sub: Any) -> None:
    """``atlas risk ACTION``."""
    risk = sub.add_parser(
        "risk", help="risk controls on a journal: status, limits, trading states, breakers"
    )
    risk.set_defaults(func=group_help(risk))
    rsub = risk.add_subparsers(dest="risk_command", metavar="ACTION")

    status = rsub.add_parser("status", help="trading states, kill switches, breakers, limits")
    journal_option(status, readonly=True)
    status.add_argument("--account", metavar="A", help="only what governs account A")
    json_option(status)
    status.set_defaults(func=cmd_status)

    limits = rsub.add_parser(
        "limits",
        help="replace one scope's limits",
        description="Replace one scope's limits: KEY=VALUE pairs name RiskLimits fields "
        "(--set) and the circuit breaker's BreakerConfig fields (--breaker); 'none' clears one.",
    )
    scope_arguments(limits, optional=False)
    limits.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a limit (repeatable)"
    )
    limits.add_argument(
        "--breaker",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a circuit-breaker setting (repeatable); the others take their defaults",
    )
    limits.add_argument("--from-file", metavar="FILE", help="a JSON object of limits")
    limits.add_argument(
        "--update",
        action="store_true",
        help="start from the scope's current limits (and breaker) instead of none",
    )
    operator_options(limits, reason_required=False)
    limits.set_defaults(func=cmd_limits)

    state = rsub.add_parser("state", help="set a scope's trading state: ACTIVE, REDUCING, HALTED")
    state.add_argument(
        "scope", type=str.lower, choices=RISK_SCOPES, metavar="SCOPE", help="global, account…"
    )
    state.add_argument(
        "target", nargs="+", metavar="[ID] STATE", help="the scope's id, then the state"
    )
    operator_options(state)
    state.set_defaults(func=cmd_state)

    add_kill_parser(rsub, "kill", "fire a kill switch (same as atlas kill)")
    add_reset_parser(rsub)

    reset_breaker = rsub.add_parser(
        "reset-breaker", help="reset an open circuit breaker after its cool-down"
    )
    scope_arguments(reset_breaker, optional=False)
    operator_options(reset_breaker)
    reset_breaker.set_defaults(func=cmd_reset_breaker)

    market = rsub.add_parser(
        "market", help="halt, close or reopen an instrument, or return it to its schedule"
    )
    market.add_argument("symbol", metavar="SYMBOL")
    market.add_argument(
        "status",
        type=str.upper,
        choices=MARKET_CHOICES,
        metavar="|".join((*(s.value for s in MarketStatus), "schedule")),
    )
    operator_options(market)
    market.set_defaults(func=cmd_market)
