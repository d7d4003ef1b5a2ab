"""Sizing and admission of trade intents (issue 13; seed 001 sections 8.2, 12, 12.1, 13, 14.2,
16 ``risk.max-position-pct``). :func:`admit` is called by ``trade.submit_intent`` once the
intent's fields are valid; it refuses (``TradeIntentRefused``, a reason code and a sentence) or
returns the size, which the caller journals with ``TradeIntentAccepted`` and then :func:`record`
journals how it was sized (``TradeSized``).

Decisions where the seed is silent:

* **Day capital** ("Tageskapital"): the account's equity in the instrument's quote currency
  (cash plus other assets at their last price, ``risk.breaker.account_equity``) at its first
  intent of a New York calendar day, journaled as ``TradingDayOpened``; fixed for the day.
* **Pipeline** (§12 "pro Pipeline"): an account and a symbol; the cycle counter restarts each
  trading day. Every accepted intent is a cycle (``TradeSized.cycle_number``: 1, 2, ...);
  an add-to (§12.1) is a cycle of its own too.
* **Re-entry** (§12): while a trade of the pipeline is open (entering or protected) a new intent
  is refused (``PIPELINE_BUSY``) unless it adds to an open, protected trade of the pipeline
  (``add_to``) and no entry of the pipeline is working. An abandoned entry (phase SEEKING)
  leaves the pipeline free.
* **Day risk budget** (§12 "verbrauchtes Tagesbudget", §12.1 "Realisierter P&L aus Zyklus 1"):
  ``budget = capital * risk.day-risk-budget-pct``; ``left = budget - sum(R of today's open
  cycles) + sum(realized P&L of today's cycles)`` (an open cycle's R is what it sized for:
  ``qty * |ideal - stop|``; realized P&L: its exit fills against its average entry price) (a loss uses the budget up, a gain gives it
  back and more). A cycle risks ``min(R, left)``; ``left <= 0`` refuses (``DAY_BUDGET_EXHAUSTED``).
  The first cycle is sized like every other (its budget is the whole budget).
* **Largest position** (§16, §13): the pipeline's position value (at the worse of the zone's
  prices) may not exceed ``capital * risk.max-position-pct`` (in pre-market the smaller
  ``premarket.max-position-pct``), times 0.75 while §14.2's size reduction holds and times
  ``repricing.fill-rate-size-factor`` while §8.2's low fill rate holds. An add-to counts the
  pipeline's open position. A larger size is **capped** (``TradeSized.caps`` says which cap);
  refused only when the cap leaves less than one lot (``POSITION_LIMIT``).
* **Pre-market** (§13): the checks of ``premarket.py``; the trade is marked ``premarket`` and its
  entry gets ``premarket.max-repricing-cycles`` (0: one limit attempt) instead of the standard.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO
from atlas_oms.core.policy import guards, premarket
from atlas_oms.core.policy.desk import DeskState, desk_of
from atlas_oms.core.policy.trade_orders import params
from atlas_oms.core.policy.trade_state import ENTERING, PROTECTED, TradeState
from atlas_oms.core.risk.breaker import account_equity
from atlas_oms.core.risk.gates import market_status
from atlas_oms.core.sessions import new_york_offset
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.risk import MarketStatus

SECOND_NS = 1_000_000_000
#: §8.2 low fill rate (core/policy/repricing.py ``Mode.LOW_FILL_RATE``).
LOW_FILL_RATE = "LOW_FILL_RATE"


@dataclass(frozen=True, slots=True)
class Sizing:
    """What :func:`admit` decided."""

    qty: Decimal
    requested_qty: Decimal
    cycle_number: int
    risk_granted: Decimal
    budget_left: Decimal
    max_qty: Decimal
    caps: tuple[str, ...]
    premarket: bool


def trading_day(ts: int) -> int:
    """The New York calendar day (days since 1970-01-01) of ``ts``."""
    s = ts // SECOND_NS
    return (s + new_york_offset(s)) // 86400


def refuse(ctx: Context, c: cmd.SubmitTradeIntent, reason: str, message: str) -> None:
    ctx.emit(
        ev.TradeIntentRefused(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            trade_id=c.intent_id,
            account_id=c.account_id,
            reason=reason,
            message=message,
        )
    )


def pipeline(
    state: object, account_id: str, symbol: str, desk: DeskState | None
) -> list[TradeState]:
    """Today's trades of the pipeline (account, symbol), in order."""
    if desk is None:
        return []
    trades = state.trades  # type: ignore[attr-defined]
    return [trades[i] for i in desk.day_trades if trades[i].symbol == symbol]


def _pipeline_refusal(
    ctx: Context, c: cmd.SubmitTradeIntent, open_: list[TradeState]
) -> tuple[str, str] | None:
    state = ctx.state
    if c.add_to is None:
        if open_:
            t = open_[0]
            return (
                "PIPELINE_BUSY",
                f"trade {t.trade_id} (cycle {t.cycle_number}) of {c.symbol} is still open: a new "
                "cycle starts after a complete exit, or adds to the position (add_to)",
            )
        return None
    parent = state.trades.get(c.add_to)
    if parent is None or parent not in open_ or parent.side is not c.side:
        return (
            "INVALID_ADD_TO",
            f"{c.add_to} is no open {c.side.value} trade of {c.account_id} in {c.symbol} today",
        )
    if any(t.phase != PROTECTED for t in open_) or parent.position(state) <= 0:
        return (
            "PIPELINE_BUSY",
            f"an add-to {c.add_to} needs a protected position and no entry working",
        )
    return None


