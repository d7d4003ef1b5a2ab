"""How the simulated venue fills orders: the fill model, its parameters, latency and fees.

Names follow seed 003's ``SlippageConfig`` (``fixed_slippage_pct``, ``volume_slippage_factor``,
``max_volume_pct``, ``spread_pct``, ``market_impact_factor``). Every ``*_pct`` field is in
PERCENT: ``0.05`` means 0.05 % = 5 basis points. Commission rates are FRACTIONS like
:class:`~atlas_oms.model.instrument.Instrument`'s ``maker_fee``/``taker_fee`` and seed 003's
``commission_tiers`` (``0.001`` = 0.1 %). The formulas are in ``docs/SIMULATION.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

ZERO = Decimal(0)

#: The fill models: one formula each, ``book`` walks the L2 book, ``realistic`` combines them.
MODELS = ("fixed", "volume", "sqrt_impact", "spread", "book", "realistic")
#: What "volume" means for the volume-based terms: the last bar's, or the rolling 24 hours'.
VOLUME_BASES = ("bar", "24h")


class FillConfigError(ValueError):
    """A fill configuration that cannot be used: ``reason`` is a stable code
    (``UNKNOWN_KEY``, ``INVALID_VALUE``, ``INVALID_TYPE``), ``key`` the offending entry."""

    def __init__(self, reason: str, key: str, message: str) -> None:
        super().__init__(f"{reason}: {key}: {message}")
        self.reason = reason
        self.key = key
        self.message = message


class CommissionTier(msgspec.Struct, frozen=True, kw_only=True):
    """From ``min_volume_30d`` (the account's traded notional over the last 30 days, in the
    fee asset) upward, fees are ``maker``/``taker`` (fractions of the notional)."""

    min_volume_30d: Decimal
    maker: Decimal
    taker: Decimal


def _tier(volume: str, maker: str, taker: str) -> CommissionTier:
    return CommissionTier(
        min_volume_30d=Decimal(volume), maker=Decimal(maker), taker=Decimal(taker)
    )


#: An example tier table in the style of Binance spot's VIP levels (without the BNB discount);
#: check the venue's current schedule before relying on the numbers.
BINANCE_SPOT_TIERS: tuple[CommissionTier, ...] = (
    _tier("0", "0.001", "0.001"),
    _tier("1000000", "0.0009", "0.001"),
    _tier("5000000", "0.0008", "0.001"),
    _tier("20000000", "0.00042", "0.0006"),
    _tier("100000000", "0.00042", "0.00054"),
    _tier("150000000", "0.00036", "0.00048"),
    _tier("400000000", "0.0003", "0.00042"),
    _tier("800000000", "0.00024", "0.00036"),
    _tier("2000000000", "0.00018", "0.0003"),
    _tier("4000000000", "0.00012", "0.00024"),
)


class FillConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The simulated venue's fill settings (defaults: seed 003's example numbers).

    ``max_volume_pct``: at most this share (percent) of a bar's volume fills per bar; a market
    order's remainder waits for the next bars, a resting limit keeps resting (None: no cap).
    ``commission_tiers``: empty uses each instrument's ``maker_fee``/``taker_fee`` (like the
    built-in exchange); else the tier of the account's 30-day volume at the venue.
    ``max_slippage_pct``: when set, the venue refuses an order whose estimated slippage
    (:func:`~atlas_oms.simulation.sizing.validate_order_size`) is larger.
    """

    model: str = "realistic"
    fixed_slippage_pct: Decimal = Decimal("0.05")
    volume_slippage_factor: Decimal = Decimal("0.1")
    volume_basis: str = "bar"
    max_volume_pct: Decimal | None = None
    spread_pct: Decimal = Decimal("0.02")
    market_impact_factor: Decimal = Decimal("0.05")
    latency_ms: int = 0
    commission_tiers: tuple[CommissionTier, ...] = ()
    queue: bool = True
    max_slippage_pct: Decimal | None = None

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise FillConfigError(
                "INVALID_VALUE", "model", f"{self.model!r} is not one of {', '.join(MODELS)}"
            )
        if self.volume_basis not in VOLUME_BASES:
            raise FillConfigError("INVALID_VALUE", "volume_basis", "must be 'bar' or '24h'")
        for name in (
            "fixed_slippage_pct",
            "volume_slippage_factor",
            "spread_pct",
            "market_impact_factor",
            "max_volume_pct",
            "max_slippage_pct",
        ):
            value = getattr(self, name)
            if value is not None and (not value.is_finite() or value < 0):
                raise FillConfigError("INVALID_VALUE", name, f"must be >= 0, got {value}")
        if self.max_volume_pct is not None and not 0 < self.max_volume_pct <= 100:
            raise FillConfigError("INVALID_VALUE", "max_volume_pct", "must be in (0, 100]")
        if self.latency_ms < 0:
            raise FillConfigError("INVALID_VALUE", "latency_ms", "must be >= 0")
        previous = None
        for tier in self.commission_tiers:
            for field in ("min_volume_30d", "maker", "taker"):
                value = getattr(tier, field)
                if not value.is_finite() or (field != "maker" and value < 0):
                    raise FillConfigError(
                        "INVALID_VALUE", f"commission_tiers.{field}", f"bad value {value}"
                    )
            if previous is not None and tier.min_volume_30d <= previous:
                raise FillConfigError(
                    "INVALID_VALUE", "commission_tiers", "tiers must rise in min_volume_30d"
                )
            previous = tier.min_volume_30d
        if self.commission_tiers and self.commission_tiers[0].min_volume_30d != 0:
            raise FillConfigError(
                "INVALID_VALUE", "commission_tiers", "the first tier must start at volume 0"
            )

    @property
    def latency_ns(self) -> int:
        return self.latency_ms * 1_000_000

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FillConfig:
        """Read a configuration from plain data (YAML/JSON). Unknown keys and bad values raise
        :class:`FillConfigError`. ``commission_tiers`` is a list of ``{min_volume_30d, maker,
        taker}`` or seed 003's flat ``{"maker": 0.001, "taker": 0.001}`` (one tier), or the name
        ``"binance_spot"``."""
        if not isinstance(data, Mapping):
            raise FillConfigError("INVALID_TYPE", "<root>", "a fill config is a mapping")
        fields = set(cls.__struct_fields__)
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in fields:
                raise FillConfigError(
                    "UNKNOWN_KEY", str(key), f"not a fill setting ({', '.join(sorted(fields))})"
                )
            if key == "model" or key == "volume_basis":
                if not isinstance(value, str):
                    raise FillConfigError("INVALID_TYPE", key, "must be a string")
                kwargs[key] = value
            elif key == "queue":
                if not isinstance(value, bool):
                    raise FillConfigError("INVALID_TYPE", key, "must be true or false")
                kwargs[key] = value
            elif key == "latency_ms":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise FillConfigError("INVALID_TYPE", key, "must be an integer")
                kwargs[key] = value
            elif key == "commission_tiers":
                kwargs[key] = _tiers(value)
            elif value is None and key in ("max_volume_pct", "max_slippage_pct"):
                kwargs[key] = None
            else:
                kwargs[key] = _decimal(key, value)
        return cls(**kwargs)

    @classmethod
    def from_yaml(cls, path: str) -> FillConfig:
        """Read a configuration from a YAML file (the whole file, or its ``fills:`` section)."""
        import yaml

        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
        if isinstance(data, Mapping) and "fills" in data and len(data) == 1:
            data = data["fills"]
        return cls.from_dict(data)


