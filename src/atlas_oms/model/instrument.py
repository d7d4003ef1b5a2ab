"""Tradable instruments with their trading rules, in unified symbols (``BTC/USDT``, ``BTC/USDT:USDT``, ``AAPL``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.model.enums import DERIVATIVE_KINDS, InstrumentKind
from atlas_oms.model.margin import MarginTier, validate_tiers

ZERO = Decimal(0)
ONE = Decimal(1)


class Instrument(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One instrument on one venue: what it is and the rules an order must meet to trade it.

    ``settle`` is the margin and P&L currency of derivatives; spot and equities settle in ``quote``.
    ``multiplier`` is the contract size: notional = price * quantity * multiplier.
    ``day_close_utc_min`` is when DAY orders expire, in minutes after 00:00 UTC.
    ``session`` names the trading schedule it follows (``XNYS``: US equities hours); None trades
    around the clock.
    ``margin_tiers`` is a derivative's maintenance-margin table (see :mod:`atlas_oms.model.margin`);
    None uses the engine's default single tier. ``funding_interval_min`` is a perpetual's funding
    period in minutes (settlements fall on multiples of it since 00:00 UTC; 0 = no funding).
    """

    symbol: str
    kind: InstrumentKind
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    venue: str = "sim"
    settle: str | None = None
    min_qty: Decimal = ZERO
    max_qty: Decimal | None = None
    min_notional: Decimal = ZERO
    multiplier: Decimal = ONE
    maker_fee: Decimal = ZERO
    taker_fee: Decimal = ZERO
    tradable: bool = True
    day_close_utc_min: int = 0
    session: str | None = None
    margin_tiers: tuple[MarginTier, ...] | None = None
    funding_interval_min: int = 480
    #: A dated future's expiry (ns since the epoch): from then on it can be settled.
    expiry_ts: int | None = None
    #: The venue's own name for it (``BTCUSDT``) when that differs from the unified symbol.
    venue_symbol: str | None = None
    #: The venue takes native iceberg orders (a display quantity) for it: Binance spot's
    #: ``icebergAllowed``; the built-in exchange (venue ``sim``) always does.
    iceberg_allowed: bool = False
    #: Most parts an iceberg may have, ceil(qty / display qty) (Binance ``ICEBERG_PARTS``);
    #: None: no limit.
    iceberg_parts: int | None = None

    @property
    def native_iceberg(self) -> bool:
        """Whether an order on it may carry a display quantity."""
        return self.iceberg_allowed or self.venue == "sim"

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size", "multiplier"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ValueError(
                    f"{self.symbol}: {name} must be a positive finite Decimal, got {value!r}"
                )
        if self.min_qty < 0 or self.min_notional < 0:
            raise ValueError(f"{self.symbol}: min_qty and min_notional must not be negative")
        if self.max_qty is not None and self.max_qty < self.min_qty:
            raise ValueError(f"{self.symbol}: max_qty is below min_qty")
        if not 0 <= self.day_close_utc_min < 24 * 60:
            raise ValueError(f"{self.symbol}: day_close_utc_min must be within one day")
        if self.margin_tiers is not None:
            validate_tiers(self.margin_tiers, self.symbol)
        if not 0 <= self.funding_interval_min <= 7 * 24 * 60:
            raise ValueError(f"{self.symbol}: funding_interval_min must be within a week")
        if self.session not in (None, "XNYS"):
            raise ValueError(f"{self.symbol}: unknown session {self.session!r} (None or XNYS)")

    @property
    def is_derivative(self) -> bool:
        return self.kind in DERIVATIVE_KINDS

    @property
    def settle_asset(self) -> str:
        return self.settle or self.quote

    @staticmethod
    def spot(
        symbol: str, *, tick_size: str | Decimal, lot_size: str | Decimal, **rules: Any
    ) -> Instrument:
        """Make a spot pair from a unified symbol such as ``BTC/USDT``."""
        base, quote = symbol.split("/")
        return Instrument(
            symbol=symbol,
            kind=InstrumentKind.SPOT,
            base=base,
            quote=quote,
            tick_size=Decimal(tick_size),
            lot_size=Decimal(lot_size),
            **_decimals(rules),
        )

    @staticmethod
    def perpetual(
        symbol: str, *, tick_size: str | Decimal, lot_size: str | Decimal, **rules: Any
    ) -> Instrument:
        """Make a perpetual swap from a unified symbol such as ``BTC/USDT:USDT``."""
        pair, settle = symbol.split(":")
        base, quote = pair.split("/")
        return Instrument(
            symbol=symbol,
            kind=InstrumentKind.PERPETUAL,
            base=base,
            quote=quote,
            settle=settle,
            tick_size=Decimal(tick_size),
            lot_size=Decimal(lot_size),
            **_decimals(rules),
        )

    @staticmethod
    def future(
        symbol: str, *, tick_size: str | Decimal, lot_size: str | Decimal, **rules: Any
    ) -> Instrument:
        """Make a dated future from a unified symbol such as ``BTC/USDT:USDT-261225`` (no funding)."""
        pair, rest = symbol.split(":")
        settle = rest.split("-")[0]
        base, quote = pair.split("/")
        rules.setdefault("funding_interval_min", 0)
        return Instrument(
            symbol=symbol,
            kind=InstrumentKind.FUTURE,
            base=base,
            quote=quote,
            settle=settle,
            tick_size=Decimal(tick_size),
            lot_size=Decimal(lot_size),
            **_decimals(rules),
        )

    @staticmethod
    def equity(
        symbol: str,
        *,
        tick_size: str | Decimal = "0.01",
        lot_size: str | Decimal = "1",
        currency: str = "USD",
        **rules: Any,
    ) -> Instrument:
        """Make a US equity: NYSE hours (``session="XNYS"``) and DAY orders ending at 21:00 UTC,
        unless told otherwise."""
        rules.setdefault("day_close_utc_min", 21 * 60)
        rules.setdefault("session", "XNYS")
        return Instrument(
            symbol=symbol,
            kind=InstrumentKind.EQUITY,
            base=symbol,
            quote=currency,
            tick_size=Decimal(tick_size),
            lot_size=Decimal(lot_size),
            **_decimals(rules),
        )


_DECIMAL_RULES = frozenset(
    {"min_qty", "max_qty", "min_notional", "multiplier", "maker_fee", "taker_fee"}
)


def _decimals(rules: dict[str, Any]) -> dict[str, Any]:
    """The factories' keyword rules, passed through to :class:`Instrument` (whose fields type
    them): decimal rules made exact, margin tiers made a tuple."""
    return {
        k: (
            Decimal(str(v))
            if k in _DECIMAL_RULES and v is not None
            else tuple(v)
            if k == "margin_tiers" and v is not None
            else v
        )
        for k, v in rules.items()
    }
