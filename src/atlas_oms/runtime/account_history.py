"""An account's trading history, read from the journal: closed positions and its P&L over time.

The live state keeps each position's running totals, not its past. The past is in the journal, so
this module replays it (as ``atlas replay`` and :mod:`atlas_oms.store.audit` read it) through a
fresh engine's fold and watches one account's positions and balances change, event by event. The
figures are therefore the engine's own booking, exact ``Decimal`` and the same on every read:
busts, corrections, ADL, liquidations and futures settlement move them exactly as they moved the
account.

* A **closed position** is one round trip of one (symbol, position side): from flat to flat again
  (a fill that flips a position closes one round trip and opens the next). It carries the quantity
  opened, the entry and exit notionals and averages (notional over quantity, Decimal's 28
  significant digits), the realized P&L (before fees), the fees (in its P&L asset; a fill that
  flips the position gives its whole fee to the round trip it closes) and the funding booked while
  it was open, and when it opened and closed.
* The **P&L history** has one entry per event that booked realized P&L, a fee or funding for the
  account (a fill, a bust, a correction, an ADL close, a settlement, a funding payment), with the
  amounts it booked and the account's running totals per asset after it (a fee goes under the
  asset it was charged in, realized P&L under the instrument's quote or settlement asset); and one
  **equity** point
  per event that changed the account's balances or positions: per asset, the balance plus the
  unrealized P&L of the derivative positions settling in it, at the marks the journal held then.

Both are ordered by journal sequence and paged by it (``after_seq``, ``limit``). A read replays the
journal from its start: its cost grows with the journal, not with the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.engine import Engine
from atlas_oms.core.state.state import State
from atlas_oms.model import events as ev
from atlas_oms.store.audit import concerns_account

__all__ = [
    "AccountHistory",
    "ClosedPosition",
    "EquityPoint",
    "PnlEntry",
    "account_history",
    "fund_rows",
]

ZERO = Decimal(0)


class ClosedPosition(msgspec.Struct, frozen=True, kw_only=True):
    """One round trip of a position, from flat to flat (see the module's text)."""

    account_id: str
    symbol: str
    position_side: str
    #: LONG or SHORT: the direction the round trip held.
    side: str
    #: The largest quantity held during it.
    max_qty: Decimal
    #: The quantity opened (and closed) over the round trip.
    qty: Decimal
    entry_notional: Decimal
    exit_notional: Decimal
    entry_avg_px: Decimal
    exit_avg_px: Decimal
    #: Realized P&L before fees and funding, in the instrument's P&L asset.
    realized_pnl: Decimal
    fees: Decimal
    funding: Decimal
    pnl_asset: str
    opened_seq: int
    opened_ts: int
    closed_seq: int
    closed_ts: int


class PnlEntry(msgspec.Struct, frozen=True, kw_only=True):
    """What one event booked for the account, and its running totals in ``asset`` after it.
    ``net`` is realized P&L less fees plus funding."""

    seq: int
    ts: int
    event: str
    symbol: str | None
    order_id: int | None
    asset: str
    realized_pnl: Decimal
    fee: Decimal
    funding: Decimal
    total_realized_pnl: Decimal
    total_fees: Decimal
    total_funding: Decimal
    total_net: Decimal


class EquityPoint(msgspec.Struct, frozen=True, kw_only=True):
    """The account's equity in ``asset`` after the event ``seq``: balance + unrealized P&L of the
    derivative positions settling in ``asset`` (at the journal's marks then)."""

    seq: int
    ts: int
    asset: str
    balance: Decimal
    unrealized_pnl: Decimal
    equity: Decimal


class AccountHistory(msgspec.Struct, frozen=True, kw_only=True):
    """Everything :func:`account_history` learned, oldest first."""

    closed: list[ClosedPosition]
    pnl: list[PnlEntry]
    equity: list[EquityPoint]


class _Open:
    """A round trip under way."""

    __slots__ = (
        "entry",
        "exit",
        "fees",
        "funding",
        "max_qty",
        "opened",
        "realized",
        "seq",
        "side",
        "ts",
    )

    def __init__(self, side: str, seq: int, ts: int) -> None:
        self.side = side
        self.seq = seq
        self.ts = ts
        self.opened = ZERO
        self.max_qty = ZERO
        self.entry = ZERO
        self.exit = ZERO
        self.realized = ZERO
        self.fees = ZERO
        self.funding = ZERO


_Key = tuple[str, str]  # (symbol, position side)
_Snap = tuple[Decimal, Decimal, Decimal, Decimal]  # qty, cost, realized, fees


def account_history(events: Iterable[ev.EventBase], account_id: str) -> AccountHistory:
    """Replay ``events`` (a journal from seq 1) and return ``account_id``'s history."""
    engine = Engine()
    state = engine.state
    apply = engine.apply
    members = (account_id,)
    orders = state.orders

    def owner(order_id: int) -> str | None:
        order = orders.get(order_id)
        return order.account_id if order is not None else None

    def snap() -> dict[_Key, _Snap]:
        return {
            (p.symbol, p.position_side.value): (p.qty, p.cost, p.realized_pnl, p.fees)
            for p in state.account_positions.get(account_id, ())
        }

    def balances() -> dict[str, Decimal]:
        return {b.asset: b.total for b in state.account_balances.get(account_id, ())}

    open_trips: dict[_Key, _Open] = {}
    closed: list[ClosedPosition] = []
    pnl: list[PnlEntry] = []
    equity: list[EquityPoint] = []
    totals: dict[str, list[Decimal]] = {}  # asset -> realized, fees, funding
    last_equity: dict[str, tuple[Decimal, Decimal]] = {}

    for event in events:
        mine = isinstance(event, ev.FutureSettled) or concerns_account(event, members, owner)
        if not mine:
            apply(event)
            continue
        before, bal_before = snap(), balances()
        apply(event)
        after, bal_after = snap(), balances()
        paid = event if isinstance(event, ev.FundingSettled) else None
        funding = paid.amount if paid is not None and paid.account_id == account_id else ZERO
        booked: dict[str, list[Decimal]] = {}  # asset -> realized, fee, funding of this event
        symbol: str | None = getattr(event, "symbol", None)
        for key, (qty, cost, realized, fees) in after.items():
            q0, c0, r0, f0 = before.get(key, (ZERO, ZERO, ZERO, ZERO))
            d_real, d_fee = realized - r0, fees - f0
            inst = state.instruments[key[0]]
            asset = inst.settle_asset if inst.is_derivative else inst.quote
            if d_real or d_fee:
                fee_asset = getattr(event, "fee_asset", None) or asset
                if d_real or fee_asset == asset:
                    booked.setdefault(asset, [ZERO, ZERO, ZERO])[0] += d_real
                if d_fee:
                    booked.setdefault(fee_asset, [ZERO, ZERO, ZERO])[1] += d_fee
                if fee_asset != asset:  # a fee in another asset is not the round trip's
                    d_fee = ZERO
                symbol = key[0]
            if qty != q0 or d_real or d_fee:
                _track(
                    open_trips,
                    closed,
                    account_id,
                    key,
                    asset,
                    inst.multiplier,
                    event,
                    (q0, c0),
                    (qty, cost),
                    d_real,
                    d_fee,
                )
        if paid is not None and funding:
            booked.setdefault(paid.asset, [ZERO, ZERO, ZERO])[2] += funding
            trip = open_trips.get((paid.symbol, paid.position_side.value))
            if trip is not None:
                trip.funding += funding
        for asset, (d_real, d_fee, d_fund) in sorted(booked.items()):
            total = totals.setdefault(asset, [ZERO, ZERO, ZERO])
            total[0] += d_real
            total[1] += d_fee
            total[2] += d_fund
            pnl.append(
                PnlEntry(
                    seq=event.seq,
                    ts=event.ts_event,
                    event=type(event).__name__,
                    symbol=symbol,
                    order_id=getattr(event, "order_id", None) or None,
                    asset=asset,
                    realized_pnl=d_real,
                    fee=d_fee,
                    funding=d_fund,
                    total_realized_pnl=total[0],
                    total_fees=total[1],
                    total_funding=total[2],
                    total_net=total[0] - total[1] + total[2],
                )
            )
        if after != before or bal_after != bal_before:
            for asset, value in _equity(state, account_id, bal_after).items():
                if last_equity.get(asset) != value:
                    last_equity[asset] = value
                    balance, unrealized = value
                    equity.append(
                        EquityPoint(
                            seq=event.seq,
                            ts=event.ts_event,
                            asset=asset,
                            balance=balance,
                            unrealized_pnl=unrealized,
                            equity=balance + unrealized,
                        )
                    )
    return AccountHistory(closed=closed, pnl=pnl, equity=equity)


def _equity(
    state: State, account_id: str, balances: dict[str, Decimal]
) -> dict[str, tuple[Decimal, Decimal]]:
    """Per asset: (balance, unrealized P&L of the derivative positions settling in it)."""
    out = {asset: (total, ZERO) for asset, total in balances.items()}
    for pos in state.account_positions.get(account_id, ()):
        inst = state.instruments[pos.symbol]
        if not inst.is_derivative or not pos.qty:
            continue
        price = state.reference_price(pos.symbol, prefer_mark=True)
        balance, unrealized = out.get(inst.settle_asset, (ZERO, ZERO))
        out[inst.settle_asset] = (balance, unrealized + pos.unrealized_pnl(price))
    return out


def _track(
    trips: dict[_Key, _Open],
    closed: list[ClosedPosition],
    account_id: str,
    key: _Key,
    asset: str,
    multiplier: Decimal,
    event: ev.EventBase,
    old: tuple[Decimal, Decimal],
    new: tuple[Decimal, Decimal],
    d_real: Decimal,
    d_fee: Decimal,
) -> None:
    """Follow one position's change through its round trips."""
    q0, c0 = old
    q1, c1 = new
    seq, ts = event.seq, event.ts_event
    trip = trips.get(key)
    if trip is None and q0:
        # A position that existed before anything we saw (cannot happen from seq 1): start here.
        trip = trips[key] = _Open("LONG" if q0 > 0 else "SHORT", seq, ts)
    flips = bool(q0) and bool(q1) and (q0 > 0) != (q1 > 0)
    same_way = bool(q0) and bool(q1) and not flips
    if trip is not None and q0:
        trip.realized += d_real
        trip.fees += d_fee
        if same_way and abs(q1) >= abs(q0):
            trip.opened += abs(q1) - abs(q0)
            trip.entry += c1 - c0
        else:
            removed = c0 if not same_way else c0 - c1
            sign = 1 if q0 > 0 else -1
            # Realized = (exit - entry) * qty * multiplier, signed by the side: the exit notional
            # is the entry cost removed plus the realized P&L over the multiplier.
            trip.exit += removed + sign * d_real / multiplier
        trip.max_qty = max(trip.max_qty, abs(q1) if same_way else trip.max_qty)
        if not same_way:
            closed.append(_closed(account_id, key, asset, trip, seq, ts))
            del trips[key]
            trip = None
    elif trip is not None:  # flat before and after: a fee or P&L with no quantity change
        trip.realized += d_real
        trip.fees += d_fee
    if q1 and (not q0 or flips):
        trip = trips[key] = _Open("LONG" if q1 > 0 else "SHORT", seq, ts)
        trip.opened = trip.max_qty = abs(q1)
        trip.entry = c1
        if not q0:
            trip.realized += d_real
            trip.fees += d_fee


def _closed(
    account_id: str, key: _Key, asset: str, trip: _Open, seq: int, ts: int
) -> ClosedPosition:
    qty = trip.opened
    return ClosedPosition(
        account_id=account_id,
        symbol=key[0],
        position_side=key[1],
        side=trip.side,
        max_qty=trip.max_qty,
        qty=qty,
        entry_notional=trip.entry,
        exit_notional=trip.exit,
        entry_avg_px=trip.entry / qty if qty else ZERO,
        exit_avg_px=trip.exit / qty if qty else ZERO,
        realized_pnl=trip.realized,
        fees=trip.fees,
        funding=trip.funding,
        pnl_asset=asset,
        opened_seq=trip.seq,
        opened_ts=trip.ts,
        closed_seq=seq,
        closed_ts=ts,
    )


def fund_rows(
    events: Iterable[ev.EventBase], balances: dict[str, Decimal], asset: str | None = None
) -> list[dict[str, Any]]:
    """Each insurance fund (or ``asset``'s): deposits, what liquidations paid in and took out
    (from ``events``, a journal), and its balance (``balances``, the node's)."""
    flows: dict[str, list[Decimal]] = {}
    for e in events:
        if isinstance(e, ev.InsuranceFundDeposited):
            flows.setdefault(e.asset, [ZERO] * 3)[0] += e.amount
        elif isinstance(e, ev.LiquidationFundTransfer):
            row = flows.setdefault(e.asset, [ZERO] * 3)
            row[1 if e.amount > 0 else 2] += e.amount
    assets = [asset] if asset is not None else sorted(set(flows) | set(balances))
    none = [ZERO] * 3
    return [
        {
            "asset": a,
            "deposited": flows.get(a, none)[0],
            "from_liquidations": flows.get(a, none)[1],
            "to_liquidations": flows.get(a, none)[2],
            "balance": balances.get(a, ZERO),
        }
        for a in assets
    ]
