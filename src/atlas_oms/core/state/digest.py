"""The state digest: SHA-256 over a canonical encoding of the whole state (derived indexes
left out). Equal digests mean equal states; a replay of a journal gives the digest the live
engine had. The encoding is frozen: journals of every schema must keep their digest."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from atlas_oms.core.algos.state import canonical as algo_canonical
from atlas_oms.core.orders.order import Order
from atlas_oms.model.instrument import Instrument

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

#: The order's fields in name order; ``refs`` is a lookup cache, not state. ``intent`` (the
#: request as submitted, which the journal's OrderSubmitted holds) is left out so that the
#: encoding stays frozen; what it decides (refusing a resend with other terms) is journaled.
#: ``session_release`` mirrors the US-market book's queue, hashed there.
ORDER_FIELDS = tuple(sorted(set(Order.__struct_fields__) - {"refs", "intent", "session_release"}))


#: The retention part, present only once something was archived or restored (so journals
#: from before retention keep their digest): the archive count and the client-id queue.
RETENTION_PART = "retention"

#: The external venues part, present only once a venue account reported (so journals from
#: before venues keep their digest).
VENUES_PART = "venues"

#: Linked orders (OCO, OTO, bracket), present only once a list was submitted.
LINKS_PART = "order_lists"

#: Managed trades (seed 001) and the policy parameters in force, present only once a trade
#: exists or the parameters were set.
TRADES_PART = "managed_trades"

#: Parent orders (issue 16, core/algos/), present only once one was accepted.
ALGOS_PART = "algos"


#: Instrument fields newer than the first journals, with their defaults: each joins the map only
#: when it differs from its default, so older journals keep their digest.
_NEWER_INSTRUMENT_FIELDS: dict[str, object] = {
    "venue_symbol": None,
    "iceberg_allowed": False,
    "iceberg_parts": None,
}
#: Paired arbitrage orders in flight (core/sor/pair.py), present only while one is.
PAIRS_PART = "arbitrage_pairs"


def _instrument(instrument: Instrument) -> Any:
    """An instrument as its encoding had it before the newer fields existed."""
    fields = msgspec.structs.asdict(instrument)
    for name, default in _NEWER_INSTRUMENT_FIELDS.items():
        if fields[name] == default:
            del fields[name]
    return fields


def digest(state: State) -> str:
    """SHA-256 of :func:`canonical`: equal digests mean equal states."""
    return hashlib.sha256(msgspec.msgpack.encode(canonical(state))).hexdigest()


def canonical(state: State) -> list[Any]:
    """The whole state as plain, ordered data (the digest's input)."""
    orders = [[getattr(o, name) for name in ORDER_FIELDS] for _, o in sorted(state.orders.items())]
    positions = [
        [
            k,
            p.qty,
            p.cost,
            p.realized_pnl,
            p.fees,
            p.margin,
            p.trade_count,
            p.closed_lots,
            [[lot.qty, lot.price, lot.order_id, lot.ts_open, lot.realized_pnl] for lot in p.lots],
        ]
        for k, p in sorted(state.positions.items())
    ]
    balances = [[k, b.total, b.locked] for k, b in sorted(state.balances.items())]
    out = [
        state.seq,
        state.next_order_id,
        [_instrument(i) for _, i in sorted(state.instruments.items())],
        [a for _, a in sorted(state.accounts.items())],
        orders,
        positions,
        balances,
        sorted(state.leverage.items()),
        sorted(state.last.items()),
        sorted(state.mark.items()),
        sorted(state.fills),
        sorted(state.busted),
        sorted(state.client_ids.items()),
        len(state.triggers),
        # Expiry entries of live orders (the index holds no others; older journals' digests
        # were taken the same way).
        sorted(e for e in state.expiries if state.orders[e[1]].is_live),
        state.equities.canonical(),
        state.risk.canonical(),
        state.liq.canonical(),
    ]
    if state.archived:
        out.append([state.archived, list(state.client_id_queue)])
    if state.venues:
        out.append([VENUES_PART, state.venues.canonical()])
    if state.links:
        out.append([LINKS_PART, state.links.canonical()])
    if state.trades or state.policy_overrides:
        out.append([TRADES_PART, _trades(state)])
    if state.algos:
        out.append([ALGOS_PART, algo_canonical(state)])
    if state.pairs:
        out.append([PAIRS_PART, [msgspec.to_builtins(p) for _, p in sorted(state.pairs.items())]])
    return out


def _trades(state: State) -> Any:
    """Every managed trade's fields in order (dataclass order), and the policy overrides."""
    trades = [
        msgspec.to_builtins(t, builtin_types=(Decimal,)) for _, t in sorted(state.trades.items())
    ]
    out: list[Any] = [list(state.policy_overrides), trades]
    desks = state.cycles.desks
    if desks:  # seed 001 §8.2, §12-14 (core/policy/desk.py)
        out.append(
            [msgspec.to_builtins(d, builtin_types=(Decimal,)) for _, d in sorted(desks.items())]
        )
    if state.bar_book:  # bars and indicators (core/policy/bar_book.py), while trades exist
        out.append(state.bar_book.canonical())
    return out


#: The named parts of :func:`canonical`, in order: tests compare parts by name, never by index.
CANONICAL_PARTS = (
    "seq",
    "next_order_id",
    "instruments",
    "accounts",
    "orders",
    "positions",
    "balances",
    "leverage",
    "last",
    "mark",
    "fills",
    "busted",
    "client_ids",
    "triggers",
    "expiries",
    "equities",
    "risk",
    "liq",
)


def canonical_parts(state: State) -> dict[str, Any]:
    """:func:`canonical` keyed by part name."""
    parts = canonical(state)
    names: tuple[str, ...] = CANONICAL_PARTS
    if state.archived:
        names = (*names, RETENTION_PART)
    if state.venues:
        names = (*names, VENUES_PART)
    if state.links:
        names = (*names, LINKS_PART)
    if state.trades or state.policy_overrides:
        names = (*names, TRADES_PART)
    if state.algos:
        names = (*names, ALGOS_PART)
    if state.pairs:
        names = (*names, PAIRS_PART)
    return dict(zip(names, parts, strict=True))
