"""Where the policy modules plug into the managed trade's hooks (``trade.TICK_HOOKS``,
``trade.EVENT_HOOKS``, ``trade.DEADLINE_HOOKS``). The engine imports this module once; the order
of the lines is the order in which the hooks run."""

from __future__ import annotations

from atlas_oms.core.policy import cover, trade

trade.EVENT_HOOKS.append(cover.on_event)

__all__ = ["trade"]