def _decimal(key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise FillConfigError("INVALID_TYPE", key, f"must be a number, got {type(value).__name__}")
    try:
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise FillConfigError("INVALID_VALUE", key, f"{value!r} is not a number") from None
    if not result.is_finite():
        raise FillConfigError("INVALID_VALUE", key, f"{value!r} is not finite")
    return result


def _tiers(value: Any) -> tuple[CommissionTier, ...]:
    if value == "binance_spot":
        return BINANCE_SPOT_TIERS
    if isinstance(value, Mapping) and set(value) <= {"maker", "taker"}:
        value = [{"min_volume_30d": 0, **value}]
    if not isinstance(value, list):
        raise FillConfigError(
            "INVALID_TYPE", "commission_tiers", "a list of tiers, {maker, taker} or 'binance_spot'"
        )
    tiers = []
    for entry in value:
        if not isinstance(entry, Mapping):
            raise FillConfigError("INVALID_TYPE", "commission_tiers", "each tier is a mapping")
        unknown = set(entry) - {"min_volume_30d", "maker", "taker"}
        if unknown:
            raise FillConfigError(
                "UNKNOWN_KEY", f"commission_tiers.{sorted(unknown)[0]}", "not a tier field"
            )
        tiers.append(
            CommissionTier(
                min_volume_30d=_decimal("min_volume_30d", entry.get("min_volume_30d", 0)),
                maker=_decimal("maker", entry.get("maker", 0)),
                taker=_decimal("taker", entry.get("taker", 0)),
            )
        )
    return tuple(tiers)
