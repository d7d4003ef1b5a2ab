"""History of archived orders: the read side for orders that left the engine's memory.

The engine keeps live and recent orders only (see ``core/retention.py``); an ``OrdersArchived``
event carries each order it archives, executions included. A history store indexes those records
by order id, account, client order id, status, symbol and time, and is *derived from the journal*:
the node adds every archive event it journals, and at start catches up from the journal after
the last sequence number it holds (dropping what it holds beyond the journal's end: it may have
been written before a commit that never happened). Deleting it costs one scan of the journal.

* :class:`SqliteHistory`: a SQLite file next to a SQLite journal (``<journal>.history``).
* :class:`MemoryHistory`: dictionaries, for memory and file journals (tests, backtests).

Reads page by order id (``after``, ``limit``), as the node's ``orders()`` does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import msgspec

from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus
from atlas_oms.store.base import Journal
from atlas_oms.store.sqlite import SqliteJournal

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(ev.ArchivedOrder)


class History(Protocol):
    """Where archived orders are read back."""

    last_seq: int

    def add(self, event: ev.OrdersArchived) -> None: ...

    def get(self, order_id: int) -> ev.ArchivedOrder | None: ...

    def by_client_id(self, account_id: str, client_order_id: str) -> ev.ArchivedOrder | None: ...

    def orders(
        self,
        account_id: str | None = None,
        *,
        status: OrderStatus | None = None,
        symbol: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        after: int = 0,
        limit: int | None = None,
    ) -> list[ev.ArchivedOrder]: ...

    def drop_after(self, seq: int) -> None: ...

    def seen(self, seq: int) -> None:
        """The journal up to ``seq`` was scanned: a later catch-up starts after it."""
        ...

    def close(self) -> None: ...


def _matches(
    r: ev.ArchivedOrder,
    account_id: str | None,
    status: OrderStatus | None,
    symbol: str | None,
    since_ns: int | None,
    until_ns: int | None,
) -> bool:
    return (
        (account_id is None or r.account_id == account_id)
        and (status is None or r.status is status)
        and (symbol is None or r.symbol == symbol)
        and (since_ns is None or r.ts_init >= since_ns)
        and (until_ns is None or r.ts_init < until_ns)
    )


class MemoryHistory:
    """Archived orders in dictionaries (for journals that are themselves in memory or scanned)."""

    def __init__(self) -> None:
        self.last_seq = 0
        self._orders: dict[int, tuple[int, ev.ArchivedOrder]] = {}
        self._client: dict[tuple[str, str], int] = {}

    def add(self, event: ev.OrdersArchived) -> None:
        for r in event.orders:
            self._orders[r.order_id] = (event.seq, r)
            if r.client_order_id is not None:
                key = (r.account_id, r.client_order_id)
                if self._client.get(key, 0) <= r.order_id:
                    self._client[key] = r.order_id
        self.last_seq = max(self.last_seq, event.seq)

    def get(self, order_id: int) -> ev.ArchivedOrder | None:
        hit = self._orders.get(order_id)
        return hit[1] if hit is not None else None

    def by_client_id(self, account_id: str, client_order_id: str) -> ev.ArchivedOrder | None:
        order_id = self._client.get((account_id, client_order_id))
        return self.get(order_id) if order_id is not None else None

    def orders(
        self,
        account_id: str | None = None,
        *,
        status: OrderStatus | None = None,
        symbol: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        after: int = 0,
        limit: int | None = None,
    ) -> list[ev.ArchivedOrder]:
        out: list[ev.ArchivedOrder] = []
        for order_id in sorted(i for i in self._orders if i > after):
            r = self._orders[order_id][1]
            if _matches(r, account_id, status, symbol, since_ns, until_ns):
                if limit is not None and len(out) >= limit:
                    break
                out.append(r)
        return out

    def drop_after(self, seq: int) -> None:
        for order_id in [i for i, (s, _) in self._orders.items() if s > seq]:
            r = self._orders.pop(order_id)[1]
            if r.client_order_id is not None:
                self._client.pop((r.account_id, r.client_order_id), None)
        self.last_seq = min(self.last_seq, seq)

    def seen(self, seq: int) -> None:
        self.last_seq = max(self.last_seq, seq)

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS archived (
    order_id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    client_order_id TEXT,
    symbol TEXT NOT NULL,
    status TEXT NOT NULL,
    ts_init INTEGER NOT NULL,
    record BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS archived_account ON archived (account_id, order_id);
CREATE INDEX IF NOT EXISTS archived_client ON archived (account_id, client_order_id);
CREATE INDEX IF NOT EXISTS archived_seq ON archived (seq);
CREATE TABLE IF NOT EXISTS history_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class SqliteHistory:
    """Archived orders in a SQLite file (one row per order, its record as msgpack)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM history_meta WHERE key='last_seq'").fetchone()
        self.last_seq: int = row[0] if row else 0

    def add(self, event: ev.OrdersArchived) -> None:
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO archived VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.order_id,
                        event.seq,
                        r.account_id,
                        r.client_order_id,
                        r.symbol,
                        r.status.value,
                        r.ts_init,
                        _encoder.encode(r),
                    )
                    for r in event.orders
                ],
            )
            self._set_last(max(self.last_seq, event.seq))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _set_last(self, seq: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO history_meta (key, value) VALUES ('last_seq', ?)", (seq,)
        )
        self.last_seq = seq

    def get(self, order_id: int) -> ev.ArchivedOrder | None:
        row = self._db.execute(
            "SELECT record FROM archived WHERE order_id = ?", (order_id,)
        ).fetchone()
        return _decoder.decode(row[0]) if row else None

    def by_client_id(self, account_id: str, client_order_id: str) -> ev.ArchivedOrder | None:
        row = self._db.execute(
            "SELECT record FROM archived WHERE account_id = ? AND client_order_id = ? "
            "ORDER BY order_id DESC LIMIT 1",
            (account_id, client_order_id),
        ).fetchone()
        return _decoder.decode(row[0]) if row else None

    def orders(
        self,
        account_id: str | None = None,
        *,
        status: OrderStatus | None = None,
        symbol: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        after: int = 0,
        limit: int | None = None,
    ) -> list[ev.ArchivedOrder]:
        where = ["order_id > ?"]
        args: list[object] = [after]
        for clause, value in (
            ("account_id = ?", account_id),
            ("status = ?", status.value if status is not None else None),
            ("symbol = ?", symbol),
            ("ts_init >= ?", since_ns),
            ("ts_init < ?", until_ns),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = f"SELECT record FROM archived WHERE {' AND '.join(where)} ORDER BY order_id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_decoder.decode(row[0]) for row in self._db.execute(sql, args)]

    def drop_after(self, seq: int) -> None:
        self._db.execute("DELETE FROM archived WHERE seq > ?", (seq,))
        if self.last_seq > seq:
            self._set_last(seq)

    def seen(self, seq: int) -> None:
        if seq > self.last_seq:
            self._set_last(seq)

    def close(self) -> None:
        self._db.close()


def history_for(journal: Journal) -> History:
    """The history store that goes with ``journal``: a SQLite file next to a writable SQLite
    journal, else one in memory."""
    if isinstance(journal, SqliteJournal) and not journal.readonly:
        return SqliteHistory(journal.path.with_name(journal.path.name + ".history"))
    return MemoryHistory()


def archive_events(journal: Journal, from_seq: int) -> Iterator[ev.OrdersArchived]:
    """The journal's archive events from ``from_seq`` on."""
    for batch in journal.read_batches(from_seq):
        for event in batch:
            if event.__class__ is ev.OrdersArchived:
                yield event


def catch_up(history: History, journal: Journal) -> None:
    """Bring ``history`` level with ``journal``: drop what it holds beyond the journal's end,
    then add the archive events it has not seen."""
    last = journal.last_seq
    if history.last_seq > last:
        history.drop_after(last)
    for event in archive_events(journal, history.last_seq + 1):
        history.add(event)
    # Scanned to the end: the next start reads only what came after (not the whole journal
    # again when nothing was archived for a long time).
    history.seen(last)
