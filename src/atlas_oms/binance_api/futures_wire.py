"""Binance USDⓈ-M JSON shapes built from the Atlas node: the ``/fapi`` answers and the
user-data-stream events, for the node's perpetual instruments.

Pure translation: every function reads the node (``Queries``: views, margin figures, funding)
and returns Binance's dicts; nothing here writes. Numbers are exact decimal strings (never
floats or exponents), prices and quantities at the instrument's tick and lot decimals. Times
are Binance's milliseconds (Atlas keeps nanoseconds).

Symbols: a perpetual ``BTC/USDT:USDT`` is ``BTCUSDT`` (its ``venue_symbol`` when it has one);
only perpetuals show in this dialect (dated futures and spot do not).

Liquidations by Atlas's engine show as Binance shows its own: the engine's IOC liquidation
order (tag ``liquidation``) has the client order id ``autoclose-<orderId>``, type
``LIQUIDATION`` in ``ORDER_TRADE_UPDATE`` and its executions come with execution type
``CALCULATED`` ("Liquidation Execution").
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.model import events as ev
from atlas_oms.model.enums import (
    InstrumentKind,
    LiquiditySide,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
)
from atlas_oms.model.margin import MarginMode

if TYPE_CHECKING:
    from atlas_oms.core.views import OrderView, PositionView
    from atlas_oms.model.instrument import Instrument
    from atlas_oms.runtime.queries import Queries

ZERO = Decimal(0)
#: The engine's tag on its liquidation orders (core/derivatives/liquidation.py LIQUIDATION_TAG).
LIQUIDATION_TAG = "liquidation"
#: Binance's prefix of a liquidation order's client order id.
AUTOCLOSE = "autoclose-"
#: Client order id shown for an order placed without one (not through this dialect).
GENERATED = "atlas-"

_OPEN_STATUSES = frozenset(
    {
        OrderStatus.INITIALIZED,
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.TRIGGERED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
    }
)

#: Atlas order type -> Binance USDⓈ-M order type.
ORDER_TYPES: dict[OrderType, str] = {
    OrderType.LIMIT: "LIMIT",
    OrderType.MARKET: "MARKET",
    OrderType.STOP_LIMIT: "STOP",
    OrderType.STOP_MARKET: "STOP_MARKET",
    OrderType.TAKE_PROFIT_LIMIT: "TAKE_PROFIT",
    OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT_MARKET",
    OrderType.TRAILING_STOP_MARKET: "TRAILING_STOP_MARKET",
    OrderType.TRAILING_STOP_LIMIT: "TRAILING_STOP_MARKET",
}
#: Binance USDⓈ-M order type -> Atlas order type (what this dialect accepts).
FROM_ORDER_TYPES: dict[str, OrderType] = {
    "LIMIT": OrderType.LIMIT,
    "MARKET": OrderType.MARKET,
    "STOP": OrderType.STOP_LIMIT,
    "STOP_MARKET": OrderType.STOP_MARKET,
    "TAKE_PROFIT": OrderType.TAKE_PROFIT_LIMIT,
    "TAKE_PROFIT_MARKET": OrderType.TAKE_PROFIT_MARKET,
}


# ---------------------------------------------------------------------- numbers, symbols, times


def plain(value: Decimal | None) -> str:
    """An exact decimal string without exponent ("0" for None or zero)."""
    if value is None or not value:
        return "0"
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def places(step: Decimal) -> int:
    """How many decimals ``step`` has (``0.001`` -> 3, ``10`` -> 0)."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def fixed(value: Decimal | None, decimals: int) -> str:
    return f"{(value or ZERO):.{decimals}f}"


def px(inst: Instrument, value: Decimal | None) -> str:
    """A price at the instrument's tick decimals."""
    return fixed(value, places(inst.tick_size))


def qty(inst: Instrument, value: Decimal | None) -> str:
    """A quantity at the instrument's lot decimals."""
    return fixed(value, places(inst.lot_size))


def s8(value: Decimal | None) -> str:
    """An amount with 8 decimals (Binance's money fields)."""
    return f"{(value or ZERO):.8f}"


