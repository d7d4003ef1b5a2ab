"""OKX v5 JSON → Atlas venue values (pure).

Symbols: ``BTC-USDT`` ↔ ``BTC/USDT`` (spot), ``BTC-USDT-SWAP`` ↔ ``BTC/USDT:USDT`` (linear
perpetual, settled in ``settleCcy``). Quantities: Atlas counts base units everywhere; a SWAP's
``sz`` counts contracts of ``ctVal`` base units, so Atlas qty = ``sz × ctVal`` (and the
instrument's lot and minimum are ``lotSz × ctVal``, ``minSz × ctVal``). Fees: OKX's ``fee`` is
negative when charged (a rebate is positive); Atlas's fee is positive when paid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from atlas_oms.model.enums import LiquiditySide, PositionSide, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.venue import (
    OrderUpdate,
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
Raw = dict[str, Any]

STATES = {
    "live": VenueOrderState.NEW,
    "partially_filled": VenueOrderState.PARTIALLY_FILLED,
    "filled": VenueOrderState.FILLED,
    "canceled": VenueOrderState.CANCELED,
    "mmp_canceled": VenueOrderState.CANCELED,
}
POS_SIDES = {"net": PositionSide.BOTH, "long": PositionSide.LONG, "short": PositionSide.SHORT}


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


def unified_symbol(inst_id: str, settle: str = "") -> str:
    """``BTC-USDT`` → ``BTC/USDT``; ``BTC-USDT-SWAP`` → ``BTC/USDT:USDT`` (settle defaults to
    the quote: linear); anything else is returned unchanged."""
    parts = inst_id.split("-")
    if len(parts) == 2:
        return f"{parts[0]}/{parts[1]}"
    if len(parts) == 3 and parts[2] == "SWAP":
        return f"{parts[0]}/{parts[1]}:{settle or parts[1]}"
    return inst_id


def inst_id_of(symbol: str) -> str:
    """``BTC/USDT`` → ``BTC-USDT``; ``BTC/USDT:USDT`` → ``BTC-USDT-SWAP``."""
    pair, _, settle = symbol.partition(":")
    base_quote = pair.replace("/", "-")
    return f"{base_quote}-SWAP" if settle else base_quote


@dataclass
class Context:
    """Which venue account, the instruments loaded (instId → unified symbol, contract value)
    and the gateway's decoder of its client order ids."""

    venue: str
    account_id: str
    decode_client_id: Callable[[str], int | None]
    symbols: dict[str, str] = field(default_factory=dict)
    ct_val: dict[str, Decimal] = field(default_factory=dict)

    def symbol(self, inst_id: str) -> str:
        return self.symbols.get(inst_id) or unified_symbol(inst_id)

    def contracts(self, inst_id: str) -> Decimal:
        return self.ct_val.get(inst_id, Decimal(1))

    def qty(self, inst_id: str, sz: Any) -> Decimal:
        """OKX ``sz`` → Atlas base units."""
        return dec(sz) * self.contracts(inst_id)

    def sz(self, inst_id: str, qty: Decimal) -> Decimal:
        """Atlas base units → OKX ``sz``."""
        return qty / self.contracts(inst_id)

    def order_id(self, client_order_id: str | None) -> int | None:
        return self.decode_client_id(client_order_id) if client_order_id else None

    def learn(self, instruments: Iterable[VenueInstrument], ct_val: dict[str, Decimal]) -> None:
        for vi in instruments:
            self.symbols[vi.venue_symbol] = vi.instrument.symbol
        self.ct_val.update(ct_val)


