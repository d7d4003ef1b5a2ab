"""A derivative position's margin figures at the mark price: tiers, wallet and margin balance,
maintenance margin, margin ratio, liquidation and bankruptcy prices (isolated and cross, hedge
mode included). Pure readings of the state; the formulas are in :mod:`.formulas` and documented
with their sources in ``docs/MARGIN.md``."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.core.config import EngineConfig
from atlas_oms.core.decimals import ONE, ZERO
from atlas_oms.core.derivatives import formulas as m
from atlas_oms.core.derivatives.conventions import estimate_liquidation_price, venue_family
from atlas_oms.core.state.positions import Position
from atlas_oms.core.state.state import State
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode, MarginTier, single_tier

_ISOLATED = MarginMode.ISOLATED
_default_tiers: dict[tuple[Decimal, Decimal], tuple[MarginTier, ...]] = {}


class MarginInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A derivative position's margin figures at the mark price (see docs/MARGIN.md)."""

    margin_mode: MarginMode
    leverage: Decimal
    notional: Decimal
    initial_margin: Decimal
    maint_margin: Decimal
    maint_margin_rate: Decimal
    tier: int
    #: Isolated: the position's margin plus its unrealized P&L. Cross: the account's margin balance.
    margin_balance: Decimal
    #: Maintenance margin over margin balance (cross: of the account); None when bankrupt.
    margin_ratio: Decimal | None
    liquidation_price: Decimal | None
    bankruptcy_price: Decimal | None
    funding: Decimal


def tiers_of(config: EngineConfig, inst: Instrument) -> tuple[MarginTier, ...]:
    """The instrument's tier table, or the configured single default tier."""
    if inst.margin_tiers is not None:
        return inst.margin_tiers
    key = (config.default_maint_margin_rate, config.max_leverage)
    tiers = _default_tiers.get(key)
    if tiers is None:
        tiers = _default_tiers[key] = single_tier(*key)
    return tiers


def price_of(state: State, symbol: str) -> Decimal | None:
    """The price positions are valued at: mark, else last trade."""
    return state.mark.get(symbol) or state.last.get(symbol)


def valuation(state: State, pos: Position) -> Decimal:
    """The price a position is valued at: mark, else last; with neither, its entry price."""
    px = state.mark.get(pos.symbol) or state.last.get(pos.symbol)
    if px is None:
        return pos.cost / abs(pos.qty)  # no price yet: at entry (no unrealized P&L)
    return px


def liquidates_here(config: EngineConfig, inst: Instrument) -> bool:
    """Whether Atlas liquidates this instrument itself (it is its venue)."""
    return inst.is_derivative and inst.venue in config.liquidation_venues


def cross_positions(state: State, account_id: str, asset: str) -> list[tuple[Instrument, Position]]:
    """The account's open cross positions in derivatives settled in ``asset``."""
    out = []
    modes = state.liq.margin_mode
    for pos in state.account_positions.get(account_id, ()):
        if not pos.qty:
            continue
        inst = state.instruments[pos.symbol]
        if (
            inst.is_derivative
            and inst.settle_asset == asset
            and modes.get((account_id, pos.symbol)) is not _ISOLATED
        ):
            out.append((inst, pos))
    return out


def cross_wallet(state: State, account_id: str, asset: str) -> Decimal:
    """The cross wallet balance: the settlement asset's total less isolated positions' margin."""
    bal = state.balances.get((account_id, asset))
    total = bal.total if bal is not None else ZERO
    modes = state.liq.margin_mode
    for pos in state.account_positions.get(account_id, ()):
        if (
            pos.margin
            and modes.get((account_id, pos.symbol)) is _ISOLATED
            and state.instruments[pos.symbol].settle_asset == asset
        ):
            total -= pos.margin
    return total


def cross_status(
    state: State, config: EngineConfig, account_id: str, asset: str
) -> tuple[Decimal, Decimal]:
    """(margin balance, maintenance margin) of an account's cross positions in ``asset``."""
    balance = cross_wallet(state, account_id, asset)
    maint = ZERO
    for inst, pos in cross_positions(state, account_id, asset):
        px = valuation(state, pos)
        balance += pos.unrealized_pnl(px)
        maint += m.maintenance_margin(tiers_of(config, inst), pos.qty * px * inst.multiplier)
    return balance, maint


def isolated_status(
    state: State, config: EngineConfig, inst: Instrument, pos: Position
) -> tuple[Decimal, Decimal]:
    """(margin balance, maintenance margin) of an isolated position."""
    px = valuation(state, pos)
    return (
        pos.margin + pos.unrealized_pnl(px),
        m.maintenance_margin(tiers_of(config, inst), pos.qty * px * inst.multiplier),
    )


