"""Every parameter of seed 001's execution policy, with the seed's names and defaults.

Seed 001 §16 ("Parameterkatalog") names nine parameters (``odin.execution.*``, ``odin.risk.*``);
the issue asks that every number of the seed's "Normativ" tables be configurable too. So the
settings object :class:`PolicyParams` holds:

- the nine §16 parameters, under the seed's own names and with its defaults;
- the other numbers of the normative tables (§3.1 exit repricing, §8.2 degradation, §9.1 partial
  entry, §6 tranche profiles, §10 trailing, §11 time zone, §13 pre-market, §14 slippage), under
  names Atlas coined in the same ``odin.<group>.<kebab-name>`` style. :attr:`ParamSpec.in_section_16`
  tells them apart, :attr:`ParamSpec.seed` cites the section each number comes from, and
  :attr:`ParamSpec.seed_default` is False for the numbers the seed uses without giving one
  (§10.2's ATR factor, MFE lock, runner buffer, and the ATR period; §12's day risk budget;
  §14.2's smallest reward/risk): their defaults are Atlas's.

Conventions (where the seed is silent, decided here):

- A name may be written with or without its ``odin.`` prefix (the issue writes
  ``execution.repricing-interval-ms``); :attr:`ParamSpec.name` is the full one.
- ``-pct`` values are fractions, as §16 writes them (``stop-limit-offset-pct = 0.001`` is 0.1%,
  ``max-position-pct = 0.50`` is 50%): a Decimal in [0, 1]. A text value may also be written
  with a percent sign (``"0.1%"``), which is divided by 100.
- Ratios (``5.0`` for 5:1) are Decimals > 0; durations are ``int`` milliseconds > 0; counts are
  ``int``; times of day are ``HH:MM`` in :attr:`ExecutionParams.forced_close_timezone`.
- Every value is checked on its way in; a wrong name or value raises :class:`ParamError` naming
  the key (and the file and line when it came from one).

:data:`PARAMETERS` is the one table between the dotted names and the attributes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from atlas_oms.core.policy.values import (
    CONVERT,
    Kind,
    SessionDay,
    TimeOfDay,
    Tranche,
    format_value,
    parse_tranches,
)

__all__ = [
    "PARAMETERS",
    "DegradationParams",
    "ExecutionParams",
    "ParamError",
    "ParamSpec",
    "PolicyParams",
    "PreMarketParams",
    "RiskParams",
    "SlippageParams",
    "TimeOfDay",
    "TrailingParams",
    "Tranche",
    "TrancheParams",
    "canonical_name",
    "format_value",
    "spec_of",
]

PREFIX = "odin."
_FORCED_CLOSE_START = TimeOfDay(15, 45)
_FORCED_CLOSE_END = TimeOfDay(15, 55)


class ParamError(ValueError):
    """A parameter name or value refused: ``reason`` is ``UNKNOWN_PARAMETER``, ``INVALID_VALUE``
    or ``INVALID_FILE``; ``key``, ``source`` (a file) and ``line`` say where, when known."""

    def __init__(
        self,
        reason: str,
        sentence: str,
        *,
        key: str | None = None,
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        self.reason = reason
        self.sentence = sentence
        self.key = key
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(f"{reason}: {where}{sentence}")

    def at(self, source: str, line: int | None) -> ParamError:
        """The same refusal, placed in a file and line."""
        return ParamError(self.reason, self.sentence, key=self.key, source=source, line=line)


@dataclass(frozen=True, slots=True)
class ExecutionParams:
    """``odin.execution.*``: order types and timings (§3.1, §4, §8.1, §9.1, §11)."""

    #: §16 / §8.1: reprice a working entry limit every 5 s toward the best quote.
    repricing_interval_ms: int = 5000
    #: §16 / §8.1: at most 3 cancel/replace cycles, then abandon.
    max_repricing_cycles: int = 3
    #: §16 / §4: a stop-limit's limit is 0.1% beyond its trigger.
    stop_limit_offset_pct: Decimal = Decimal("0.001")
    #: §16 / §4: a triggered stop-limit unfilled after 5 s is replaced by a stop-market.
    stop_market_fallback_ms: int = 5000
    #: §16 / §11: from 15:45 ET no new entries; open positions are closed.
    forced_close_start: TimeOfDay = _FORCED_CLOSE_START
    #: §16 / §11: by 15:55 ET a position not yet closed is "cannot liquidate" (EMERGENCY).
    forced_close_end: TimeOfDay = _FORCED_CLOSE_END
    #: §11 ("ET"), coined: the time zone of the forced-close times.
    forced_close_timezone: str = "America/New_York"
    #: §3.1 "Normal Exit ... Repricing alle 5s", coined: a tranche exit limit's repricing interval.
    exit_repricing_interval_ms: int = 5000
    #: §9.1 "Rest stornieren nach 30s", coined: cancel an entry's unfilled rest 30 s after a partial fill.
    entry_partial_cancel_ms: int = 30000
    #: §2 / §9.3 "Retry begrenzt", coined: refused protective stops retried twice, then market.
    stop_reject_retries: int = 2
    #: §11 "Fallback Market", coined: after 2 unfilled repricings of the forced-close limit.
    forced_close_market_after_reprices: int = 2
    #: §11 "exchange calendar aware", coined: early closes and holidays of the session days
    #: (``2026-11-27=13:00,2026-12-25=CLOSED``); an early close moves the forced-close window
    #: with it (close - 15 min / close - 5 min for the defaults).
    session_calendar: tuple[SessionDay, ...] = ()


@dataclass(frozen=True, slots=True)
class RiskParams:
    """``odin.risk.*``: the §16 risk limits and ratio warnings."""

    #: §16: largest position, as a fraction of the day's capital.
    max_position_pct: Decimal = Decimal("0.50")
    #: §16 / §8.2: cancel/replace rate (5:1) above which repricing degrades to the slow interval.
    cancel_replace_rate_warn: Decimal = Decimal("5.0")
    #: §16 / §8.2: order/trade ratio (10:1) above which repricing degrades to one cycle.
    order_trade_ratio_warn: Decimal = Decimal("10.0")
    #: §12 "verbrauchtes Tagesbudget" (the seed gives no number; Atlas default 0.02): the risk
    #: all of a day's cycles may take together, as a fraction of the day's capital.
    day_risk_budget_pct: Decimal = Decimal("0.02")


@dataclass(frozen=True, slots=True)
class DegradationParams:
    """``odin.repricing.*`` (coined): the rest of §8.2's degradation table."""

    #: §8.2: the cancel/replace rate is measured over 30 minutes.
    cancel_replace_window_ms: int = 1_800_000
    #: §8.2: the slow repricing interval while the cancel/replace rate is high (10 s).
    degraded_interval_ms: int = 10_000
    #: §8.2: the slow interval lasts until the rate is below 3:1.
    cancel_replace_rate_recover: Decimal = Decimal("3.0")
    #: §8.2: the order/trade ratio is measured over 60 minutes.
    order_trade_window_ms: int = 3_600_000
    #: §8.2: repricing cycles while the order/trade ratio is high (1 instead of 3).
    degraded_max_cycles: int = 1
    #: §8.2: the one-cycle mode lasts until the ratio is below 6:1.
    order_trade_ratio_recover: Decimal = Decimal("6.0")
    #: §8.2: a fill rate below 30% ...
    fill_rate_min: Decimal = Decimal("0.30")
    #: §8.2: ... over the last 5 attempts ...
    fill_rate_attempts: int = 5
    #: §8.2: ... halves the position size (factor 0.5).
    fill_rate_size_factor: Decimal = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class TrancheParams:
    """``odin.tranches.*`` (coined; §6.1 "als Properties konfigurierbar"): profiles by position value."""

    #: §6.1: below 5,000 USD the compact profile (3T).
    compact_below_usd: Decimal = Decimal(5000)
    #: §6.1: above 15,000 USD the full profile (5T); in between the standard one (4T).
    full_above_usd: Decimal = Decimal(15000)
    #: §6.1 Kompakt (3T): 40% @ 1R, 40% @ 2R, 20% runner.
    compact: tuple[Tranche, ...] = parse_tranches("0.40@1R,0.40@2R,0.20@RUNNER")
    #: §6.1 Standard (4T): 30% @ 1R, 30% @ key level, 25% @ 2R, 15% runner.
    standard: tuple[Tranche, ...] = parse_tranches("0.30@1R,0.30@KEY,0.25@2R,0.15@RUNNER")
    #: §6.1 Voll (5T): 25% @ 1R, 25% @ key level, 25% @ 2R, 15% @ 3R, 10% runner.
    full: tuple[Tranche, ...] = parse_tranches("0.25@1R,0.25@KEY,0.25@2R,0.15@3R,0.10@RUNNER")


