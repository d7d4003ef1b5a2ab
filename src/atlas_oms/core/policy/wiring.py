"""Where the policy modules plug into the managed trade's hooks (``trade.TICK_HOOKS``,
``trade.EVENT_HOOKS``, ``trade.DEADLINE_HOOKS``). The engine imports this module once; the order
of the lines is the order in which the hooks run."""

from __future__ import annotations

from atlas_oms.core.policy import trade, trailing

# Stop maintenance (§10) and TRAIL_ONLY (§7).
trade.EVENT_HOOKS.append(trailing.on_event)
trade.DEADLINE_HOOKS.append(trailing.next_bar_close)

__all__ = ["trade"]
