"""The fake Binance's venue: accounts, books, orders, trades, fees, positions, and the knobs.

No I/O here: the server (``server.py``) parses requests, calls these methods and serialises the
results; user-stream and market events go to the listeners registered in ``user_listeners`` and
``market_listeners`` as wire-shaped dicts (``wire.py``).

``FakeVenue`` is built in layers: ``VenueState`` (``venue_state.py``: stores, ids, clock, events
out, queries, listen keys), ``Funds`` (``funds.py``: reservations, margin, fees, settlement),
``Trading`` (``trading.py``: validation, placing, matching, fills, cancels, amends), and here the
knobs that act on state. The records (``Order``, ``Trade``, ``Position``, ``Account``,
``VenueError``) live in ``records.py`` and are importable from here as before.

Time is the server's clock: ``now_ms()`` is real time plus ``faults.clock_offset_ms``.
"""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.fakes.binance import wire
from atlas_oms.fakes.binance.config import USDM, AccountConfig
from atlas_oms.fakes.binance.records import (
    HOUSE,
    ZERO,
    Account,
    MarketListener,
    Order,
    Position,
    Trade,
    UserListener,
    VenueError,
)
from atlas_oms.fakes.binance.trading import Trading

__all__ = [
    "HOUSE",
    "ZERO",
    "Account",
    "FakeVenue",
    "MarketListener",
    "Order",
    "Position",
    "Trade",
    "UserListener",
    "VenueError",
]


class FakeVenue(Trading):
    """Both Binance dialects over one clock: spot (``/api/v3``) and USDⓈ-M (``/fapi``)."""

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
