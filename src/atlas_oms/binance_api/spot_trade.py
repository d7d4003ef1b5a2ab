"""The spot dialect's signed endpoints (``/api/v3``): account, order (POST/GET/DELETE),
order/test, openOrders (GET/DELETE), allOrders, myTrades, order/cancelReplace.

Orders go through the REST API's own submit (``service.routes._submit``: the key's right to
trade for the account, accounts.yaml routing, the engine's risk checks, idempotent client order
ids), cancels through ``node.cancel``; every write is answered once it is durable
(``service.durable``; a commit timeout answers 503 -1007, Binance's "unknown"). A denied order
is journaled (REJECTED) and answered -2010 with Binance's insufficient-balance sentence for a
funds refusal, else ``"<ATLAS_REASON>: <sentence>"``."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from atlas_oms.binance_api.errors import (
    BinanceError,
    from_command_refused,
    from_refusal,
    mandatory,
    translate,
)
from atlas_oms.binance_api.server import num
from atlas_oms.binance_api.spot_market import int_param, limit_param, required_symbol, top
from atlas_oms.binance_api.spot_wire import (
    SPOT_TYPES,
    ms,
    spot_cancel,
    spot_order,
    spot_order_ack,
    spot_order_full,
    spot_order_result,
    spot_trade,
)
from atlas_oms.binance_api.symbols import binance_id
from atlas_oms.binance_api.table import Call, Route, Security
from atlas_oms.core.views import OrderView
from atlas_oms.model.enums import OrderType, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.service import schemas as s
from atlas_oms.service.routes import _order_cmd, _submit

if TYPE_CHECKING:
    from atlas_oms.binance_api.server import Dialect

API = "/api/v3/"
DUPLICATE = "Duplicate order sent."


# ---------------------------------------------------------------------- parsing


def decimal_param(call: Call, name: str, required: bool = False) -> Decimal | None:
    raw = call.params.get(name)
    if raw is None or raw == "":
        if required:
            raise mandatory(name)
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BinanceError(
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.",
        ) from None
    if not value.is_finite() or value < 0:
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.")
    return value


def enum_param(
    call: Call, name: str, allowed: tuple[str, ...], required: bool = True
) -> str | None:
    raw = call.params.get(name)
    if not raw:
        if required:
            raise mandatory(name)
        return None
    if raw.upper() not in allowed:
        raise BinanceError(-1115 if name == "timeInForce" else -1116, f"Invalid {name}.")
    return raw.upper()


def order_in(call: Call, inst: Instrument) -> tuple[s.OrderIn, str]:
    """The new order's params as the REST body (and the ``newOrderRespType``)."""
    side = enum_param(call, "side", ("BUY", "SELL"))
    kind = enum_param(call, "type", tuple(SPOT_TYPES))
    assert side is not None and kind is not None
    order_type, post_only = SPOT_TYPES[kind]
    qty = decimal_param(call, "quantity")
    price = decimal_param(call, "price")
    stop = decimal_param(call, "stopPrice")
    tif = enum_param(call, "timeInForce", ("GTC", "IOC", "FOK"), required=False)
    if kind in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
        if price is None:
            raise mandatory("price")
        if tif is None:
            raise mandatory("timeInForce")
    elif kind == "LIMIT_MAKER":
        if price is None:
            raise mandatory("price")
        tif = "GTC"
    else:
        if price is not None and kind in ("MARKET", "STOP_LOSS", "TAKE_PROFIT"):
            price = None  # Binance ignores it too
        tif = "IOC" if kind == "MARKET" else "GTC"
    triggered = order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) or kind.startswith(
        "TAKE"
    )
    if triggered and stop is None:
        raise mandatory("stopPrice")
    if qty is None:
        quote_qty = decimal_param(call, "quoteOrderQty")
        if kind != "MARKET" or quote_qty is None:
            raise mandatory("quantity")
        qty = quote_to_base(call, inst, side, quote_qty)
    client_id = call.params.get("newClientOrderId") or "atlas" + secrets.token_hex(10)
    if len(client_id) > 36:
        raise BinanceError(-1100, "Illegal characters found in parameter 'newClientOrderId'.")
    iceberg = decimal_param(call, "icebergQty")
    default_resp = "FULL" if kind in ("MARKET", "LIMIT") else "ACK"
    resp = call.params.get("newOrderRespType", default_resp).upper()
    if resp not in ("ACK", "RESULT", "FULL"):
        raise BinanceError(-1100, "Illegal characters found in parameter 'newOrderRespType'.")
    try:
        body = s.OrderIn(
            account_id=call.account_id,
            symbol=inst.symbol,
            side=Side(side),
            order_type=order_type,
            qty=qty,
            price=price,
            trigger_price=stop,
            display_qty=iceberg or None,
            tif=TimeInForce(tif),
            post_only=post_only,
            client_order_id=client_id,
        )
    except ValidationError as exc:
        raise BinanceError(-1100, f"Illegal parameter: {exc.errors()[0]['msg']}.") from None
    return body, resp


