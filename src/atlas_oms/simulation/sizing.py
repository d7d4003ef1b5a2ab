"""Pre-trade size check (seed 003): is an order small enough for the market it meets?

The estimated slippage of an order worth ``order_value`` against ``volume_24h`` (both in the
quote currency) is the ``realistic`` model's: ``spread_pct/2 + fixed_slippage_pct +
volume_slippage_factor * p + market_impact_factor * sqrt(p)`` with ``p = 100 * order_value /
volume_24h``.
"""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.simulation.config import FillConfig
from atlas_oms.simulation.models import participation_pct, realistic_pct

DEFAULT = FillConfig()


def estimate_slippage_pct(
    order_value: Decimal, volume_24h: Decimal, config: FillConfig = DEFAULT
) -> Decimal:
    """The expected slippage (percent) of an order worth ``order_value``."""
    return realistic_pct(config, participation_pct(order_value, volume_24h))


def validate_order_size(
    order_value: Decimal,
    volume_24h: Decimal,
    max_slippage_pct: Decimal,
    *,
    config: FillConfig = DEFAULT,
) -> tuple[bool, str | None]:
    """``(ok, warning)``: not ok when the 24h volume is unknown (<= 0) or the estimated slippage
    exceeds ``max_slippage_pct``; ok with a warning when the order is more than
    ``config.max_volume_pct`` of the 24h volume (it would fill over several bars)."""
    order_value = Decimal(order_value)
    volume_24h = Decimal(volume_24h)
    max_slippage_pct = Decimal(max_slippage_pct)
    if volume_24h <= 0:
        return False, "no 24h volume to estimate slippage against"
    share = participation_pct(order_value, volume_24h)
    estimate = estimate_slippage_pct(order_value, volume_24h, config)
    if estimate > max_slippage_pct:
        return False, (
            f"estimated slippage {_pct(estimate)}% exceeds the maximum {_pct(max_slippage_pct)}% "
            f"(the order is {_pct(share)}% of the 24h volume)"
        )
    if config.max_volume_pct is not None and share > config.max_volume_pct:
        return True, (
            f"the order is {_pct(share)}% of the 24h volume (more than {config.max_volume_pct}%): "
            f"estimated slippage {_pct(estimate)}%"
        )
    return True, None


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.0001')).normalize():f}"
