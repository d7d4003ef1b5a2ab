"""``atlas venues keys set|rotate|confirm|rollback|remove|list|check|new-master-key`` and
``atlas venues accounts FILE``: venue API keys in Atlas's encrypted key file
(:mod:`atlas_oms.venues.credentials`) and the accounts an ``accounts.yaml`` resolves to
(:mod:`atlas_oms.venues.accounts`).

A secret is never an argument (it would sit in the shell's history and in ``ps``): ``set`` and
``rotate`` read the API key and secret from environment variables (``--from-env VAR_KEY
VAR_SECRET``, ``--passphrase-env VAR``), else prompt for them without echo at a terminal, else
read them from standard input, one per line (key, secret, optional passphrase). Nothing prints a
key: only its version and fingerprint.

The key file is ``--data-dir`` (``ATLAS_DATA_DIR``, as ``atlas serve``)``/venue-keys.json``, or
``--keys-file``; the master key is ``--master-key-file``, ``ATLAS_MASTER_KEY_FILE`` or
``ATLAS_MASTER_KEY``. A running ``atlas serve`` notices a change of the file and reconnects the
account whose key changed. Exit codes: 0 done, 1 a key cannot be had (wrong master key, unsafe key
file, Vault refused), 2 misused (no such account, empty input, an invalid ``accounts.yaml``).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from atlas_oms.cli.context import Context
from atlas_oms.cli.options import json_option, print_json
from atlas_oms.cli.tables import fmt, render, utc
from atlas_oms.service.settings import ServiceSettings
from atlas_oms.venues.accounts import (
    MARKETS,
    AccountsConfig,
    AccountsConfigError,
    RoutingError,
    load_accounts,
)
from atlas_oms.venues.credentials import (
    CredentialsError,
    CredentialSource,
    KeyStore,
    master_key,
    new_master_key_file,
)

__all__ = ["add_parsers"]

#: Errors that say the command was misused rather than that a key cannot be had.
_USAGE_REASONS = frozenset({"NO_KEY", "NOTHING_TO_CONFIRM", "KEY_INVALID", "INPUT"})


class _Input(Exception):
    """Input the command cannot use (an unset variable, an empty line): exit code 2."""


def _name(args: argparse.Namespace) -> str:
    return f"atlas venues {args.venues_command}" + (
        f" {args.keys_command}" if getattr(args, "keys_command", None) else ""
    )


def _guard(run: Callable[[argparse.Namespace, Context], int]) -> Any:
    """A command whose key errors become one sentence on stderr and an exit code."""

    def command(args: argparse.Namespace, ctx: Context) -> int:
        try:
            return run(args, ctx)
        except _Input as exc:
            print(f"{_name(args)}: {exc}", file=sys.stderr)
            return 2
        except CredentialsError as exc:
            print(f"{_name(args)}: {exc}", file=sys.stderr)
            return 2 if exc.reason in _USAGE_REASONS else 1
        except AccountsConfigError as exc:
            print(f"{_name(args)}: {exc}", file=sys.stderr)
            return 2

    return command


def _store(args: argparse.Namespace, ctx: Context) -> KeyStore:
    settings = ServiceSettings()
    path = args.keys_file or (args.data_dir or settings.data_dir) / "venue-keys.json"
    key = master_key(key_file=args.master_key_file or settings.master_key_file)
    return KeyStore(path, key, clock=ctx.wall_clock().now)


def _read_secrets(args: argparse.Namespace) -> tuple[str, str, str | None]:
    if args.typed:
        raise _Input(
            "an API key or secret is never taken as an argument (it would stay in the shell's "
            "history and in ps): use --from-env VAR_KEY VAR_SECRET or standard input"
        )
    if args.from_env:
        var_key, var_secret = args.from_env
        values = []
        for var in (var_key, var_secret):
            value = os.environ.get(var, "")
            if not value.strip():
                raise _Input(f"environment variable {var} is not set or empty")
            values.append(value.strip())
        passphrase = None
        if args.passphrase_env:
            passphrase = os.environ.get(args.passphrase_env) or None
            if passphrase is None:
                raise _Input(f"environment variable {args.passphrase_env} is not set or empty")
        return values[0], values[1], passphrase
    if sys.stdin.isatty():
        api_key = getpass.getpass("API key: ").strip()
        secret = getpass.getpass("API secret: ").strip()
        passphrase = getpass.getpass("Passphrase (Enter for none): ").strip() or None
    else:
        lines = [line.strip() for line in sys.stdin.read().splitlines()]
        api_key = lines[0] if lines else ""
        secret = lines[1] if len(lines) > 1 else ""
        passphrase = (lines[2] if len(lines) > 2 else "") or None
    if not api_key or not secret:
        raise _Input("an API key and its secret are needed (one per line on standard input)")
    return api_key, secret, passphrase


# ------------------------------------------------------------------------------ the commands
def cmd_set(args: argparse.Namespace, ctx: Context) -> int:
    """Store an account's API key read from the environment, a prompt or standard input."""
    api_key, secret, passphrase = _read_secrets(args)
    store = _store(args, ctx)
    version = store.set(args.account, api_key, secret, passphrase)
    del api_key, secret, passphrase
    info = next(i for i in store.list() if i.account_id == args.account)
    print(
        f"stored the API key of {args.account}: version {version}, fingerprint {info.fingerprint}"
    )
    return 0


