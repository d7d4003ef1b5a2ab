"""The venue book in a snapshot (a part that older snapshots lack: then it is empty)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.core.venues.book import VenueBook
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus


class VenueRecord(msgspec.Struct, array_like=True, gc=False):
    status: list[ev.VenueStatusChanged]
    adopted: list[tuple[str, str, str, int]]
    in_doubt: list[tuple[int, int, str, OrderStatus, Decimal, str | None]]
    pending: list[tuple[str, str, str, Decimal, Decimal]]
    reports: list[ev.VenueReconciled]


def export_venues(book: VenueBook) -> VenueRecord | None:
    if not book:
        return None
    return VenueRecord(
        status=list(book.status.values()),
        adopted=[(v, a, i, o) for (v, a, i), o in book.adopted.items()],
        in_doubt=[(o, *mark) for o, mark in book.in_doubt.items()],
        pending=[
            (v, a, asset, atlas, venue)
            for (v, a), diffs in book.pending.items()
            for asset, (atlas, venue) in diffs.items()
        ],
        reports=list(book.reports.values()),
    )


def restore_venues(book: VenueBook, r: VenueRecord | None) -> None:
    if r is None:
        return
    book.status.update(((e.venue, e.account_id), e) for e in r.status)
    book.adopted.update(((v, a, i), o) for v, a, i, o in r.adopted)
    book.external.update(book.adopted.values())
    book.in_doubt.update(
        (o, (seq, action, st, cum, voi)) for o, seq, action, st, cum, voi in r.in_doubt
    )
    for v, a, asset, atlas, venue in r.pending:
        book.pending.setdefault((v, a), {})[asset] = (atlas, venue)
    book.reports.update(((e.venue, e.account_id), e) for e in r.reports)
