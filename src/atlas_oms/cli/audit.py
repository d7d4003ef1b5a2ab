"""``atlas audit ACCOUNT``: every journaled event that concerns an account, as a table, JSON Lines
or CSV. The journal is opened read-only (:mod:`atlas_oms.store.audit`), so a running node's
journal can be audited."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from atlas_oms.cli.context import Context
from atlas_oms.cli.options import journal_option
from atlas_oms.cli.tables import cell, fmt_ns, render
from atlas_oms.store.audit import AuditRecord, audit_trail, write_audit
from atlas_oms.store.base import JournalError
from atlas_oms.store.opener import open_journal

__all__ = ["AUDIT_HEADERS", "add_parser", "audit_table", "cmd_audit", "read_audit"]

AUDIT_HEADERS = (
    "seq",
    "time",
    "event",
    "order",
    "symbol",
    "side",
    "qty",
    "price",
    "status/reason",
    "actor",
)


def read_audit(
    path: str, account_id: str, *, include_subaccounts: bool = False
) -> list[AuditRecord]:
    """The audit trail of ``account_id`` in the journal at ``path``, opened read-only."""
    journal = open_journal(path, readonly=True)
    try:
        return audit_trail(journal.read(), account_id, include_subaccounts=include_subaccounts)
    finally:
        journal.close()


def audit_table(records: Sequence[AuditRecord], *, with_account: bool = False) -> str:
    """The trail as a text table; ``with_account`` adds the account column (sub-account trails)."""
    headers = list(AUDIT_HEADERS)
    if with_account:
        headers.insert(3, "account")
    rows = []
    for r in records:
        row: list[Any] = [
            r.seq,
            fmt_ns(r.ts_event),
            r.event,
            r.order_id,
            r.symbol,
            r.side,
            cell(r.qty),
            cell(r.price),
            r.status_or_reason,
            r.actor,
        ]
        if with_account:
            row.insert(3, r.account_id)
        rows.append(["" if value is None else value for value in row])
    return render(headers, rows)


def _write(args: argparse.Namespace, records: list[AuditRecord]) -> None:
    if args.format == "table":
        account, journal = args.account, args.journal
        scope = f"{account} and its sub-accounts" if args.subaccounts else account
        text = (
            f"Audit trail of {scope} in {journal}: {len(records)} events\n"
            + audit_table(records, with_account=args.subaccounts)
            + "\n"
        )
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    elif args.out:
        write_audit(records, args.out, args.format)
    else:
        write_audit(records, sys.stdout, args.format)


def cmd_audit(args: argparse.Namespace, ctx: Context) -> int:
    """Print or export the account's trail; an account no event concerns is unknown (exit 2)."""
    journal, account = args.journal, args.account
    if not Path(journal).exists():
        print(f"atlas audit: no journal at {journal}", file=sys.stderr)
        return 2
    try:
        records = read_audit(journal, account, include_subaccounts=args.subaccounts)
    except JournalError as exc:
        print(f"atlas audit: {exc}", file=sys.stderr)
        return 1
    # Firm-wide (global) events are in every account's trail; an account is known by its own.
    if not any(r.detail.get("scope") != "global" for r in records):
        print(
            f"atlas audit: unknown account {account!r}: no event in {journal} concerns it",
            file=sys.stderr,
        )
        return 2
    try:
        _write(args, records)
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        where = args.out or "stdout"
        print(f"atlas audit: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.out:
        print(f"atlas audit: {len(records)} records of {account} written to {args.out}")
    return 0


def add_parser(sub: Any) -> None:
    """``atlas audit``."""
    aud = sub.add_parser(
        "audit", help="print or export every journaled event that concerns an account"
    )
    aud.add_argument("account", metavar="ACCOUNT", help="the account id")
    journal_option(aud, readonly=True)
    aud.add_argument(
        "--format",
        choices=("table", "jsonl", "csv"),
        default="table",
        help="a readable table (default), JSON Lines or CSV",
    )
    aud.add_argument("--out", metavar="FILE", help="write to FILE (replaced) instead of stdout")
    aud.add_argument(
        "--subaccounts",
        action="store_true",
        help="include the account's sub-accounts (at any depth)",
    )
    aud.set_defaults(func=cmd_audit)
