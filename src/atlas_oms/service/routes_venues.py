"""External venues over REST: each venue account's health, its reconciliations (the exception
reports), and a reconciliation on demand.

* ``GET /health/{venue}/{account_id}`` (in routes.py) answers 200 while the venue account is
  tradable and 503 while it is not (connecting, reconciling, disconnected, clock skew, banned,
  position mode mismatch), with the gateway's view: connected, last message age, clock offset,
  rate-limit budget left, reconciliation state and the last reconciliation's summary.
* ``GET /v1/venues``: the same for every venue account the key may see.
* ``POST /v1/venues/{venue}/{account_id}/reconcile`` (admin or risk): reconcile now; the answer is
  the exception report the core journaled (``VenueReconciled``).
* ``GET /v1/venues/{venue}/{account_id}/reconciliations``: every exception report of that venue
  account, newest first (``?limit=``), read from the journal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.responses import Response

from atlas_oms.model import events as ev
from atlas_oms.runtime.gateway import SessionHealth, VenueSession
from atlas_oms.service.app import JSON, Key, Problem, Service, service_of
from atlas_oms.service.journal_reads import read_committed


def _role(key: Any, *roles: str) -> None:
    if not any(key.has(r) for r in roles):
        raise Problem(403, "FORBIDDEN_ROLE", f"this needs the {' or '.join(roles)} role")


def session_of(service: Service, venue: str, account_id: str) -> VenueSession | None:
    setup = service.venues
    if setup is None:
        return None
    return setup.gateway.sessions.get((venue, account_id))


def health_body(health: SessionHealth, risk: Any = None) -> dict[str, Any]:
    """A venue account's health as the API shows it: ``status`` ok (tradable) or
    ``not_tradable`` (``reason`` and ``message`` say why)."""
    body = asdict(health)
    body["status"] = "ok" if health.tradable else "not_tradable"
    if risk is not None:
        body["risk"] = risk
    return body


def report_body(report: ev.VenueReconciled) -> dict[str, Any]:
    """An exception report with every field (empty lists included: "no differences" is said)."""
    fields = {name: getattr(report, name) for name in report.__struct_fields__}
    body: dict[str, Any] = msgspec.to_builtins(fields)
    return body


def register(app: FastAPI) -> None:
    @app.get("/v1/venues", tags=["venues"])
    async def venues(request: Request, key: Key) -> Response:
        """Every venue account the key may see, with its health."""
        service = service_of(request)
        setup = service.venues
        out: list[dict[str, Any]] = []
        if setup is not None:
            for health in setup.gateway.health():
                if service.visible(key, health.account_id):
                    out.append(health_body(health))
        return JSON(out)

    @app.get("/v1/venues/quotes/{symbol:path}", tags=["venues"])
    async def quote(request: Request, symbol: str, key: Key) -> Response:
        """A venue instrument's latest public prices as the venue streamed them: best bid and
        ask (book ticker), last trade, mark (perpetuals), and how old they are."""
        service = service_of(request)
        instrument = service.node.instrument(symbol)
        setup = service.venues
        if instrument is None or setup is None or instrument.venue not in setup.gateway.facades:
            raise Problem(404, "UNKNOWN_INSTRUMENT", f"no venue instrument {symbol}")
        tick = setup.gateway.quotes.get(symbol)
        if tick is None:
            raise Problem(404, "NO_QUOTE", f"{symbol}: no price from {instrument.venue} yet")
        return JSON(
            {
                "symbol": symbol,
                "venue": instrument.venue,
                "bid": tick.bid,
                "ask": tick.ask,
                "last": tick.last,
                "mark": tick.mark,
                "ts": tick.ts,
            }
        )

    @app.get("/v1/venues/route", tags=["venues"])
    async def route(
        request: Request, key: Key, symbol: str, strategy: str | None = None
    ) -> Response:
        """The account a strategy's orders for ``symbol`` go to (accounts.yaml's
        ``account_routing``: the strategy's account, or ``default`` without a strategy; the
        market is the instrument's: spot or futures)."""
        service = service_of(request)
        setup = service.venues
        if setup is None:
            raise Problem(404, "NO_ROUTING", "this node has no accounts.yaml: no routing")
        instrument = service.node.instrument(symbol)
        if instrument is None:
            raise Problem(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol}")
        market = "futures" if instrument.is_derivative else "spot"
        try:
            account_id = setup.config.route(strategy, market)
        except LookupError as exc:
            raise Problem(422, getattr(exc, "reason", "UNKNOWN_STRATEGY"), str(exc)) from None
        service.require_account(key, account_id)
        return JSON(
            {
                "strategy": strategy,
                "symbol": symbol,
                "market": market,
                "account_id": account_id,
                "venue": instrument.venue,
            }
        )

    @app.post("/v1/venues/{venue}/{account_id}/reconcile", tags=["venues"])
    async def reconcile(request: Request, venue: str, account_id: str, key: Key) -> Response:
        """Reconcile one venue account now (admin or risk): open orders, fills since the last
        known fill, balances and positions against Atlas's; answer the exception report."""
        service = service_of(request)
        _role(key, "admin", "risk")
        if session_of(service, venue, account_id) is None:
            raise Problem(404, "UNKNOWN_VENUE_ACCOUNT", f"no venue account {venue}/{account_id}")
        assert service.venues is not None
        try:
            events = await service.venues.gateway.reconcile(venue, account_id)
        except Exception as exc:  # the venue did not answer: nothing was journaled
            raise Problem(
                503,
                "VENUE_UNAVAILABLE",
                f"{venue}/{account_id} could not be reconciled now: {exc}",
            ) from None
        await service.durable()
        reports = [e for e in events if isinstance(e, ev.VenueReconciled)]
        if not reports:
            raise Problem(
                503,
                "VENUE_UNAVAILABLE",
                f"{venue}/{account_id} could not be reconciled now (see /health/{venue}/"
                f"{account_id})",
            )
        return JSON(report_body(reports[-1]))

    @app.get("/v1/venues/{venue}/{account_id}/reconciliations", tags=["venues"])
    async def reconciliations(
        request: Request, venue: str, account_id: str, key: Key, limit: int = 20
    ) -> Response:
        """The exception reports of one venue account, newest first."""
        service = service_of(request)
        service.require_account(key, account_id)

        def read(events: Iterator[ev.Event]) -> list[ev.VenueReconciled]:
            return [
                e
                for e in events
                if isinstance(e, ev.VenueReconciled)
                and e.venue == venue
                and e.account_id == account_id
            ]

        reports = await read_committed(service, read)
        reports.sort(key=lambda r: r.seq, reverse=True)
        return JSON([report_body(r) for r in reports[: max(0, limit)]])
