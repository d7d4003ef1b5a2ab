"""``atlas venues ACTION``: the venue accounts of ``accounts.yaml`` and their API keys
(:mod:`atlas_oms.cli.venues_keys`). A later action registers itself in :func:`add_parser`'s list,
one line each."""

from __future__ import annotations

from typing import Any

from atlas_oms.cli import venues_keys, venues_server
from atlas_oms.cli.options import group_help

__all__ = ["add_parser"]


def add_parser(sub: Any) -> Any:
    """``atlas venues``; returns its sub-parsers so more actions can be added to the group."""
    venues = sub.add_parser(
        "venues", help="venue accounts (accounts.yaml), their API keys and reconciliation"
    )
    actions = venues.add_subparsers(dest="venues_command", metavar="ACTION")
    venues_keys.add_parsers(actions)
    venues_server.add_parsers(actions)
    venues.set_defaults(func=group_help(venues))
    return actions
