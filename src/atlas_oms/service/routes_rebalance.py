"""Rebalancing over REST (runtime/rebalance.py; seed 002 §10.5):

* ``POST /v1/rebalance`` ``{"dry_run": false}``: one rebalancing run of the ``accounts.yaml``
  the server was started with (admin key): in-doubt transfers looked up first, then the plan
  (journaled, in the audit trail of every account of the run) and each transfer (at the venue
  first, then booked in Atlas with the rule that caused it). 200 with the run's report.
  ``dry_run: true`` (admin or risk key): the plan a run would make now, nothing journaled or
  moved. 409 ``NO_ACCOUNTS_FILE`` when the server has no ``accounts.yaml``.
"""

from __future__ import annotations

import msgspec
from fastapi import FastAPI, Request
from fastapi.responses import Response

from atlas_oms.runtime.node import CommandRefused
from atlas_oms.service import schemas as s
from atlas_oms.service.app import JSON, Key, Problem, service_of


class RebalanceIn(s.Body):
    dry_run: bool = False


def register(app: FastAPI) -> None:
    @app.post("/v1/rebalance", tags=["accounts"])
    async def rebalance(request: Request, body: RebalanceIn, key: Key) -> Response:
        """Run rebalancing now (admin), or show its plan (``dry_run``: admin or risk)."""
        roles = ("admin", "risk") if body.dry_run else ("admin",)
        if not any(key.has(r) for r in roles):
            raise Problem(403, "FORBIDDEN", f"this needs the {' or '.join(roles)} role")
        service = service_of(request)
        rebalancer = service.venues.rebalancer if service.venues is not None else None
        if rebalancer is None:
            raise Problem(
                409,
                "NO_ACCOUNTS_FILE",
                "rebalancing follows accounts.yaml: start the server with --accounts-file",
            )
        if body.dry_run:
            return JSON(msgspec.to_builtins(rebalancer.dry_run()))
        try:
            report = await rebalancer.run(trigger="manual", actor=key.key_id)
        except CommandRefused as exc:
            raise Problem(409, exc.reason, str(exc)) from None
        await service.durable()
        return JSON(msgspec.to_builtins(report))
