"""Seed 001 section 6: the multi-tranche scale-out model as a pure table.

A managed trade calls :func:`plan_tranches` once its entry has filled: the profile the intent
chose (OFF / CONSERVATIVE / STANDARD / AGGRESSIVE) and the position's value pick a variant
(3T / 4T / 5T, seed 001 section 6.1), the variant's splits divide the filled quantity in whole
lots, and each tranche gets its limit target from entry, R and side (a key level the intent
supplies replaces the computed price of the table's ``Key-Level`` tranche); the runner gets no
target (it is trailed, section 10).

The rows and thresholds come from the ``odin.tranches.*`` parameters (:func:`config_from_params`;
their defaults are the seed's table). Decisions where the seed is silent (each a parameter of
:class:`TrancheConfig`):

* Boundaries: ``value < 5,000`` is 3T, ``5,000 <= value <= 15,000`` is 4T (the seed's
  "5.000 -- 15.000" read as inclusive at both ends), ``value > 15,000`` is 5T.
* Profiles: STANDARD is the seed's table as it stands. OFF places no target: the whole position is
  one runner (stop and trail only). CONSERVATIVE takes the variant one step smaller (5T->4T,
  4T->3T, 3T stays): fewer, nearer targets, more of the position taken early. AGGRESSIVE takes it
  one step larger (3T->4T, 4T->5T, 5T stays): more tranches reaching further (3R).
* Lots: each tranche gets ``floor(lots * pct)`` lots; every lot left over goes to the runner (the
  last tranche), so the whole position is allocated and what rounding leaves stays protected and
  trailed rather than sold early. A tranche with no lot is left out of the plan (no zero order).
* Targets: ``entry + side * multiple * R``, rounded to the tick toward the entry (long: down,
  short: up), the side on which the limit fills sooner; never nearer than one tick to the entry.
* Key level: used when it lies on the profit side of the entry, at least one tick beyond it;
  otherwise the tranche falls back to ``key_level_fallback_r`` (1.5R, between the 1R and 2R
  tranches) and the plan says why (:attr:`TargetSource`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from functools import lru_cache

from atlas_oms.core.decimals import ZERO, round_to_tick
from atlas_oms.core.policy.params import TrancheParams
from atlas_oms.core.policy.values import Tranche as ParamTranche


class ScaleOutProfile(StrEnum):
    """The bounded enum the strategy chooses (seed 001 section 6.2)."""

    OFF = "OFF"
    CONSERVATIVE = "CONSERVATIVE"
    STANDARD = "STANDARD"
    AGGRESSIVE = "AGGRESSIVE"


class Variant(StrEnum):
    """A row of seed 001 section 6.1; NONE is the OFF profile's single runner."""

    NONE = "NONE"
    COMPACT_3T = "3T"
    STANDARD_4T = "4T"
    FULL_5T = "5T"


class TrancheKind(StrEnum):
    """How a tranche's exit is priced."""

    R_MULTIPLE = "R_MULTIPLE"
    KEY_LEVEL = "KEY_LEVEL"
    RUNNER = "RUNNER"


class TargetSource(StrEnum):
    """Reason code for where a tranche's target price came from."""

    R_MULTIPLE = "R_MULTIPLE"
    KEY_LEVEL = "KEY_LEVEL"
    KEY_LEVEL_MISSING = "KEY_LEVEL_MISSING"
    KEY_LEVEL_WRONG_SIDE = "KEY_LEVEL_WRONG_SIDE"
    TRAIL = "TRAIL"


@dataclass(frozen=True, slots=True)
class TrancheSpec:
    """One column of a table row: a share of the position and how it exits."""

    pct: Decimal
    kind: TrancheKind
    r_multiple: Decimal | None = None


def _spec(tranche: ParamTranche) -> TrancheSpec:
    if tranche.target == "RUNNER":
        return TrancheSpec(tranche.share, TrancheKind.RUNNER)
    if tranche.target == "KEY":
        return TrancheSpec(tranche.share, TrancheKind.KEY_LEVEL)
    return TrancheSpec(tranche.share, TrancheKind.R_MULTIPLE, tranche.r_multiple)


def table_from_params(p: TrancheParams) -> dict[Variant, tuple[TrancheSpec, ...]]:
    """The §6.1 table as the ``odin.tranches.*`` parameters say (the one source of the rows)."""
    return {
        Variant.NONE: (TrancheSpec(Decimal(1), TrancheKind.RUNNER),),
        Variant.COMPACT_3T: tuple(_spec(t) for t in p.compact),
        Variant.STANDARD_4T: tuple(_spec(t) for t in p.standard),
        Variant.FULL_5T: tuple(_spec(t) for t in p.full),
    }


#: Seed 001 section 6.1, as written (the parameters' defaults).
SEED_TABLE: dict[Variant, tuple[TrancheSpec, ...]] = table_from_params(TrancheParams())

_ORDER = (Variant.COMPACT_3T, Variant.STANDARD_4T, Variant.FULL_5T)


@dataclass(frozen=True, slots=True)
class TrancheConfig:
    """Section 6's properties; the defaults are the seed's."""

    compact_below: Decimal = Decimal(5000)
    full_above: Decimal = Decimal(15000)
    table: dict[Variant, tuple[TrancheSpec, ...]] = field(default_factory=lambda: SEED_TABLE)
    #: Steps along 3T -> 4T -> 5T a profile moves the value's variant (clamped).
    profile_shift: dict[ScaleOutProfile, int] = field(
        default_factory=lambda: {
            ScaleOutProfile.CONSERVATIVE: -1,
            ScaleOutProfile.STANDARD: 0,
            ScaleOutProfile.AGGRESSIVE: 1,
        }
    )
    key_level_fallback_r: Decimal = Decimal("1.5")

    def __post_init__(self) -> None:
        for variant, row in self.table.items():
            if sum((s.pct for s in row), ZERO) != 1:
                raise ValueError(f"the splits of {variant} do not sum to 100%")
            if not row or row[-1].kind is not TrancheKind.RUNNER:
                raise ValueError(f"the last tranche of {variant} must be the runner")


