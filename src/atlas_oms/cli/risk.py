"""``atlas risk status|limits|state|kill|reset-kill|reset-breaker|market``: the risk controls of a
journal, one operator action per command (each journaled with ``--actor`` and ``--reason``), and
the risk book as text (``Node.risk_status()`` as tables, circuit breakers side by side, a scope's
limits as rows; the demo prints them too).

``kill`` and ``reset-kill`` are the kill switch's own command (:mod:`atlas_oms.cli.kill`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.kill import add_kill_parser, add_reset_parser
from atlas_oms.cli.on_either import actor_of, either_options, run_either
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
    print_json,
    scope_arguments,
    scope_name,
    scope_of,
)
from atlas_oms.cli.tables import fmt, render, utc
from atlas_oms.model.numbers import NotANumber, parse_decimal
from atlas_oms.model.risk import BreakerConfig, MarketStatus, RiskLimits, TradingState, explicit
from atlas_oms.runtime.node import Node

__all__ = [
    "MARKET_CHOICES",
    "add_parser",
    "breaker_table",
    "limit_items",
    "limits_from_args",
    "status_text",
]

MARKET_CHOICES = (*(s.value for s in MarketStatus), "SCHEDULE")


# ------------------------------------------------------------------------------- the report
def limit_items(limits: RiskLimits) -> list[tuple[str, str]]:
    """The limits a scope sets (defaults left out), as (name, value) rows; the breaker in one row."""
    items = explicit(limits)
    breaker: Any = items.pop("breaker", None)
    rows = [(k, _show(v)) for k, v in items.items()]
    if limits.breaker is not None:
        own = ", ".join(f"{k}={_show(v)}" for k, v in (breaker or {}).items())
        rows.append(("breaker", (own + "; others default") if own else "defaults"))
    return rows or [("(none)", "")]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        try:
            return fmt(parse_decimal(value))
        except NotANumber:
            return value
    return str(value)


def _of(report: dict[str, Any], name: str, limit: Any) -> str:
    return f"{report[name]} of {limit}" if limit is not None else str(report[name])


def _cause(report: dict[str, Any]) -> str:
    """Why the breaker tripped; for a closed one, why it tripped last (the report keeps it)."""
    if not report["cause"]:
        return "-"
    text = f"{report['cause']}: {report['message']}"
    return text if report["state"] == "OPEN" else f"last trip: {text}"


def _pct(value: Decimal | None, limit: Decimal | None) -> str:
    text = fmt(value, 4)
    return f"{text} (limit {fmt(limit)})" if limit is not None else text


_BREAKER_ROWS = [
    "state",
    "cause",
    "tripped at",
    "may reset at",
    "auto-reset at",
    "equity",
    "daily P&L",
    "daily loss %",
    "drawdown %",
    "consecutive losses",
    "consecutive errors",
    "orders last minute",
    "orders last hour",
    "trips",
]


def breaker_table(reports: Sequence[dict[str, Any]], now: int | None = None) -> str:
    """Circuit-breaker status reports side by side: one column per breaker."""
    headers = ["circuit breaker", *(scope_name(r["scope"], r["scope_id"]) for r in reports)]
    columns = []
    for r in reports:
        cfg: BreakerConfig = r["config"]
        state = r["state"]
        due = r["auto_reset_at"]
        if state == "OPEN" and now is not None and due is not None and now >= due:
            state += " (auto-reset due: on the next order or timer tick)"
        columns.append(
            [
                state,
                _cause(r),
                utc(r["tripped_at"]),
                utc(r["may_reset_at"]),
                utc(r["auto_reset_at"]),
                "-" if r["equity"] is None else f"{fmt(r['equity'], 2)} {cfg.currency}",
                fmt(r["daily_pnl"], 2),
                _pct(r["daily_loss_pct"], cfg.max_daily_loss_pct),
                _pct(r["drawdown_pct"], cfg.max_drawdown_pct),
                _of(r, "consecutive_losses", cfg.max_consecutive_losses),
                _of(r, "consecutive_errors", cfg.max_consecutive_errors),
                _of(r, "orders_last_minute", cfg.max_orders_per_minute),
                _of(r, "orders_last_hour", cfg.max_orders_per_hour),
                str(r["trips"]),
            ]
        )
    rows = [[label, *(col[i] for col in columns)] for i, label in enumerate(_BREAKER_ROWS)]
    return render(headers, rows if reports else [], align="l" * len(headers))


def status_text(status: dict[str, Any], now: int) -> str:
    """``Node.risk_status()`` as readable tables; an empty section is one line."""
    parts: list[str] = []

    def section(title: str, none: str, headers: list[str], rows: list[list[Any]]) -> None:
        if not rows:
            parts.append(f"{title}: {none}")
        else:
            parts.extend([f"{title}:", render(headers, rows, align="l" * len(headers))])

    section(
        "Trading states",
        "none set (everything ACTIVE)",
        ["scope", "id", "state", "since", "actor", "reason"],
        [
            [s["scope"], s["scope_id"], s["state"], utc(s["since"]), s["actor"], s["reason"]]
            for s in status["trading_states"]
        ],
    )
    section(
        "Kill switches",
        "none active",
        ["scope", "id", "since", "actor", "reason", "flatten"],
        [
            [k["scope"], k["scope_id"], utc(k["since"]), k["actor"], k["reason"], k["flatten"]]
            for k in status["kill_switches"]
        ],
    )
    if status["circuit_breakers"]:
        parts += ["Circuit breakers:", breaker_table(status["circuit_breakers"], now)]
    else:
        parts.append("Circuit breakers: none configured")
    section(
        "Limits (per scope; where several scopes set one, the tightest wins)",
        "none set",
        ["scope", "id", "limit", "value"],
        [
            [entry["scope"], entry["scope_id"], name, value]
            for entry in status["limits"]
            for name, value in limit_items(entry["limits"])
        ],
    )
    section(
        "Market status overrides",
        "none (every instrument follows its schedule)",
        ["symbol", "status"],
        [[symbol, value] for symbol, value in status["market_status"].items()],
    )
    return "\n".join(parts)


# ------------------------------------------------------------------------------ the commands
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
            print_json({"journal": args.journal, "as_of": now, **status})
            return 0
        scope = f", account {args.account} and what governs it" if args.account else ""
        print(f"Risk status of {args.journal} at {utc(now)}{scope}")
        print(status_text(status, now))
        return 0

    return run_on_journal(args, ctx, action, readonly=True)


def _print_limits(
    args: argparse.Namespace,
    scope: str,
    scope_id: str,
    previous: RiskLimits | None,
    limits: RiskLimits,
    was_open: bool,
) -> int:
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


def cmd_limits(args: argparse.Namespace, ctx: Context) -> int:
    """Replace (or, with ``--update``, amend) one scope's limits."""

    def offline(node: Node) -> int:
        scope, scope_id = scope_of(args)
        previous = node.risk_limits(scope, scope_id)
        breaker = node.breaker_status(scope, scope_id)
        was_open = breaker is not None and breaker["state"] == "OPEN"
        limits = limits_from_args(args, previous)
        node.set_limits(scope, scope_id, limits, actor=args.actor, reason=args.reason)
        return _print_limits(args, scope, scope_id, previous, limits, was_open)

    def online(client: AtlasClient) -> int:
        scope, scope_id = scope_of(args)
        status = client.request("GET", "/v1/risk/status").data
        found = next(
            (e for e in status["limits"] if (e["scope"], e["scope_id"]) == (scope, scope_id)),
            None,
        )
        previous = (
            None if found is None else msgspec.convert(found["limits"], RiskLimits, strict=False)
        )
        was_open = any(
            (b["scope"], b["scope_id"], b["state"]) == (scope, scope_id, "OPEN")
            for b in status["circuit_breakers"]
        )
        limits = limits_from_args(args, previous)
        # The server wants a reason; offline it is optional.
        reason = args.reason or "limits set from the command line"
        body = {"scope": scope, "scope_id": scope_id, "limits": explicit(limits), "reason": reason}
        client.request("PUT", "/v1/risk/limits", json=msgspec.to_builtins(body))
        args.actor = actor_of(client)
        return _print_limits(args, scope, scope_id, previous, limits, was_open)

    return run_either(args, ctx, offline, online, needs_actor=True)


