"""OKX's public order book as :class:`VenueBook` s (issue 16, ``VenueBooks``).

The ``books`` channel of ``{ws_url}/public``: a ``snapshot`` (up to 400 levels a side), then
``update`` s carrying the changed levels only (size ``"0"`` deletes a level). Each message names
the ``seqId`` of the one before it (``prevSeqId``); one that does not follow the last applied
(a message lost) is a gap, and a ``checksum`` that is not the CRC32 of the local book's first 25
levels a side (``bid1px:bid1sz:ask1px:ask1sz:...``, the strings as received, signed 32-bit) is a
book out of step: either one drops the session (:class:`~atlas_oms.venues.book_ws.Resync`) and a
new one starts from a new snapshot. Prices and sizes are taken from the raw strings
(:class:`~decimal.Decimal`, exact); SWAP sizes are contracts, multiplied by ``ctVal`` into base
units. ``ts`` is the push's ``ts`` (ms) in ns, ``update_id`` its ``seqId``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from atlas_oms.model.route_book import VenueBook
from atlas_oms.venues.book_ws import Resync, levels
from atlas_oms.venues.okx import parse as p

CHECKSUM_LEVELS = 25

#: price string -> size string, as received.
Side = dict[str, str]


def checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """OKX's checksum of the best 25 levels of each side (``(price, size)`` strings, best
    first): ``bid1px:bid1sz:ask1px:ask1sz:...``, a side that runs out leaving its places out;
    CRC32 as a signed 32-bit integer."""
    parts: list[str] = []
    for i in range(CHECKSUM_LEVELS):
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


@dataclass
class _Book:
    bids: Side = field(default_factory=dict)
    asks: Side = field(default_factory=dict)
    seq: int = -1

    def best(self, side: Side, n: int, descending: bool) -> list[tuple[str, str]]:
        prices = sorted(side, key=Decimal, reverse=descending)[:n]
        return [(px, side[px]) for px in prices]


class OkxBooks:
    """The books of one ``books`` session: :meth:`handle` takes each decoded message and
    returns the :class:`VenueBook` s it changed (top ``depth``)."""

    def __init__(self, ctx: p.Context, venue: str, depth: int) -> None:
        self.ctx = ctx
        self.venue = venue
        self.depth = depth
        self._books: dict[str, _Book] = {}

    @staticmethod
    def subscribe(inst_ids: Iterable[str]) -> str:
        args = [{"channel": "books", "instId": inst_id} for inst_id in inst_ids]
        return json.dumps({"op": "subscribe", "args": args})

    def handle(self, message: Any) -> list[VenueBook]:
        if not isinstance(message, dict):
            return []
        if message.get("event") == "error":
            raise ValueError(f"okx books: {message.get('code')} {message.get('msg')}")
        arg = message.get("arg") or {}
        if arg.get("channel") != "books" or "data" not in message:
            return []
        inst_id = str(arg.get("instId", ""))
        action = message.get("action")
        out: list[VenueBook] = []
        for row in message.get("data") or ():
            if action == "snapshot":
                book = self._books[inst_id] = _Book()
            else:
                found = self._books.get(inst_id)
                if found is None:
                    raise Resync(f"okx books {inst_id}: an update before the snapshot")
                book = found
                if int(row.get("prevSeqId", -1)) != book.seq:
                    raise Resync(
                        f"okx books {inst_id}: prevSeqId {row.get('prevSeqId')} after "
                        f"seqId {book.seq}"
                    )
            _apply(book.bids, row.get("bids") or ())
            _apply(book.asks, row.get("asks") or ())
            book.seq = int(row.get("seqId", book.seq))
            if "checksum" in row:
                mine = checksum(
                    book.best(book.bids, CHECKSUM_LEVELS, True),
                    book.best(book.asks, CHECKSUM_LEVELS, False),
                )
                if mine != int(row["checksum"]):
                    raise Resync(f"okx books {inst_id}: checksum {row['checksum']} != {mine}")
            out.append(self._venue_book(inst_id, book, row))
        return out

    def _venue_book(self, inst_id: str, book: _Book, row: dict[str, Any]) -> VenueBook:
        ct = self.ctx.contracts(inst_id)

        def side(s: Side, descending: bool) -> Any:
            pairs = ((Decimal(px), Decimal(sz) * ct) for px, sz in s.items())
            return levels(pairs, self.depth, descending=descending)

        return VenueBook(
            venue=self.venue,
            symbol=self.ctx.symbol(inst_id),
            bids=side(book.bids, True),
            asks=side(book.asks, False),
            ts=p.ms_to_ns(row.get("ts")),
            update_id=book.seq,
        )


def _apply(side: Side, rows: Iterable[Any]) -> None:
    for level in rows:
        px, sz = str(level[0]), str(level[1])
        if Decimal(sz) == 0:
            side.pop(px, None)
        else:
            side[px] = sz
