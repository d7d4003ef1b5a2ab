"""Alpaca's JSON (Trading API v2 and ``trade_updates``) in Atlas's words (pure).

Statuses (alpaca-py ``OrderStatus`` and the docs' list) map to :class:`VenueOrderState` by
:func:`order_state`; the fill quantity never comes from the status (``filled_qty`` and the
executions say how much traded).

Replacement legs: a ``PATCH /v2/orders/{id}`` makes a new order (new id, the client id Atlas
gave it, ``<atlas id>r<ms>``) and ends the old one ``replaced``. Both legs are one Atlas order:
:func:`base_client_id` strips the suffix, and ``carried`` (what the earlier legs filled) is
added to the new leg's quantities so Atlas sees one order's cumulative quantity.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from atlas_oms.model.enums import LiquiditySide, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.venue import (
    FactSource,
    OrderUpdate,
    PriceTick,
    VenueBalance,
    VenueFill,
    VenueInstrument,
    VenueOrder,
    VenueOrderState,
)

Raw = dict[str, Any]
ZERO = Decimal(0)
VS = VenueOrderState

#: Statuses of an order still working (or that may still work) at Alpaca; with
#: ``filled_qty > 0`` they are PARTIALLY_FILLED, else NEW.
#: ``pending_new`` (routed, not yet accepted by the exchange) is acknowledged by the venue;
#: ``done_for_day`` is not terminal (the order resumes next session);
#: ``stopped`` (a trade is guaranteed, not yet done), ``suspended`` (not eligible for trading
#: for now) and ``held`` (a bracket leg waiting) are not terminal either;
#: ``pending_cancel``/``pending_replace`` are still working until the venue says otherwise.
WORKING = frozenset(
    {
        "new",
        "accepted",
        "pending_new",
        "accepted_for_bidding",
        "held",
        "pending_review",
        "done_for_day",
        "pending_cancel",
        "pending_replace",
        "stopped",
        "suspended",
        "partially_filled",
    }
)


def order_state(status: str, qty: Decimal, filled: Decimal) -> VenueOrderState:
    """Alpaca's ``status`` (and the quantities) as a :class:`VenueOrderState`.

    - ``filled`` → FILLED; ``canceled`` → CANCELED; ``expired`` → EXPIRED;
    - ``replaced`` → CANCELED (this leg; the replacement carries on);
    - ``rejected`` → REJECTED, or CANCELED when something filled first;
    - ``calculated`` (completed for the day, settlement pending) → FILLED when all filled, else
      working (as ``done_for_day``);
    - every status in :data:`WORKING` (and any status Atlas does not know) → NEW or
      PARTIALLY_FILLED by ``filled``.
    """
    if status == "filled":
        return VS.FILLED
    if status == "canceled":
        return VS.CANCELED
    if status == "expired":
        return VS.EXPIRED
    if status == "replaced":
        return VS.CANCELED
    if status == "rejected":
        return VS.CANCELED if filled > 0 else VS.REJECTED
    if status == "calculated" and qty > 0 and filled >= qty:
        return VS.FILLED
    return VS.PARTIALLY_FILLED if filled > 0 else VS.NEW


def dec(value: Any, default: Decimal = ZERO) -> Decimal:
    if value is None or value == "":
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return default


def ts_ns(value: Any) -> int:
    """An RFC 3339 time (``2026-12-07T14:30:00.123456789Z``) in ns since the epoch; 0 if none."""
    if not value:
        return 0
    text = str(value).replace("Z", "+00:00")
    frac_ns = 0
    if "." in text:
        head, rest = text.split(".", 1)
        digits = ""
        for c in rest:
            if not c.isdigit():
                break
            digits += c
        frac_ns = int((digits + "000000000")[:9])
        text = head + rest[len(digits) :]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return 0
    return int(parsed.timestamp()) * 1_000_000_000 + frac_ns


_SUFFIX = re.compile(r"(.*\d)r(\d{13})")


def base_client_id(client_order_id: str | None) -> str | None:
    """The Atlas client id of an order or of one of its replacement legs (``…r<ms>``)."""
    if not client_order_id:
        return None
    m = _SUFFIX.fullmatch(client_order_id)
    return m.group(1) if m else client_order_id


def leg_client_id(client_order_id: str, ms: int) -> str:
    """The client id of a replacement leg (Alpaca ids are unique: a leg cannot reuse it)."""
    return f"{client_order_id}r{ms:013d}"


_TIF = {
    "day": TimeInForce.DAY,
    "gtc": TimeInForce.GTC,
    "ioc": TimeInForce.IOC,
    "fok": TimeInForce.FOK,
    "opg": TimeInForce.DAY,
    "cls": TimeInForce.DAY,
}


class Context:
    """Who is asking: the venue, the account and how to read Atlas's client ids."""

    def __init__(
        self, venue: str, account_id: str, decode_client_id: Callable[[str], int | None]
    ) -> None:
        self.venue = venue
        self.account_id = account_id
        self.decode = decode_client_id