@dataclass(frozen=True, slots=True)
class Tranche:
    """One planned exit: its quantity and, except for the runner, its limit price."""

    index: int
    kind: TrancheKind
    pct: Decimal
    quantity: Decimal
    target: Decimal | None
    source: TargetSource
    r_multiple: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TranchePlan:
    """What :func:`plan_tranches` decided."""

    profile: ScaleOutProfile
    variant: Variant
    tranches: tuple[Tranche, ...]

    @property
    def quantity(self) -> Decimal:
        return sum((t.quantity for t in self.tranches), ZERO)


@lru_cache(maxsize=16)
def config_from_params(p: TrancheParams) -> TrancheConfig:
    """The :class:`TrancheConfig` of the ``odin.tranches.*`` parameters in force."""
    return TrancheConfig(
        compact_below=p.compact_below_usd, full_above=p.full_above_usd, table=table_from_params(p)
    )


def variant_for_value(value: Decimal, config: TrancheConfig | None = None) -> Variant:
    """Seed 001 section 6.1's ``Bedingung`` column: the row a position value picks."""
    cfg = config or TrancheConfig()
    if value < cfg.compact_below:
        return Variant.COMPACT_3T
    if value > cfg.full_above:
        return Variant.FULL_5T
    return Variant.STANDARD_4T


def choose_variant(
    profile: ScaleOutProfile, value: Decimal, config: TrancheConfig | None = None
) -> Variant:
    """The row a profile and a position value pick (OFF: no targets at all)."""
    cfg = config or TrancheConfig()
    if profile is ScaleOutProfile.OFF:
        return Variant.NONE
    i = _ORDER.index(variant_for_value(value, cfg)) + cfg.profile_shift.get(profile, 0)
    return _ORDER[min(max(i, 0), len(_ORDER) - 1)]


def allocate_lots(
    quantity: Decimal, lot: Decimal, pcts: tuple[Decimal, ...]
) -> tuple[Decimal, ...]:
    """Split ``quantity`` by ``pcts`` in whole lots; the lots rounding leaves go to the last."""
    if lot <= 0 or quantity < 0:
        raise ValueError("the lot must be positive and the quantity not negative")
    lots, rest = divmod(quantity, lot)
    if rest:
        raise ValueError(f"{quantity} is not a whole number of lots of {lot}")
    parts = [(lots * p).to_integral_value(rounding=ROUND_FLOOR) for p in pcts]
    parts[-1] += lots - sum(parts, ZERO)
    return tuple(n * lot for n in parts)


def target_price(
    entry: Decimal, r: Decimal, multiple: Decimal, is_buy: bool, tick: Decimal
) -> Decimal:
    """A long's (``is_buy``) target above the entry, a short's below, rounded toward the
    entry and never nearer than one tick to it."""
    if is_buy:
        return max(round_to_tick(entry + multiple * r, tick, up=False), entry + tick)
    return min(round_to_tick(entry - multiple * r, tick, up=True), entry - tick)


def plan_tranches(
    *,
    profile: ScaleOutProfile,
    is_buy: bool,
    entry: Decimal,
    r: Decimal,
    quantity: Decimal,
    lot: Decimal,
    tick: Decimal,
    key_level: Decimal | None = None,
    value: Decimal | None = None,
    config: TrancheConfig | None = None,
) -> TranchePlan:
    """The scale-out plan for a filled position of ``quantity`` at ``entry`` (``is_buy``: a
    long). ``value`` (default ``entry * quantity``) picks the variant; ``r`` is the risk unit
    as a price distance."""
    cfg = config or TrancheConfig()
    if r <= 0 or tick <= 0:
        raise ValueError("R and the tick must be positive")
    variant = choose_variant(profile, entry * quantity if value is None else value, cfg)
    row = cfg.table[variant]
    sizes = allocate_lots(quantity, lot, tuple(s.pct for s in row))
    out: list[Tranche] = []
    for spec, size in zip(row, sizes, strict=True):
        if not size:
            continue
        if spec.kind is TrancheKind.RUNNER:
            price, source, mult = None, TargetSource.TRAIL, None
        elif spec.kind is TrancheKind.R_MULTIPLE:
            mult = spec.r_multiple or ZERO
            price = target_price(entry, r, mult, is_buy, tick)
            source = TargetSource.R_MULTIPLE
        else:
            price, source, mult = _key_level(entry, r, is_buy, tick, key_level, cfg)
        out.append(Tranche(len(out) + 1, spec.kind, spec.pct, size, price, source, mult))
    return TranchePlan(profile, variant, tuple(out))


def _key_level(
    entry: Decimal,
    r: Decimal,
    is_buy: bool,
    tick: Decimal,
    key_level: Decimal | None,
    cfg: TrancheConfig,
) -> tuple[Decimal, TargetSource, Decimal | None]:
    if key_level is not None:
        level = round_to_tick(key_level, tick, up=not is_buy)  # toward the entry
        if (level - entry >= tick) if is_buy else (entry - level >= tick):
            return level, TargetSource.KEY_LEVEL, None
        source = TargetSource.KEY_LEVEL_WRONG_SIDE
    else:
        source = TargetSource.KEY_LEVEL_MISSING
    mult = cfg.key_level_fallback_r
    return target_price(entry, r, mult, is_buy, tick), source, mult
