"""REST reads of an account's history: closed positions and its P&L/equity over time.

Both read the journal (:meth:`~atlas_oms.runtime.queries.Queries.history`), so they show only
what is durable, and page by journal sequence: ``after_seq`` is the last page's
``next_after_seq`` (None: no more). A page never splits the items of one sequence number.
Who may read: the keys that may see the account (its tree's traders, risk keys), as every
account read.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from atlas_oms.runtime.account_history import AccountHistory, account_history
from atlas_oms.runtime.position_stats import position_stats
from atlas_oms.service.app import JSON, Key, Limit, Service, service_of
from atlas_oms.service.journal_reads import read_committed

__all__ = ["register"]


def _page(
    items: list[Any], seq_of: Any, after_seq: int, limit: int
) -> tuple[list[Any], int | None]:
    """Items after ``after_seq``, at most ``limit`` sequence numbers' worth (never a split one)."""
    out: list[Any] = []
    seqs = 0
    last = None
    rest = [i for i in items if seq_of(i) > after_seq]
    for item in rest:
        seq = seq_of(item)
        if seq != last:
            if seqs == limit:
                return out, last
            seqs += 1
            last = seq
        out.append(item)
    return out, None


async def _history(service: Service, account_id: str) -> AccountHistory:
    """The account's history from the committed journal, off the event loop."""
    service.node.account_history_check(account_id)
    return await read_committed(service, lambda events: account_history(events, account_id))


def register(app: FastAPI) -> None:
    @app.get("/v1/accounts/{account_id}/positions/closed", tags=["portfolio"])
    async def closed_positions(
        request: Request,
        account_id: str,
        key: Key,
        symbol: str | None = None,
        after_seq: int = Query(0, ge=0),
        limit: Limit = 100,
    ) -> Response:
        """Positions that went flat, oldest close first: side, quantity, entry and exit
        averages, realized P&L (before fees), fees, funding, when opened and closed."""
        service = service_of(request)
        service.require_account(key, account_id)
        await service.durable()
        closed = (await _history(service, account_id)).closed
        if symbol is not None:
            closed = [c for c in closed if c.symbol == symbol]
        page, next_after = _page(closed, lambda c: c.closed_seq, after_seq, limit)
        return JSON({"account_id": account_id, "positions": page, "next_after_seq": next_after})

    @app.get("/v1/accounts/{account_id}/pnl", tags=["portfolio"])
    async def pnl(
        request: Request,
        account_id: str,
        key: Key,
        after_seq: int = Query(0, ge=0),
        limit: Limit = 100,
    ) -> Response:
        """Realized P&L over time (each fill, fee and funding payment with the running totals
        per asset) and the equity after each booking event (per asset: balance + unrealized
        P&L of derivatives at the marks then); ``limit`` counts journal sequence numbers."""
        service = service_of(request)
        service.require_account(key, account_id)
        await service.durable()
        history = await _history(service, account_id)
        rows: list[tuple[int, str, Any]] = sorted(
            [(e.seq, "pnl", e) for e in history.pnl]
            + [(e.seq, "equity", e) for e in history.equity],
            key=lambda r: (r[0], r[1] != "pnl"),
        )
        page, next_after = _page(rows, lambda r: r[0], after_seq, limit)
        return JSON(
            {
                "account_id": account_id,
                "entries": [r[2] for r in page if r[1] == "pnl"],
                "equity": [r[2] for r in page if r[1] == "equity"],
                "next_after_seq": next_after,
            }
        )

    @app.get("/v1/accounts/{account_id}/position-stats", tags=["portfolio"])
    async def position_statistics(
        request: Request, account_id: str, key: Key, symbol: str | None = None
    ) -> Response:
        """Position statistics (seed 003, POS-6): open positions, closed round trips, win rate,
        realized, unrealized and total P&L and fees, per symbol and per P&L asset
        (``runtime/position_stats.py``); ``symbol``: only that one."""
        service = service_of(request)
        service.require_account(key, account_id)
        await service.durable()
        closed = (await _history(service, account_id)).closed
        return JSON(position_stats(service.node, account_id, symbol=symbol, closed=closed))
