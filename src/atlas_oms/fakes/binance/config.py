"""What the fake Binance is made of: symbols, accounts, limits and fault knobs.

Everything here is plain data, settable while the fake runs (the server reads it per request).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

SPOT = "spot"
USDM = "usdm"
MARKETS = (SPOT, USDM)


@dataclass(frozen=True)
class SymbolSpec:
    """One symbol's trading rules (the filters ``exchangeInfo`` publishes)."""

    symbol: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_price: Decimal
    max_price: Decimal
    min_notional: Decimal
    price_precision: int
    qty_precision: int
    #: Spot: ``icebergAllowed`` and the ``ICEBERG_PARTS`` filter's limit.
    iceberg_allowed: bool = True
    iceberg_parts: int = 10


def _spec(
    symbol: str, base: str, tick: str, step: str, min_notional: str, pp: int, qp: int
) -> SymbolSpec:
    return SymbolSpec(
        symbol=symbol,
        base=base,
        quote="USDT",
        tick=Decimal(tick),
        step=Decimal(step),
        min_qty=Decimal(step),
        max_qty=Decimal("9000"),
        min_price=Decimal(tick),
        max_price=Decimal("1000000"),
        min_notional=Decimal(min_notional),
        price_precision=pp,
        qty_precision=qp,
    )


def default_symbols(market: str) -> dict[str, SymbolSpec]:
    """BTCUSDT, ETHUSDT (and BNBUSDT on spot) with Binance-like filters."""
    if market == SPOT:
        specs = [
            _spec("BTCUSDT", "BTC", "0.01", "0.00001", "5", 2, 5),
            _spec("ETHUSDT", "ETH", "0.01", "0.0001", "5", 2, 4),
            _spec("BNBUSDT", "BNB", "0.01", "0.001", "5", 2, 3),
        ]
    else:
        specs = [
            _spec("BTCUSDT", "BTC", "0.10", "0.001", "100", 2, 3),
            _spec("ETHUSDT", "ETH", "0.01", "0.001", "20", 2, 3),
        ]
    return {s.symbol: s for s in specs}


@dataclass
class AccountConfig:
    """One venue account: its key pair, starting balances and futures settings."""

    name: str
    api_key: str
    secret: str
    #: Spot balances (free) by asset.
    spot: dict[str, Decimal] = field(default_factory=dict)
    #: USDⓈ-M wallet balances by asset (USDT is the margin asset; BNB pays fees in BNB mode).
    futures: dict[str, Decimal] = field(default_factory=dict)
    hedge_mode: bool = False
    #: Pay fees in BNB while the BNB balance covers them.
    bnb_fees: bool = False
    spot_maker: Decimal = Decimal("0.001")
    spot_taker: Decimal = Decimal("0.001")
    futures_maker: Decimal = Decimal("0.0002")
    futures_taker: Decimal = Decimal("0.0005")
    default_leverage: int = 20
    #: The account's login email (how the master names its sub-accounts in transfers).
    email: str = ""
    #: A sub-account's master account (its ``name``); None: a master (or a lone) account.
    master: str | None = None

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> AccountConfig:
        def money(m: dict[str, Any] | None) -> dict[str, Decimal]:
            return {k: Decimal(str(v)) for k, v in (m or {}).items()}

        cfg = AccountConfig(
            name=str(raw["name"]),
            api_key=str(raw["api_key"]),
            secret=str(raw["secret"]),
            spot=money(raw.get("spot")),
            futures=money(raw.get("futures")),
            hedge_mode=bool(raw.get("hedge_mode", False)),
            bnb_fees=bool(raw.get("bnb_fees", False)),
            email=str(raw.get("email", "")),
            master=str(raw["master"]) if raw.get("master") else None,
        )
        for key in ("spot_maker", "spot_taker", "futures_maker", "futures_taker"):
            if key in raw:
                setattr(cfg, key, Decimal(str(raw[key])))
        if "default_leverage" in raw:
            cfg.default_leverage = int(raw["default_leverage"])
        return cfg


def load_accounts(path: str | Path) -> list[AccountConfig]:
    """Read accounts from a JSON file: a list of objects, or ``{"accounts": [...]}``.

    Each object: ``name``, ``api_key``, ``secret``, optional ``spot``/``futures`` balances by
    asset, ``hedge_mode``, ``bnb_fees``, fee rates, ``default_leverage``, and for sub-accounts
    ``email`` and ``master`` (the master account's name).
    """
    data: Any = json.loads(Path(path).read_text())
    if isinstance(data, dict):
        data = data.get("accounts", [])
    return [AccountConfig.from_dict(item) for item in data]


