"""The fake Binance's records: orders, trades, positions, accounts, and its refusal error.

Plain data the venue (``venue.py`` and the classes it is built from) keeps and the wire
builders (``wire*.py``) read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from atlas_oms.fakes.binance.config import AccountConfig

ZERO = Decimal(0)

HOUSE = "house"


class VenueError(Exception):
    """A refusal in Binance's words: ``{"code": code, "msg": msg}`` with an HTTP status."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


@dataclass
class Order:
    market: str
    symbol: str
    order_id: int
    client_id: str
    account: str
    side: str  # BUY | SELL
    type: str  # LIMIT | MARKET | LIMIT_MAKER
    tif: str  # GTC | IOC | FOK | GTX
    price: Decimal
    qty: Decimal
    time: int
    executed: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: str = "NEW"
    update_time: int = 0
    reduce_only: bool = False
    position_side: str = "BOTH"
    visible_at: int = 0
    #: Spot: quote (buy) or base (sell) still locked for this order.
    locked: Decimal = ZERO
    #: Spot: the cancel's own client id (``C`` is then the order's, ``c`` this one).
    cancel_client_id: str = ""
    #: Spot keepPriority amend: the client id before the amend.
    orig_client_id: str = ""
    #: Spot iceberg: the visible part (``icebergQty``; 0: not an iceberg).
    iceberg_qty: Decimal = ZERO

    @property
    def leaves(self) -> Decimal:
        return self.qty - self.executed

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass
class Trade:
    market: str
    symbol: str
    trade_id: int
    order_id: int
    account: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    maker: bool
    realized_pnl: Decimal = ZERO
    position_side: str = "BOTH"


@dataclass
class Position:
    amt: Decimal = ZERO  # signed: > 0 long, < 0 short
    entry: Decimal = ZERO
    update_time: int = 0


@dataclass
class Account:
    cfg: AccountConfig
    #: Spot balances: asset -> [free, locked].
    spot: dict[str, list[Decimal]] = field(default_factory=dict)
    #: Futures wallet balances by asset.
    wallet: dict[str, Decimal] = field(default_factory=dict)
    hedge: bool = False
    leverage: dict[str, int] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)
    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    listen_key: str | None = None
    listen_key_expires: int = 0
    update_time: int = 0

    @property
    def name(self) -> str:
        return self.cfg.name

    def free(self, asset: str) -> Decimal:
        return self.spot.get(asset, [ZERO, ZERO])[0]

    def add(self, asset: str, free: Decimal = ZERO, locked: Decimal = ZERO) -> None:
        row = self.spot.setdefault(asset, [ZERO, ZERO])
        row[0] += free
        row[1] += locked


UserListener = Callable[[str, str, dict[str, Any]], None]

MarketListener = Callable[[str, str, dict[str, Any]], None]
