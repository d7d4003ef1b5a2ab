"""What an external venue says, in Atlas's words: the shared language of every venue adapter, the
venue gateway and the core's reconciler.

An adapter (``venues/<name>/``) translates the venue's wire format into these values; the gateway
(``runtime/gateway/``) moves them; the core (``core/venues/``) compares them with its own state and
journals what is missing. Nothing here knows a library (ccxt, alpaca-py) or a wire format.

Quantities are in the instrument's unit (base asset for spot, contracts for derivatives); prices
and money are exact ``Decimal``; times are integer nanoseconds since the epoch.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec

from atlas_oms.model.enums import LiquiditySide, PositionSide, Side, TimeInForce
from atlas_oms.model.instrument import Instrument

ZERO = Decimal(0)


class FactSource(StrEnum):
    """Where a venue fact came from."""

    #: The venue's private stream (user data stream, WebSocket).
    STREAM = "stream"
    #: The answer to a command or a single query (REST).
    QUERY = "query"
    #: A reconciliation snapshot (open orders, fills since, balances, positions).
    RECONCILIATION = "reconciliation"


class VenueOrderState(StrEnum):
    """A venue's order status, normalized (see reference/venues.md §1.9). The fill quantity is
    never taken from it: ``cum_qty`` and the fills say how much traded."""

    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"

    @property
    def is_open(self) -> bool:
        return self in (VenueOrderState.NEW, VenueOrderState.PARTIALLY_FILLED)


class VenueOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """One order as the venue shows it (a stream update, a query answer, an open-orders row).

    ``order_id`` is the Atlas order id when ``client_order_id`` is one Atlas gave (the gateway
    decodes it); None for an order Atlas did not place (web UI, another program, the venue's own
    liquidation ``autoclose-…``): an *external* order.
    """

    venue: str
    account_id: str
    symbol: str
    venue_symbol: str
    venue_order_id: str
    client_order_id: str | None
    order_id: int | None
    side: Side
    order_type: str
    qty: Decimal
    price: Decimal | None
    cum_qty: Decimal
    avg_px: Decimal | None
    state: VenueOrderState
    ts: int
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False
    position_side: PositionSide | None = None
    #: The venue's own words for a rejection or expiry (``INSUFFICIENT_LIQUIDITY``, ``-2010 …``).
    reason: str = ""
    #: The venue's raw status, kept for the exception report (``PARTIALLY_FILLED``, ``cancel``).
    venue_status: str = ""

    @property
    def leaves_qty(self) -> Decimal:
        return self.qty - self.cum_qty if self.state.is_open else ZERO


class VenueFill(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """One execution. ``(venue, trade_id)`` is unique and is the deduplication key; a fill whose
    order is external has ``order_id`` None."""

    venue: str
    account_id: str
    symbol: str
    venue_order_id: str
    client_order_id: str | None
    order_id: int | None
    trade_id: str
    side: Side
    qty: Decimal
    px: Decimal
    fee: Decimal
    fee_asset: str
    liquidity_side: LiquiditySide
    ts: int
    position_side: PositionSide | None = None
    realized_pnl: Decimal | None = None


class VenueBalance(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    asset: str
    free: Decimal
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


class VenuePosition(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """A derivatives position: ``qty`` is signed in one-way mode (``position_side`` BOTH or None),
    positive for each leg in hedge mode (LONG, SHORT)."""

    symbol: str
    qty: Decimal
    entry_price: Decimal
    position_side: PositionSide | None = None
    leverage: Decimal | None = None
    #: ``cross`` or ``isolated``.
    margin_mode: str | None = None
    unrealized_pnl: Decimal | None = None
    ts: int = 0
    # The venue's own figures from its position report (issue 15 §2), shown next to Atlas's
    # estimate; None where the venue gives none (or none applies, e.g. Binance's "0"
    # liquidation price of a position that cannot be liquidated).
    #: The venue's liquidation price (Binance ``liquidationPrice``, Bybit ``liqPrice``, OKX
    #: ``liqPx``).
    liquidation_price: Decimal | None = None
    #: The mark price the venue valued the position at (``markPrice``, OKX ``markPx``).
    mark_price: Decimal | None = None
    #: Maintenance margin in the settlement asset (``maintMargin``, ``positionMM``, OKX ``mmr``).
    maintenance_margin: Decimal | None = None
    #: Initial / position margin (``initialMargin`` or isolated ``isolatedWallet``; Bybit
    #: ``positionIM``; OKX ``imr`` cross, ``margin`` isolated).
    initial_margin: Decimal | None = None
    #: The venue's margin ratio in the venue's own convention, where it gives one per position
    #: (OKX ``mgnRatio``: margin balance / (maintenance margin + fees), liquidation at 1 or
    #: below; Binance and Bybit report theirs per account, not per position).
    margin_ratio: Decimal | None = None


class VenueInstrument(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """An Atlas instrument (unified symbol, tick, lot, minimums, contract size) and the venue's
    own name for it. ``instrument.tradable`` is False when the venue's status is not trading."""

    instrument: Instrument
    venue_symbol: str
    #: The venue's status word (``TRADING``, ``BREAK``, ``PENDING_TRADING``).
    status: str = "TRADING"
    #: Order types the venue takes for it, in Atlas words (``LIMIT``, ``MARKET``).
    order_types: tuple[str, ...] = ()


