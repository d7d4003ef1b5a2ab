"""The fake Upbit's books: accounts, orders with their trades, fills, balances (pure, no I/O).

Orders are Upbit's: ``uuid`` (venue id), ``identifier`` (client id, unique among **all** of an
account's orders, forever), ``side`` bid/ask, ``ord_type`` limit/price/market, ``state``
wait/done/cancel, and ``trades`` (the only record of fills: Upbit has no account-fills endpoint).
Fees are paid in KRW at ``fee_rate`` of each trade's funds; a bid locks price x volume plus the
fee, an ask locks the volume.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from atlas_oms.fakes.upbit.ticks import on_tick

D = Decimal
ZERO = D(0)
KST = timezone(timedelta(hours=9))
#: Upbit KRW market: 0.05 % fee, 5,000 KRW minimum order total.
FEE_RATE = D("0.0005")
MIN_TOTAL = D("5000")


def iso(ms: int) -> str:
    """Upbit's time format: ISO 8601 in KST (``2026-12-07T14:49:50+09:00``)."""
    return datetime.fromtimestamp(ms / 1000, KST).isoformat(timespec="seconds")


def num(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


class UpbitError(Exception):
    """An Upbit error answer: HTTP status and ``{"error": {"name", "message"}}``."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(f"{status} {name}: {message}")
        self.status = status
        self.name = name
        self.message = message


@dataclass
class Trade:
    uuid: str
    price: Decimal
    volume: Decimal
    fee: Decimal
    side: str
    ts_ms: int
    is_maker: bool

    @property
    def funds(self) -> Decimal:
        return self.price * self.volume


@dataclass
class Order:
    uuid: str
    identifier: str | None
    account: str
    market: str
    side: str  # bid | ask
    ord_type: str  # limit | price | market
    price: Decimal | None
    volume: Decimal | None
    created_ms: int
    time_in_force: str | None = None
    state: str = "wait"
    executed: Decimal = ZERO
    trades: list[Trade] = field(default_factory=list)
    locked: Decimal = ZERO
    updated_ms: int = 0

    @property
    def remaining(self) -> Decimal:
        return (self.volume or ZERO) - self.executed

    @property
    def paid_fee(self) -> Decimal:
        return sum((t.fee for t in self.trades), ZERO)

    @property
    def executed_funds(self) -> Decimal:
        return sum((t.funds for t in self.trades), ZERO)

    def rest(self, with_trades: bool = False) -> dict[str, Any]:
        """The order as ``GET /v1/order`` shows it (``trades`` only there)."""
        avg = self.executed_funds / self.executed if self.executed else None
        out: dict[str, Any] = {
            "uuid": self.uuid,
            "side": self.side,
            "ord_type": self.ord_type,
            "price": num(self.price) if self.price is not None else None,
            "state": self.state,
            "market": self.market,
            "created_at": iso(self.created_ms),
            "volume": num(self.volume) if self.volume is not None else None,
            "remaining_volume": num(self.remaining) if self.volume is not None else None,
            "reserved_fee": num(self.locked_fee_reserved()),
            "remaining_fee": "0",
            "paid_fee": num(self.paid_fee),
            "locked": num(self.locked),
            "executed_volume": num(self.executed),
            "executed_funds": num(self.executed_funds),
            "trades_count": len(self.trades),
            "avg_price": num(avg) if avg is not None else None,
        }
        if self.identifier is not None:
            out["identifier"] = self.identifier
        if self.time_in_force is not None:
            out["time_in_force"] = self.time_in_force
        if with_trades:
            out["trades"] = [
                {
                    "market": self.market,
                    "uuid": t.uuid,
                    "price": num(t.price),
                    "volume": num(t.volume),
                    "funds": num(t.funds),
                    "trend": "up" if t.side == "bid" else "down",
                    "created_at": iso(t.ts_ms),
                    "side": t.side,
                }
                for t in self.trades
            ]
        return out

    def locked_fee_reserved(self) -> Decimal:
        return ZERO

    def ws(self, trade: Trade | None, now_ms: int) -> dict[str, Any]:
        """A ``myOrder`` message (DEFAULT format); for a ``trade`` state, ``price`` and
        ``volume`` are the fill's own (reference/venues.md §1.6)."""
        state = "trade" if trade is not None and self.state == "wait" else self.state
        avg = self.executed_funds / self.executed if self.executed else ZERO
        return {
            "type": "myOrder",
            "code": self.market,
            "uuid": self.uuid,
            "ask_bid": self.side.upper(),
            "order_type": self.ord_type,
            "state": "trade" if trade is not None else state,
            "trade_uuid": trade.uuid if trade is not None else None,
            "price": num(trade.price) if trade else num(self.price or ZERO),
            "avg_price": num(avg),
            "volume": num(trade.volume) if trade else num(self.volume or ZERO),
            "remaining_volume": num(self.remaining),
            "executed_volume": num(self.executed),
            "trades_count": len(self.trades),
            "reserved_fee": "0",
            "remaining_fee": "0",
            "paid_fee": num(self.paid_fee),
            "locked": num(self.locked),
            "executed_funds": num(self.executed_funds),
            "time_in_force": self.time_in_force,
            "trade_fee": num(trade.fee) if trade else None,
            "is_maker": trade.is_maker if trade else None,
            "identifier": self.identifier,
            "trade_timestamp": trade.ts_ms if trade else None,
            "order_timestamp": self.created_ms,
            "timestamp": now_ms,
            "stream_type": "REALTIME",
        }


@dataclass
class Account:
    name: str
    access_key: str
    secret: str
    balances: dict[str, list[Decimal]] = field(default_factory=dict)  # currency -> [free, locked]
    identifiers: set[str] = field(default_factory=set)


#: A push: (account, message).
Push = Callable[[str, dict[str, Any]], None]


class UpbitVenue:
    """The matching and the books. ``push`` is called with each ``myOrder``/``myAsset``."""

    def __init__(self, fee_rate: Decimal = FEE_RATE, min_total: Decimal = MIN_TOTAL) -> None:
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, Order] = {}
        self.fee_rate = fee_rate
        self.min_total = min_total
        self.markets = {"KRW-BTC": ("BTC", "KRW"), "KRW-ETH": ("ETH", "KRW")}
        #: The venue's own resting liquidity: (market, side, price) -> volume.
        self.house: dict[tuple[str, str, Decimal], Decimal] = {}
        self.clock_offset_ms = 0
        #: market -> (price, ms) of the last trade (the public ticker's ``trade_price``).
        self.last_trade: dict[str, tuple[Decimal, int, Decimal | None]] = {}  # px, ms, volume
        self.push: Push = lambda account, message: None
        self._trade_seq = 0

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def add_account(self, account: Account) -> None:
        self.accounts[account.name] = account

    def by_key(self, access_key: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.access_key == access_key), None)

    # ------------------------------------------------------------------ balances
    def _row(self, acct: Account, currency: str) -> list[Decimal]:
        return acct.balances.setdefault(currency, [ZERO, ZERO])

    def _asset_push(self, acct: Account, currencies: set[str]) -> None:
        now = self.now_ms()
        assets = [
            {"currency": c, "balance": num(acct.balances[c][0]), "locked": num(acct.balances[c][1])}
            for c in sorted(currencies)
            if c in acct.balances
        ]
        self.push(
            acct.name,
            {
                "type": "myAsset",
                "asset_uuid": str(uuidlib.uuid4()),
                "assets": assets,
                "asset_timestamp": now,
                "timestamp": now,
                "stream_type": "REALTIME",
            },
        )

    def accounts_rest(self, acct: Account) -> list[dict[str, Any]]:
        return [
            {
                "currency": c,
                "balance": num(free),
                "locked": num(locked),
                "avg_buy_price": "0",
                "avg_buy_price_modified": False,
                "unit_currency": "KRW",
            }
            for c, (free, locked) in sorted(acct.balances.items())
            if free or locked
        ]

    # ------------------------------------------------------------------ orders
    def place(self, acct: Account, body: dict[str, Any], *, external: bool = False) -> Order:
        market = str(body.get("market") or "")
        if market not in self.markets:
            raise UpbitError(404, "market_does_not_exist", "Market does not exist.")
        side = body.get("side")
        if side not in ("bid", "ask"):
            raise UpbitError(
                400, "validation_error", "side is missing, side does not have a valid value"
            )
        ord_type = body.get("ord_type")
        if ord_type not in ("limit", "price", "market"):
            raise UpbitError(400, "validation_error", "ord_type does not have a valid value")
        identifier = body.get("identifier")
        if identifier is not None:
            identifier = str(identifier)
            if identifier in acct.identifiers:
                raise UpbitError(400, "duplicate_identifier", "Duplicate identifier.")
            acct.identifiers.add(identifier)  # taken, whatever happens next (Upbit's rule)
        price = D(str(body["price"])) if body.get("price") is not None else None
        volume = D(str(body["volume"])) if body.get("volume") is not None else None
        base, quote = self.markets[market]
        if ord_type == "limit":
            if price is None or volume is None or volume <= 0:
                raise UpbitError(400, "validation_error", "price and volume are required")
            if not on_tick(price):
                name = "invalid_price_bid" if side == "bid" else "invalid_price_ask"
                raise UpbitError(
                    400,
                    name,
                    "The price unit has not been input correctly. Please check it and try again.",
                )
            if price * volume < self.min_total:
                raise UpbitError(
                    400,
                    f"under_min_total_{side}",
                    f"최소주문금액 이상으로 주문해주세요 (min total {self.min_total} {quote})",
                )
        elif ord_type == "price" and (side != "bid" or price is None):
            raise UpbitError(400, "validation_error", "ord_type price is a market bid by funds")
        elif ord_type == "market" and (side != "ask" or volume is None):
            raise UpbitError(400, "validation_error", "ord_type market is a market ask by volume")
        tif = body.get("time_in_force")
        now = self.now_ms()
        order = Order(
            uuid=str(uuidlib.uuid4()),
            identifier=identifier,
            account=acct.name,
            market=market,
            side=side,
            ord_type=ord_type,
            price=price,
            volume=volume,
            created_ms=now,
            updated_ms=now,
            time_in_force=str(tif) if tif else None,
        )
        # lock
        if side == "bid":
            funds = (price or ZERO) * volume if ord_type == "limit" and volume else price or ZERO
            need = funds * (1 + self.fee_rate)
            row = self._row(acct, quote)
            if row[0] < need:
                raise UpbitError(
                    400, "insufficient_funds_bid", f"주문가능한 금액({quote})이 부족합니다."
                )
            row[0] -= need
            row[1] += need
        else:
            assert volume is not None
            row = self._row(acct, base)
            if row[0] < volume:
                raise UpbitError(
                    400, "insufficient_funds_ask", f"주문가능한 금액({base})이 부족합니다."
                )
            row[0] -= volume
            row[1] += volume
            need = volume
        order.locked = need
        self.orders[order.uuid] = order
        self.push(acct.name, order.ws(None, now))
        self._asset_push(acct, {base, quote})
        self._match(order)
        return order

    def find(self, acct: Account, *, uuid: str | None, identifier: str | None) -> Order | None:
        if uuid:
            o = self.orders.get(uuid)
            return o if o is not None and o.account == acct.name else None
        if identifier:
            return next(
                (
                    o
                    for o in self.orders.values()
                    if o.account == acct.name and o.identifier == identifier
                ),
                None,
            )
        return None

    def cancel(self, order: Order) -> None:
        if order.state != "wait":
            raise UpbitError(404, "order_not_found", "주문을 찾지 못했습니다.")
        self._close(order, "cancel")

    def _close(self, order: Order, state: str) -> None:
        acct = self.accounts[order.account]
        base, quote = self.markets[order.market]
        currency = quote if order.side == "bid" else base
        row = self._row(acct, currency)
        row[1] -= order.locked
        row[0] += order.locked
        order.locked = ZERO
        order.state = state
        order.updated_ms = self.now_ms()
        self.push(acct.name, order.ws(None, order.updated_ms))
        self._asset_push(acct, {base, quote})

    # ------------------------------------------------------------------ fills
    def _trade_id(self) -> str:
        self._trade_seq += 1
        return str(uuidlib.uuid4())

    def fill(
        self,
        order: Order,
        volume: Decimal,
        price: Decimal | None = None,
        *,
        trade_id: str | None = None,
        is_maker: bool = True,
    ) -> Trade:
        """Execute ``volume`` of a working order at ``price`` (its limit by default)."""
        assert order.state == "wait", order.state
        px = price if price is not None else order.price
        assert px is not None
        now = self.now_ms()
        funds = px * volume
        fee = funds * self.fee_rate
        trade = Trade(trade_id or self._trade_id(), px, volume, fee, order.side, now, is_maker)
        self.last_trade[order.market] = (px, now, volume)
        acct = self.accounts[order.account]
        base, quote = self.markets[order.market]
        if order.side == "bid":
            release = (
                (order.price or px) * volume * (1 + self.fee_rate)
                if order.ord_type == "limit"
                else funds + fee
            )
            release = min(release, order.locked)
            q = self._row(acct, quote)
            q[1] -= release
            q[0] += release - funds - fee
            order.locked -= release
            self._row(acct, base)[0] += volume
        else:
            b = self._row(acct, base)
            b[1] -= volume
            order.locked -= volume
            self._row(acct, quote)[0] += funds - fee
        order.executed += volume
        order.trades.append(trade)
        order.updated_ms = now
        self.push(acct.name, order.ws(trade, now))
        if order.volume is not None and order.remaining <= 0:
            self._close(order, "done")
        else:
            self._asset_push(acct, {base, quote})
        return trade

    def ticker(self, market: str) -> dict[str, Any]:
        """``/v1/ticker``'s row: the last trade's price (else the mid of the house's best bid and
        ask), as JSON numbers like Upbit's."""
        now = self.now_ms()
        px, at, volume = self.last_trade.get(market, (None, now, None))
        if px is None:
            bids = [p for (m, s, p), v in self.house.items() if m == market and s == "bid" and v]
            asks = [p for (m, s, p), v in self.house.items() if m == market and s == "ask" and v]
            if bids and asks:
                px = (max(bids) + min(asks)) / 2
        row: dict[str, Any] = {"market": market, "timestamp": now, "trade_timestamp": at}
        if px is not None:
            row["trade_price"] = float(px)
        if volume is not None:  # the last trade's quantity, as Upbit's ticker gives it
            row["trade_volume"] = float(volume)
        return row

    def _match(self, order: Order) -> None:
        """Cross a new order with the house's liquidity and the account's own resting orders
        (no self-match prevention unless asked: one trade id, two executions)."""
        opposite = "ask" if order.side == "bid" else "bid"
        # own resting orders
        for other in list(self.orders.values()):
            if order.state != "wait" or order.remaining <= 0:
                return
            if (
                other is order
                or other.state != "wait"
                or other.market != order.market
                or other.side != opposite
                or other.price is None
            ):
                continue
            if order.ord_type == "limit" and not self._crosses(order, other.price):
                continue
            qty = min(order.remaining, other.remaining)
            tid = self._trade_id()
            self.fill(other, qty, other.price, trade_id=tid, is_maker=True)
            self.fill(order, qty, other.price, trade_id=tid, is_maker=False)
        # house liquidity, best price first (highest bid for a sell)
        for (market, side, px), vol in sorted(
            self.house.items(), key=lambda kv: kv[0][2], reverse=order.side == "ask"
        ):
            if order.state != "wait":
                return
            if market != order.market or side != opposite or vol <= 0:
                continue
            if order.ord_type == "limit" and not self._crosses(order, px):
                continue
            if order.ord_type == "price":
                qty = min(vol, (order.price or ZERO) / px)
            else:
                qty = min(vol, order.remaining)
            self.house[(market, side, px)] = vol - qty
            self.fill(order, qty, px, is_maker=False)
            if order.ord_type == "price":
                self._close(order, "done" if not order.locked else "cancel")
        if order.state == "wait" and order.ord_type != "limit":
            self._close(order, "cancel")

    @staticmethod
    def _crosses(order: Order, px: Decimal) -> bool:
        assert order.price is not None
        return px <= order.price if order.side == "bid" else px >= order.price


def utc_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1000)
