"""Parent orders (execution algorithms, issue 16 §2-§3): the commands.

A parent ("algo order") asks Atlas to work ``qty`` of ``symbol`` for ``account_id`` over time or
across venues; the core derives ordinary child orders (tagged ``algo:<algo_id>``) from it. The
decisions are the core's (``core/algos/``), journaled as the events of
:mod:`atlas_oms.model.events_algos`; docs/notes/algo.md describes the behaviour.

``algo_id`` is the client's idempotency key (a repeat is nothing); empty: the engine assigns
``A<seq>`` (the sequence number of its acceptance event). ``venue``: empty = the symbol's own
venue; ``"SMART"`` = every slice is routed by the smart order router over a :class:`RouteBook`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from atlas_oms.model.commands import Command
from atlas_oms.model.enums import Side
from atlas_oms.model.route_book import RouteBook

__all__ = [
    "SMART",
    "AlgoKind",
    "AlgoStatus",
    "CancelAlgo",
    "PauseAlgo",
    "Remainder",
    "ResumeAlgo",
    "RouteAlgo",
    "SubmitAlgo",
]

#: ``SubmitAlgo.venue`` asking for each slice to be routed.
SMART = "SMART"


class AlgoKind(StrEnum):
    SMART = "SMART"
    TWAP = "TWAP"
    VWAP = "VWAP"
    ICEBERG = "ICEBERG"


class Remainder(StrEnum):
    """What a routed child's unfilled rest does: rest there, be canceled and routed again with a
    fresh book, or be canceled and end the parent."""

    STAY = "STAY"
    REROUTE = "REROUTE"
    CANCEL = "CANCEL"


class AlgoStatus(StrEnum):
    WORKING = "WORKING"
    PAUSED = "PAUSED"
    #: Everything filled.
    DONE = "DONE"
    #: Canceled by the user (or by the ``CANCEL`` remainder policy) with what filled.
    CANCELED = "CANCELED"
    #: The window ended (or a child ended in a way that stops the algo) with quantity left.
    EXPIRED = "EXPIRED"


class SubmitAlgo(Command, frozen=True):
    """Start a parent order. Fields by kind (others are ignored):

    * every kind: ``limit_price`` caps every child (a buy never pays more, a sell never gets
      less); ``venue``, ``strategy`` (routing rule and child tag's risk scope is the algo tag),
      ``remainder`` (routed children only).
    * TWAP: ``start_ts`` (default: now), ``end_ts`` (required), ``slices`` (equal, >= 1),
      ``randomize_pct`` (0-100: each slice's size and time drawn within that share, seeded with
      ``seed``), ``slice_aggression_bps`` (a slice is an IOC limit that far through the best
      opposite price).
    * VWAP: as TWAP, with ``weights`` (one per slice, the volume profile; the Node computes them
      from recent trades when none are given) and ``participation_pct`` (recorded; see notes).
    * ICEBERG: ``limit_price`` (required), ``display_qty`` (required), ``display_variance_pct``
      (seeded, emulated only), ``native``: None (default) = the venue's own iceberg where the
      instrument has one (``Instrument.native_iceberg``; always on ``sim``), emulated
      elsewhere; False = always emulated; True = the same as None (a venue without native
      icebergs still emulates). The decision is recorded in ``AlgoAccepted.native``.
    * SMART: the whole quantity routed at once; ``book`` (optional): the route book to decide
      from now (else the engine asks the runtime for one); ``depth_margin_pct``.
    """

    account_id: str
    symbol: str
    side: Side
    qty: Decimal
    kind: AlgoKind
    algo_id: str = ""
    limit_price: Decimal | None = None
    venue: str = ""
    strategy: str | None = None
    remainder: Remainder = Remainder.STAY
    start_ts: int | None = None
    end_ts: int | None = None
    slices: int = 1
    randomize_pct: Decimal = Decimal(0)
    seed: int = 0
    slice_aggression_bps: Decimal = Decimal(0)
    weights: tuple[Decimal, ...] = ()
    participation_pct: Decimal | None = None
    display_qty: Decimal | None = None
    display_variance_pct: Decimal = Decimal(0)
    native: bool | None = None
    depth_margin_pct: Decimal = Decimal(0)
    #: A routed child resting unfilled this long (ms) is handled by ``remainder`` (0: only when
    #: the venue ends it: rejected, canceled, expired).
    reroute_after_ms: int = 0
    book: RouteBook | None = None


class PauseAlgo(Command, frozen=True):
    """Stop slicing and refilling; the parent's live children are canceled."""

    algo_id: str


class ResumeAlgo(Command, frozen=True):
    """Carry on: slices missed while paused roll into the next one."""

    algo_id: str


class CancelAlgo(Command, frozen=True):
    """End the parent: every live child is canceled; what filled stays filled."""

    algo_id: str


class RouteAlgo(Command, frozen=True):
    """The runtime's answer to ``NeedRouteBook``: the book the router decides from."""

    algo_id: str
    book: RouteBook