def quote_to_base(call: Call, inst: Instrument, side: str, quote_qty: Decimal) -> Decimal:
    """``quoteOrderQty`` of a MARKET order: converted at the best opposite price of the book,
    rounded down to the lot (the fill may walk the book: an approximation, documented)."""
    (bid, _), (ask, _) = top(call.dialect, inst)
    price = ask if side == "BUY" else bid
    if not price:
        raise BinanceError(
            -2010, "NO_LIQUIDITY: no price to convert quoteOrderQty at", 400, "NO_LIQUIDITY"
        )
    lots = (quote_qty / price / inst.lot_size).to_integral_value(rounding="ROUND_DOWN")
    return lots * inst.lot_size


# ---------------------------------------------------------------------- placing


def submit(call: Call, body: s.OrderIn) -> tuple[OrderView, str | None, str]:
    """Submit through the REST path; (view, denial reason or None, denial sentence)."""
    service = call.dialect.service
    status, answer = _submit(service, call.api_key, body)
    order = answer.get("order", answer)
    view = service.node.order(int(order["order_id"]))
    if status == 422:
        return view, str(answer["reason"]), str(answer["detail"])
    if answer.get("duplicate"):
        return view, "DUPLICATE", DUPLICATE
    return view, None, ""


def place_answer(call: Call, view: OrderView, resp: str) -> dict[str, Any]:
    symbol_id = binance_id(call.dialect.spot_symbols.instrument(_sym(call)))
    if resp == "ACK":
        return spot_order_ack(view, symbol_id)
    if resp == "RESULT":
        return spot_order_result(view, symbol_id)
    return spot_order_full(view, symbol_id, call.dialect.node.order_fills(view.order_id))


def _sym(call: Call) -> str:
    return call.params.get("symbol", "")


def refused_order(reason: str, sentence: str) -> BinanceError:
    if reason == "DUPLICATE":
        return BinanceError(-2010, DUPLICATE, 400, "DUPLICATE_CLIENT_ORDER_ID")
    return from_refusal(reason, sentence)


async def place(call: Call) -> Any:
    inst = required_symbol(call)
    body, resp = order_in(call, inst)
    call.dialect.count_order(call)
    view, reason, sentence = submit(call, body)
    await call.dialect.durable()
    if reason is not None:
        raise refused_order(reason, sentence)
    return place_answer(call, view, resp)


async def test_order(call: Call) -> Any:
    """``POST /api/v3/order/test``: the params and the engine's pre-trade risk checks, nothing
    placed (``computeCommissionRates=true``: the instrument's rates)."""
    inst = required_symbol(call)
    body, _ = order_in(call, inst)
    service = call.dialect.service
    service.require_trading(call.api_key, body.account_id, "place orders")
    node = service.node
    refusal = node.pre_trade_check(_order_cmd(body, node.clock.now()))
    if refusal is not None:
        raise from_refusal(str(refusal[0]), refusal[1])
    if call.params.get("computeCommissionRates", "").lower() == "true":
        return {
            "standardCommissionForOrder": {
                "maker": num(inst.maker_fee),
                "taker": num(inst.taker_fee),
            },
            "taxCommissionForOrder": {"maker": "0", "taker": "0"},
            "discount": {
                "enabledForAccount": False,
                "enabledForSymbol": False,
                "discountAsset": "BNB",
                "discount": "0",
            },
        }
    return {}


# ---------------------------------------------------------------------- reading orders


def find(call: Call, inst: Instrument, *, missing: BinanceError) -> OrderView:
    """The order named by ``orderId`` or ``origClientOrderId`` of the call's account."""
    order_id = int_param(call, "orderId")
    client_id = call.params.get("origClientOrderId") or None
    if order_id is None and client_id is None:
        raise BinanceError(
            -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        )
    view = call.dialect.node.find_order(call.account_id, order_id, client_id)
    if view is None or view.symbol != inst.symbol:
        raise missing
    return view