def cmd_rotate(args: argparse.Namespace, ctx: Context) -> int:
    """Rotate an account's API key; the previous one is kept until confirmed."""
    api_key, secret, passphrase = _read_secrets(args)
    store = _store(args, ctx)
    version = store.rotate(args.account, api_key, secret, passphrase)
    del api_key, secret, passphrase
    info = next(i for i in store.list() if i.account_id == args.account)
    print(
        f"rotated the API key of {args.account}: version {version} (fingerprint "
        f"{info.fingerprint}) is current; version {info.unconfirmed_previous} is kept until "
        f"`atlas venues keys confirm {args.account}` (or `rollback`)"
    )
    return 0


def cmd_confirm(args: argparse.Namespace, ctx: Context) -> int:
    """The rotated key works: erase the previous version."""
    version = _store(args, ctx).confirm(args.account)
    print(f"confirmed version {version} of {args.account}'s API key; the previous one is erased")
    return 0


def cmd_rollback(args: argparse.Namespace, ctx: Context) -> int:
    """The rotated key does not work: make the previous version current again."""
    version = _store(args, ctx).rollback(args.account)
    print(f"{args.account}'s API key is version {version} again")
    return 0


def cmd_remove(args: argparse.Namespace, ctx: Context) -> int:
    """Erase an account's API key."""
    _store(args, ctx).remove(args.account)
    print(f"removed the API key of {args.account}")
    return 0


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    """Accounts, key versions, times and fingerprints (never a key)."""
    infos = _store(args, ctx).list()
    if args.json:
        print_json(infos)
        return 0
    if not infos:
        print("no venue API keys")
        return 0
    rows = [
        [i.account_id, i.version, i.fingerprint, utc(i.created_ns), utc(i.rotated_ns),
         "-" if i.unconfirmed_previous is None else i.unconfirmed_previous]
        for i in infos
    ]  # fmt: skip
    print(render(["account", "version", "fingerprint", "created", "rotated", "unconfirmed"], rows))
    return 0


def cmd_check(args: argparse.Namespace, ctx: Context) -> int:
    """Decrypt (or read from Vault) each key and say ok, never printing it."""
    results: dict[str, str | None] = {}
    if args.accounts:
        config = load_accounts(args.accounts)
        store: KeyStore | None = None
        vault: CredentialSource | None = None
        for acc in config.accounts:
            if args.account and acc.account_id != args.account:
                continue
            try:
                source: CredentialSource
                if acc.credentials.source == "vault":
                    if vault is None:
                        from atlas_oms.venues.vault import VaultSource

                        mount = ServiceSettings().vault_mount
                        vault = VaultSource(mount=mount, paths=config.vault_paths())
                    source = vault
                else:
                    store = store or _store(args, ctx)
                    source = store
                results[acc.account_id] = _check_one(source, acc.account_id)
            except CredentialsError as exc:
                results[acc.account_id] = str(exc)
    else:
        store = _store(args, ctx)
        for account_id, problem in store.check().items():
            if args.account and account_id != args.account:
                continue
            results[account_id] = problem
        if args.account and args.account not in results:
            raise CredentialsError("NO_KEY", f"no API key for account {args.account}")
    for account_id, problem in results.items():
        print(f"{account_id}: {'ok' if problem is None else problem}")
    if not results:
        print("no venue API keys")
    return 1 if any(p is not None for p in results.values()) else 0


def _check_one(source: CredentialSource, account_id: str) -> str | None:
    creds = source.get(account_id)
    del creds
    return None


def cmd_new_master_key(args: argparse.Namespace, ctx: Context) -> int:
    """Write a new random master key file (mode 0600); never overwrite one."""
    try:
        path = new_master_key_file(args.file)
    except FileExistsError:
        raise _Input(f"{args.file} exists: a master key is never overwritten") from None
    print(
        f"wrote a new master key to {path} (mode 0600); point ATLAS_MASTER_KEY_FILE at it and "
        "keep a copy somewhere safe: without it the venue keys cannot be decrypted"
    )
    return 0


def cmd_accounts(args: argparse.Namespace, ctx: Context) -> int:
    """Validate an ``accounts.yaml``; print its accounts and routing table."""
    config = load_accounts(args.file)
    if args.json:
        print_json(_accounts_json(config))
        return 0
    rows = []
    for a in config.accounts:
        keys = f"vault:{a.credentials.path}" if a.credentials.source == "vault" else "file"
        rows.append(
            [a.account_id, a.parent_id or "-", a.venue, a.type, a.strategy or "-", keys,
             fmt(a.max_position_usdt), fmt(a.max_leverage), fmt(a.max_balance_usdt)]
        )  # fmt: skip
    for u in config.umbrellas:
        rows.append([u.account_id, "-", "-", "umbrella", "-", "-", "-", "-", "-"])
    print(
        render(
            ["account", "parent", "venue", "type", "strategy", "keys", "max_position_usdt",
             "max_leverage", "max_balance_usdt"],
            rows,
            title=f"accounts of {args.file}",
        )
    )  # fmt: skip
    print()
    print(render(["strategy", *MARKETS], _routes(config), title="routing"))
    return 0


