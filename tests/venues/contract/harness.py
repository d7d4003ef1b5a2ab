"""What the contract suite needs of a venue: a :class:`VenueHarness`.

A harness runs one fake venue on 127.0.0.1, builds the *real* adapter of one venue account
against it, names the instrument to trade, turns the venue's fault knobs (in venue-neutral
words), and tells the venue's truth (its orders, positions and balances). Every later adapter
(Bybit, OKX, Upbit, Alpaca) brings a harness of its own and runs the same suite
(``conftest.py`` lists the harnesses).

A knob a venue cannot have (hedge mode on a spot venue) is a capability the harness lacks
(:attr:`VenueHarness.capabilities`); the suite then does not collect the case for it at all
(:meth:`VenueHarness.not_applicable` says why), and a case no harness can run is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from atlas_oms.core.ports import VenueAdapter
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.venue import VenueOrderState


class Capability(StrEnum):
    """What a venue (and its fake) can do; a case that needs one is not applicable without it."""

    #: Positions held at the venue (derivatives): position reports, old positions.
    POSITIONS = "positions"
    #: An account in hedge mode (LONG and SHORT legs of one symbol).
    HEDGE_MODE = "hedge_mode"
    #: Fees paid in a third asset (Binance's BNB) while its balance lasts.
    THIRD_ASSET_FEES = "third_asset_fees"
    #: A private stream whose authentication expires (Binance listenKey, a token's expiry).
    STREAM_AUTH_EXPIRY = "stream_auth_expiry"
    #: A fill history shorter than an old position's age.
    SHORT_FILL_HISTORY = "short_fill_history"
    #: An account's orders may trade with each other (no mandatory self-trade prevention).
    SELF_TRADES = "self_trades"
    #: Signed requests expire within a few seconds (Binance ``recvWindow``; OKX allows 30 s).
    SHORT_RECV_WINDOW = "short_recv_window"
    #: A working order's price or quantity changed in place, same venue order id (Upbit: no).
    AMEND = "amend"
    #: Signed requests carry a timestamp the venue checks against its clock (Upbit's JWT has
    #: a nonce only, and Upbit publishes no server time).
    SIGNED_TIMESTAMP = "signed_timestamp"
    #: The venue streams its order book (``books()``, issue 16).
    BOOKS = "books"


@dataclass(frozen=True)
class Instrument:
    """An instrument to trade with: a resting buy at ``price`` (below the market) of ``qty``
    passes every filter of the venue; ``qty`` splits into five lots of ``qty / 5``."""

    symbol: str
    base: str
    quote: str
    qty: Decimal
    price: Decimal
    derivative: bool


@dataclass(frozen=True)
class TruthOrder:
    """One order as the venue holds it."""

    client_order_id: str
    venue_order_id: str
    symbol: str
    state: VenueOrderState
    qty: Decimal
    cum_qty: Decimal
    position_side: PositionSide | None = None


class VenueHarness(Protocol):
    #: The test id (``binance-spot``) and the venue's name in Atlas (``binance``).
    name: str
    venue: str
    capabilities: frozenset[Capability]
    instrument: Instrument

    def not_applicable(self, capability: Capability) -> str:
        """Why a case needing ``capability`` does not apply to this venue."""
        ...

    # ------------------------------------------------------------------ life
    async def start(self, *, hedge_mode: bool = False) -> None:
        """Start the fake venue on 127.0.0.1 (port 0) with one funded account."""
        ...

    async def stop(self) -> None: ...

    def adapter(
        self, account_id: str, decode_client_id: Callable[[str], int | None]
    ) -> VenueAdapter:
        """A new real adapter for the account (small timeouts: a held reply times out)."""
        ...

    # ------------------------------------------------------------------ fault knobs
    def delay_next_place(self, seconds: float) -> None:
        """The next place is committed, then its reply is held ``seconds`` (past the timeout)."""
        ...

    def drop_after_next_place(self) -> None:
        """The next place is committed, then the connection is closed with no reply."""
        ...

    def fail_next_place(self, *, committed: bool) -> None:
        """The next place is answered with a server error (5xx, "status unknown"), after the
        venue committed it or without committing it."""
        ...

    def delay_next_change(self, action: str, seconds: float) -> None:
        """The next cancel (``action="CANCEL"``) or amend (``"AMEND"``) is applied, then its
        reply is held ``seconds`` (past the timeout)."""
        ...

    def drop_after_next_change(self, action: str) -> None:
        """The next cancel or amend is applied, then the connection is closed with no reply."""
        ...

    def fail_next_change(self, action: str, *, committed: bool) -> None:
        """The next cancel or amend is answered with a server error (5xx, "status unknown"),
        after the venue applied it or without applying it."""
        ...

    def fill_on_stream_subscribe(self, client_order_id: str) -> None:
        """Fill the resting order in full right after the venue acknowledges the next private
        stream subscription (connects it), before it serves the client's next request."""
        ...

    def drop_stream(self) -> None:
        """Close the private stream's connection(s)."""
        ...

    def half_open(self, on: bool) -> None:
        """Keep the private stream connected and answering pings, but withhold (lose) events."""
        ...

    def expire_stream_auth(self) -> None:
        """The private stream's authentication expires (Binance: listenKeyExpired)."""
        ...

    def duplicate_executions(self, on: bool) -> None:
        """Push every execution event twice."""
        ...

    def visibility_lag(self, seconds: float) -> None:
        """Queries say "order does not exist" this long after an order is accepted."""
        ...

    def clock_offset(self, seconds: float) -> None:
        """The venue's clock runs ahead (+) or behind (-) real time."""
        ...

    def rate_limit_low(self, on: bool) -> None:
        """On: a request-weight limit one reconciliation fits in and a few do not (a 1 s
        window). Off: the venue's own limit again."""
        ...

    def rate_limit_state(self) -> tuple[bool, bool]:
        """(throttled: a 429 was answered, banned: a 418 was answered)."""
        ...

    def fees_in_third_asset(self, fills: int) -> str:
        """Pay fees in a third asset while it lasts: the account gets enough of it for
        ``fills`` maker fills of half :attr:`instrument`'s quantity at its price, not one more;
        return the asset's name."""
        ...

    def short_fill_history(self, seconds: float) -> None:
        """Fill queries return only executions younger than ``seconds``."""
        ...

    def hedge_mode(self, on: bool) -> None:
        """Switch the venue account's position mode (as its owner would, in the web UI)."""
        ...

    def seed_old_position(self, qty: Decimal, price: Decimal, age_s: float) -> None:
        """A position of ``qty`` (signed) at ``price`` opened ``age_s`` ago."""
        ...

    def place_external(self, side: str, qty: Decimal, price: Decimal) -> str:
        """An order placed outside Atlas (the venue's web UI); return its venue order id."""
        ...

    def rest_liquidity(self, side: str, qty: Decimal, price: Decimal) -> None:
        """The venue's own order resting on the book (another participant's)."""
        ...

    def fill(self, client_order_id: str, qty: Decimal, price: Decimal | None = None) -> None:
        """Fill a resting order now (the venue's own liquidity)."""
        ...

    def fill_in_parts(self, client_order_id: str, parts: list[Decimal]) -> None:
        """Several fills of one order within one millisecond."""
        ...

    def fill_venue_order(self, venue_order_id: str, qty: Decimal) -> None:
        """Fill an order known only by its venue id (an external one)."""
        ...

    def cancel_races_fill(self) -> None:
        """The next cancel finds its order filled just before it arrives."""
        ...

    # ------------------------------------------------------------------ truth
    def orders(self) -> list[TruthOrder]:
        """Every order of the account at the venue."""
        ...

    def positions(self) -> dict[tuple[str, PositionSide], tuple[Decimal, Decimal]]:
        """(unified symbol, side) -> (signed qty, entry price), non-zero only."""
        ...

    def balances(self) -> dict[str, Decimal]:
        """Asset -> total (free + locked / wallet), non-zero only."""
        ...
