"""The fake Alpaca's state: accounts (cash, positions), assets, orders, fills (account
activities) and the trade updates they push. Pure Python, no I/O: :mod:`.server` serves it.

The wire shapes follow Alpaca's Trading API v2 (https://docs.alpaca.markets/reference/postorder,
``getallorders``, ``getallopenpositions``, ``getaccount``, ``get-v2-assets``,
``getaccountactivitiesbyactivitytype``) and the ``trade_updates`` stream
(https://docs.alpaca.markets/docs/websocket-streaming): numbers as strings, times RFC 3339 UTC
with nanoseconds, order ids UUIDs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

D = Decimal
ZERO = D(0)
OPEN_STATUSES = frozenset(
    {
        "new",
        "partially_filled",
        "accepted",
        "pending_new",
        "accepted_for_bidding",
        "held",
        "done_for_day",
        "pending_cancel",
        "pending_replace",
    }
)


class AlpacaError(Exception):
    """An error answer: HTTP ``status`` and Alpaca's ``{"code", "message"}`` body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def rfc3339(ns: int) -> str:
    """``2026-12-07T14:30:00.123456789Z`` (Alpaca's timestamps carry nanoseconds)."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


@dataclass
class Asset:
    symbol: str
    name: str
    exchange: str = "NASDAQ"
    tradable: bool = True
    fractionable: bool = True
    shortable: bool = True
    status: str = "active"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "class": "us_equity",
            "exchange": self.exchange,
            "symbol": self.symbol,
            "name": self.name,
            "status": self.status,
            "tradable": self.tradable,
            "marginable": True,
            "shortable": self.shortable,
            "easy_to_borrow": self.shortable,
            "fractionable": self.fractionable,
            "maintenance_margin_requirement": 30,
            "attributes": ["fractional_eh_enabled"] if self.fractionable else [],
        }


@dataclass
class Account:
    name: str
    api_key: str
    secret: str
    cash: Decimal
    #: symbol -> [qty (signed), average entry price]
    positions: dict[str, list[Decimal]] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Order:
    id: str
    account: str
    client_order_id: str
    symbol: str
    asset_id: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal
    limit_price: Decimal | None
    extended_hours: bool
    created_ns: int
    status: str = "new"
    filled_qty: Decimal = ZERO
    filled_value: Decimal = ZERO
    updated_ns: int = 0
    filled_ns: int | None = None
    canceled_ns: int | None = None
    expired_ns: int | None = None
    replaced_ns: int | None = None
    replaced_by: str | None = None
    replaces: str | None = None

    @property
    def leaves(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def wire(self) -> dict[str, Any]:
        def ts(ns: int | None) -> str | None:
            return None if ns is None else rfc3339(ns)

        avg = (self.filled_value / self.filled_qty) if self.filled_qty else None
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": ts(self.created_ns),
            "updated_at": ts(self.updated_ns or self.created_ns),
            "submitted_at": ts(self.created_ns),
            "filled_at": ts(self.filled_ns),
            "expired_at": ts(self.expired_ns),
            "canceled_at": ts(self.canceled_ns),
            "failed_at": None,
            "replaced_at": ts(self.replaced_ns),
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": self.asset_id,
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": num(self.qty),
            "filled_qty": num(self.filled_qty) or "0",
            "filled_avg_price": num(avg),
            "order_class": "",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": "buy_to_open" if self.side == "buy" else "sell_to_close",
            "time_in_force": self.time_in_force,
            "limit_price": num(self.limit_price),
            "stop_price": None,
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
            "subtag": None,
            "source": None,
            "expires_at": None,
        }


@dataclass
class Fill:
    """One execution (an account activity of type ``FILL``)."""

    id: str
    account: str
    order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    cum_qty: Decimal
    leaves_qty: Decimal
    order_status: str
    ts: int

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "activity_type": "FILL",
            "transaction_time": rfc3339(self.ts),
            "type": "fill" if self.leaves_qty == 0 else "partial_fill",
            "price": num(self.price),
            "qty": num(self.qty),
            "side": self.side,
            "symbol": self.symbol,
            "leaves_qty": num(self.leaves_qty) or "0",
            "order_id": self.order_id,
            "cum_qty": num(self.cum_qty),
            "order_status": self.order_status,
        }


#: Shares in a round lot: Alpaca's quote sizes (``bs``/``as``) count round lots.
ROUND_LOT = Decimal(100)


@dataclass
class HouseQuote:
    """Another participant's resting order (liquidity an Atlas order can take)."""

    side: str
    qty: Decimal
    price: Decimal