def not_found() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.", 400, "UNKNOWN_ORDER")


def unknown_order() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.", 400, "UNKNOWN_ORDER")


async def get_order(call: Call) -> Any:
    inst = required_symbol(call)
    return spot_order(find(call, inst, missing=not_found()), binance_id(inst))


def spot_orders(call: Call, views: list[OrderView]) -> list[dict[str, Any]]:
    symbols = call.dialect.spot_symbols
    out = []
    for v in views:
        symbol_id = symbols.id_of(v.symbol)
        if symbol_id is not None:
            out.append(spot_order(v, symbol_id))
    return out


async def open_orders(call: Call) -> Any:
    symbol = None
    if call.params.get("symbol"):
        symbol = call.dialect.spot_symbols.instrument(call.params["symbol"]).symbol
    views = call.dialect.node.orders(call.account_id, open_only=True, symbol=symbol)
    return spot_orders(call, views)


async def all_orders(call: Call) -> Any:
    inst = required_symbol(call)
    limit = limit_param(call, 500, 1000)
    from_id = int_param(call, "orderId")
    start, end = int_param(call, "startTime"), int_param(call, "endTime")
    views = call.dialect.node.orders(call.account_id, symbol=inst.symbol)
    if from_id is not None:
        views = [v for v in views if v.order_id >= from_id]
    if start is not None:
        views = [v for v in views if ms(v.ts_init) >= start]
    if end is not None:
        views = [v for v in views if ms(v.ts_init) <= end]
    views = views[:limit] if from_id is not None else views[-limit:]
    return spot_orders(call, views)


async def my_trades(call: Call) -> Any:
    inst = required_symbol(call)
    limit = limit_param(call, 500, 1000)
    fills = call.dialect.node.fills(call.account_id, inst.symbol)
    order_id, from_id = int_param(call, "orderId"), int_param(call, "fromId")
    start, end = int_param(call, "startTime"), int_param(call, "endTime")
    if order_id is not None:
        fills = [f for f in fills if f.order_id == order_id]
    if from_id is not None:
        fills = [f for f in fills if f.seq >= from_id]
    if start is not None:
        fills = [f for f in fills if ms(f.ts_event) >= start]
    if end is not None:
        fills = [f for f in fills if ms(f.ts_event) <= end]
    fills.sort(key=lambda f: f.seq)
    picked = fills[:limit] if from_id is not None or start is not None else fills[-limit:]
    symbol_id = binance_id(inst)
    return [spot_trade(f, symbol_id) for f in picked]


async def account(call: Call) -> Any:
    node = call.dialect.node
    balances = node.balances(call.account_id)
    omit_zero = call.params.get("omitZeroBalances", "").lower() == "true"
    spot = list(call.dialect.spot_symbols.all().values())
    maker = max((i.maker_fee for i in spot), default=Decimal(0))
    taker = max((i.taker_fee for i in spot), default=Decimal(0))
    return {
        "makerCommission": int(maker * 10000),
        "takerCommission": int(taker * 10000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": num(maker),
            "taker": num(taker),
            "buyer": "0",
            "seller": "0",
        },
        "canTrade": call.dialect.service.may_trade(call.api_key, call.account_id),
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": ms(node.clock.now()),
        "accountType": "SPOT",
        "balances": [
            {"asset": b.asset, "free": num(b.free), "locked": num(b.locked)}
            for b in sorted(balances, key=lambda b: b.asset)
            if not (omit_zero and not b.total)
        ],
        "permissions": ["SPOT"],
        "uid": 0,
    }


# ---------------------------------------------------------------------- cancelling


def cancel_one(call: Call, view: OrderView, symbol_id: str) -> dict[str, Any]:
    """Cancel through the node (-2011 with the Atlas reason when refused)."""
    service = call.dialect.service
    service.require_cancel(call.api_key, call.account_id)
    try:
        after = service.node.cancel(call.account_id, view.order_id)
    except CommandRefused as exc:
        raise from_command_refused(exc, -2011) from None
    return spot_cancel(after, symbol_id, call.params.get("newClientOrderId"))


async def cancel(call: Call) -> Any:
    inst = required_symbol(call)
    view = find(call, inst, missing=unknown_order())
    if not view.is_live:
        raise BinanceError(-2011, "Unknown order sent.", 400, "ORDER_NOT_LIVE")
    answer = cancel_one(call, view, binance_id(inst))
    await call.dialect.durable()
    return answer


