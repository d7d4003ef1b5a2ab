"""Binance's JSON shapes: every answer and event the fake sends is built here.

Shapes follow the official docs (the fixture files in ``fixtures/`` name the page each imitates;
``tests/fakes/binance/test_wire.py`` checks these builders produce exactly the fixture's keys).
Numbers are strings as Binance sends them: spot with 8 decimals, futures at the symbol's
precision.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.fakes.binance.config import SPOT, USDM, SymbolSpec

if TYPE_CHECKING:
    from atlas_oms.fakes.binance.venue import Account, FakeVenue, Order, Trade
    from atlas_oms.matching import OrderBook

ZERO = Decimal(0)


def s8(value: Decimal) -> str:
    """Spot number: 8 decimals."""
    return f"{value:.8f}"


def fnum(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def _fp(spec: SymbolSpec, value: Decimal) -> str:
    return fnum(value, spec.price_precision)


def _fq(spec: SymbolSpec, value: Decimal) -> str:
    return fnum(value, spec.qty_precision)


def _avg(o: Order) -> Decimal:
    return o.cum_quote / o.executed if o.executed else ZERO


# ---------------------------------------------------------------------- spot REST


def spot_order_result(o: Order, transact_time: int) -> dict[str, Any]:
    """``POST /api/v3/order`` with ``newOrderRespType=RESULT``."""
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_id,
        "transactTime": transact_time,
        "price": s8(o.price),
        "origQty": s8(o.qty),
        "executedQty": s8(o.executed),
        "origQuoteOrderQty": s8(ZERO),
        "cummulativeQuoteQty": s8(o.cum_quote),
        "status": o.status,
        "timeInForce": o.tif,
        "type": o.type,
        "side": o.side,
        "workingTime": o.time,
        "selfTradePreventionMode": "NONE",
    }


def spot_order_ack(o: Order, transact_time: int) -> dict[str, Any]:
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_id,
        "transactTime": transact_time,
    }


def spot_order_full(o: Order, transact_time: int, fills: list[Trade]) -> dict[str, Any]:
    out = spot_order_result(o, transact_time)
    out["fills"] = [
        {
            "price": s8(t.price),
            "qty": s8(t.qty),
            "commission": s8(t.commission),
            "commissionAsset": t.commission_asset,
            "tradeId": t.trade_id,
        }
        for t in fills
    ]
    return out


def spot_cancel(o: Order, transact_time: int) -> dict[str, Any]:
    """``DELETE /api/v3/order``."""
    return {
        "symbol": o.symbol,
        "origClientOrderId": o.client_id,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.cancel_client_id,
        "transactTime": transact_time,
        "price": s8(o.price),
        "origQty": s8(o.qty),
        "executedQty": s8(o.executed),
        "origQuoteOrderQty": s8(ZERO),
        "cummulativeQuoteQty": s8(o.cum_quote),
        "status": o.status,
        "timeInForce": o.tif,
        "type": o.type,
        "side": o.side,
        "selfTradePreventionMode": "NONE",
    }


def spot_order(o: Order) -> dict[str, Any]:
    """``GET /api/v3/order``, ``openOrders``, ``allOrders``."""
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_id,
        "price": s8(o.price),
        "origQty": s8(o.qty),
        "executedQty": s8(o.executed),
        "cummulativeQuoteQty": s8(o.cum_quote),
        "status": o.status,
        "timeInForce": o.tif,
        "type": o.type,
        "side": o.side,
        "stopPrice": s8(ZERO),
        "icebergQty": s8(ZERO),
        "time": o.time,
        "updateTime": o.update_time,
        "isWorking": True,
        "workingTime": o.time,
        "origQuoteOrderQty": s8(ZERO),
        "selfTradePreventionMode": "NONE",
    }


def spot_amended(o: Order, transact_time: int, execution_id: int) -> dict[str, Any]:
    """``PUT /api/v3/order/amend/keepPriority``."""
    return {
        "transactTime": transact_time,
        "executionId": execution_id,
        "amendedOrder": {
            "symbol": o.symbol,
            "orderId": o.order_id,
            "orderListId": -1,
            "origClientOrderId": o.orig_client_id,
            "clientOrderId": o.client_id,
            "price": s8(o.price),
            "qty": s8(o.qty),
            "executedQty": s8(o.executed),
            "preventedQty": s8(ZERO),
            "quoteOrderQty": s8(ZERO),
            "cumulativeQuoteQty": s8(o.cum_quote),
            "status": o.status,
            "timeInForce": o.tif,
            "type": o.type,
            "side": o.side,
            "workingTime": o.time,
            "selfTradePreventionMode": "NONE",
        },
    }


def spot_trade(t: Trade) -> dict[str, Any]:
    """``GET /api/v3/myTrades`` element."""
    return {
        "symbol": t.symbol,
        "id": t.trade_id,
        "orderId": t.order_id,
        "orderListId": -1,
        "price": s8(t.price),
        "qty": s8(t.qty),
        "quoteQty": s8(t.price * t.qty),
        "commission": s8(t.commission),
        "commissionAsset": t.commission_asset,
        "time": t.time,
        "isBuyer": t.side == "BUY",
        "isMaker": t.maker,
        "isBestMatch": True,
    }


def spot_account(acct: Account) -> dict[str, Any]:
    """``GET /api/v3/account``."""
    cfg = acct.cfg
    return {
        "makerCommission": int(cfg.spot_maker * 10000),
        "takerCommission": int(cfg.spot_taker * 10000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": s8(cfg.spot_maker),
            "taker": s8(cfg.spot_taker),
            "buyer": s8(ZERO),
            "seller": s8(ZERO),
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": acct.update_time,
        "accountType": "SPOT",
        "balances": [
            {"asset": asset, "free": s8(row[0]), "locked": s8(row[1])}
            for asset, row in sorted(acct.spot.items())
        ],
        "permissions": ["SPOT"],
        "uid": 354937868 + abs(hash(acct.name)) % 1000,
    }


def _filters(spec: SymbolSpec, market: str) -> list[dict[str, Any]]:
    num = s8 if market == SPOT else (lambda d: f"{d.normalize():f}")
    price_filter = {
        "filterType": "PRICE_FILTER",
        "minPrice": num(spec.min_price),
        "maxPrice": num(spec.max_price),
        "tickSize": num(spec.tick),
    }
    lot = {
        "filterType": "LOT_SIZE",
        "minQty": num(spec.min_qty),
        "maxQty": num(spec.max_qty),
        "stepSize": num(spec.step),
    }
    market_lot = dict(lot, filterType="MARKET_LOT_SIZE")
    if market == SPOT:
        notional: dict[str, Any] = {
            "filterType": "NOTIONAL",
            "minNotional": num(spec.min_notional),
            "applyMinToMarket": True,
            "maxNotional": "9000000.00000000",
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        }
        return [
            price_filter,
            lot,
            market_lot,
            notional,
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ]
    return [
        price_filter,
        lot,
        market_lot,
        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
        {"filterType": "MIN_NOTIONAL", "notional": num(spec.min_notional)},
        {
            "filterType": "PERCENT_PRICE",
            "multiplierUp": "1.0500",
            "multiplierDown": "0.9500",
            "multiplierDecimal": "4",
        },
    ]


def rate_limits(venue: FakeVenue, market: str) -> list[dict[str, Any]]:
    lim = venue.limits
    out = [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": lim.weight_per_window,
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": lim.orders_per_10s,
        },
    ]
    if market == SPOT:
        out.append(
            {
                "rateLimitType": "ORDERS",
                "interval": "DAY",
                "intervalNum": 1,
                "limit": lim.orders_per_day,
            }
        )
    else:
        out.append(
            {
                "rateLimitType": "ORDERS",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": lim.orders_per_minute,
            }
        )
    return out


def spot_exchange_info(venue: FakeVenue) -> dict[str, Any]:
    """``GET /api/v3/exchangeInfo``."""
    symbols = []
    for spec in venue.symbols[SPOT].values():
        symbols.append(
            {
                "symbol": spec.symbol,
                "status": "TRADING",
                "baseAsset": spec.base,
                "baseAssetPrecision": 8,
                "quoteAsset": spec.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                "icebergAllowed": False,
                "ocoAllowed": False,
                "otoAllowed": False,
                "opoAllowed": False,
                "quoteOrderQtyMarketAllowed": False,
                "allowTrailingStop": False,
                "cancelReplaceAllowed": True,
                "amendAllowed": True,
                "pegInstructionsAllowed": False,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": _filters(spec, SPOT),
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "NONE",
                "allowedSelfTradePreventionModes": ["NONE"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": venue.now_ms(),
        "rateLimits": rate_limits(venue, SPOT),
        "exchangeFilters": [],
        "symbols": symbols,
    }


# ---------------------------------------------------------------------- futures REST


def futures_order(venue: FakeVenue, o: Order, query: bool = False) -> dict[str, Any]:
    """USDⓈ-M order: the New-Order shape (also cancel and modify answers), or with ``query``
    the Query-Order shape (``GET order``, ``openOrder``, ``openOrders``, ``allOrders``)."""
    spec = venue.spec(USDM, o.symbol)
    out: dict[str, Any] = {
        "clientOrderId": o.client_id,
        "cumQty": _fq(spec, o.executed),
        "cumQuote": fnum(o.cum_quote, spec.price_precision + spec.qty_precision),
        "executedQty": _fq(spec, o.executed),
        "orderId": o.order_id,
        "avgPrice": _fp(spec, _avg(o)),
        "origQty": _fq(spec, o.qty),
        "price": _fp(spec, o.price),
        "reduceOnly": o.reduce_only,
        "side": o.side,
        "positionSide": o.position_side,
        "status": o.status,
        "stopPrice": "0",
        "closePosition": False,
        "symbol": o.symbol,
        "time": o.time,
        "timeInForce": o.tif,
        "type": o.type,
        "origType": o.type,
        "updateTime": o.update_time,
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
    }
    del out["cumQty" if query else "time"]
    return out


def futures_trade(venue: FakeVenue, t: Trade) -> dict[str, Any]:
    """``GET /fapi/v1/userTrades`` element."""
    spec = venue.spec(USDM, t.symbol)
    return {
        "buyer": t.side == "BUY",
        "commission": s8(t.commission),
        "commissionAsset": t.commission_asset,
        "id": t.trade_id,
        "maker": t.maker,
        "orderId": t.order_id,
        "price": _fp(spec, t.price),
        "qty": _fq(spec, t.qty),
        "quoteQty": fnum(t.price * t.qty, spec.price_precision + spec.qty_precision),
        "realizedPnl": s8(t.realized_pnl),
        "side": t.side,
        "positionSide": t.position_side,
        "symbol": t.symbol,
        "time": t.time,
    }


def _position_rows(venue: FakeVenue, acct: Account) -> list[tuple[str, str, Any]]:
    """Every (symbol, positionSide, Position) the account shows: both legs in hedge mode."""
    from atlas_oms.fakes.binance.venue import Position

    sides = ("LONG", "SHORT") if acct.hedge else ("BOTH",)
    rows = []
    for symbol in venue.symbols[USDM]:
        for ps in sides:
            rows.append((symbol, ps, acct.positions.get((symbol, ps), Position())))
    return rows


def _unrealized(venue: FakeVenue, symbol: str, pos: Any) -> Decimal:
    mark = venue.mark_prices.get(symbol, pos.entry)
    return (mark - pos.entry) * pos.amt if pos.amt else ZERO


def position_risk_v3(venue: FakeVenue, acct: Account, symbol: str | None) -> list[dict[str, Any]]:
    """``GET /fapi/v3/positionRisk``: only symbols with a position (or open orders)."""
    out = []
    open_symbols = {o.symbol for o in venue.open_orders(USDM, acct.name, None)}
    for sym, ps, pos in _position_rows(venue, acct):
        if symbol is not None and sym != symbol:
            continue
        if pos.amt == 0 and sym not in open_symbols:
            continue
        mark = venue.mark_prices.get(sym, pos.entry)
        lev = Decimal(acct.leverage.get(sym, acct.cfg.default_leverage))
        notional = pos.amt * mark
        im = abs(notional) / lev
        out.append(
            {
                "symbol": sym,
                "positionSide": ps,
                "positionAmt": f"{pos.amt.normalize():f}" if pos.amt else "0",
                "entryPrice": f"{pos.entry.normalize():f}" if pos.entry else "0.0",
                "breakEvenPrice": f"{pos.entry.normalize():f}" if pos.entry else "0.0",
                "markPrice": s8(mark),
                "unRealizedProfit": s8(_unrealized(venue, sym, pos)),
                "liquidationPrice": "0",
                "isolatedMargin": "0",
                "notional": s8(notional),
                "marginAsset": "USDT",
                "isolatedWallet": "0",
                "initialMargin": s8(im),
                "maintMargin": s8(abs(notional) * Decimal("0.004")),
                "positionInitialMargin": s8(im),
                "openOrderInitialMargin": "0",
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
                "updateTime": pos.update_time,
            }
        )
    return out


def futures_account_v3(venue: FakeVenue, acct: Account) -> dict[str, Any]:
    """``GET /fapi/v3/account`` (what ccxt's ``fetch_balance`` reads)."""
    assets = []
    upnl = sum((_unrealized(venue, s, p) for s, _ps, p in _position_rows(venue, acct)), ZERO)
    avail = venue.available_margin(acct)
    for asset, wallet in sorted(acct.wallet.items()):
        un = upnl if asset == "USDT" else ZERO
        av = avail if asset == "USDT" else wallet
        assets.append(
            {
                "asset": asset,
                "walletBalance": s8(wallet),
                "unrealizedProfit": s8(un),
                "marginBalance": s8(wallet + un),
                "maintMargin": s8(ZERO),
                "initialMargin": s8(wallet - av if asset == "USDT" else ZERO),
                "positionInitialMargin": s8(ZERO),
                "openOrderInitialMargin": s8(ZERO),
                "crossWalletBalance": s8(wallet),
                "crossUnPnl": s8(un),
                "availableBalance": s8(av),
                "maxWithdrawAmount": s8(av),
                "updateTime": acct.update_time or 1,
            }
        )
    positions = []
    for sym, ps, pos in _position_rows(venue, acct):
        if pos.amt == 0:
            continue
        mark = venue.mark_prices.get(sym, pos.entry)
        positions.append(
            {
                "symbol": sym,
                "positionSide": ps,
                "positionAmt": f"{pos.amt.normalize():f}",
                "unrealizedProfit": s8(_unrealized(venue, sym, pos)),
                "isolatedMargin": "0.00000000",
                "notional": s8(pos.amt * mark),
                "isolatedWallet": "0",
                "initialMargin": s8(ZERO),
                "maintMargin": s8(ZERO),
                "updateTime": pos.update_time,
            }
        )
    usdt = acct.wallet.get("USDT", ZERO)
    return {
        "totalInitialMargin": s8(usdt - avail),
        "totalMaintMargin": s8(ZERO),
        "totalWalletBalance": s8(usdt),
        "totalUnrealizedProfit": s8(upnl),
        "totalMarginBalance": s8(usdt + upnl),
        "totalPositionInitialMargin": s8(ZERO),
        "totalOpenOrderInitialMargin": s8(ZERO),
        "totalCrossWalletBalance": s8(usdt),
        "totalCrossUnPnl": s8(upnl),
        "availableBalance": s8(avail),
        "maxWithdrawAmount": s8(avail),
        "assets": assets,
        "positions": positions,
    }


def futures_balance(venue: FakeVenue, acct: Account) -> list[dict[str, Any]]:
    """``GET /fapi/v2/balance`` (and v3)."""
    avail = venue.available_margin(acct)
    return [
        {
            "accountAlias": "SgsR",
            "asset": asset,
            "balance": s8(wallet),
            "crossWalletBalance": s8(wallet),
            "crossUnPnl": s8(ZERO),
            "availableBalance": s8(avail if asset == "USDT" else wallet),
            "maxWithdrawAmount": s8(avail if asset == "USDT" else wallet),
            "marginAvailable": True,
            "updateTime": acct.update_time or 1,
        }
        for asset, wallet in sorted(acct.wallet.items())
    ]


def leverage_brackets(venue: FakeVenue, symbol: str | None) -> list[dict[str, Any]]:
    """``GET /fapi/v1/leverageBracket``."""
    return [
        {
            "symbol": sym,
            "notionalCoef": 1.0,
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": 125,
                    "notionalCap": 50000,
                    "notionalFloor": 0,
                    "maintMarginRatio": 0.004,
                    "cum": 0.0,
                },
                {
                    "bracket": 2,
                    "initialLeverage": 100,
                    "notionalCap": 600000,
                    "notionalFloor": 50000,
                    "maintMarginRatio": 0.005,
                    "cum": 50.0,
                },
            ],
        }
        for sym in venue.symbols[USDM]
        if symbol is None or sym == symbol
    ]


