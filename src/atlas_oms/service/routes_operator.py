"""REST endpoints of the operator actions that used to exist only offline (``atlas futures …``,
``atlas risk market``), so that an operator never has to open a journal a server holds.

Who may do what (the key's role; the API key is the journaled actor):

* **trader** of the account's tree (``require_account`` and the trader role): the account's own
  leverage, margin mode and isolated margin. Another account's, or an unknown one: 404; a risk
  key (it sees every account): 403.
* **admin**: deposits and withdrawals of an account, a perpetual's funding rate, margin tiers,
  insurance fund deposits, and the cash settlement of a dated future.
* **admin or risk**: a market's status (halt, close, reopen, back to its schedule), a mark price
  (with the liquidations it sets off), the insurance funds' history.
* **any key**: a derivative's margin tiers (reference data, like ``/v1/instruments``).

An admin key holds every role (:meth:`~atlas_oms.service.keys.ApiKey.has`), so it may do all of it.

Risk limits, trading states, kill switches, breakers and transfers are in :mod:`.routes`. Every
write answers once the journal holds it, a refusal too (it is journaled as ``CommandRejected``):
its reason code maps to 404/409/422 as everywhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Literal, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import Field

from atlas_oms.model.enums import PositionSide
from atlas_oms.model.margin import MarginMode, MarginTier
from atlas_oms.model.risk import MarketStatus
from atlas_oms.runtime.account_history import fund_rows
from atlas_oms.runtime.node import CommandRefused, Node
from atlas_oms.service import schemas as s
from atlas_oms.service.app import JSON, Key, Problem, Service, service_of

__all__ = ["register"]

T = TypeVar("T")
ZERO = Decimal(0)


# ---------------------------------------------------------------------------- request bodies
class LeverageIn(s.Body):
    symbol: str = Field(min_length=1, max_length=64)
    leverage: s.Dec


class MarginModeIn(s.Body):
    symbol: str = Field(min_length=1, max_length=64)
    mode: MarginMode


class IsolatedMarginIn(s.Body):
    symbol: str = Field(min_length=1, max_length=64)
    action: Literal["add", "remove"]
    amount: s.Dec
    position_side: PositionSide | None = None


class CashIn(s.Body):
    asset: str = Field(min_length=1, max_length=16)
    amount: s.Dec
    reason: str = Field(default="", max_length=200)


class FundingRateIn(s.Body):
    rate: s.Dec


class TierIn(s.Body):
    bracket: int = Field(ge=1)
    floor: s.Dec
    cap: s.Dec | None = None
    maint_margin_rate: s.Dec
    maint_amount: s.Dec = Decimal(0)
    max_leverage: s.Dec


class TiersIn(s.Body):
    tiers: list[TierIn] = Field(min_length=1, max_length=100)
    #: Where the table came from (a Binance bracket file's entry): shown back, not journaled.
    source: str = Field(default="", max_length=64)
    reason: str = Field(default="", max_length=200)


class MarketStatusIn(s.Body):
    #: None: back to the instrument's schedule.
    status: MarketStatus | None
    reason: str = Field(default="", max_length=200)


class SettleIn(s.Body):
    price: s.Dec
    reason: str = Field(default="expiry", max_length=200)


class MarkIn(s.Body):
    mark: s.Dec
    last: s.Dec | None = None


class FundDepositIn(s.Body):
    amount: s.Dec
    reason: str = Field(default="", max_length=200)


# ---------------------------------------------------------------------------------- helpers
def _role(key: Any, *roles: str) -> None:
    if not any(key.has(r) for r in roles):
        raise Problem(403, "FORBIDDEN", f"this needs the {' or '.join(roles)} role")


def _own(service: Service, key: Any, account_id: str) -> None:
    """The account is the key's (its tree) and the key trades: 404 for another's, 403 without
    the trader role."""
    service.require_account(key, account_id)
    _role(key, "trader")


def _exists(service: Service, account_id: str) -> None:
    if service.node.account(account_id) is None:
        raise Problem(404, "UNKNOWN_ACCOUNT", f"no account {account_id}")


def _instrument(service: Service, symbol: str) -> None:
    if service.node.instrument(symbol) is None:
        raise Problem(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol}")


async def _setting(
    service: Service,
    account_id: str,
    symbol: str,
    at_venue: Callable[[Any], Awaitable[Any]],
    here: Callable[[], Any],
) -> None:
    """A leverage or margin-mode change: on an instrument of an external venue account, the
    venue first and Atlas only once the venue took it (runtime/gateway/settings.py: a venue
    refusal is a 422 with the venue's code in the sentence, Atlas unchanged); on the built-in
    exchange, Atlas alone."""
    setup = service.venues
    inst = service.node.instrument(symbol)
    if (
        setup is not None
        and inst is not None
        and (inst.venue, account_id) in setup.gateway.sessions
    ):
        try:
            await at_venue(setup.gateway)
        finally:
            await service.durable()
        return
    await _do(service, here)


async def _do(service: Service, action: Callable[[], T]) -> T:
    """Run a write; answer (its result or its refusal) once the journal holds it."""
    try:
        result = action()
    except CommandRefused:
        await service.durable()
        raise
    await service.durable()
    return result


def _settle_asset(node: Node, symbol: str) -> str:
    inst = node.instrument(symbol)
    return inst.settle_asset if inst is not None else ""


# ---------------------------------------------------------------------------------- endpoints
def register(app: FastAPI) -> None:
    # ------------------------------------------------------------ the account's own derivatives
    @app.put("/v1/accounts/{account_id}/leverage", tags=["derivatives"])
    async def set_leverage(
        request: Request, account_id: str, body: LeverageIn, key: Key
    ) -> Response:
        """Set the account's leverage on a derivative (trader of the account's tree)."""
        service = service_of(request)
        _own(service, key, account_id)
        node = service.node
        await _setting(
            service,
            account_id,
            body.symbol,
            lambda gateway: gateway.set_leverage(account_id, body.symbol, body.leverage),
            lambda: node.set_leverage(account_id, body.symbol, body.leverage),
        )
        return JSON(
            {
                "account_id": account_id,
                "symbol": body.symbol,
                "leverage": body.leverage,
                "max_notional": node.max_position_notional(body.symbol, body.leverage),
                "settle_asset": _settle_asset(node, body.symbol),
                "seq": node.seq,
            }
        )

    @app.put("/v1/accounts/{account_id}/margin-mode", tags=["derivatives"])
    async def set_margin_mode(
        request: Request, account_id: str, body: MarginModeIn, key: Key
    ) -> Response:
        """Margin a derivative ISOLATED or CROSS (trader; no position or open orders there)."""
        service = service_of(request)
        _own(service, key, account_id)
        node = service.node
        await _setting(
            service,
            account_id,
            body.symbol,
            lambda gateway: gateway.set_margin_mode(account_id, body.symbol, body.mode),
            lambda: node.set_margin_mode(account_id, body.symbol, body.mode),
        )
        return JSON(
            {
                "account_id": account_id,
                "symbol": body.symbol,
                "margin_mode": body.mode.value,
                "seq": node.seq,
            }
        )

    @app.post("/v1/accounts/{account_id}/isolated-margin", tags=["derivatives"])
    async def isolated_margin(
        request: Request, account_id: str, body: IsolatedMarginIn, key: Key
    ) -> Response:
        """Add margin to, or remove it from, an isolated position (trader)."""
        service = service_of(request)
        _own(service, key, account_id)
        node = service.node
        move = node.add_margin if body.action == "add" else node.remove_margin
        await _do(service, lambda: move(account_id, body.symbol, body.amount, body.position_side))
        side = body.position_side or PositionSide.BOTH
        return JSON(
            {
                "account_id": account_id,
                "symbol": body.symbol,
                "action": body.action,
                "amount": body.amount,
                "settle_asset": _settle_asset(node, body.symbol),
                "position": node.position(account_id, body.symbol, side),
                "seq": node.seq,
            }
        )

    # ------------------------------------------------------------------------- money (admin)
    async def _cash(request: Request, account_id: str, body: CashIn, key: Any, sign: int) -> Any:
        service = service_of(request)
        _role(key, "admin")
        _exists(service, account_id)
        if body.amount <= 0:
            raise Problem(400, "INVALID_FIELD", "amount: must be positive")
        reason = body.reason or ("deposit" if sign > 0 else "withdrawal")
        node = service.node
        balance = await _do(
            service, lambda: node.deposit(account_id, body.asset, sign * body.amount, reason)
        )
        return JSON({"balance": balance, "seq": node.seq}, 201)

    @app.post("/v1/accounts/{account_id}/deposits", tags=["accounts"], status_code=201)
    async def deposit(request: Request, account_id: str, body: CashIn, key: Key) -> Response:
        """Credit an account (admin): a journaled balance adjustment."""
        result: Response = await _cash(request, account_id, body, key, 1)
        return result

    @app.post("/v1/accounts/{account_id}/withdrawals", tags=["accounts"], status_code=201)
    async def withdraw(request: Request, account_id: str, body: CashIn, key: Key) -> Response:
        """Debit an account (admin): a journaled balance adjustment."""
        result: Response = await _cash(request, account_id, body, key, -1)
        return result

    # ---------------------------------------------------------------------- the market (admin)
    @app.put("/v1/instruments/{symbol:path}/funding-rate", tags=["derivatives"])
    async def funding_rate(
        request: Request, symbol: str, body: FundingRateIn, key: Key
    ) -> Response:
        """Set the rate of a perpetual's next funding settlement (admin)."""
        service = service_of(request)
        _role(key, "admin")
        _instrument(service, symbol)
        node = service.node
        await _do(service, lambda: node.set_funding_rate(symbol, body.rate))
        funding = node.funding(symbol)
        due = funding.next_funding_ts
        if due is None:  # no interval: the next settlement is due at once
            due = funding.last_funding_ts
        return JSON(
            {
                "symbol": symbol,
                "rate": body.rate,
                "interval_min": funding.interval_min,
                "next_funding_ts": due,
                "seq": node.seq,
            }
        )

    @app.get("/v1/instruments/{symbol:path}/margin-tiers", tags=["derivatives"])
    async def get_tiers(request: Request, symbol: str, key: Key) -> Response:
        """A derivative's maintenance-margin tiers in force (``source``: set, or the default)."""
        service = service_of(request)
        _instrument(service, symbol)
        node = service.node
        inst = node.instrument(symbol)
        source = "set" if inst is not None and inst.margin_tiers is not None else "default"
        return JSON({"symbol": symbol, "source": source, "tiers": node.margin_tiers(symbol)})

    @app.put("/v1/instruments/{symbol:path}/margin-tiers", tags=["derivatives"])
    async def set_tiers(request: Request, symbol: str, body: TiersIn, key: Key) -> Response:
        """Replace a derivative's maintenance-margin tiers (admin)."""
        service = service_of(request)
        _role(key, "admin")
        _instrument(service, symbol)
        tiers = [MarginTier(**t.model_dump()) for t in body.tiers]
        node = service.node
        await _do(
            service,
            lambda: node.set_margin_tiers(symbol, tiers, actor=key.key_id, reason=body.reason),
        )
        return JSON(
            {
                "symbol": symbol,
                "source": body.source or "set",
                "tiers": node.margin_tiers(symbol),
                "seq": node.seq,
            }
        )

    @app.put("/v1/instruments/{symbol:path}/market-status", tags=["risk"])
    async def market_status(
        request: Request, symbol: str, body: MarketStatusIn, key: Key
    ) -> Response:
        """Halt, close or reopen an instrument, or (``status: null``) return it to its schedule
        (admin or risk)."""
        service = service_of(request)
        _role(key, "admin", "risk")
        _instrument(service, symbol)
        node = service.node
        await _do(
            service,
            lambda: node.set_market_status(
                symbol, body.status, actor=key.key_id, reason=body.reason
            ),
        )
        status = body.status.value if body.status is not None else None
        return JSON({"symbol": symbol, "status": status, "seq": node.seq})

    @app.post("/v1/instruments/{symbol:path}/settle", tags=["derivatives"])
    async def settle(request: Request, symbol: str, body: SettleIn, key: Key) -> Response:
        """Cash-settle an expired dated future at its settlement price (admin): its orders are
        canceled, every position closes at that price, it trades no more."""
        service = service_of(request)
        _role(key, "admin")
        _instrument(service, symbol)
        node = service.node
        before = {p.account_id: p.qty for p in node.positions() if p.symbol == symbol and p.qty}
        await _do(
            service,
            lambda: node.settle_future(symbol, body.price, actor=key.key_id, reason=body.reason),
        )
        settled = []
        for account, qty in sorted(before.items()):
            view = node.position(account, symbol)
            pnl = view.realized_pnl if view is not None else None
            settled.append({"account_id": account, "qty": qty, "realized_pnl": pnl})
        return JSON({"symbol": symbol, "price": body.price, "settled": settled, "seq": node.seq})

    @app.post("/v1/instruments/{symbol:path}/mark", tags=["derivatives"])
    async def mark(request: Request, symbol: str, body: MarkIn, key: Key) -> Response:
        """A mark price (admin or risk), and what it set off: funding, triggered orders,
        liquidations, the insurance funds before and after, every event."""
        service = service_of(request)
        _role(key, "admin", "risk")
        _instrument(service, symbol)
        node = service.node
        before = node.mark_price(symbol)
        funds = node.insurance_funds()
        events = await _do(
            service, lambda: node.update_prices(symbol, mark=body.mark, last=body.last)
        )
        return JSON(
            {
                "symbol": symbol,
                "mark": body.mark,
                "last": body.last,
                "previous_mark": before,
                "insurance_funds_before": funds,
                "insurance_funds": node.insurance_funds(),
                "events": events,  # tagged structs: each with its "type"
                "seq": node.seq,
            }
        )

    # -------------------------------------------------------------------------- insurance funds
    @app.get("/v1/insurance-funds", tags=["derivatives"])
    async def insurance_funds(request: Request, key: Key, asset: str | None = None) -> Response:
        """Each insurance fund: deposits, what liquidations paid in and took out, its balance
        (admin or risk)."""
        service = service_of(request)
        _role(key, "admin", "risk")
        await service.durable()
        node = service.node
        # The journal as it stands (committed: awaited above); never a flush from a request, the
        # committer alone writes.
        rows = fund_rows(node.journal.read(), node.insurance_funds(), asset)
        return JSON({"insurance_funds": rows})

    @app.post("/v1/insurance-funds/{asset}/deposits", tags=["derivatives"], status_code=201)
    async def fund_deposit(request: Request, asset: str, body: FundDepositIn, key: Key) -> Response:
        """Deposit to (a negative amount: withdraw from) an insurance fund (admin)."""
        service = service_of(request)
        _role(key, "admin")
        node = service.node
        balance = await _do(
            service,
            lambda: node.deposit_insurance_fund(
                asset, body.amount, actor=key.key_id, reason=body.reason
            ),
        )
        return JSON(
            {"asset": asset, "amount": body.amount, "balance": balance, "seq": node.seq}, 201
        )
