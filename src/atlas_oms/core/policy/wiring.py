"""Where the policy modules plug into the managed trade's hooks (``trade.TICK_HOOKS``,
``trade.EVENT_HOOKS``, ``trade.DEADLINE_HOOKS``). The engine imports this module once; the order
of the lines is the order in which the hooks run."""

from __future__ import annotations

from atlas_oms.core.policy import fallback, forced_close, trade

__all__ = ["trade"]

# Emergency exits at market (seed 001 §2, §4, §9.1, §9.3): fallback.py
trade.TICK_HOOKS.append(fallback.on_tick)
trade.EVENT_HOOKS.append(fallback.on_event)
trade.DEADLINE_HOOKS.append(fallback.next_deadline)

# Forced close before the session ends (seed 001 §11): forced_close.py
trade.TICK_HOOKS.append(forced_close.on_tick)
trade.EVENT_HOOKS.append(forced_close.on_event)
trade.DEADLINE_HOOKS.append(forced_close.next_deadline)
