"""The REST endpoints. Each checks the key's right to the account before touching anything."""

from __future__ import annotations

import io
import time
from typing import Any

import msgspec
from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.algos import SMART
from atlas_oms.model.enums import OrderStatus
from atlas_oms.model.risk import RiskLimits, Scope
from atlas_oms.runtime.node import CommandRefused
from atlas_oms.service import schemas as s
from atlas_oms.service.access import role_required
from atlas_oms.service.app import (
    JSON,
    Key,
    Limit,
    Problem,
    Service,
    log_refusal,
    refused,
    service_of,
)
from atlas_oms.service.journal_reads import read_committed
from atlas_oms.service.routes_algos import check_order_venue, smart_order
from atlas_oms.service.routing import remember, route_order, routing_section
from atlas_oms.store.audit import audit_trail, write_audit


def _order_cmd(o: s.OrderIn, ts: int) -> c.SubmitOrder:
    """The body as the command: OrderIn has SubmitOrder's user fields by the same names, so the
    body converts as it is (nothing listed twice); ``ts`` is the node's clock."""
    body = o.model_dump(exclude=set(s.OrderIn.ROUTING_FIELDS))
    return msgspec.convert(body | {"ts": ts}, c.SubmitOrder)


def _submit(service: Service, key: Any, o: s.OrderIn) -> tuple[int, dict[str, Any]]:
    """Submit one order; (HTTP status, body). A denied order is journaled and answered 422
    with its reason and id; a retry with the same client_order_id returns the original (200).
    accounts.yaml's failover and strategy accounts may send it elsewhere (``routing``)."""
    if o.venue == SMART:  # a parent the smart order router splits (service/routes_algos.py)
        return smart_order(service, key, o)
    check_order_venue(service, o)
    o, routed = route_order(service, key, o)
    service.require_trading(key, o.account_id, "place orders")
    node = service.node
    events = node.process(_order_cmd(o, node.clock.now()))
    # A client order id of an archived order loads it back first (node._load_back).
    first = next(e for e in events if not isinstance(e, ev.OrderRestored))
    if isinstance(first, ev.CommandRejected):
        raise CommandRefused(first.reason, first.message)
    if not isinstance(first, ev.OrderSubmitted | ev.OrderDenied | ev.OrderDuplicateIgnored):
        raise RuntimeError(f"a submit answered {type(first).__name__} first")  # a bug
    view = node.order(first.order_id)
    body = service.numbers.builtins(view)
    section = remember(service, first.order_id, routed)
    if section is not None:
        body["routing"] = section
    if isinstance(first, ev.OrderDuplicateIgnored):
        body["duplicate"] = True  # the order this client order id already named
        return 200, body
    if isinstance(first, ev.OrderDenied):
        return 422, {
            "type": f"https://atlas-oms.dev/problems/{first.reason.lower()}",
            "title": first.reason,
            "status": 422,
            "detail": first.message,
            "reason": first.reason,
            "order": body,
        }
    return 201, body


def market_trades(service: Service, symbol: str, limit: int) -> Response:
    """The latest trades of a symbol (newest first), without accounts or order ids (also answered
    at the old ``/v1/trades/{symbol}``: service/routes_trades.py)."""
    if service.node.instrument(symbol) is None:
        raise Problem(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol}")
    out: list[dict[str, Any]] = []
    for fill in reversed(service.node.fills(symbol=symbol)):
        if fill.liquidity_side == "TAKER":
            out.append(
                {
                    "seq": fill.seq,
                    "ts": fill.ts_event,
                    "price": fill.last_px,
                    "qty": fill.last_qty,
                    "taker_side": fill.side,
                }
            )
            if len(out) == limit:
                break
    return JSON({"symbol": symbol, "trades": out})


def _problem_body(problem: Problem) -> dict[str, Any]:
    return {
        "type": f"https://atlas-oms.dev/problems/{problem.reason.lower()}",
        "title": problem.reason,
        "status": problem.status,
        "detail": problem.detail,
        "reason": problem.reason,
    }


