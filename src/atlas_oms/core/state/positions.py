"""Positions with lots (each added quantity keeps its own entry price) and exact P&L."""

from __future__ import annotations

from collections import deque
from decimal import Decimal

import msgspec

from atlas_oms.model.enums import PositionSide

ZERO = Decimal(0)


class Lot(msgspec.Struct, gc=False):
    """Quantity opened at one price; ``qty`` is signed like the position."""

    qty: Decimal
    price: Decimal
    order_id: int
    ts_open: int
    realized_pnl: Decimal = ZERO


class Position:
    """One account's position in one instrument (and, in hedge mode, one side).

    Quantity is signed (long > 0, short < 0). P&L is FIFO by lot: closing quantity consumes the
    oldest lots first, and ``avg_entry_px`` is the cost of the lots still open over their quantity.
    """

    __slots__ = (
        "account_id",
        "closed_lots",
        "cost",
        "fees",
        "lots",
        "margin",
        "multiplier",
        "open_buy",
        "open_sell",
        "position_side",
        "qty",
        "realized_pnl",
        "symbol",
        "trade_count",
        "ts_last",
    )

    def __init__(
        self, account_id: str, symbol: str, position_side: PositionSide, multiplier: Decimal
    ) -> None:
        self.account_id = account_id
        self.symbol = symbol
        self.position_side = position_side
        self.multiplier = multiplier
        self.qty = ZERO
        self.cost = ZERO  # sum of |lot qty| * lot price over open lots
        self.lots: deque[Lot] = deque()
        self.closed_lots = 0
        self.realized_pnl = ZERO
        self.fees = ZERO
        self.margin = ZERO
        self.trade_count = 0
        self.ts_last = 0
        # Leaves of the account's live orders on this position, per side (risk's exposure; derived).
        self.open_buy = ZERO
        self.open_sell = ZERO

    @property
    def avg_entry_px(self) -> Decimal | None:
        return self.cost / abs(self.qty) if self.qty else None

    def unrealized_pnl(self, price: Decimal | None) -> Decimal:
        if not self.qty or price is None:
            return ZERO
        return (price * abs(self.qty) - self.cost) * self.multiplier * (1 if self.qty > 0 else -1)

    def apply_fill(
        self, delta: Decimal, price: Decimal, fee: Decimal, order_id: int, ts: int
    ) -> Decimal:
        """Apply a signed quantity change at ``price``; return the P&L it realizes (before fees)."""
        self.trade_count += 1
        self.fees += fee
        self.ts_last = ts
        qty = self.qty
        if not qty or (qty > ZERO) == (delta > ZERO):
            self._open(delta, price, order_id, ts)
            return ZERO
        realized = ZERO
        remaining = -delta  # same sign as qty
        lots = self.lots
        mult = self.multiplier
        while remaining and lots:
            lot = lots[0]
            take = remaining if abs(remaining) < abs(lot.qty) else lot.qty
            pnl = (price - lot.price) * take * mult  # take is signed: long gains when price rises
            lot.realized_pnl += pnl
            realized += pnl
            self.cost -= abs(take) * lot.price
            lot.qty -= take
            remaining -= take
            if not lot.qty:
                lots.popleft()
                self.closed_lots += 1
        closed = -delta - remaining
        self.qty = qty - closed
        if remaining:  # the fill closed everything and flips the position
            self._open(-remaining, price, order_id, ts)
        if not lots:
            self.cost = ZERO
        self.realized_pnl += realized
        return realized

    def take_back(
        self, delta: Decimal, price: Decimal, fee: Decimal, order_id: int, ts: int
    ) -> bool:
        """Undo an execution of ``order_id`` at ``price`` (a bust, or a correction's reversal):
        take ``delta`` (signed like the reversing trade) out of the newest open lot that execution
        opened, realizing nothing, as if it had never traded. False (nothing changed) if no such
        lot holds the quantity: the caller books an offsetting trade instead."""
        for lot in reversed(self.lots):
            if (
                lot.order_id == order_id
                and lot.price == price
                and (lot.qty > ZERO) != (delta > ZERO)
                and abs(lot.qty) >= abs(delta)
            ):
                lot.qty += delta
                if not lot.qty:
                    self.lots.remove(lot)
                self.qty += delta
                self.cost -= abs(delta) * price
                if not self.lots:
                    self.cost = ZERO
                self.trade_count += 1
                self.fees += fee
                self.ts_last = ts
                return True
        return False

    def _open(self, delta: Decimal, price: Decimal, order_id: int, ts: int) -> None:
        lots = self.lots
        if lots and lots[-1].price == price and lots[-1].order_id == order_id:
            lots[-1].qty += delta  # one order's fills at one price form one lot
        else:
            lots.append(Lot(delta, price, order_id, ts))
        self.qty += delta
        self.cost += abs(delta) * price

    def view(self, price: Decimal | None) -> PositionView:
        return PositionView(
            account_id=self.account_id,
            symbol=self.symbol,
            position_side=self.position_side,
            qty=self.qty,
            avg_entry_px=self.avg_entry_px,
            realized_pnl=self.realized_pnl,
            unrealized_pnl=self.unrealized_pnl(price),
            fees=self.fees,
            margin=self.margin,
            mark_px=price,
            lots=[
                LotView(
                    order_id=lot.order_id,
                    qty=lot.qty,
                    price=lot.price,
                    realized_pnl=lot.realized_pnl,
                    ts_open=lot.ts_open,
                    unrealized_pnl=(
                        ZERO if price is None else (price - lot.price) * lot.qty * self.multiplier
                    ),
                )
                for lot in self.lots
            ],
        )


class LotView(msgspec.Struct, frozen=True, kw_only=True):
    order_id: int
    qty: Decimal
    price: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    ts_open: int


class PositionView(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    symbol: str
    position_side: PositionSide
    qty: Decimal
    avg_entry_px: Decimal | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    margin: Decimal
    mark_px: Decimal | None
    lots: list[LotView]
    # Derivatives only (None elsewhere): see docs/MARGIN.md.
    margin_mode: str | None = None
    leverage: Decimal | None = None
    notional: Decimal | None = None
    maint_margin: Decimal | None = None
    margin_balance: Decimal | None = None
    margin_ratio: Decimal | None = None
    liquidation_price: Decimal | None = None
    bankruptcy_price: Decimal | None = None
    funding: Decimal | None = None


class Balance:
    """Cash of one asset in one account; ``locked`` is held for open orders and position margin."""

    __slots__ = ("asset", "locked", "total")

    def __init__(self, asset: str) -> None:
        self.asset = asset
        self.total = ZERO
        self.locked = ZERO

    @property
    def free(self) -> Decimal:
        return self.total - self.locked


class BalanceView(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    asset: str
    total: Decimal
    locked: Decimal
    free: Decimal
