"""The USDⓈ-M dialect's signed endpoints (``/fapi/v1|v2|v3``), its listenKey and its user data
stream, over the node: every order is a ``SubmitOrder`` through ``node.process`` with the
engine's risk checks, every answer is sent once the journal holds it.

Orders: LIMIT, MARKET, STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET; timeInForce GTC, IOC,
FOK, GTX (post-only), GTD (goodTillDate); reduceOnly; positionSide BOTH (one-way accounts) or
LONG/SHORT (an account Atlas opened in hedge mode); workingType MARK_PRICE (trigger on the
mark). Refused: closePosition, trailing stops, priceMatch, batchOrders (-1000/-1116 with a
sentence), changing the position mode (Atlas fixes it when it opens the account: -4068 with a
sentence, or -4059 when already so).

Leverage (``POST /fapi/v1/leverage``) and margin type (``POST /fapi/v1/marginType``) are the
node's ``SetLeverage`` / ``SetMarginMode`` (on an external venue's instrument the venue first, as
REST does). Refusals: -4028 (leverage not valid), -2027 (position too large for the leverage),
-4046 (margin type already so), -4047/-4048 (open orders / a position).

The user data stream: ``POST /fapi/v1/listenKey`` (the ``X-MBX-APIKEY`` header only) names the
key's account; ``wss://<host>/fstream/private/ws?listenKey=K`` (ccxt.pro 4.5.90's path; the
older ``/ws/<listenKey>`` form is not served) pushes ``ORDER_TRADE_UPDATE``
and ``ACCOUNT_UPDATE`` built from durable events (futures_stream.py). A listenKey lives 60
minutes after its last keepalive; a revoked Atlas key's listenKeys stop working.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from atlas_oms.binance_api import futures_reference as fr
from atlas_oms.binance_api import futures_wire as fw
from atlas_oms.binance_api.errors import BinanceError, mandatory
from atlas_oms.binance_api.futures_market import futures_market_routes, perpetual
from atlas_oms.binance_api.futures_stream import FuturesUserStream
from atlas_oms.binance_api.listen_keys import ListenKeys
from atlas_oms.binance_api.server import dumps, now_ms
from atlas_oms.binance_api.table import Call, Route, Security
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import (
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
    TriggerType,
)
from atlas_oms.model.margin import MarginMode
from atlas_oms.model.reasons import Reason
from atlas_oms.runtime.errors import CommandRefused

if TYPE_CHECKING:
    from atlas_oms.binance_api.server import Dialect
    from atlas_oms.core.views import OrderView
    from atlas_oms.model.instrument import Instrument

F1, F2, F3 = "/fapi/v1/", "/fapi/v2/", "/fapi/v3/"
EXTRA = "futures"
ZERO = Decimal(0)

#: Atlas reason codes -> Binance USDⓈ-M error codes for an order refusal.
ORDER_CODES: dict[str, tuple[int, str | None]] = {
    Reason.INSUFFICIENT_MARGIN: (-2019, "Margin is insufficient."),
    Reason.INSUFFICIENT_BALANCE: (-2019, "Margin is insufficient."),
    Reason.INSUFFICIENT_BUYING_POWER: (-2019, "Margin is insufficient."),
    Reason.REDUCE_ONLY_WOULD_INCREASE: (-2022, "ReduceOnly Order is rejected."),
    Reason.LEVERAGE_TOO_HIGH: (-2027, None),
    Reason.POSITION_SIDE_REQUIRED: (-4061, None),
    Reason.POSITION_SIDE_NOT_ALLOWED: (-4061, None),
    Reason.DUPLICATE_CLIENT_ORDER_ID: (-4116, "ClientOrderId is duplicated."),
}


def order_refusal(reason: str, message: str) -> BinanceError:
    """An engine refusal of an order: Binance's code (its own sentence for margin, reduce-only
    and duplicates), else -2010 NEW_ORDER_REJECTED with the Atlas reason code and sentence."""
    code, msg = ORDER_CODES.get(reason, (-2010, None))
    return BinanceError(code, msg or f"{reason}: {message}", 400, reason)


@dataclass
class FuturesState:
    """The dialect's futures state (``dialect.extras["futures"]``)."""

    stream: FuturesUserStream
    listen_keys: ListenKeys = field(default_factory=ListenKeys)
    sockets: set[web.WebSocketResponse] = field(default_factory=set)


