"""Commission tiers: maker/taker rates by an account's traded volume over the last 30 days.

The venue records the notional (``qty * price * multiplier``, in the fee asset) of every fill it
makes per account; the tier of a fill is chosen by the volume traded in the 30 days BEFORE it
(window ``(ts - 30d, ts]`` excluding the fill itself). Deterministic: only fill timestamps count.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from atlas_oms.simulation.config import CommissionTier

ZERO = Decimal(0)
WINDOW_NS = 30 * 24 * 3600 * 1_000_000_000


def tier_for(tiers: tuple[CommissionTier, ...], volume_30d: Decimal) -> CommissionTier:
    """The highest tier whose ``min_volume_30d`` the volume reaches (tiers rise; the first is 0)."""
    chosen = tiers[0]
    for tier in tiers:
        if volume_30d >= tier.min_volume_30d:
            chosen = tier
        else:
            break
    return chosen


class VolumeTracker:
    """Rolling 30-day traded notional per account."""

    def __init__(self, window_ns: int = WINDOW_NS) -> None:
        self.window_ns = window_ns
        self._fills: dict[str, deque[tuple[int, Decimal]]] = {}
        self._sums: dict[str, Decimal] = {}

    def volume(self, account_id: str, ts: int) -> Decimal:
        """The account's notional traded in ``(ts - window, ts]``."""
        fills = self._fills.get(account_id)
        if not fills:
            return ZERO
        total = self._sums[account_id]
        start = ts - self.window_ns
        while fills and fills[0][0] <= start:
            total -= fills.popleft()[1]
        self._sums[account_id] = total
        return total

    def add(self, account_id: str, ts: int, notional: Decimal) -> None:
        self._fills.setdefault(account_id, deque()).append((ts, notional))
        self._sums[account_id] = self._sums.get(account_id, ZERO) + notional


class Commissions:
    """Fee rates of the simulated venue: the tier table when there is one, else the instrument's."""

    def __init__(self, tiers: tuple[CommissionTier, ...]) -> None:
        self.tiers = tiers
        self.volumes = VolumeTracker()

    def rates(
        self, account_id: str, ts: int, maker_default: Decimal, taker_default: Decimal
    ) -> tuple[Decimal, Decimal]:
        if not self.tiers:
            return maker_default, taker_default
        tier = tier_for(self.tiers, self.volumes.volume(account_id, ts))
        return tier.maker, tier.taker

    def record(self, account_id: str, ts: int, notional: Decimal) -> None:
        if self.tiers:
            self.volumes.add(account_id, ts, notional)
