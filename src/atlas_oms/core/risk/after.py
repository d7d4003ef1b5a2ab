"""What risk does after each step the engine took: a rejected protective order is retried,
breakers measure what moved (a fill that realized P&L, a system error), ratios are judged where
their numerator grew or a fill may clear them, and accounts waiting to be flattened are flattened
once their orders are gone. Each decision is taken only where its inputs moved in this step
(equity drift is measured on the timer).

Ratio monitoring (RSK-6, seed 001 section 8.2): a warning when an account's order-to-trade or
cancel/replace-to-trade ratio crosses its level, another when it falls back below its clear
level. Warnings only: nothing is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, plain
from atlas_oms.core.risk.breaker import evaluate
from atlas_oms.core.risk.kill import flatten_ready
from atlas_oms.core.risk.limits import limits_for
from atlas_oms.core.risk.protective import PROTECTIVE_TYPES, protective_rejected
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import AlertLevel, BreakerState

#: Events that count as a cancel or replace for the cancel/replace ratio.
_AMEND_EVENTS = frozenset(
    {ev.OrderPendingCancel, ev.OrderCanceled, ev.OrderPendingReplace, ev.OrderReplaced}
)
_FILLED = ev.OrderFilled
_REJECTED = ev.OrderRejected
_SUBMITTED = ev.OrderSubmitted
_CLOSED = BreakerState.CLOSED
_OT = Reason.ORDER_TRADE_RATIO
_CR = Reason.CANCEL_REPLACE_RATIO


def after_step(ctx: Context, out: list[ev.EventBase], ts: int) -> None:
    """React to the events ``out`` of one step (see the module's docstring)."""
    state = ctx.state
    risk = state.risk
    orders = state.orders
    filled: dict[str, str | None] = {}
    errors: dict[str, str | None] = {}
    submitted: set[str] = set()
    amended: set[str] = set()
    ratios = risk.count_ratios
    events: list[Any] = list(out)  # dispatched on the exact class below
    for e in events:
        cls = e.__class__
        if cls is _FILLED:
            order = orders[e.order_id]
            filled[order.account_id] = order.tag
        elif cls is _REJECTED:
            order = orders[e.order_id]
            errors[order.account_id] = order.tag
            if order.order_type in PROTECTIVE_TYPES:
                protective_rejected(ctx, order, e.reason, ts)
        elif ratios:
            if cls is _SUBMITTED:
                submitted.add(e.intent.account_id)
            elif cls in _AMEND_EVENTS:
                amended.add(_account_of(ctx, e))
    first = out[0].seq
    if risk.breakers and risk.touched_seq >= first:
        for account_id, tag in {**errors, **filled}.items():
            for key, b in risk.breakers_of(account_id, tag):
                if b.state is _CLOSED and b.touched_seq >= first:
                    evaluate(ctx, key, b, ts)
    if ratios:
        flags = risk.ratio_flags
        cleared = {a for a in filled if (a, _OT) in flags or (a, _CR) in flags} if flags else set()
        for account_id in sorted(submitted | amended | cleared):
            check_ratios(
                ctx,
                account_id,
                ts,
                account_id in submitted,
                account_id in amended,
                account_id in filled,
            )
    if risk.flatten_todo:
        flatten_ready(ctx, ts)


def _account_of(ctx: Context, e: Any) -> str:
    account_id = getattr(e, "account_id", None)
    if account_id is None:
        intent = getattr(e, "intent", None)
        account_id = intent.account_id if intent is not None else None
    if account_id is None:
        account_id = ctx.state.orders[e.order_id].account_id
    assert isinstance(account_id, str)
    return account_id


def check_ratios(
    ctx: Context,
    account_id: str,
    ts: int,
    submitted: bool = True,
    amended: bool = True,
    filled: bool = True,
) -> None:
    """ratio = numerator / max(fills, 1) over the ratio's window; only what the decision needs
    is counted (no fills when the numerator is 0, the orders only against a crossing)."""
    lim = limits_for(ctx, account_id, "", None)
    if lim is None or not lim.ratios:
        return
    risk = ctx.state.risk
    flags = risk.ratio_flags
    orders_w = risk.orders_w.get(account_id)
    fills_w = risk.fills_w.get(account_id)
    for code, cleared, warn, clear, window_s, per_order in lim.ratios:
        flagged = (account_id, code) in flags
        # Only a growing numerator can raise a warning, only a fill can clear one.
        if not (filled if flagged else (submitted if per_order else submitted or amended)):
            continue
        num_w = orders_w if per_order else risk.amends_w.get(account_id)
        num = num_w.since(ts, window_s) if num_w else 0
        if num:
            fills = fills_w.since(ts, window_s) if fills_w else 0
            ratio = Decimal(num) / max(fills, 1)
        else:
            ratio = ZERO
        if not flagged:
            if ratio > warn:
                orders = (
                    num
                    if per_order  # the numerator is the order count itself
                    else (orders_w.since(ts, window_s) if orders_w else 0)
                )
                if orders >= lim.ratio_min_orders:
                    text = (
                        f"{plain(ratio)}:1 over {window_s // 60} min "
                        f"(warning above {plain(warn)}:1)"
                    )
                    alert(ctx, AlertLevel.WARNING, code, account_id, text, ts)
        elif ratio < clear:
            text = f"back to {plain(ratio)}:1 (below {plain(clear)}:1)"
            alert(ctx, AlertLevel.WARNING, cleared, account_id, text, ts)


def alert(
    ctx: Context, level: AlertLevel, code: Reason, account_id: str, text: str, ts: int
) -> None:
    """Journal a risk alert about an account."""
    ctx.emit(
        ev.RiskAlert(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            level=level,
            code=code,
            message=f"{code}: {text}",
            account_id=account_id,
        )
    )
