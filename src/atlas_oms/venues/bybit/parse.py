"""Bybit v5 JSON (REST rows and private-stream messages) in Atlas's venue language (pure).

Rules (reference/venues.md §1.4, §1.9):

- the state comes from ``orderStatus`` but the quantity from ``cumExecQty``: ``PartiallyFilled``
  with its cumulative quantity; ``PartiallyFilledCanceled`` (spot) and ``Cancelled`` with a fill
  (derivatives) are CANCELED keeping the partial quantity; ``Rejected`` with a fill is CANCELED
  (as NautilusTrader does); ``Deactivated`` (a conditional canceled before its trigger) CANCELED;
- fills are ``execType == "Trade"`` executions keyed by ``execId``; funding, ADL, delivery rows
  are not order fills;
- ``positionIdx`` 0 is one-way (BOTH), 1 the long leg, 2 the short leg of hedge mode;
- ``orderLinkId`` is the client order id; an empty one is an order Atlas did not place.
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
Raw = Mapping[str, Any]

IDX_SIDE = {0: PositionSide.BOTH, 1: PositionSide.LONG, 2: PositionSide.SHORT}
SIDE_IDX = {v: k for k, v in IDX_SIDE.items()}


@dataclass
class Context:
    venue: str
    account_id: str
    category: str
    decode_client_id: Callable[[str], int | None]
    symbols: dict[str, str] = field(default_factory=dict)
    coins: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def linear(self) -> bool:
        return self.category == "linear"

    def symbol(self, venue_symbol: str) -> str:
        known = self.symbols.get(venue_symbol)
        if known:
            return known
        if venue_symbol.endswith("USDT"):
            base = venue_symbol[: -len("USDT")]
            return f"{base}/USDT:USDT" if self.linear else f"{base}/USDT"
        return venue_symbol

    def order_id(self, link: str | None) -> int | None:
        return self.decode_client_id(link) if link else None

    def learn(self, found: Iterable[VenueInstrument]) -> None:
        for vi in found:
            self.symbols[vi.venue_symbol] = vi.instrument.symbol
            self.coins[vi.venue_symbol] = (vi.instrument.base, vi.instrument.quote)


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


def side(value: Any) -> Side:
    return Side.SELL if str(value).lower() == "sell" else Side.BUY


def order_state(status: str, cum_qty: Decimal) -> VenueOrderState:
    if status in ("New", "Created", "Untriggered", "Triggered", "Active"):
        return VenueOrderState.PARTIALLY_FILLED if cum_qty > 0 else VenueOrderState.NEW
    if status == "PartiallyFilled":
        return VenueOrderState.PARTIALLY_FILLED
    if status == "Filled":
        return VenueOrderState.FILLED
    if status == "Rejected":
        return VenueOrderState.CANCELED if cum_qty > 0 else VenueOrderState.REJECTED
    # Cancelled, PartiallyFilledCanceled, Deactivated
    return VenueOrderState.CANCELED


def position_side(row: Raw, ctx: Context) -> PositionSide | None:
    if not ctx.linear:
        return None
    try:
        return IDX_SIDE.get(int(row.get("positionIdx") or 0), PositionSide.BOTH)
    except (TypeError, ValueError):
        return PositionSide.BOTH


_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}


def parse_order(row: Raw, ctx: Context) -> VenueOrder:
    cum = dec(row.get("cumExecQty"))
    status = str(row.get("orderStatus", ""))
    link = str(row.get("orderLinkId") or "") or None
    tif = str(row.get("timeInForce") or "GTC")
    avg = dec(row.get("avgPrice"))
    price = dec(row.get("price"))
    reason = ""
    if status in ("Rejected", "Cancelled", "PartiallyFilledCanceled", "Deactivated"):
        reason = f"{row.get('cancelType') or ''} {row.get('rejectReason') or ''}".strip()
    return VenueOrder(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=ctx.symbol(str(row.get("symbol", ""))),
        venue_symbol=str(row.get("symbol", "")),
        venue_order_id=str(row.get("orderId", "")),
        client_order_id=link,
        order_id=ctx.order_id(link),
        side=side(row.get("side")),
        order_type=str(row.get("orderType", "Limit")).upper(),
        qty=dec(row.get("qty")),
        price=price or None,
        cum_qty=cum,
        avg_px=avg if cum and avg else None,
        state=order_state(status, cum),
        ts=ms_to_ns(row.get("updatedTime") or row.get("createdTime")),
        tif=_TIF.get(tif, TimeInForce.GTC),
        post_only=tif == "PostOnly",
        reduce_only=bool(row.get("reduceOnly")),
        position_side=position_side(row, ctx),
        reason=reason,
        venue_status=status,
    )


def fee_asset(row: Raw, ctx: Context) -> str:
    given = str(row.get("feeCurrency") or "")
    if given:
        return given
    base, quote = ctx.coins.get(str(row.get("symbol", "")), ("", "USDT"))
    if not ctx.linear and side(row.get("side")) is Side.BUY and base:
        return base
    return quote


def is_trade(row: Raw) -> bool:
    return str(row.get("execType") or "Trade") == "Trade"


def parse_execution(row: Raw, ctx: Context) -> VenueFill:
    link = str(row.get("orderLinkId") or "") or None
    return VenueFill(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=ctx.symbol(str(row.get("symbol", ""))),
        venue_order_id=str(row.get("orderId", "")),
        client_order_id=link,
        order_id=ctx.order_id(link),
        trade_id=str(row.get("execId", "")),
        side=side(row.get("side")),
        qty=dec(row.get("execQty")),
        px=dec(row.get("execPrice")),
        fee=dec(row.get("execFee")),
        fee_asset=fee_asset(row, ctx),
        liquidity_side=LiquiditySide.MAKER if row.get("isMaker") else LiquiditySide.TAKER,
        ts=ms_to_ns(row.get("execTime")),
        position_side=position_side(row, ctx),
    )


def execution_update(row: Raw, ctx: Context) -> OrderUpdate:
    """A stream ``execution`` row as an order update carrying the fill. The order's cumulative
    quantity is ``orderQty - leavesQty`` (the row has no cumulative field)."""
    fill = parse_execution(row, ctx)
    qty = dec(row.get("orderQty"))
    leaves = dec(row.get("leavesQty"))
    cum = qty - leaves
    order = VenueOrder(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=fill.symbol,
        venue_symbol=str(row.get("symbol", "")),
        venue_order_id=fill.venue_order_id,
        client_order_id=fill.client_order_id,
        order_id=fill.order_id,
        side=fill.side,
        order_type=str(row.get("orderType", "Limit")).upper(),
        qty=qty,
        price=dec(row.get("orderPrice")) or None,
        cum_qty=cum,
        avg_px=None,
        state=VenueOrderState.FILLED if leaves == 0 else VenueOrderState.PARTIALLY_FILLED,
        ts=fill.ts,
        position_side=fill.position_side,
        venue_status="Filled" if leaves == 0 else "PartiallyFilled",
    )
    return OrderUpdate(
        venue=ctx.venue,
        account_id=ctx.account_id,
        ts=fill.ts,
        order=order,
        exec_type="TRADE",
        fill=fill,
    )


def order_update(row: Raw, ctx: Context) -> OrderUpdate:
    order = parse_order(row, ctx)
    kind = {
        VenueOrderState.NEW: "NEW",
        VenueOrderState.PARTIALLY_FILLED: "STATUS",
        VenueOrderState.FILLED: "STATUS",
        VenueOrderState.CANCELED: "CANCELED",
        VenueOrderState.REJECTED: "REJECTED",
        VenueOrderState.EXPIRED: "EXPIRED",
    }[order.state]
    return OrderUpdate(
        venue=ctx.venue, account_id=ctx.account_id, ts=order.ts, order=order, exec_type=kind
    )


def parse_wallet(rows: Iterable[Raw]) -> list[VenueBalance]:
    out = []
    for account in rows:
        for coin in account.get("coin") or ():
            total = dec(coin.get("walletBalance"))
            locked = dec(coin.get("locked"))
            out.append(
                VenueBalance(asset=str(coin.get("coin", "")), free=total - locked, locked=locked)
            )
    return out


def wallet_update(message: Raw, ctx: Context, ts: int) -> BalanceUpdate:
    return BalanceUpdate(
        venue=ctx.venue,
        account_id=ctx.account_id,
        ts=ts,
        balances=tuple(parse_wallet(message.get("data") or ())),
        complete=True,
    )


def parse_position(row: Raw, ctx: Context) -> VenuePosition:
    ps = position_side(row, ctx) or PositionSide.BOTH
    size = dec(row.get("size"))
    if ps is PositionSide.BOTH and str(row.get("side")) == "Sell":
        size = -size
    return VenuePosition(
        symbol=ctx.symbol(str(row.get("symbol", ""))),
        qty=size,
        entry_price=dec(row.get("avgPrice", row.get("entryPrice"))),
        position_side=ps,
        leverage=dec(row.get("leverage")) or None,
        margin_mode="isolated" if int(row.get("tradeMode") or 0) == 1 else "cross",
        unrealized_pnl=dec(row.get("unrealisedPnl")),
        ts=ms_to_ns(row.get("updatedTime")),
        # Bybit's own figures (``liqPrice`` is "" when there is none); no per-position ratio.
        liquidation_price=positive_price(row.get("liqPrice")),
        mark_price=positive_price(row.get("markPrice")),
        maintenance_margin=optional(row.get("positionMM")),
        initial_margin=optional(row.get("positionIM")),
    )


def parse_positions(rows: Iterable[Raw], ctx: Context) -> list[VenuePosition]:
    return [parse_position(r, ctx) for r in rows if dec(r.get("size"))]


def position_update(message: Raw, ctx: Context, ts: int) -> PositionUpdate:
    rows = [r for r in message.get("data") or () if r.get("category", ctx.category) == ctx.category]
    return PositionUpdate(
        venue=ctx.venue,
        account_id=ctx.account_id,
        ts=ts,
        positions=tuple(parse_position(r, ctx) for r in rows),
    )


def parse_instruments(raw: Raw, venue: str, category: str) -> list[VenueInstrument]:
    out = []
    for row in raw.get("list") or ():
        base, quote = str(row.get("baseCoin", "")), str(row.get("quoteCoin", ""))
        pf, lot = row.get("priceFilter") or {}, row.get("lotSizeFilter") or {}
        tick = dec(pf.get("tickSize"))
        step = dec(lot.get("qtyStep") or lot.get("basePrecision"))
        if not base or not quote or tick <= 0 or step <= 0:
            continue
        status = str(row.get("status", "Trading"))
        rules: dict[str, Any] = {
            "venue": venue,
            "venue_symbol": str(row.get("symbol", "")),
            "min_qty": dec(lot.get("minOrderQty")),
            "max_qty": dec(lot.get("maxOrderQty")) or None,
            "min_notional": dec(lot.get("minNotionalValue") or lot.get("minOrderAmt")),
            "tradable": status == "Trading",
        }
        if category == "spot":
            instrument = Instrument.spot(f"{base}/{quote}", tick_size=tick, lot_size=step, **rules)
        else:
            if str(row.get("contractType")) != "LinearPerpetual":
                continue
            settle = str(row.get("settleCoin") or quote)
            instrument = Instrument.perpetual(
                f"{base}/{quote}:{settle}", tick_size=tick, lot_size=step, **rules
            )
        out.append(
            VenueInstrument(
                instrument=instrument,
                venue_symbol=str(row.get("symbol", "")),
                status=status.upper(),
                order_types=("LIMIT", "MARKET"),
            )
        )
    return out


def parse_ticker(row: dict[str, Any], symbol: str, ts: int) -> PriceTick | None:
    """A ``/v5/market/tickers`` row as a :class:`PriceTick` of ``symbol`` (unified); empty
    fields are absent (None); None when the row has no price at all."""

    def opt(key: str) -> Decimal | None:
        value = row.get(key)
        return None if value in (None, "") else dec(value)

    bid, ask, last, mark = opt("bid1Price"), opt("ask1Price"), opt("lastPrice"), opt("markPrice")
    if bid is None and ask is None and last is None and mark is None:
        return None
    return PriceTick(
        symbol=symbol,
        ts=ts,
        bid=bid,
        ask=ask,
        last=last,
        mark=mark,
        bid_qty=opt("bid1Size") if bid is not None else None,
        ask_qty=opt("ask1Size") if ask is not None else None,
    )
