"""The fake venue's state: stores, ids, clock, events out and read-only queries (incl. margin).

``VenueState`` is the base of ``FakeVenue`` (``venue.py``): it declares every attribute the
venue keeps; ``Funds`` (``funds.py``) and ``Trading`` (``trading.py``) build on it.

Time is the server's clock: ``now_ms()`` is real time plus ``faults.clock_offset_ms``.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from atlas_oms.fakes.binance import books, wire
from atlas_oms.fakes.binance.config import (
    SPOT,
    USDM,
    AccountConfig,
    Faults,
    Limits,
    SymbolSpec,
    default_symbols,
)
from atlas_oms.fakes.binance.records import (
    HOUSE,
    ZERO,
    Account,
    MarketListener,
    Order,
    Trade,
    UserListener,
    VenueError,
)
from atlas_oms.matching import OrderBook
from atlas_oms.model.enums import Side


class VenueState:
    """The venue's stores over one clock; no order flow here (see ``trading.py``)."""

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
        #: The public order book's update ids and last published levels (``books.py``).
        self.book_feed = books.BookFeed()
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

    def _generated_client_id(self, market: str) -> str:
        self._next_key += 1
        prefix = "web_" if market == SPOT else "web_f"
        return f"{prefix}{self._next_key:018d}"

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

    def balances_changed(self, market: str, acct: Account, assets: set[str], ts: int) -> None:
        """Push ``acct``'s balance event for ``assets`` (something outside trading moved them:
        a sub-account transfer)."""
        self._balances_changed(market, acct, assets, ts)

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
        for stream, payload in books.book_changed(self, self.book_feed, market, symbol, ts):
            self._emit_market(market, stream, payload)

    # ------------------------------------------------------------------ book prices

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

    def available_margin(self, acct: Account) -> Decimal:
        used = ZERO
        for (symbol, _ps), pos in acct.positions.items():
            lev = Decimal(acct.leverage.get(symbol, acct.cfg.default_leverage))
            used += abs(pos.amt) * pos.entry / lev
        for o in self.open_orders(USDM, acct.name, None):
            lev = Decimal(acct.leverage.get(o.symbol, acct.cfg.default_leverage))
            used += o.leaves * o.price / lev
        return acct.wallet.get("USDT", ZERO) - used

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