def ms(ts_ns: int | None) -> int:
    return (ts_ns or 0) // 1_000_000


def is_perpetual(inst: Instrument) -> bool:
    return inst.kind is InstrumentKind.PERPETUAL


def fapi_symbol(inst: Instrument) -> str:
    """The Binance id of an Atlas perpetual: its venue symbol, else base + quote (``BTCUSDT``)."""
    return inst.venue_symbol or f"{inst.base}{inst.quote}"


def perpetuals(node: Queries) -> dict[str, Instrument]:
    """The node's perpetuals by Binance id (the first one wins when two share an id)."""
    out: dict[str, Instrument] = {}
    for inst in node.instruments():
        if is_perpetual(inst):
            out.setdefault(fapi_symbol(inst), inst)
    return out


def margin_asset(inst: Instrument) -> str:
    return inst.settle or inst.quote


# ---------------------------------------------------------------------- orders and trades


def client_order_id(view: OrderView) -> str:
    """The client order id Binance would show: the order's own, ``autoclose-<id>`` for the
    engine's liquidation orders, else ``atlas-<id>``."""
    if view.tag == LIQUIDATION_TAG:
        return f"{AUTOCLOSE}{view.order_id}"
    return view.client_order_id or f"{GENERATED}{view.order_id}"


def order_id_of_client_id(client_id: str) -> int | None:
    """The order id a generated client order id names (``autoclose-7``, ``atlas-7``), else None."""
    for prefix in (AUTOCLOSE, GENERATED):
        if client_id.startswith(prefix) and client_id[len(prefix) :].isdigit():
            return int(client_id[len(prefix) :])
    return None


def order_status(view: OrderView) -> str:
    """Binance's order status of an Atlas order."""
    status = view.status
    if status in _OPEN_STATUSES:
        return "PARTIALLY_FILLED" if view.cum_qty > 0 else "NEW"
    if status is OrderStatus.DENIED:
        return "REJECTED"
    return str(status.value)


def time_in_force(view: OrderView) -> str:
    if view.post_only:
        return "GTX"
    if view.tif is TimeInForce.DAY:
        return "GTC"
    return str(view.tif.value)


def order_type(view: OrderView) -> str:
    return ORDER_TYPES.get(view.order_type, str(view.order_type.value))


def order_json(inst: Instrument, view: OrderView, *, query: bool = False) -> dict[str, Any]:
    """The New-Order shape (also the cancel answer), or with ``query`` the Query-Order shape
    (``GET order``, ``openOrder(s)``, ``allOrders``)."""
    kind = order_type(view)
    cum_quote = (view.avg_px or ZERO) * view.cum_qty * inst.multiplier
    out: dict[str, Any] = {
        "orderId": view.order_id,
        "symbol": fapi_symbol(inst),
        "status": order_status(view),
        "clientOrderId": client_order_id(view),
        "price": px(inst, view.price),
        "avgPrice": px(inst, view.avg_px) if view.avg_px is not None else "0",
        "origQty": qty(inst, view.qty),
        "executedQty": qty(inst, view.cum_qty),
        "cumQty": qty(inst, view.cum_qty),
        "cumQuote": plain(cum_quote) if cum_quote else "0",
        "timeInForce": time_in_force(view),
        "type": kind,
        "reduceOnly": view.reduce_only,
        "closePosition": False,
        "side": str(view.side.value),
        "positionSide": str(view.position_side.value),
        "stopPrice": px(inst, view.trigger_price) if view.trigger_price is not None else "0",
        "workingType": "MARK_PRICE" if view.trigger_type.value == "MARK" else "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": kind,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": ms(view.expire_ts) if view.expire_ts else 0,
        "time": ms(view.ts_init),
        "updateTime": ms(view.ts_last),
    }
    del out["cumQty" if query else "time"]
    return out