@dataclass(frozen=True, slots=True)
class TrailingParams:
    """``odin.trailing.*`` (coined): stop maintenance (§10)."""

    #: §10.1: stops are maintained on every 1-minute bar close.
    bar_interval_ms: int = 60_000
    #: §10.2 ``ema9_close``: the EMA period of the runner trail.
    ema_period: int = 9
    #: §10.2 ``entryAtr``: ATR period (the seed gives none; Atlas default 14).
    atr_period: int = 14
    #: §10.2 ``trail_atr_factor`` (the seed gives none; Atlas default 2.0).
    trail_atr_factor: Decimal = Decimal("2.0")
    #: §10.2 ``mfe_lock_pct`` (the seed gives none; Atlas default 0.5 of the MFE).
    mfe_lock_pct: Decimal = Decimal("0.5")
    #: §10.2 ``buffer`` of ``runnerTrailCandidate = min(ema9_close, last_higher_low) - buffer``:
    #: ``buffer = runner_buffer_pct x min(ema9_close, last_higher_low)`` (short: ``max(...)``),
    #: a fraction of that reference price, so it exists from the first bar (no ATR needed).
    #: The seed gives none; Atlas default 0.001 (0.1 %). The one definition: ``stops.py`` reads it.
    runner_buffer_pct: Decimal = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class PreMarketParams:
    """``odin.premarket.*`` (coined): the §13 pre-market rules."""

    #: §13: at most 25% of the day's capital (half the standard size).
    max_position_pct: Decimal = Decimal("0.25")
    #: §13: the bid-ask spread relative to the midpoint must be below 0.5%.
    max_spread_pct: Decimal = Decimal("0.005")
    #: §13: more than 10,000 shares traded ...
    min_volume: int = 10_000
    #: §13: ... in the last 30 minutes of pre-market.
    volume_window_ms: int = 1_800_000
    #: §13: no repricing: one limit attempt (0 cycles).
    max_repricing_cycles: int = 0


