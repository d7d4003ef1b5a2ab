"""Binance USDⓈ-M JSON shapes: REST answers (``/fapi``) and user-stream events."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.fakes.binance.config import USDM
from atlas_oms.fakes.binance.records import Position
from atlas_oms.fakes.binance.wire_common import (
    ZERO,
    _avg,
    _filters,
    _fp,
    _fq,
    fnum,
    rate_limits,
    s8,
)

if TYPE_CHECKING:
    from atlas_oms.fakes.binance.records import Account, Order, Trade
    from atlas_oms.fakes.binance.venue_state import VenueState


# ---------------------------------------------------------------------- futures REST


def futures_order(venue: VenueState, o: Order, query: bool = False) -> dict[str, Any]:
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


def futures_trade(venue: VenueState, t: Trade) -> dict[str, Any]:
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


def _position_rows(venue: VenueState, acct: Account) -> list[tuple[str, str, Any]]:
    """Every (symbol, positionSide, Position) the account shows: both legs in hedge mode."""
    sides = ("LONG", "SHORT") if acct.hedge else ("BOTH",)
    rows = []
    for symbol in venue.symbols[USDM]:
        for ps in sides:
            rows.append((symbol, ps, acct.positions.get((symbol, ps), Position())))
    return rows


def _unrealized(venue: VenueState, symbol: str, pos: Any) -> Decimal:
    mark = venue.mark_prices.get(symbol, pos.entry)
    return (mark - pos.entry) * pos.amt if pos.amt else ZERO


#: The fake's one maintenance tier (BTCUSDT level 1: 0.40 %, maintenance amount 0).
MMR = Decimal("0.004")


def _leg(ps: str, pos: Any) -> Decimal:
    """The signed quantity of a leg (hedge mode: LONG positive, SHORT negative)."""
    return -abs(pos.amt) if ps == "SHORT" else (abs(pos.amt) if ps == "LONG" else pos.amt)


def _isolated_wallet(acct: Account, sym: str, pos: Any) -> Decimal:
    """The fake's isolated wallet: the initial margin at entry (no margin added or removed)."""
    lev = Decimal(acct.leverage.get(sym, acct.cfg.default_leverage))
    return abs(pos.amt) * pos.entry / lev


def liquidation_price(venue: VenueState, acct: Account, sym: str) -> Decimal | None:
    """Binance's published formula (FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures
    Contracts"), the fake's own implementation with one tier (MMR 0.4 %, cum 0): every leg of
    ``sym`` moves together, other symbols held at their marks; isolated: the position's wallet
    alone. ``LP = (WB − TMM1 + UPNL1 − Σ q·EP) / (Σ |q|·MMR − Σ q)``; None at or below 0."""
    isolated = acct.margin_type.get(sym, "cross") == "isolated"
    wallet = ZERO if isolated else acct.wallet.get("USDT", ZERO)
    other_mm = other_upnl = num = den = ZERO
    for s, ps, pos in _position_rows(venue, acct):
        if not pos.amt:
            continue
        if s == sym:
            q = _leg(ps, pos)
            num -= q * pos.entry
            den += abs(q) * MMR - q
            if isolated:
                wallet += _isolated_wallet(acct, s, pos)
        elif not isolated and acct.margin_type.get(s, "cross") != "isolated":
            mark = venue.mark_prices.get(s, pos.entry)
            other_mm += abs(pos.amt) * mark * MMR
            other_upnl += _unrealized(venue, s, pos)
    if not den:
        return None
    lp = (wallet - other_mm + other_upnl + num) / den
    return lp if lp > 0 else None


def position_risk_v3(venue: VenueState, acct: Account, symbol: str | None) -> list[dict[str, Any]]:
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
        liq = liquidation_price(venue, acct, sym) if pos.amt else None
        isolated = acct.margin_type.get(sym, "cross") == "isolated"
        iso = _isolated_wallet(acct, sym, pos) if isolated and pos.amt else ZERO
        out.append(
            {
                "symbol": sym,
                "positionSide": ps,
                "positionAmt": f"{pos.amt.normalize():f}" if pos.amt else "0",
                "entryPrice": f"{pos.entry.normalize():f}" if pos.entry else "0.0",
                "breakEvenPrice": f"{pos.entry.normalize():f}" if pos.entry else "0.0",
                "markPrice": s8(mark),
                "unRealizedProfit": s8(_unrealized(venue, sym, pos)),
                "liquidationPrice": s8(liq) if liq is not None else "0",
                "isolatedMargin": s8(iso + _unrealized(venue, sym, pos)) if iso else "0",
                "notional": s8(notional),
                "marginAsset": "USDT",
                "isolatedWallet": s8(iso) if iso else "0",
                "initialMargin": s8(im),
                "maintMargin": s8(abs(notional) * MMR),
                "positionInitialMargin": s8(im),
                "openOrderInitialMargin": "0",
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
                "updateTime": pos.update_time,
            }
        )
    return out


def futures_account_v3(venue: VenueState, acct: Account) -> dict[str, Any]:
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


def futures_balance(venue: VenueState, acct: Account) -> list[dict[str, Any]]:
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


def leverage_brackets(venue: VenueState, symbol: str | None) -> list[dict[str, Any]]:
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


def symbol_config(venue: VenueState, acct: Account, symbol: str | None) -> list[dict[str, Any]]:
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


def futures_exchange_info(venue: VenueState) -> dict[str, Any]:
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


def order_trade_update(
    venue: VenueState, o: Order, exec_type: str, ts: int, t: Trade | None
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


def account_update(venue: VenueState, acct: Account, assets: set[str], ts: int) -> dict[str, Any]:
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
