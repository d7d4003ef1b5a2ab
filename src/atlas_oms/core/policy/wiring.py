"""Where the policy modules plug into the managed trade's hooks (``trade.TICK_HOOKS``,
``trade.EVENT_HOOKS``, ``trade.DEADLINE_HOOKS``). The engine imports this module once; the order
of the lines is the order in which the hooks run."""

from __future__ import annotations

from atlas_oms.core.policy import guards, trade

trade.TICK_HOOKS.append(guards.on_tick)  # §8.2 degradation recovers on the timer
trade.EVENT_HOOKS.append(guards.on_event)  # §14 slippage, §8.2 degradation

__all__ = ["trade"]