@dataclass(frozen=True, slots=True)
class SlippageParams:
    """``odin.slippage.*`` (coined): the §14.2 escalation table."""

    #: §14.2: average slippage above 0.2% ...
    warn_avg_pct: Decimal = Decimal("0.002")
    #: §14.2: ... over 5 trades warns the monitoring.
    warn_trades: int = 5
    #: §14.2: average slippage above 0.3% ...
    reduce_avg_pct: Decimal = Decimal("0.003")
    #: §14.2: ... over 10 trades ...
    reduce_trades: int = 10
    #: §14.2: ... cuts the maximum position size by 25%.
    reduce_size_pct: Decimal = Decimal("0.25")
    #: §14.2: a single fill above 0.5% adjusts the stop (exit at once if R/R is destroyed).
    single_fill_max_pct: Decimal = Decimal("0.005")
    #: §14.2 "R/R zerstoert" (the seed gives no number; Atlas default 1.0): below this
    #: reward/risk to the first target from the fill, the trade exits at once.
    min_reward_risk: Decimal = Decimal("1.0")


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One row of :data:`PARAMETERS`: a dotted name, the attribute path in :class:`PolicyParams`,
    the value's kind, the seed section it comes from, and whether §16 itself names it."""

    name: str
    path: str
    kind: Kind
    seed: str
    in_section_16: bool = False
    seed_default: bool = True
    #: Smallest allowed value of an ``int`` (``ms`` must be > 0: minimum 1).
    minimum: int = 1


