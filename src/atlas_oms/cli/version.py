"""``atlas version``: the installed package's version and the Python running it."""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from typing import Any

from atlas_oms.cli.context import Context

__all__ = ["add_parser", "cmd_version", "version"]


def version() -> str:
    """The installed package's version (the source tree's when not installed)."""
    try:
        return metadata.version("atlas-oms")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0+unknown"


def cmd_version(args: argparse.Namespace, ctx: Context) -> int:
    """Print ``atlas-oms VERSION (Python X.Y.Z)``."""
    print(f"atlas-oms {version()} (Python {sys.version.split()[0]})")
    return 0


def add_parser(sub: Any) -> None:
    """``atlas version``."""
    ver = sub.add_parser("version", help="print the version")
    ver.set_defaults(func=cmd_version)