def realized_pnl(state: object, t: TradeState) -> Decimal:
    """A trade's realized P&L: its exits' fills against its average entry price."""
    orders = state.orders  # type: ignore[attr-defined]
    entry_qty = ZERO
    entry_notional = ZERO
    for order_id in t.entry_orders:
        o = orders.get(order_id)
        if o is not None:
            entry_qty += o.cum_qty
            entry_notional += o.cum_notional
    if not entry_qty:
        return ZERO
    avg = entry_notional / entry_qty
    pnl = ZERO
    for order_id in t.exit_orders:
        o = orders.get(order_id)
        if o is not None and o.cum_qty:
            pnl += o.cum_notional - o.cum_qty * avg
    return pnl if t.side is Side.BUY else -pnl


def admit(ctx: Context, c: cmd.SubmitTradeIntent, inst: Instrument) -> Sizing | None:
    """Refuse the intent (journaled) or size it (see the module's docstring)."""
    state = ctx.state
    p = params(state)
    day = trading_day(c.ts)
    desk = desk_of(state, c.account_id)
    today = desk is not None and desk.day == day
    trades = pipeline(state, c.account_id, c.symbol, desk if today else None)
    # Every open trade of the pipeline, an earlier day's (held overnight) included.
    open_ = [
        t
        for t in state.trades.values()
        if t.account_id == c.account_id and t.symbol == c.symbol and t.is_open
    ]
    refusal = _pipeline_refusal(ctx, c, open_)
    if refusal is not None:
        refuse(ctx, c, *refusal)
        return None
    no_retry = guards.retry_refusal(state, desk, trades[-1] if trades else None)
    if no_retry is not None:
        refuse(ctx, c, "REPRICING_NO_RETRY", no_retry)
        return None
    pre = market_status(state, inst, c.ts) is MarketStatus.PRE_MARKET
    if pre:
        refusal = premarket.check(state, inst, c.account_id, c.ts)
        if refusal is not None:
            refuse(ctx, c, *refusal)
            return None
    if not today:
        ctx.emit(
            ev.TradingDayOpened(
                seq=state.seq + 1,
                ts_event=c.ts,
                account_id=c.account_id,
                day=day,
                capital=account_equity(state, c.account_id, inst.quote),
                currency=inst.quote,
            )
        )
        desk = desk_of(state, c.account_id)
    assert desk is not None
    capital = desk.capital
    # --- the day's risk budget
    used = ZERO
    realized = ZERO
    for i in desk.day_trades:
        t = state.trades[i]
        realized += realized_pnl(state, t)
        if t.phase in (ENTERING, PROTECTED):
            used += t.qty * abs(t.entry_ideal - t.stop0)
    left = capital * p.risk.day_risk_budget_pct - used + realized
    if left <= 0:
        refuse(
            ctx,
            c,
            "DAY_BUDGET_EXHAUSTED",
            f"the day's risk budget is used up ({left} left of "
            f"{capital * p.risk.day_risk_budget_pct})",
        )
        return None
    caps: list[str] = []
    risk = c.risk_amount
    if risk > left:
        risk = left
        caps.append("DAY_BUDGET")
    lot = inst.lot_size
    requested = _lots(c.risk_amount / abs(c.entry_ideal - c.stop), lot)
    qty = _lots(risk / abs(c.entry_ideal - c.stop), lot)
    # --- the largest position
    pct = p.risk.max_position_pct
    cap_code = "MAX_POSITION_PCT"
    if pre and p.premarket.max_position_pct < pct:
        pct, cap_code = p.premarket.max_position_pct, "PREMARKET_MAX_POSITION_PCT"
    factor = Decimal(1)
    if desk.slippage_reduced:
        factor *= 1 - p.slippage.reduce_size_pct
        cap_code = "SLIPPAGE_SIZE_REDUCED"
    if LOW_FILL_RATE in desk.modes:
        factor *= p.repricing.fill_rate_size_factor
        cap_code = "FILL_RATE_SIZE_REDUCED"
    price = max(c.entry_ideal, c.entry_max)
    held = sum((t.position(state) for t in open_), ZERO)
    max_qty = max(_lots(capital * pct * factor / price, lot) - held, ZERO)
    if qty > max_qty:
        qty = max_qty
        caps.append(cap_code)
    if qty <= 0 or qty < inst.min_qty:
        if caps and caps[-1] != "DAY_BUDGET":
            refuse(
                ctx,
                c,
                "POSITION_LIMIT",
                f"the largest position ({pct * factor} of the day capital {capital}) leaves "
                "less than one lot",
            )
        else:
            refuse(ctx, c, "SIZE_TOO_SMALL", f"R {risk} buys less than one lot")
        return None
    cycle = desk.cycles.get(c.symbol, 0) + 1
    return Sizing(qty, requested, cycle, risk, left, max_qty, tuple(caps), pre)


def _lots(qty: Decimal, lot: Decimal) -> Decimal:
    return (qty / lot).to_integral_value(rounding=ROUND_FLOOR) * lot


def record(ctx: Context, c: cmd.SubmitTradeIntent, s: Sizing) -> None:
    """Journal how the accepted intent was sized (after ``TradeIntentAccepted``)."""
    ctx.emit(
        ev.TradeSized(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            trade_id=c.intent_id,
            account_id=c.account_id,
            cycle_number=s.cycle_number,
            requested_qty=s.requested_qty,
            qty=s.qty,
            risk_granted=s.risk_granted,
            budget_left=s.budget_left,
            max_qty=s.max_qty,
            caps=s.caps,
            add_to=c.add_to,
            premarket=s.premarket,
        )
    )