def _p(name: str, path: str, kind: Kind, seed: str, **kw: object) -> ParamSpec:
    return ParamSpec(PREFIX + name, path, kind, seed, **kw)  # type: ignore[arg-type]


#: Every parameter: dotted name -> attribute path, kind and seed section. Sorted by name.
PARAMETERS: tuple[ParamSpec, ...] = tuple(
    sorted(
        (
            _p(
                "execution.repricing-interval-ms",
                "execution.repricing_interval_ms",
                "ms",
                "§16, §8.1",
                in_section_16=True,
            ),
            _p(
                "execution.max-repricing-cycles",
                "execution.max_repricing_cycles",
                "count",
                "§16, §8.1",
                in_section_16=True,
                minimum=0,
            ),
            _p(
                "execution.stop-limit-offset-pct",
                "execution.stop_limit_offset_pct",
                "fraction",
                "§16, §4",
                in_section_16=True,
            ),
            _p(
                "execution.stop-market-fallback-ms",
                "execution.stop_market_fallback_ms",
                "ms",
                "§16, §4",
                in_section_16=True,
            ),
            _p(
                "execution.forced-close-start",
                "execution.forced_close_start",
                "time",
                "§16, §11",
                in_section_16=True,
            ),
            _p(
                "execution.forced-close-end",
                "execution.forced_close_end",
                "time",
                "§16, §11",
                in_section_16=True,
            ),
            _p("execution.forced-close-timezone", "execution.forced_close_timezone", "zone", "§11"),
            _p(
                "execution.exit-repricing-interval-ms",
                "execution.exit_repricing_interval_ms",
                "ms",
                "§3.1",
            ),
            _p(
                "execution.entry-partial-cancel-ms",
                "execution.entry_partial_cancel_ms",
                "ms",
                "§9.1",
            ),
            _p(
                "execution.stop-reject-retries",
                "execution.stop_reject_retries",
                "count",
                "§2, §9.3",
                seed_default=False,
                minimum=0,
            ),
            _p(
                "execution.session-calendar",
                "execution.session_calendar",
                "calendar",
                "§11",
                seed_default=False,
            ),
            _p(
                "execution.forced-close-market-after-reprices",
                "execution.forced_close_market_after_reprices",
                "count",
                "§11",
                seed_default=False,
                minimum=0,
            ),
            _p(
                "risk.max-position-pct",
                "risk.max_position_pct",
                "fraction",
                "§16",
                in_section_16=True,
            ),
            _p(
                "risk.cancel-replace-rate-warn",
                "risk.cancel_replace_rate_warn",
                "ratio",
                "§16, §8.2",
                in_section_16=True,
            ),
            _p(
                "risk.order-trade-ratio-warn",
                "risk.order_trade_ratio_warn",
                "ratio",
                "§16, §8.2",
                in_section_16=True,
            ),
            _p(
                "repricing.cancel-replace-window-ms",
                "repricing.cancel_replace_window_ms",
                "ms",
                "§8.2",
            ),
            _p("repricing.degraded-interval-ms", "repricing.degraded_interval_ms", "ms", "§8.2"),
            _p(
                "repricing.cancel-replace-rate-recover",
                "repricing.cancel_replace_rate_recover",
                "ratio",
                "§8.2",
            ),
            _p("repricing.order-trade-window-ms", "repricing.order_trade_window_ms", "ms", "§8.2"),
            _p(
                "repricing.degraded-max-cycles",
                "repricing.degraded_max_cycles",
                "count",
                "§8.2",
                minimum=0,
            ),
            _p(
                "repricing.order-trade-ratio-recover",
                "repricing.order_trade_ratio_recover",
                "ratio",
                "§8.2",
            ),
            _p("repricing.fill-rate-min", "repricing.fill_rate_min", "fraction", "§8.2"),
            _p("repricing.fill-rate-attempts", "repricing.fill_rate_attempts", "count", "§8.2"),
            _p(
                "repricing.fill-rate-size-factor",
                "repricing.fill_rate_size_factor",
                "fraction",
                "§8.2",
            ),
            _p("tranches.compact-below-usd", "tranches.compact_below_usd", "decimal", "§6.1"),
            _p("tranches.full-above-usd", "tranches.full_above_usd", "decimal", "§6.1"),
            _p("tranches.compact", "tranches.compact", "tranches", "§6.1, §6.2"),
            _p("tranches.standard", "tranches.standard", "tranches", "§6.1, §6.2"),
            _p("tranches.full", "tranches.full", "tranches", "§6.1, §6.2"),
            _p("trailing.bar-interval-ms", "trailing.bar_interval_ms", "ms", "§10.1"),
            _p("trailing.ema-period", "trailing.ema_period", "count", "§10.2"),
            _p("trailing.atr-period", "trailing.atr_period", "count", "§10.2", seed_default=False),
            _p(
                "trailing.trail-atr-factor",
                "trailing.trail_atr_factor",
                "decimal",
                "§10.2",
                seed_default=False,
            ),
            _p(
                "trailing.mfe-lock-pct",
                "trailing.mfe_lock_pct",
                "fraction",
                "§10.2",
                seed_default=False,
            ),
            _p(
                "trailing.runner-buffer-pct",
                "trailing.runner_buffer_pct",
                "fraction",
                "§10.2",
                seed_default=False,
            ),
            _p(
                "risk.day-risk-budget-pct",
                "risk.day_risk_budget_pct",
                "fraction",
                "§12",
                seed_default=False,
            ),
            _p(
                "slippage.min-reward-risk",
                "slippage.min_reward_risk",
                "ratio",
                "§14.2",
                seed_default=False,
            ),
            _p("premarket.max-position-pct", "premarket.max_position_pct", "fraction", "§13"),
            _p("premarket.max-spread-pct", "premarket.max_spread_pct", "fraction", "§13"),
            _p("premarket.min-volume", "premarket.min_volume", "count", "§13", minimum=0),
            _p("premarket.volume-window-ms", "premarket.volume_window_ms", "ms", "§13"),
            _p(
                "premarket.max-repricing-cycles",
                "premarket.max_repricing_cycles",
                "count",
                "§13",
                minimum=0,
            ),
            _p("slippage.warn-avg-pct", "slippage.warn_avg_pct", "fraction", "§14.2"),
            _p("slippage.warn-trades", "slippage.warn_trades", "count", "§14.2"),
            _p("slippage.reduce-avg-pct", "slippage.reduce_avg_pct", "fraction", "§14.2"),
            _p("slippage.reduce-trades", "slippage.reduce_trades", "count", "§14.2"),
            _p("slippage.reduce-size-pct", "slippage.reduce_size_pct", "fraction", "§14.2"),
            _p("slippage.single-fill-max-pct", "slippage.single_fill_max_pct", "fraction", "§14.2"),
        ),
        key=lambda spec: spec.name,
    )
)
_BY_NAME: dict[str, ParamSpec] = {spec.name: spec for spec in PARAMETERS}