#: A pushed trade update: (account name, the ``data`` of a ``trade_updates`` message).
Push = Callable[[str, dict[str, Any]], None]


class FakeAlpacaVenue:
    """Accounts, assets and orders; every change pushes a trade update through ``push``."""

    def __init__(self, accounts: list[Account], assets: list[Asset], last_price: Decimal) -> None:
        self.accounts = {a.name: a for a in accounts}
        self.assets = {a.symbol: a for a in assets}
        self.orders: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self.house: dict[str, list[HouseQuote]] = {}
        self.last_price = last_price
        self.push: Push = lambda account, data: None
        self.clock_offset_ns = 0
        self._exec_seq = 0

    # ------------------------------------------------------------------ helpers
    def now_ns(self) -> int:
        return time.time_ns() + self.clock_offset_ns

    def account_by_key(self, key: str, secret: str) -> Account | None:
        for acct in self.accounts.values():
            if acct.api_key == key and acct.secret == secret:
                return acct
        return None

    def by_client(self, account: str, client_order_id: str) -> Order | None:
        for o in self.orders.values():
            if o.account == account and o.client_order_id == client_order_id:
                return o
        return None

    def _event(self, order: Order, event: str, **extra: Any) -> None:
        data = {"event": event, "timestamp": rfc3339(order.updated_ns), "order": order.wire()}
        data.update(extra)
        self.push(order.account, data)

    # ------------------------------------------------------------------ orders
    def place(self, account: str, body: dict[str, Any], *, replaces: Order | None = None) -> Order:
        """Validate and take a ``POST /v2/orders`` body (raises :class:`AlpacaError`)."""
        symbol = str(body.get("symbol") or "")
        asset = self.assets.get(symbol)
        if asset is None:
            raise AlpacaError(422, 40010001, f"asset {symbol!r} not found")
        if not asset.tradable:
            raise AlpacaError(422, 40010001, f"asset {symbol} is not tradable")
        side = str(body.get("side") or "")
        kind = str(body.get("type") or "")
        tif = str(body.get("time_in_force") or "")
        if side not in ("buy", "sell"):
            raise AlpacaError(422, 40010001, "invalid side")
        if kind not in ("market", "limit"):
            raise AlpacaError(422, 40010001, f"order type {kind!r} is not supported here")
        if tif not in ("day", "gtc", "ioc", "fok", "opg", "cls"):
            raise AlpacaError(422, 40010001, "invalid time_in_force")
        if body.get("qty") is None:
            raise AlpacaError(422, 40010001, "qty is required")
        qty = D(str(body["qty"]))
        if qty <= 0:
            raise AlpacaError(422, 40010001, "qty must be > 0")
        fractional = qty != qty.to_integral_value()
        if fractional and not asset.fractionable:
            raise AlpacaError(422, 40010001, f"asset {symbol} is not fractionable")
        if fractional and tif != "day":
            raise AlpacaError(422, 40010001, "fractional orders must be DAY orders")
        limit = D(str(body["limit_price"])) if body.get("limit_price") is not None else None
        if kind == "limit" and limit is None:
            raise AlpacaError(422, 40010001, "limit_price is required for limit orders")
        extended = bool(body.get("extended_hours"))
        if extended and (kind != "limit" or tif != "day"):
            raise AlpacaError(422, 42210000, "extended hours order must be DAY limit orders")
        cid = str(body.get("client_order_id") or uuid.uuid4())
        if len(cid) > 128:
            raise AlpacaError(422, 40010001, "client_order_id must be no more than 128 characters")
        if self.by_client(account, cid) is not None:
            raise AlpacaError(422, 40010001, "client_order_id must be unique")
        if self._would_wash(account, symbol, side, limit, replaces):
            raise AlpacaError(403, 40310000, "potential wash trade detected. use complex orders")
        acct = self.accounts[account]
        if (
            side == "buy"
            and limit is not None
            and limit * qty
            > acct.cash + (replaces.leaves * (replaces.limit_price or ZERO) if replaces else ZERO)
        ):
            raise AlpacaError(403, 40310000, "insufficient buying power")
        now = self.now_ns()
        order = Order(
            id=str(uuid.uuid4()),
            account=account,
            client_order_id=cid,
            symbol=symbol,
            asset_id=asset.id,
            side=side,
            type=kind,
            time_in_force=tif,
            qty=qty,
            limit_price=limit,
            extended_hours=extended,
            created_ns=now,
            updated_ns=now,
            replaces=replaces.id if replaces else None,
        )
        self.orders[order.id] = order
        self._event(order, "new")
        self._match(order)
        return order

    def _would_wash(
        self, account: str, symbol: str, side: str, limit: Decimal | None, replaces: Order | None
    ) -> bool:
        """Alpaca refuses an order that could trade against the account's own resting order
        of the other side (no self-trades)."""
        for o in self.orders.values():
            if o.account != account or o.symbol != symbol or not o.is_open or o.side == side:
                continue
            if replaces is not None and o.id == replaces.id:
                continue
            if limit is None or o.limit_price is None:
                return True
            if (side == "buy" and limit >= o.limit_price) or (
                side == "sell" and limit <= o.limit_price
            ):
                return True
        return False

    def _match(self, order: Order) -> None:
        """Take house liquidity at or better than the limit; a market order takes the rest at
        the last price; an IOC/FOK remainder is canceled."""
        book = self.house.setdefault(order.symbol, [])
        want = "sell" if order.side == "buy" else "buy"
        for quote in sorted(
            (q for q in book if q.side == want),
            key=lambda q: q.price if want == "sell" else -q.price,
        ):
            if order.leaves <= 0:
                break
            if order.limit_price is not None and (
                (order.side == "buy" and quote.price > order.limit_price)
                or (order.side == "sell" and quote.price < order.limit_price)
            ):
                break
            take = min(quote.qty, order.leaves)
            quote.qty -= take
            self.fill(order, take, quote.price)
        self.house[order.symbol] = [q for q in book if q.qty > 0]
        if order.type == "market" and order.leaves > 0:
            self.fill(order, order.leaves, self.last_price)
        if order.time_in_force in ("ioc", "fok") and order.is_open:
            self.cancel(order)

    def fill(self, order: Order, qty: Decimal, price: Decimal | None = None) -> Fill:
        if not order.is_open:
            raise AlpacaError(422, 42210000, f'order is already in "{order.status}" state')
        qty = min(qty, order.leaves)
        px = price if price is not None else (order.limit_price or self.last_price)
        now = self.now_ns()
        order.filled_qty += qty
        order.filled_value += qty * px
        order.updated_ns = now
        done = order.leaves == 0
        order.status = "filled" if done else "partially_filled"
        if done:
            order.filled_ns = now
        acct = self.accounts[order.account]
        signed = qty if order.side == "buy" else -qty
        acct.cash -= signed * px
        pos = acct.positions.setdefault(order.symbol, [ZERO, ZERO])
        old_qty, old_px = pos
        new_qty = old_qty + signed
        if new_qty == 0:
            acct.positions.pop(order.symbol)
        elif old_qty == 0 or (old_qty > 0) == (signed > 0):
            pos[1] = (old_qty * old_px + signed * px) / new_qty
            pos[0] = new_qty
        elif (old_qty > 0) != (new_qty > 0):
            pos[0], pos[1] = new_qty, px
        else:
            pos[0] = new_qty
        self._exec_seq += 1
        fill = Fill(
            id=f"{rfc3339(now)[:23].replace('-', '').replace(':', '').replace('T', '')}"
            f"::{uuid.uuid4()}",
            account=order.account,
            order_id=order.id,
            symbol=order.symbol,
            side=order.side,
            qty=qty,
            price=px,
            cum_qty=order.filled_qty,
            leaves_qty=order.leaves,
            order_status=order.status,
            ts=now,
        )
        self.fills.append(fill)
        self.last_price = px
        position = acct.positions.get(order.symbol, [ZERO])[0]
        self._event(
            order,
            "fill" if done else "partial_fill",
            execution_id=str(uuid.uuid5(uuid.NAMESPACE_URL, fill.id)),
            price=num(px),
            qty=num(qty),
            position_qty=num(position),
        )
        return fill

    def cancel(self, order: Order) -> None:
        if not order.is_open:
            raise AlpacaError(422, 42210000, f'order is already in "{order.status}" state')
        order.status = "canceled"
        order.updated_ns = order.canceled_ns = self.now_ns()
        self._event(order, "canceled")

    def replace(self, order: Order, body: dict[str, Any]) -> Order:
        """``PATCH /v2/orders/{id}``: a new order (new id) for the new qty/price; the old one
        ends ``replaced``. ``qty`` is the new order's whole quantity (what should work now)."""
        if not order.is_open:
            raise AlpacaError(422, 42210000, f'order is already in "{order.status}" state')
        new_body = {
            "symbol": order.symbol,
            "side": order.side,
            "type": order.type,
            "time_in_force": body.get("time_in_force") or order.time_in_force,
            "qty": body.get("qty") or str(order.leaves),
            "limit_price": body.get("limit_price")
            if body.get("limit_price") is not None
            else num(order.limit_price),
            "extended_hours": order.extended_hours,
            "client_order_id": body.get("client_order_id"),
        }
        # the replacement must be valid before the old order is touched
        order.status = "pending_replace"
        try:
            new = self.place(order.account, new_body, replaces=order)
        except AlpacaError:
            order.status = "partially_filled" if order.filled_qty else "new"
            raise
        order.status = "replaced"
        order.replaced_by = new.id
        order.updated_ns = order.replaced_ns = self.now_ns()
        self._event(order, "replaced")
        return new

    def market(self, symbol: str) -> dict[str, Any] | None:
        """Market data of ``symbol`` as Alpaca's data API names it (``latestTrade``,
        ``latestQuote``; prices and sizes are Decimals, sent as JSON numbers): the house's best
        bid and ask, the last execution (else :attr:`last_price`). None: not an asset."""
        if symbol not in self.assets:
            return None
        now = rfc3339(self.now_ns())
        last = next((f for f in reversed(self.fills) if f.symbol == symbol), None)
        trade = {
            "t": rfc3339(last.ts) if last else now,
            "x": "V",
            "p": last.price if last else self.last_price,
            "s": last.qty if last else Decimal(100),
            "c": ["@"],
            "i": len(self.fills),
            "z": "C",
        }
        return {"latestTrade": trade, "latestQuote": self.quote(symbol)}

    def depth(self, symbol: str) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        """(bids, asks) in shares per price: the house's liquidity and every open limit order
        of the fake's accounts."""
        bids: dict[Decimal, Decimal] = {}
        asks: dict[Decimal, Decimal] = {}
        resting = [(q.side, q.price, q.qty) for q in self.house.get(symbol, [])]
        resting += [
            (o.side, o.limit_price, o.leaves)
            for o in self.orders.values()
            if o.symbol == symbol and o.is_open and o.type == "limit" and o.limit_price
        ]
        for side, price, qty in resting:
            if qty > 0:
                book = bids if side == "buy" else asks
                book[price] = book.get(price, ZERO) + qty
        return bids, asks

    def quote(self, symbol: str) -> dict[str, Any]:
        """The NBBO of ``symbol`` as Alpaca's data API sends it (``latestQuote``, a stream
        ``q`` without ``T``/``S``): the best bid and ask that hold at least one round lot, their
        sizes in round lots of :data:`ROUND_LOT` shares (odd lots are not part of the NBBO;
        Alpaca's quote sizes count round lots); ``0`` price and size for a side with none."""
        bids, asks = self.depth(symbol)
        bid = max((p for p, q in bids.items() if q >= ROUND_LOT), default=None)
        ask = min((p for p, q in asks.items() if q >= ROUND_LOT), default=None)
        return {
            "t": rfc3339(self.now_ns()),
            "ax": "V",
            "ap": ask if ask is not None else ZERO,
            "as": asks[ask] // ROUND_LOT if ask is not None else ZERO,
            "bx": "V",
            "bp": bid if bid is not None else ZERO,
            "bs": bids[bid] // ROUND_LOT if bid is not None else ZERO,
            "c": ["R"],
            "z": "C",
        }

    def positions_of(self, account: str) -> dict[str, list[Decimal]]:
        return self.accounts[account].positions

    def apply_split(self, symbol: str, ratio: Decimal) -> None:
        """A stock split at the broker (2 = 2-for-1, 0.1 = 1-for-10): every account's position
        quantity × ratio, its average entry ÷ ratio (cost unchanged), the last price ÷ ratio.
        Open orders are left as they are (Alpaca cancels or adjusts them itself; not modelled)."""
        for acct in self.accounts.values():
            pos = acct.positions.get(symbol)
            if pos is not None:
                pos[0], pos[1] = pos[0] * ratio, pos[1] / ratio
        self.last_price /= ratio
