"""The fake Binance's state and matching: accounts, books, orders, trades, fees, positions.

No I/O here: the server (``server.py``) parses requests, calls these methods and serialises the
results; user-stream and market events go to the listeners registered in ``user_listeners`` and
``market_listeners`` as wire-shaped dicts (``wire.py``).

Time is the server's clock: ``now_ms()`` is real time plus ``faults.clock_offset_ms``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from atlas_oms.fakes.binance import wire
from atlas_oms.fakes.binance.config import (
    SPOT,
    USDM,
    AccountConfig,
    Faults,
    Limits,
    SymbolSpec,
    default_symbols,
)
from atlas_oms.matching import OrderBook
from atlas_oms.model.enums import Side, TimeInForce

ZERO = Decimal(0)
HOUSE = "house"
_EIGHT = Decimal("0.00000001")


class VenueError(Exception):
    """A refusal in Binance's words: ``{"code": code, "msg": msg}`` with an HTTP status."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


@dataclass
class Order:
    market: str
    symbol: str
    order_id: int
    client_id: str
    account: str
    side: str  # BUY | SELL
    type: str  # LIMIT | MARKET | LIMIT_MAKER
    tif: str  # GTC | IOC | FOK | GTX
    price: Decimal
    qty: Decimal
    time: int
    executed: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: str = "NEW"
    update_time: int = 0
    reduce_only: bool = False
    position_side: str = "BOTH"
    visible_at: int = 0
    #: Spot: quote (buy) or base (sell) still locked for this order.
    locked: Decimal = ZERO
    #: Spot: the cancel's own client id (``C`` is then the order's, ``c`` this one).
    cancel_client_id: str = ""
    #: Spot keepPriority amend: the client id before the amend.
    orig_client_id: str = ""

    @property
    def leaves(self) -> Decimal:
        return self.qty - self.executed

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass
class Trade:
    market: str
    symbol: str
    trade_id: int
    order_id: int
    account: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    maker: bool
    realized_pnl: Decimal = ZERO
    position_side: str = "BOTH"


@dataclass
class Position:
    amt: Decimal = ZERO  # signed: > 0 long, < 0 short
    entry: Decimal = ZERO
    update_time: int = 0


@dataclass
class Account:
    cfg: AccountConfig
    #: Spot balances: asset -> [free, locked].
    spot: dict[str, list[Decimal]] = field(default_factory=dict)
    #: Futures wallet balances by asset.
    wallet: dict[str, Decimal] = field(default_factory=dict)
    hedge: bool = False
    leverage: dict[str, int] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)
    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    listen_key: str | None = None
    listen_key_expires: int = 0
    update_time: int = 0

    @property
    def name(self) -> str:
        return self.cfg.name

    def free(self, asset: str) -> Decimal:
        return self.spot.get(asset, [ZERO, ZERO])[0]

    def add(self, asset: str, free: Decimal = ZERO, locked: Decimal = ZERO) -> None:
        row = self.spot.setdefault(asset, [ZERO, ZERO])
        row[0] += free
        row[1] += locked


UserListener = Callable[[str, str, dict[str, Any]], None]
MarketListener = Callable[[str, str, dict[str, Any]], None]


