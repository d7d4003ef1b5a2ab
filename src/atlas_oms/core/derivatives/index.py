"""The index of positions by liquidation price (derived, :class:`.book.LiqIndex`): brought up to
date lazily, for the accounts the fold marked dirty, before a mark price reads it."""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ABSURD
from atlas_oms.core.derivatives import formulas as m
from atlas_oms.core.derivatives.figures import (
    cross_prices,
    cross_status,
    liquidates_here,
    tiers_of,
)
from atlas_oms.model.margin import MarginMode

_ISOLATED = MarginMode.ISOLATED


def refresh_liq_index(ctx: Context) -> None:
    """Recompute the entries of every account the fold marked dirty (ADL rankings follow)."""
    idx = ctx.state.liq_index
    dirty = sorted(idx.dirty)
    idx.dirty.clear()
    for account_id in dirty:
        idx.remove_account(account_id)
        _index_account(ctx, account_id)
    for queue in ctx.adl_queues.values():
        queue.stale.update(dirty)


def _index_account(ctx: Context, account_id: str) -> None:
    state = ctx.state
    config = ctx.config
    idx = state.liq_index
    liq = state.liq
    if (account_id, "*") in liq.frozen:
        return
    cross_syms: dict[str, set[str]] = {}
    for pos in state.account_positions.get(account_id, ()):
        if not pos.qty:
            continue
        inst = state.instruments[pos.symbol]
        if not liquidates_here(config, inst):
            continue
        if liq.margin_mode.get((account_id, pos.symbol)) is _ISOLATED:
            if (account_id, pos.symbol) in liq.frozen:
                continue
            lp = m.isolated_liquidation_price(
                pos.qty,
                pos.cost / abs(pos.qty),
                pos.margin,
                tiers_of(config, inst),
                inst.multiplier,
            )
            if lp is not None:
                key = (account_id, pos.symbol, pos.position_side.value)
                idx.add(account_id, pos.symbol, lp, pos.qty > 0, key)
        else:
            cross_syms.setdefault(inst.settle_asset, set()).add(pos.symbol)
    for symbols in cross_syms.values():
        for symbol in sorted(symbols):
            inst = state.instruments[symbol]
            lp, _ = cross_prices(state, config, account_id, inst)
            if lp is None:
                # No price meets maintenance: either none can (a hedge under maintenance at
                # every price, found on the next mark) or the account is safe at any price.
                balance, maint = cross_status(state, config, account_id, inst.settle_asset)
                if balance <= maint and maint:
                    idx.add(account_id, symbol, ABSURD, True, (account_id, symbol, ""))
                continue
            legs = [
                (p.qty, p.cost / abs(p.qty))
                for p in state.account_positions[account_id]
                if p.symbol == symbol and p.qty
            ]
            below = m.liquidates_below(legs, tiers_of(config, inst), lp, inst.multiplier)
            idx.add(account_id, symbol, lp, below, (account_id, symbol, ""))
        if len(symbols) > 1:
            idx.add_multi(account_id, symbols)