def _state(call: Call) -> FuturesState:
    state: FuturesState = call.dialect.extras[EXTRA]
    return state


# ---------------------------------------------------------------------- params


def _decimal(call: Call, name: str, required: bool = False) -> Decimal | None:
    raw = call.params.get(name)
    if raw is None or raw == "":
        if required:
            raise mandatory(name)
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.") from None
    if not value.is_finite() or value <= 0:
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.")
    return value


def _bool(call: Call, name: str) -> bool:
    raw = call.params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.")
    return raw == "true"


def _position_side(call: Call) -> PositionSide | None:
    raw = call.params.get("positionSide", "BOTH").upper() or "BOTH"
    if raw not in ("BOTH", "LONG", "SHORT"):
        raise BinanceError(-4006, "Invalid position side.")
    hedge = fw.position_mode(call.dialect.node, call.account_id) is PositionMode.HEDGE
    if hedge and raw == "BOTH":
        raise BinanceError(-4061, "Order's position side does not match user's setting.")
    if not hedge and raw != "BOTH":
        raise BinanceError(-4061, "Order's position side does not match user's setting.")
    return PositionSide(raw) if hedge else None


def submit_command(call: Call, inst: Instrument, ts: int) -> c.SubmitOrder:
    """The ``POST /fapi/v1/order`` params as Atlas's ``SubmitOrder`` (Binance's errors for what
    is missing, malformed or refused by this dialect)."""
    p = call.params
    side = p.get("side", "").upper()
    if side not in ("BUY", "SELL"):
        raise mandatory("side") if not side else BinanceError(-1117, "Invalid side.")
    kind = p.get("type", "").upper()
    if not kind:
        raise mandatory("type")
    if kind in ("TRAILING_STOP_MARKET",):
        raise BinanceError(-1116, "Invalid orderType: trailing stops are not supported here.")
    order_type = fw.FROM_ORDER_TYPES.get(kind)
    if order_type is None:
        raise BinanceError(-1116, "Invalid orderType.")
    if _bool(call, "closePosition"):
        raise BinanceError(
            -1106, "Parameter 'closePosition' is not supported: send quantity with reduceOnly."
        )
    if p.get("priceMatch", "NONE").upper() != "NONE":
        raise BinanceError(-1106, "Parameter 'priceMatch' is not supported.")
    quantity = _decimal(call, "quantity", required=True)
    assert quantity is not None
    limit = order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
    price = _decimal(call, "price", required=limit) if limit else None
    triggered = order_type not in (OrderType.LIMIT, OrderType.MARKET)
    stop = _decimal(call, "stopPrice", required=triggered) if triggered else None
    tif_raw = p.get("timeInForce", "GTC" if limit else "").upper()
    post_only = tif_raw == "GTX"
    expire_ts = None
    if tif_raw in ("", "GTC", "GTX"):
        tif = TimeInForce.GTC
    elif tif_raw in ("IOC", "FOK"):
        tif = TimeInForce(tif_raw)
    elif tif_raw == "GTD":
        tif = TimeInForce.GTD
        gtd = p.get("goodTillDate", "")
        if not gtd.isdigit():
            raise mandatory("goodTillDate")
        expire_ts = int(gtd) * 1_000_000
    else:
        raise BinanceError(-1115, "Invalid timeInForce.")
    working = p.get("workingType", "CONTRACT_PRICE").upper()
    client_id = p.get("newClientOrderId") or None
    if client_id is not None and fw.order_id_of_client_id(client_id) is not None:
        raise BinanceError(-4015, "Client order id is not valid.")
    return c.SubmitOrder(
        ts=ts,
        account_id=call.account_id,
        symbol=inst.symbol,
        side=Side(side),
        order_type=order_type,
        qty=quantity,
        price=price,
        trigger_price=stop,
        trigger_type=TriggerType.MARK if working == "MARK_PRICE" else TriggerType.LAST,
        tif=tif,
        expire_ts=expire_ts,
        post_only=post_only,
        reduce_only=_bool(call, "reduceOnly"),
        position_side=_position_side(call),
        client_order_id=client_id,
    )