class FakeVenue:
    """Both Binance dialects over one clock: spot (``/api/v3``) and USDⓈ-M (``/fapi``)."""

    def __init__(
        self,
        accounts: list[AccountConfig] | None = None,
        limits: Limits | None = None,
        faults: Faults | None = None,
        bnb_price: Decimal = Decimal("600"),
        listen_key_ttl_ms: int = 60 * 60 * 1000,
    ) -> None:
        self.limits = limits or Limits()
        self.faults = faults or Faults()
        self.bnb_price = bnb_price
        self.listen_key_ttl_ms = listen_key_ttl_ms
        self.symbols: dict[str, dict[str, SymbolSpec]] = {
            m: default_symbols(m) for m in (SPOT, USDM)
        }
        self.books: dict[tuple[str, str], OrderBook] = {
            (m, s): OrderBook(f"{m}:{s}") for m in (SPOT, USDM) for s in self.symbols[m]
        }
        self.accounts: dict[str, Account] = {}
        self.by_key: dict[str, Account] = {}
        self.orders: dict[tuple[str, int], Order] = {}
        #: (market, account, client id) -> the newest order with it (also its pre-amend id).
        self._by_client: dict[tuple[str, str, str], Order] = {}
        #: (market, account) -> order id -> order, pruned of closed orders when read.
        self._open: dict[tuple[str, str], dict[int, Order]] = {}
        self.trades: list[Trade] = []
        self._next_order_id = 1000
        self._next_trade_id: dict[tuple[str, str], int] = {}
        self._next_agg_id = 1
        self._next_exec_id = 1
        self._next_key = 1
        self.mark_prices: dict[str, Decimal] = {}
        #: (market, symbol) -> [open, high, low, last, volume, quote volume, count] since start.
        self.day_stats: dict[tuple[str, str], list[Any]] = {}
        self.user_listeners: list[UserListener] = []
        self.market_listeners: list[MarketListener] = []
        for cfg in accounts or []:
            self.add_account(cfg)

    # ------------------------------------------------------------------ setup and clock

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.faults.clock_offset_ms

    def add_account(self, cfg: AccountConfig) -> Account:
        acct = Account(cfg=cfg, hedge=cfg.hedge_mode)
        for asset, amount in cfg.spot.items():
            acct.add(asset, amount)
        acct.wallet = dict(cfg.futures)
        self.accounts[cfg.name] = acct
        self.by_key[cfg.api_key] = acct
        return acct

    def spec(self, market: str, symbol: str) -> SymbolSpec:
        spec = self.symbols[market].get(symbol)
        if spec is None:
            raise VenueError(-1121, "Invalid symbol.")
        return spec

    def order(self, market: str, order_id: int) -> Order | None:
        return self.orders.get((market, order_id))

    def find(
        self, market: str, account: str, symbol: str, order_id: int | None, client_id: str | None
    ) -> Order | None:
        if order_id is not None:
            o = self.orders.get((market, order_id))
            if o is not None and o.account == account and o.symbol == symbol:
                return o
            return None
        # The newest order with this client id (an id may be reused once the first is done).
        o = self._by_client.get((market, account, client_id or ""))
        return o if o is not None and o.symbol == symbol else None

    def open_orders(self, market: str, account: str, symbol: str | None) -> list[Order]:
        book = self._open.get((market, account))
        if not book:
            return []
        for key in [k for k, o in book.items() if not o.is_open]:
            del book[key]
        return [o for o in book.values() if symbol is None or o.symbol == symbol]

    def _index(self, o: Order) -> None:
        self.orders[(o.market, o.order_id)] = o
        self._by_client[(o.market, o.account, o.client_id)] = o
        self._open.setdefault((o.market, o.account), {})[o.order_id] = o

    def next_execution_id(self) -> int:
        self._next_exec_id += 1
        return self._next_exec_id

    def _new_order_id(self) -> int:
        self._next_order_id += 1
        return self._next_order_id

    def _new_trade_id(self, market: str, symbol: str) -> int:
        key = (market, symbol)
        self._next_trade_id[key] = self._next_trade_id.get(key, 5000) + 1
        return self._next_trade_id[key]

    # ------------------------------------------------------------------ events out

    def _emit_user(self, market: str, account: str, event: dict[str, Any]) -> None:
        if account == HOUSE:
            return
        for listener in list(self.user_listeners):
            listener(market, account, event)

    def _emit_market(self, market: str, stream: str, payload: dict[str, Any]) -> None:
        for listener in list(self.market_listeners):
            listener(market, stream, payload)

    def _report(self, o: Order, exec_type: str, ts: int, fill: Trade | None = None) -> None:
        if o.account == HOUSE:
            return
        if o.market == SPOT:
            event = wire.execution_report(self, o, exec_type, ts, fill)
        else:
            event = wire.order_trade_update(self, o, exec_type, ts, fill)
        self._emit_user(o.market, o.account, event)

    def _balances_changed(self, market: str, acct: Account, assets: set[str], ts: int) -> None:
        if acct.name == HOUSE:
            return
        acct.update_time = ts
        if market == SPOT:
            self._emit_user(SPOT, acct.name, wire.outbound_account_position(acct, assets, ts))
        else:
            self._emit_user(USDM, acct.name, wire.account_update(self, acct, assets, ts))

    def _book_changed(self, market: str, symbol: str, ts: int) -> None:
        book = self.books[(market, symbol)]
        self._emit_market(
            market, f"{symbol.lower()}@bookTicker", wire.book_ticker(self, market, symbol, book, ts)
        )

    # ------------------------------------------------------------------ validation

    def check_filters(self, market: str, spec: SymbolSpec, o: Order, is_market: bool) -> None:
        if not is_market:
            if o.price < spec.min_price or o.price > spec.max_price:
                raise VenueError(-1013, "Filter failure: PRICE_FILTER")
            if (o.price - spec.min_price) % spec.tick != 0:
                if market == USDM:
                    raise VenueError(-4014, "Price not increased by tick size.")
                raise VenueError(-1013, "Filter failure: PRICE_FILTER")
        if o.qty % spec.step != 0:
            if market == USDM:
                raise VenueError(-1111, "Precision is over the maximum defined for this asset.")
            raise VenueError(-1013, "Filter failure: LOT_SIZE")
        if o.qty < spec.min_qty or o.qty > spec.max_qty:
            raise VenueError(-1013, "Filter failure: LOT_SIZE")
        ref = o.price if not is_market else self._reference_price(market, spec.symbol, o.side)
        if ref is not None and o.qty * ref < spec.min_notional and not o.reduce_only:
            if market == USDM:
                raise VenueError(
                    -4164,
                    f"Order's notional must be no smaller than {spec.min_notional.normalize():f}"
                    " (unless you choose reduce only).",
                )
            raise VenueError(-1013, "Filter failure: NOTIONAL")

    def _reference_price(self, market: str, symbol: str, side: str) -> Decimal | None:
        book = self.books[(market, symbol)]
        return book.best_ask() if side == "BUY" else book.best_bid()

    def _market_cost(self, market: str, symbol: str, side: str, qty: Decimal) -> Decimal | None:
        """What a market order of ``qty`` would cost in quote, walking the book (None: no book)."""
        book = self.books[(market, symbol)]
        levels = book.depth(Side.SELL if side == "BUY" else Side.BUY, 1000)
        cost = ZERO
        need = qty
        for price, size in levels:
            take = min(need, size)
            cost += take * price
            need -= take
            if not need:
                return cost
        return None if not levels else cost

    # ------------------------------------------------------------------ place

    def place(self, market: str, acct: Account, p: dict[str, str], house: bool = False) -> Order:
        """Validate and commit a new order; match it; return it (``VenueError`` on refusal)."""
        symbol = p.get("symbol", "")
        spec = self.spec(market, symbol)
        side = p.get("side", "")
        otype = p.get("type", "")
        if side not in ("BUY", "SELL"):
            raise VenueError(
                -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed."
            )
        allowed = ("LIMIT", "MARKET", "LIMIT_MAKER") if market == SPOT else ("LIMIT", "MARKET")
        if otype not in allowed:
            raise VenueError(-1116, "Invalid orderType.")
        is_market = otype == "MARKET"
        try:
            qty = Decimal(p["quantity"]) if "quantity" in p else ZERO
            price = Decimal(p["price"]) if "price" in p else ZERO
        except ArithmeticError:
            raise VenueError(-1100, "Illegal characters found in a parameter.") from None
        if market == SPOT and is_market and "quoteOrderQty" in p and qty == 0:
            # Quote-quantity market order: turn it into a base quantity against the book.
            raise VenueError(-1013, "Filter failure: LOT_SIZE")
        if qty <= 0:
            raise VenueError(
                -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."
            )
        if not is_market and price <= 0:
            raise VenueError(
                -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."
            )
        tif = p.get("timeInForce", "GTC")
        if otype == "LIMIT" and "timeInForce" not in p:
            raise VenueError(
                -1102,
                "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
            )
        client_id = p.get("newClientOrderId") or self._generated_client_id(market)
        now = self.now_ms()
        reduce_only = p.get("reduceOnly", "false").lower() == "true"
        position_side = p.get("positionSide", "BOTH").upper()
        o = Order(
            market=market,
            symbol=symbol,
            order_id=0,
            client_id=client_id,
            account=acct.name,
            side=side,
            type=otype,
            tif=tif if not is_market else "GTC",
            price=price if not is_market else ZERO,
            qty=qty,
            time=now,
            update_time=now,
            reduce_only=reduce_only,
            position_side=position_side,
        )
        if not house:
            self.check_filters(market, spec, o, is_market)
            other = self._by_client.get((market, acct.name, client_id))
            if other is not None and other.is_open and other.client_id == client_id:
                if market == SPOT:
                    raise VenueError(-2010, "Duplicate order sent.")
                raise VenueError(-4116, "ClientOrderId is duplicated.")
        post_only = otype == "LIMIT_MAKER" or tif == "GTX"
        if post_only:
            ref = self._reference_price(market, symbol, side)
            if ref is not None and (ref <= price if side == "BUY" else ref >= price):
                if market == SPOT:
                    raise VenueError(-2010, "Order would immediately match and take.")
                raise VenueError(
                    -5022,
                    "Due to the order could not be executed as maker, the Post Only order will be"
                    " rejected. The order will not be recorded in the order history",
                )
        if not house:
            if market == SPOT:
                self._reserve_spot(acct, spec, o, is_market)
            else:
                self._check_futures(acct, spec, o, is_market)
        o.order_id = self._new_order_id()
        o.visible_at = now + int(self.faults.visibility_lag_s * 1000)
        self._index(o)
        self._report(o, "NEW", now)
        if market == SPOT and o.locked:
            asset = spec.quote if side == "BUY" else spec.base
            self._balances_changed(SPOT, acct, {asset}, now)
        self._match(o, spec, is_market, now)
        return o

    def _generated_client_id(self, market: str) -> str:
        self._next_key += 1
        prefix = "web_" if market == SPOT else "web_f"
        return f"{prefix}{self._next_key:018d}"

    def _reserve_spot(self, acct: Account, spec: SymbolSpec, o: Order, is_market: bool) -> None:
        if o.side == "BUY":
            if is_market:
                need = self._market_cost(SPOT, spec.symbol, "BUY", o.qty)
                if need is None:
                    need = ZERO
            else:
                need = o.qty * o.price
            if acct.free(spec.quote) < need:
                raise VenueError(-2010, "Account has insufficient balance for requested action.")
            if not is_market:
                acct.add(spec.quote, -need, need)
                o.locked = need
        else:
            if acct.free(spec.base) < o.qty:
                raise VenueError(-2010, "Account has insufficient balance for requested action.")
            if not is_market:
                acct.add(spec.base, -o.qty, o.qty)
                o.locked = o.qty

    def _check_futures(self, acct: Account, spec: SymbolSpec, o: Order, is_market: bool) -> None:
        if acct.hedge:
            if o.position_side not in ("LONG", "SHORT"):
                raise VenueError(-4061, "Order's position side does not match user's setting.")
            if o.reduce_only:
                raise VenueError(-1106, "Parameter 'reduceOnly' sent when not required.")
        elif o.position_side != "BOTH":
            raise VenueError(-4061, "Order's position side does not match user's setting.")
        pos = acct.positions.get((spec.symbol, o.position_side), Position())
        closing = (
            (o.position_side == "LONG" and o.side == "SELL")
            or (o.position_side == "SHORT" and o.side == "BUY")
            or (o.position_side == "BOTH" and pos.amt != 0 and (pos.amt > 0) == (o.side == "SELL"))
        )
        if o.reduce_only and (not closing or pos.amt == 0):
            raise VenueError(-2022, "ReduceOnly Order is rejected.")
        if closing and abs(pos.amt) >= o.qty:
            return
        ref = o.price if not is_market else self._reference_price(USDM, spec.symbol, o.side)
        if ref is None:
            ref = self.mark_prices.get(spec.symbol, ZERO)
        lev = Decimal(acct.leverage.get(spec.symbol, acct.cfg.default_leverage))
        opening = o.qty - (abs(pos.amt) if closing else ZERO)
        need = opening * ref / lev
        if self.available_margin(acct) < need:
            raise VenueError(-2019, "Margin is insufficient.")

    def available_margin(self, acct: Account) -> Decimal:
        used = ZERO
        for (symbol, _ps), pos in acct.positions.items():
            lev = Decimal(acct.leverage.get(symbol, acct.cfg.default_leverage))
            used += abs(pos.amt) * pos.entry / lev
        for o in self.open_orders(USDM, acct.name, None):
            lev = Decimal(acct.leverage.get(o.symbol, acct.cfg.default_leverage))
            used += o.leaves * o.price / lev
        return acct.wallet.get("USDT", ZERO) - used

    # ------------------------------------------------------------------ matching

    def _match(self, o: Order, spec: SymbolSpec, is_market: bool, now: int) -> None:
        book = self.books[(o.market, o.symbol)]
        tif = {"IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}.get(o.tif, TimeInForce.GTC)
        result = book.submit(
            o.order_id,
            o.account,
            Side.BUY if o.side == "BUY" else Side.SELL,
            o.qty,
            None if is_market else o.price,
            tif,
            False,
            f"o{o.order_id}",  # self-trade prevention NONE, as exchangeInfo says
        )
        for f in result.fills:
            maker = self.orders[(o.market, f.maker_order_id)]
            self._trade(o, maker, f.price, f.qty, now)
        if result.canceled_qty > 0:
            o.status = "EXPIRED"
            o.update_time = now
            self._release(o, now)
            self._report(o, "EXPIRED", now)
        self._book_changed(o.market, o.symbol, now)

    def _trade(self, taker: Order, maker: Order, price: Decimal, qty: Decimal, ts: int) -> None:
        """One match between a taker and a resting maker: both sides booked and reported."""
        trade_id = self._new_trade_id(taker.market, taker.symbol)
        self._fill_side(maker, price, qty, ts, True, trade_id)
        self._fill_side(taker, price, qty, ts, False, trade_id)
        self._public_trade(
            taker.market, taker.symbol, trade_id, price, qty, ts, buyer_maker=maker.side == "BUY"
        )

    def _public_trade(
        self,
        market: str,
        symbol: str,
        trade_id: int,
        price: Decimal,
        qty: Decimal,
        ts: int,
        buyer_maker: bool,
    ) -> None:
        self._next_agg_id += 1
        low = symbol.lower()
        self._emit_market(
            market,
            f"{low}@trade",
            wire.public_trade(market, symbol, trade_id, price, qty, ts, buyer_maker),
        )
        self._emit_market(
            market,
            f"{low}@aggTrade",
            wire.agg_trade(
                market, symbol, self._next_agg_id, trade_id, price, qty, ts, buyer_maker
            ),
        )
        stats = self.day_stats.setdefault(
            (market, symbol), [price, price, price, price, ZERO, ZERO, 0]
        )
        stats[1] = max(stats[1], price)
        stats[2] = min(stats[2], price)
        stats[3] = price
        stats[4] += qty
        stats[5] += qty * price
        stats[6] += 1
        book = self.books[(market, symbol)]
        self._emit_market(
            market, f"{low}@ticker", wire.ticker_24h(market, symbol, stats, book, ts, trade_id)
        )
        self._emit_market(market, f"{low}@miniTicker", wire.mini_ticker(symbol, stats, ts))

    def _fill_side(
        self, o: Order, price: Decimal, qty: Decimal, ts: int, maker: bool, trade_id: int
    ) -> Trade:
        o.executed += qty
        o.cum_quote += qty * price
        o.status = "FILLED" if o.executed >= o.qty else "PARTIALLY_FILLED"
        o.update_time = ts
        spec = self.spec(o.market, o.symbol)
        trade = Trade(
            market=o.market,
            symbol=o.symbol,
            trade_id=trade_id,
            order_id=o.order_id,
            account=o.account,
            side=o.side,
            price=price,
            qty=qty,
            commission=ZERO,
            commission_asset="",
            time=ts,
            maker=maker,
            position_side=o.position_side,
        )
        if o.account != HOUSE:
            acct = self.accounts[o.account]
            if o.market == SPOT:
                assets = self._settle_spot(acct, spec, o, trade)
            else:
                assets = self._settle_futures(acct, spec, o, trade)
            self.trades.append(trade)
            self._report(o, "TRADE", ts, trade)
            self._balances_changed(o.market, acct, assets, ts)
        return trade

    def _fee(
        self, acct: Account, market: str, trade: Trade, fallback_asset: str, fallback_amt: Decimal
    ) -> None:
        cfg = acct.cfg
        if market == SPOT:
            rate = cfg.spot_maker if trade.maker else cfg.spot_taker
        else:
            rate = cfg.futures_maker if trade.maker else cfg.futures_taker
        quote_fee = trade.qty * trade.price * rate
        if cfg.bnb_fees and self.bnb_price > 0:
            bnb = (quote_fee / self.bnb_price).quantize(_EIGHT, ROUND_DOWN)
            have = acct.free("BNB") if market == SPOT else acct.wallet.get("BNB", ZERO)
            if bnb > 0 and have >= bnb:
                trade.commission, trade.commission_asset = bnb, "BNB"
                return
        trade.commission = (fallback_amt * rate).quantize(_EIGHT, ROUND_DOWN)
        trade.commission_asset = fallback_asset

    def _settle_spot(self, acct: Account, spec: SymbolSpec, o: Order, t: Trade) -> set[str]:
        quote_amt = t.qty * t.price
        if o.side == "BUY":
            self._fee(acct, SPOT, t, spec.base, t.qty)
            if o.type == "MARKET":
                acct.add(spec.quote, -quote_amt)
            else:
                reserved = t.qty * o.price
                acct.add(spec.quote, reserved - quote_amt, -reserved)
                o.locked -= reserved
            got = t.qty - (t.commission if t.commission_asset == spec.base else ZERO)
            acct.add(spec.base, got)
        else:
            self._fee(acct, SPOT, t, spec.quote, quote_amt)
            if o.type == "MARKET":
                acct.add(spec.base, -t.qty)
            else:
                acct.add(spec.base, ZERO, -t.qty)
                o.locked -= t.qty
            got = quote_amt - (t.commission if t.commission_asset == spec.quote else ZERO)
            acct.add(spec.quote, got)
        if t.commission_asset == "BNB":
            acct.add("BNB", -t.commission)
        return {spec.base, spec.quote, t.commission_asset}

    def _settle_futures(self, acct: Account, spec: SymbolSpec, o: Order, t: Trade) -> set[str]:
        self._fee(acct, USDM, t, "USDT", t.qty * t.price)
        key = (spec.symbol, o.position_side)
        pos = acct.positions.setdefault(key, Position())
        delta = t.qty if o.side == "BUY" else -t.qty
        rp = ZERO
        if pos.amt == 0 or (pos.amt > 0) == (delta > 0):
            new_amt = pos.amt + delta
            pos.entry = (abs(pos.amt) * pos.entry + t.qty * t.price) / abs(new_amt)
            pos.amt = new_amt
        else:
            closing = min(abs(delta), abs(pos.amt))
            sign = Decimal(1) if pos.amt > 0 else Decimal(-1)
            rp = closing * (t.price - pos.entry) * sign
            rest = abs(delta) - closing
            pos.amt += delta
            if pos.amt == 0:
                pos.entry = ZERO
            elif rest > 0:
                pos.entry = t.price
        pos.update_time = t.time
        t.realized_pnl = rp
        acct.wallet["USDT"] = acct.wallet.get("USDT", ZERO) + rp
        if t.commission_asset == "BNB":
            acct.wallet["BNB"] = acct.wallet.get("BNB", ZERO) - t.commission
        else:
            acct.wallet["USDT"] -= t.commission
        return {"USDT", t.commission_asset}

    def _release(self, o: Order, ts: int) -> None:
        """Give back a spot order's locked funds when it leaves the book without filling."""
        if o.market != SPOT or not o.locked or o.account == HOUSE:
            return
        acct = self.accounts[o.account]
        spec = self.spec(SPOT, o.symbol)
        asset = spec.quote if o.side == "BUY" else spec.base
        acct.add(asset, o.locked, -o.locked)
        o.locked = ZERO
        self._balances_changed(SPOT, acct, {asset}, ts)

    # ------------------------------------------------------------------ cancel, amend

    def cancel(self, o: Order, new_client_id: str | None = None) -> Order:
        if not o.is_open:
            raise VenueError(-2011, "Unknown order sent.")
        if self.faults.cancel_races_fill > 0:
            self.faults.cancel_races_fill -= 1
            self.fill(o, o.leaves)
            raise VenueError(-2011, "Unknown order sent.")
        now = self.now_ms()
        self.books[(o.market, o.symbol)].cancel(o.order_id)
        o.status = "CANCELED"
        o.update_time = now
        if o.market == SPOT:
            o.cancel_client_id = new_client_id or self._generated_client_id(SPOT)
        self._report(o, "CANCELED", now)
        self._release(o, now)
        self._book_changed(o.market, o.symbol, now)
        return o

    def amend_spot_keep_priority(
        self, o: Order, new_qty: Decimal, new_client_id: str | None
    ) -> Order:
        """``PUT /api/v3/order/amend/keepPriority``: quantity down only, queue place kept."""
        if not o.is_open:
            raise VenueError(-2038, "Unknown order sent.")
        if new_qty >= o.qty:
            raise VenueError(-2038, "Order amend (quantity increase) is not supported.")
        if new_qty <= o.executed:
            return self.cancel(o)
        now = self.now_ms()
        spec = self.spec(SPOT, o.symbol)
        self.books[(SPOT, o.symbol)].modify(o.order_id, new_qty - o.executed, o.price)
        acct = self.accounts[o.account]
        give = (o.qty - new_qty) * (o.price if o.side == "BUY" else Decimal(1))
        asset = spec.quote if o.side == "BUY" else spec.base
        acct.add(asset, give, -give)
        o.locked -= give
        o.qty = new_qty
        o.orig_client_id = o.client_id
        if new_client_id:
            o.client_id = new_client_id
            self._by_client[(SPOT, o.account, new_client_id)] = o
        o.update_time = now
        self._report(o, "REPLACED", now)
        self._balances_changed(SPOT, acct, {asset}, now)
        return o

    def modify_futures(self, o: Order, new_qty: Decimal, new_price: Decimal) -> Order:
        """``PUT /fapi/v1/order``: a new price and/or quantity, same order id."""
        if not o.is_open:
            raise VenueError(-2013, "Order does not exist.")
        spec = self.spec(USDM, o.symbol)
        probe = Order(
            USDM, o.symbol, 0, o.client_id, o.account, o.side, "LIMIT", o.tif, new_price, new_qty, 0
        )
        self.check_filters(USDM, spec, probe, False)
        if new_qty <= o.executed:
            raise VenueError(-4005, "Quantity greater than max quantity.")
        if new_qty == o.qty and new_price == o.price:
            raise VenueError(-5027, "No need to modify the order.")
        now = self.now_ms()
        book = self.books[(USDM, o.symbol)]
        book.cancel(o.order_id)
        o.qty = new_qty
        o.price = new_price
        o.update_time = now
        self._report(o, "AMENDMENT", now)
        self._match_resting(o, spec, now)
        return o

    def _match_resting(self, o: Order, spec: SymbolSpec, now: int) -> None:
        """Re-enter a (modified) order's leaves into its book."""
        book = self.books[(o.market, o.symbol)]
        side = Side.BUY if o.side == "BUY" else Side.SELL
        result = book.submit(
            o.order_id, o.account, side, o.leaves, o.price, stp_key=f"o{o.order_id}"
        )
        for f in result.fills:
            maker = self.orders[(o.market, f.maker_order_id)]
            self._trade(o, maker, f.price, f.qty, now)
        self._book_changed(o.market, o.symbol, now)

    # ------------------------------------------------------------------ knobs: liquidity, fills

    def house_quote(
        self, market: str, symbol: str, side: str, price: Decimal | str, qty: Decimal | str
    ) -> Order:
        """Rest (or match) liquidity from the house account, which has no balances to check."""
        house = self.accounts.get(HOUSE)
        if house is None:
            house = self.add_account(AccountConfig(name=HOUSE, api_key="", secret=""))
        params = {
            "symbol": symbol,
            "side": side,
            "type": "LIMIT",
            "timeInForce": "GTC",
            "price": str(price),
            "quantity": str(qty),
        }
        return self.place(market, house, params, house=True)

    def fill(
        self,
        o: Order,
        qty: Decimal | str,
        price: Decimal | str | None = None,
        ts: int | None = None,
    ) -> Trade:
        """Fill a resting order now (the counterparty is the house), at its price by default."""
        qty = Decimal(qty)
        px = o.price if price is None else Decimal(price)
        if not o.is_open or qty <= 0 or qty > o.leaves:
            raise ValueError(
                f"cannot fill {qty} of order {o.order_id} ({o.status}, leaves {o.leaves})"
            )
        now = self.now_ms() if ts is None else ts
        book = self.books[(o.market, o.symbol)]
        if qty == o.leaves:
            book.cancel(o.order_id)
        else:
            book.modify(o.order_id, o.leaves - qty, o.price)
        trade_id = self._new_trade_id(o.market, o.symbol)
        trade = self._fill_side(o, px, qty, now, True, trade_id)
        if o.status == "FILLED":
            self._release(o, now)
        self._public_trade(o.market, o.symbol, trade_id, px, qty, now, buyer_maker=o.side == "BUY")
        self._book_changed(o.market, o.symbol, now)
        return trade

    def fill_in_parts(
        self, o: Order, parts: list[Decimal | str], price: Decimal | str | None = None
    ) -> list[Trade]:
        """Several fills of one order with the same transaction time ``T`` (one millisecond)."""
        ts = self.now_ms()
        return [self.fill(o, q, price, ts) for q in parts]

    def place_external(self, market: str, account: str, params: dict[str, str]) -> Order:
        """An order placed outside the client (the web UI): Binance makes its client id."""
        p = dict(params)
        p.setdefault("timeInForce", "GTC")
        p.pop("newClientOrderId", None)
        return self.place(market, self.accounts[account], p)

    def seed_old_position(
        self,
        account: str,
        symbol: str,
        qty: Decimal | str,
        price: Decimal | str,
        age_ms: int,
        market: str = USDM,
        position_side: str = "BOTH",
    ) -> Trade:
        """A position opened ``age_ms`` ago, with its one trade dated then (outside the window).

        Futures: the position leg gets ``qty`` (signed) at ``price``. Spot: ``qty`` base is
        credited and ``qty * price`` quote debited.
        """
        acct = self.accounts[account]
        qty, price = Decimal(qty), Decimal(price)
        ts = self.now_ms() - age_ms
        spec = self.spec(market, symbol)
        side = "BUY" if qty > 0 else "SELL"
        order_id = self._new_order_id()
        o = Order(
            market,
            symbol,
            order_id,
            self._generated_client_id(market),
            account,
            side,
            "MARKET",
            "GTC",
            ZERO,
            abs(qty),
            ts,
        )
        o.executed, o.cum_quote, o.status, o.update_time = abs(qty), abs(qty) * price, "FILLED", ts
        o.position_side = position_side
        self.orders[(market, order_id)] = o
        self._by_client[(market, account, o.client_id)] = o
        trade = Trade(
            market,
            symbol,
            self._new_trade_id(market, symbol),
            order_id,
            account,
            side,
            price,
            abs(qty),
            ZERO,
            "USDT",
            ts,
            False,
            position_side=position_side,
        )
        self.trades.append(trade)
        if market == USDM:
            acct.positions[(symbol, position_side)] = Position(qty, price, ts)
        else:
            acct.add(spec.base, qty)
            acct.add(spec.quote, -qty * price)
        return trade

    def set_mark_price(self, symbol: str, price: Decimal | str) -> None:
        self.mark_prices[symbol] = Decimal(price)
        self._emit_market(
            USDM,
            f"{symbol.lower()}@markPrice",
            wire.mark_price(symbol, Decimal(price), self.now_ms()),
        )

    # ------------------------------------------------------------------ queries

    def visible(self, o: Order) -> bool:
        return self.now_ms() >= o.visible_at

    def account_trades(
        self, market: str, account: str, symbol: str, p: dict[str, str]
    ) -> list[Trade]:
        window = self.faults.trade_history_ms
        horizon = self.now_ms() - window if window is not None else None
        out = [
            t
            for t in self.trades
            if t.market == market
            and t.account == account
            and t.symbol == symbol
            and (horizon is None or t.time >= horizon)
        ]
        if "orderId" in p:
            out = [t for t in out if t.order_id == int(p["orderId"])]
        if "startTime" in p:
            out = [t for t in out if t.time >= int(p["startTime"])]
        if "endTime" in p:
            out = [t for t in out if t.time <= int(p["endTime"])]
        if "fromId" in p:
            out = [t for t in out if t.trade_id >= int(p["fromId"])]
        limit = int(p.get("limit", "500"))
        return out[-limit:] if "fromId" not in p else out[:limit]

    # ------------------------------------------------------------------ futures settings, listenKey

    def new_listen_key(self, acct: Account) -> str:
        now = self.now_ms()
        if acct.listen_key is None or now >= acct.listen_key_expires:
            self._next_key += 1
            acct.listen_key = f"lk{self._next_key:06d}{acct.name}".ljust(60, "x")[:60]
        acct.listen_key_expires = now + self.listen_key_ttl_ms
        return acct.listen_key

    def keep_alive(self, acct: Account) -> str:
        if acct.listen_key is None or self.now_ms() >= acct.listen_key_expires:
            acct.listen_key = None
            raise VenueError(-1125, "This listenKey does not exist.")
        acct.listen_key_expires = self.now_ms() + self.listen_key_ttl_ms
        return acct.listen_key

    def account_for_listen_key(self, key: str) -> Account | None:
        for acct in self.accounts.values():
            if acct.listen_key == key and self.now_ms() < acct.listen_key_expires:
                return acct
        return None