def trade_json(
    inst: Instrument, fill: ev.OrderFilled, position_side: PositionSide = PositionSide.BOTH
) -> dict[str, Any]:
    """A ``GET /fapi/v1/userTrades`` element."""
    return {
        "buyer": fill.side is Side.BUY,
        "commission": s8(fill.fee),
        "commissionAsset": fill.fee_asset or margin_asset(inst),
        "id": trade_number(fill),
        "maker": fill.liquidity_side is LiquiditySide.MAKER,
        "orderId": fill.order_id,
        "price": px(inst, fill.last_px),
        "qty": qty(inst, fill.last_qty),
        "quoteQty": plain(fill.last_px * fill.last_qty * inst.multiplier),
        "realizedPnl": "0",
        "side": str(fill.side.value),
        "positionSide": str(position_side.value),
        "symbol": fapi_symbol(inst),
        "time": ms(fill.ts_event),
    }


def trade_number(fill: ev.OrderFilled) -> int:
    """A numeric trade id (Binance's are numbers): the fill's journal sequence number, unique
    per execution and rising with time."""
    return fill.seq


# ---------------------------------------------------------------------- positions and account


def position_mode(node: Queries, account_id: str) -> PositionMode:
    acct = node.account(account_id)
    return acct.position_mode if acct is not None else PositionMode.NETTING


def leverage_of(node: Queries, account_id: str, symbol: str) -> Decimal:
    """The account's leverage on ``symbol`` (Atlas margins at 1x where none was set)."""
    settings = node.derivative_settings(account_id)
    lev = settings.get(symbol, (None, MarginMode.CROSS))[0]
    return lev if lev is not None else Decimal(1)


def margin_mode_of(node: Queries, account_id: str, symbol: str) -> MarginMode:
    return node.derivative_settings(account_id).get(symbol, (None, MarginMode.CROSS))[1]


def max_notional_of(node: Queries, symbol: str, leverage: Decimal) -> str:
    cap = node.max_position_notional(symbol, leverage)
    return plain(cap) if cap is not None else "9223372036854775807"


def _sides(node: Queries, account_id: str) -> tuple[PositionSide, ...]:
    if position_mode(node, account_id) is PositionMode.HEDGE:
        return (PositionSide.LONG, PositionSide.SHORT)
    return (PositionSide.BOTH,)


def _signed_qty(view: PositionView) -> Decimal:
    if view.position_side is PositionSide.SHORT:
        return -abs(view.qty)
    return view.qty


def _updated(view: PositionView) -> int:
    """When the position last opened a lot (ms): the view keeps no other time."""
    return max((ms(lot.ts_open) for lot in view.lots), default=0)


def position_rows(
    node: Queries, account_id: str, symbol: str | None = None, *, open_only: bool = False
) -> list[tuple[Instrument, PositionSide, PositionView | None]]:
    """Every (perpetual, position side, position view or None) the account shows."""
    rows: list[tuple[Instrument, PositionSide, PositionView | None]] = []
    for sym, inst in perpetuals(node).items():
        if symbol is not None and sym != symbol:
            continue
        for side in _sides(node, account_id):
            view = node.position(account_id, inst.symbol, side)
            if view is not None and not view.qty:
                view = None if open_only else view
            if open_only and view is None:
                continue
            rows.append((inst, side, view))
    return rows


def position_risk(
    node: Queries, account_id: str, symbol: str | None = None, *, v3: bool = False
) -> list[dict[str, Any]]:
    """``GET /fapi/v2/positionRisk`` (every perpetual, flat ones too) or ``/fapi/v3``
    (open positions only). Both carry v2's leverage and margin type and v3's margin fields."""
    out: list[dict[str, Any]] = []
    for inst, side, view in position_rows(node, account_id, symbol, open_only=v3):
        mark = node.mark_price(inst.symbol) or node.reference_price(inst.symbol)
        lev = leverage_of(node, account_id, inst.symbol)
        mode = margin_mode_of(node, account_id, inst.symbol)
        amt = _signed_qty(view) if view is not None else ZERO
        isolated = mode is MarginMode.ISOLATED
        info = node.margin(account_id, inst.symbol, side) if view is not None else None
        notional = amt * (mark or ZERO) * inst.multiplier
        margin = view.margin if view is not None else ZERO
        upnl = view.unrealized_pnl if view is not None else ZERO
        out.append(
            {
                "symbol": fapi_symbol(inst),
                "positionSide": str(side.value),
                "positionAmt": plain(amt),
                "entryPrice": plain(view.avg_entry_px) if view and view.avg_entry_px else "0.0",
                "breakEvenPrice": plain(view.avg_entry_px) if view and view.avg_entry_px else "0.0",
                "markPrice": s8(mark),
                "unRealizedProfit": s8(upnl),
                "liquidationPrice": s8(info.liquidation_price)
                if info is not None and info.liquidation_price is not None and amt
                else "0",
                "leverage": plain(lev),
                "maxNotionalValue": max_notional_of(node, inst.symbol, lev),
                "marginType": "isolated" if isolated else "cross",
                "isAutoAddMargin": "false",
                "isolatedMargin": s8(margin + upnl) if isolated and amt else "0.00000000",
                "isolatedWallet": s8(margin) if isolated and amt else "0",
                "notional": s8(notional),
                "marginAsset": margin_asset(inst),
                "initialMargin": s8(info.initial_margin if info else ZERO),
                "maintMargin": s8(info.maint_margin if info else ZERO),
                "positionInitialMargin": s8(info.initial_margin if info else ZERO),
                "openOrderInitialMargin": "0",
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
                "updateTime": _updated(view) if view is not None and amt else 0,
            }
        )
    return out


