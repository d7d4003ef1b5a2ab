"""Running a command against a server: connect, act, and turn what went wrong into an exit code.

The server and the key come from ``--url`` / ``--key`` or the environment (``ATLAS_URL``,
``ATLAS_KEY``); the URL defaults to ``http://127.0.0.1:8000``. Output is a readable table, or with
``--json`` the server's JSON exactly as it came (numbers stay exact strings). A problem document
from the server is printed as ``REASON: detail`` on stderr with exit code 2; a server that cannot be
reached is one sentence on stderr with exit code 3.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from atlas_oms.cli.client import (
    DEFAULT_URL,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    ApiProblem,
    AtlasClient,
    Reply,
    Unreachable,
)
from atlas_oms.cli.context import Context
from atlas_oms.cli.options import UsageError, who

__all__ = ["account_of", "connect", "run_online", "show", "wants_server"]


def wants_server(args: argparse.Namespace) -> bool:
    """Whether a command that also works on a journal (``atlas kill``) should go to a server:
    ``--url`` or ``--key`` given, or ``ATLAS_URL`` / ``ATLAS_KEY`` set and no ``--journal``."""
    if args.url is not None or args.key is not None:
        return True
    if args.journal is not None:
        return False
    return bool(os.environ.get("ATLAS_URL") or os.environ.get("ATLAS_KEY"))


def connect(args: argparse.Namespace, ctx: Context) -> AtlasClient:
    """A client of the server the arguments or the environment name; a UsageError without key."""
    url = args.url or os.environ.get("ATLAS_URL") or DEFAULT_URL
    key = (args.key or os.environ.get("ATLAS_KEY") or "").strip()
    if not key:
        raise UsageError("no API key: pass --key KEY_ID.SECRET or set ATLAS_KEY")
    return AtlasClient(url, key, timeout=args.timeout, transport=ctx.transport)


def run_online(args: argparse.Namespace, ctx: Context, action: Callable[[AtlasClient], int]) -> int:
    """Connect, do ``action(client)``, and turn refusals and network trouble into exit codes."""
    try:
        with connect(args, ctx) as client:
            return int(action(client))
    except UsageError as exc:
        print(f"{who(args)}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except ApiProblem as exc:
        if getattr(args, "json", False) and exc.text:
            print(exc.text)
        print(f"{exc.reason}: {exc.detail}", file=sys.stderr)
        order = exc.body.get("order") if isinstance(exc.body, dict) else None
        if isinstance(order, dict) and "order_id" in order:
            print(f"order #{order['order_id']} is {order.get('status')}", file=sys.stderr)
        return EXIT_REFUSED
    except Unreachable as exc:
        print(f"{who(args)}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE


def account_of(args: argparse.Namespace) -> str:
    """The account to act for: ``--account`` or ``ATLAS_ACCOUNT`` (a key may hold several, so the
    client never guesses); a UsageError without one."""
    account = args.account or os.environ.get("ATLAS_ACCOUNT")
    if not account:
        raise UsageError("which account? pass --account ID or set ATLAS_ACCOUNT")
    return str(account)


def show(args: argparse.Namespace, reply: Reply, table: str) -> int:
    """Print the server's body as it came (``--json``) or ``table``; exit code 0."""
    print(reply.text if args.json else table)
    return 0
