"""The audit trail of an account (PER-5): every journaled event that concerns it, in journal order.

The journal already holds everything; an auditor needs it cut per account and laid out in columns
they can read and load elsewhere. :func:`audit_trail` decides which events concern an account and
turns each into an :class:`AuditRecord`; :func:`write_audit` writes records as JSON Lines or CSV.

The rule is generic on purpose: it reads attributes (``account_id``, ``to_account_id``,
``account_ids``, ``intent``, ``account``, ``order_id``, ``scope``/``scope_id``, ``actor``, ``reason``), never a
list of event classes, so event types added later (risk limits, kill switches, circuit
breakers…) land in the right trails without a change here. See docs/DECISIONS.md, "Audit trail".
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime, timedelta
from typing import IO, Any, Literal

import msgspec

from atlas_oms.model.events import EventBase
from atlas_oms.store.exports import PathOrFile, bytes_writer, is_text_file

__all__ = ["COLUMNS", "AuditRecord", "audit_trail", "concerns_account", "iso_ns", "write_audit"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_json_encoder = msgspec.json.Encoder()


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One event of an account's trail: readable columns, plus the whole event in ``detail``.

    Columns the event does not carry are ``None``; order events that carry only ``order_id`` get
    the order's account, client id, symbol and side from its submission. ``symbol`` is the
    instrument, or the asset of a balance change; ``qty`` and ``price`` are what this event says
    (the intent's, a fill's ``last_qty``/``last_px``, a replace's new values, a balance change's
    amount), as exact decimal strings. ``detail`` is the event as JSON builtins (its class name in
    ``"type"``, Decimals as strings), so nothing the journal holds is lost.
    """

    seq: int
    ts_event: int
    time_utc: str
    event: str
    account_id: str | None
    order_id: int | None
    client_order_id: str | None
    symbol: str | None
    side: str | None
    qty: str | None
    price: str | None
    status_or_reason: str | None
    actor: str | None
    detail: dict[str, Any]


#: The columns of a record, in order: the CSV header.
COLUMNS: tuple[str, ...] = AuditRecord.__struct_fields__


class _Order(msgspec.Struct, frozen=True, gc=False):
    """What a submission tells about an order, for the events that carry only its id."""

    account_id: str
    client_order_id: str | None
    symbol: str | None
    side: str | None


def iso_ns(ts: int) -> str:
    """An epoch-nanosecond timestamp as ISO-8601 UTC with all nine digits: ``…T14:30:00.000000001Z``.

    Integer arithmetic only (a float would lose the nanoseconds); a timestamp outside the years
    1–9999 is printed as its raw integer rather than failing the whole trail.
    """
    seconds, nanos = divmod(ts, 1_000_000_000)
    try:
        moment = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return str(ts)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def audit_trail(
    events: Iterable[EventBase], account_id: str, *, include_subaccounts: bool = False
) -> list[AuditRecord]:
    """Return, in journal order, a record for every event that concerns ``account_id``.

    An event concerns the account when it is firm-wide (``scope == "global"``), or when it names
    the account (its ``account_id``, a transfer's receiver ``to_account_id``,
    ``intent.account_id``, ``account.account_id``, or ``scope_id`` with ``scope == "account"``),
    or when it names no account but its ``order_id`` is one of the account's orders (learned from
    the submissions, ``OrderSubmitted`` and ``OrderDenied``, as the stream goes). An event that
    names another account is that account's even when it quotes the id of one of our orders: a
    refused cancel of someone else's order is the sender's mistake, and must not carry either
    account's data into the other's trail.

    With ``include_subaccounts`` the account's sub-accounts at any depth count as the account;
    they are learned from ``AccountOpened`` events as the stream goes, so one read of the journal
    is enough.
    """
    members = {account_id}
    orders: dict[int, _Order] = {}
    records: list[AuditRecord] = []
    for event in events:
        opened = getattr(event, "account", None)
        if include_subaccounts and opened is not None:
            parent = getattr(opened, "parent_id", None)
            if parent is not None and parent in members:
                members.add(opened.account_id)
        intent = getattr(event, "intent", None)
        order_id = getattr(event, "order_id", None)
        owner = getattr(intent, "account_id", None)
        if isinstance(owner, str) and order_id is not None and order_id not in orders:
            orders[order_id] = _Order(
                account_id=owner,
                client_order_id=_text(getattr(intent, "client_order_id", None)),
                symbol=_text(getattr(intent, "symbol", None)),
                side=_text(getattr(intent, "side", None)),
            )
        named = _named_accounts(event)
        order = orders.get(order_id) if order_id is not None else None
        if _concerns(event, named, order.account_id if order else None, members):
            records.append(_record(event, named, order, members))
    return records


def concerns_account(
    event: object, members: Collection[str], order_owner: Callable[[int], str | None]
) -> bool:
    """Whether ``event`` belongs in the trail of the accounts ``members`` (the rule of
    :func:`audit_trail`), with ``order_owner(order_id)`` telling whose an order is: for a reader
    that already knows every order (the live engine) rather than learning them from the stream."""
    named = _named_accounts(event)
    owner = None
    if not named:
        order_id = getattr(event, "order_id", None)
        if isinstance(order_id, int):
            owner = order_owner(order_id)
    return _concerns(event, named, owner, members)


def _concerns(
    event: object, named: list[str], order_owner: str | None, members: Collection[str]
) -> bool:
    if getattr(event, "scope", None) == "global":
        return True  # firm-wide operator actions govern every account
    if named:
        return any(name in members for name in named)
    return order_owner is not None and order_owner in members