def _unrealized_by_asset(node: Queries, account_id: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for inst, _side, view in position_rows(node, account_id, open_only=True):
        if view is not None:
            asset = margin_asset(inst)
            out[asset] = out.get(asset, ZERO) + view.unrealized_pnl
    return out


def _position_margin_by_asset(node: Queries, account_id: str) -> tuple[dict[str, Decimal], ...]:
    """(position initial margin, maintenance margin) per margin asset."""
    initial: dict[str, Decimal] = {}
    maint: dict[str, Decimal] = {}
    for inst, side, view in position_rows(node, account_id, open_only=True):
        info = node.margin(account_id, inst.symbol, side) if view is not None else None
        if info is None:
            continue
        asset = margin_asset(inst)
        initial[asset] = initial.get(asset, ZERO) + info.initial_margin
        maint[asset] = maint.get(asset, ZERO) + info.maint_margin
    return initial, maint


def _margin_assets(node: Queries) -> set[str]:
    return {margin_asset(inst) for inst in perpetuals(node).values()}


def account_json(node: Queries, account_id: str, now_ms: int) -> dict[str, Any]:
    """``GET /fapi/v2/account`` and ``/fapi/v3/account`` (what ccxt's ``fetch_balance`` reads):
    the account's balances (wallet = Atlas total, available = Atlas free: what is not locked for
    orders or position margin) and its open positions."""
    upnl = _unrealized_by_asset(node, account_id)
    pos_im, pos_mm = _position_margin_by_asset(node, account_id)
    quote_assets = _margin_assets(node)
    assets = []
    totals = dict.fromkeys(
        ("wallet", "upnl", "im", "mm", "pim", "oim", "avail"), ZERO
    )  # in the margin assets (USDT) only, as Binance sums them
    for bal in node.balances(account_id):
        un = upnl.get(bal.asset, ZERO)
        pim = pos_im.get(bal.asset, ZERO)
        oim = max(bal.locked - pim, ZERO)
        mm = pos_mm.get(bal.asset, ZERO)
        assets.append(
            {
                "asset": bal.asset,
                "walletBalance": s8(bal.total),
                "unrealizedProfit": s8(un),
                "marginBalance": s8(bal.total + un),
                "maintMargin": s8(mm),
                "initialMargin": s8(bal.locked),
                "positionInitialMargin": s8(pim),
                "openOrderInitialMargin": s8(oim),
                "crossWalletBalance": s8(bal.total),
                "crossUnPnl": s8(un),
                "availableBalance": s8(bal.free),
                "maxWithdrawAmount": s8(bal.free),
                "marginAvailable": True,
                "updateTime": now_ms,
            }
        )
        if bal.asset in quote_assets:
            for k, v in (
                ("wallet", bal.total),
                ("upnl", un),
                ("im", bal.locked),
                ("mm", mm),
                ("pim", pim),
                ("oim", oim),
                ("avail", bal.free),
            ):
                totals[k] += v
    positions = []
    for inst, side, view in position_rows(node, account_id, open_only=True):
        if view is None:
            continue
        info = node.margin(account_id, inst.symbol, side)
        lev = leverage_of(node, account_id, inst.symbol)
        isolated = margin_mode_of(node, account_id, inst.symbol) is MarginMode.ISOLATED
        mark = node.mark_price(inst.symbol) or node.reference_price(inst.symbol) or ZERO
        positions.append(
            {
                "symbol": fapi_symbol(inst),
                "positionSide": str(side.value),
                "positionAmt": plain(_signed_qty(view)),
                "entryPrice": plain(view.avg_entry_px),
                "unrealizedProfit": s8(view.unrealized_pnl),
                "isolatedMargin": s8(view.margin + view.unrealized_pnl) if isolated else "0",
                "isolated": isolated,
                "isolatedWallet": s8(view.margin) if isolated else "0",
                "leverage": plain(lev),
                "maxNotional": max_notional_of(node, inst.symbol, lev),
                "notional": s8(_signed_qty(view) * mark * inst.multiplier),
                "initialMargin": s8(info.initial_margin if info else ZERO),
                "maintMargin": s8(info.maint_margin if info else ZERO),
                "positionInitialMargin": s8(info.initial_margin if info else ZERO),
                "openOrderInitialMargin": "0",
                "updateTime": _updated(view),
            }
        )
    return {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
        "updateTime": now_ms,
        "totalInitialMargin": s8(totals["im"]),
        "totalMaintMargin": s8(totals["mm"]),
        "totalWalletBalance": s8(totals["wallet"]),
        "totalUnrealizedProfit": s8(totals["upnl"]),
        "totalMarginBalance": s8(totals["wallet"] + totals["upnl"]),
        "totalPositionInitialMargin": s8(totals["pim"]),
        "totalOpenOrderInitialMargin": s8(totals["oim"]),
        "totalCrossWalletBalance": s8(totals["wallet"]),
        "totalCrossUnPnl": s8(totals["upnl"]),
        "availableBalance": s8(totals["avail"]),
        "maxWithdrawAmount": s8(totals["avail"]),
        "assets": assets,
        "positions": positions,
    }


def balance_json(node: Queries, account_id: str, now_ms: int) -> list[dict[str, Any]]:
    """``GET /fapi/v2/balance`` (and v3)."""
    upnl = _unrealized_by_asset(node, account_id)
    return [
        {
            "accountAlias": account_id,
            "asset": bal.asset,
            "balance": s8(bal.total),
            "crossWalletBalance": s8(bal.total),
            "crossUnPnl": s8(upnl.get(bal.asset, ZERO)),
            "availableBalance": s8(bal.free),
            "maxWithdrawAmount": s8(bal.free),
            "marginAvailable": True,
            "updateTime": now_ms,
        }
        for bal in node.balances(account_id)
    ]


def leverage_brackets(node: Queries, symbol: str | None = None) -> list[dict[str, Any]]:
    """``GET /fapi/v1/leverageBracket`` from each perpetual's margin tiers (its own table or the
    engine's default tier). A last tier without cap shows Binance's largest cap."""
    out = []
    for sym, inst in perpetuals(node).items():
        if symbol is not None and sym != symbol:
            continue
        brackets = []
        for tier in node.margin_tiers(inst.symbol):
            brackets.append(
                {
                    "bracket": tier.bracket,
                    "initialLeverage": int(tier.max_leverage),
                    "notionalCap": int(tier.cap) if tier.cap is not None else 9223372036854775807,
                    "notionalFloor": int(tier.floor),
                    "maintMarginRatio": float(tier.maint_margin_rate),
                    "cum": float(tier.maint_amount),
                }
            )
        out.append({"symbol": sym, "notionalCoef": 1.0, "brackets": brackets})
    return out


def symbol_config(node: Queries, account_id: str, symbol: str | None) -> list[dict[str, Any]]:
    """``GET /fapi/v1/symbolConfig``: the account's leverage and margin type per perpetual."""
    out = []
    for sym, inst in perpetuals(node).items():
        if symbol is not None and sym != symbol:
            continue
        lev = leverage_of(node, account_id, inst.symbol)
        out.append(
            {
                "symbol": sym,
                "marginType": "ISOLATED"
                if margin_mode_of(node, account_id, inst.symbol) is MarginMode.ISOLATED
                else "CROSSED",
                "isAutoAddMargin": "false",
                "leverage": int(lev),
                "maxNotionalValue": max_notional_of(node, inst.symbol, lev),
            }
        )
    return out


# ---------------------------------------------------------------------- user data stream


def order_trade_update(
    inst: Instrument,
    view: OrderView,
    exec_type: str,
    ts_ms: int,
    fill: ev.OrderFilled | None = None,
) -> dict[str, Any]:
    """An ``ORDER_TRADE_UPDATE`` of the order as it is after ``exec_type`` (NEW, CANCELED,
    EXPIRED, AMENDMENT, TRADE, or CALCULATED: a liquidation's execution)."""
    liquidation = view.tag == LIQUIDATION_TAG
    kind = "LIQUIDATION" if liquidation else order_type(view)
    if fill is not None and liquidation:
        exec_type = "CALCULATED"
    body: dict[str, Any] = {
        "s": fapi_symbol(inst),
        "c": client_order_id(view),
        "S": str(view.side.value),
        "o": kind,
        "f": time_in_force(view),
        "q": qty(inst, view.qty),
        "p": px(inst, view.price),
        "ap": px(inst, view.avg_px),
        "sp": px(inst, view.trigger_price),
        "x": exec_type,
        "X": order_status(view),
        "i": view.order_id,
        "l": qty(inst, fill.last_qty if fill else ZERO),
        "z": qty(inst, view.cum_qty),
        "L": px(inst, fill.last_px if fill else ZERO),
    }
    if fill is not None and fill.fee:
        body["N"] = fill.fee_asset
        body["n"] = s8(fill.fee)
    body.update(
        {
            "T": ts_ms,
            "t": trade_number(fill) if fill else 0,
            "b": "0",
            "a": "0",
            "m": bool(fill and fill.liquidity_side is LiquiditySide.MAKER),
            "R": view.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": kind,
            "ps": str(view.position_side.value),
            "cp": False,
            "rp": "0",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "NONE",
            "pm": "NONE",
            "gtd": 0,
            "er": "0",
        }
    )
    return {"e": "ORDER_TRADE_UPDATE", "E": ts_ms, "T": ts_ms, "o": body}


def account_update(
    node: Queries,
    account_id: str,
    symbols: Iterable[str],
    assets: Iterable[str],
    reason: str,
    ts_ms: int,
) -> dict[str, Any]:
    """An ``ACCOUNT_UPDATE`` (reason ``ORDER``, ``FUNDING_FEE``, ``DEPOSIT``...): the balances of
    ``assets`` and the positions of the Atlas ``symbols`` (perpetuals; flat ones show 0)."""
    balances = []
    for asset in sorted(set(assets)):
        bal = node.balance(account_id, asset)
        balances.append({"a": asset, "wb": s8(bal.total), "cw": s8(bal.total), "bc": "0"})
    positions = []
    wanted = set(symbols)
    for inst, side, view in position_rows(node, account_id):
        if inst.symbol not in wanted:
            continue
        amt = _signed_qty(view) if view is not None else ZERO
        isolated = margin_mode_of(node, account_id, inst.symbol) is MarginMode.ISOLATED
        positions.append(
            {
                "s": fapi_symbol(inst),
                "pa": plain(amt),
                "ep": plain(view.avg_entry_px) if view is not None and amt else "0",
                "bep": plain(view.avg_entry_px) if view is not None and amt else "0",
                "cr": s8(view.realized_pnl if view is not None else ZERO),
                "up": s8(view.unrealized_pnl if view is not None else ZERO),
                "mt": "isolated" if isolated else "cross",
                "iw": s8(view.margin) if isolated and view is not None and amt else "0",
                "ps": str(side.value),
            }
        )
    return {
        "e": "ACCOUNT_UPDATE",
        "E": ts_ms,
        "T": ts_ms,
        "a": {"m": reason, "B": balances, "P": positions},
    }
