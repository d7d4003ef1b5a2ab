"""Reads of risk: trading states, kill switches, circuit breakers, limits, ratio warnings and the
pre-trade check: part of :class:`~atlas_oms.runtime.queries.Queries`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.risk.breaker import breaker_report
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import RiskLimits, Scope
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.queries_base import QueriesBase


class RiskQueries(QueriesBase):
    """Risk status, breakers, limits, ratio warnings and the pre-trade check."""

    def risk_status(self, account_id: str | None = None) -> dict[str, Any]:
        """Trading states, kill switches, breakers and limits (all, or those over one account)."""
        engine = self.engine
        risk = engine.state.risk
        now = self._now()

        def concerns(scope: Scope, scope_id: str) -> bool:
            if account_id is None or scope in (Scope.GLOBAL, Scope.STRATEGY, Scope.INSTRUMENT):
                return True
            return scope_id in risk.chain(account_id)

        return {
            "trading_states": [
                {
                    "scope": k[0].value,
                    "scope_id": k[1],
                    "state": e.state.value,
                    "actor": e.actor,
                    "reason": e.reason,
                    "since": e.ts_event,
                }
                for k, e in sorted(risk.states.items())
                if concerns(*k)
            ],
            "kill_switches": [
                {
                    "scope": k[0].value,
                    "scope_id": k[1],
                    "actor": e.actor,
                    "reason": e.reason,
                    "flatten": e.flatten,
                    "since": e.ts_event,
                }
                for k, e in sorted(risk.kills.items())
                if concerns(*k)
            ],
            "circuit_breakers": [
                breaker_report(engine.state, k[0], k[1], now)
                for k in sorted(risk.breakers)
                if concerns(*k)
            ],
            "limits": [
                {"scope": k[0].value, "scope_id": k[1], "limits": lim}
                for k, lim in sorted(risk.limits.items())
                if concerns(*k)
            ],
            "market_status": dict(sorted(risk.market_status.items())),
        }

    def breaker_status(self, scope: Scope | str, scope_id: str) -> dict[str, Any] | None:
        """One circuit breaker's status report (state, daily P&L, drawdown, losses, why, when)."""
        return breaker_report(self.engine.state, Scope(scope), scope_id, self._now())

    def risk_limits(self, scope: Scope | str, scope_id: str = "") -> RiskLimits | None:
        """The limits one scope sets (None: none)."""
        return self.engine.state.risk.limits.get((Scope(scope), scope_id))

    def open_breakers(self) -> int:
        """How many circuit breakers are open now."""
        return sum(1 for b in self.engine.state.risk.breakers.values() if b.state == "OPEN")

    def ratio_warnings(self) -> list[tuple[str, str]]:
        """(account, reason code) of every order-to-trade or cancel-replace ratio warning in
        force, sorted."""
        return sorted(self.engine.state.risk.ratio_flags)

    def pre_trade_check(
        self, cmd: SubmitOrder, worst: Decimal | None = None
    ) -> tuple[Reason, str] | None:
        """Run the pre-trade risk checks on ``cmd`` without submitting it: (reason, message) of
        the first refusal, or None if every check passes. ``worst`` is the worst price the order
        may execute at (default: its limit price), used by notional limits.

        Nothing is journaled and no state changes (the engine's submit sets its own duplicate
        warning afresh)."""
        inst = self.engine.state.instruments.get(cmd.symbol)
        if inst is None:
            raise CommandRefused(
                Reason.UNKNOWN_INSTRUMENT, f"instrument {cmd.symbol} does not exist"
            )
        return self.engine.pre_trade_check(cmd, inst, cmd.price if worst is None else worst)
