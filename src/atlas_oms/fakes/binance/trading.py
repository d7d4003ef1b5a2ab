"""The fake venue's order flow: validation, placing, matching (Atlas's ``OrderBook``), fills,
cancels and amends, for both markets.

``Trading`` builds on ``Funds`` (``funds.py``); ``FakeVenue`` (``venue.py``) adds the knobs.
"""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.fakes.binance import wire
from atlas_oms.fakes.binance.config import SPOT, USDM, SymbolSpec
from atlas_oms.fakes.binance.funds import Funds
from atlas_oms.fakes.binance.records import HOUSE, ZERO, Account, Order, Trade, VenueError
from atlas_oms.model.enums import Side, TimeInForce


class Trading(Funds):
    """Orders in and out of the books, and the trades they make."""

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

    def _iceberg_qty(self, market: str, spec: SymbolSpec, o: Order, raw: str) -> Decimal:
        """An order's ``icebergQty``, refused as Binance refuses it: not on USDⓈ-M, not where
        the symbol disallows it, only on a GTC LIMIT or a LIMIT_MAKER, below the quantity, on
        the LOT_SIZE grid and in at most ICEBERG_PARTS parts."""
        if market != SPOT:
            raise VenueError(-1106, "Parameter 'icebergQty' sent when not required.")
        try:
            shown = Decimal(raw)
        except ArithmeticError:
            raise VenueError(-1100, "Illegal characters found in a parameter.") from None
        if not shown.is_finite():
            raise VenueError(-1100, "Illegal characters found in a parameter.")
        if shown == 0:
            return ZERO  # icebergQty=0: an ordinary order
        if not spec.iceberg_allowed:
            raise VenueError(-2010, "Iceberg orders are not supported for this symbol.")
        if o.type == "MARKET" or (o.type == "LIMIT" and o.tif != "GTC"):
            raise VenueError(-2010, "Unsupported order combination")
        if shown >= o.qty:
            raise VenueError(-2010, "IcebergQty exceeds QTY.")
        if shown < 0 or shown % spec.step != 0 or shown < spec.min_qty:
            raise VenueError(-1013, "Filter failure: LOT_SIZE")
        if -(-o.qty // shown) > spec.iceberg_parts:
            raise VenueError(-1013, "Filter failure: ICEBERG_PARTS")
        return shown

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
        if "icebergQty" in p:
            o.iceberg_qty = self._iceberg_qty(market, spec, o, p["icebergQty"])
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
            o.iceberg_qty or None,  # an iceberg shows only icebergQty, refilled as it fills
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
