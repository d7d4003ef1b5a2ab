"""Positions held at external venues, with the venue's own margin figures next to Atlas's
(issue 15 §2). The venue's figures come from its position report, journaled on every
reconciliation in ``VenueReconciled.position_figures`` (so a replay shows the same); Atlas's
figures are computed here, on the read side, by that venue's published convention
(``core/derivatives/conventions.py``). Nothing here decides anything."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.core.config import EngineConfig
from atlas_oms.core.derivatives.conventions import estimate_liquidation_price, venue_family
from atlas_oms.core.derivatives.figures import margin_info, tiers_of
from atlas_oms.core.derivatives.order_estimate import OrderMarginEstimate
from atlas_oms.core.state.state import State
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.venue import VenuePosition

__all__ = ["OrderMarginEstimate", "VenuePositionView", "venue_positions"]

ZERO = Decimal(0)


class VenuePositionView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One position a venue reported, its figures and Atlas's.

    ``venue_*``: as the venue's position report gave them (None where it gives none).
    ``convention``: whose formula Atlas's estimates follow (``binance``, ``bybit``, ``okx``).
    ``estimate_liquidation_price``: that convention applied to the venue's own inputs (the
    reported quantity, entry and isolated margin — the venue's ``initial_margin``, else
    notional at entry / leverage); None for a cross position, whose price depends on the whole
    account. ``atlas_*``: Atlas's figures of its own booked position (``/v1/positions``), the
    liquidation price by the same convention."""

    venue: str
    account_id: str
    symbol: str
    position_side: PositionSide
    qty: Decimal
    entry_price: Decimal
    reported_ts: int
    convention: str
    margin_mode: str | None = None
    leverage: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    venue_liquidation_price: Decimal | None = None
    venue_mark_price: Decimal | None = None
    venue_maint_margin: Decimal | None = None
    venue_initial_margin: Decimal | None = None
    venue_margin_ratio: Decimal | None = None
    estimate_liquidation_price: Decimal | None = None
    atlas_qty: Decimal | None = None
    atlas_liquidation_price: Decimal | None = None
    atlas_maint_margin: Decimal | None = None
    atlas_margin_ratio: Decimal | None = None


def venue_positions(
    state: State,
    config: EngineConfig,
    account_id: str | None = None,
    venue: str | None = None,
) -> list[VenuePositionView]:
    """Every position in the latest reconciliation of each venue account (optionally one
    account's or one venue's), sorted by venue, account, symbol and side."""
    out = []
    for (v, acct), report in sorted(state.venues.reports.items()):
        if (venue is not None and v != venue) or (account_id is not None and acct != account_id):
            continue
        for p in report.position_figures:
            out.append(_view(state, config, v, acct, report.ts_event, p))
    return out


def _view(
    state: State, config: EngineConfig, venue: str, account_id: str, ts: int, p: VenuePosition
) -> VenuePositionView:
    side = p.position_side or PositionSide.BOTH
    qty = p.qty
    if side is PositionSide.SHORT:
        qty = -abs(qty)
    inst = state.instruments.get(p.symbol)
    estimate = None
    atlas_qty = atlas_lp = atlas_mm = atlas_ratio = None
    if inst is not None and inst.is_derivative:
        if p.margin_mode == "isolated" and qty and p.entry_price:
            margin = p.initial_margin
            if margin is None and p.leverage:
                margin = abs(qty) * p.entry_price * inst.multiplier / p.leverage
            if margin is not None:
                estimate = estimate_liquidation_price(
                    venue,
                    qty,
                    p.entry_price,
                    margin,
                    tiers_of(config, inst),
                    taker_fee_rate=inst.taker_fee,
                    multiplier=inst.multiplier,
                )
        pos = state.positions.get((account_id, p.symbol, side))
        if pos is not None:
            atlas_qty = pos.qty
            info = margin_info(state, config, pos)
            if info is not None and pos.qty:
                atlas_lp = info.liquidation_price
                atlas_mm = info.maint_margin
                atlas_ratio = info.margin_ratio
    return VenuePositionView(
        venue=venue,
        account_id=account_id,
        symbol=p.symbol,
        position_side=side,
        qty=p.qty,
        entry_price=p.entry_price,
        reported_ts=ts,
        convention=_convention(venue),
        margin_mode=p.margin_mode,
        leverage=p.leverage,
        unrealized_pnl=p.unrealized_pnl,
        venue_liquidation_price=p.liquidation_price,
        venue_mark_price=p.mark_price,
        venue_maint_margin=p.maintenance_margin,
        venue_initial_margin=p.initial_margin,
        venue_margin_ratio=p.margin_ratio,
        estimate_liquidation_price=estimate,
        atlas_qty=atlas_qty,
        atlas_liquidation_price=atlas_lp,
        atlas_maint_margin=atlas_mm,
        atlas_margin_ratio=atlas_ratio,
    )


def _convention(venue: str) -> str:
    family = venue_family(venue)
    return family if family in ("binance", "bybit", "okx") else "binance"
