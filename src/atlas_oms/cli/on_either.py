"""Operator commands that run on a journal or on a running server: one choice, two transports.

A command that writes a journal (``atlas futures leverage``, ``risk market``, ``transfer``…) also
takes ``--url``/``--key`` (or ``ATLAS_URL``/``ATLAS_KEY`` without ``--journal``,
:func:`~atlas_oms.cli.on_server.wants_server`): it then sends the same action to the server's
REST endpoint, where the API key is the journaled actor (so ``--actor`` is refused there), and
prints what the server did in the same words as the offline command. A journal a server holds
is never opened for writing; its operator uses the same command with ``--url``/``--key``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from atlas_oms.cli.client import AtlasClient
from atlas_oms.cli.context import Context
from atlas_oms.cli.on_journal import run_on_journal
from atlas_oms.cli.on_server import run_online, wants_server
from atlas_oms.cli.options import DEFAULT_JOURNAL, UsageError, server_options, who
from atlas_oms.runtime.node import Node

__all__ = ["actor_of", "either_options", "number", "run_either", "server_ticks"]


def either_options(parser: argparse.ArgumentParser) -> None:
    """``--url``, ``--key``, ``--timeout`` beside the command's ``--journal`` (whose default
    becomes None: an explicit ``--journal`` keeps the command offline even when ``ATLAS_URL`` is
    set). Call after the command's own options; its ``--json`` is kept."""
    server_options(parser, with_json=False)
    parser.set_defaults(journal=None)


def actor_of(client: AtlasClient) -> str:
    """Who acts on a server, as the offline commands print ``--actor``: the key and the server."""
    return f"{client.key_id} on {client.url}"


def number(value: Any) -> Decimal | None:
    """A decimal the server sent as a string (None stays None)."""
    return None if value is None else Decimal(str(value))


def server_ticks(client: AtlasClient) -> dict[str, Decimal]:
    """Every instrument's tick size on the server, by symbol (tables round prices to it)."""
    return {
        i["symbol"]: Decimal(i["tick_size"]) for i in client.request("GET", "/v1/instruments").data
    }


def run_either(
    args: argparse.Namespace,
    ctx: Context,
    offline: Callable[[Node], int],
    online: Callable[[AtlasClient], int],
    *,
    needs_actor: bool = False,
    readonly: bool = False,
) -> int:
    """Run ``online`` against the server the arguments name, or ``offline`` on the journal."""
    try:
        if wants_server(args):
            if args.journal is not None:
                raise UsageError("--journal or --url/--key, not both")
            if getattr(args, "actor", None):
                raise UsageError(
                    "on a server the API key is the actor (journaled as its key id): drop --actor"
                )
            return run_online(args, ctx, online)
        if needs_actor and not getattr(args, "actor", None):
            raise UsageError("the following arguments are required: --actor (or --url/--key)")
    except UsageError as exc:
        print(f"{who(args)}: {exc}", file=sys.stderr)
        return 2
    if args.journal is None:
        args.journal = DEFAULT_JOURNAL
    return run_on_journal(args, ctx, offline, readonly=readonly)
