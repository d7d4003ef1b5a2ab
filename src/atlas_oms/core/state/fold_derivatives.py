"""The fold of the derivatives venue: margin modes and isolated margin, tier tables, funding,
the insurance fund, liquidation cases, auto-deleveraging and the settlement of dated futures."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from atlas_oms.core.derivatives.book import NET, Case
from atlas_oms.core.state import legacy
from atlas_oms.core.state.booking import book_trade, forget_instrument, refs_of
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side
from atlas_oms.model.margin import MarginMode

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

ZERO = Decimal(0)
_BUY = Side.BUY
_SELL = Side.SELL


def _replace_instrument(state: State, symbol: str, **changes: Any) -> None:
    """A new version of an instrument; cached lookups of the old one are dropped."""
    state.instruments[symbol] = msgspec.structs.replace(state.instruments[symbol], **changes)
    forget_instrument(state, symbol)


def apply_margin_mode_set(state: State, e: ev.MarginModeSet) -> None:
    if e.mode is MarginMode.CROSS:
        state.liq.margin_mode.pop((e.account_id, e.symbol), None)
    else:
        state.liq.margin_mode[(e.account_id, e.symbol)] = e.mode
    state.liq_index.dirty.add(e.account_id)


def apply_isolated_margin_adjusted(state: State, e: ev.IsolatedMarginAdjusted) -> None:
    refs = refs_of(state, e.account_id, e.symbol, e.position_side)
    refs.position.margin += e.amount
    refs.balance.locked += e.amount
    state.liq_index.dirty.add(e.account_id)


def apply_margin_tiers_set(state: State, e: ev.MarginTiersSet) -> None:
    _replace_instrument(state, e.symbol, margin_tiers=e.tiers)
    for pos in state.symbol_positions.get(e.symbol, ()):
        state.liq_index.dirty.add(pos.account_id)
    state.liq_index.epoch += 1


def apply_funding_rate_set(state: State, e: ev.FundingRateSet) -> None:
    state.liq.funding_rate[e.symbol] = e.rate
    since = e.funding_from_ts
    if since is None:
        since = legacy.funding_from(state, e)
    if since is not None:
        state.liq.last_funding[e.symbol] = since


def apply_funding_settled(state: State, e: ev.FundingSettled) -> None:
    liq = state.liq
    liq.last_funding[e.symbol] = e.funding_ts
    state.liq_index.epoch += 1
    refs = refs_of(state, e.account_id, e.symbol, e.position_side)
    refs.balance.total += e.amount
    if liq.margin_mode.get((e.account_id, e.symbol)) is MarginMode.ISOLATED:
        refs.position.margin += e.amount  # an isolated position's funding moves its own margin
        refs.balance.locked += e.amount
    key = (e.account_id, e.symbol, e.position_side)
    liq.funding_total[key] = liq.funding_total.get(key, ZERO) + e.amount
    state.liq_index.dirty.add(e.account_id)


def apply_insurance_fund_deposited(state: State, e: ev.InsuranceFundDeposited) -> None:
    state.liq.fund[e.asset] = state.liq.fund.get(e.asset, ZERO) + e.amount


def apply_liquidation_started(state: State, e: ev.LiquidationStarted) -> None:
    liq = state.liq
    liq.cases[e.case_id] = Case(e.case_id, e.account_id, e.mode, e.asset, list(e.positions))
    liq.next_case_id = e.case_id + 1
    liq.liquidations += 1
    key = (e.account_id, "*" if e.mode is MarginMode.CROSS else e.symbol)
    liq.frozen[key] = e.case_id
    state.liq_index.dirty.add(e.account_id)


def apply_liquidation_step(state: State, e: ev.LiquidationStep) -> None:
    case = state.liq.cases[e.case_id]
    if e.stage == NET:
        return  # a netting of the account's own legs: no order, no stage of a position
    target = (e.symbol, e.position_side)
    if case.current != target:
        case.todo.remove(target)
        case.current = target
    case.stage = e.stage
    case.bankruptcy = e.bankruptcy_price
    case.order_id = e.order_id
    case.settled_qty = ZERO
    case.settled_notional = ZERO
    if e.order_id is not None:
        state.liq.orders[e.order_id] = e.case_id


def apply_liquidation_fund_transfer(state: State, e: ev.LiquidationFundTransfer) -> None:
    liq = state.liq
    case = liq.cases[e.case_id]
    order = state.orders[e.order_id]
    case.settled_qty = order.cum_qty
    case.settled_notional = order.cum_notional
    state.balance(e.account_id, e.asset).total -= e.amount
    liq.fund[e.asset] = liq.fund.get(e.asset, ZERO) + e.amount
    state.liq_index.dirty.add(e.account_id)


def apply_position_auto_deleveraged(state: State, e: ev.PositionAutoDeleveraged) -> None:
    if not e.liquidated:
        state.liq.adl_count += 1
    refs = refs_of(state, e.account_id, e.symbol, e.position_side)
    side = _SELL if refs.position.qty > ZERO else _BUY  # the trade closes the position
    realized = book_trade(
        state, refs, e.account_id, 0, side, e.qty, e.price, ZERO, refs.balance.asset, e.ts_event
    )
    if state.risk.watch_fills:
        state.risk.on_fill(e.account_id, None, realized or None, e.ts_event, e.seq)


def apply_liquidation_finished(state: State, e: ev.LiquidationFinished) -> None:
    liq = state.liq
    case = liq.cases.pop(e.case_id)
    for key in [k for k, v in liq.frozen.items() if v == e.case_id]:
        del liq.frozen[key]
    for order_id in [k for k, v in liq.orders.items() if v == e.case_id]:
        del liq.orders[order_id]
    case.shortfall = e.shortfall
    state.liq_index.dirty.add(case.account_id)


def apply_future_settled(state: State, e: ev.FutureSettled) -> None:
    """Every position in the future closes at the settlement price; it trades no more."""
    _replace_instrument(state, e.symbol, tradable=False)
    for pos in sorted(
        state.symbol_positions.get(e.symbol, ()), key=lambda p: (p.account_id, p.position_side)
    ):
        if pos.qty:
            refs = refs_of(state, pos.account_id, e.symbol, pos.position_side)
            side = _SELL if pos.qty > ZERO else _BUY
            book_trade(
                state,
                refs,
                pos.account_id,
                0,
                side,
                abs(pos.qty),
                e.price,
                ZERO,
                refs.balance.asset,
                e.ts_event,
            )
    state.last[e.symbol] = e.price
    state.mark[e.symbol] = e.price
    state.liq_index.epoch += 1