def _lookup(call: Call, inst: Instrument) -> OrderView:
    """The account's order named by ``orderId`` or ``origClientOrderId`` (-2013 otherwise, or
    when it is another instrument's)."""
    node = call.dialect.node
    raw_id = call.params.get("orderId")
    client_id = call.params.get("origClientOrderId") or None
    order_id = int(raw_id) if raw_id and raw_id.isdigit() else None
    if order_id is None and client_id is None:
        raise BinanceError(-1102, "Either orderId or origClientOrderId must be sent.")
    if order_id is None and client_id is not None:
        order_id = fw.order_id_of_client_id(client_id)
        if order_id is not None:
            client_id = None
    view = node.find_order(call.account_id, order_id, client_id)
    if view is None or view.symbol != inst.symbol:
        raise BinanceError(-2013, "Order does not exist.", 400, "UNKNOWN_ORDER")
    return view


# ---------------------------------------------------------------------- orders


async def place(call: Call) -> Any:
    d = call.dialect
    node = d.node
    inst = perpetual(call)
    assert inst is not None
    command = submit_command(call, inst, node.clock.now())
    d.count_order(call)
    events = node.process(command)
    first = events[0]
    await d.durable()
    if isinstance(first, ev.CommandRejected | ev.OrderDenied):
        raise order_refusal(first.reason, first.message)
    if isinstance(first, ev.OrderDuplicateIgnored):
        raise order_refusal(Reason.DUPLICATE_CLIENT_ORDER_ID, "")
    if not isinstance(first, ev.OrderSubmitted):
        raise RuntimeError(f"a submit answered {type(first).__name__} first")
    return fw.order_json(inst, node.order(first.order_id))


async def get_order(call: Call) -> Any:
    inst = perpetual(call)
    assert inst is not None
    return fw.order_json(inst, _lookup(call, inst), query=True)


async def open_order(call: Call) -> Any:
    inst = perpetual(call)
    assert inst is not None
    view = _lookup(call, inst)
    if not view.is_live:
        raise BinanceError(-2013, "Order does not exist.", 400, "UNKNOWN_ORDER")
    return fw.order_json(inst, view, query=True)


async def cancel(call: Call) -> Any:
    d = call.dialect
    inst = perpetual(call)
    assert inst is not None
    view = _lookup(call, inst)
    try:
        d.node.cancel(call.account_id, view.order_id)
    except CommandRefused as exc:
        await d.durable()
        raise BinanceError(-2011, f"Unknown order sent. ({exc.reason}: {exc.message})") from None
    await d.durable()
    return fw.order_json(inst, d.node.order(view.order_id))


async def modify(call: Call) -> Any:
    """``PUT /fapi/v1/order``: a LIMIT order's new quantity and price (Atlas's modify)."""
    d = call.dialect
    inst = perpetual(call)
    assert inst is not None
    view = _lookup(call, inst)
    quantity = _decimal(call, "quantity", required=True)
    price = _decimal(call, "price", required=True)
    try:
        d.node.modify(call.account_id, view.order_id, qty=quantity, price=price)
    except CommandRefused as exc:
        await d.durable()
        raise BinanceError(-5027, f"{exc.reason}: {exc.message}", 400, exc.reason) from None
    await d.durable()
    return fw.order_json(inst, d.node.order(view.order_id))


async def open_orders(call: Call) -> Any:
    node = call.dialect.node
    inst = perpetual(call, required=False)
    perps = {i.symbol: i for i in fw.perpetuals(node).values()}
    rows = []
    for view in node.orders(call.account_id, open_only=True):
        i = perps.get(view.symbol)
        if i is not None and (inst is None or i is inst):
            rows.append(fw.order_json(i, view, query=True))
    return rows


async def cancel_all(call: Call) -> Any:
    d = call.dialect
    inst = perpetual(call)
    assert inst is not None
    for view in d.node.orders(call.account_id, open_only=True, symbol=inst.symbol):
        with contextlib.suppress(CommandRefused):
            d.node.cancel(call.account_id, view.order_id)
    await d.durable()
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def _window(call: Call, rows: list[Any], ts: Any) -> list[Any]:
    start = int(call.params.get("startTime") or 0)
    end = int(call.params.get("endTime") or 0)
    out = [r for r in rows if ts(r) >= start and (not end or ts(r) <= end)]
    raw = call.params.get("limit", "")
    limit = min(int(raw), 1000) if raw.isdigit() and int(raw) > 0 else 500
    return out[-limit:]


