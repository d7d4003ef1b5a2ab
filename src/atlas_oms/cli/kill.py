"""``atlas kill`` (and ``atlas risk kill`` / ``risk reset-kill``): fire or reset a kill switch.

One flow for both places a kill switch lives. The arguments are checked once; the transport is
picked once (:func:`~atlas_oms.cli.on_server.wants_server`): a node on the journal, where
``--actor`` names the operator, or a running server (``--url``/``--key``, or ``ATLAS_URL`` /
``ATLAS_KEY`` without ``--journal``), where the API key is the actor; then one function prints
what happened, whichever transport did it. ``--json`` prints the server's answer, so it needs a
server. See docs/DECISIONS.md, "CLI client".
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_journal import run_on_journal
from atlas_oms.cli.on_server import run_online, wants_server
from atlas_oms.cli.options import (
    DEFAULT_JOURNAL,
    UsageError,
    by,
    journal_option,
    operator_options,
    scope_arguments,
    scope_name,
    scope_of,
    server_options,
    who,
)
from atlas_oms.cli.tables import fmt, render
from atlas_oms.model import events as ev
from atlas_oms.runtime.node import Node

__all__ = [
    "KillSwitch",
    "Tripped",
    "add_kill_parser",
    "add_reset_parser",
    "cmd_kill",
    "tripped_text",
]


@dataclass(frozen=True, slots=True)
class Tripped:
    """What tripping a kill switch did: the orders canceled, those whose cancel is not yet
    confirmed, whether it was to flatten and the flattening orders, and the server's answer as
    it came (None on a journal)."""

    flatten: bool = False
    canceled: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    flattening: list[int] = field(default_factory=list)
    text: str | None = None


class KillSwitch(Protocol):
    """A transport of the kill switch commands: a journal or a server."""

    #: Who acts, as the journal will name them: the operator, or the API key and its server.
    actor: str

    def trip(self, scope: str, scope_id: str, reason: str, *, flatten: bool) -> Tripped:
        """Fire the switch; cancel the scope's open orders (and flatten its positions)."""
        ...

    def reset(self, scope: str, scope_id: str, reason: str) -> str | None:
        """Reset the switch; return the server's answer as it came (None on a journal)."""
        ...

    def orders_table(self, order_ids: Sequence[int]) -> str | None:
        """The orders as a table, where the transport can show them (None: ids only)."""
        ...


class JournalSwitch:
    """The kill switch of a node on a journal; ``actor`` is the operator (``--actor``)."""

    def __init__(self, node: Node, actor: str) -> None:
        self.node = node
        self.actor = actor

    def trip(self, scope: str, scope_id: str, reason: str, *, flatten: bool) -> Tripped:
        """Fire the switch through :meth:`Node.kill`; read what it did from its events."""
        events = self.node.kill(scope, scope_id, actor=self.actor, reason=reason, flatten=flatten)
        canceled = [e.order_id for e in events if isinstance(e, ev.OrderCanceled)]
        pending = [e.order_id for e in events if isinstance(e, ev.OrderPendingCancel)]
        flat = [e.order_id for e in events if isinstance(e, ev.OrderSubmitted | ev.OrderDenied)]
        return Tripped(
            flatten=flatten,
            canceled=canceled,
            pending=[i for i in pending if i not in canceled],
            flattening=flat if flatten else [],
        )

    def reset(self, scope: str, scope_id: str, reason: str) -> str | None:
        """Reset the switch through :meth:`Node.reset_kill`."""
        self.node.reset_kill(scope, scope_id, actor=self.actor, reason=reason)
        return None

    def orders_table(self, order_ids: Sequence[int]) -> str | None:
        """The orders as they are now: side, quantity, price, status and reason."""
        rows = []
        for order_id in order_ids:
            o = self.node.order(order_id)
            row = [o.order_id, o.account_id, o.symbol, o.side, o.qty, fmt(o.price), o.status]
            rows.append([*row, o.reason])
        headers = ["id", "account", "symbol", "side", "qty", "price", "status", "reason"]
        return render(headers, [["" if c is None else c for c in r] for r in rows])


class ServerSwitch:
    """The kill switch of a running server; the API key is the actor (its risk role needed)."""

    def __init__(self, client: AtlasClient) -> None:
        self.client = client
        self.actor = f"{client.key_id} on {client.url}"

    def trip(self, scope: str, scope_id: str, reason: str, *, flatten: bool) -> Tripped:
        """``POST /v1/risk/kill``: the server answers with the ids it canceled and sent."""
        reply = self.client.kill(scope, scope_id, reason, flatten=flatten)
        data: dict[str, Any] = reply.data
        return Tripped(
            flatten=flatten,
            canceled=list(data.get("canceled", [])),
            pending=list(data.get("pending_cancel") or []),
            flattening=list(data.get("flatten_orders", [])) if flatten else [],
            text=reply.text,
        )

    def reset(self, scope: str, scope_id: str, reason: str) -> str | None:
        """``POST /v1/risk/kill/reset``."""
        return self.client.reset_kill(scope, scope_id, reason).text

    def orders_table(self, order_ids: Sequence[int]) -> str | None:
        """None: the server's answer names the orders, one more request per order is not worth it."""
        return None


