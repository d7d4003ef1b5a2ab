"""Binance JSON (spot and USDⓈ-M) translated into Atlas's venue language (pure, no I/O).

Rules kept everywhere (reference/venues.md §1.2, §1.3, §1.9):

- quantities come from the cumulative filled quantity (``z``, ``executedQty``) and each trade's
  own quantity (``l``, ``qty``), never from the status; the average price is ``Z/z`` (spot) or
  ``ap``/``avgPrice`` (futures);
- every fill carries the venue's trade id (the deduplication key), its fee and fee asset (BNB or
  otherwise) and maker/taker from ``m``/``isMaker``/``maker``;
- an order's Atlas id comes only from a client order id Atlas gave (the gateway's decoder);
  exchange-generated orders (``autoclose-…``, ``adl_autoclose``, ``settlement_autoclose-…``) and
  orders placed elsewhere are external (``order_id`` None);
- a canceled spot order's own client id is ``C`` (``c`` is then the cancel request's id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from atlas_oms.model.enums import LiquiditySide, PositionSide, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.venue import (
    BalanceUpdate,
    FactSource,
    OrderUpdate,
    PositionUpdate,
    PriceTick,
    VenueBalance,
    VenueFill,
    VenueInstrument,
    VenueOrder,
    VenueOrderState,
    VenuePosition,
)
from atlas_oms.venues.figures import optional, positive_price

ZERO = Decimal(0)
MS = 1_000_000
#: Client order id prefixes of orders the exchange itself creates (liquidation, ADL, delivery).
EXCHANGE_GENERATED = ("autoclose-", "adl_autoclose", "settlement_autoclose")

Raw = Mapping[str, Any]


@dataclass
class Context:
    """What translation needs besides the JSON: which venue account, the instruments loaded
    (venue symbol → unified symbol, and settle asset for futures fees), and the gateway's
    decoder of its client order ids."""

    venue: str
    account_id: str
    decode_client_id: Callable[[str], int | None]
    symbols: dict[str, str] = field(default_factory=dict)
    settle: dict[str, str] = field(default_factory=dict)

    def symbol(self, venue_symbol: str) -> str:
        return self.symbols.get(venue_symbol, venue_symbol)

    def order_id(self, client_order_id: str | None) -> int | None:
        if not client_order_id or is_exchange_generated(client_order_id):
            return None
        return self.decode_client_id(client_order_id)

    def learn(self, instruments: Iterable[VenueInstrument]) -> None:
        for vi in instruments:
            self.symbols[vi.venue_symbol] = vi.instrument.symbol
            self.settle[vi.venue_symbol] = vi.instrument.settle_asset


def is_exchange_generated(client_order_id: str) -> bool:
    return client_order_id.startswith(EXCHANGE_GENERATED)


# --------------------------------------------------------------------------- small helpers
def dec(value: Any, default: Decimal = ZERO) -> Decimal:
    if value is None or value == "":
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return default


def ms_to_ns(value: Any) -> int:
    try:
        return int(value) * MS
    except (TypeError, ValueError):
        return 0


def _side(value: Any) -> Side:
    return Side.SELL if str(value).upper() == "SELL" else Side.BUY


def _position_side(value: Any) -> PositionSide | None:
    try:
        return PositionSide(str(value).upper()) if value else None
    except ValueError:
        return None


_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_TIF_MORE = {"GTD": TimeInForce.GTD, "GTX": TimeInForce.GTC}

_STATE = {
    "NEW": VenueOrderState.NEW,
    "PENDING_NEW": VenueOrderState.NEW,
    "PARTIALLY_FILLED": VenueOrderState.PARTIALLY_FILLED,
    "FILLED": VenueOrderState.FILLED,
    "CANCELED": VenueOrderState.CANCELED,
    "REJECTED": VenueOrderState.REJECTED,
    "EXPIRED": VenueOrderState.EXPIRED,
    "EXPIRED_IN_MATCH": VenueOrderState.EXPIRED,
}


def order_state(status: str, qty: Decimal, cum_qty: Decimal) -> VenueOrderState:
    """Binance status → Atlas state (§1.9). Open states are refined by the cumulative filled
    quantity (``PENDING_CANCEL``, ``NEW_ADL``, ``NEW_INSURANCE`` and unknown words count as
    open unless everything has filled)."""
    state = _STATE.get(status.upper())
    if state is None or state.is_open:
        if qty > 0 and cum_qty >= qty:
            return VenueOrderState.FILLED
        return VenueOrderState.PARTIALLY_FILLED if cum_qty > 0 else VenueOrderState.NEW
    return state


_ORDER_TYPE = {
    "LIMIT": "LIMIT",
    "LIMIT_MAKER": "LIMIT",
    "MARKET": "MARKET",
    "STOP_LOSS": "STOP_MARKET",
    "STOP_LOSS_LIMIT": "STOP_LIMIT",
    "TAKE_PROFIT": "TAKE_PROFIT_MARKET",
    "TAKE_PROFIT_LIMIT": "TAKE_PROFIT_LIMIT",
}
_FUTURES_ORDER_TYPE = {
    "LIMIT": "LIMIT",
    "MARKET": "MARKET",
    "STOP": "STOP_LIMIT",
    "STOP_MARKET": "STOP_MARKET",
    "TAKE_PROFIT": "TAKE_PROFIT_LIMIT",
    "TAKE_PROFIT_MARKET": "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET": "TRAILING_STOP_MARKET",
    "LIQUIDATION": "MARKET",
}


def order_type(raw_type: str, *, futures: bool) -> str:
    table = _FUTURES_ORDER_TYPE if futures else _ORDER_TYPE
    return table.get(raw_type.upper(), raw_type.upper())


def _tif(raw: Any) -> TimeInForce:
    word = str(raw or "GTC").upper()
    return _TIF.get(word) or _TIF_MORE.get(word, TimeInForce.GTC)


def _reason(*words: Any) -> str:
    for word in words:
        if word and str(word).upper() not in ("NONE", "0"):
            return str(word)
    return ""


# --------------------------------------------------------------------------- orders (REST)
def parse_order(raw: Raw, ctx: Context, *, futures: bool) -> VenueOrder:
    """An order as a REST answer shows it: place (``FULL``/``RESULT``), query, open orders,
    cancel, amend (spot ``amendedOrder`` is unwrapped by the caller; it spells ``qty`` and
    ``cumulativeQuoteQty``)."""
    venue_symbol = str(raw.get("symbol", ""))
    qty = dec(raw.get("origQty", raw.get("qty")))  # spot amend answers say ``qty``
    cum = dec(raw.get("executedQty"))
    if futures:
        avg = dec(raw.get("avgPrice")) if cum > 0 else None
        if avg is not None and avg == 0:
            quote = dec(raw.get("cumQuote"))
            avg = quote / cum if quote > 0 else None
    else:
        quote = dec(raw.get("cummulativeQuoteQty", raw.get("cumulativeQuoteQty")))
        avg = quote / cum if cum > 0 and quote > 0 else None
    raw_type = str(raw.get("type") or raw.get("origType") or "LIMIT")
    tif_word = str(raw.get("timeInForce") or "GTC").upper()
    price = dec(raw.get("price"))
    client_id = raw.get("clientOrderId") or None
    status = str(raw.get("status", "NEW"))
    ts = (
        raw.get("updateTime")
        or raw.get("transactTime")
        or raw.get("workingTime")
        or raw.get("time")
    )
    return VenueOrder(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=ctx.symbol(venue_symbol),
        venue_symbol=venue_symbol,
        venue_order_id=str(raw.get("orderId", "")),
        client_order_id=client_id,
        order_id=ctx.order_id(client_id),
        side=_side(raw.get("side")),
        order_type=order_type(raw_type, futures=futures),
        qty=qty,
        price=price if price > 0 else None,
        cum_qty=cum,
        avg_px=avg,
        state=order_state(status, qty, cum),
        ts=ms_to_ns(ts),
        tif=_tif(tif_word),
        reduce_only=bool(raw.get("reduceOnly", False)),
        post_only=raw_type.upper() == "LIMIT_MAKER" or tif_word == "GTX",
        position_side=_position_side(raw.get("positionSide")) if futures else None,
        venue_status=status,
    )


def parse_full_fills(raw: Raw, order: VenueOrder) -> tuple[VenueFill, ...]:
    """The ``fills`` of a spot ``FULL`` place answer. They executed on arrival, so Atlas's
    order took liquidity (taker)."""
    return tuple(
        VenueFill(
            venue=order.venue,
            account_id=order.account_id,
            symbol=order.symbol,
            venue_order_id=order.venue_order_id,
            client_order_id=order.client_order_id,
            order_id=order.order_id,
            trade_id=str(row.get("tradeId")),
            side=order.side,
            qty=dec(row.get("qty")),
            px=dec(row.get("price")),
            fee=dec(row.get("commission")),
            fee_asset=str(row.get("commissionAsset") or ""),
            liquidity_side=LiquiditySide.TAKER,
            ts=ms_to_ns(raw.get("transactTime")) or order.ts,
        )
        for row in raw.get("fills") or ()
    )


def parse_trade(
    raw: Raw, ctx: Context, *, futures: bool, client_order_id: str | None = None
) -> VenueFill:
    """One row of spot ``myTrades`` or futures ``userTrades``. These rows do not carry the
    client order id: the caller passes it when it knows the order."""
    venue_symbol = str(raw.get("symbol", ""))
    if futures:
        side = _side(raw.get("side"))
        maker = bool(raw.get("maker", False))
    else:
        side = Side.BUY if raw.get("isBuyer") else Side.SELL
        maker = bool(raw.get("isMaker", False))
    pnl = raw.get("realizedPnl")
    return VenueFill(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=ctx.symbol(venue_symbol),
        venue_order_id=str(raw.get("orderId", "")),
        client_order_id=client_order_id,
        order_id=ctx.order_id(client_order_id),
        trade_id=str(raw.get("id")),
        side=side,
        qty=dec(raw.get("qty")),
        px=dec(raw.get("price")),
        fee=dec(raw.get("commission")),
        fee_asset=str(raw.get("commissionAsset") or ""),
        liquidity_side=LiquiditySide.MAKER if maker else LiquiditySide.TAKER,
        ts=ms_to_ns(raw.get("time")),
        position_side=_position_side(raw.get("positionSide")) if futures else None,
        realized_pnl=dec(pnl) if futures and pnl is not None else None,
    )


# --------------------------------------------------------------------------- stream events
def unwrap(message: Raw) -> Raw:
    """The event inside a WS-API ``{"subscriptionId","event"}`` or combined-stream
    ``{"stream","data"}`` wrapper (or the message itself)."""
    event = message.get("event")
    if isinstance(event, dict):
        return event
    data = message.get("data")
    if isinstance(data, dict) and "stream" in message:
        return data
    return message


def _stream_fill(o: Raw, order: VenueOrder, fee_asset_default: str) -> VenueFill | None:
    trade_id = o.get("t")
    last_qty = dec(o.get("l"))
    if trade_id is None or str(trade_id) in ("-1", "0", "") or last_qty <= 0:
        return None
    pnl = o.get("rp")
    return VenueFill(
        venue=order.venue,
        account_id=order.account_id,
        symbol=order.symbol,
        venue_order_id=order.venue_order_id,
        client_order_id=order.client_order_id,
        order_id=order.order_id,
        trade_id=str(trade_id),
        side=order.side,
        qty=last_qty,
        px=dec(o.get("L")),
        fee=dec(o.get("n")),
        fee_asset=str(o.get("N") or fee_asset_default),
        liquidity_side=LiquiditySide.MAKER if o.get("m") else LiquiditySide.TAKER,
        ts=ms_to_ns(o.get("T")) or order.ts,
        position_side=order.position_side,
        realized_pnl=dec(pnl) if pnl is not None else None,
    )


def parse_execution_report(event: Raw, ctx: Context) -> OrderUpdate:
    """A spot ``executionReport`` (already unwrapped)."""
    venue_symbol = str(event.get("s", ""))
    exec_type = str(event.get("x", ""))
    client_id = str(event.get("c") or "") or None
    original = str(event.get("C") or "")
    if original:  # a cancel: ``c`` is the cancel request's id, ``C`` the order's own
        client_id = original
    qty = dec(event.get("q"))
    cum = dec(event.get("z"))
    quote = dec(event.get("Z"))
    price = dec(event.get("p"))
    raw_type = str(event.get("o", "LIMIT"))
    status = str(event.get("X", "NEW"))
    ts = ms_to_ns(event.get("T") or event.get("E"))
    order = VenueOrder(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=ctx.symbol(venue_symbol),
        venue_symbol=venue_symbol,
        venue_order_id=str(event.get("i", "")),
        client_order_id=client_id,
        order_id=ctx.order_id(client_id),
        side=_side(event.get("S")),
        order_type=order_type(raw_type, futures=False),
        qty=qty,
        price=price if price > 0 else None,
        cum_qty=cum,
        avg_px=quote / cum if cum > 0 and quote > 0 else None,
        state=order_state(status, qty, cum),
        ts=ts,
        tif=_tif(event.get("f")),
        post_only=raw_type.upper() == "LIMIT_MAKER",
        reason=_reason(event.get("r"), event.get("eR")),
        venue_status=status,
    )
    return OrderUpdate(
        venue=ctx.venue,
        account_id=ctx.account_id,
        ts=ts,
        source=FactSource.STREAM,
        order=order,
        exec_type=exec_type,
        fill=_stream_fill(event, order, ""),
    )


def parse_order_trade_update(event: Raw, ctx: Context) -> OrderUpdate:
    """A USDⓈ-M ``ORDER_TRADE_UPDATE``."""
    o: Raw = event.get("o") or {}
    venue_symbol = str(o.get("s", ""))
    client_id = str(o.get("c") or "") or None
    qty = dec(o.get("q"))
    cum = dec(o.get("z"))
    avg = dec(o.get("ap"))
    price = dec(o.get("p"))
    tif_word = str(o.get("f") or "GTC").upper()
    status = str(o.get("X", "NEW"))
    ts = ms_to_ns(o.get("T") or event.get("T") or event.get("E"))
    order = VenueOrder(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=ctx.symbol(venue_symbol),
        venue_symbol=venue_symbol,
        venue_order_id=str(o.get("i", "")),
        client_order_id=client_id,
        order_id=ctx.order_id(client_id),
        side=_side(o.get("S")),
        order_type=order_type(str(o.get("o", "LIMIT")), futures=True),
        qty=qty,
        price=price if price > 0 else None,
        cum_qty=cum,
        avg_px=avg if cum > 0 and avg > 0 else None,
        state=order_state(status, qty, cum),
        ts=ts,
        tif=_tif(tif_word),
        reduce_only=bool(o.get("R", False)),
        post_only=tif_word == "GTX",
        position_side=_position_side(o.get("ps")),
        reason=_reason(o.get("er")),
        venue_status=status,
    )
    return OrderUpdate(
        venue=ctx.venue,
        account_id=ctx.account_id,
        ts=ts,
        source=FactSource.STREAM,
        order=order,
        exec_type=str(o.get("x", "")),
        fill=_stream_fill(o, order, ctx.settle.get(venue_symbol, "")),
    )


def parse_outbound_account_position(event: Raw, ctx: Context) -> BalanceUpdate:
    """Spot ``outboundAccountPosition``: the assets that changed, after the change."""
    return BalanceUpdate(
        venue=ctx.venue,
        account_id=ctx.account_id,
        ts=ms_to_ns(event.get("u") or event.get("E")),
        balances=tuple(
            VenueBalance(asset=str(b.get("a")), free=dec(b.get("f")), locked=dec(b.get("l")))
            for b in event.get("B") or ()
        ),
        complete=False,
    )


def parse_account_update(event: Raw, ctx: Context) -> tuple[BalanceUpdate, PositionUpdate]:
    """USDⓈ-M ``ACCOUNT_UPDATE``: wallet balances and the positions that changed (a leg at
    zero is reported: it is now flat)."""
    a: Raw = event.get("a") or {}
    ts = ms_to_ns(event.get("T") or event.get("E"))
    balances = tuple(
        VenueBalance(asset=str(b.get("a")), free=dec(b.get("wb"))) for b in a.get("B") or ()
    )
    positions = tuple(
        _position(
            ctx,
            venue_symbol=str(p.get("s", "")),
            amount=dec(p.get("pa")),
            entry=dec(p.get("ep")),
            side=p.get("ps"),
            margin_mode=p.get("mt"),
            upnl=p.get("up"),
            leverage=None,
            ts=ts,
        )
        for p in a.get("P") or ()
    )
    return (
        BalanceUpdate(venue=ctx.venue, account_id=ctx.account_id, ts=ts, balances=balances),
        PositionUpdate(venue=ctx.venue, account_id=ctx.account_id, ts=ts, positions=positions),
    )


def parse_price_tick(message: Raw, ctx: Context, now_ns: int = 0) -> PriceTick | None:
    """A public stream message (book ticker, trade, mark price) as a price tick; None for
    anything else (subscription answers, depth)."""
    event = unwrap(message)
    kind = event.get("e")
    if "s" not in event:
        return None
    symbol = ctx.symbol(str(event["s"]))
    ts = ms_to_ns(event.get("E") or event.get("T")) or now_ns
    if kind in (None, "bookTicker") and "b" in event and "a" in event:
        return PriceTick(
            symbol=symbol,
            ts=ts,
            bid=dec(event["b"]),
            ask=dec(event["a"]),
            bid_qty=dec(event["B"]) if "B" in event else None,
            ask_qty=dec(event["A"]) if "A" in event else None,
        )
    if kind == "trade":  # ``q``: the trade's quantity in base units (spot and USDⓈ-M)
        qty = dec(event["q"]) if event.get("q") not in (None, "") else None
        return PriceTick(symbol=symbol, ts=ts, last=dec(event.get("p")), last_qty=qty)
    if kind == "markPriceUpdate":
        return PriceTick(symbol=symbol, ts=ts, mark=dec(event.get("p")))
    return None


def parse_book_ticker_row(row: Raw, ctx: Context, now_ns: int = 0) -> PriceTick:
    """A row of ``GET /api/v3/ticker/bookTicker`` or ``/fapi/v1/ticker/bookTicker``."""
    return PriceTick(
        symbol=ctx.symbol(str(row["symbol"])),
        ts=ms_to_ns(row.get("time")) or now_ns,
        bid=dec(row["bidPrice"]),
        ask=dec(row["askPrice"]),
        bid_qty=dec(row["bidQty"]) if "bidQty" in row else None,
        ask_qty=dec(row["askQty"]) if "askQty" in row else None,
    )


# --------------------------------------------------------------------------- account (REST)
def parse_spot_balances(raw: Raw) -> list[VenueBalance]:
    """``GET /api/v3/account``: every asset held (zero rows dropped)."""
    out = []
    for b in raw.get("balances") or ():
        free, locked = dec(b.get("free")), dec(b.get("locked"))
        if free or locked:
            out.append(VenueBalance(asset=str(b.get("asset")), free=free, locked=locked))
    return out


def parse_futures_balances(raw: Raw) -> list[VenueBalance]:
    """``GET /fapi/v3/account`` (or v2): the wallet balance of each margin asset (cash, without
    unrealized P&L: Atlas computes margin and P&L from its own positions)."""
    out = []
    for a in raw.get("assets") or ():
        wallet = dec(a.get("walletBalance"))
        if wallet:
            out.append(VenueBalance(asset=str(a.get("asset")), free=wallet))
    return out


def _position(
    ctx: Context,
    *,
    venue_symbol: str,
    amount: Decimal,
    entry: Decimal,
    side: Any,
    margin_mode: Any,
    upnl: Any,
    leverage: Any,
    ts: int,
    figures: Raw | None = None,
) -> VenuePosition:
    position_side = _position_side(side) or PositionSide.BOTH
    qty = abs(amount) if position_side in (PositionSide.LONG, PositionSide.SHORT) else amount
    mode = str(margin_mode).lower() if margin_mode else None
    return VenuePosition(
        symbol=ctx.symbol(venue_symbol),
        qty=qty,
        entry_price=entry,
        position_side=position_side,
        leverage=dec(leverage) if leverage not in (None, "") else None,
        margin_mode=mode,
        unrealized_pnl=dec(upnl) if upnl not in (None, "") else None,
        ts=ts,
        **_figures(figures or {}, mode),
    )


def _figures(p: Raw, mode: str | None) -> dict[str, Decimal | None]:
    """The venue's own figures of a ``positionRisk`` row: ``liquidationPrice`` ("0" when none),
    ``markPrice``, ``maintMargin``, and the position's margin (isolated: ``isolatedWallet``, the
    wallet of the position, non-zero only when isolated (v3 names no margin mode); cross:
    ``positionInitialMargin``, else ``initialMargin``)."""
    im = optional(p.get("isolatedWallet"))
    if not im or mode == "cross":
        im = optional(p.get("positionInitialMargin", p.get("initialMargin")))
    return {
        "liquidation_price": positive_price(p.get("liquidationPrice")),
        "mark_price": positive_price(p.get("markPrice")),
        "maintenance_margin": optional(p.get("maintMargin")),
        "initial_margin": im,
    }


def parse_position_risk(rows: Iterable[Raw], ctx: Context) -> list[VenuePosition]:
    """``GET /fapi/v3/positionRisk`` (or v2): open legs only (a snapshot: an absent leg is
    flat). One-way mode: one signed ``BOTH`` leg; hedge mode: positive LONG and SHORT legs."""
    out = []
    for p in rows:
        amount = dec(p.get("positionAmt"))
        if not amount:
            continue
        isolated = p.get("isolated")
        mode = p.get("marginType") or (
            None if isolated is None else ("isolated" if isolated else "cross")
        )
        if mode is None and "isolatedWallet" in p:  # v3 names no mode: an isolated wallet does
            mode = "isolated" if optional(p.get("isolatedWallet")) else "cross"
        out.append(
            _position(
                ctx,
                venue_symbol=str(p.get("symbol", "")),
                amount=amount,
                entry=dec(p.get("entryPrice")),
                side=p.get("positionSide"),
                margin_mode=mode,
                upnl=p.get("unRealizedProfit", p.get("unrealizedProfit")),
                leverage=p.get("leverage"),
                ts=ms_to_ns(p.get("updateTime")),
                figures=p,
            )
        )
    return out


def parse_symbol_config(
    rows: Iterable[Raw], ctx: Context
) -> tuple[dict[str, Decimal], dict[str, str]]:
    """``GET /fapi/v1/symbolConfig``: leverage and margin mode (``cross``/``isolated``) per
    unified symbol."""
    leverage: dict[str, Decimal] = {}
    margin: dict[str, str] = {}
    for row in rows:
        symbol = ctx.symbol(str(row.get("symbol", "")))
        if row.get("leverage") is not None:
            leverage[symbol] = dec(row.get("leverage"))
        mode = str(row.get("marginType") or "").lower()
        if mode:
            margin[symbol] = "cross" if mode.startswith("cross") else mode
    return leverage, margin


# --------------------------------------------------------------------------- instruments
def _filters(raw: Raw) -> dict[str, Raw]:
    return {str(f.get("filterType")): f for f in raw.get("filters") or ()}


_ATLAS_TYPES = {
    "LIMIT": "LIMIT",
    "MARKET": "MARKET",
    "STOP_LOSS": "STOP_MARKET",
    "STOP_LOSS_LIMIT": "STOP_LIMIT",
    "TAKE_PROFIT": "TAKE_PROFIT_MARKET",
    "TAKE_PROFIT_LIMIT": "TAKE_PROFIT_LIMIT",
    "STOP": "STOP_LIMIT",
    "STOP_MARKET": "STOP_MARKET",
    "TAKE_PROFIT_MARKET": "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET": "TRAILING_STOP_MARKET",
}


def _atlas_order_types(raw: Raw, *, futures: bool) -> tuple[str, ...]:
    seen: list[str] = []
    for word in raw.get("orderTypes") or ():
        word = str(word).upper()
        if futures and word == "TAKE_PROFIT":
            mapped = "TAKE_PROFIT_LIMIT"
        else:
            mapped = _ATLAS_TYPES.get(word, "")
        if mapped and mapped not in seen:
            seen.append(mapped)
    return tuple(seen)


def _yymmdd(ms: int) -> str:
    # Civil date from days since the epoch (Howard Hinnant's algorithm): no datetime here.
    days = ms // 86_400_000
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = y + 1 if m <= 2 else y
    return f"{y % 100:02d}{m:02d}{d:02d}"


def parse_instrument(raw: Raw, venue: str, *, futures: bool) -> VenueInstrument | None:
    """One ``exchangeInfo`` symbol as an Atlas instrument (None for kinds Atlas does not
    trade here: futures other than perpetuals and quarterlies, spot pairs without filters)."""
    venue_symbol = str(raw.get("symbol", ""))
    base, quote = str(raw.get("baseAsset", "")), str(raw.get("quoteAsset", ""))
    filters = _filters(raw)
    price_filter = filters.get("PRICE_FILTER", {})
    lot = filters.get("LOT_SIZE", {})
    tick, step = dec(price_filter.get("tickSize")), dec(lot.get("stepSize"))
    if not base or not quote or tick <= 0 or step <= 0:
        return None
    notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
    min_notional = dec(notional.get("minNotional", notional.get("notional")))
    max_qty = dec(lot.get("maxQty")) or None
    status = str(raw.get("status") or raw.get("contractStatus") or "TRADING")
    rules: dict[str, Any] = {
        "venue": venue,
        "venue_symbol": venue_symbol,
        "min_qty": dec(lot.get("minQty")),
        "max_qty": max_qty,
        "min_notional": min_notional,
        "tradable": status == "TRADING",
    }
    if not futures:
        rules["iceberg_allowed"] = bool(raw.get("icebergAllowed"))
        parts = filters.get("ICEBERG_PARTS", {}).get("limit")
        rules["iceberg_parts"] = int(parts) if parts else None
        instrument = Instrument.spot(f"{base}/{quote}", tick_size=tick, lot_size=step, **rules)
    else:
        settle = str(raw.get("marginAsset") or quote)
        contract = str(raw.get("contractType", "PERPETUAL"))
        rules["multiplier"] = dec(raw.get("contractSize"), Decimal(1))
        if contract in ("PERPETUAL", "TRADIFI_PERPETUAL"):
            instrument = Instrument.perpetual(
                f"{base}/{quote}:{settle}", tick_size=tick, lot_size=step, **rules
            )
        elif contract in ("CURRENT_QUARTER", "NEXT_QUARTER", "CURRENT_MONTH", "NEXT_MONTH"):
            delivery = int(raw.get("deliveryDate") or 0)
            instrument = Instrument.future(
                f"{base}/{quote}:{settle}-{_yymmdd(delivery)}",
                tick_size=tick,
                lot_size=step,
                expiry_ts=delivery * MS,
                **rules,
            )
        else:
            return None
    return VenueInstrument(
        instrument=instrument,
        venue_symbol=venue_symbol,
        status=status,
        order_types=_atlas_order_types(raw, futures=futures),
    )


def parse_exchange_info(raw: Raw, venue: str, *, futures: bool) -> list[VenueInstrument]:
    out = []
    for row in raw.get("symbols") or ():
        vi = parse_instrument(row, venue, futures=futures)
        if vi is not None:
            out.append(vi)
    return out


__all__ = [
    "Context",
    "order_state",
    "parse_account_update",
    "parse_exchange_info",
    "parse_execution_report",
    "parse_full_fills",
    "parse_futures_balances",
    "parse_instrument",
    "parse_order",
    "parse_order_trade_update",
    "parse_outbound_account_position",
    "parse_position_risk",
    "parse_price_tick",
    "parse_spot_balances",
    "parse_symbol_config",
    "parse_trade",
    "unwrap",
]