async def all_orders(call: Call) -> Any:
    node = call.dialect.node
    inst = perpetual(call)
    assert inst is not None
    after = int(call.params.get("orderId") or 0)
    views = [
        v
        for v in node.orders(call.account_id, symbol=inst.symbol)
        if v.order_id >= after and v.status.value != "DENIED"
    ]
    rows = _window(call, views, lambda v: fw.ms(v.ts_init))
    return [fw.order_json(inst, v, query=True) for v in rows]


async def user_trades(call: Call) -> Any:
    node = call.dialect.node
    inst = perpetual(call)
    assert inst is not None
    fills = node.fills(call.account_id, inst.symbol)
    from_id = int(call.params.get("fromId") or 0)
    fills = [f for f in fills if f.seq >= from_id]
    rows = _window(call, fills, lambda f: fw.ms(f.ts_event))
    out = []
    for f in rows:
        view = node.get_order(f.order_id)
        side = view.position_side if view is not None else PositionSide.BOTH
        out.append(fw.trade_json(inst, f, side))
    return out


# ---------------------------------------------------------------------- account and settings


async def income(call: Call) -> Any:
    """``GET /fapi/v1/income`` (freqtrade reads its funding fees here): ``symbol``,
    ``incomeType``, ``startTime``/``endTime``, ``limit`` (default 100, at most 1000)."""
    inst = perpetual(call, required=False)
    kind = call.params.get("incomeType", "")
    rows = fr.income(call.dialect.node, call.account_id)
    if inst is not None:
        rows = [r for r in rows if r["symbol"] == fw.fapi_symbol(inst)]
    if kind:
        rows = [r for r in rows if r["incomeType"] == kind]
    start = int(call.params.get("startTime") or 0)
    end = int(call.params.get("endTime") or 0)
    rows = [r for r in rows if r["time"] >= start and (not end or r["time"] <= end)]
    raw = call.params.get("limit", "")
    limit = min(int(raw), 1000) if raw.isdigit() and int(raw) > 0 else 100
    return rows[:limit]


async def account(call: Call) -> Any:
    return fw.account_json(call.dialect.node, call.account_id, now_ms())


async def balance(call: Call) -> Any:
    return fw.balance_json(call.dialect.node, call.account_id, now_ms())


async def position_risk_v2(call: Call) -> Any:
    inst = perpetual(call, required=False)
    symbol = fw.fapi_symbol(inst) if inst is not None else None
    return fw.position_risk(call.dialect.node, call.account_id, symbol, v3=False)


async def position_risk_v3(call: Call) -> Any:
    inst = perpetual(call, required=False)
    symbol = fw.fapi_symbol(inst) if inst is not None else None
    return fw.position_risk(call.dialect.node, call.account_id, symbol, v3=True)


async def leverage_bracket(call: Call) -> Any:
    inst = perpetual(call, required=False)
    rows = fw.leverage_brackets(
        call.dialect.node, fw.fapi_symbol(inst) if inst is not None else None
    )
    return rows[0] if inst is not None and rows else rows


async def symbol_config(call: Call) -> Any:
    inst = perpetual(call, required=False)
    symbol = fw.fapi_symbol(inst) if inst is not None else None
    return fw.symbol_config(call.dialect.node, call.account_id, symbol)


async def get_dual(call: Call) -> Any:
    hedge = fw.position_mode(call.dialect.node, call.account_id) is PositionMode.HEDGE
    return {"dualSidePosition": hedge}


async def set_dual(call: Call) -> Any:
    want = _bool(call, "dualSidePosition")
    hedge = fw.position_mode(call.dialect.node, call.account_id) is PositionMode.HEDGE
    if want == hedge:
        raise BinanceError(-4059, "No need to change position side.")
    raise BinanceError(
        -4068,
        "Position side cannot be changed here: Atlas sets an account's position mode when it "
        "opens the account.",
        400,
        "POSITION_MODE_FIXED",
    )


