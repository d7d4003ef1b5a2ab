"""Ratio monitoring (RSK-6, seed 001 section 8.2): a warning when an account's order-to-trade or
cancel/replace-to-trade ratio crosses its level, another when it falls back below its clear
level. Warnings only: nothing is refused."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, plain
from atlas_oms.core.risk.limits import limits_for
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import AlertLevel


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