def parse_instruments(
    rows: Iterable[Raw], venue: str
) -> tuple[list[VenueInstrument], dict[str, Decimal]]:
    out: list[VenueInstrument] = []
    ct_vals: dict[str, Decimal] = {}
    for row in rows:
        inst_id = str(row.get("instId", ""))
        kind = row.get("instType")
        tick, lot, min_sz = dec(row.get("tickSz")), dec(row.get("lotSz")), dec(row.get("minSz"))
        if tick <= 0 or lot <= 0:
            continue
        state = str(row.get("state") or "live")
        rules: dict[str, Any] = {
            "venue": venue,
            "venue_symbol": inst_id,
            "tradable": state == "live",
        }
        if kind == "SPOT":
            symbol = f"{row.get('baseCcy')}/{row.get('quoteCcy')}"
            instrument = Instrument.spot(
                symbol, tick_size=tick, lot_size=lot, min_qty=min_sz, **rules
            )
        elif kind == "SWAP" and row.get("ctType", "linear") == "linear":
            ct_val = dec(row.get("ctVal"), Decimal(1)) * dec(row.get("ctMult"), Decimal(1))
            settle = str(row.get("settleCcy") or "")
            symbol = unified_symbol(inst_id, settle)
            ct_vals[inst_id] = ct_val
            instrument = Instrument.perpetual(
                symbol, tick_size=tick, lot_size=lot * ct_val, min_qty=min_sz * ct_val, **rules
            )
        else:
            continue
        out.append(
            VenueInstrument(instrument=instrument, venue_symbol=inst_id, status=state.upper())
        )
    return out, ct_vals


def _tif(ord_type: str) -> tuple[str, TimeInForce, bool]:
    """OKX ``ordType`` → (Atlas order type, time in force, post only)."""
    if ord_type == "market":
        return "MARKET", TimeInForce.IOC, False
    if ord_type == "ioc" or ord_type == "optimal_limit_ioc":
        return "LIMIT", TimeInForce.IOC, False
    if ord_type == "fok":
        return "LIMIT", TimeInForce.FOK, False
    if ord_type == "post_only":
        return "LIMIT", TimeInForce.GTC, True
    return "LIMIT", TimeInForce.GTC, False


def parse_order(row: Raw, ctx: Context) -> VenueOrder:
    inst_id = str(row.get("instId", ""))
    cid = str(row.get("clOrdId") or "") or None
    order_type, tif, post_only = _tif(str(row.get("ordType", "")))
    state = STATES.get(str(row.get("state", "")), VenueOrderState.NEW)
    px = dec(row.get("px")) or None
    avg = dec(row.get("avgPx")) or None
    pos_side = (
        POS_SIDES.get(str(row.get("posSide") or "")) if row.get("instType") != "SPOT" else None
    )
    return VenueOrder(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=ctx.symbol(inst_id),
        venue_symbol=inst_id,
        venue_order_id=str(row.get("ordId", "")),
        client_order_id=cid,
        order_id=ctx.order_id(cid),
        side=Side.BUY if row.get("side") == "buy" else Side.SELL,
        order_type=order_type,
        qty=ctx.qty(inst_id, row.get("sz")),
        price=px,
        cum_qty=ctx.qty(inst_id, row.get("accFillSz")),
        avg_px=avg,
        state=state,
        ts=ms_to_ns(row.get("uTime") or row.get("cTime")),
        tif=tif,
        reduce_only=str(row.get("reduceOnly", "")).lower() == "true",
        post_only=post_only,
        position_side=pos_side,
        reason=str(row.get("cancelSource") or ""),
        venue_status=str(row.get("state", "")),
    )


def parse_fill(
    row: Raw, ctx: Context, *, fee_key: str = "fee", ccy_key: str = "feeCcy"
) -> VenueFill:
    """A ``/trade/fills`` row, or the fill fields of an ``orders`` push (``fillFee``)."""
    inst_id = str(row.get("instId", ""))
    cid = str(row.get("clOrdId") or "") or None
    pos_side = (
        POS_SIDES.get(str(row.get("posSide") or "")) if row.get("instType") != "SPOT" else None
    )
    return VenueFill(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=ctx.symbol(inst_id),
        venue_order_id=str(row.get("ordId", "")),
        client_order_id=cid,
        order_id=ctx.order_id(cid),
        trade_id=str(row.get("tradeId", "")),
        side=Side.BUY if row.get("side") == "buy" else Side.SELL,
        qty=ctx.qty(inst_id, row.get("fillSz")),
        px=dec(row.get("fillPx")),
        fee=-dec(row.get(fee_key)),
        fee_asset=str(row.get(ccy_key) or ""),
        liquidity_side=LiquiditySide.MAKER if row.get("execType") == "M" else LiquiditySide.TAKER,
        ts=ms_to_ns(row.get("fillTime") or row.get("ts")),
        position_side=pos_side,
    )