# --------------------------------------------------------------------------- stream facts
class Fact(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True, omit_defaults=True):
    """Something a venue told us, tagged with where it came from."""

    venue: str
    account_id: str
    ts: int
    source: FactSource = FactSource.STREAM


class OrderUpdate(Fact, frozen=True):
    """An order changed at the venue (accepted, filled, canceled, expired, rejected, replaced).
    ``exec_type`` is the venue's word for what happened (Binance ``x``: NEW, TRADE, CANCELED,
    EXPIRED, REJECTED, AMENDMENT, CALCULATED); ``fill`` is set for an execution."""

    order: VenueOrder
    exec_type: str
    fill: VenueFill | None = None


class BalanceUpdate(Fact, frozen=True):
    """Balances after a change. ``complete``: the list is every asset the account holds (a
    snapshot), not only the ones that changed."""

    balances: tuple[VenueBalance, ...]
    complete: bool = False


class PositionUpdate(Fact, frozen=True):
    positions: tuple[VenuePosition, ...]
    complete: bool = False


class StreamGap(Fact, frozen=True):
    """The stream was (or may have been) interrupted: anything between ``since_ts`` and now may
    be missing. Reasons: DISCONNECTED, LISTEN_KEY_EXPIRED, STREAM_TERMINATED, SILENT, STARTED."""

    reason: str
    since_ts: int = 0


class StreamAlive(Fact, frozen=True):
    """A heartbeat: the stream is connected and delivering (no state change)."""


VenueFact = OrderUpdate | BalanceUpdate | PositionUpdate | StreamGap | StreamAlive


