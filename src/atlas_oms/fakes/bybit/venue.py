"""The fake Bybit v5 venue's state (pure, no I/O): one Unified Trading Account wallet per
account, spot and linear orders, executions, linear positions (one-way or hedge mode), and the
knobs that act on state (house liquidity, fills, external orders, old positions).

Every change produces private-stream messages in Bybit's own shapes (``order``, ``execution``,
``wallet``, ``position`` topics) handed to :attr:`FakeBybitVenue.publish`.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

D = Decimal
ZERO = D(0)

#: How many closed orders ``/v5/order/realtime`` still shows (the venue's "last 500").
REALTIME_CLOSED = 500


class BybitError(Exception):
    """A refusal in Bybit's words: ``retCode`` and ``retMsg`` (HTTP 200)."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg


@dataclass(frozen=True)
class Spec:
    category: str
    symbol: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    maker: Decimal
    taker: Decimal


SPECS = {
    ("spot", "BTCUSDT"): Spec(
        "spot",
        "BTCUSDT",
        "BTC",
        "USDT",
        D("0.01"),
        D("0.000001"),
        D("0.000048"),
        D("1"),
        D("0.001"),
        D("0.001"),
    ),
    ("linear", "BTCUSDT"): Spec(
        "linear",
        "BTCUSDT",
        "BTC",
        "USDT",
        D("0.1"),
        D("0.001"),
        D("0.001"),
        D("5"),
        D("0.0002"),
        D("0.00055"),
    ),
}


@dataclass
class AccountConfig:
    name: str
    api_key: str
    secret: str
    wallet: dict[str, Decimal] = field(default_factory=dict)
    hedge_mode: bool = False
    #: The account's UID (universal transfers name members by it).
    uid: str = ""
    #: A sub-account's master account (its ``name``); None: a master (or a lone) account.
    master: str | None = None


#: The fake's leverage and maintenance margin rate of every linear position.
FAKE_LEVERAGE = Decimal(10)
FAKE_MMR = Decimal("0.005")


@dataclass
class Position:
    size: Decimal = ZERO  # signed: + long, - short
    entry: Decimal = ZERO
    created_ms: int = 0
    realised: Decimal = ZERO


@dataclass
class Account:
    cfg: AccountConfig
    wallet: dict[str, Decimal]
    hedge: bool
    #: (symbol, positionIdx) -> position (linear).
    positions: dict[tuple[str, int], Position] = field(default_factory=dict)
    #: Linear symbols margined isolated (``tradeMode`` 1); the others are cross (0).
    isolated: set[str] = field(default_factory=set)


@dataclass
class Order:
    order_id: str
    link_id: str
    account: str
    category: str
    symbol: str
    side: str  # Buy / Sell
    order_type: str  # Limit / Market
    qty: Decimal
    price: Decimal
    tif: str
    position_idx: int
    reduce_only: bool
    created_ms: int
    updated_ms: int
    status: str = "New"
    cum_qty: Decimal = ZERO
    cum_value: Decimal = ZERO
    cum_fee: Decimal = ZERO
    cancel_type: str = "UNKNOWN"
    reject_reason: str = "EC_NoError"
    house: bool = False
    #: Self Match Prevention of the order as a taker: None (default: the account's own orders
    #: trade with each other), CancelMaker, CancelTaker, CancelBoth.
    smp_type: str = "None"

    @property
    def open(self) -> bool:
        return self.status in ("New", "PartiallyFilled", "Untriggered")

    @property
    def leaves(self) -> Decimal:
        return self.qty - self.cum_qty if self.open else ZERO


@dataclass
class Execution:
    exec_id: str
    order: Order
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    fee_rate: Decimal
    is_maker: bool
    time_ms: int
    leaves: Decimal
    seq: int


