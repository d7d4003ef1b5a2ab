"""What a run records, per account and strategy: the input of the statistics, the result files
and the HTML report (shared by backtest and paper runs)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.model.enums import Side


class FillRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One fill of an account's order. ``reference_price`` is the market price when the order was
    decided (for a limit order: its limit); ``slippage`` = signed cost per unit against it
    (positive = worse for the account)."""

    account_id: str
    strategy: str
    symbol: str
    order_id: int
    client_order_id: str | None
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: str  # "MAKER" | "TAKER"
    ts: int
    reference_price: Decimal | None = None
    slippage: Decimal = Decimal(0)
    trade_id: str | None = None  # the managed trade (issue 13) the fill belongs to, if any
    tranche: str | None = None  # "T1", "T2", "RUNNER", "STOP", ... for managed trades


class TradeRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One round trip (flat → position → flat) of an account in a symbol, or one managed trade."""

    account_id: str
    strategy: str
    symbol: str
    side: Side  # the entry's side
    qty: Decimal  # the largest position held
    entry_price: Decimal  # volume-weighted average of the entry fills
    exit_price: Decimal  # volume-weighted average of the exit fills
    opened_ts: int
    closed_ts: int
    pnl: Decimal  # realized, after fees
    fees: Decimal
    trade_id: str | None = None
    tranche_pnl: dict[str, Decimal] = {}


class EquityPoint(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """An account's equity (cash + marked positions, in its quote asset) and gross exposure
    (sum of |position| × price) at ``ts``."""

    ts: int
    equity: Decimal
    exposure: Decimal = Decimal(0)