def _named_accounts(event: object) -> list[str]:
    """The accounts an event names itself, most specific first."""
    names: list[str] = []
    for holder, attr in (
        (event, "account_id"),
        (event, "to_account_id"),  # the receiver of a transfer: it is in both trails
        (getattr(event, "intent", None), "account_id"),
    ):
        value = getattr(holder, attr, None) if holder is not None else None
        if isinstance(value, str):
            names.append(value)
    opened = getattr(getattr(event, "account", None), "account_id", None)
    if isinstance(opened, str):
        names.append(opened)
    scope_id = getattr(event, "scope_id", None)
    if getattr(event, "scope", None) == "account" and isinstance(scope_id, str):
        names.append(scope_id)
    several = getattr(event, "account_ids", None)  # an event about several accounts (a plan)
    if isinstance(several, tuple):
        names.extend(a for a in several if isinstance(a, str))
    return names


def _record(
    event: EventBase, named: list[str], order: _Order | None, members: set[str]
) -> AuditRecord:
    intent = getattr(event, "intent", None)
    account: str | None
    if named:
        account = next((name for name in named if name in members), named[0])
    else:
        account = order.account_id if order is not None else None
    # The order's columns only fill an event of the order's own account (see audit_trail).
    known = order if order is not None and order.account_id == account else None
    return AuditRecord(
        seq=event.seq,
        ts_event=event.ts_event,
        time_utc=iso_ns(event.ts_event),
        event=type(event).__name__,
        account_id=account,
        order_id=_first_int(event, "order_id"),
        client_order_id=_pick(
            event, intent, "client_order_id", known.client_order_id if known else None
        ),
        symbol=_pick(
            event,
            intent,
            "symbol",
            known.symbol if known else None,
            fallback_attr="asset",
        ),
        side=_pick(event, intent, "side", known.side if known else None),
        qty=_text(_own(event, intent, ("qty", "last_qty", "amount"), "qty")),
        price=_text(_own(event, intent, ("price", "last_px"), "price")),
        status_or_reason=_text(_first(event, "reason", "code", "status")),
        actor=_text(getattr(event, "actor", None)),
        detail=msgspec.to_builtins(event),
    )


def _own(event: object, intent: object, names: tuple[str, ...], intent_name: str) -> Any:
    """The value of the first of ``names`` the event has as a field, else the intent's.

    A field that is there but ``None`` wins: a triggered stop-market's ``price`` is None (it now
    works at market), and the ``last_px`` that fired it is not its price.
    """
    for name in names:
        if hasattr(event, name):
            return getattr(event, name)
    return getattr(intent, intent_name, None)


def _first(obj: object, *names: str) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _first_int(obj: object, name: str) -> int | None:
    value = getattr(obj, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _pick(
    event: object,
    intent: object,
    name: str,
    known: str | None,
    *,
    fallback_attr: str | None = None,
) -> str | None:
    """The event's own value, else its intent's, else the order's (``known``), else a fallback."""
    for value in (getattr(event, name, None), getattr(intent, name, None), known):
        if value is not None:
            return _text(value)
    if fallback_attr is not None:
        return _text(getattr(event, fallback_attr, None))
    return None


def _text(value: Any) -> str | None:
    """A column value as text: Decimals exactly as journaled (``str``), enums by their value."""
    if value is None:
        return None
    return str(value)


def write_audit(
    records: Iterable[AuditRecord],
    path_or_file: PathOrFile,
    fmt: Literal["jsonl", "csv"],
) -> int:
    """Write ``records`` to a path (replaced) or an open file, as JSON Lines or CSV; return the count.

    JSON Lines: one object per record, Decimals as strings, ``json.loads`` or
    ``msgspec.json.decode(line, type=AuditRecord)`` reads it back. CSV: a header of the record's
    columns in order, then one row per record; ``None`` is an empty cell and ``detail`` a compact
    JSON object, so a spreadsheet opens it and ``csv.DictReader`` reads it.
    """
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown audit format {fmt!r}: use 'jsonl' or 'csv'")
    if isinstance(path_or_file, str | os.PathLike):
        if fmt == "csv":
            with open(path_or_file, "w", encoding="utf-8", newline="") as f:
                return _write_csv(records, f)
        with open(path_or_file, "wb") as f:
            return _write_jsonl(records, f)
    if fmt == "jsonl":
        return _write_jsonl(records, path_or_file)
    if is_text_file(path_or_file):
        return _write_csv(records, path_or_file)
    text = io.TextIOWrapper(path_or_file, encoding="utf-8", newline="")
    try:
        return _write_csv(records, text)
    finally:
        text.flush()
        text.detach()  # the caller's file stays open


def _write_jsonl(records: Iterable[AuditRecord], f: IO[bytes] | IO[str]) -> int:
    write = bytes_writer(f)
    count = 0
    buffer = bytearray()
    for record in records:
        _json_encoder.encode_into(record, buffer, -1)
        buffer.extend(b"\n")
        count += 1
        if len(buffer) >= 1 << 16:
            write(bytes(buffer))
            buffer.clear()
    if buffer:
        write(bytes(buffer))
    return count


def _write_csv(records: Iterable[AuditRecord], f: IO[str]) -> int:
    writer = csv.writer(f)
    writer.writerow(COLUMNS)
    count = 0
    for record in records:
        row: list[Any] = [getattr(record, name) for name in COLUMNS[:-1]]
        row.append(_json_encoder.encode(record.detail).decode())
        writer.writerow(row)
        count += 1
    return count