def symbol_config(venue: FakeVenue, acct: Account, symbol: str | None) -> list[dict[str, Any]]:
    """``GET /fapi/v1/symbolConfig``: the account's leverage and margin type per symbol."""
    out = []
    for sym in venue.symbols[USDM]:
        if symbol is not None and sym != symbol:
            continue
        lev = acct.leverage.get(sym, acct.cfg.default_leverage)
        brackets = leverage_brackets(venue, sym)[0]["brackets"]
        cap = max(b["notionalCap"] for b in brackets if b["initialLeverage"] >= lev)
        out.append(
            {
                "symbol": sym,
                "marginType": "ISOLATED"
                if acct.margin_type.get(sym, "cross") == "isolated"
                else "CROSSED",
                "isAutoAddMargin": "false",
                "leverage": lev,
                "maxNotionalValue": str(cap),
            }
        )
    return out


def futures_exchange_info(venue: FakeVenue) -> dict[str, Any]:
    """``GET /fapi/v1/exchangeInfo``."""
    symbols = []
    for spec in venue.symbols[USDM].values():
        symbols.append(
            {
                "symbol": spec.symbol,
                "pair": spec.symbol,
                "contractType": "PERPETUAL",
                "deliveryDate": 4133404800000,
                "onboardDate": 1569398400000,
                "status": "TRADING",
                "maintMarginPercent": "2.5000",
                "requiredMarginPercent": "5.0000",
                "baseAsset": spec.base,
                "quoteAsset": spec.quote,
                "marginAsset": "USDT",
                "pricePrecision": spec.price_precision,
                "quantityPrecision": spec.qty_precision,
                "baseAssetPrecision": 8,
                "quotePrecision": 8,
                "underlyingType": "COIN",
                "underlyingSubType": ["PoW"],
                "settlePlan": 0,
                "triggerProtect": "0.0500",
                "liquidationFee": "0.012500",
                "marketTakeBound": "0.05",
                "maxMoveOrderLimit": 10000,
                "filters": _filters(spec, USDM),
                "orderTypes": ["LIMIT", "MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
                "permissionSets": ["GRID", "COPY"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": venue.now_ms(),
        "futuresType": "U_MARGINED",
        "rateLimits": rate_limits(venue, USDM),
        "exchangeFilters": [],
        "assets": [
            {"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"},
            {"asset": "BNB", "marginAvailable": True, "autoAssetExchange": "-10"},
        ],
        "symbols": symbols,
    }


# ---------------------------------------------------------------------- user streams


def execution_report(
    venue: FakeVenue, o: Order, exec_type: str, ts: int, t: Trade | None
) -> dict[str, Any]:
    """Spot ``executionReport`` (the event inside ``{"subscriptionId":N,"event":...}``)."""
    canceled = exec_type == "CANCELED"
    return {
        "e": "executionReport",
        "E": ts,
        "s": o.symbol,
        "c": o.cancel_client_id if canceled else o.client_id,
        "S": o.side,
        "o": o.type,
        "f": o.tif,
        "q": s8(o.qty),
        "p": s8(o.price),
        "P": s8(ZERO),
        "F": s8(ZERO),
        "g": -1,
        "C": o.client_id if canceled else (o.orig_client_id if exec_type == "REPLACED" else ""),
        "x": exec_type,
        "X": o.status,
        "r": "NONE",
        "i": o.order_id,
        "l": s8(t.qty if t else ZERO),
        "z": s8(o.executed),
        "L": s8(t.price if t else ZERO),
        "n": s8(t.commission) if t else "0",
        "N": t.commission_asset if t else None,
        "T": ts,
        "t": t.trade_id if t else -1,
        "I": venue.next_execution_id(),
        "w": o.is_open,
        "m": bool(t and t.maker),
        "M": False,
        "O": o.time,
        "Z": s8(o.cum_quote),
        "Y": s8(t.qty * t.price if t else ZERO),
        "Q": s8(ZERO),
        "W": o.time,
        "V": "NONE",
    }


def outbound_account_position(acct: Account, assets: set[str], ts: int) -> dict[str, Any]:
    return {
        "e": "outboundAccountPosition",
        "E": ts,
        "u": ts,
        "B": [
            {
                "a": a,
                "f": s8(acct.spot.get(a, [ZERO, ZERO])[0]),
                "l": s8(acct.spot.get(a, [ZERO, ZERO])[1]),
            }
            for a in sorted(assets)
            if a
        ],
    }


def order_trade_update(
    venue: FakeVenue, o: Order, exec_type: str, ts: int, t: Trade | None
) -> dict[str, Any]:
    """USDⓈ-M ``ORDER_TRADE_UPDATE``; ``N``/``n`` only when there is a commission."""
    spec = venue.spec(USDM, o.symbol)
    body: dict[str, Any] = {
        "s": o.symbol,
        "c": o.client_id,
        "S": o.side,
        "o": o.type,
        "f": o.tif,
        "q": _fq(spec, o.qty),
        "p": _fp(spec, o.price),
        "ap": _fp(spec, _avg(o)),
        "sp": "0",
        "x": exec_type,
        "X": o.status,
        "i": o.order_id,
        "l": _fq(spec, t.qty if t else ZERO),
        "z": _fq(spec, o.executed),
        "L": _fp(spec, t.price if t else ZERO),
    }
    if t is not None and t.commission:
        body["N"] = t.commission_asset
        body["n"] = s8(t.commission)
    body.update(
        {
            "T": ts,
            "t": t.trade_id if t else 0,
            "b": "0",
            "a": "0",
            "m": bool(t and t.maker),
            "R": o.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": o.type,
            "ps": o.position_side,
            "cp": False,
            "rp": s8(t.realized_pnl if t else ZERO),
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
            "er": "0",
        }
    )
    return {"e": "ORDER_TRADE_UPDATE", "E": ts, "T": ts, "o": body}


def account_update(venue: FakeVenue, acct: Account, assets: set[str], ts: int) -> dict[str, Any]:
    """USDⓈ-M ``ACCOUNT_UPDATE`` after a trade (reason ``ORDER``)."""
    balances = [
        {"a": a, "wb": s8(acct.wallet.get(a, ZERO)), "cw": s8(acct.wallet.get(a, ZERO)), "bc": "0"}
        for a in sorted(assets)
        if a
    ]
    positions = [
        {
            "s": sym,
            "pa": f"{pos.amt.normalize():f}" if pos.amt else "0",
            "ep": f"{pos.entry.normalize():f}" if pos.entry else "0",
            "bep": f"{pos.entry.normalize():f}" if pos.entry else "0",
            "cr": "0",
            "up": s8(_unrealized(venue, sym, pos)),
            "mt": acct.margin_type.get(sym, "cross"),
            "iw": "0",
            "ps": ps,
        }
        for sym, ps, pos in _position_rows(venue, acct)
        if pos.update_time == ts or pos.amt
    ]
    return {
        "e": "ACCOUNT_UPDATE",
        "E": ts,
        "T": ts,
        "a": {"m": "ORDER", "B": balances, "P": positions},
    }


def listen_key_expired(key: str, ts: int) -> dict[str, Any]:
    return {"e": "listenKeyExpired", "E": str(ts), "listenKey": key}


# ---------------------------------------------------------------------- market streams


def book_ticker(
    venue: FakeVenue, market: str, symbol: str, book: OrderBook, ts: int
) -> dict[str, Any]:
    from atlas_oms.model.enums import Side

    bid = book.depth(Side.BUY, 1)
    ask = book.depth(Side.SELL, 1)
    bp, bq = bid[0] if bid else (ZERO, ZERO)
    ap, aq = ask[0] if ask else (ZERO, ZERO)
    update_id = venue.next_execution_id()
    if market == SPOT:
        return {"u": update_id, "s": symbol, "b": s8(bp), "B": s8(bq), "a": s8(ap), "A": s8(aq)}
    spec = venue.spec(USDM, symbol)
    return {
        "e": "bookTicker",
        "u": update_id,
        "E": ts,
        "T": ts,
        "s": symbol,
        "b": _fp(spec, bp),
        "B": _fq(spec, bq),
        "a": _fp(spec, ap),
        "A": _fq(spec, aq),
    }


def public_trade(
    market: str,
    symbol: str,
    trade_id: int,
    price: Decimal,
    qty: Decimal,
    ts: int,
    buyer_maker: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "e": "trade",
        "E": ts,
        "s": symbol,
        "t": trade_id,
        "p": s8(price),
        "q": s8(qty),
        "T": ts,
        "m": buyer_maker,
    }
    if market == SPOT:
        out["M"] = True
    else:
        out["X"] = "MARKET"
    return out


def agg_trade(
    market: str,
    symbol: str,
    agg_id: int,
    trade_id: int,
    price: Decimal,
    qty: Decimal,
    ts: int,
    buyer_maker: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "e": "aggTrade",
        "E": ts,
        "s": symbol,
        "a": agg_id,
        "p": s8(price),
        "q": s8(qty),
        "f": trade_id,
        "l": trade_id,
        "T": ts,
        "m": buyer_maker,
    }
    if market == SPOT:
        out["M"] = True
    else:
        out["nq"] = s8(qty)
    return out


def mark_price(symbol: str, price: Decimal, ts: int) -> dict[str, Any]:
    return {
        "e": "markPriceUpdate",
        "E": ts,
        "s": symbol,
        "p": s8(price),
        "ap": s8(price),
        "P": s8(price),
        "i": s8(price),
        "r": "0.00010000",
        "T": (ts // 28_800_000 + 1) * 28_800_000,
    }


def ticker_24h(
    market: str, symbol: str, stats: list[Any], book: OrderBook, ts: int, last_id: int
) -> dict[str, Any]:
    """``<symbol>@ticker`` (24hrTicker), statistics since the fake started."""
    from atlas_oms.model.enums import Side

    open_, high, low, last, vol, qvol, count = stats
    bid = book.depth(Side.BUY, 1)
    ask = book.depth(Side.SELL, 1)
    change = last - open_
    out: dict[str, Any] = {
        "e": "24hrTicker",
        "E": ts,
        "s": symbol,
        "p": s8(change),
        "P": f"{(change / open_ * 100) if open_ else ZERO:.3f}",
        "w": s8(qvol / vol if vol else ZERO),
    }
    if market == SPOT:
        out["x"] = s8(open_)
    out.update({"c": s8(last), "Q": s8(ZERO)})
    if market == SPOT:
        out.update(
            {
                "b": s8(bid[0][0] if bid else ZERO),
                "B": s8(bid[0][1] if bid else ZERO),
                "a": s8(ask[0][0] if ask else ZERO),
                "A": s8(ask[0][1] if ask else ZERO),
            }
        )
    out.update(
        {
            "o": s8(open_),
            "h": s8(high),
            "l": s8(low),
            "v": s8(vol),
            "q": s8(qvol),
            "O": ts - 86_400_000,
            "C": ts,
            "F": last_id - count + 1,
            "L": last_id,
            "n": count,
        }
    )
    return out


def mini_ticker(symbol: str, stats: list[Any], ts: int) -> dict[str, Any]:
    """``<symbol>@miniTicker`` (24hrMiniTicker): what ccxt's ``watch_ticker`` subscribes to."""
    open_, high, low, last, vol, qvol, _count = stats
    return {
        "e": "24hrMiniTicker",
        "E": ts,
        "s": symbol,
        "c": s8(last),
        "o": s8(open_),
        "h": s8(high),
        "l": s8(low),
        "v": s8(vol),
        "q": s8(qvol),
    }
