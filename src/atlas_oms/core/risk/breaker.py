"""Circuit breakers (per account or strategy): they measure equity (daily loss, drawdown from
the peak), losing trades and venue errors in a row, and the order rate, and trip when a limit is
met; they reset by hand after a cooldown, or by themselves after a set time. Their status report
is seed 003's ``get_status``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import HUNDRED, ZERO, plain
from atlas_oms.core.risk.book import BreakerStatus, ScopeKey
from atlas_oms.core.state.state import State
from atlas_oms.model import events as ev
from atlas_oms.model.enums import DERIVATIVE_KINDS
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import BreakerState, Scope

MINUTE_NS = 60_000_000_000
DAY_NS = 86_400_000_000_000
#: Rejections that count as system errors for a circuit breaker (business outcomes do not).
SYSTEM_ERRORS = frozenset({Reason.VENUE_REJECTED, Reason.VENUE_TIMEOUT})
_PER = {1: "second", 60: "minute", 3600: "hour"}
_ACCOUNT = Scope.ACCOUNT


# ---------------------------------------------------------------------------------- equity
def equity(state: State, scope: Scope, scope_id: str) -> Decimal | None:
    """The equity a breaker measures: an account's (with its sub-accounts) in the breaker's
    currency; a strategy's capital plus its realized P&L net of fees. None: no breaker there."""
    b = state.risk.breakers.get((scope, scope_id))
    if b is None:
        return None
    return _equity(state, scope, scope_id, b)


def _equity(state: State, scope: Scope, scope_id: str, b: BreakerStatus) -> Decimal:
    if scope is Scope.STRATEGY:
        return (b.config.capital or ZERO) + b.pnl
    if b.config.capital is not None:
        return b.config.capital + b.pnl
    return account_equity(state, scope_id, b.config.currency)


def account_equity(state: State, account_id: str, currency: str) -> Decimal:
    """Cash in ``currency``, other assets at their last price in it, and the unrealized P&L
    of derivatives settled in it, over the account and its sub-accounts. Assets without a
    price in ``currency`` are left out."""
    total = ZERO
    balances = state.account_balances
    positions = state.account_positions
    instruments = state.instruments
    for acct in state.risk.family(account_id):
        for bal in balances.get(acct, ()):
            amount = bal.total
            if not amount:
                continue
            if bal.asset == currency:
                total += amount
            else:
                px = _asset_price(state, bal.asset, currency)
                if px is not None:
                    total += amount * px
        for pos in positions.get(acct, ()):
            if pos.qty:
                inst = instruments[pos.symbol]
                if inst.kind in DERIVATIVE_KINDS and inst.settle_asset == currency:
                    total += pos.unrealized_pnl(state.reference_price(pos.symbol, prefer_mark=True))
    return total


def _asset_price(state: State, asset: str, currency: str) -> Decimal | None:
    px = state.last.get(f"{asset}/{currency}")
    if px is None:
        inst = state.instruments.get(asset)
        if inst is not None and inst.quote == currency and not inst.is_derivative:
            px = state.last.get(asset)
    return px


# ---------------------------------------------------------------------------------- decisions
def evaluate(ctx: Context, key: ScopeKey, b: BreakerStatus, ts: int) -> None:
    """Trip the breaker if one of its limits is met (consecutive losses or errors, daily loss,
    drawdown), after marking a new day's start or a new peak of equity."""
    cfg = b.config
    if cfg.max_consecutive_losses and b.consecutive_losses >= cfg.max_consecutive_losses:
        trip(
            ctx,
            key,
            b,
            Reason.CONSECUTIVE_LOSSES,
            f"{b.consecutive_losses} losing trades in a row (limit {cfg.max_consecutive_losses})",
            ts,
        )
        return
    if cfg.max_consecutive_errors and b.consecutive_errors >= cfg.max_consecutive_errors:
        trip(
            ctx,
            key,
            b,
            Reason.CONSECUTIVE_ERRORS,
            f"{b.consecutive_errors} venue errors in a row (limit {cfg.max_consecutive_errors})",
            ts,
        )
        return
    if cfg.max_daily_loss_pct is None and cfg.max_drawdown_pct is None:
        return
    now = _equity(ctx.state, key[0], key[1], b)
    mark_equity(ctx, key, b, now, ts)
    start, peak = b.start_equity, b.peak_equity
    # At or above the start (the peak) the loss (the drawdown) is not positive: no division.
    if (
        cfg.max_daily_loss_pct is not None
        and start
        and start > 0
        and (now < start or cfg.max_daily_loss_pct <= 0)
    ):
        loss_pct = (start - now) / start * HUNDRED
        if loss_pct >= cfg.max_daily_loss_pct:
            trip(
                ctx,
                key,
                b,
                Reason.DAILY_LOSS_LIMIT,
                f"down {plain(round(loss_pct, 4))}% today ({plain(start)} -> {plain(now)}; "
                f"limit {plain(cfg.max_daily_loss_pct)}%)",
                ts,
            )
            return
    if (
        cfg.max_drawdown_pct is not None
        and peak
        and peak > 0
        and (now < peak or cfg.max_drawdown_pct <= 0)
    ):
        dd_pct = (peak - now) / peak * HUNDRED
        if dd_pct >= cfg.max_drawdown_pct:
            trip(
                ctx,
                key,
                b,
                Reason.MAX_DRAWDOWN,
                f"{plain(round(dd_pct, 4))}% below the peak {plain(peak)} "
                f"(limit {plain(cfg.max_drawdown_pct)}%)",
                ts,
            )


