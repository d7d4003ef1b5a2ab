"""The derivatives venue's commands: leverage, margin mode, isolated margin, tier tables, the
funding rate and the insurance fund. A refused one is ``CommandRejected`` with its reason."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ONE, ZERO, is_amount, plain
from atlas_oms.core.derivatives.figures import valuation
from atlas_oms.core.derivatives.pretrade import leverage_refusal
from atlas_oms.core.refusals import operator_reject, reject_command
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import InstrumentKind, PositionSide
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode, validate_tiers
from atlas_oms.model.reasons import Reason

_ISOLATED = MarginMode.ISOLATED


def _derivative(ctx: Context, c: Any) -> Instrument | None:
    """The command's derivative, or None after rejecting the command."""
    state = ctx.state
    if c.account_id not in state.accounts:
        reject_command(
            ctx, c, Reason.UNKNOWN_ACCOUNT, f"account {c.account_id} does not exist", c.account_id
        )
        return None
    inst = state.instruments.get(c.symbol)
    if inst is None or not inst.is_derivative:
        reject_command(
            ctx, c, Reason.UNKNOWN_INSTRUMENT, f"{c.symbol} is not a known derivative", c.account_id
        )
        return None
    return inst


def set_leverage(ctx: Context, c: cmd.SetLeverage) -> None:
    inst = _derivative(ctx, c)  # refuses an unknown account or a non-derivative
    if inst is None:
        return
    lev = c.leverage
    if not isinstance(lev, Decimal) or not lev.is_finite() or lev < ONE:
        reject_command(
            ctx,
            c,
            Reason.INVALID_LEVERAGE,
            f"leverage must be a number of at least 1, got {lev}",
            c.account_id,
        )
    elif refusal := leverage_refusal(ctx.state, ctx.config, c.account_id, inst, lev):
        reject_command(ctx, c, refusal[0], refusal[1], c.account_id)
    else:
        ctx.emit(
            ev.LeverageSet(
                seq=ctx.state.seq + 1,
                ts_event=c.ts,
                account_id=c.account_id,
                symbol=c.symbol,
                leverage=lev,
            )
        )


def set_margin_mode(ctx: Context, c: cmd.SetMarginMode) -> None:
    if _derivative(ctx, c) is None:
        return
    if not isinstance(c.mode, MarginMode):
        reject_command(
            ctx,
            c,
            Reason.INVALID_FIELD,
            f"margin mode must be CROSS or ISOLATED, got {c.mode!r}",
            c.account_id,
        )
        return
    busy = any(
        p.qty or p.open_buy or p.open_sell
        for p in ctx.state.account_positions.get(c.account_id, ())
        if p.symbol == c.symbol
    )
    if busy:
        reject_command(
            ctx,
            c,
            Reason.MARGIN_MODE_LOCKED,
            f"account {c.account_id} has a position or open orders in {c.symbol}: "
            "close them before changing the margin mode",
            c.account_id,
        )
        return
    ctx.emit(
        ev.MarginModeSet(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            account_id=c.account_id,
            symbol=c.symbol,
            mode=c.mode,
        )
    )


