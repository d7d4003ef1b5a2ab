"""``atlas policy params``: seed 001's execution-policy parameters, their values and defaults.

Every parameter (seed 001 §16 and the numbers of the seed's normative tables), sorted by name,
with its value, its default, where the value came from (``default`` or ``FILE:LINE`` of
``--file``, a YAML or ``.properties`` file) and the seed section. ``--json`` prints one object.
A wrong file is refused with exit code 78 (the configuration is wrong), naming file, line and key.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from atlas_oms.cli.context import Context
from atlas_oms.cli.exit_codes import EXIT_CONFIG
from atlas_oms.cli.options import group_help, json_option
from atlas_oms.cli.tables import render
from atlas_oms.runtime.policy_params import (
    ParamError,
    PolicyParams,
    format_value,
    load_params_with_sources,
)

__all__ = ["add_parser", "cmd_params", "params_rows"]


def params_rows(params: PolicyParams, sources: dict[str, str]) -> list[dict[str, Any]]:
    """One row per parameter, sorted by name: name, value, default, source, seed section."""
    defaults = PolicyParams()
    return [
        {
            "name": spec.name,
            "value": format_value(value),
            "default": format_value(defaults.get(spec.name)),
            "source": sources.get(spec.name, "default"),
            "seed": spec.seed,
            "section_16": spec.in_section_16,
            "seed_default": spec.seed_default,
        }
        for spec, value in params.items()
    ]


def cmd_params(args: argparse.Namespace, ctx: Context) -> int:
    """Print every parameter with its value, default and source."""
    try:
        params, sources = load_params_with_sources(args.file) if args.file else (PolicyParams(), {})
    except ParamError as exc:
        print(f"atlas policy params: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    rows = params_rows(params, sources)
    if args.json:
        print(json.dumps({"parameters": rows}, indent=2))
        return 0
    table = [
        (
            row["name"],
            row["value"],
            row["default"] + ("" if row["seed_default"] else " (Atlas)"),
            row["source"],
            row["seed"],
        )
        for row in rows
    ]
    print(
        render(
            ("PARAMETER", "VALUE", "DEFAULT", "SOURCE", "SEED"),
            table,
            title="Execution policy parameters (seed 001 §16)",
            align="lllll",
        )
    )
    return 0


def add_parser(sub: Any) -> None:
    """``atlas policy ACTION``."""
    policy = sub.add_parser("policy", help="the managed-execution policy: its parameters")
    policy.set_defaults(func=group_help(policy))
    psub = policy.add_subparsers(dest="policy_command", metavar="ACTION")
    params = psub.add_parser(
        "params", help="every parameter with its value, default and source, sorted by name"
    )
    params.add_argument(
        "--file", metavar="F", help="a parameter file (YAML, or .properties: name = value)"
    )
    json_option(params)
    params.set_defaults(func=cmd_params)
