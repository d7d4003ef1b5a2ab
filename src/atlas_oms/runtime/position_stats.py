"""An account's position statistics (seed 003's ``position_manager.get_statistics()``, POS-6).

Read through the node's queries only, so every front end shows the same figures:

- **open positions**: the account's positions with a quantity (``Queries.positions``);
- **closed round trips**: flat to flat per (symbol, position side), from the journal
  (``Queries.account_history``: the engine's own booking, busts and corrections included); a round
  trip **wins** when its net P&L (realized less fees plus funding) is > 0, loses when < 0;
  ``win_rate`` = wins / round trips × 100 as a string with 2 decimals (None without round trips);
- **P&L**: per symbol, the position's realized P&L (before fees) and fees as the core books them,
  and its unrealized P&L at the current mark or last price; ``total`` = realized + unrealized -
  fees + funding of the closed round trips. Amounts of different P&L assets are never added:
  ``by_asset`` sums per asset, and ``total_pnl`` is given only when the account's P&L is in one
  asset (None otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec

from atlas_oms.runtime.account_history import ClosedPosition
from atlas_oms.runtime.queries import Queries

ZERO = Decimal(0)


class SymbolPositionStats(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    pnl_asset: str
    qty: Decimal  # net open quantity (hedge-mode sides summed)
    closed_trades: int
    wins: int
    losses: int
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    funding: Decimal  # of the closed round trips
    total_pnl: Decimal


class AssetTotals(msgspec.Struct, frozen=True, kw_only=True):
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    funding: Decimal
    total_pnl: Decimal


class PositionStats(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    symbol: str | None  # the filter, if any
    open_positions: int
    closed_trades: int
    wins: int
    losses: int
    win_rate: str | None
    total_pnl: Decimal | None  # None when the P&L is in several assets: see by_asset
    by_asset: dict[str, AssetTotals]
    symbols: list[SymbolPositionStats]


def position_stats(
    node: Queries,
    account_id: str,
    *,
    symbol: str | None = None,
    closed: Sequence[ClosedPosition] | None = None,
) -> PositionStats:
    """The statistics of ``account_id`` (only ``symbol`` if given). Raises ``CommandRefused``
    (``UNKNOWN_ACCOUNT``) for an account that does not exist. ``closed``: the account's round
    trips when the caller already read them (the service reads the journal off its event loop);
    otherwise ``node.account_history`` reads them."""
    node.account_history_check(account_id)
    if closed is None:
        closed = node.account_history(account_id).closed
    closed = [c for c in closed if symbol is None or c.symbol == symbol]
    views = [
        v
        for v in node.positions(account_id, include_flat=True)
        if symbol is None or v.symbol == symbol
    ]
    rows: dict[str, dict[str, Decimal]] = {}
    counts: dict[str, list[int]] = {}
    assets: dict[str, str] = {}

    def row(sym: str) -> dict[str, Decimal]:
        if sym not in rows:
            inst = node.instrument(sym)
            assets[sym] = inst.settle_asset if inst is not None else ""
            rows[sym] = dict.fromkeys(("qty", "realized", "unrealized", "fees", "funding"), ZERO)
            counts[sym] = [0, 0, 0]
        return rows[sym]

    open_positions = 0
    for view in views:
        r = row(view.symbol)
        r["qty"] += view.qty
        r["realized"] += view.realized_pnl
        r["unrealized"] += view.unrealized_pnl
        r["fees"] += view.fees
        open_positions += bool(view.qty)
    wins = losses = 0
    for trip in closed:
        row(trip.symbol)["funding"] += trip.funding
        assets[trip.symbol] = trip.pnl_asset or assets[trip.symbol]
        net = trip.realized_pnl - trip.fees + trip.funding
        count = counts[trip.symbol]
        count[0] += 1
        if net > 0:
            count[1] += 1
            wins += 1
        elif net < 0:
            count[2] += 1
            losses += 1
    symbols = []
    by_asset: dict[str, list[Decimal]] = {}
    for sym in sorted(rows):
        r = rows[sym]
        total = r["realized"] + r["unrealized"] - r["fees"] + r["funding"]
        symbols.append(
            SymbolPositionStats(
                symbol=sym,
                pnl_asset=assets[sym],
                qty=r["qty"],
                closed_trades=counts[sym][0],
                wins=counts[sym][1],
                losses=counts[sym][2],
                realized_pnl=r["realized"],
                unrealized_pnl=r["unrealized"],
                fees=r["fees"],
                funding=r["funding"],
                total_pnl=total,
            )
        )
        sums = by_asset.setdefault(assets[sym], [ZERO] * 5)
        for i, value in enumerate((r["realized"], r["unrealized"], r["fees"], r["funding"], total)):
            sums[i] += value
    trips = len(closed)
    return PositionStats(
        account_id=account_id,
        symbol=symbol,
        open_positions=open_positions,
        closed_trades=trips,
        wins=wins,
        losses=losses,
        win_rate=format((Decimal(wins) / trips * 100).quantize(Decimal("0.01")), "f")
        if trips
        else None,
        total_pnl=next(iter(by_asset.values()))[4]
        if len(by_asset) == 1
        else (ZERO if not by_asset else None),
        by_asset={
            asset: AssetTotals(
                realized_pnl=s[0], unrealized_pnl=s[1], fees=s[2], funding=s[3], total_pnl=s[4]
            )
            for asset, s in sorted(by_asset.items())
        },
        symbols=symbols,
    )