@dataclass
class Limits:
    """Request-weight and order-count limits (Binance's numbers by default; small in tests)."""

    #: Request weight per IP per window (Binance: 6000/min spot, 2400/min futures).
    weight_per_window: int = 6000
    #: The weight window in seconds (Binance: 60); header names stay ``...-1M``.
    weight_window_s: float = 60.0
    #: Requests an IP may send while it is told to back off before it is banned (418).
    requests_before_ban: int = 3
    #: How long a ban lasts (Binance: 2 minutes to 3 days).
    ban_s: float = 120.0
    #: New orders per account per 10 s (spot and futures), per day (spot), per minute (futures).
    orders_per_10s: int = 100
    orders_per_day: int = 200_000
    orders_per_minute: int = 1200


@dataclass
class Faults:
    """Fault knobs; set any field while the fake runs. Counters count down as they fire.

    - ``delay_places`` / ``delay_s``: the next N order placements are committed, then their
      reply is held ``delay_s`` seconds (past the client's timeout).
    - ``drop_places``: the next N placements are committed, then the connection is closed with
      no reply.
    - ``fail_after_commit`` / ``fail_before_commit``: the next N placements answer HTTP 503
      ``-1007`` (Timeout waiting for response from backend server...) after / without
      committing the order.
    - ``visibility_lag_s``: ``GET order`` (and futures ``openOrder``) answer ``-2013`` for this
      long after an order is accepted.
    - ``duplicate_events``: every execution event (x = TRADE) is pushed twice.
    - ``half_open``: user streams stay connected and answer pings, but events are withheld and
      lost.
    - ``clock_offset_ms``: the server's clock is ahead (+) or behind (-) real time.
    - ``trade_history_ms``: ``myTrades``/``userTrades`` return only trades younger than this.
    - ``cancel_races_fill``: the next N cancels find their order filled just before they
      arrive (the fill is pushed first); the cancel answers ``-2011 Unknown order sent.``.
    - ``delay_cancels`` / ``drop_cancels`` / ``fail_cancels_after_commit`` /
      ``fail_cancels_before_commit``: as the place knobs, for cancels (spot ``DELETE
      /api/v3/order``, futures ``DELETE /fapi/v1/order``): the next N cancels are applied, then
      their reply is held ``delay_s`` seconds / the connection is closed with no reply / they
      answer HTTP 503 ``-1007``; or they answer 503 ``-1007`` without being applied.
    - ``delay_amends`` / ``drop_amends`` / ``fail_amends_after_commit`` /
      ``fail_amends_before_commit``: the same for amends (spot ``PUT
      /api/v3/order/amend/keepPriority``, futures ``PUT /fapi/v1/order``).
    - ``fill_on_subscribe``: client order ids of resting orders to fill in full (at their
      price, the house on the other side) right after the account's next user-data
      subscription is acknowledged (spot: the WS-API ``userDataStream.subscribe.signature``
      answer is sent; futures: a listenKey stream connects), before anything else is
      served. The orders of the subscription's market and account fire; the list empties.
    - ``delay_settings``: the next N leverage or margin type changes are committed, then their
      reply is held ``delay_s`` seconds (past the client's timeout).
    - ``lose_settings``: the next N leverage or margin type changes are *not* committed and
      their reply is held ``delay_s`` seconds (the request was lost on the way).
    - ``delay_transfers`` / ``drop_transfers`` / ``fail_transfers_after_commit`` /
      ``fail_transfers_before_commit``: as the place knobs, for sub-account universal transfers
      (``POST /sapi/v1/sub-account/universalTransfer``).
    """

    delay_places: int = 0
    delay_s: float = 2.0
    drop_places: int = 0
    fail_after_commit: int = 0
    fail_before_commit: int = 0
    visibility_lag_s: float = 0.0
    duplicate_events: bool = False
    half_open: bool = False
    clock_offset_ms: int = 0
    trade_history_ms: int | None = None
    cancel_races_fill: int = 0
    delay_cancels: int = 0
    drop_cancels: int = 0
    fail_cancels_after_commit: int = 0
    fail_cancels_before_commit: int = 0
    delay_amends: int = 0
    drop_amends: int = 0
    fail_amends_after_commit: int = 0
    fail_amends_before_commit: int = 0
    fill_on_subscribe: list[str] = field(default_factory=list)
    delay_settings: int = 0
    lose_settings: int = 0
    delay_transfers: int = 0
    drop_transfers: int = 0
    fail_transfers_after_commit: int = 0
    fail_transfers_before_commit: int = 0