def cross_prices(
    state: State,
    config: EngineConfig,
    account_id: str,
    inst: Instrument,
    legs_of: object = None,
) -> tuple[Decimal | None, Decimal | None]:
    """Liquidation and bankruptcy price of ``inst`` for a cross account: all its legs in this
    symbol move together (hedge mode), everything else held at its mark. With ``legs_of`` (a
    position side) only that leg is priced (bankruptcy of one position), the other leg held at
    mark."""
    asset = inst.settle_asset
    legs: list[m.Leg] = []
    other_mm = ZERO
    other_upnl = ZERO
    for other, pos in cross_positions(state, account_id, asset):
        px = valuation(state, pos)
        if other.symbol == inst.symbol and legs_of in (None, pos.position_side):
            legs.append((pos.qty, pos.cost / abs(pos.qty)))
        else:
            other_upnl += pos.unrealized_pnl(px)
            if other.symbol != inst.symbol:
                other_mm += m.maintenance_margin(
                    tiers_of(config, other), pos.qty * px * other.multiplier
                )
    if not legs:
        return None, None
    wallet = cross_wallet(state, account_id, asset)
    mult = inst.multiplier
    lp = m.liquidation_price(
        legs,
        wallet=wallet,
        tiers=tiers_of(config, inst),
        multiplier=mult,
        other_maint=other_mm,
        other_upnl=other_upnl,
    )
    bp = m.bankruptcy_price(legs, wallet=wallet, multiplier=mult, other_upnl=other_upnl)
    return lp, bp


def margin_info(state: State, config: EngineConfig, pos: Position) -> MarginInfo | None:
    """Margin figures of a derivative position (None for spot and equities)."""
    inst = state.instruments[pos.symbol]
    if not inst.is_derivative:
        return None
    account_id = pos.account_id
    mode = state.liq.mode(account_id, pos.symbol)
    lev = state.leverage.get((account_id, pos.symbol), ONE)
    tiers = tiers_of(config, inst)
    funding = state.liq.funding_total.get((account_id, pos.symbol, pos.position_side), ZERO)
    if not pos.qty:
        tier = tiers[0]
        return MarginInfo(
            margin_mode=mode,
            leverage=lev,
            notional=ZERO,
            initial_margin=ZERO,
            maint_margin=ZERO,
            maint_margin_rate=tier.maint_margin_rate,
            tier=tier.bracket,
            margin_balance=pos.margin,
            margin_ratio=None,
            liquidation_price=None,
            bankruptcy_price=None,
            funding=funding,
        )
    px = valuation(state, pos)
    notional = abs(pos.qty) * px * inst.multiplier
    tier = m.tier_for(tiers, notional)
    maint = notional * tier.maint_margin_rate - tier.maint_amount
    if mode is _ISOLATED:
        balance = pos.margin + pos.unrealized_pnl(px)
        ratio_maint = maint
        entry = pos.cost / abs(pos.qty)
        if liquidates_here(config, inst):
            lp = m.isolated_liquidation_price(pos.qty, entry, pos.margin, tiers, inst.multiplier)
        else:  # a venue's position: Atlas's estimate follows that venue's published formula
            lp = estimate_liquidation_price(
                inst.venue,
                pos.qty,
                entry,
                pos.margin,
                tiers,
                taker_fee_rate=inst.taker_fee,
                multiplier=inst.multiplier,
            )
        bp = m.isolated_bankruptcy_price(pos.qty, entry, pos.margin, inst.multiplier)
    else:
        balance, ratio_maint = cross_status(state, config, account_id, inst.settle_asset)
        lp = _venue_cross_estimate(state, config, inst, pos)
        if lp is None:
            lp, _ = cross_prices(state, config, account_id, inst)
        _, bp = cross_prices(state, config, account_id, inst, pos.position_side)
    return MarginInfo(
        margin_mode=mode,
        leverage=lev,
        notional=notional,
        initial_margin=notional / lev,
        maint_margin=maint,
        maint_margin_rate=tier.maint_margin_rate,
        tier=tier.bracket,
        margin_balance=balance,
        margin_ratio=m.margin_ratio(ratio_maint, balance),
        liquidation_price=lp,
        bankruptcy_price=bp,
        funding=funding,
    )


def _venue_cross_estimate(
    state: State, config: EngineConfig, inst: Instrument, pos: Position
) -> Decimal | None:
    """A cross position at Bybit or OKX (not Atlas's own exchange): the venue's convention on
    what the cross account can lose in this symbol, ``wallet − other maintenance + other P&L``
    (the other symbols at their marks), as the margin of one net leg. None (use Binance's exact
    cross formula, :func:`cross_prices`) for Binance, Atlas's own venues and hedge-mode pairs."""
    if liquidates_here(config, inst) or venue_family(inst.venue) not in ("bybit", "okx"):
        return None
    account_id = pos.account_id
    margin = cross_wallet(state, account_id, inst.settle_asset)
    for other, held in cross_positions(state, account_id, inst.settle_asset):
        if held is pos:
            continue
        if other.symbol == inst.symbol:
            return None  # both legs of a hedge-mode pair: the exact formula
        px = valuation(state, held)
        margin += held.unrealized_pnl(px)
        margin -= m.maintenance_margin(tiers_of(config, other), held.qty * px * other.multiplier)
    return estimate_liquidation_price(
        inst.venue,
        pos.qty,
        pos.cost / abs(pos.qty),
        margin,
        tiers_of(config, inst),
        taker_fee_rate=inst.taker_fee,
        multiplier=inst.multiplier,
    )


def unrealized_loss(state: State, account_id: str, inst: Instrument) -> Decimal:
    """Cross unrealized losses in the settlement asset (they shrink free collateral; profits
    are not lent against)."""
    if state.liq.margin_mode.get((account_id, inst.symbol)) is _ISOLATED:
        return ZERO
    loss = ZERO
    for _, pos in cross_positions(state, account_id, inst.settle_asset):
        upnl = pos.unrealized_pnl(valuation(state, pos))
        if upnl < 0:
            loss += upnl
    return loss
