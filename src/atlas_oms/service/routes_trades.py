"""Managed trades over REST (issue 13, seed 001) and the execution policy's parameters.

* ``POST /v1/trades``: submit a trade intent (:class:`TradeIntentIn`). 201 with the managed
  trade; the same ``intent_id`` again: 200 with the trade it already names (idempotent; an id in
  use by an account the key cannot see is 409 ``INTENT_ID_IN_USE``, nothing else is told); a
  refusal (``TradeIntentRefused``, journaled): 422 with its reason code and sentence.
* ``GET /v1/trades``: the managed trades the key may see (``account_id``, ``symbol``, ``phase``,
  ``open_only`` filters), without their events.
* ``GET /v1/trades/{trade_id}``: one trade with its events (its audit trail, from the journal).
  ``GET /v1/trades/{trade_id}/events``: the events only.
* ``GET /v1/policy/params``: every parameter with its value, default, seed section and source
  (``default``, or ``journal`` when an override in force set it). ``PUT /v1/policy/params``
  (admin): the overrides from now on, over the seed defaults (``{}``: back to the defaults),
  journaled as ``PolicyParamsSet`` with the key as actor; a bad name or value: 422.

Authorization as for orders: a trader key submits for, and sees, the accounts of its tree; risk and
admin keys see every trade. Another account's trade is 404 (no probing). Every write answers
after the journal holds it (:meth:`Service.durable`).

The market-data trades of a symbol, ``GET /v1/trades/{symbol}`` before managed trades existed,
are at ``GET /v1/marketdata/trades/{symbol}``; the old path still answers them when no managed
trade the key sees has that id (hidden from the OpenAPI document: one path, one answer type).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response
from pydantic import Field, StrictBool, StrictInt, StrictStr

from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side
from atlas_oms.runtime.node import CommandRefused
from atlas_oms.runtime.policy_params import PolicyParams, format_value
from atlas_oms.runtime.trade_view import TradeView, trade_events
from atlas_oms.service import schemas as s
from atlas_oms.service.access import role_required
from atlas_oms.service.app import JSON, Key, Problem, Service, log_refusal, service_of
from atlas_oms.service.journal_reads import read_committed

__all__ = ["ParamsIn", "TradeIntentIn", "params_table", "register"]


class TradeIntentIn(s.Body):
    """A trade intent (seed 001 section 1): bounded values only, never order details."""

    intent_id: str = Field(min_length=1, max_length=64)
    account_id: str = Field(min_length=1, max_length=64)
    symbol: str = Field(min_length=1, max_length=64)
    side: Side
    entry_ideal: s.Dec
    entry_max: s.Dec
    stop: s.Dec
    risk_amount: s.Dec
    urgency: Literal["LOW", "NORMAL", "HIGH"] = "NORMAL"
    bias: Literal["NEUTRAL", "BULLISH", "BEARISH"] = "NEUTRAL"
    scale_out: Literal["OFF", "CONSERVATIVE", "STANDARD", "AGGRESSIVE"] = "STANDARD"
    target_policy: Literal["TRANCHES", "TRAIL_ONLY"] = "TRANCHES"
    key_level: s.Dec | None = None
    #: §12.1 scale-up: the open trade of the same account and symbol this intent adds to.
    add_to: str | None = Field(default=None, min_length=1, max_length=64)


class TradeActionIn(s.Body):
    """An action on an open managed trade: ``SCALE_OUT`` (seed 001 §6.2: the targets now, by a
    limit at the bid), ``TIGHTEN`` (§10.1: a CRITICAL monitor event; ``stop`` is one more
    candidate level, taken only if it tightens), ``TRAIL_ONLY`` (§7: cancel every target and
    trail the whole position)."""

    action: Literal["SCALE_OUT", "TIGHTEN", "TRAIL_ONLY"]
    reason: str = Field(default="", max_length=200)
    stop: s.Dec | None = None


class ParamsIn(s.Body):
    """The policy overrides from now on (name -> value; decimals as strings)."""

    overrides: dict[str, StrictStr | StrictInt | StrictBool] = Field(default_factory=dict)
    reason: str = Field(default="", max_length=200)


def params_table(params: PolicyParams, overrides: dict[str, str]) -> list[dict[str, Any]]:
    """Every parameter: name, value, default, source (``journal``: an override in force), the
    seed section, whether §16 names it and whether the seed gives its default."""
    defaults = PolicyParams()
    return [
        {
            "name": spec.name,
            "value": format_value(value),
            "default": format_value(defaults.get(spec.name)),
            "source": "journal" if spec.name in overrides else "default",
            "seed": spec.seed,
            "section_16": spec.in_section_16,
            "seed_default": spec.seed_default,
        }
        for spec, value in params.items()
    ]


def _visible_trade(service: Service, key: Any, trade_id: str) -> TradeView | None:
    view = service.node.managed_trade(trade_id)
    if view is None or not service.visible(key, view.account_id):
        return None
    return view


def _unknown(trade_id: str) -> Problem:
    return Problem(404, "UNKNOWN_TRADE", f"no managed trade {trade_id} for this key")


async def _with_events(service: Service, view: TradeView) -> TradeView:
    """``view`` with the trade's events from the committed journal (off the event loop)."""
    import msgspec

    orders = (
        *(o.order_id for o in view.entries),
        *(o.order_id for o in view.stops),
        *(o.order_id for o in view.target_orders),
        *(o.order_id for o in view.exits),
    )
    found = await read_committed(
        service, lambda events: trade_events(events, view.trade_id, orders)
    )
    return msgspec.structs.replace(view, events=tuple(found))