def _state_of(args: argparse.Namespace) -> tuple[str, str, TradingState]:
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
    return scope, scope_id, value


def cmd_state(args: argparse.Namespace, ctx: Context) -> int:
    """Set a scope's trading state: ACTIVE, REDUCING or HALTED."""

    def offline(node: Node) -> int:
        scope, scope_id, value = _state_of(args)
        node.set_trading_state(scope, scope_id, value, actor=args.actor, reason=args.reason)
        print(f"{scope_name(scope, scope_id)} is {value} {by(args.actor, args.reason)}")
        return 0

    def online(client: AtlasClient) -> int:
        scope, scope_id, value = _state_of(args)
        body = {"scope": scope, "scope_id": scope_id, "state": value.value, "reason": args.reason}
        client.request("PUT", "/v1/risk/state", json=body)
        print(f"{scope_name(scope, scope_id)} is {value} {by(actor_of(client), args.reason)}")
        return 0

    return run_either(args, ctx, offline, online, needs_actor=True)


def cmd_reset_breaker(args: argparse.Namespace, ctx: Context) -> int:
    """Reset an open circuit breaker after its cool-down."""

    def done(scope: str, scope_id: str, actor: str) -> int:
        name = scope_name(scope, scope_id)
        print(f"circuit breaker of {name} reset {by(actor, args.reason)}")
        return 0

    def offline(node: Node) -> int:
        scope, scope_id = scope_of(args)
        node.reset_breaker(scope, scope_id, actor=args.actor, reason=args.reason)
        return done(scope, scope_id, args.actor)

    def online(client: AtlasClient) -> int:
        scope, scope_id = scope_of(args)
        body = {"scope": scope, "scope_id": scope_id, "reason": args.reason}
        client.request("POST", "/v1/risk/breaker/reset", json=body)
        return done(scope, scope_id, actor_of(client))

    return run_either(args, ctx, offline, online, needs_actor=True)