def parse_order(raw: Raw, ctx: Context, carried: Decimal = ZERO) -> VenueOrder:
    """An Alpaca order (REST answer or a trade update's ``order``) as a :class:`VenueOrder`;
    ``carried``: what earlier legs of the same Atlas order filled (see the module doc)."""
    qty = dec(raw.get("qty"))
    filled = dec(raw.get("filled_qty"))
    status = str(raw.get("status") or "")
    cid = base_client_id(raw.get("client_order_id"))
    avg = dec(raw.get("filled_avg_price")) or None
    kind = str(raw.get("type") or raw.get("order_type") or "market").upper()
    symbol = str(raw.get("symbol") or "")
    ts = ts_ns(raw.get("updated_at")) or ts_ns(raw.get("submitted_at"))
    return VenueOrder(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=symbol,
        venue_symbol=symbol,
        venue_order_id=str(raw.get("id") or ""),
        client_order_id=cid,
        order_id=ctx.decode(cid) if cid else None,
        side=Side.BUY if raw.get("side") == "buy" else Side.SELL,
        order_type=kind,
        qty=qty + carried,
        price=dec(raw.get("limit_price")) or None,
        cum_qty=filled + carried,
        avg_px=avg,
        state=order_state(status, qty + carried, filled + carried),
        ts=ts,
        tif=_TIF.get(str(raw.get("time_in_force") or ""), TimeInForce.GTC),
        venue_status=status,
    )


def parse_trade_update(data: Raw, ctx: Context, carried: Decimal = ZERO) -> OrderUpdate | None:
    """A ``trade_updates`` message's ``data`` as an :class:`OrderUpdate` (None for an event of
    an old leg that was ``replaced``: its replacement speaks for the order).

    ``fill``/``partial_fill`` carry ``qty``/``price`` of this execution (``execution_id``), and
    the order's cumulative ``filled_qty``. The trade id is ``<order id>:<cumulative qty>``: an
    account-activity row (``GET /v2/account/activities/FILL``) has ``order_id`` and ``cum_qty``
    too, so a fill from the stream and from the fills query are one trade for Atlas."""
    raw_order = data.get("order") or {}
    event = str(data.get("event") or "")
    if event == "replaced" or raw_order.get("status") == "replaced":
        return None
    order = parse_order(raw_order, ctx, carried)
    ts = ts_ns(data.get("timestamp")) or order.ts
    fill = None
    if event in ("fill", "partial_fill"):
        qty = dec(data.get("qty"))
        if qty > 0:
            fill = VenueFill(
                venue=ctx.venue,
                account_id=ctx.account_id,
                symbol=order.symbol,
                venue_order_id=order.venue_order_id,
                client_order_id=order.client_order_id,
                order_id=order.order_id,
                trade_id=trade_id(order.venue_order_id, dec(raw_order.get("filled_qty"))),
                side=order.side,
                qty=qty,
                px=dec(data.get("price")),
                fee=ZERO,
                fee_asset="USD",
                liquidity_side=_liquidity(order),
                ts=ts,
            )
    return OrderUpdate(
        venue=ctx.venue,
        account_id=ctx.account_id,
        ts=ts,
        source=FactSource.STREAM,
        order=order,
        exec_type=event.upper(),
        fill=fill,
    )


def trade_id(venue_order_id: str, cum_qty: Decimal) -> str:
    return f"{venue_order_id}:{format(cum_qty.normalize(), 'f')}"


def _liquidity(order: VenueOrder) -> LiquiditySide:
    # Alpaca does not say; a market order takes, a limit order is counted as resting.
    return LiquiditySide.TAKER if order.order_type == "MARKET" else LiquiditySide.MAKER