def adjust_isolated_margin(ctx: Context, c: cmd.AdjustIsolatedMargin) -> None:
    inst = _derivative(ctx, c)
    if inst is None:
        return
    state = ctx.state
    amount = c.amount
    account_id = c.account_id
    if not is_amount(amount) or amount <= 0:
        reject_command(
            ctx,
            c,
            Reason.INVALID_AMOUNT,
            f"the margin amount must be a positive number, got {amount}"
            + (
                " (say remove=True to take margin out)"
                if isinstance(amount, Decimal) and amount < 0
                else ""
            ),
            account_id,
        )
        return
    side = c.position_side or PositionSide.BOTH
    pos = state.positions.get((account_id, c.symbol, side))
    if state.liq.mode(account_id, c.symbol) is not _ISOLATED:
        reject_command(
            ctx,
            c,
            Reason.NOT_ISOLATED,
            f"{c.symbol} is margined CROSS for account {account_id}",
            account_id,
        )
        return
    if pos is None or not pos.qty:
        reject_command(
            ctx,
            c,
            Reason.NO_POSITION,
            f"account {account_id} has no {side} position in {c.symbol}",
            account_id,
        )
        return
    if state.liq.is_frozen(account_id, c.symbol):
        reject_command(
            ctx,
            c,
            Reason.LIQUIDATION_IN_PROGRESS,
            f"the {c.symbol} position is being liquidated",
            account_id,
        )
        return
    asset = inst.settle_asset
    if not c.remove:
        free = state.free(account_id, asset)
        if free < amount:
            reject_command(
                ctx,
                c,
                Reason.INSUFFICIENT_BALANCE,
                f"cannot add {plain(amount)} {asset}: only {plain(free)} is free",
                account_id,
            )
            return
        delta = amount
    else:
        px = valuation(state, pos)
        upnl = pos.unrealized_pnl(px)
        lev = state.leverage.get((account_id, c.symbol), ONE)
        initial = abs(pos.qty) * px * inst.multiplier / lev
        removable = pos.margin + min(upnl, ZERO) - initial
        if removable < 0:
            removable = ZERO
        if amount > removable:
            reject_command(
                ctx,
                c,
                Reason.MARGIN_REMOVAL_TOO_LARGE,
                f"at most {plain(removable)} {asset} can be removed from the {c.symbol} "
                f"position (margin {plain(pos.margin)}, initial margin at mark "
                f"{plain(initial)}, unrealized P&L {plain(upnl)})",
                account_id,
            )
            return
        delta = -amount
    ctx.emit(
        ev.IsolatedMarginAdjusted(
            seq=state.seq + 1,
            ts_event=c.ts,
            account_id=account_id,
            symbol=c.symbol,
            position_side=side,
            amount=delta,
        )
    )


def set_margin_tiers(ctx: Context, c: cmd.SetMarginTiers) -> None:
    inst = ctx.state.instruments.get(c.symbol)
    if inst is None or not inst.is_derivative:
        operator_reject(
            ctx, c, (Reason.UNKNOWN_INSTRUMENT, f"{c.symbol} is not a known derivative")
        )
        return
    try:
        tiers = validate_tiers(list(c.tiers), c.symbol)
    except (ValueError, TypeError) as exc:
        operator_reject(ctx, c, (Reason.INVALID_MARGIN_TIERS, str(exc)))
        return
    ctx.emit(
        ev.MarginTiersSet(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            symbol=c.symbol,
            tiers=tiers,
            actor=c.actor,
            reason=c.reason,
        )
    )


def set_funding_rate(ctx: Context, c: cmd.SetFundingRate) -> None:
    state = ctx.state
    inst = state.instruments.get(c.symbol)
    if inst is None or inst.kind is not InstrumentKind.PERPETUAL or not inst.funding_interval_min:
        reject_command(
            ctx, c, Reason.NOT_A_PERPETUAL, f"{c.symbol} is not a perpetual with funding"
        )
        return
    rate = c.rate
    if not isinstance(rate, Decimal) or not rate.is_finite() or abs(rate) >= 1:
        reject_command(
            ctx,
            c,
            Reason.INVALID_FUNDING_RATE,
            f"a funding rate is a fraction between -1 and 1, got {rate}",
        )
        return
    since = None
    if c.symbol not in state.liq.last_funding:
        # Funding counts from the boundary at or before the first rate: the first settlement is
        # the next boundary, never one in the past.
        interval = inst.funding_interval_min * 60_000_000_000
        since = c.ts - c.ts % interval
    ctx.emit(
        ev.FundingRateSet(
            seq=state.seq + 1, ts_event=c.ts, symbol=c.symbol, rate=rate, funding_from_ts=since
        )
    )


def deposit_insurance_fund(ctx: Context, c: cmd.DepositInsuranceFund) -> None:
    amount = c.amount
    if not is_amount(amount) or not amount:
        operator_reject(
            ctx, c, (Reason.INVALID_AMOUNT, f"amount must be a non-zero number, got {amount}")
        )
        return
    have = ctx.state.liq.fund.get(c.asset, ZERO)
    if amount < 0 and have < -amount:
        operator_reject(
            ctx,
            c,
            (
                Reason.INSUFFICIENT_BALANCE,
                f"the {c.asset} insurance fund holds {plain(have)}: cannot take {plain(-amount)}",
            ),
        )
        return
    ctx.emit(
        ev.InsuranceFundDeposited(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            asset=c.asset,
            amount=amount,
            actor=c.actor,
            reason=c.reason,
        )
    )