# ---------------------------------------------------------------------------------- the flow
def _check(args: argparse.Namespace, online: bool) -> tuple[str, str]:
    """The scope and its id, once the arguments agree with each other and the transport."""
    if online:
        if args.journal is not None:
            raise UsageError("--journal or --url/--key, not both")
        if args.actor is not None:
            raise UsageError(
                "on a server the API key is the actor (journaled as its key id): drop --actor"
            )
    else:
        if args.actor is None:
            args.kill_parser.error("the following arguments are required: --actor")
        if args.json:
            raise UsageError("--json is for a server (--url)")
    if args.reset and args.flatten:
        raise UsageError("--reset and --flatten do not go together")
    return scope_of(args)


def _ids(order_ids: Sequence[int]) -> str:
    return ", ".join(f"#{i}" for i in order_ids)


def _listed(label: str, order_ids: Sequence[int], switch: KillSwitch) -> list[str]:
    table = switch.orders_table(order_ids)
    return [f"{label}: {_ids(order_ids)}", *([table] if table else [])]


def tripped_text(name: str, done_by: str, tripped: Tripped, switch: KillSwitch) -> str:
    """What a trip did, in the same words whichever transport did it."""
    lines = [f"kill switch of {name} tripped {done_by}"]
    lines.append(f"open orders canceled: {len(tripped.canceled) or 'none'}")
    if tripped.canceled:
        lines += _listed("canceled", tripped.canceled, switch)
    if tripped.pending:
        lines.append(f"cancels sent, not yet confirmed: {_ids(tripped.pending)}")
    if tripped.flatten:
        flat = tripped.flattening
        lines.append(
            f"flattening orders: {len(flat) or 'none (no position, or orders still open)'}"
        )
        if flat:
            lines += _listed("flattening", flat, switch)
    return "\n".join(lines)


def _act(args: argparse.Namespace, switch: KillSwitch, scope: str, scope_id: str) -> int:
    name, done_by = scope_name(scope, scope_id), by(switch.actor, args.reason)
    if args.reset:
        text = switch.reset(scope, scope_id, args.reason)
        print(text if args.json else f"kill switch of {name} reset {done_by}")
    else:
        tripped = switch.trip(scope, scope_id, args.reason, flatten=args.flatten)
        print(tripped.text if args.json else tripped_text(name, done_by, tripped, switch))
    return 0


def cmd_kill(args: argparse.Namespace, ctx: Context) -> int:
    """Fire (or, with ``--reset``, reset) a kill switch on the journal or on the server."""
    online = wants_server(args)
    try:
        scope, scope_id = _check(args, online)
    except UsageError as exc:
        print(f"{who(args)}: {exc}", file=sys.stderr)
        return 2
    if online:
        return run_online(
            args, ctx, lambda client: _act(args, ServerSwitch(client), scope, scope_id)
        )
    if args.journal is None:
        args.journal = DEFAULT_JOURNAL
    return run_on_journal(
        args, ctx, lambda node: _act(args, JournalSwitch(node, args.actor), scope, scope_id)
    )


# ------------------------------------------------------------------------------- the parsers
def add_kill_parser(sub: Any, name: str, help_text: str) -> None:
    """``atlas kill`` (and ``atlas risk kill``): offline or online, reset with ``--reset``."""
    kill = sub.add_parser(
        name,
        help=help_text,
        description="Offline on a journal (--journal, --actor), or on a running server when "
        "--url or --key is given, or ATLAS_URL / ATLAS_KEY is set and --journal is not: there the "
        "API key (its risk role) is the actor.",
    )
    scope_arguments(kill, optional=True)
    journal_option(kill)
    kill.add_argument("--actor", metavar="WHO", help="who acts (journaled; offline only)")
    kill.add_argument("--reason", required=True, metavar="WHY", help="why (journaled)")
    kill.add_argument(
        "--flatten", action="store_true", help="also close the scope's positions at market"
    )
    kill.add_argument("--reset", action="store_true", help="reset the kill switch instead")
    server_options(kill)
    # None: not given, so that an explicit --journal keeps the command offline.
    kill.set_defaults(func=cmd_kill, journal=None, kill_parser=kill)


def add_reset_parser(sub: Any) -> None:
    """``atlas risk reset-kill``: ``atlas kill --reset`` on a journal or a server (a reason is
    required)."""
    reset = sub.add_parser("reset-kill", help="reset a kill switch (a reason is required)")
    scope_arguments(reset, optional=True)
    operator_options(reset, actor_required=False)
    server_options(reset)
    reset.set_defaults(func=cmd_kill, reset=True, flatten=False, journal=None, kill_parser=reset)