def parse_order_push(row: Raw, ctx: Context) -> OrderUpdate:
    """One ``orders`` channel item: the order, and its fill when ``tradeId`` is set."""
    order = parse_order(row, ctx)
    fill = None
    if row.get("tradeId") and dec(row.get("fillSz")) > 0:
        fill = parse_fill(row, ctx, fee_key="fillFee", ccy_key="fillFeeCcy")
    if fill is not None:
        exec_type = "TRADE"
    elif order.state is VenueOrderState.CANCELED:
        exec_type = "CANCELED"
    elif order.state is VenueOrderState.NEW and row.get("cTime") == row.get("uTime"):
        exec_type = "NEW"
    else:
        exec_type = "REPLACED" if order.state is VenueOrderState.NEW else "TRADE"
    return OrderUpdate(
        venue=ctx.venue,
        account_id=ctx.account_id,
        ts=ms_to_ns(row.get("uTime")) or order.ts,
        order=order,
        exec_type=exec_type,
        fill=fill,
    )


def parse_balances(raw: list[Raw]) -> list[VenueBalance]:
    out = []
    for account in raw:
        for d in account.get("details") or ():
            cash = dec(d.get("cashBal"))
            frozen = dec(d.get("frozenBal"))
            if cash or frozen:
                out.append(VenueBalance(asset=str(d.get("ccy")), free=cash - frozen, locked=frozen))
    return out


def parse_positions(rows: Iterable[Raw], ctx: Context) -> list[VenuePosition]:
    out = []
    for row in rows:
        inst_id = str(row.get("instId", ""))
        pos = ctx.qty(inst_id, row.get("pos"))
        side = POS_SIDES.get(str(row.get("posSide") or "net"), PositionSide.BOTH)
        if not pos:
            continue
        out.append(
            VenuePosition(
                symbol=ctx.symbol(inst_id),
                qty=pos,
                entry_price=dec(row.get("avgPx")),
                position_side=side,
                leverage=dec(row.get("lever")) or None,
                margin_mode=str(row.get("mgnMode") or "") or None,
                unrealized_pnl=dec(row.get("upl")),
                ts=ms_to_ns(row.get("uTime")),
                # OKX's own figures: ``mmr`` is the maintenance margin *amount*; the position's
                # margin is ``imr`` in cross mode and ``margin`` in isolated mode.
                liquidation_price=positive_price(row.get("liqPx")),
                mark_price=positive_price(row.get("markPx")),
                maintenance_margin=optional(row.get("mmr")),
                initial_margin=optional(row.get("margin"))
                if str(row.get("mgnMode")) == "isolated"
                else optional(row.get("imr")),
                margin_ratio=optional(row.get("mgnRatio")),
            )
        )
    return out


def parse_ticker(row: Raw, ctx: Context) -> PriceTick | None:
    """A ``tickers`` row; ``last_qty`` = ``lastSz`` (contracts x ``ctVal``: base units) when
    positive. A ticker push repeats the last trade when only the book moved: the adapter
    counts a trade only when ``(last, lastSz)`` changed (:func:`new_trade`)."""
    inst_id = str(row.get("instId", ""))
    if not inst_id:
        return None
    last = dec(row.get("last")) or None
    size = ctx.qty(inst_id, row.get("lastSz")) if last is not None else ZERO
    return PriceTick(
        symbol=ctx.symbol(inst_id),
        ts=ms_to_ns(row.get("ts")),
        bid=dec(row.get("bidPx")) or None,
        ask=dec(row.get("askPx")) or None,
        last=last,
        last_qty=size if size > 0 else None,
    )


def new_trade(tick: PriceTick, seen: dict[str, tuple[Any, Any]]) -> PriceTick:
    """``tick`` with ``last_qty`` only when its ``(last, last_qty)`` differs from the previous
    ticker's of that symbol (``seen`` is updated): a repeated last trade is no new volume.
    Two equal trades in a row count once (OKX's ticker carries no trade id; the ``trades``
    channel would be exact)."""
    if tick.last_qty is None:
        return tick
    key = (tick.last, tick.last_qty)
    if seen.get(tick.symbol) == key:
        return msgspec.structs.replace(tick, last_qty=None)
    seen[tick.symbol] = key
    return tick