def mark_equity(
    ctx: Context, key: ScopeKey, b: BreakerStatus, now: Decimal, ts: int, rebase: bool = False
) -> None:
    """Mark a new day's start of equity or a new peak (``rebase``: start again from ``now``)."""
    day = ts // DAY_NS
    if rebase or b.day != day or b.peak_equity is None or now > b.peak_equity:
        new_day = rebase or b.day != day or b.start_equity is None
        start = now if new_day or b.start_equity is None else b.start_equity
        ctx.emit(
            ev.BreakerEquityMarked(
                seq=ctx.state.seq + 1,
                ts_event=ts,
                scope=key[0],
                scope_id=key[1],
                day=day,
                start_equity=start,
                peak_equity=(now if rebase or b.peak_equity is None else max(b.peak_equity, now)),
            )
        )


def rate_trip(ctx: Context, key: ScopeKey, b: BreakerStatus, ts: int) -> bool:
    """Trip on a runaway order rate (orders per minute or hour); return whether it tripped."""
    cfg = b.config
    if cfg.max_orders_per_minute is None and cfg.max_orders_per_hour is None:
        return False
    window = ctx.state.risk.rates.get(key[1] if key[0] is _ACCOUNT else key)
    if window is None:
        return False
    for seconds, limit in ((60, cfg.max_orders_per_minute), (3600, cfg.max_orders_per_hour)):
        if limit is not None and window.since(ts, seconds) >= limit:
            trip(
                ctx,
                key,
                b,
                Reason.ORDER_RATE,
                f"more than {limit} orders per {_PER[seconds]}: a runaway order loop?",
                ts,
            )
            return True
    return False


def trip(
    ctx: Context, key: ScopeKey, b: BreakerStatus, cause: Reason, message: str, ts: int
) -> None:
    cfg = b.config
    auto = (
        None
        if cfg.require_manual_reset or cfg.auto_reset_after_minutes is None
        else ts + max(cfg.auto_reset_after_minutes, cfg.cooldown_minutes) * MINUTE_NS
    )
    ctx.emit(
        ev.CircuitBreakerTripped(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            scope=key[0],
            scope_id=key[1],
            cause=cause,
            message=message,
            cooldown_until=ts + cfg.cooldown_minutes * MINUTE_NS,
            auto_reset_at=auto,
            reason=cause,
        )
    )


def auto_reset(ctx: Context, key: ScopeKey, b: BreakerStatus, ts: int) -> bool:
    """Reset an open breaker whose automatic reset is due; return whether it reset."""
    if b.auto_reset_at is None or ts < b.auto_reset_at:
        return False
    reset(ctx, key, b, "risk", "automatic reset after the configured time", ts, True)
    return True


def reset(
    ctx: Context,
    key: ScopeKey,
    b: BreakerStatus,
    actor: str,
    reason: str,
    ts: int,
    automatic: bool,
) -> None:
    ctx.emit(
        ev.CircuitBreakerReset(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            scope=key[0],
            scope_id=key[1],
            actor=actor,
            reason=reason,
            automatic=automatic,
        )
    )
    # A reset accepts the losses so far: daily loss and drawdown count from here.
    now = equity(ctx.state, *key)
    if now is not None:
        mark_equity(ctx, key, b, now, ts, rebase=True)


def sweep(ctx: Context, ts: int) -> None:
    """The timer's pass: due automatic resets, then every closed breaker measured again."""
    for key, b in sorted(ctx.state.risk.breakers.items()):
        if b.state is BreakerState.OPEN:
            auto_reset(ctx, key, b, ts)
        else:
            evaluate(ctx, key, b, ts)


# ---------------------------------------------------------------------------------- reading
def breaker_report(state: State, scope: Scope, scope_id: str, ts: int) -> dict[str, Any] | None:
    """The status report of one breaker (seed 003 ``get_status``), or None if none is set."""
    key = (scope, scope_id)
    b = state.risk.breakers.get(key)
    if b is None:
        return None
    now = equity(state, scope, scope_id)
    start, peak = b.start_equity, b.peak_equity
    window = state.risk.rates.get(scope_id if scope is Scope.ACCOUNT else key)
    return {
        "scope": scope.value,
        "scope_id": scope_id,
        "state": b.state.value,
        "cause": b.cause,
        "message": b.message,
        "tripped_at": b.tripped_at,
        "may_reset_at": b.cooldown_until,
        "auto_reset_at": b.auto_reset_at,
        "equity": now,
        "start_of_day_equity": start,
        "peak_equity": peak,
        "daily_pnl": now - start if now is not None and start is not None else None,
        "daily_loss_pct": (start - now) / start * HUNDRED if now is not None and start else None,
        "drawdown_pct": (peak - now) / peak * HUNDRED if now is not None and peak else None,
        "consecutive_losses": b.consecutive_losses,
        "consecutive_errors": b.consecutive_errors,
        "orders_last_minute": window.since(ts, 60) if window else 0,
        "orders_last_hour": window.since(ts, 3600) if window else 0,
        "trips": b.trips,
        "config": b.config,
    }
