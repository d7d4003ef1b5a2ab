"""The fake OKX's public order book (issue 16): ``GET /api/v5/market/books`` and the public
WebSocket channels ``books`` (a snapshot, then incremental updates) and ``books5`` (the top 5,
a snapshot each push), built from the fake's own book: the house quotes plus every open limit
order resting on it, aggregated per price (sizes in OKX's ``sz``: base currency for SPOT,
contracts for SWAP).

As OKX v5 documents them: a level is ``[price, size, "0", orderCount]`` (the third field, the
liquidated-orders count, is deprecated and always ``"0"``); an update carries the changed levels
only, size ``"0"`` deleting a level; ``seqId`` grows with each change of the instrument's book
and ``prevSeqId`` is the ``seqId`` of the message before it on the subscription (``-1`` on the
snapshot); ``checksum`` is the CRC32 (signed 32-bit) of the first 25 bids and asks interleaved
as ``bid1px:bid1sz:ask1px:ask1sz:bid2px:...`` (a side that runs out leaves its places out),
with the price and size strings as sent. ``ts`` is the book's time in ms (a string).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from atlas_oms.fakes.okx.venue import FakeOkxVenue, fmt

#: OKX's ``books`` channel and REST depth hold up to 400 levels a side.
MAX_DEPTH = 400
#: The checksum covers the first 25 levels of each side.
CHECKSUM_LEVELS = 25

Side = dict[Decimal, tuple[Decimal, int]]  # price -> (size, order count)


def book_of(venue: FakeOkxVenue, inst_id: str) -> tuple[Side, Side]:
    """(bids, asks) of ``inst_id``: house quotes and resting limit orders, per price."""
    bids: Side = {}
    asks: Side = {}

    def add(side: str, px: Decimal, sz: Decimal) -> None:
        if sz <= 0:
            return
        book = bids if side == "buy" else asks
        size, count = book.get(px, (Decimal(0), 0))
        book[px] = (size + sz, count + 1)

    for q in venue.quotes.get(inst_id, ()):
        add(q.side, q.px, q.sz)
    for o in venue.orders.values():
        resting = o.px is not None and o.ord_type in ("limit", "post_only")
        if resting and o.inst.inst_id == inst_id and o.is_open and o.px is not None:
            add(o.side, o.px, o.leaves)
    return bids, asks


def wire_levels(side: Side, *, descending: bool, depth: int = MAX_DEPTH) -> list[list[str]]:
    prices = sorted(side, reverse=descending)[:depth]
    return [[fmt(px), fmt(side[px][0]), "0", str(side[px][1])] for px in prices]


def checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """OKX's checksum of a book's first 25 levels a side (strings as sent), signed 32-bit."""
    parts: list[str] = []
    for i in range(CHECKSUM_LEVELS):
        if i < len(bids):
            parts += bids[i][:2]
        if i < len(asks):
            parts += asks[i][:2]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


@dataclass
class _Published:
    """What the ``books`` channel last published of one instrument."""

    bids: dict[str, list[str]] = field(default_factory=dict)  # price string -> level
    asks: dict[str, list[str]] = field(default_factory=dict)
    seq: int = 1000


class OkxBooks:
    """The books of the fake's instruments and their pushes. ``send(channel, inst_id, msg)``
    delivers a push to the subscribers of that channel and instrument. Fault knobs:
    ``drop_updates`` (the next N ``books`` updates are not sent: a gap) and ``bad_checksums``
    (the next N updates carry a wrong checksum)."""

    def __init__(
        self, venue: FakeOkxVenue, send: Callable[[str, str, dict[str, Any]], None]
    ) -> None:
        self.venue = venue
        self.send = send
        self._published: dict[str, _Published] = {}
        self.drop_updates = 0
        self.bad_checksums = 0
        #: ``books`` snapshots sent (one per subscription): a resync shows as one more.
        self.snapshots = 0

    def _state(self, inst_id: str) -> _Published:
        state = self._published.get(inst_id)
        if state is None:
            state = self._published[inst_id] = _Published()
            bids, asks = self._wire(inst_id)
            state.bids = {lv[0]: lv for lv in bids}
            state.asks = {lv[0]: lv for lv in asks}
        return state

    def _wire(
        self, inst_id: str, depth: int = MAX_DEPTH
    ) -> tuple[list[list[str]], list[list[str]]]:
        bids, asks = book_of(self.venue, inst_id)
        return (
            wire_levels(bids, descending=True, depth=depth),
            wire_levels(asks, descending=False, depth=depth),
        )

    # ------------------------------------------------------------------ REST
    def rest(self, inst_id: str, sz: int) -> list[dict[str, Any]]:
        """``GET /api/v5/market/books`` data: the top ``sz`` (1..400) levels a side."""
        bids, asks = self._wire(inst_id, max(1, min(sz, MAX_DEPTH)))
        return [{"asks": asks, "bids": bids, "ts": str(self.venue.now_ms())}]

    # ------------------------------------------------------------------ WebSocket
    def snapshot(self, channel: str, inst_id: str) -> dict[str, Any]:
        """The first push of a new ``books``/``books5`` subscription (call it before adding the
        subscriber: a change not yet pushed goes to the others first)."""
        self.changed(inst_id)  # the other subscribers get a pending change first
        if channel == "books5":
            return self._books5(inst_id)
        self.snapshots += 1
        state = self._state(inst_id)
        bids = _top(state.bids, True, MAX_DEPTH)
        asks = _top(state.asks, False, MAX_DEPTH)
        row = {
            "asks": asks,
            "bids": bids,
            "ts": str(self.venue.now_ms()),
            "checksum": checksum(bids, asks),
            "prevSeqId": -1,
            "seqId": state.seq,
        }
        return {"arg": {"channel": "books", "instId": inst_id}, "action": "snapshot", "data": [row]}

    def _books5(self, inst_id: str) -> dict[str, Any]:
        bids, asks = self._wire(inst_id, 5)
        row = {
            "asks": asks,
            "bids": bids,
            "instId": inst_id,
            "ts": str(self.venue.now_ms()),
            "seqId": self._state(inst_id).seq,
        }
        return {"arg": {"channel": "books5", "instId": inst_id}, "data": [row]}

    def changed(self, inst_id: str) -> None:
        """The book of ``inst_id`` may have changed: push the difference (``books``) and the
        top 5 (``books5``) when something did change."""
        state = self._state(inst_id)
        bids, asks = self._wire(inst_id)
        new_bids = {lv[0]: lv for lv in bids}
        new_asks = {lv[0]: lv for lv in asks}
        d_bids = _diff(state.bids, new_bids, descending=True)
        d_asks = _diff(state.asks, new_asks, descending=False)
        if not d_bids and not d_asks:
            return
        top5_before = (_top(state.bids, True, 5), _top(state.asks, False, 5))
        prev = state.seq
        state.seq += 1
        state.bids, state.asks = new_bids, new_asks
        total = checksum(bids, asks)
        if self.bad_checksums > 0:
            self.bad_checksums -= 1
            total ^= 0x5A5A
        row = {
            "asks": d_asks,
            "bids": d_bids,
            "ts": str(self.venue.now_ms()),
            "checksum": total,
            "prevSeqId": prev,
            "seqId": state.seq,
        }
        if self.drop_updates > 0:
            self.drop_updates -= 1
        else:
            self.send(
                "books",
                inst_id,
                {"arg": {"channel": "books", "instId": inst_id}, "action": "update", "data": [row]},
            )
        if top5_before != (_top(new_bids, True, 5), _top(new_asks, False, 5)):
            self.send("books5", inst_id, self._books5(inst_id))


def _top(side: dict[str, list[str]], descending: bool, n: int) -> list[list[str]]:
    keys = sorted(side, key=Decimal, reverse=descending)[:n]
    return [side[k] for k in keys]


def _diff(
    old: dict[str, list[str]], new: dict[str, list[str]], *, descending: bool
) -> list[list[str]]:
    out = [lv for px, lv in new.items() if old.get(px) != lv]
    out += [[px, "0", "0", "0"] for px in old if px not in new]
    out.sort(key=lambda lv: Decimal(lv[0]), reverse=descending)
    return out