async def cancel_open(call: Call) -> Any:
    """``DELETE /api/v3/openOrders``: every open order of the symbol (an empty list when none)."""
    inst = required_symbol(call)
    symbol_id = binance_id(inst)
    out = []
    for view in call.dialect.node.orders(call.account_id, open_only=True, symbol=inst.symbol):
        try:
            out.append(cancel_one(call, view, symbol_id))
        except BinanceError:
            continue  # ended meanwhile
    await call.dialect.durable()
    return out


async def cancel_replace(call: Call) -> Any:
    """``POST /api/v3/order/cancelReplace``: cancel, then place, in one step of the node (no
    other request runs in between). STOP_ON_FAILURE: a failed cancel places nothing."""
    inst = required_symbol(call)
    mode = enum_param(call, "cancelReplaceMode", ("STOP_ON_FAILURE", "ALLOW_FAILURE"))
    symbol_id = binance_id(inst)
    body, resp = order_in(call, inst)
    order_id = int_param(call, "cancelOrderId")
    client_id = call.params.get("cancelOrigClientOrderId") or None
    if order_id is None and client_id is None:
        raise BinanceError(
            -1102,
            "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were empty/null!",
        )
    call.dialect.count_order(call)
    node = call.dialect.node
    cancel_answer: dict[str, Any]
    cancel_ok = False
    view = node.find_order(call.account_id, order_id, client_id)
    try:
        if view is None or view.symbol != inst.symbol or not view.is_live:
            raise unknown_order()
        call.params.pop("newClientOrderId", None)
        cancel_answer = cancel_one(call, view, symbol_id)
        cancel_answer["clientOrderId"] = (
            call.params.get("cancelNewClientOrderId") or cancel_answer["clientOrderId"]
        )
        cancel_ok = True
    except BinanceError as err:
        cancel_answer = err.body()
    if not cancel_ok and mode == "STOP_ON_FAILURE":
        await call.dialect.durable()
        raise BinanceError(
            -2022,
            "Order cancel-replace failed.",
            400,
            "CANCEL_FAILED",
            {
                "cancelResult": "FAILURE",
                "newOrderResult": "NOT_ATTEMPTED",
                "cancelResponse": cancel_answer,
                "newOrderResponse": None,
            },
        )
    new_answer: dict[str, Any]
    try:
        new_view, reason, sentence = submit(call, body)
    except Exception as exc:  # an Atlas refusal of the new half: reported, the cancel stands
        new_error = translate(exc)
        reason, new_answer = new_error.outcome, new_error.body()
    else:
        new_answer = (
            refused_order(reason, sentence).body()
            if reason is not None
            else place_answer(call, new_view, resp)
        )
    await call.dialect.durable()
    if reason is not None:
        raise BinanceError(
            -2021,
            "Order cancel-replace partially failed."
            if cancel_ok
            else "Order cancel-replace failed.",
            409 if cancel_ok else 400,
            reason,
            {
                "cancelResult": "SUCCESS" if cancel_ok else "FAILURE",
                "newOrderResult": "FAILURE",
                "cancelResponse": cancel_answer,
                "newOrderResponse": new_answer,
            },
        )
    if not cancel_ok:
        raise BinanceError(
            -2021,
            "Order cancel-replace partially failed.",
            409,
            "CANCEL_FAILED",
            {
                "cancelResult": "FAILURE",
                "newOrderResult": "SUCCESS",
                "cancelResponse": cancel_answer,
                "newOrderResponse": new_answer,
            },
        )
    return {
        "cancelResult": "SUCCESS",
        "newOrderResult": "SUCCESS",
        "cancelResponse": cancel_answer,
        "newOrderResponse": new_answer,
    }


def spot_trade_routes(dialect: Dialect) -> list[Route]:
    user, trade = Security.USER_DATA, Security.TRADE
    return [
        Route("GET", API + "account", 20, user, account),
        Route("POST", API + "order", 1, trade, place),
        Route("POST", API + "order/test", 1, trade, test_order),
        Route("GET", API + "order", 4, user, get_order),
        Route("DELETE", API + "order", 1, trade, cancel),
        Route("GET", API + "openOrders", 6, user, open_orders, weight_without_symbol=80),
        Route("DELETE", API + "openOrders", 1, trade, cancel_open),
        Route("GET", API + "allOrders", 20, user, all_orders),
        Route("GET", API + "myTrades", 20, user, my_trades),
        Route("POST", API + "order/cancelReplace", 1, trade, cancel_replace),
    ]


__all__ = ["spot_trade_routes"]