def num(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


class FakeBybitVenue:
    def __init__(self, accounts: list[AccountConfig]) -> None:
        self.accounts = {
            a.name: Account(cfg=a, wallet=dict(a.wallet), hedge=a.hedge_mode) for a in accounts
        }
        self.orders: dict[str, Order] = {}
        self.executions: list[Execution] = []
        self.clock_offset_ms = 0
        #: (category, symbol) -> the price of the last execution (the public ticker's).
        self.last_price: dict[tuple[str, str], Decimal] = {}
        self._seq = itertools.count(1)
        #: Mark prices by linear symbol (a position is valued at its entry without one).
        self.mark_prices: dict[str, Decimal] = {}
        #: Called with (account, topic, rows) for each private-stream message.
        self.publish: Callable[[str, str, list[dict[str, Any]]], None] = lambda a, t, r: None
        #: Called with (category, symbol) after anything that may change the public book.
        self.on_book: Callable[[str, str], None] = lambda c, s: None

    # ------------------------------------------------------------------ clock, lookups
    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def spec(self, category: str, symbol: str) -> Spec:
        found = SPECS.get((category, symbol))
        if found is None:
            raise BybitError(10001, f"params error: symbol invalid {symbol}")
        return found

    def find(
        self, account: str, category: str, order_id: str = "", link_id: str = ""
    ) -> Order | None:
        if order_id:
            o = self.orders.get(order_id)
            return o if o and o.account == account and o.category == category else None
        for o in reversed(list(self.orders.values())):
            if o.account == account and o.category == category and o.link_id == link_id:
                return o
        return None

    def realtime_visible(self, order: Order) -> bool:
        """Open orders, and the last 500 closed ones of the account."""
        if order.open:
            return True
        closed = [
            o
            for o in self.orders.values()
            if o.account == order.account and not o.open and not o.house
        ]
        return order in closed[-REALTIME_CLOSED:]

    # ------------------------------------------------------------------ placing
    def not_found_code(self, category: str) -> tuple[int, str]:
        if category == "spot":
            return 170213, "Order does not exist."
        return 110001, "order not exists or too late to cancel"

    def place(
        self, account: str, category: str, p: dict[str, Any], *, house: bool = False
    ) -> Order:
        acct = self.accounts[account]
        spec = self.spec(category, str(p.get("symbol", "")))
        side = str(p.get("side", ""))
        if side not in ("Buy", "Sell"):
            raise BybitError(10001, "params error: side invalid")
        order_type = str(p.get("orderType", "Limit"))
        try:
            qty = D(str(p.get("qty")))
            price = D(str(p.get("price"))) if p.get("price") not in (None, "") else ZERO
        except Exception as e:
            raise BybitError(10001, "params error: qty or price invalid") from e
        link = str(p.get("orderLinkId") or "")
        if link and not house and self.find(account, category, link_id=link) is not None:
            if category == "spot":
                raise BybitError(170141, "Duplicate clientOrderId")
            raise BybitError(110072, "OrderLinkedID is duplicate")
        if qty <= 0 or qty % spec.step:
            raise BybitError(10001, "params error: qty invalid")
        if order_type == "Limit" and (price <= 0 or price % spec.tick):
            raise BybitError(10001, "params error: price invalid")
        pidx = int(p.get("positionIdx") or 0)
        if category == "linear" and not house:
            if acct.hedge and pidx not in (1, 2):
                raise BybitError(10001, "position idx not match position mode")
            if not acct.hedge and pidx != 0:
                raise BybitError(10001, "position idx not match position mode")
        if category == "spot" and not house:
            self._check_spot_funds(acct, spec, side, qty, price, order_type)
        now = self.now_ms()
        tif = str(p.get("timeInForce") or ("IOC" if order_type == "Market" else "GTC"))
        order = Order(
            order_id=str(uuid.uuid4()),
            link_id=link,
            account=account,
            category=category,
            symbol=spec.symbol,
            side=side,
            order_type=order_type,
            qty=qty,
            price=price,
            tif=tif,
            position_idx=pidx,
            reduce_only=str(p.get("reduceOnly", "")).lower() == "true",
            created_ms=now,
            updated_ms=now,
            house=house,
            smp_type=str(p.get("smpType") or "None"),
        )
        if tif == "PostOnly" and self._crosses(order):
            order.status = "Cancelled"
            order.cancel_type = "CancelByPostOnly"
            self.orders[order.order_id] = order
            self._order_out(order)
            return order
        self.orders[order.order_id] = order
        if not house:
            self._order_out(order)
        self._match(order)
        if order.open and order.tif in ("IOC", "FOK"):
            self._close(order, "CancelByUser")
        if not house and category == "spot":
            self._wallet_out(acct)
        self.on_book(category, spec.symbol)
        return order

    def _check_spot_funds(
        self, acct: Account, spec: Spec, side: str, qty: Decimal, price: Decimal, kind: str
    ) -> None:
        if side == "Buy":
            need, coin = qty * (price or self._best("Sell", spec) or ZERO), spec.quote
        else:
            need, coin = qty, spec.base
        if self.free(acct, coin) < need:
            raise BybitError(170131, "Insufficient balance.")

    def locked(self, acct: Account, coin: str) -> Decimal:
        total = ZERO
        for o in self.orders.values():
            if o.account != acct.cfg.name or o.category != "spot" or not o.open or o.house:
                continue
            spec = self.spec("spot", o.symbol)
            if o.side == "Buy" and coin == spec.quote:
                total += o.leaves * o.price
            elif o.side == "Sell" and coin == spec.base:
                total += o.leaves
        return total

    def free(self, acct: Account, coin: str) -> Decimal:
        return acct.wallet.get(coin, ZERO) - self.locked(acct, coin)

    # ------------------------------------------------------------------ matching
    def _book(self, order: Order) -> list[Order]:
        other = "Sell" if order.side == "Buy" else "Buy"
        rows = [
            o
            for o in self.orders.values()
            if o.open
            and o.category == order.category
            and o.symbol == order.symbol
            and o.side == other
            and o is not order
        ]
        rows.sort(key=lambda o: (o.price if other == "Sell" else -o.price, o.created_ms))
        return rows

    def _best(self, side: str, spec: Spec) -> Decimal | None:
        rows = [
            o.price
            for o in self.orders.values()
            if o.open
            and o.house
            and o.side == side
            and o.symbol == spec.symbol
            and o.category == spec.category
        ]
        if not rows:
            return None
        return min(rows) if side == "Sell" else max(rows)

    def _crosses(self, order: Order) -> bool:
        book = self._book(order)
        if not book:
            return False
        top = book[0].price
        return order.price >= top if order.side == "Buy" else order.price <= top

    def _match(self, order: Order) -> None:
        if order.house:
            return
        for resting in self._book(order):
            if not order.open:
                break
            px = resting.price
            if order.order_type == "Limit" and (
                (order.side == "Buy" and px > order.price)
                or (order.side == "Sell" and px < order.price)
            ):
                break
            if not resting.house and resting.account == order.account:
                if order.smp_type in ("CancelMaker", "CancelBoth"):
                    self._close(resting, "CancelBySmp")
                if order.smp_type in ("CancelTaker", "CancelBoth"):
                    self._close(order, "CancelBySmp")
                    break
                if order.smp_type == "CancelMaker":
                    continue
            qty = min(order.leaves, resting.leaves)
            if resting.house:
                self._fill_house(resting, qty)
                self.execute(order, qty, px, maker=False)
                continue
            # A trade between two orders at the venue (the same account's: a self-trade when no
            # smpType stops it): one execId and one seq for the trade, carried by both sides'
            # executions (Bybit's public trade of the match has that execId too).
            exec_id, seq = str(uuid.uuid4()), next(self._seq)
            self.execute(resting, qty, px, maker=True, exec_id=exec_id, seq=seq)
            self.execute(order, qty, px, maker=False, exec_id=exec_id, seq=seq)

    def _fill_house(self, resting: Order, qty: Decimal) -> None:
        resting.cum_qty += qty
        resting.cum_value += qty * resting.price
        if resting.cum_qty >= resting.qty:
            resting.status = "Filled"

    # ------------------------------------------------------------------ executions
    def execute(
        self,
        order: Order,
        qty: Decimal,
        price: Decimal,
        *,
        maker: bool,
        exec_id: str = "",
        seq: int = 0,
    ) -> Execution:
        acct = self.accounts[order.account]
        spec = self.spec(order.category, order.symbol)
        rate = spec.maker if maker else spec.taker
        now = self.now_ms()
        if order.category == "spot":
            if order.side == "Buy":
                fee, fee_ccy = qty * rate, spec.base
                acct.wallet[spec.quote] = acct.wallet.get(spec.quote, ZERO) - qty * price
                acct.wallet[spec.base] = acct.wallet.get(spec.base, ZERO) + qty - fee
            else:
                fee, fee_ccy = qty * price * rate, spec.quote
                acct.wallet[spec.base] = acct.wallet.get(spec.base, ZERO) - qty
                acct.wallet[spec.quote] = acct.wallet.get(spec.quote, ZERO) + qty * price - fee
        else:
            fee, fee_ccy = qty * price * rate, spec.quote
            realised = self._position_trade(acct, order, qty, price, now)
            acct.wallet[spec.quote] = acct.wallet.get(spec.quote, ZERO) + realised - fee
        self.last_price[(order.category, order.symbol)] = price
        order.cum_qty += qty
        order.cum_value += qty * price
        order.cum_fee += fee
        order.updated_ms = now
        order.status = "Filled" if order.cum_qty >= order.qty else "PartiallyFilled"
        ex = Execution(
            exec_id=exec_id or str(uuid.uuid4()),
            order=order,
            qty=qty,
            price=price,
            fee=fee,
            fee_currency=fee_ccy,
            fee_rate=rate,
            is_maker=maker,
            time_ms=now,
            leaves=order.leaves,
            seq=seq or next(self._seq),
        )
        self.executions.append(ex)
        self._order_out(order)
        self.publish(order.account, "execution", [self.execution_row(ex)])
        self._wallet_out(acct)
        if order.category == "linear":
            self._position_out(acct, order.symbol)
        self.on_book(order.category, order.symbol)
        return ex

    def _position_trade(
        self, acct: Account, order: Order, qty: Decimal, price: Decimal, now: int
    ) -> Decimal:
        signed = qty if order.side == "Buy" else -qty
        key = (order.symbol, order.position_idx)
        pos = acct.positions.setdefault(key, Position(created_ms=now))
        realised = ZERO
        if pos.size == 0 or (pos.size > 0) == (signed > 0):
            total = pos.size + signed
            pos.entry = (abs(pos.size) * pos.entry + qty * price) / abs(total)
            pos.size = total
        else:
            closing = min(qty, abs(pos.size))
            direction = 1 if pos.size > 0 else -1
            realised = (price - pos.entry) * closing * direction
            pos.size += signed
            if pos.size == 0:
                pos.entry = ZERO
            elif (pos.size > 0) != (direction > 0):
                pos.entry = price
        if pos.size == 0:
            pos.created_ms = now
        pos.realised += realised
        return realised

    # ------------------------------------------------------------------ cancel, amend
    def cancel(self, order: Order) -> None:
        if not order.open:
            code, msg = self.not_found_code(order.category)
            raise BybitError(code, msg)
        self._close(order, "CancelByUser")

    def _close(self, order: Order, cancel_type: str) -> None:
        partial = order.cum_qty > 0
        order.status = (
            "PartiallyFilledCanceled" if partial and order.category == "spot" else ("Cancelled")
        )
        order.cancel_type = cancel_type
        order.updated_ms = self.now_ms()
        if not order.house:
            self._order_out(order)
            if order.category == "spot":
                self._wallet_out(self.accounts[order.account])
        self.on_book(order.category, order.symbol)

    def amend(self, order: Order, qty: Decimal | None, price: Decimal | None) -> None:
        if not order.open:
            code, msg = self.not_found_code(order.category)
            raise BybitError(code, msg)
        if qty is not None:
            if qty <= order.cum_qty:
                raise BybitError(110074, "qty must be greater than the filled quantity")
            order.qty = qty
        if price is not None:
            order.price = price
        order.updated_ms = self.now_ms()
        self._order_out(order)
        self._match(order)
        self.on_book(order.category, order.symbol)

    # ------------------------------------------------------------------ knobs
    def fill(self, order: Order, qty: Decimal, price: Decimal | None = None) -> Execution:
        return self.execute(order, min(qty, order.leaves), price or order.price, maker=True)

    def house_quote(
        self, category: str, symbol: str, side: str, price: Decimal, qty: Decimal
    ) -> Order:
        params = {
            "symbol": symbol,
            "side": side,
            "orderType": "Limit",
            "qty": num(qty),
            "price": num(price),
            "timeInForce": "GTC",
        }
        return self.place(next(iter(self.accounts)), category, params, house=True)

    def ticker_row(self, spec: Spec) -> dict[str, Any]:
        """``/v5/market/tickers``' row: the house's best bid and ask, the last execution's price
        (else the mid), and for linear the mark (= last: the fake has no index)."""
        bid, ask = self._best("Buy", spec), self._best("Sell", spec)

        def size(side: str, px: Decimal | None) -> str:
            if px is None:
                return ""
            return num(
                sum(
                    (
                        o.leaves
                        for o in self.orders.values()
                        if o.open
                        and o.house
                        and o.side == side
                        and o.price == px
                        and (o.category, o.symbol) == (spec.category, spec.symbol)
                    ),
                    ZERO,
                )
            )

        last = self.last_price.get((spec.category, spec.symbol))
        if last is None and bid is not None and ask is not None:
            last = (bid + ask) / 2
        row: dict[str, Any] = {
            "symbol": spec.symbol,
            "bid1Price": num(bid) if bid is not None else "",
            "bid1Size": size("Buy", bid),
            "ask1Price": num(ask) if ask is not None else "",
            "ask1Size": size("Sell", ask),
            "lastPrice": num(last) if last is not None else "",
        }
        if spec.category == "linear":
            row["markPrice"] = row["indexPrice"] = row["lastPrice"]
        return row

    def seed_old_position(
        self, account: str, symbol: str, qty: Decimal, price: Decimal, age_ms: int
    ) -> None:
        acct = self.accounts[account]
        idx = 0 if not acct.hedge else (1 if qty > 0 else 2)
        acct.positions[(symbol, idx)] = Position(
            size=qty, entry=price, created_ms=self.now_ms() - age_ms
        )

    # ------------------------------------------------------------------ rows
    def order_row(self, o: Order) -> dict[str, Any]:
        avg = o.cum_value / o.cum_qty if o.cum_qty else ZERO
        return {
            "orderId": o.order_id,
            "orderLinkId": o.link_id,
            "blockTradeId": "",
            "symbol": o.symbol,
            "price": num(o.price),
            "qty": num(o.qty),
            "side": o.side,
            "isLeverage": "",
            "positionIdx": o.position_idx,
            "orderStatus": o.status,
            "cancelType": o.cancel_type,
            "rejectReason": o.reject_reason,
            "avgPrice": num(avg) if o.cum_qty else ("" if o.category == "spot" else "0"),
            "leavesQty": num(o.leaves),
            "leavesValue": num(o.leaves * o.price),
            "cumExecQty": num(o.cum_qty),
            "cumExecValue": num(o.cum_value),
            "cumExecFee": num(o.cum_fee),
            "timeInForce": o.tif,
            "orderType": o.order_type,
            "stopOrderType": "",
            "orderIv": "",
            "triggerPrice": "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "",
            "lastPriceOnCreated": "",
            "reduceOnly": o.reduce_only,
            "closeOnTrigger": False,
            "smpType": o.smp_type,
            "smpGroup": 0,
            "smpOrderId": "",
            "tpslMode": "",
            "tpLimitPrice": "",
            "slLimitPrice": "",
            "placeType": "",
            "createdTime": str(o.created_ms),
            "updatedTime": str(o.updated_ms),
        }

    def execution_row(self, ex: Execution) -> dict[str, Any]:
        o = ex.order
        return {
            "category": o.category,
            "symbol": o.symbol,
            "orderId": o.order_id,
            "orderLinkId": o.link_id,
            "side": o.side,
            "orderPrice": num(o.price),
            "orderQty": num(o.qty),
            "leavesQty": num(ex.leaves),
            "createType": "CreateByUser",
            "orderType": o.order_type,
            "stopOrderType": "",
            "execFee": num(ex.fee),
            "execId": ex.exec_id,
            "execPrice": num(ex.price),
            "execQty": num(ex.qty),
            "execType": "Trade",
            "execValue": num(ex.qty * ex.price),
            "execTime": str(ex.time_ms),
            "feeCurrency": ex.fee_currency,
            "isMaker": ex.is_maker,
            "feeRate": num(ex.fee_rate),
            "tradeIv": "",
            "markIv": "",
            "markPrice": num(ex.price),
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": "0",
            "seq": ex.seq,
        }

    def wallet_row(self, acct: Account) -> dict[str, Any]:
        coins = []
        for coin, bal in sorted(acct.wallet.items()):
            coins.append(
                {
                    "coin": coin,
                    "equity": num(bal),
                    "walletBalance": num(bal),
                    "locked": num(self.locked(acct, coin)),
                    "usdValue": "",
                    "unrealisedPnl": "0",
                    "cumRealisedPnl": "0",
                    "borrowAmount": "0",
                    "totalOrderIM": "0",
                    "totalPositionIM": "0",
                    "totalPositionMM": "0",
                    "marginCollateral": True,
                    "collateralSwitch": True,
                }
            )
        return {
            "accountType": "UNIFIED",
            "accountIMRate": "0",
            "accountMMRate": "0",
            "totalEquity": "",
            "totalWalletBalance": "",
            "totalMarginBalance": "",
            "totalAvailableBalance": "",
            "coin": coins,
        }

    def position_margin(self, acct: Account, sym: str, pos: Position) -> dict[str, Any]:
        """Bybit's figures of one position by Bybit's published formulas (help centre
        "Liquidation Price (USDT Contract)"), the fake's own implementation: position value at
        entry, ``IM = value / leverage``, ``MM = value × MMR`` (0.5 %, risk limit 1), both at the
        *entry* value. Isolated: ``LP = entry ∓ (IM − MM) / size``; cross: the loss the account
        can bear is ``available balance + IM − MM`` ("Total Sustainable Loss"), available
        balance being the USDT wallet less every position's IM."""
        size = abs(pos.size)
        if not size:
            return {"liqPrice": "", "bustPrice": "", "positionMM": "0", "positionIM": "0"}
        value = size * pos.entry
        im, mm = value / FAKE_LEVERAGE, value * FAKE_MMR
        if sym in acct.isolated:
            loss, bust_loss = im - mm, im
        else:
            used = sum(
                (abs(p.size) * p.entry / FAKE_LEVERAGE for (s, _), p in acct.positions.items()),
                ZERO,
            )
            available = acct.wallet.get("USDT", ZERO) - used
            loss, bust_loss = available + im - mm, available + im
        sign = 1 if pos.size > 0 else -1
        liq = pos.entry - sign * loss / size
        bust = pos.entry - sign * bust_loss / size
        return {
            "liqPrice": num(liq.quantize(Decimal("0.01"))) if liq > 0 else "",
            "bustPrice": num(bust.quantize(Decimal("0.01"))) if bust > 0 else "",
            "positionMM": num(mm),
            "positionIM": num(im),
        }

    def position_rows(self, acct: Account, symbol: str | None = None) -> list[dict[str, Any]]:
        rows = []
        for (sym, idx), pos in sorted(acct.positions.items()):
            if symbol and sym != symbol:
                continue
            side = "" if pos.size == 0 else ("Buy" if pos.size > 0 else "Sell")
            mark = self.mark_prices.get(sym, pos.entry)
            margin = self.position_margin(acct, sym, pos)
            rows.append(
                {
                    "positionIdx": idx,
                    "riskId": 1,
                    "riskLimitValue": "2000000",
                    "symbol": sym,
                    "side": side,
                    "size": num(abs(pos.size)),
                    "avgPrice": num(pos.entry),
                    "positionValue": num(abs(pos.size) * pos.entry),
                    "tradeMode": 1 if sym in acct.isolated else 0,
                    "positionStatus": "Normal",
                    "autoAddMargin": 0,
                    "adlRankIndicator": 2 if pos.size else 0,
                    "leverage": num(FAKE_LEVERAGE),
                    "positionBalance": margin["positionIM"] if sym in acct.isolated else "0",
                    "markPrice": num(mark),
                    **margin,
                    "tpslMode": "Full",
                    "takeProfit": "0",
                    "stopLoss": "0",
                    "trailingStop": "0",
                    "unrealisedPnl": num((mark - pos.entry) * pos.size),
                    "curRealisedPnl": num(pos.realised),
                    "cumRealisedPnl": num(pos.realised),
                    "seq": next(self._seq),
                    "isReduceOnly": False,
                    "createdTime": str(pos.created_ms),
                    "updatedTime": str(self.now_ms()),
                }
            )
        return rows

    # ------------------------------------------------------------------ stream out
    def _order_out(self, order: Order) -> None:
        if order.house:
            return
        self.publish(order.account, "order", [dict(self.order_row(order), category=order.category)])

    def wallet_changed(self, acct: Account) -> None:
        """Push ``acct``'s wallet (something outside trading moved it: a transfer)."""
        self._wallet_out(acct)

    def _wallet_out(self, acct: Account) -> None:
        self.publish(acct.cfg.name, "wallet", [self.wallet_row(acct)])

    def _position_out(self, acct: Account, symbol: str) -> None:
        rows = [dict(r, category="linear") for r in self.position_rows(acct, symbol)]
        self.publish(acct.cfg.name, "position", rows)