async def multi_assets(call: Call) -> Any:
    return {"multiAssetsMargin": False}


async def _setting(call: Call, symbol: str, here: Any, at_venue: Any) -> None:
    """Through REST's own path (routes_operator._setting): the venue first for an external
    venue's instrument, Atlas alone on the built-in exchange; answered once durable."""
    from atlas_oms.service.routes_operator import _setting as rest_setting

    await rest_setting(call.dialect.service, call.account_id, symbol, at_venue, here)


async def leverage(call: Call) -> Any:
    d = call.dialect
    node = d.node
    inst = perpetual(call)
    assert inst is not None
    raw = call.params.get("leverage", "")
    if not raw.isdigit() or int(raw) < 1:
        raise BinanceError(-4028, f"Leverage {raw} is not valid", 400, "INVALID_LEVERAGE")
    lev = Decimal(int(raw))
    most = max(t.max_leverage for t in node.margin_tiers(inst.symbol))
    if lev > most:
        raise BinanceError(-4028, f"Leverage {raw} is not valid", 400, "INVALID_LEVERAGE")
    account_id = call.account_id
    try:
        await _setting(
            call,
            inst.symbol,
            lambda: node.set_leverage(account_id, inst.symbol, lev),
            lambda gateway: gateway.set_leverage(account_id, inst.symbol, lev),
        )
    except CommandRefused as exc:
        if exc.reason == Reason.INVALID_LEVERAGE:
            raise BinanceError(-4028, f"Leverage {raw} is not valid", 400, exc.reason) from None
        raise BinanceError(
            -2027, "Exceeded the maximum allowable position at current leverage.", 400, exc.reason
        ) from None
    return {
        "leverage": int(lev),
        "maxNotionalValue": fw.max_notional_of(node, inst.symbol, lev),
        "symbol": fw.fapi_symbol(inst),
    }


async def margin_type(call: Call) -> Any:
    d = call.dialect
    node = d.node
    inst = perpetual(call)
    assert inst is not None
    want = call.params.get("marginType", "").upper()
    if want not in ("ISOLATED", "CROSSED", "CROSS"):
        raise BinanceError(-4044, "The margin type is not valid.")
    mode = MarginMode.ISOLATED if want == "ISOLATED" else MarginMode.CROSS
    account_id = call.account_id
    if fw.margin_mode_of(node, account_id, inst.symbol) is mode:
        raise BinanceError(-4046, "No need to change margin type.")
    try:
        await _setting(
            call,
            inst.symbol,
            lambda: node.set_margin_mode(account_id, inst.symbol, mode),
            lambda gateway: gateway.set_margin_mode(account_id, inst.symbol, mode),
        )
    except CommandRefused as exc:
        if exc.reason == Reason.MARGIN_MODE_LOCKED:
            pos = node.position(account_id, inst.symbol)
            if pos is not None and pos.qty:
                raise BinanceError(
                    -4048,
                    "Margin type cannot be changed if there exists position.",
                    400,
                    exc.reason,
                ) from None
            raise BinanceError(
                -4047, "Margin type cannot be changed if there exists open orders.", 400, exc.reason
            ) from None
        raise BinanceError(-4044, f"{exc.reason}: {exc.message}", 400, exc.reason) from None
    return {"code": 200, "msg": "success"}


# ---------------------------------------------------------------------- listenKey and stream


async def listen_key_new(call: Call) -> Any:
    return {"listenKey": _state(call).listen_keys.new(call)}


async def listen_key_keepalive(call: Call) -> Any:
    return {"listenKey": _state(call).listen_keys.keepalive(call)}


async def listen_key_delete(call: Call) -> Any:
    _state(call).listen_keys.delete(call)
    return {}


