"""Auto-deleveraging (ADL): what neither the book nor the insurance fund closed is closed against
the opposite positions at the bankruptcy price, highest ranked first (Binance's ranking: P&L %
times effective leverage in profit, divided by it in loss). Also the liquidation's own steps."""

from __future__ import annotations

from decimal import Decimal

from sortedcontainers import SortedList

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ABSURD, ZERO, plain
from atlas_oms.core.derivatives.book import ADL, NET, Case
from atlas_oms.core.derivatives.figures import cross_positions, cross_status, valuation
from atlas_oms.core.derivatives.index import refresh_liq_index
from atlas_oms.core.state.positions import Position
from atlas_oms.model import events as ev
from atlas_oms.model.enums import PositionMode, PositionSide
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import AlertLevel

_ISOLATED = MarginMode.ISOLATED
_CROSS = MarginMode.CROSS


class AdlQueue:
    """Positions of one symbol ranked for ADL, highest first, per side (derived, engine-side)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.longs: SortedList = SortedList()
        self.shorts: SortedList = SortedList()
        self.items: dict[tuple[str, PositionSide], tuple[tuple[Decimal, str, str], bool]] = {}
        self.stale: set[str] = set()

    def drop(self, key: tuple[str, PositionSide]) -> None:
        old = self.items.pop(key, None)
        if old is not None:
            (self.longs if old[1] else self.shorts).remove(old[0])

    def put(
        self, key: tuple[str, PositionSide], item: tuple[Decimal, str, str], long: bool
    ) -> None:
        self.items[key] = (item, long)
        (self.longs if long else self.shorts).add(item)


def liq_step(
    ctx: Context,
    case_id: int,
    symbol: str,
    side: PositionSide,
    stage: str,
    bankruptcy: Decimal,
    ts: int,
    order_id: int | None = None,
    price: Decimal | None = None,
) -> None:
    """Journal the next step of liquidating one position."""
    ctx.emit(
        ev.LiquidationStep(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            case_id=case_id,
            symbol=symbol,
            position_side=side,
            stage=stage,
            bankruptcy_price=bankruptcy,
            order_id=order_id,
            price=price,
        )
    )


def _adl_event(
    ctx: Context,
    case_id: int,
    symbol: str,
    price: Decimal,
    qty: Decimal,
    account_id: str,
    side: PositionSide,
    rank: int,
    liquidated: bool,
    ts: int,
) -> None:
    ctx.emit(
        ev.PositionAutoDeleveraged(
            seq=ctx.state.seq + 1,
            ts_event=ts,
            case_id=case_id,
            symbol=symbol,
            price=price,
            qty=qty,
            account_id=account_id,
            position_side=side,
            rank=rank,
            liquidated=liquidated,
        )
    )


def net_hedges(ctx: Context, case_id: int, account_id: str, asset: str, ts: int) -> None:
    """Hedge mode, cross: the account's own long and short of one symbol close against each
    other at the mark first (step NET). Its equity does not change; what is left is one net
    leg per symbol for the book, the fund and ADL."""
    state = ctx.state
    if state.accounts[account_id].position_mode is not PositionMode.HEDGE:
        return
    for inst, pos in cross_positions(state, account_id, asset):
        if pos.position_side is not PositionSide.LONG:
            continue
        short = state.positions.get((account_id, inst.symbol, PositionSide.SHORT))
        if short is None or not short.qty or not pos.qty:
            continue
        qty = min(pos.qty, -short.qty)
        mark = valuation(state, pos)
        liq_step(ctx, case_id, inst.symbol, PositionSide.LONG, NET, mark, ts, price=mark)
        for side in (PositionSide.LONG, PositionSide.SHORT):
            _adl_event(ctx, case_id, inst.symbol, mark, qty, account_id, side, 0, True, ts)


def _adl_score(
    ctx: Context, pos: Position, inst: Instrument, balances: dict[str, Decimal]
) -> Decimal:
    """Binance's ADL ranking: P&L% x effective leverage when in profit, P&L% / effective
    leverage when not (highest first)."""
    state = ctx.state
    px = valuation(state, pos)
    upnl = pos.unrealized_pnl(px)
    entry_value = pos.cost * inst.multiplier
    pnl_pct = upnl / entry_value if entry_value else ZERO
    if state.liq.margin_mode.get((pos.account_id, pos.symbol)) is _ISOLATED:
        balance = pos.margin + upnl
    else:
        cached = balances.get(pos.account_id)
        if cached is None:
            cached, _ = cross_status(state, ctx.config, pos.account_id, inst.settle_asset)
            balances[pos.account_id] = cached
        balance = cached
    notional = abs(pos.qty) * px * inst.multiplier
    if balance <= 0:
        return pnl_pct * ABSURD if pnl_pct > 0 else pnl_pct / ABSURD
    eff_lev = notional / balance
    return pnl_pct * eff_lev if pnl_pct > 0 else pnl_pct / eff_lev


def _adl_queue(ctx: Context, inst: Instrument) -> AdlQueue:
    """The ADL ranking of ``inst``'s positions, brought up to date: rebuilt after a mark or a
    funding settlement (every score moves), otherwise only for accounts that changed."""
    state = ctx.state
    if state.liq_index.dirty:
        refresh_liq_index(ctx)
    epoch = state.liq_index.epoch
    queue = ctx.adl_queues.get(inst.symbol)
    if queue is None or queue.epoch != epoch:
        queue = ctx.adl_queues[inst.symbol] = AdlQueue(epoch)
        touched = {p.account_id for p in state.symbol_positions.get(inst.symbol, ())}
    else:
        touched = queue.stale
    queue.stale = set()
    balances: dict[str, Decimal] = {}
    for account_id in sorted(touched):
        for side in (PositionSide.BOTH, PositionSide.LONG, PositionSide.SHORT):
            queue.drop((account_id, side))
            pos = state.positions.get((account_id, inst.symbol, side))
            if pos is not None and pos.qty:
                score = _adl_score(ctx, pos, inst, balances)
                queue.put((account_id, side), (-score, account_id, side.value), pos.qty > 0)
    return queue


def deleverage(ctx: Context, case: Case, pos: Position, ts: int) -> None:
    """Close the rest of the liquidated position against opposite positions, in ADL order."""
    state = ctx.state
    inst = state.instruments[pos.symbol]
    bankruptcy = case.bankruptcy
    assert bankruptcy is not None
    liq_step(ctx, case.case_id, pos.symbol, pos.position_side, ADL, bankruptcy, ts)
    long = pos.qty > 0
    liq = state.liq
    queue = _adl_queue(ctx, inst)
    ranked = queue.shorts if long else queue.longs
    # ADL trades at the bankruptcy price; a price that is not positive trades at one tick.
    price = bankruptcy if bankruptcy > 0 else inst.tick_size
    remaining = abs(pos.qty)
    rank = 0
    positions = state.positions
    for _, account_id, side_name in ranked:
        if not remaining:
            break
        if account_id == case.account_id:
            # An isolated hedge leg may close against the same account's other leg.
            if case.mode is _CROSS or side_name == pos.position_side.value:
                continue
        elif liq.is_frozen(account_id, pos.symbol):
            continue
        other = positions[(account_id, pos.symbol, PositionSide(side_name))]
        rank += 1
        take = min(remaining, abs(other.qty))
        for account, side, liquidated in (
            (case.account_id, pos.position_side, True),
            (account_id, other.position_side, False),
        ):
            _adl_event(
                ctx, case.case_id, pos.symbol, price, take, account, side, rank, liquidated, ts
            )
        remaining -= take
    if remaining:
        ctx.emit(
            ev.RiskAlert(
                seq=state.seq + 1,
                ts_event=ts,
                level=AlertLevel.CRITICAL,
                code=Reason.ADL_SHORTFALL,
                message=(
                    f"liquidation {case.case_id}: {plain(remaining)} {pos.symbol} of account "
                    f"{case.account_id} found no opposite position to deleverage against"
                ),
                account_id=case.account_id,
                symbol=pos.symbol,
            )
        )
