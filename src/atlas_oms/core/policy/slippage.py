"""Seed 001 section 14: slippage per fill and its escalation, as pure values.

``slippage = fill_price - intent_price`` (14.1); Atlas keeps it as a fraction of the intent
price, signed two ways: :func:`slippage_fraction` is the seed's sign (a fill above the intent is
positive), :func:`adverse_fraction` is signed by the side (positive = worse for the trader: a buy
above or a sell below the intent). The escalation table (14.2) judges the adverse fraction.

Decisions where the seed is silent:

* "Trades": the monitor takes one value per trade (a trade's value is the quantity-weighted
  average of its fills, :func:`trade_slippage`); a window judges only when it is full (5, 10).
* Favourable slippage counts with its sign in the averages (it offsets adverse fills).
* WARN and REDUCE_SIZE_25 are edge-triggered: one decision when the average rises above its
  threshold, one (WARN_CLEARED, SIZE_RESTORED) when it falls back to it or below.
* A single fill above 0.5%: the stop is moved so the risk per unit from the actual fill is the
  planned R again (never loosened, rounded toward the fill onto the tick: tighter); if even
  with that stop the reward/risk from the fill to the first target is below ``min_rr``
  (default 1.0; the seed gives no number) the decision is EXIT_IF_RR_DESTROYED (exit at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from atlas_oms.core.decimals import ZERO, round_to_tick


class SlippageAction(StrEnum):
    """Reason codes of the section 14.2 decisions."""

    WARN = "SLIPPAGE_WARN"
    WARN_CLEARED = "SLIPPAGE_WARN_CLEARED"
    REDUCE_SIZE_25 = "SLIPPAGE_REDUCE_SIZE_25"
    SIZE_RESTORED = "SLIPPAGE_SIZE_RESTORED"
    ADJUST_STOP = "SLIPPAGE_ADJUST_STOP"
    EXIT_IF_RR_DESTROYED = "SLIPPAGE_EXIT_RR_DESTROYED"


@dataclass(frozen=True, slots=True)
class SlippageConfig:
    """Section 14.2's thresholds (fractions, 0.002 = 0.2%) and windows."""

    warn_avg: Decimal = Decimal("0.002")
    warn_trades: int = 5
    reduce_avg: Decimal = Decimal("0.003")
    reduce_trades: int = 10
    reduce_factor: Decimal = Decimal("0.75")
    single_fill: Decimal = Decimal("0.005")
    min_rr: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class SlippageDecision:
    """One escalation step: the action, the measured value and a sentence."""

    action: SlippageAction
    value: Decimal
    text: str
    new_stop: Decimal | None = None


def slippage_fraction(fill_price: Decimal, intent_price: Decimal) -> Decimal:
    """Seed 14.1 ``fill_price - intent_price``, as a fraction of the intent price."""
    if intent_price <= 0:
        raise ValueError("the intent price must be positive")
    return (fill_price - intent_price) / intent_price


def adverse_fraction(is_buy: bool, fill_price: Decimal, intent_price: Decimal) -> Decimal:
    """The slippage signed against the trader: positive when the fill is worse."""
    s = slippage_fraction(fill_price, intent_price)
    return s if is_buy else -s


def trade_slippage(
    is_buy: bool, intent_price: Decimal, fills: tuple[tuple[Decimal, Decimal], ...]
) -> Decimal:
    """A trade's adverse slippage: its fills' (price, quantity) weighted by quantity."""
    qty = sum((q for _, q in fills), ZERO)
    if qty <= 0:
        raise ValueError("a trade's slippage needs a filled quantity")
    avg = sum((p * q for p, q in fills), ZERO) / qty
    return adverse_fraction(is_buy, avg, intent_price)


@dataclass(frozen=True, slots=True)
class SlippageMonitor:
    """The rolling windows of section 14.2; :meth:`record` returns the next monitor."""

    config: SlippageConfig = SlippageConfig()
    recent: tuple[Decimal, ...] = ()
    warning: bool = False
    reduced: bool = False

    @property
    def size_factor(self) -> Decimal:
        """What the maximum position size is multiplied by now (0.75 while reduced)."""
        return self.config.reduce_factor if self.reduced else Decimal(1)

    def record(self, adverse: Decimal) -> tuple[SlippageMonitor, tuple[SlippageDecision, ...]]:
        """Book one trade's adverse slippage; the decisions its windows take."""
        cfg = self.config
        keep = max(cfg.warn_trades, cfg.reduce_trades)
        recent = (*self.recent, adverse)[-keep:]
        out: list[SlippageDecision] = []
        warning = self._edge(
            recent, cfg.warn_trades, cfg.warn_avg, self.warning,
            SlippageAction.WARN, SlippageAction.WARN_CLEARED, out,
        )  # fmt: skip
        reduced = self._edge(
            recent, cfg.reduce_trades, cfg.reduce_avg, self.reduced,
            SlippageAction.REDUCE_SIZE_25, SlippageAction.SIZE_RESTORED, out,
        )  # fmt: skip
        return SlippageMonitor(cfg, recent, warning, reduced), tuple(out)

    @staticmethod
    def _edge(
        recent: tuple[Decimal, ...],
        n: int,
        threshold: Decimal,
        active: bool,
        enter: SlippageAction,
        leave: SlippageAction,
        out: list[SlippageDecision],
    ) -> bool:
        if len(recent) < n:
            return active
        avg = sum(recent[-n:], ZERO) / n
        if not active and avg > threshold:
            out.append(SlippageDecision(enter, avg, f"average {avg:.4%} over {n} trades"))
            return True
        if active and avg <= threshold:
            out.append(SlippageDecision(leave, avg, f"average {avg:.4%} over {n} trades"))
            return False
        return active


def single_fill_decision(
    *,
    is_buy: bool,
    intent_price: Decimal,
    fill_price: Decimal,
    stop: Decimal,
    r: Decimal,
    first_target: Decimal | None,
    tick: Decimal,
    config: SlippageConfig | None = None,
) -> SlippageDecision | None:
    """Section 14.2's last row for one entry fill of a long (``is_buy``) or a short: None when
    the fill slipped at most 0.5%, else ADJUST_STOP (with the new stop) or
    EXIT_IF_RR_DESTROYED."""
    cfg = config or SlippageConfig()
    adverse = adverse_fraction(is_buy, fill_price, intent_price)
    if adverse <= cfg.single_fill:
        return None
    sign = 1 if is_buy else -1
    moved = round_to_tick(fill_price - sign * r, tick, up=is_buy)
    new_stop = max(stop, moved) if is_buy else min(stop, moved)
    if first_target is not None:
        risk = sign * (fill_price - new_stop)
        reward = sign * (first_target - fill_price)
        if risk <= 0 or reward / risk < cfg.min_rr:
            rr = "none" if risk <= 0 else f"{reward / risk:.2f}"
            return SlippageDecision(
                SlippageAction.EXIT_IF_RR_DESTROYED,
                adverse,
                f"fill slipped {adverse:.4%}; reward/risk {rr} < {cfg.min_rr}",
            )
    return SlippageDecision(
        SlippageAction.ADJUST_STOP,
        adverse,
        f"fill slipped {adverse:.4%}; stop {stop} -> {new_stop} (R from the fill)",
        new_stop,
    )
