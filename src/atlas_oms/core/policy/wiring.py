"""Where the policy modules plug into the managed trade's hooks (``trade.TICK_HOOKS``,
``trade.EVENT_HOOKS``, ``trade.DEADLINE_HOOKS``). The engine imports this module once; the order
of the lines is the order in which the hooks run."""

from __future__ import annotations

from atlas_oms.core.policy import (
    cover,
    extended,
    fallback,
    forced_close,
    guards,
    scale_out,
    trade,
    trailing,
)

trade.TICK_HOOKS.append(guards.on_tick)  # §8.2 degradation recovers on the timer
trade.EVENT_HOOKS.append(guards.on_event)  # §14 slippage, §8.2 degradation

trade.EVENT_HOOKS.append(cover.on_event)
trade.TICK_HOOKS.append(scale_out.on_tick)
trade.EVENT_HOOKS.append(scale_out.on_event)
trade.DEADLINE_HOOKS.append(scale_out.next_deadline)
# Stop maintenance (§10) and TRAIL_ONLY (§7).
trade.EVENT_HOOKS.append(trailing.on_event)
trade.DEADLINE_HOOKS.append(trailing.next_bar_close)

# Emergency exits at market (seed 001 §2, §4, §9.1, §9.3): fallback.py
trade.TICK_HOOKS.append(fallback.on_tick)
trade.EVENT_HOOKS.append(fallback.on_event)
trade.DEADLINE_HOOKS.append(fallback.next_deadline)

# Forced close before the session ends (seed 001 §11): forced_close.py
trade.TICK_HOOKS.append(forced_close.on_tick)
trade.EVENT_HOOKS.append(forced_close.on_event)
trade.DEADLINE_HOOKS.append(forced_close.next_deadline)

# Protection outside the regular session (§5.2 with §13): extended.py
trade.EVENT_HOOKS.append(extended.on_event)
trade.TICK_HOOKS.append(extended.on_tick)