def register(app: FastAPI) -> None:
    """Register before :mod:`routes` (its ``/v1/trades/{symbol:path}`` would catch trade ids)."""

    @app.post("/v1/trades", tags=["trades"], status_code=201)
    async def submit_trade(request: Request, body: TradeIntentIn, key: Key) -> Response:
        """Submit a trade intent: Atlas derives and manages every order (seed 001)."""
        service = service_of(request)
        service.require_trading(key, body.account_id, "submit trade intents")
        node = service.node
        existing = node.managed_trade(body.intent_id)
        if existing is not None:
            await service.durable()
            if existing.account_id != body.account_id or not service.visible(
                key, existing.account_id
            ):
                raise Problem(
                    409,
                    "INTENT_ID_IN_USE",
                    f"intent id {body.intent_id} names another account's trade",
                )
            return JSON(existing, status_code=200)
        try:
            events = node.trade(
                body.intent_id,
                body.account_id,
                body.symbol,
                body.side,
                entry_ideal=body.entry_ideal,
                entry_max=body.entry_max,
                stop=body.stop,
                risk_amount=body.risk_amount,
                urgency=body.urgency,
                bias=body.bias,
                scale_out=body.scale_out,
                target_policy=body.target_policy,
                key_level=body.key_level,
                add_to=body.add_to,
            )
        finally:
            await service.durable()
        for event in events:
            if isinstance(event, ev.CommandRejected):
                raise CommandRefused(event.reason, event.message)
            if isinstance(event, ev.TradeIntentRefused):
                log_refusal(request, 422, event.reason, event.message, body.account_id)
                raise Problem(422, event.reason, event.message)
        view = node.managed_trade(body.intent_id)
        if view is None:  # a bug: neither accepted nor refused
            raise RuntimeError(f"intent {body.intent_id} was neither accepted nor refused")
        return JSON(view, status_code=201)

    @app.get("/v1/trades", tags=["trades"])
    async def list_trades(
        request: Request,
        key: Key,
        account_id: str | None = None,
        symbol: str | None = None,
        phase: str | None = None,
        open_only: bool = False,
    ) -> Response:
        """The managed trades the key may see (one account's with ``account_id``)."""
        service = service_of(request)
        if account_id is not None:
            service.require_account(key, account_id)
        trades = service.node.managed_trades(
            account_id, symbol=symbol, phase=phase, open_only=open_only
        )
        return JSON({"trades": [t for t in trades if service.visible(key, t.account_id)]})

    @app.get("/v1/trades/{trade_id}", tags=["trades"])
    async def get_trade(
        request: Request, trade_id: str, key: Key, limit: int = Query(50, ge=1, le=1000)
    ) -> Response:
        """One managed trade with its orders, tranches, stop history, P&L and events.
        (``limit``: only for the old market-data answer of a symbol, see the module docstring.)"""
        service = service_of(request)
        view = _visible_trade(service, key, trade_id)
        if view is None:
            if service.node.managed_trade(trade_id) is None and service.node.instrument(trade_id):
                from atlas_oms.service.routes import market_trades

                return market_trades(service, trade_id, limit)
            raise _unknown(trade_id)
        return JSON(await _with_events(service, view))

    @app.get("/v1/trades/{trade_id}/events", tags=["trades"])
    async def get_trade_events(request: Request, trade_id: str, key: Key) -> Response:
        """The events of one managed trade (its decisions and its orders' events), in order."""
        service = service_of(request)
        view = _visible_trade(service, key, trade_id)
        if view is None:
            raise _unknown(trade_id)
        full = await _with_events(service, view)
        return service.for_key(key, {"trade_id": trade_id, "events": list(full.events or ())})

    @app.post("/v1/trades/{trade_id}/actions", tags=["trades"])
    async def trade_action(
        request: Request, trade_id: str, body: TradeActionIn, key: Key
    ) -> Response:
        """Act on an open managed trade (scale out now, tighten its stop, trail only)."""
        service = service_of(request)
        view = _visible_trade(service, key, trade_id)
        if view is None:
            raise _unknown(trade_id)
        service.require_trading(key, view.account_id, "act on managed trades")
        node = service.node
        try:
            if body.action == "SCALE_OUT":
                events = node.trigger_scale_out(trade_id, reason=body.reason)
            elif body.action == "TIGHTEN":
                events = node.tighten_trade_stop(
                    trade_id, body.reason or "CRITICAL", stop=body.stop
                )
            else:
                events = node.set_trade_target_policy(trade_id, "TRAIL_ONLY", reason=body.reason)
        finally:
            await service.durable()
        for event in events:
            if isinstance(event, ev.CommandRejected):
                log_refusal(request, 422, event.reason, event.message, view.account_id)
                raise Problem(422, event.reason, event.message)
        return JSON(node.managed_trade(trade_id))

    @app.get("/v1/trades/{symbol:path}", include_in_schema=False)
    async def old_market_trades(
        request: Request, symbol: str, key: Key, limit: int = Query(50, ge=1, le=1000)
    ) -> Response:
        from atlas_oms.service.routes import market_trades

        return market_trades(service_of(request), symbol, limit)

    @app.get("/v1/policy/params", tags=["policy"])
    async def get_params(request: Request, key: Key) -> Response:
        """Every execution-policy parameter with its value, default, source and seed section."""
        node = service_of(request).node
        return JSON({"parameters": params_table(node.policy_params(), node.policy_overrides())})

    @app.put("/v1/policy/params", tags=["policy"])
    async def put_params(request: Request, body: ParamsIn, key: Key) -> Response:
        """Put overrides in force (admin): the seed defaults with ``overrides`` applied."""
        service = service_of(request)
        if not key.has("admin"):
            raise Problem(403, "FORBIDDEN_ROLE", role_required("admin"))
        node = service.node
        try:
            events = node.set_policy_params(
                dict(body.overrides), actor=key.key_id, reason=body.reason
            )
        finally:
            await service.durable()
        for event in events:
            if isinstance(event, ev.CommandRejected):
                raise Problem(422, event.reason, event.message)
        return JSON({"parameters": params_table(node.policy_params(), node.policy_overrides())})
