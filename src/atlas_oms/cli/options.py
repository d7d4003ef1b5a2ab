"""The options every command group shares, and how their values are read.

The journal option, the operator options (``--actor``, ``--reason``), the scope arguments of the
risk commands, ``KEY=VALUE`` pairs, ``--json``, the server options of the client commands, and the
argparse types that read numbers (through :func:`atlas_oms.model.numbers.parse_decimal`, the one
place a user's number becomes a ``Decimal``) and enum choices.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from atlas_oms.cli.client import DEFAULT_URL
from atlas_oms.cli.context import Command, Context
from atlas_oms.model.numbers import NotANumber, parse_decimal
from atlas_oms.model.risk import Scope

__all__ = [
    "DEFAULT_JOURNAL",
    "RISK_SCOPES",
    "UsageError",
    "account_option",
    "by",
    "choice",
    "convert_fields",
    "decimal_arg",
    "decimal_text",
    "group_help",
    "journal_option",
    "json_option",
    "operator_options",
    "parse_pairs",
    "print_json",
    "scope_arguments",
    "scope_name",
    "scope_of",
    "server_options",
    "who",
]

#: The journal the demo writes, and every journal command's default.
DEFAULT_JOURNAL = "atlas-data/demo.db"
RISK_SCOPES = tuple(s.value for s in Scope)
#: Writing one of these as a value (``--set max_order_qty=none``) means "no limit".
_NONE_WORDS = frozenset({"none", "null"})

#: How Decimal spells NaN (with an optional payload) and infinity.
_NOT_FINITE = re.compile(r"[+-]?(s?nan\d*|inf|infinity)", re.IGNORECASE)

_S = TypeVar("_S", bound=msgspec.Struct)


class UsageError(Exception):
    """A command line argparse could not judge (a limit's name, a missing id, no API key): a
    sentence on stderr after the command's name, exit code 2."""


def who(args: argparse.Namespace) -> str:
    """The command as typed, for messages: ``atlas risk limits``, ``atlas kill``."""
    action = getattr(args, f"{args.command}_command", None)
    return f"atlas {args.command}" + (f" {action}" if action else "")


def group_help(parser: argparse.ArgumentParser) -> Command:
    """The command of a group typed without its action: print the group's help, exit code 2."""

    def show(args: argparse.Namespace, ctx: Context) -> int:
        parser.print_help()
        return 2

    return show


# ------------------------------------------------------------------------------------ values
def decimal_arg(text: str) -> Decimal:
    """An exact, finite decimal from the command line (an argparse ``type``)."""
    try:
        return parse_decimal(text)
    except NotANumber:
        raise argparse.ArgumentTypeError(_not_a_number(text)) from None


def decimal_text(text: str) -> str:
    """An exact, finite decimal from the command line, kept as typed to be sent to a server."""
    decimal_arg(text)
    return text


def _not_a_number(text: str) -> str:
    # parse_decimal alone decides what is a number; this only words the refusal as the command
    # line always has: NaN and infinities are numbers of a kind, just not finite ones.
    if _NOT_FINITE.fullmatch(text.strip()):
        return f"not a finite number: {text!r}"
    return f"not a number: {text!r}"


def choice(values: Iterable[str]) -> Callable[[str], str]:
    """An argparse ``type`` taking one of ``values`` in any case, returned in upper case."""
    allowed = tuple(str(v) for v in values)

    def parse(text: str) -> str:
        up = text.upper()
        if up not in allowed:
            raise argparse.ArgumentTypeError(f"{text!r}: one of {', '.join(allowed)}")
        return up

    return parse


def parse_pairs(pairs: Sequence[str], option: str) -> dict[str, str | None]:
    """``KEY=VALUE`` strings as a dict; ``none``/``null`` as the value means None."""
    fields: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise UsageError(f"{option} {pair!r}: write KEY=VALUE")
        fields[key] = None if value.lower() in _NONE_WORDS else value
    return fields


def convert_fields(fields: dict[str, Any], cls: type[_S], what: str) -> _S:
    """``fields`` (strings from the command line, or JSON values) as a ``cls``, or a UsageError
    naming the unknown key or the field whose value does not fit."""
    known = cls.__struct_fields__
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise UsageError(
            f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
        )
    try:
        return msgspec.convert(fields, cls, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = re.search(r"^(.*) - at `\$\.([\w.]+)`", text)
        if match is None:
            raise UsageError(f"bad {what}: {text}") from None
        problem, path = match.groups()
        name = path.split(".")[-1]
        value: Any = fields
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        raise UsageError(f"bad value {value!r} for {what} {name}: {problem}") from None


def print_json(value: Any) -> None:
    """Print ``value`` as one line of JSON, decimals as exact strings."""
    print(msgspec.json.encode(value).decode())


# ----------------------------------------------------------------------------------- options
def journal_option(parser: argparse.ArgumentParser, *, readonly: bool = False) -> None:
    """``--journal PATH``, the demo's journal by default."""
    parser.add_argument(
        "--journal",
        default=DEFAULT_JOURNAL,
        metavar="PATH",
        help=f"journal to {'read, read-only' if readonly else 'act on'} "
        f"(default {DEFAULT_JOURNAL}, the demo's)",
    )


def operator_options(
    parser: argparse.ArgumentParser, *, reason_required: bool = True, actor_required: bool = True
) -> None:
    """``--journal``, and who acts and why (both journaled with the action). ``actor_required``
    False: the command checks it itself (on a server the API key is the actor)."""
    journal_option(parser)
    parser.add_argument(
        "--actor", required=actor_required, metavar="WHO", help="who acts (journaled)"
    )
    parser.add_argument(
        "--reason",
        required=reason_required,
        default="",
        metavar="WHY",
        help="why (journaled)" + ("" if reason_required else "; optional"),
    )


def json_option(parser: argparse.ArgumentParser, text: str = "print one JSON object") -> None:
    """``--json``."""
    parser.add_argument("--json", action="store_true", help=text)


def scope_arguments(parser: argparse.ArgumentParser, *, optional: bool) -> None:
    """``SCOPE [ID]``: global, account, strategy or instrument, and the id (none for global)."""
    parser.add_argument(
        "scope",
        nargs="?" if optional else None,
        default=Scope.GLOBAL.value if optional else None,
        type=str.lower,
        choices=RISK_SCOPES,
        metavar="SCOPE",
        help=f"{', '.join(RISK_SCOPES)}" + (" (default global)" if optional else ""),
    )
    parser.add_argument(
        "scope_id",
        nargs="?",
        default="",
        metavar="ID",
        help="the account id, strategy tag or symbol (none for global)",
    )


def scope_of(args: argparse.Namespace) -> tuple[str, str]:
    """The scope and its id; a UsageError when a scope other than global has no id."""
    scope, scope_id = args.scope, args.scope_id or ""
    if scope != Scope.GLOBAL and not scope_id:
        raise UsageError(f"the {scope} scope needs an id: {scope} ID")
    return scope, scope_id


def scope_name(scope: str, scope_id: str) -> str:
    """``global``, or the scope and its id: ``account alice``."""
    return scope if scope == Scope.GLOBAL else f"{scope} {scope_id}"


def by(actor: str, reason: str) -> str:
    """``by ACTOR: REASON`` (no colon without a reason)."""
    return f"by {actor}" + (f": {reason}" if reason else "")


def server_options(parser: argparse.ArgumentParser, *, with_json: bool = True) -> None:
    """``--url``, ``--key`` and ``--timeout`` of a running server; ``--json`` for its body."""
    group = parser.add_argument_group("server")
    group.add_argument(
        "--url", metavar="URL", help=f"the Atlas server (ATLAS_URL, default {DEFAULT_URL})"
    )
    group.add_argument("--key", metavar="KEY", help="API key KEY_ID.SECRET (ATLAS_KEY)")
    group.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds to wait (10)"
    )
    if with_json:
        json_option(parser, "print the server's JSON as it came")


def account_option(parser: argparse.ArgumentParser) -> None:
    """``--account/-a ID`` (else ``ATLAS_ACCOUNT``)."""
    parser.add_argument("--account", "-a", metavar="ID", help="the account (ATLAS_ACCOUNT)")