async def private_ws(call: Call) -> web.StreamResponse:
    """``/fstream/private/ws?listenKey=K``: the account's ORDER_TRADE_UPDATE and ACCOUNT_UPDATE."""
    d = call.dialect
    state: FuturesState = d.extras[EXTRA]
    k = call.request.query.get("listenKey", "")
    lk = state.listen_keys.valid(k, d.service.keys)
    if lk is None:
        return web.Response(
            status=400,
            text=dumps({"code": -1125, "msg": "This listenKey does not exist."}),
            content_type="application/json",
        )
    started = time.perf_counter()
    call.key = d.service.keys.keys.get(lk.key_id)
    call.account = lk.account
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(call.request)
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    sessions = d.service.metrics.api_sessions.labels("binance")
    state.sockets.add(ws)
    state.stream.attach(lk.account, queue.put_nowait)
    state.listen_keys.attach(k, queue.put_nowait, lambda: queue.put_nowait(None))
    sessions.inc()

    async def writer() -> None:
        while True:
            payload = await queue.get()
            if payload is None:  # the listenKey expired (listenKeyExpired was sent)
                await ws.close()
                return
            await ws.send_str(json.dumps(payload, separators=(",", ":")))

    task = asyncio.create_task(writer())
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
    finally:
        state.stream.detach(lk.account, queue.put_nowait)
        state.listen_keys.detach(k, queue.put_nowait)
        state.sockets.discard(ws)
        sessions.dec()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        d.log_session(call, "/fstream/private/ws", time.perf_counter() - started)
    return ws


# ---------------------------------------------------------------------- the routes


def futures_routes(dialect: Dialect) -> list[Route]:
    """Every USDⓈ-M route: the public ones (futures_market.py), the signed ones, the listenKey
    and the user-stream WebSocket. Hooks the user stream to the node and the hub."""
    stream = FuturesUserStream(dialect.node)
    dialect.node.subscribe(stream.on_processed)
    dialect.hub.on_durable(stream.on_durable)
    state = FuturesState(stream)
    dialect.extras[EXTRA] = state

    async def close_sockets() -> None:
        state.listen_keys.close()
        for ws in list(state.sockets):
            with contextlib.suppress(Exception):
                await ws.close()

    dialect.extras.setdefault("on_stop", []).append(close_sockets)
    user, trade, stream_sec = Security.USER_DATA, Security.TRADE, Security.USER_STREAM
    from atlas_oms.binance_api.futures_ws import futures_ws_routes

    return [
        *futures_market_routes(dialect),
        *futures_ws_routes(dialect),
        Route("POST", F1 + "order", 0, trade, place),
        Route("GET", F1 + "order", 1, user, get_order),
        Route("DELETE", F1 + "order", 1, trade, cancel),
        Route("PUT", F1 + "order", 1, trade, modify),
        Route("GET", F1 + "openOrder", 1, user, open_order),
        Route("GET", F1 + "openOrders", 1, user, open_orders, weight_without_symbol=40),
        Route("DELETE", F1 + "allOpenOrders", 1, trade, cancel_all),
        Route("GET", F1 + "allOrders", 5, user, all_orders),
        Route("GET", F1 + "userTrades", 5, user, user_trades),
        Route("GET", F1 + "income", 30, user, income),
        Route("GET", F2 + "account", 5, user, account),
        Route("GET", F3 + "account", 5, user, account),
        Route("GET", F2 + "balance", 5, user, balance),
        Route("GET", F3 + "balance", 5, user, balance),
        Route("GET", F2 + "positionRisk", 5, user, position_risk_v2),
        Route("GET", F3 + "positionRisk", 5, user, position_risk_v3),
        Route("GET", F1 + "leverageBracket", 1, user, leverage_bracket),
        Route("GET", F1 + "symbolConfig", 5, user, symbol_config),
        Route("GET", F1 + "positionSide/dual", 30, user, get_dual),
        Route("POST", F1 + "positionSide/dual", 1, trade, set_dual),
        Route("GET", F1 + "multiAssetsMargin", 30, user, multi_assets),
        Route("POST", F1 + "leverage", 1, trade, leverage),
        Route("POST", F1 + "marginType", 1, trade, margin_type),
        Route("POST", F1 + "listenKey", 1, stream_sec, listen_key_new),
        Route("PUT", F1 + "listenKey", 1, stream_sec, listen_key_keepalive),
        Route("DELETE", F1 + "listenKey", 1, stream_sec, listen_key_delete),
        Route("WS", "/fstream/private/ws", 0, Security.NONE, private_ws),
    ]
