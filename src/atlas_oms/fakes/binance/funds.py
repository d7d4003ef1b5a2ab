"""The fake venue's money: spot reservations, futures margin, fees and settlement of trades.

``Funds`` builds on ``VenueState`` (``venue_state.py``); ``Trading`` (``trading.py``) calls it
when an order is placed, filled or leaves the book.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from atlas_oms.fakes.binance.config import SPOT, USDM, SymbolSpec
from atlas_oms.fakes.binance.records import HOUSE, ZERO, Account, Order, Position, Trade, VenueError
from atlas_oms.fakes.binance.venue_state import VenueState

_EIGHT = Decimal("0.00000001")


class Funds(VenueState):
    """Balances and positions: what an order reserves or needs, what a trade books."""

    # ------------------------------------------------------------------ reserve and check

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

    # ------------------------------------------------------------------ fees and settlement

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