def _routes(config: AccountsConfig) -> list[list[str]]:
    rows = []
    for strategy in [None, *sorted(config.strategy_table())]:
        cells = []
        for market in MARKETS:
            try:
                cells.append(config.route(strategy, market))
            except RoutingError as exc:
                cells.append(f"- ({exc.reason})")
        rows.append([strategy or "(default)", *cells])
    return rows


def _accounts_json(config: AccountsConfig) -> dict[str, Any]:
    accounts = [
        {
            "account_id": a.account_id,
            "parent_id": a.parent_id,
            "venue": a.venue,
            "exchange": a.exchange,
            "market": a.market,
            "name": a.name,
            "type": a.type,
            "strategy": a.strategy,
            "credentials": {"source": a.credentials.source, "path": a.credentials.path},
            "max_position_usdt": a.max_position_usdt,
            "max_leverage": a.max_leverage,
            "max_balance_usdt": a.max_balance_usdt,
            "position_mode": a.position_mode,
            "endpoints": a.endpoints.model_dump(),
        }
        for a in config.accounts
    ]
    routes = {row[0]: dict(zip(MARKETS, row[1:], strict=True)) for row in _routes(config)}
    return {
        "accounts": accounts,
        "umbrellas": [u.account_id for u in config.umbrellas],
        "routing": routes,
    }


# ----------------------------------------------------------------------------------- parsers
def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="the data folder holding venue-keys.json (default: ATLAS_DATA_DIR or atlas-data)",
    )
    parser.add_argument("--keys-file", type=Path, metavar="FILE", help="the key file itself")
    parser.add_argument(
        "--master-key-file",
        type=Path,
        metavar="FILE",
        help="the master key (default: ATLAS_MASTER_KEY_FILE, else ATLAS_MASTER_KEY)",
    )


def _secret_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("account", metavar="ACCOUNT", help="the Atlas account id")
    # a key typed after the account is refused without echoing it (argparse would print it)
    parser.add_argument("typed", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument(
        "--from-env",
        nargs=2,
        metavar=("VAR_KEY", "VAR_SECRET"),
        help="read the API key and secret from these environment variables (else a prompt at a "
        "terminal, else standard input: key, secret and an optional passphrase, one per line)",
    )
    parser.add_argument(
        "--passphrase-env", metavar="VAR", help="read a passphrase from this variable (OKX)"
    )


def add_parsers(actions: Any) -> None:
    """``atlas venues keys ...`` and ``atlas venues accounts FILE``."""
    keys = actions.add_parser("keys", help="venue API keys, encrypted at rest")
    ksub = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    commands: list[tuple[str, str, Callable[[argparse.Namespace, Context], int], bool]] = [
        ("set", "store an account's API key (replacing any)", cmd_set, True),
        ("rotate", "a new API key, current at once; the old kept until confirmed", cmd_rotate,
         True),
        ("confirm", "the rotated key works: erase the previous one", cmd_confirm, False),
        ("rollback", "the rotated key does not work: the previous one again", cmd_rollback,
         False),
        ("remove", "erase an account's API key", cmd_remove, False),
    ]  # fmt: skip
    for name, text, run, reads_secrets in commands:
        p = ksub.add_parser(name, help=text)
        if reads_secrets:
            _secret_options(p)
        else:
            p.add_argument("account", metavar="ACCOUNT", help="the Atlas account id")
        _store_options(p)
        p.set_defaults(func=_guard(run))
    listing = ksub.add_parser("list", help="accounts, key versions, times and fingerprints")
    _store_options(listing)
    json_option(listing)
    listing.set_defaults(func=_guard(cmd_list))
    check = ksub.add_parser("check", help="decrypt every key (or one) and say ok, printing none")
    check.add_argument("account", nargs="?", metavar="ACCOUNT", help="only this account")
    check.add_argument(
        "--accounts",
        type=Path,
        metavar="FILE",
        help="check the keys of every account of this accounts.yaml, in Vault or in the file",
    )
    _store_options(check)
    check.set_defaults(func=_guard(cmd_check))
    new = ksub.add_parser("new-master-key", help="write a new random master key file (0600)")
    new.add_argument("file", type=Path, metavar="FILE")
    new.set_defaults(func=_guard(cmd_new_master_key))

    def keys_help(args: argparse.Namespace, ctx: Context) -> int:
        keys.print_help()
        return 2

    keys.set_defaults(func=keys_help)

    accounts = actions.add_parser(
        "accounts", help="validate an accounts.yaml; print its accounts and routing table"
    )
    accounts.add_argument("file", type=Path, metavar="FILE", help="the accounts.yaml")
    json_option(accounts)
    accounts.set_defaults(func=_guard(cmd_accounts))
