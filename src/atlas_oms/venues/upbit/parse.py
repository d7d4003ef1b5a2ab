"""Upbit's JSON in Atlas's words (pure).

- status: ``wait``/``watch`` → NEW or PARTIALLY_FILLED (by ``executed_volume``), ``done`` →
  FILLED, ``cancel`` → CANCELED whatever was executed (a ``cancel`` with ``executed_volume > 0``
  is a partial fill then a cancel: the fills say how much; ccxt's unified ``canceled`` hides it);
- fills: ``trades[]`` of ``GET /v1/order`` (Upbit has no account-fills endpoint) and the
  ``myOrder`` messages with ``state: trade`` (``price``/``volume`` are the fill's own there);
- fees are in KRW (the quote); a REST trade has no fee of its own, so the order's ``paid_fee``
  is split over its trades by funds (the last takes the remainder: the sum is exact).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from atlas_oms.model.enums import InstrumentKind, LiquiditySide, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.venue import (
    BalanceUpdate,
    FactSource,
    OrderUpdate,
    PriceTick,
    VenueBalance,
    VenueFill,
    VenueInstrument,
    VenueOrder,
    VenueOrderState,
)

ZERO = Decimal(0)
EIGHT = Decimal("0.00000001")


def parse_ticker(
    row: dict[str, Any], symbol: str, now_ns: int, seen: dict[str, tuple[Any, ...]]
) -> PriceTick:
    """A ``GET /v1/ticker`` row (it has ``trade_price``) as a tick: ``last`` = the last trade's
    price; ``last_qty`` = its ``trade_volume`` (base units) only when that trade
    (``trade_timestamp``, price, volume) differs from the one the previous poll saw (``seen``,
    updated): a poll repeats the last trade until the next one. Trades between two polls are
    not seen (Upbit's ``trades`` WebSocket would give each)."""
    ts = int(row.get("timestamp") or 0) * 1_000_000 or now_ns
    last = dec(str(row["trade_price"]))
    qty = None
    if row.get("trade_volume") not in (None, ""):
        volume = dec(str(row["trade_volume"]))
        key = (row.get("trade_timestamp"), last, volume)
        if volume > 0 and seen.get(symbol) != key:
            qty = volume
        seen[symbol] = key
    return PriceTick(symbol=symbol, ts=ts, last=last, last_qty=qty)


def dec(value: Any, default: Decimal = ZERO) -> Decimal:
    if value is None or value == "":
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return default


def iso_to_ns(text: Any) -> int:
    try:
        return int(datetime.fromisoformat(str(text)).timestamp() * 1_000_000_000)
    except (TypeError, ValueError):
        return 0


@dataclass
class Context:
    venue: str
    account_id: str
    decode_client_id: Callable[[str], int | None]
    symbols: dict[str, str] = field(default_factory=dict)

    def symbol(self, market: str) -> str:
        """``KRW-BTC`` → ``BTC/KRW`` (Upbit writes the quote first)."""
        known = self.symbols.get(market)
        if known:
            return known
        quote, _, base = market.partition("-")
        return f"{base}/{quote}"

    def order_id(self, identifier: str | None) -> int | None:
        return self.decode_client_id(identifier) if identifier else None


def market_of(symbol: str) -> str:
    """``BTC/KRW`` → ``KRW-BTC``."""
    base, _, quote = symbol.partition("/")
    return f"{quote}-{base}"


def order_state(state: str, executed: Decimal) -> VenueOrderState:
    if state in ("wait", "watch", "trade"):
        return VenueOrderState.PARTIALLY_FILLED if executed > 0 else VenueOrderState.NEW
    if state == "done":
        return VenueOrderState.FILLED
    if state == "cancel":
        return VenueOrderState.CANCELED
    if state == "prevented":  # self-match prevention stopped it
        return VenueOrderState.CANCELED
    return VenueOrderState.NEW


_TIF = {"ioc": TimeInForce.IOC, "fok": TimeInForce.FOK}


def parse_order(raw: dict[str, Any], ctx: Context) -> VenueOrder:
    """A REST order (``GET /v1/order``, ``/v1/orders/open``, a place or cancel answer)."""
    executed = dec(raw.get("executed_volume"))
    funds = dec(raw.get("executed_funds"))
    side = raw.get("side") or str(raw.get("ask_bid", "")).lower()
    market = str(raw.get("market") or raw.get("code") or "")
    identifier = raw.get("identifier") or None
    volume = raw.get("volume")
    qty = dec(volume) if volume is not None else executed
    price = dec(raw.get("price")) if raw.get("price") not in (None, "") else None
    ord_type = str(raw.get("ord_type") or raw.get("order_type") or "limit")
    tif_raw = str(raw.get("time_in_force") or "").lower()
    ts = iso_to_ns(raw.get("created_at")) or int(raw.get("order_timestamp") or 0) * 1_000_000
    return VenueOrder(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=ctx.symbol(market),
        venue_symbol=market,
        venue_order_id=str(raw.get("uuid", "")),
        client_order_id=identifier,
        order_id=ctx.order_id(identifier),
        side=Side.BUY if side == "bid" else Side.SELL,
        order_type="LIMIT" if ord_type in ("limit", "best") else "MARKET",
        qty=qty,
        price=price if ord_type == "limit" else None,
        cum_qty=executed,
        avg_px=(funds / executed) if executed and funds else None,
        state=order_state(str(raw.get("state", "")), executed),
        ts=ts,
        tif=_TIF.get(tif_raw, TimeInForce.GTC),
        post_only=tif_raw == "post_only",
        venue_status=str(raw.get("state", "")),
    )


def parse_order_trades(raw: dict[str, Any], order: VenueOrder) -> list[VenueFill]:
    """The ``trades[]`` of ``GET /v1/order`` as fills (fees split from ``paid_fee``)."""
    trades = [t for t in raw.get("trades") or () if isinstance(t, dict)]
    paid = dec(raw.get("paid_fee"))
    total = sum((dec(t.get("funds")) for t in trades), ZERO)
    out: list[VenueFill] = []
    left = paid
    for i, t in enumerate(trades):
        funds = dec(t.get("funds"))
        if i == len(trades) - 1:
            fee = left
        else:
            fee = (paid * funds / total).quantize(EIGHT) if total else ZERO
            left -= fee
        out.append(
            VenueFill(
                venue=order.venue,
                account_id=order.account_id,
                symbol=order.symbol,
                venue_order_id=order.venue_order_id,
                client_order_id=order.client_order_id,
                order_id=order.order_id,
                trade_id=str(t.get("uuid", "")),
                side=order.side,
                qty=dec(t.get("volume")),
                px=dec(t.get("price")),
                fee=fee,
                fee_asset=order.venue_symbol.partition("-")[0],
                # REST trades do not say; a limit order's are taken as maker (approximation)
                liquidity_side=(
                    LiquiditySide.MAKER if order.order_type == "LIMIT" else LiquiditySide.TAKER
                ),
                ts=iso_to_ns(t.get("created_at")),
            )
        )
    return out


def parse_my_order(msg: dict[str, Any], ctx: Context) -> OrderUpdate:
    """A ``myOrder`` message. ``state: trade`` carries one fill (``trade_uuid``, the fill's
    ``price``/``volume``, ``trade_fee``, ``is_maker``); the order's own price then is unknown
    to the message (ccxt keeps it from its cache; so does the gateway's state)."""
    state = str(msg.get("state", ""))
    executed = dec(msg.get("executed_volume"))
    remaining = dec(msg.get("remaining_volume"))
    market = str(msg.get("code", ""))
    identifier = msg.get("identifier") or None
    side = Side.BUY if str(msg.get("ask_bid", "")).upper() == "BID" else Side.SELL
    trade = state == "trade" and msg.get("trade_uuid")
    ts = int(msg.get("trade_timestamp") or msg.get("timestamp") or 0) * 1_000_000
    funds = dec(msg.get("executed_funds"))
    ord_type = str(msg.get("order_type") or "limit")
    order = VenueOrder(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=ctx.symbol(market),
        venue_symbol=market,
        venue_order_id=str(msg.get("uuid", "")),
        client_order_id=identifier,
        order_id=ctx.order_id(identifier),
        side=side,
        order_type="LIMIT" if ord_type in ("limit", "best") else "MARKET",
        qty=executed + remaining
        if state in ("wait", "watch", "trade")
        else (dec(msg.get("volume")) if not trade else executed + remaining),
        price=None if trade or ord_type != "limit" else dec(msg.get("price")) or None,
        cum_qty=executed,
        avg_px=(funds / executed) if executed and funds else None,
        state=order_state(state, executed),
        ts=ts,
        venue_status=state,
    )
    fill = None
    if trade:
        maker = msg.get("is_maker")
        fill = VenueFill(
            venue=ctx.venue,
            account_id=ctx.account_id,
            symbol=order.symbol,
            venue_order_id=order.venue_order_id,
            client_order_id=identifier,
            order_id=order.order_id,
            trade_id=str(msg["trade_uuid"]),
            side=side,
            qty=dec(msg.get("volume")),
            px=dec(msg.get("price")),
            fee=dec(msg.get("trade_fee")),
            fee_asset=market.partition("-")[0],
            liquidity_side=LiquiditySide.MAKER if maker is True else LiquiditySide.TAKER,
            ts=ts,
        )
    exec_type = {"wait": "NEW", "trade": "TRADE", "done": "TRADE", "cancel": "CANCELED"}.get(
        state, state.upper()
    )
    if state == "done" and not trade:
        exec_type = "FILLED"
    return OrderUpdate(
        venue=ctx.venue,
        account_id=ctx.account_id,
        ts=ts,
        source=FactSource.STREAM,
        order=order,
        exec_type=exec_type,
        fill=fill,
    )


def parse_my_asset(msg: dict[str, Any], ctx: Context) -> BalanceUpdate:
    return BalanceUpdate(
        venue=ctx.venue,
        account_id=ctx.account_id,
        ts=int(msg.get("timestamp") or 0) * 1_000_000,
        balances=tuple(
            VenueBalance(
                asset=str(a.get("currency")),
                free=dec(a.get("balance")),
                locked=dec(a.get("locked")),
            )
            for a in msg.get("assets") or ()
        ),
        complete=False,
    )


def parse_accounts(rows: list[dict[str, Any]]) -> list[VenueBalance]:
    return [
        VenueBalance(
            asset=str(r.get("currency")), free=dec(r.get("balance")), locked=dec(r.get("locked"))
        )
        for r in rows
        if dec(r.get("balance")) or dec(r.get("locked"))
    ]


def parse_markets(
    rows: list[dict[str, Any]], venue: str, *, quote: str = "KRW", fee: Decimal = Decimal("0.0005")
) -> list[VenueInstrument]:
    """``GET /v1/market/all``: the KRW markets. The tick varies by price band (see
    :mod:`.ticks`): the instrument's ``tick_size`` is the finest of Upbit's units, and the
    adapter checks the band's tick before sending. Volume has 8 decimals; the minimum order is
    5,000 KRW (``/v1/orders/chance`` ``min_total``)."""
    out = []
    for r in rows:
        market = str(r.get("market", ""))
        q, _, base = market.partition("-")
        if q != quote or not base:
            continue
        symbol = f"{base}/{q}"
        out.append(
            VenueInstrument(
                instrument=Instrument(
                    symbol=symbol,
                    kind=InstrumentKind.SPOT,
                    base=base,
                    quote=q,
                    tick_size=EIGHT,
                    lot_size=EIGHT,
                    venue=venue,
                    min_notional=Decimal("5000"),
                    maker_fee=fee,
                    taker_fee=fee,
                    venue_symbol=market,
                ),
                venue_symbol=market,
                status="TRADING",
                order_types=("LIMIT", "MARKET"),
            )
        )
    return out