def parse_activity(row: Raw, ctx: Context, order: VenueOrder | None) -> VenueFill:
    """A ``FILL`` account activity as a :class:`VenueFill` (``order``: the order it belongs
    to, when known, for its client id)."""
    venue_order_id = str(row.get("order_id") or "")
    symbol = str(row.get("symbol") or "")
    side = Side.BUY if row.get("side") == "buy" else Side.SELL
    cid = order.client_order_id if order is not None else None
    return VenueFill(
        venue=ctx.venue,
        account_id=ctx.account_id,
        symbol=symbol,
        venue_order_id=venue_order_id,
        client_order_id=cid,
        order_id=order.order_id if order is not None else None,
        trade_id=trade_id(venue_order_id, dec(row.get("cum_qty"))),
        side=side,
        qty=dec(row.get("qty")),
        px=dec(row.get("price")),
        fee=ZERO,
        fee_asset="USD",
        liquidity_side=(
            LiquiditySide.TAKER
            if order is not None and order.order_type == "MARKET"
            else LiquiditySide.MAKER
        ),
        ts=ts_ns(row.get("transaction_time")),
    )


def parse_balances(account: Raw, positions: list[Raw]) -> list[VenueBalance]:
    """Cash (``USD``, the account's ``cash``) and each position's shares as balances: an
    equity account holds assets as a spot account does."""
    currency = str(account.get("currency") or "USD")
    out = [VenueBalance(asset=currency, free=dec(account.get("cash")))]
    for p in positions:
        qty = dec(p.get("qty"))
        if qty:
            out.append(VenueBalance(asset=str(p.get("symbol")), free=qty))
    return out


#: A fractional share is 1e-9 (Alpaca accepts up to nine decimals).
FRACTION_LOT = Decimal("0.000000001")
#: US equities trade in cents at or above $1 (Reg NMS rule 612); Alpaca's assets carry no tick.
TICK = Decimal("0.01")


def parse_asset(raw: Raw, venue: str, session: str | None) -> VenueInstrument | None:
    """A ``us_equity`` asset as an Atlas equity: lot 1e-9 when ``fractionable``, else 1 share;
    None for other classes (crypto, options)."""
    if raw.get("class", "us_equity") != "us_equity":
        return None
    symbol = str(raw.get("symbol") or "")
    if not symbol:
        return None
    fractionable = bool(raw.get("fractionable"))
    lot = FRACTION_LOT if fractionable else Decimal(1)
    status = "TRADING" if raw.get("tradable") and raw.get("status") == "active" else "HALT"
    instrument = Instrument.equity(
        symbol,
        tick_size=TICK,
        lot_size=lot,
        venue=venue,
        venue_symbol=symbol,
        min_qty=lot,
        tradable=status == "TRADING",
        session=session,
    )
    return VenueInstrument(
        instrument=instrument,
        venue_symbol=symbol,
        status=status,
        order_types=("LIMIT", "MARKET"),
    )


#: Shares in one round lot: Alpaca's quote sizes (``bs``/``as``) are in round lots.
ROUND_LOT = Decimal(100)


def _price(value: Any) -> Decimal | None:
    """A market data price (a JSON number read as Decimal); 0 or none (no quote on that side,
    e.g. outside the session) is no price."""
    price = dec(value)
    return price if price > 0 else None


def parse_snapshot(
    symbol: str, snap: Raw, ts: int, seen: dict[str, Any] | None = None
) -> PriceTick | None:
    """One symbol of ``GET /v2/stocks/snapshots``: the latest quote's best bid/ask with sizes
    (``bp``/``bs``/``ap``/``as``; Alpaca's quote sizes count round lots of
    :data:`ROUND_LOT` shares: read as shares) and the latest trade's price (``p``); None if
    neither. With ``seen`` (symbol -> the last trade counted, updated), ``last_qty`` is the
    latest trade's size in shares (``s``) the first time that trade (``i``, ``t``) is seen:
    the next polls repeat it and carry no volume (trades between polls are not seen)."""
    trade = snap.get("latestTrade") or {}
    quote = snap.get("latestQuote") or {}
    bid, ask, last = _price(quote.get("bp")), _price(quote.get("ap")), _price(trade.get("p"))
    if bid is None and ask is None and last is None:
        return None
    last_qty = None
    if seen is not None and last is not None and trade.get("s") is not None:
        key = (trade.get("i"), trade.get("t"))
        size = dec(trade.get("s"))
        if size > 0 and seen.get(symbol) != key:
            last_qty = size
        seen[symbol] = key
    return PriceTick(
        symbol=symbol,
        ts=ts,
        bid=bid,
        ask=ask,
        last=last,
        bid_qty=dec(quote.get("bs")) * ROUND_LOT if bid is not None else None,
        ask_qty=dec(quote.get("as")) * ROUND_LOT if ask is not None else None,
        last_qty=last_qty,
    )
