"""The node's stop maintenance API (issue 13, seed 001 §7, §10): bars as market data, tightening a
trade's stop on a CRITICAL monitor event, and switching a trade to TRAIL_ONLY.

A mixin of :class:`~atlas_oms.runtime.node.Node`, which supplies ``process`` (the loop).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from atlas_oms.core.policy.bars import Bar
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.numbers import Number, to_decimal
from atlas_oms.runtime.queries import Queries


class TrailingStops(Queries):
    """Bars, stop tightening and target policy, submitted through the node's loop."""

    #: The node's loop (``Node.process``).
    process: Callable[[Any], list[ev.EventBase]]

    def apply_bar(
        self,
        symbol: str,
        start_ns: int,
        open: Number,
        high: Number,
        low: Number,
        close: Number,
        volume: Number = 0,
    ) -> list[ev.EventBase]:
        """Feed one complete 1-minute bar (an external venue's or a backtest's) starting at
        ``start_ns`` (on a minute): ``BarApplied``, then the trailing stops of the symbol's trades
        are maintained. An inconsistent bar is refused (``CommandRejected``)."""
        return self.process(
            c.ApplyBar(
                ts=self._now(),
                symbol=symbol,
                start_ns=start_ns,
                open=Decimal(str(open)),
                high=Decimal(str(high)),
                low=Decimal(str(low)),
                close=Decimal(str(close)),
                volume=Decimal(str(volume)),
            )
        )

    def tighten_trade_stop(
        self, trade_id: str, reason: str, stop: Number | None = None
    ) -> list[ev.EventBase]:
        """A CRITICAL monitor event (seed 001 §10.1, e.g. a blow-off): run the trade's stop
        maintenance now; ``stop`` is one more candidate, taken only if it tightens."""
        return self.process(
            c.TightenTradeStop(
                ts=self._now(), trade_id=trade_id, reason=reason, stop=to_decimal(stop)
            )
        )

    def set_trade_target_policy(
        self, trade_id: str, target_policy: str, reason: str = ""
    ) -> list[ev.EventBase]:
        """Switch an open trade to ``TRAIL_ONLY`` (seed 001 §7): every open target is canceled
        and the whole remaining position is trailed by the stop."""
        return self.process(
            c.SetTradeTargetPolicy(
                ts=self._now(), trade_id=trade_id, target_policy=target_policy, reason=reason
            )
        )

    def bars_state(self, symbol: str) -> tuple[Bar | None, Any]:
        """The symbol's bar in progress and its indicators (``IndicatorState``: ``atr``, ``ema``,
        ``last_higher_low``, ``last_lower_high``), or ``(None, None)`` if it never traded."""
        sb = self.engine.state.bar_book.symbols.get(symbol)
        return (None, None) if sb is None else (sb.bars.current, sb.ind)