def canonical_name(name: str) -> str:
    """``name`` with its ``odin.`` prefix (added when it was left off)."""
    name = name.strip()
    return name if name.startswith(PREFIX) else PREFIX + name


def spec_of(name: str) -> ParamSpec:
    """The row of ``name`` (with or without ``odin.``); an unknown name is refused."""
    spec = _BY_NAME.get(canonical_name(name))
    if spec is None:
        raise ParamError(
            "UNKNOWN_PARAMETER",
            f"{name!r} is not a parameter of the execution policy (see `atlas policy params`)",
            key=name,
        )
    return spec


def coerce(spec: ParamSpec, value: object) -> object:
    """``value`` as the parameter's type, checked; a wrong one is refused naming the key."""
    try:
        return CONVERT[spec.kind](value, spec.minimum)
    except ValueError as exc:
        raise ParamError("INVALID_VALUE", f"{spec.name}: {exc}", key=spec.name) from None


@dataclass(frozen=True, slots=True)
class PolicyParams:
    """Seed 001's execution policy parameters, grouped as the seed groups them. Immutable:
    :meth:`with_overrides` returns a changed copy."""

    execution: ExecutionParams = field(default_factory=ExecutionParams)
    risk: RiskParams = field(default_factory=RiskParams)
    repricing: DegradationParams = field(default_factory=DegradationParams)
    tranches: TrancheParams = field(default_factory=TrancheParams)
    trailing: TrailingParams = field(default_factory=TrailingParams)
    premarket: PreMarketParams = field(default_factory=PreMarketParams)
    slippage: SlippageParams = field(default_factory=SlippageParams)

    def get(self, name: str) -> object:
        """The value of the parameter ``name`` (e.g. ``"execution.repricing-interval-ms"``)."""
        group, attr = spec_of(name).path.split(".")
        return getattr(getattr(self, group), attr)

    def items(self) -> Iterable[tuple[ParamSpec, object]]:
        """Every parameter with its value, sorted by name."""
        return ((spec, self.get(spec.name)) for spec in PARAMETERS)

    def with_overrides(self, overrides: Mapping[str, object]) -> PolicyParams:
        """A copy with ``overrides`` (name -> value) applied; every name and value is checked,
        and so are the rules between parameters (:meth:`check`)."""
        groups: dict[str, dict[str, object]] = {}
        for name, value in overrides.items():
            spec = spec_of(name)
            group, attr = spec.path.split(".")
            groups.setdefault(group, {})[attr] = coerce(spec, value)
        changed = dataclasses.replace(
            self,
            **{
                group: dataclasses.replace(getattr(self, group), **attrs)
                for group, attrs in groups.items()
            },
        )
        changed.check()
        return changed

    def check(self) -> None:
        """The rules between parameters: forced close starts before it ends; the compact
        threshold is below the full one; a degradation recovers below where it starts."""
        ex, rp = self.execution, self.repricing
        if ex.forced_close_start.minutes >= ex.forced_close_end.minutes:
            raise ParamError(
                "INVALID_VALUE",
                f"{PREFIX}execution.forced-close-start ({ex.forced_close_start}) must be before "
                f"{PREFIX}execution.forced-close-end ({ex.forced_close_end})",
                key=f"{PREFIX}execution.forced-close-start",
            )
        if self.tranches.compact_below_usd > self.tranches.full_above_usd:
            raise ParamError(
                "INVALID_VALUE",
                f"{PREFIX}tranches.compact-below-usd must not exceed {PREFIX}tranches.full-above-usd",
                key=f"{PREFIX}tranches.compact-below-usd",
            )
        for recover, warn, name in (
            (
                rp.cancel_replace_rate_recover,
                self.risk.cancel_replace_rate_warn,
                "cancel-replace-rate",
            ),
            (rp.order_trade_ratio_recover, self.risk.order_trade_ratio_warn, "order-trade-ratio"),
        ):
            if recover > warn:
                raise ParamError(
                    "INVALID_VALUE",
                    f"{PREFIX}repricing.{name}-recover ({recover}) must not exceed the warning "
                    f"threshold ({warn})",
                    key=f"{PREFIX}repricing.{name}-recover",
                )
