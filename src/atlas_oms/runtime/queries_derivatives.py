"""Reads of derivatives: margin, tiers, funding, insurance funds, liquidations, margin estimates
and settings: part of :class:`~atlas_oms.runtime.queries.Queries`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.context import Context
from atlas_oms.core.derivatives.commands import set_leverage, set_margin_mode
from atlas_oms.core.derivatives.figures import (
    MarginInfo,
    cross_status,
    cross_wallet,
    margin_info,
    tiers_of,
)
from atlas_oms.core.derivatives.formulas import max_notional
from atlas_oms.core.derivatives.order_estimate import OrderMarginEstimate, order_margin_estimate
from atlas_oms.model import events as ev
from atlas_oms.model.commands import SetLeverage, SetMarginMode, SubmitOrder
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.margin import MarginMode, MarginTier
from atlas_oms.model.reasons import Reason
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.queries_base import QueriesBase


class FundingInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A perpetual's funding: the rate of the next settlement and when it is due."""

    symbol: str
    rate: Decimal | None
    interval_min: int
    last_funding_ts: int
    next_funding_ts: int | None


class LiquidationSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Liquidation cases started and still open, and auto-deleveraging trades, so far."""

    cases_started: int
    cases_open: int
    adl_trades: int


class LiquidationWatch(msgspec.Struct, frozen=True, kw_only=True):
    """One symbol's liquidation watch: entries, accounts awaiting recomputation, and the nearest
    liquidation prices below (net longs) and above (net shorts) the mark."""

    symbol: str
    watched: int
    stale_accounts: int
    nearest_below: Decimal | None
    nearest_above: Decimal | None


class DerivativeQueries(QueriesBase):
    """Margin, tiers, funding, insurance funds, liquidations, estimates and settings."""

    def insurance_fund(self, asset: str) -> Decimal:
        return self.engine.state.liq.fund.get(asset, Decimal(0))

    def margin(
        self, account_id: str, symbol: str, position_side: PositionSide = PositionSide.BOTH
    ) -> MarginInfo | None:
        """Margin figures of a derivative position at the mark price (None if never held)."""
        pos = self.engine.state.positions.get((account_id, symbol, position_side))
        return margin_info(self.engine.state, self.engine.config, pos) if pos is not None else None

    def account_margin(self, account_id: str, asset: str) -> dict[str, Decimal | None]:
        """The account's cross margin: wallet balance, margin balance, maintenance margin, ratio."""
        balance, maint = cross_status(self.engine.state, self.engine.config, account_id, asset)
        return {
            "wallet_balance": cross_wallet(self.engine.state, account_id, asset),
            "margin_balance": balance,
            "maint_margin": maint,
            "margin_ratio": (maint / balance) if balance > 0 else None,
        }

    def liquidations(self, account_id: str | None = None) -> list[ev.EventBase]:
        """The journal's liquidation events (start, steps, insurance-fund transfers, ADL, end), in
        order; with ``account_id``, every event of the cases it was liquidated or deleveraged in."""
        kinds = (
            ev.LiquidationStarted,
            ev.LiquidationStep,
            ev.LiquidationFundTransfer,
            ev.PositionAutoDeleveraged,
            ev.LiquidationFinished,
        )
        found: list[ev.EventBase] = [e for e in self.events() if isinstance(e, kinds)]
        if account_id is None:
            return found
        # An account sees its own events and the steps of its own liquidations; an ADL
        # counterparty sees its side of the trade, never the liquidated account's events.
        own = {
            e.case_id
            for e in found
            if isinstance(e, ev.LiquidationStarted) and e.account_id == account_id
        }
        return [
            e
            for e in found
            if getattr(e, "account_id", None) == account_id
            or (isinstance(e, ev.LiquidationStep) and e.case_id in own)
        ]

    def margin_tiers(self, symbol: str) -> tuple[MarginTier, ...]:
        """The derivative's maintenance-margin tiers in force (its own table or the default)."""
        inst = self.engine.state.instruments.get(symbol)
        if inst is None:
            raise CommandRefused(Reason.UNKNOWN_INSTRUMENT, f"instrument {symbol} does not exist")
        return tiers_of(self.engine.config, inst)

    def max_position_notional(self, symbol: str, leverage: Decimal) -> Decimal | None:
        """The largest position notional the tier table allows at ``leverage`` (None: no
        limit; 0: no tier allows that leverage)."""
        return max_notional(self.margin_tiers(symbol), leverage)

    def insurance_funds(self) -> dict[str, Decimal]:
        """Every insurance fund's balance, by asset."""
        return dict(sorted(self.engine.state.liq.fund.items()))

    def funding(self, symbol: str) -> FundingInfo:
        """A perpetual's funding rate and settlement times."""
        inst = self.engine.state.instruments.get(symbol)
        if inst is None:
            raise CommandRefused(Reason.UNKNOWN_INSTRUMENT, f"instrument {symbol} does not exist")
        liq = self.engine.state.liq
        interval = inst.funding_interval_min * 60_000_000_000
        last = liq.last_funding.get(symbol, 0)
        return FundingInfo(
            symbol=symbol,
            rate=liq.funding_rate.get(symbol),
            interval_min=inst.funding_interval_min,
            last_funding_ts=last,
            next_funding_ts=last + interval if interval else None,
        )

    def liquidation_summary(self) -> LiquidationSummary:
        """How many liquidation cases started, how many are still open, and how many
        auto-deleveraging trades closed a counterparty's position."""
        liq = self.engine.state.liq
        return LiquidationSummary(
            cases_started=liq.liquidations, cases_open=len(liq.cases), adl_trades=liq.adl_count
        )

    def liquidation_watch(self, symbol: str) -> LiquidationWatch:
        """What the engine watches to liquidate on ``symbol``'s mark price: how many entries
        (isolated positions, cross accounts), how many accounts await recomputation, and the
        liquidation prices nearest to the mark on either side."""
        idx = self.engine.state.liq_index
        below = idx.below.get(symbol) or ()
        above = idx.above.get(symbol) or ()
        return LiquidationWatch(
            symbol=symbol,
            watched=len(below) + len(above),
            stale_accounts=len(idx.dirty),
            nearest_below=below[-1][0] if below else None,
            nearest_above=above[0][0] if above else None,
        )

    def margin_estimate(
        self, cmd: SubmitOrder, price: Decimal | None = None
    ) -> OrderMarginEstimate | None:
        """Before a fill: the position ``cmd`` would make if it filled in full at ``price``
        (default: its limit price, else the mark, else the last trade) and that position's
        liquidation price by the convention of the order's venue (Binance, Bybit, OKX; Atlas's
        own exchange: Binance's). None for spot and equities. Nothing is journaled."""
        state = self.engine.state
        inst = state.instruments.get(cmd.symbol)
        if inst is None:
            raise CommandRefused(
                Reason.UNKNOWN_INSTRUMENT, f"instrument {cmd.symbol} does not exist"
            )
        px = price or cmd.price or state.reference_price(cmd.symbol, prefer_mark=True)
        if px is None:
            raise CommandRefused(
                Reason.NO_REFERENCE_PRICE,
                f"{cmd.symbol} has no price to estimate a market order at",
            )
        return order_margin_estimate(state, self.engine.config, cmd, inst, px)

    def derivative_settings(self, account_id: str) -> dict[str, tuple[Decimal | None, MarginMode]]:
        """The account's settings chosen in Atlas, per derivative: (leverage, margin mode) for
        every symbol with a leverage set (``SetLeverage``) or margined ISOLATED. The leverage is
        None where none was set (Atlas then margins at 1x); CROSS is the default mode."""
        state = self.engine.state
        out: dict[str, tuple[Decimal | None, MarginMode]] = {}
        for (acct, symbol), lev in state.leverage.items():
            if acct == account_id:
                out[symbol] = (lev, MarginMode.CROSS)
        for (acct, symbol), mode in state.liq.margin_mode.items():
            if acct == account_id:
                out[symbol] = (out.get(symbol, (None, mode))[0], mode)
        return out

    def settings_refusal(self, command: SetLeverage | SetMarginMode) -> tuple[str, str] | None:
        """Would the engine refuse this ``SetLeverage`` or ``SetMarginMode``? (reason, message)
        of its refusal, or None if it would take it. Nothing is journaled, no state changes
        (the gateway asks before it changes the setting on a venue)."""
        engine = self.engine
        ctx = _FirstEvent(engine.state, engine.config)
        handler = set_leverage if isinstance(command, SetLeverage) else set_margin_mode
        try:
            handler(ctx, command)  # type: ignore[arg-type]
        except _Decided as decided:
            if isinstance(decided.event, ev.CommandRejected):
                return decided.event.reason, decided.event.message
        return None


class _Decided(Exception):
    def __init__(self, event: Any) -> None:
        self.event = event


class _FirstEvent(Context):
    """A context that stops at the first event a handler emits, folding nothing."""

    __slots__ = ()

    def emit(self, event: Any) -> None:
        raise _Decided(event)
