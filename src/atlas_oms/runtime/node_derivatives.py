"""The node's derivatives-venue operations: margin mode and isolated margin, margin tiers,
funding rates, the insurance fund and settling dated futures.

A mixin of :class:`~atlas_oms.runtime.node.Node`, which supplies ``process`` (the loop) and
``_expect`` (raise on a refusal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.margin import MarginMode, MarginTier
from atlas_oms.model.numbers import Number, to_decimal
from atlas_oms.runtime.queries import Queries


class DerivativesVenue(Queries):
    """Operations of a derivatives venue, submitted through the node's loop."""

    #: The node's loop (``Node.process``).
    process: Callable[[Any], list[ev.EventBase]]
    #: Raise :class:`CommandRefused` on a refusal among the events (``Node._expect``).
    _expect: Callable[[Sequence[ev.EventBase]], None]

    def set_margin_mode(self, account_id: str, symbol: str, mode: MarginMode | str) -> None:
        """Margin ``symbol`` ISOLATED or CROSS for the account (only while it has no position or
        open orders there)."""
        self._expect(
            self.process(
                c.SetMarginMode(
                    ts=self._now(), account_id=account_id, symbol=symbol, mode=MarginMode(mode)
                )
            )
        )

    def add_margin(
        self,
        account_id: str,
        symbol: str,
        amount: Number,
        position_side: PositionSide | None = None,
    ) -> None:
        """Move free collateral into an isolated position's margin."""
        self._adjust_margin(account_id, symbol, amount, position_side, remove=False)

    def remove_margin(
        self,
        account_id: str,
        symbol: str,
        amount: Number,
        position_side: PositionSide | None = None,
    ) -> None:
        """Take margin out of an isolated position (no more than keeps its initial margin)."""
        self._adjust_margin(account_id, symbol, amount, position_side, remove=True)

    def _adjust_margin(
        self,
        account_id: str,
        symbol: str,
        amount: Number,
        position_side: PositionSide | None,
        remove: bool,
    ) -> None:
        self._expect(
            self.process(
                c.AdjustIsolatedMargin(
                    ts=self._now(),
                    account_id=account_id,
                    symbol=symbol,
                    amount=to_decimal(amount),
                    remove=remove,
                    position_side=position_side,
                )
            )
        )

    def set_margin_tiers(
        self, symbol: str, tiers: Iterable[MarginTier], *, actor: str, reason: str = ""
    ) -> None:
        self._expect(
            self.process(
                c.SetMarginTiers(
                    ts=self._now(), symbol=symbol, tiers=tuple(tiers), actor=actor, reason=reason
                )
            )
        )

    def set_funding_rate(self, symbol: str, rate: Number) -> None:
        """The rate the perpetual's next funding settlement applies (0.0001 = 0.01%)."""
        self._expect(
            self.process(c.SetFundingRate(ts=self._now(), symbol=symbol, rate=to_decimal(rate)))
        )

    def deposit_insurance_fund(
        self, asset: str, amount: Number, *, actor: str, reason: str = ""
    ) -> Decimal:
        """Add to (or, negative, take from) the insurance fund; return its new balance."""
        self._expect(
            self.process(
                c.DepositInsuranceFund(
                    ts=self._now(),
                    asset=asset,
                    amount=to_decimal(amount),
                    actor=actor,
                    reason=reason,
                )
            )
        )
        return self.insurance_fund(asset)

    def settle_future(
        self, symbol: str, price: Number, *, actor: str, reason: str = "expiry"
    ) -> list[ev.EventBase]:
        """Cash-settle a dated future at ``price`` once it has expired: orders cancelled, every
        position closed at that price, the instrument no longer trades."""
        events = self.process(
            c.SettleFuture(
                ts=self._now(),
                symbol=symbol,
                price=to_decimal(price),
                actor=actor,
                reason=reason,
            )
        )
        self._expect(events)
        return events