def cmd_market(args: argparse.Namespace, ctx: Context) -> int:
    """Halt, close or reopen an instrument, or return it to its schedule."""
    status = None if args.status == "SCHEDULE" else MarketStatus(args.status)

    def done(actor: str) -> int:
        if status is None:
            print(f"{args.symbol} follows its schedule again ({by(actor, args.reason)})")
        else:
            print(f"{args.symbol} is {status} {by(actor, args.reason)}")
        return 0

    def offline(node: Node) -> int:
        node.set_market_status(args.symbol, status, actor=args.actor, reason=args.reason)
        return done(args.actor)

    def online(client: AtlasClient) -> int:
        body = {"status": status.value if status is not None else None, "reason": args.reason}
        client.request("PUT", f"/v1/instruments/{args.symbol}/market-status", json=body)
        return done(actor_of(client))

    return run_either(args, ctx, offline, online, needs_actor=True)


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
    operator_options(limits, reason_required=False, actor_required=False)
    either_options(limits)
    limits.set_defaults(func=cmd_limits)

    state = rsub.add_parser("state", help="set a scope's trading state: ACTIVE, REDUCING, HALTED")
    state.add_argument(
        "scope", type=str.lower, choices=RISK_SCOPES, metavar="SCOPE", help="global, account…"
    )
    state.add_argument(
        "target", nargs="+", metavar="[ID] STATE", help="the scope's id, then the state"
    )
    operator_options(state, actor_required=False)
    either_options(state)
    state.set_defaults(func=cmd_state)

    add_kill_parser(rsub, "kill", "fire a kill switch (same as atlas kill)")
    add_reset_parser(rsub)

    reset_breaker = rsub.add_parser(
        "reset-breaker", help="reset an open circuit breaker after its cool-down"
    )
    scope_arguments(reset_breaker, optional=False)
    operator_options(reset_breaker, actor_required=False)
    either_options(reset_breaker)
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
    operator_options(market, actor_required=False)
    either_options(market)
    market.set_defaults(func=cmd_market)
