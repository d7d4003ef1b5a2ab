"""``POST /v1/corporate-actions`` (admin): a split, stock bonus or cash dividend on an equity
(POS-5), applied by the core (``core/equities/corporate.py``) and journaled as
``CorporateActionApplied`` with the API key's id as the actor. A refusal (unknown instrument,
not an equity, an ``action_id`` applied already, a missing ratio or amount) is journaled
``CommandRejected`` and answered 404/409/422 as everywhere else. The same actions come from
``atlas corporate-action`` and from the feed file (``ATLAS_CORPORATE_FEED``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import Field

from atlas_oms.model import events as ev
from atlas_oms.runtime.node import CommandRefused
from atlas_oms.service import schemas as s
from atlas_oms.service.app import JSON, Key, Problem, service_of

__all__ = ["register"]


class CorporateActionIn(s.Body):
    action_id: str = Field(min_length=1, max_length=64)
    symbol: str = Field(min_length=1, max_length=64)
    kind: Literal["SPLIT", "BONUS", "DIVIDEND", "split", "bonus", "dividend"]
    #: SPLIT and BONUS: 2 = 2-for-1, 0.1 = 1-for-10; 0.2 = one bonus share per five.
    ratio: s.Dec | None = None
    #: DIVIDEND: cash per share, in the instrument's quote currency.
    amount: s.Dec | None = None
    reason: str = Field(default="", max_length=200)


def register(app: FastAPI) -> None:
    @app.post("/v1/corporate-actions", tags=["risk"])
    async def corporate_action(request: Request, body: CorporateActionIn, key: Key) -> Response:
        """Apply a corporate action (admin): holdings, cost basis and open orders are adjusted
        (a split), zero-cost shares added (a bonus) or cash paid (a dividend)."""
        service = service_of(request)
        if not key.has("admin"):
            raise Problem(403, "FORBIDDEN", "this needs the admin role")
        node = service.node
        try:
            events = node.apply_corporate_action(
                body.symbol,
                body.kind,
                action_id=body.action_id,
                ratio=body.ratio,
                amount=body.amount,
                actor=key.key_id,
                reason=body.reason,
            )
        except CommandRefused:
            await service.durable()
            raise
        await service.durable()
        applied = next(e for e in events if isinstance(e, ev.CorporateActionApplied))
        return JSON(
            {
                "action_id": applied.action_id,
                "symbol": applied.symbol,
                "kind": applied.kind,
                "ratio": applied.ratio,
                "amount": applied.amount,
                "actor": applied.actor,
                "holdings": [
                    {"account_id": a, "before": b, "after": af, "cash": cash}
                    for a, b, af, cash in applied.holdings
                ],
                "orders_adjusted": sum(
                    1 for e in events if isinstance(e, (ev.OrderReplaced, ev.OrderPendingReplace))
                ),
                "seq": applied.seq,
            }
        )