def _timed(service: Service, route: str, start: float) -> None:
    service.metrics.latency.labels(route).observe(time.perf_counter() - start)


def register(app: FastAPI) -> None:
    # ------------------------------------------------------------------ operations
    @app.get("/health", tags=["operations"])
    async def health(request: Request) -> Response:
        """ok / degraded (200) or unavailable (503, with the reason): see service/durable.py."""
        from atlas_oms.service.durable import health

        return health(service_of(request))

    @app.get("/health/{venue}/{account_id}", tags=["operations"])
    async def health_of(request: Request, venue: str, account_id: str, key: Key) -> Response:
        from atlas_oms.service.routes_venues import health_body, session_of

        service = service_of(request)
        if venue not in service.node.venues:
            raise Problem(404, "UNKNOWN_VENUE", f"no venue {venue}")
        service.require_account(key, account_id)
        risk = service.node.risk_status(account_id)
        session = session_of(service, venue, account_id)
        if session is not None:
            # An external venue account: 200 while tradable, 503 (with why) while not.
            body = health_body(session.health(), risk)
            return JSON(body, status_code=200 if body["tradable"] else 503)
        if venue != service.node.sim.name:
            raise Problem(404, "UNKNOWN_VENUE_ACCOUNT", f"no venue account {venue}/{account_id}")
        return JSON({"status": "ok", "venue": venue, "account_id": account_id, "risk": risk})

    @app.get("/metrics", tags=["operations"])
    async def metrics(request: Request) -> Response:
        service = service_of(request)
        service.metrics.breakers.set(service.node.open_breakers())
        if service.venues is not None:
            service.metrics.observe_venues(service.venues.gateway.health())
        return Response(service.metrics.render(), media_type="text/plain; version=0.0.4")

    # ------------------------------------------------------------------ reference data
    @app.get("/v1/instruments", tags=["reference"])
    async def instruments(request: Request, key: Key) -> Response:
        return JSON(service_of(request).node.instruments())

    @app.get("/v1/me", tags=["accounts"])
    async def me(request: Request, key: Key) -> Response:
        """The calling key: its id, label, roles and accounts (never its secret or hash)."""
        service = service_of(request)
        return JSON(
            {
                "key_id": key.key_id,
                "label": key.label,
                "roles": list(key.roles),
                "accounts": list(key.accounts),
                "visible_accounts": service.accounts_of(key),
                "require_signature": key.require_signature,
                "can_kill": key.has("risk"),
                "trading_accounts": [
                    a.account_id
                    for a in service.node.accounts()
                    if service.may_trade(key, a.account_id)
                ],
            }
        )

    @app.get("/v1/accounts", tags=["accounts"])
    async def accounts(request: Request, key: Key) -> Response:
        service = service_of(request)
        return JSON([a for a in service.node.accounts() if service.visible(key, a.account_id)])

    @app.get("/v1/accounts/{account_id}", tags=["accounts"])
    async def account(request: Request, account_id: str, key: Key) -> Response:
        service = service_of(request)
        service.require_account(key, account_id)
        node = service.node
        return JSON(
            {
                "account": node.account(account_id),
                "sub_accounts": node.account_tree(account_id)[1:],
                "balances": node.balances(account_id),
            }
        )

    # ------------------------------------------------------------------ orders
    @app.post("/v1/orders", tags=["orders"], status_code=201)
    async def submit(request: Request, order: s.OrderIn, key: Key) -> Response:
        """Submit one order. With ``"venue": "SMART"`` it becomes a SMART parent order
        (``price`` its limit, ``client_order_id`` its algo id) split by the smart order router:
        the answer is the parent as ``GET /v1/algos/{id}`` shows it, plus ``routing``, the
        route decision (where it went and why)."""
        service = service_of(request)
        start = time.perf_counter()
        status, body = _submit(service, key, order)
        if status == 422:
            log_refusal(request, 422, body["reason"], body["detail"], order.account_id)
        await service.durable()
        _timed(service, "submit", start)
        media = "application/problem+json" if status == 422 else "application/json"
        return Response(msgspec.json.encode(body), status, media_type=media)

    @app.post("/v1/orders/batch", tags=["orders"])
    async def submit_batch(request: Request, batch: s.BatchIn, key: Key) -> Response:
        service = service_of(request)
        for o in batch.orders:  # every account is checked before anything is sent
            service.require_trading(key, o.account_id, "place orders")
        results: list[dict[str, Any]] = []
        for o in batch.orders:
            try:
                status, body = _submit(service, key, o)
            except CommandRefused as exc:  # this order refused (journaled), the others go on
                problem = refused(exc)
                status, body = problem.status, _problem_body(problem)
            results.append({"status": status, "body": body})
        await service.durable()
        return JSON({"results": results})

    @app.get("/v1/orders", tags=["orders"])
    async def list_orders(
        request: Request,
        key: Key,
        account_id: str,
        status: OrderStatus | None = None,
        symbol: str | None = None,
        open_only: bool = False,
        since_ns: int | None = None,
        until_ns: int | None = None,
        after: int = 0,
        limit: Limit = 100,
    ) -> Response:
        service = service_of(request)
        service.require_account(key, account_id)
        # One more than a page: if it exists, the page is full and another follows after
        # the page's last order id.
        found = service.node.orders(
            account_id,
            open_only=open_only,
            status=status,
            symbol=symbol,
            since_ns=since_ns,
            until_ns=until_ns,
            after=after,
            limit=limit + 1,
        )
        out = found[:limit]
        next_after = out[-1].order_id if len(found) > limit else None
        return JSON({"orders": out, "next_after": next_after})

    def _may(service: Service, key: Any, account_id: str, act: str | None) -> None:
        """The key may see the account (``act`` None), cancel its orders, or ``act`` on them
        (the trader role on the account's tree)."""
        if act == "cancel":
            service.require_cancel(key, account_id)
        elif act is not None:
            service.require_trading(key, account_id, f"{act} orders")
        else:
            service.require_account(key, account_id)

    def _owned(
        service: Service, key: Any, account_id: str, order_id: int, act: str | None = None
    ) -> None:
        """The order is the account's (404 otherwise); ``act``: what the key would do with it
        (``cancel``, or ``modify`` which needs the trader role: 403 FORBIDDEN_ROLE)."""
        _may(service, key, account_id, act)
        if service.node.order_owner(order_id) != account_id:
            raise Problem(404, "UNKNOWN_ORDER", f"account {account_id} has no order {order_id}")

    # By client order id: the same answers as by order id, for the account's own id.
    def _by_client_id(
        service: Service, key: Any, account_id: str, client_order_id: str, act: str | None = None
    ) -> int:
        _may(service, key, account_id, act)
        view = service.node.find_order(account_id, None, client_order_id)
        if view is None:
            raise Problem(
                404, "UNKNOWN_ORDER", f"account {account_id} has no order {client_order_id!r}"
            )
        return view.order_id

    @app.get("/v1/orders/by-client-id/{client_order_id:path}", tags=["orders"])
    async def get_order_by_client_id(
        request: Request, client_order_id: str, account_id: str, key: Key
    ) -> Response:
        service = service_of(request)
        order_id = _by_client_id(service, key, account_id, client_order_id)
        return JSON(service.node.order(order_id))

    @app.delete("/v1/orders/by-client-id/{client_order_id:path}", tags=["orders"])
    async def cancel_by_client_id(
        request: Request, client_order_id: str, account_id: str, key: Key
    ) -> Response:
        service = service_of(request)
        _by_client_id(service, key, account_id, client_order_id, "cancel")
        view = service.node.cancel(account_id, client_order_id=client_order_id)
        await service.durable()
        return JSON(view)

    @app.patch("/v1/orders/by-client-id/{client_order_id:path}", tags=["orders"])
    async def modify_by_client_id(
        request: Request, client_order_id: str, body: s.ModifyIn, key: Key
    ) -> Response:
        service = service_of(request)
        _by_client_id(service, key, body.account_id, client_order_id, "modify")
        view = service.node.modify(
            body.account_id,
            client_order_id=client_order_id,
            qty=body.qty,
            price=body.price,
            trigger_price=body.trigger_price,
        )
        await service.durable()
        return JSON(view)

    @app.get("/v1/orders/{order_id}", tags=["orders"])
    async def get_order(request: Request, order_id: int, account_id: str, key: Key) -> Response:
        service = service_of(request)
        _owned(service, key, account_id, order_id)
        view = service.node.order(order_id)
        section = routing_section(service, order_id)
        if section is None:
            return JSON(view)
        return JSON(service.numbers.builtins(view) | {"routing": section})

    @app.delete("/v1/orders/{order_id}", tags=["orders"])
    async def cancel(request: Request, order_id: int, account_id: str, key: Key) -> Response:
        service = service_of(request)
        _owned(service, key, account_id, order_id, "cancel")
        view = service.node.cancel(account_id, order_id)
        await service.durable()
        return JSON(view)

    @app.patch("/v1/orders/{order_id}", tags=["orders"])
    async def modify(request: Request, order_id: int, body: s.ModifyIn, key: Key) -> Response:
        service = service_of(request)
        _owned(service, key, body.account_id, order_id, "modify")
        view = service.node.modify(
            body.account_id,
            order_id,
            qty=body.qty,
            price=body.price,
            trigger_price=body.trigger_price,
        )
        await service.durable()
        return JSON(view)

    @app.post("/v1/orders/cancel-all", tags=["orders"])
    async def cancel_all(request: Request, body: s.CancelAllIn, key: Key) -> Response:
        service = service_of(request)
        service.require_cancel(key, body.account_id)
        node = service.node
        canceled, refused_ = [], []
        for view in node.orders(body.account_id, open_only=True):
            if body.symbol is not None and view.symbol != body.symbol:
                continue
            try:
                node.cancel(body.account_id, view.order_id)
                canceled.append(view.order_id)
            except CommandRefused as exc:
                refused_.append({"order_id": view.order_id, "reason": exc.reason})
        await service.durable()
        return JSON({"canceled": canceled, "refused": refused_})

    # ------------------------------------------------------------------ fills, positions, balances
    @app.get("/v1/fills", tags=["portfolio"])
    async def fills(request: Request, account_id: str, key: Key, after_seq: int = 0) -> Response:
        service = service_of(request)
        service.require_account(key, account_id)
        return service.for_key(
            key,
            sorted(
                (f for f in service.node.fills(account_id) if f.seq > after_seq),
                key=lambda f: f.seq,
            ),
        )

    @app.get("/v1/positions", tags=["portfolio"])
    async def positions(request: Request, account_id: str, key: Key) -> Response:
        service = service_of(request)
        service.require_account(key, account_id)
        return JSON(service.node.positions(account_id))

    @app.get("/v1/balances", tags=["portfolio"])
    async def balances(request: Request, account_id: str, key: Key) -> Response:
        service = service_of(request)
        service.require_account(key, account_id)
        return JSON(service.node.balances(account_id))

    # ------------------------------------------------------------------ transfers
    @app.post("/v1/transfers", tags=["accounts"], status_code=201)
    async def transfer(request: Request, body: s.TransferIn, key: Key) -> Response:
        """Move funds between an account and its sub-accounts (a trader key of both)."""
        service = service_of(request)
        service.require_trading(key, body.from_account_id, "transfer funds")
        service.require_trading(key, body.to_account_id, "transfer funds")
        sent, received = service.node.transfer(
            body.from_account_id, body.to_account_id, body.asset, body.amount, body.reason
        )
        seq = service.node.seq  # the answer, computed before the commit it waits for
        await service.durable()
        return JSON({"from": sent, "to": received, "seq": seq}, 201)

    @app.get("/v1/transfers", tags=["accounts"])
    async def transfers(request: Request, account_id: str, key: Key) -> Response:
        service = service_of(request)
        service.require_account(key, account_id)
        return JSON(service.node.transfers(account_id))

    # ------------------------------------------------------------------ market data
    @app.get("/v1/book/{symbol:path}", tags=["market data"])
    async def book(
        request: Request, symbol: str, key: Key, levels: int = Query(10, ge=1, le=100)
    ) -> Response:
        service = service_of(request)
        instrument = service.node.instrument(symbol)
        if instrument is None:
            raise Problem(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol}")
        book = service.book(symbol, levels)
        if book is None:
            raise Problem(
                404,
                "NO_QUOTE",
                f"{symbol} trades on {instrument.venue}, which has sent no prices yet",
            )
        return JSON({"symbol": symbol, **book})

    @app.get("/v1/marketdata/trades/{symbol:path}", tags=["market data"])
    async def trades(
        request: Request, symbol: str, key: Key, limit: int = Query(50, ge=1, le=1000)
    ) -> Response:
        """The latest trades of a symbol (newest first), without accounts or order ids."""
        return market_trades(service_of(request), symbol, limit)

    @app.post("/v1/marketdata/prices", tags=["market data"])
    async def prices(request: Request, body: s.PricesIn, key: Key) -> Response:
        service = service_of(request)
        _role(key, "risk")
        service.node.update_prices(body.symbol, last=body.last, mark=body.mark)
        seq = service.node.seq
        await service.durable()
        return JSON({"symbol": body.symbol, "seq": seq})

    # ------------------------------------------------------------------ risk
    @app.get("/v1/risk/status", tags=["risk"])
    async def risk_status(request: Request, key: Key, account_id: str | None = None) -> Response:
        service = service_of(request)
        if account_id is None:
            _role(key, "risk")
        else:
            service.require_account(key, account_id)
        return JSON(service.node.risk_status(account_id))

    @app.put("/v1/risk/limits", tags=["risk"])
    async def set_limits(request: Request, body: s.LimitsIn, key: Key) -> Response:
        """Replace one scope's pre-trade limits (risk role)."""
        service = service_of(request)
        _role(key, "risk")
        if _has_float(body.limits):
            raise Problem(400, "INVALID_FIELD", "limits: send decimals as strings, never floats")
        unknown = sorted(set(body.limits) - set(RiskLimits.__struct_fields__))
        if unknown:
            raise Problem(400, "INVALID_FIELD", f"limits: unknown limit {', '.join(unknown)}")
        try:
            limits = msgspec.convert(body.limits, RiskLimits, strict=False)
        except (msgspec.ValidationError, TypeError) as exc:
            raise Problem(400, "INVALID_FIELD", f"limits: {exc}") from None
        service.node.set_limits(
            body.scope, body.scope_id, limits, actor=key.key_id, reason=body.reason
        )
        await service.durable()
        return JSON({"scope": body.scope, "scope_id": body.scope_id, "limits": limits})

    @app.put("/v1/risk/state", tags=["risk"])
    async def trading_state(request: Request, body: s.TradingStateIn, key: Key) -> Response:
        service = service_of(request)
        _role(key, "risk")
        service.node.set_trading_state(
            body.scope, body.scope_id, body.state, actor=key.key_id, reason=body.reason
        )
        status = service.node.risk_status(body.scope_id if body.scope is Scope.ACCOUNT else None)
        await service.durable()
        return JSON(status)

    @app.post("/v1/risk/kill", tags=["risk"])
    async def kill(request: Request, body: s.KillIn, key: Key) -> Response:
        service = service_of(request)
        _role(key, "risk")
        events = service.node.kill(
            body.scope, body.scope_id, actor=key.key_id, reason=body.reason, flatten=body.flatten
        )
        seq = service.node.seq
        await service.durable()
        canceled = [e.order_id for e in events if isinstance(e, ev.OrderCanceled)]
        pending = [e.order_id for e in events if isinstance(e, ev.OrderPendingCancel)]
        flatten = [e.order_id for e in events if isinstance(e, ev.OrderSubmitted | ev.OrderDenied)]
        return JSON(
            {
                "events": len(events),
                "seq": seq,
                "canceled": canceled,
                "pending_cancel": [i for i in pending if i not in canceled],
                "flatten_orders": flatten,
            }
        )

    @app.post("/v1/risk/kill/reset", tags=["risk"])
    async def reset_kill(request: Request, body: s.ResetIn, key: Key) -> Response:
        service = service_of(request)
        _role(key, "risk")
        service.node.reset_kill(body.scope, body.scope_id, actor=key.key_id, reason=body.reason)
        seq = service.node.seq
        await service.durable()
        return JSON({"seq": seq})

    @app.post("/v1/risk/breaker/reset", tags=["risk"])
    async def reset_breaker(request: Request, body: s.ResetIn, key: Key) -> Response:
        service = service_of(request)
        _role(key, "risk")
        service.node.reset_breaker(body.scope, body.scope_id, actor=key.key_id, reason=body.reason)
        seq = service.node.seq
        await service.durable()
        return JSON({"seq": seq})

    # ------------------------------------------------------------------ audit
    @app.get("/v1/audit/{account_id}", tags=["audit"])
    async def audit(
        request: Request,
        account_id: str,
        key: Key,
        format: str = Query("json", pattern="^(json|jsonl|csv)$"),
        subaccounts: bool = False,
    ) -> Response:
        """The account's audit trail: JSON (default), JSON Lines or CSV (a download)."""
        service = service_of(request)
        service.require_account(key, account_id)
        records = await read_committed(
            service,
            lambda events: audit_trail(events, account_id, include_subaccounts=subaccounts),
        )
        if format == "json":
            return service.for_key(key, records)
        buffer = io.StringIO()
        write_audit(records, buffer, "csv" if format == "csv" else "jsonl")
        text = service.mask_text(key, buffer.getvalue())
        media = "text/csv" if format == "csv" else "application/x-ndjson"
        headers = {"content-disposition": f'attachment; filename="audit-{account_id}.{format}"'}
        return Response(text, media_type=media, headers=headers)

    # ------------------------------------------------------------------ administration
    @app.post("/v1/accounts", tags=["accounts"], status_code=201)
    async def open_account(request: Request, body: s.AccountIn, key: Key) -> Response:
        """Open an account or a sub-account (admin; a trader may open sub-accounts of its own)."""
        service = service_of(request)
        if body.parent_id is None:
            _role(key, "admin")
        elif key.has("admin"):
            service.require_account(key, body.parent_id)
        else:  # a trader of the parent's tree; a risk key sees it but may not
            service.require_trading(key, body.parent_id, "open sub-accounts")
        service.node.open_account(body.account_id, parent_id=body.parent_id, name=body.name)
        opened = service.node.account(body.account_id)
        await service.durable()
        return JSON(opened, 201)

    @app.delete("/v1/keys/{key_id}", tags=["accounts"])
    async def revoke_key(request: Request, key_id: str, key: Key) -> Response:
        """Revoke an API key (admin): its token is refused from the next request on."""
        service = service_of(request)
        _role(key, "admin")
        if not service.keys.revoke(key_id):
            raise Problem(404, "UNKNOWN_KEY", f"no key {key_id}")
        return JSON({"revoked": key_id})

    @app.post("/v1/keys", tags=["accounts"], status_code=201)
    async def issue_key(request: Request, body: s.KeyIn, key: Key) -> Response:
        """Issue an API key (admin). The secret is in this answer only; the store keeps a hash."""
        service = service_of(request)
        _role(key, "admin")
        for account_id in body.accounts:
            service.require_account(key, account_id)
        try:
            issued = service.keys.issue(
                tuple(body.roles), tuple(body.accounts), body.label, body.require_signature
            )
        except ValueError as exc:
            raise Problem(422, "INVALID_FIELD", str(exc)) from None
        return JSON(
            {
                "key_id": issued.key.key_id,
                "token": issued.token,
                "roles": issued.key.roles,
                "accounts": issued.key.accounts,
            },
            201,
        )


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def _role(key: Any, role: str) -> None:
    if not key.has(role):
        raise Problem(403, "FORBIDDEN_ROLE", role_required(role))