# --------------------------------------------------------------------------- command outcomes
class Acknowledged(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The venue took the command. ``order`` is the order as the answer showed it (and
    ``fills`` any executions the answer carried, e.g. Binance spot ``FULL``)."""

    venue_order_id: str | None = None
    order: VenueOrder | None = None
    fills: tuple[VenueFill, ...] = ()


class Refused(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A definitive refusal: the venue did not take the command. ``code`` and ``message`` are
    the venue's own; ``reason`` is the Atlas reason code it maps to."""

    reason: str
    code: str
    message: str


class Unknown(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The outcome is not known (timeout, 5xx, dropped connection, rate-limited write, duplicate
    client order id): the command may or may not have taken effect. ``reason`` is one of
    TIMEOUT, SERVER_ERROR, DISCONNECTED, RATE_LIMITED, DUPLICATE, CLOCK_SKEW, NOT_FOUND."""

    reason: str
    code: str = ""
    message: str = ""


Outcome = Acknowledged | Refused | Unknown


class PlaceOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What the gateway asks an adapter to place (already checked, already journaled)."""

    order_id: int
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    position_side: PositionSide | None = None
    #: Bound on a market order's price (None: a plain market order).
    protection_price: Decimal | None = None
    #: Work outside the regular session too (US equities: pre- and after-market; Alpaca takes
    #: it on limit DAY orders only).
    extended_hours: bool = False
    #: A native iceberg's visible part (Binance spot ``icebergQty``); None: all of it shows.
    display_qty: Decimal | None = None


class CancelOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    order_id: int
    client_order_id: str
    symbol: str
    venue_order_id: str | None = None


class AmendOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Change price and/or total quantity of a working order (the venue keeps its id where it
    can: Binance USDⓈ-M ``PUT /fapi/v1/order``; spot can only reduce the quantity)."""

    order_id: int
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    leaves_qty: Decimal
    price: Decimal | None = None
    venue_order_id: str | None = None


class VenueAccountSettings(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A derivatives account's venue-side settings, read at start (and checked against Atlas)."""

    hedge_mode: bool = False
    #: Per symbol: leverage and margin mode where the venue reports them.
    leverage: dict[str, Decimal] = {}
    margin_mode: dict[str, str] = {}


class PriceTick(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """Public market data for one instrument: best bid/ask (book ticker), last trade, mark."""

    symbol: str
    ts: int
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    mark: Decimal | None = None
    #: Quantities at the best bid and ask (book ticker), when the venue gives them.
    bid_qty: Decimal | None = None
    ask_qty: Decimal | None = None
    #: The last trade's quantity, when the tick is a trade (rolling VWAP, runtime/market/).
    last_qty: Decimal | None = None


# --------------------------------------------------------------------------- into the engine
# The gateway turns facts and snapshots into these messages; the core (core/venues/) decides what
# they mean for its orders, positions and balances and journals it. Every one is stamped ``ts``
# by the node's clock like any command.


class VenueMessage(
    msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True, omit_defaults=True
):
    ts: int = 0


class ApplyOrderUpdate(VenueMessage, frozen=True):
    """One venue order update (stream, command answer or query): the core books what is new
    (acceptance, fills by trade id, cancel, expiry, rejection, replace) and adopts an order it
    does not know as an external order."""

    update: OrderUpdate

    @property
    def order_id(self) -> int | None:
        """The Atlas order id the update names (the node loads an archived order back)."""
        return self.update.order.order_id


class ReconcileVenue(VenueMessage, frozen=True):
    """A reconciliation snapshot of one venue account, taken after the stream was opened (and
    buffered). ``orders``: every open order plus every order Atlas had working there (queried
    one by one); ``not_found``: Atlas order ids the venue does not know; ``fills``: executions
    since ``fills_since_ts``; ``balances``/``positions``: None when not taken.
    ``reason``: CONNECT, GAP, PERIODIC, RESTART, MANUAL."""

    venue: str
    account_id: str
    reason: str
    orders: tuple[VenueOrder, ...] = ()
    not_found: tuple[int, ...] = ()
    fills: tuple[VenueFill, ...] = ()
    fills_since_ts: int = 0
    balances: tuple[VenueBalance, ...] | None = None
    positions: tuple[VenuePosition, ...] | None = None


class SetVenueStatus(VenueMessage, frozen=True):
    """The gateway's view of a venue account: tradable or not, and why (CONNECTING,
    RECONCILING, DISCONNECTED, CLOCK_SKEW, BANNED, POSITION_MODE_MISMATCH, READY)."""

    venue: str
    account_id: str
    tradable: bool
    reason: str
    message: str = ""


class NoteOutcomeUnknown(VenueMessage, frozen=True):
    """A place, cancel or amend got no definitive answer (``action``: PLACE, CANCEL, AMEND);
    the order stays pending until the gateway resolves it."""

    order_id: int
    action: str
    reason: str
    message: str = ""


VenueMsg = ApplyOrderUpdate | ReconcileVenue | SetVenueStatus | NoteOutcomeUnknown
