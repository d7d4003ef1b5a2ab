"""The derivatives venue: margin figures, the margin port of pre-trade risk, margin commands,
funding, and the liquidation loop (freeze, cancel, IOC at the bankruptcy price into the book,
insurance fund, auto-deleveraging).

Every decision here is an event; the fold (``core/state.py``) applies it. The formulas are in
``core/margin.py`` and documented with their sources in ``docs/MARGIN.md``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import msgspec
from sortedcontainers import SortedList

from atlas_oms.core import margin as m
from atlas_oms.core.liq_state import ADL, BOOK, CLOSED, FUND, NET, Case, Key
from atlas_oms.core.orders import Order
from atlas_oms.core.positions import Position
from atlas_oms.core.state import EngineState, round_money
from atlas_oms.core.validation import ABSURD, Refusal, plain, round_to_tick
from atlas_oms.model import commands as cmd_
from atlas_oms.model import events as ev
from atlas_oms.model.enums import (
    InstrumentKind,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode, MarginTier, single_tier, validate_tiers
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import SubmitToVenue
from atlas_oms.model.risk import AlertLevel

ZERO = Decimal(0)
ONE = Decimal(1)
MINUTE_NS = 60_000_000_000
#: Strategy tag of the venue's liquidation orders.
LIQUIDATION_TAG = "liquidation"
_ISOLATED = MarginMode.ISOLATED
_CROSS = MarginMode.CROSS


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


class LiquidationEngine(EngineState):
    """Margin, funding and liquidation decisions (mixed into :class:`~atlas_oms.core.engine.Engine`)."""

    config: Any
    _adl_queues: dict[str, AdlQueue]
    _collar_up: Decimal
    _collar_down: Decimal
    outbox: list[Any]
    _emit: Any
    _reject_command: Any
    _cancel_for: Any
    _operator_reject: Any

    # ------------------------------------------------------------------ figures
    def tiers_of(self, inst: Instrument) -> tuple[MarginTier, ...]:
        if inst.margin_tiers is not None:
            return inst.margin_tiers
        cached = self._default_tiers
        if cached is None:
            cached = self._default_tiers = single_tier(
                self.config.default_maint_margin_rate, self.config.max_leverage
            )
        return cached

    _default_tiers: tuple[MarginTier, ...] | None = None

    def price_of(self, symbol: str) -> Decimal | None:
        """The price positions are valued at: mark, else last trade."""
        return self.mark.get(symbol) or self.last.get(symbol)

    def _valuation(self, pos: Position) -> Decimal:
        px = self.mark.get(pos.symbol) or self.last.get(pos.symbol)
        if px is None:
            return pos.cost / abs(pos.qty)  # no price yet: at entry (no unrealized P&L)
        return px

    def _cross_positions(self, account_id: str, asset: str) -> list[tuple[Instrument, Position]]:
        out = []
        modes = self.liq.margin_mode
        for pos in self.account_positions.get(account_id, ()):
            if not pos.qty:
                continue
            inst = self.instruments[pos.symbol]
            if (
                inst.is_derivative
                and inst.settle_asset == asset
                and modes.get((account_id, pos.symbol)) is not _ISOLATED
            ):
                out.append((inst, pos))
        return out

    def cross_wallet(self, account_id: str, asset: str) -> Decimal:
        """The cross wallet balance: the settlement asset's total less isolated positions' margin."""
        bal = self.balances.get((account_id, asset))
        total = bal.total if bal is not None else ZERO
        modes = self.liq.margin_mode
        for pos in self.account_positions.get(account_id, ()):
            if (
                pos.margin
                and modes.get((account_id, pos.symbol)) is _ISOLATED
                and self.instruments[pos.symbol].settle_asset == asset
            ):
                total -= pos.margin
        return total

    def cross_status(self, account_id: str, asset: str) -> tuple[Decimal, Decimal]:
        """(margin balance, maintenance margin) of an account's cross positions in ``asset``."""
        balance = self.cross_wallet(account_id, asset)
        maint = ZERO
        for inst, pos in self._cross_positions(account_id, asset):
            px = self._valuation(pos)
            balance += pos.unrealized_pnl(px)
            maint += m.maintenance_margin(self.tiers_of(inst), pos.qty * px * inst.multiplier)
        return balance, maint

    def isolated_status(self, inst: Instrument, pos: Position) -> tuple[Decimal, Decimal]:
        px = self._valuation(pos)
        return (
            pos.margin + pos.unrealized_pnl(px),
            m.maintenance_margin(self.tiers_of(inst), pos.qty * px * inst.multiplier),
        )

    def _cross_prices(
        self, account_id: str, inst: Instrument, legs_of: PositionSide | None = None
    ) -> tuple[Decimal | None, Decimal | None]:
        """Liquidation and bankruptcy price of ``inst`` for a cross account: all its legs in this
        symbol move together (hedge mode), everything else held at its mark. With ``legs_of``
        only that leg is priced (bankruptcy of one position), the other leg held at mark."""
        asset = inst.settle_asset
        legs: list[m.Leg] = []
        other_mm = ZERO
        other_upnl = ZERO
        for other, pos in self._cross_positions(account_id, asset):
            px = self._valuation(pos)
            if other.symbol == inst.symbol and legs_of in (None, pos.position_side):
                legs.append((pos.qty, pos.cost / abs(pos.qty)))
            else:
                other_upnl += pos.unrealized_pnl(px)
                if other.symbol != inst.symbol:
                    other_mm += m.maintenance_margin(
                        self.tiers_of(other), pos.qty * px * other.multiplier
                    )
        if not legs:
            return None, None
        wallet = self.cross_wallet(account_id, asset)
        mult = inst.multiplier
        lp = m.liquidation_price(
            legs,
            wallet=wallet,
            tiers=self.tiers_of(inst),
            multiplier=mult,
            other_maint=other_mm,
            other_upnl=other_upnl,
        )
        bp = m.bankruptcy_price(legs, wallet=wallet, multiplier=mult, other_upnl=other_upnl)
        return lp, bp

    def margin_info(self, pos: Position) -> MarginInfo | None:
        """Margin figures of a derivative position (None for spot and equities)."""
        inst = self.instruments[pos.symbol]
        if not inst.is_derivative:
            return None
        account_id = pos.account_id
        mode = self.liq.mode(account_id, pos.symbol)
        lev = self.leverage.get((account_id, pos.symbol), ONE)
        tiers = self.tiers_of(inst)
        funding = self.liq.funding_total.get((account_id, pos.symbol, pos.position_side), ZERO)
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
        px = self._valuation(pos)
        notional = abs(pos.qty) * px * inst.multiplier
        tier = m.tier_for(tiers, notional)
        maint = notional * tier.maint_margin_rate - tier.maint_amount
        if mode is _ISOLATED:
            balance = pos.margin + pos.unrealized_pnl(px)
            ratio_maint = maint
            entry = pos.cost / abs(pos.qty)
            lp = m.isolated_liquidation_price(pos.qty, entry, pos.margin, tiers, inst.multiplier)
            bp = m.isolated_bankruptcy_price(pos.qty, entry, pos.margin, inst.multiplier)
        else:
            balance, ratio_maint = self.cross_status(account_id, inst.settle_asset)
            lp, _ = self._cross_prices(account_id, inst)
            _, bp = self._cross_prices(account_id, inst, pos.position_side)
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

    def _liquidates_here(self, inst: Instrument) -> bool:
        return inst.is_derivative and inst.venue in self.config.liquidation_venues

    # ------------------------------------------------------------------ the index
    def _refresh_liq_index(self) -> None:
        idx = self.liq_index
        dirty = sorted(idx.dirty)
        idx.dirty.clear()
        for account_id in dirty:
            idx.remove_account(account_id)
            self._index_account(account_id)
        for queue in self._adl_queues.values():
            queue.stale.update(dirty)

    def _index_account(self, account_id: str) -> None:
        idx = self.liq_index
        liq = self.liq
        if (account_id, "*") in liq.frozen:
            return
        cross_syms: dict[str, set[str]] = {}
        for pos in self.account_positions.get(account_id, ()):
            if not pos.qty:
                continue
            inst = self.instruments[pos.symbol]
            if not self._liquidates_here(inst):
                continue
            if liq.margin_mode.get((account_id, pos.symbol)) is _ISOLATED:
                if (account_id, pos.symbol) in liq.frozen:
                    continue
                lp = m.isolated_liquidation_price(
                    pos.qty,
                    pos.cost / abs(pos.qty),
                    pos.margin,
                    self.tiers_of(inst),
                    inst.multiplier,
                )
                if lp is not None:
                    key = (account_id, pos.symbol, pos.position_side.value)
                    idx.add(account_id, pos.symbol, lp, pos.qty > 0, key)
            else:
                cross_syms.setdefault(inst.settle_asset, set()).add(pos.symbol)
        for symbols in cross_syms.values():
            for symbol in sorted(symbols):
                inst = self.instruments[symbol]
                lp, _ = self._cross_prices(account_id, inst)
                if lp is None:
                    # No price meets maintenance: either none can (a hedge under maintenance at
                    # every price, found on the next mark) or the account is safe at any price.
                    balance, maint = self.cross_status(account_id, inst.settle_asset)
                    if balance <= maint and maint:
                        idx.add(account_id, symbol, ABSURD, True, (account_id, symbol, ""))
                    continue
                legs = [
                    (p.qty, p.cost / abs(p.qty))
                    for p in self.account_positions[account_id]
                    if p.symbol == symbol and p.qty
                ]
                below = m.liquidates_below(legs, self.tiers_of(inst), lp, inst.multiplier)
                idx.add(account_id, symbol, lp, below, (account_id, symbol, ""))
            if len(symbols) > 1:
                idx.add_multi(account_id, symbols)

    # ------------------------------------------------------------------ the loop
    def _check_liquidations(self, symbol: str, ts: int) -> None:
        """On a mark price: liquidate every position (isolated) or account (cross) whose margin
        ratio has reached 100%."""
        idx = self.liq_index
        if idx.dirty:
            self._refresh_liq_index()
        mark = self.mark.get(symbol)
        if mark is None:
            return
        keys: list[Key] = idx.hits(symbol, mark)
        multi = idx.cross_multi.get(symbol)
        if not keys and not multi:
            return
        asset = self.instruments[symbol].settle_asset
        candidates: set[tuple[str, str, str]] = set()
        for account_id, sym, side in keys:
            candidates.add((account_id, sym, side) if side else (account_id, asset, ""))
        if multi:
            for account_id in multi:
                candidates.add((account_id, asset, ""))
        for account_id, name, side in sorted(candidates):
            if side:
                self._maybe_liquidate_isolated(account_id, name, PositionSide(side), ts)
            else:
                self._maybe_liquidate_cross(account_id, name, symbol, ts)

    def _maybe_liquidate_isolated(
        self, account_id: str, symbol: str, side: PositionSide, ts: int
    ) -> None:
        liq = self.liq
        if liq.is_frozen(account_id, symbol):
            return
        pos = self.positions.get((account_id, symbol, side))
        if pos is None or not pos.qty:
            return
        inst = self.instruments[symbol]
        balance, maint = self.isolated_status(inst, pos)
        if balance > maint:
            return
        self._start_case(
            account_id, _ISOLATED, inst.settle_asset, symbol, balance, maint, [(symbol, side)], ts
        )

    def _maybe_liquidate_cross(self, account_id: str, asset: str, symbol: str, ts: int) -> None:
        if (account_id, "*") in self.liq.frozen:
            return
        balance, maint = self.cross_status(account_id, asset)
        if balance > maint or not maint:
            return
        todo = sorted(
            (pos.symbol, pos.position_side) for _, pos in self._cross_positions(account_id, asset)
        )
        if not todo:
            return
        self._start_case(account_id, _CROSS, asset, symbol, balance, maint, todo, ts)

    def _start_case(
        self,
        account_id: str,
        mode: MarginMode,
        asset: str,
        symbol: str,
        balance: Decimal,
        maint: Decimal,
        todo: list[tuple[str, PositionSide]],
        ts: int,
    ) -> None:
        case_id = self.liq.next_case_id
        self._emit(
            ev.LiquidationStarted(
                seq=self.seq + 1,
                ts_event=ts,
                case_id=case_id,
                account_id=account_id,
                mode=mode,
                asset=asset,
                symbol=symbol,
                mark=self.mark[symbol],
                margin_balance=balance,
                maint_margin=maint,
                positions=todo,
            )
        )
        # Cancel its open orders: on that instrument (isolated) or on every derivative in the
        # settlement asset (cross). Their reserved margin comes free.
        live = self.deriv_live.get(account_id)
        if live:
            for order_id in list(live):
                order = self.orders[order_id]
                if order.status is OrderStatus.PENDING_CANCEL or order_id in self.liq.orders:
                    continue
                inst = self.instruments[order.symbol]
                if mode is _ISOLATED:
                    if order.symbol != symbol:
                        continue
                elif inst.settle_asset != asset:
                    continue
                self._cancel_for(order, ts, Reason.LIQUIDATION)
        if mode is _CROSS:
            self._liq_net_hedges(case_id, account_id, asset, ts)
        self._liq_advance(self.liq.cases[case_id], ts)

    def _liq_net_hedges(self, case_id: int, account_id: str, asset: str, ts: int) -> None:
        """Hedge mode, cross: the account's own long and short of one symbol close against each
        other at the mark first (step NET). Its equity does not change; what is left is one net
        leg per symbol for the book, the fund and ADL."""
        if self.accounts[account_id].position_mode is not PositionMode.HEDGE:
            return
        for inst, pos in self._cross_positions(account_id, asset):
            if pos.position_side is not PositionSide.LONG:
                continue
            short = self.positions.get((account_id, inst.symbol, PositionSide.SHORT))
            if short is None or not short.qty or not pos.qty:
                continue
            qty = min(pos.qty, -short.qty)
            mark = self._valuation(pos)
            self._liq_step(case_id, inst.symbol, PositionSide.LONG, NET, mark, ts, price=mark)
            for side in (PositionSide.LONG, PositionSide.SHORT):
                self._adl_event(case_id, inst.symbol, mark, qty, account_id, side, 0, True, ts)

    def _liq_progress(self, ts: int) -> None:
        """Move every liquidation in progress on, as far as it can go without waiting."""
        for case_id in sorted(self.liq.cases):
            case = self.liq.cases.get(case_id)
            if case is not None:
                self._liq_advance(case, ts)

    def _liq_advance(self, case: Case, ts: int) -> None:
        while True:
            if case.order_id is not None:
                order = self.orders[case.order_id]
                if order.cum_qty > case.settled_qty:
                    self._liq_settle_fills(case, order, ts)
                if order.is_live:
                    return  # waiting for the venue
            if case.current is not None and case.stage in (BOOK, FUND):
                symbol, side = case.current
                pos = self.positions[(case.account_id, symbol, side)]
                if pos.qty:
                    if case.stage == BOOK and self._liq_fund_order(case, pos, ts):
                        return
                    self._liq_adl(case, pos, ts)
                    continue
            if case.todo:
                symbol, side = case.todo[0]
                pos = self.positions[(case.account_id, symbol, side)]
                if not pos.qty:  # closed meanwhile (by a late fill): nothing to do for it
                    self._liq_step(case.case_id, symbol, side, CLOSED, ZERO, ts)
                    continue
                self._liq_book_order(case, pos, ts)
                return
            self._liq_finish(case, ts)
            return

    def _bankruptcy_now(self, case: Case, pos: Position) -> Decimal:
        """The price at which this position's closing leaves the account (cross) or the position
        (isolated) with nothing: may be <= 0 or past the mark when a gap left it under water."""
        inst = self.instruments[pos.symbol]
        mult = inst.multiplier
        if case.mode is _ISOLATED:
            wallet, other_upnl = pos.margin, ZERO
        else:
            wallet = self.cross_wallet(case.account_id, case.asset)
            other_upnl = ZERO
            for _, other in self._cross_positions(case.account_id, case.asset):
                if other is not pos:
                    other_upnl += other.unrealized_pnl(self._valuation(other))
        # wallet + other_upnl + qty * mult * (P - entry) = 0, kept to 12 decimals (rounded in the
        # account's favour) so that every amount booked from it is an exact decimal.
        price = pos.cost / abs(pos.qty) - (wallet + other_upnl) / (pos.qty * mult)
        return round_money(price, ROUND_CEILING if pos.qty > 0 else ROUND_FLOOR)

    def _liq_book_order(self, case: Case, pos: Position, ts: int) -> None:
        inst = self.instruments[pos.symbol]
        bankruptcy = self._bankruptcy_now(case, pos)
        tick = inst.tick_size
        if pos.qty > 0:  # sell: never below the bankruptcy price
            price = max(round_to_tick(bankruptcy, tick, up=True), tick)
        else:
            price = round_to_tick(bankruptcy, tick, up=False)
            if price <= 0:
                price = tick
        self._liq_order(case, pos, BOOK, bankruptcy, price, ts)

    def _liq_fund_order(self, case: Case, pos: Position, ts: int) -> bool:
        """Place the FUND stage if the insurance fund can pay for a worse price; False if not."""
        fund = self.liq.fund.get(case.asset, ZERO) - self._fund_committed(case.asset)
        bankruptcy = case.bankruptcy
        assert bankruptcy is not None
        if fund <= 0:
            return False
        inst = self.instruments[pos.symbol]
        tick = inst.tick_size
        room = fund / (abs(pos.qty) * inst.multiplier)
        # The fund pays for prices no further than the market-order collar beyond the mark.
        mark = self.mark.get(pos.symbol) or bankruptcy
        if pos.qty > 0:
            price = max(
                round_to_tick(bankruptcy - room, tick, up=True),
                round_to_tick(mark * self._collar_down, tick, up=True),
                tick,
            )
            if price >= max(round_to_tick(bankruptcy, tick, up=True), tick):
                return False
        else:
            price = round_to_tick(bankruptcy + room, tick, up=False)
            price = min(price, round_to_tick(mark * self._collar_up, tick, up=False))
            if price <= round_to_tick(bankruptcy, tick, up=False):
                return False
        self._liq_order(case, pos, FUND, bankruptcy, price, ts)
        return True

    def _fund_committed(self, asset: str) -> Decimal:
        """What live FUND-stage orders may still draw from the fund: their leaves at their limit."""
        total = ZERO
        orders = self.orders
        for other in self.liq.cases.values():
            if other.stage == FUND and other.order_id is not None and other.asset == asset:
                order = orders[other.order_id]
                if order.is_live and order.price is not None and other.bankruptcy is not None:
                    mult = self.instruments[order.symbol].multiplier
                    total += abs(other.bankruptcy - order.price) * order.leaves_qty * mult
        return total

    def _liq_order(
        self, case: Case, pos: Position, stage: str, bankruptcy: Decimal, price: Decimal, ts: int
    ) -> None:
        inst = self.instruments[pos.symbol]
        order_id = self.next_order_id
        side = Side.SELL if pos.qty > 0 else Side.BUY
        qty = abs(pos.qty)
        hedge = self.accounts[case.account_id].position_mode is PositionMode.HEDGE
        intent = cmd_.SubmitOrder(
            ts=ts,
            account_id=case.account_id,
            symbol=pos.symbol,
            side=side,
            order_type=OrderType.LIMIT,
            qty=qty,
            price=price,
            tif=TimeInForce.IOC,
            reduce_only=True,
            position_side=pos.position_side if hedge else None,
            tag=LIQUIDATION_TAG,
        )
        self._liq_step(
            case.case_id,
            pos.symbol,
            pos.position_side,
            stage,
            bankruptcy,
            ts,
            order_id=order_id,
            price=price,
        )
        self._emit(
            ev.OrderSubmitted(
                seq=self.seq + 1,
                ts_event=ts,
                order_id=order_id,
                intent=intent,
                reserved_asset=None,
                reserve_unit=ZERO,
                protection_price=None,
                trigger_price=None,
                expire_ts=None,
            )
        )
        self.outbox.append(
            SubmitToVenue(
                order_id=order_id,
                account_id=case.account_id,
                symbol=pos.symbol,
                venue=inst.venue,
                ts=ts,
                side=side,
                qty=qty,
                price=price,
                tif=TimeInForce.IOC,
                reduce_only=True,
                liquidation=True,
            )
        )

    def _liq_settle_fills(self, case: Case, order: Order, ts: int) -> None:
        """Fills better than the bankruptcy price pay the difference into the insurance fund;
        worse ones (the FUND stage) are paid out of it."""
        qty = order.cum_qty - case.settled_qty
        notional = order.cum_notional - case.settled_notional
        bankruptcy = case.bankruptcy
        assert bankruptcy is not None
        mult = self.instruments[order.symbol].multiplier
        if order.side is Side.SELL:  # closing a long
            amount = (notional - bankruptcy * qty) * mult
        else:
            amount = (bankruptcy * qty - notional) * mult
        self._emit(
            ev.LiquidationFundTransfer(
                seq=self.seq + 1,
                ts_event=ts,
                case_id=case.case_id,
                order_id=order.order_id,
                account_id=case.account_id,
                asset=case.asset,
                amount=amount,
                filled_qty=qty,
            )
        )

    def _adl_score(
        self, pos: Position, inst: Instrument, balances: dict[str, Decimal] | None = None
    ) -> Decimal:
        """Binance's ADL ranking: P&L% x effective leverage when in profit, P&L% / effective
        leverage when not (highest first)."""
        px = self._valuation(pos)
        upnl = pos.unrealized_pnl(px)
        entry_value = pos.cost * inst.multiplier
        pnl_pct = upnl / entry_value if entry_value else ZERO
        if self.liq.margin_mode.get((pos.account_id, pos.symbol)) is _ISOLATED:
            balance = pos.margin + upnl
        else:
            cached = balances.get(pos.account_id) if balances is not None else None
            if cached is None:
                cached, _ = self.cross_status(pos.account_id, inst.settle_asset)
                if balances is not None:
                    balances[pos.account_id] = cached
            balance = cached
        notional = abs(pos.qty) * px * inst.multiplier
        if balance <= 0:
            return pnl_pct * ABSURD if pnl_pct > 0 else pnl_pct / ABSURD
        eff_lev = notional / balance
        return pnl_pct * eff_lev if pnl_pct > 0 else pnl_pct / eff_lev

    def _adl_queue(self, inst: Instrument) -> AdlQueue:
        """The ADL ranking of ``inst``'s positions, brought up to date: rebuilt after a mark or a
        funding settlement (every score moves), otherwise only for accounts that changed."""
        if self.liq_index.dirty:
            self._refresh_liq_index()
        epoch = self.liq_index.epoch
        queue = self._adl_queues.get(inst.symbol)
        if queue is None or queue.epoch != epoch:
            queue = self._adl_queues[inst.symbol] = AdlQueue(epoch)
            touched = {p.account_id for p in self.symbol_positions.get(inst.symbol, ())}
        else:
            touched = queue.stale
        queue.stale = set()
        balances: dict[str, Decimal] = {}
        for account_id in sorted(touched):
            for side in (PositionSide.BOTH, PositionSide.LONG, PositionSide.SHORT):
                queue.drop((account_id, side))
                pos = self.positions.get((account_id, inst.symbol, side))
                if pos is not None and pos.qty:
                    score = self._adl_score(pos, inst, balances)
                    queue.put((account_id, side), (-score, account_id, side.value), pos.qty > 0)
        return queue

    def _liq_step(
        self,
        case_id: int,
        symbol: str,
        side: PositionSide,
        stage: str,
        bankruptcy: Decimal,
        ts: int,
        order_id: int | None = None,
        price: Decimal | None = None,
    ) -> None:
        self._emit(
            ev.LiquidationStep(
                seq=self.seq + 1,
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
        self,
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
        self._emit(
            ev.PositionAutoDeleveraged(
                seq=self.seq + 1,
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

    def _liq_adl(self, case: Case, pos: Position, ts: int) -> None:
        inst = self.instruments[pos.symbol]
        bankruptcy = case.bankruptcy
        assert bankruptcy is not None
        self._liq_step(case.case_id, pos.symbol, pos.position_side, ADL, bankruptcy, ts)
        long = pos.qty > 0
        liq = self.liq
        queue = self._adl_queue(inst)
        ranked = queue.shorts if long else queue.longs
        # ADL trades at the bankruptcy price; a price that is not positive trades at one tick.
        price = bankruptcy if bankruptcy > 0 else inst.tick_size
        remaining = abs(pos.qty)
        rank = 0
        positions = self.positions
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
                self._adl_event(
                    case.case_id, pos.symbol, price, take, account, side, rank, liquidated, ts
                )
            remaining -= take
        if remaining:
            self._emit(
                ev.RiskAlert(
                    seq=self.seq + 1,
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

    def _liq_finish(self, case: Case, ts: int) -> None:
        shortfall = ZERO
        for pos in self.account_positions.get(case.account_id, ()):
            if (
                pos.qty
                and self.liq.frozen.get(
                    (case.account_id, "*" if case.mode is _CROSS else pos.symbol)
                )
                == case.case_id
            ):
                inst = self.instruments[pos.symbol]
                if inst.is_derivative and inst.settle_asset == case.asset:
                    shortfall += abs(pos.qty)
        self._emit(
            ev.LiquidationFinished(
                seq=self.seq + 1,
                ts_event=ts,
                case_id=case.case_id,
                account_id=case.account_id,
                shortfall=shortfall,
            )
        )

    # ------------------------------------------------------------------ pre-trade (margin port)
    def _margin_refusal(
        self, c: cmd_.SubmitOrder, inst: Instrument, px: Decimal | None
    ) -> Refusal | None:
        """LEVERAGE_TOO_HIGH: the position this order can make is larger than the tier table
        allows at the account's leverage."""
        if c.reduce_only or px is None:
            return None
        account_id = c.account_id
        lev = self.leverage.get((account_id, inst.symbol), ONE)
        pos = self.positions.get((account_id, inst.symbol, c.position_side or PositionSide.BOTH))
        held = pos.qty if pos is not None else ZERO
        if c.side is Side.BUY:
            projected = held + (pos.open_buy if pos is not None else ZERO) + c.qty
            if projected <= 0:
                return None
        else:
            projected = held - (pos.open_sell if pos is not None else ZERO) - c.qty
            if projected >= 0:
                return None
        notional = abs(projected) * px * inst.multiplier
        tiers = self.tiers_of(inst)
        cap = m.max_notional(tiers, lev)
        if cap is not None and notional > cap:
            if not cap:
                return (
                    Reason.LEVERAGE_TOO_HIGH,
                    f"leverage {plain(lev)}x is above {inst.symbol}'s maximum "
                    f"{plain(tiers[0].max_leverage)}x",
                )
            return (
                Reason.LEVERAGE_TOO_HIGH,
                f"at {plain(lev)}x a {inst.symbol} position may reach {plain(cap)} "
                f"{inst.settle_asset} of notional; with this order and the open ones it would be "
                f"{plain(notional)}: lower the leverage or the size",
            )
        return None

    def _unrealized_loss(self, account_id: str, inst: Instrument) -> Decimal:
        """Cross unrealized losses in the settlement asset (they shrink free collateral; profits
        are not lent against)."""
        if self.liq.margin_mode.get((account_id, inst.symbol)) is _ISOLATED:
            return ZERO
        loss = ZERO
        for _, pos in self._cross_positions(account_id, inst.settle_asset):
            upnl = pos.unrealized_pnl(self._valuation(pos))
            if upnl < 0:
                loss += upnl
        return loss

    def _leverage_refusal(self, account_id: str, inst: Instrument, lev: Decimal) -> Refusal | None:
        tiers = self.tiers_of(inst)
        if lev > tiers[0].max_leverage:
            return (
                Reason.LEVERAGE_TOO_HIGH,
                f"leverage {plain(lev)}x is above {inst.symbol}'s maximum "
                f"{plain(tiers[0].max_leverage)}x",
            )
        px = self.price_of(inst.symbol)
        cap = m.max_notional(tiers, lev)
        if cap is None:
            return None
        for pos in self.account_positions.get(account_id, ()):
            if pos.symbol != inst.symbol:
                continue
            ref = px if px is not None else (pos.cost / abs(pos.qty) if pos.qty else None)
            if ref is None:
                continue
            size = max(abs(pos.qty + pos.open_buy), abs(pos.qty - pos.open_sell))
            notional = size * ref * inst.multiplier
            if notional > cap:
                return (
                    Reason.LEVERAGE_TOO_HIGH,
                    f"at {plain(lev)}x a {inst.symbol} position may reach {plain(cap)} "
                    f"{inst.settle_asset}; the position and open orders come to "
                    f"{plain(notional)}",
                )
        return None

    # ------------------------------------------------------------------ commands
    def _derivative(self, c: Any) -> Instrument | None:
        """The command's derivative, or None after rejecting the command."""
        if c.account_id not in self.accounts:
            self._reject_command(
                c, Reason.UNKNOWN_ACCOUNT, f"account {c.account_id} does not exist", c.account_id
            )
            return None
        inst = self.instruments.get(c.symbol)
        if inst is None or not inst.is_derivative:
            self._reject_command(
                c, Reason.UNKNOWN_INSTRUMENT, f"{c.symbol} is not a known derivative", c.account_id
            )
            return None
        return inst

    def _set_margin_mode(self, c: cmd_.SetMarginMode) -> None:
        inst = self._derivative(c)
        if inst is None:
            return
        if not isinstance(c.mode, MarginMode):
            self._reject_command(
                c,
                Reason.INVALID_FIELD,
                f"margin mode must be CROSS or ISOLATED, got {c.mode!r}",
                c.account_id,
            )
            return
        busy = any(
            p.qty or p.open_buy or p.open_sell
            for p in self.account_positions.get(c.account_id, ())
            if p.symbol == c.symbol
        )
        if busy:
            self._reject_command(
                c,
                Reason.MARGIN_MODE_LOCKED,
                f"account {c.account_id} has a position or open orders in {c.symbol}: "
                "close them before changing the margin mode",
                c.account_id,
            )
            return
        self._emit(
            ev.MarginModeSet(
                seq=self.seq + 1,
                ts_event=c.ts,
                account_id=c.account_id,
                symbol=c.symbol,
                mode=c.mode,
            )
        )

    def _adjust_isolated_margin(self, c: cmd_.AdjustIsolatedMargin) -> None:
        inst = self._derivative(c)
        if inst is None:
            return
        amount = c.amount
        account_id = c.account_id
        if (
            not isinstance(amount, Decimal)
            or not amount.is_finite()
            or amount <= 0
            or amount >= ABSURD
        ):
            self._reject_command(
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
        pos = self.positions.get((account_id, c.symbol, side))
        if self.liq.mode(account_id, c.symbol) is not _ISOLATED:
            self._reject_command(
                c,
                Reason.NOT_ISOLATED,
                f"{c.symbol} is margined CROSS for account {account_id}",
                account_id,
            )
            return
        if pos is None or not pos.qty:
            self._reject_command(
                c,
                Reason.NO_POSITION,
                f"account {account_id} has no {side} position in {c.symbol}",
                account_id,
            )
            return
        if self.liq.is_frozen(account_id, c.symbol):
            self._reject_command(
                c,
                Reason.LIQUIDATION_IN_PROGRESS,
                f"the {c.symbol} position is being liquidated",
                account_id,
            )
            return
        asset = inst.settle_asset
        if not c.remove:
            free = self._free(account_id, asset)
            if free < amount:
                self._reject_command(
                    c,
                    Reason.INSUFFICIENT_BALANCE,
                    f"cannot add {plain(amount)} {asset}: only {plain(free)} is free",
                    account_id,
                )
                return
            delta = amount
        else:
            px = self._valuation(pos)
            upnl = pos.unrealized_pnl(px)
            lev = self.leverage.get((account_id, c.symbol), ONE)
            initial = abs(pos.qty) * px * inst.multiplier / lev
            removable = pos.margin + min(upnl, ZERO) - initial
            if removable < 0:
                removable = ZERO
            if amount > removable:
                self._reject_command(
                    c,
                    Reason.MARGIN_REMOVAL_TOO_LARGE,
                    f"at most {plain(removable)} {asset} can be removed from the {c.symbol} "
                    f"position (margin {plain(pos.margin)}, initial margin at mark "
                    f"{plain(initial)}, unrealized P&L {plain(upnl)})",
                    account_id,
                )
                return
            delta = -amount
        self._emit(
            ev.IsolatedMarginAdjusted(
                seq=self.seq + 1,
                ts_event=c.ts,
                account_id=account_id,
                symbol=c.symbol,
                position_side=side,
                amount=delta,
            )
        )

    def _set_margin_tiers(self, c: cmd_.SetMarginTiers) -> None:
        inst = self.instruments.get(c.symbol)
        if inst is None or not inst.is_derivative:
            self._operator_reject(
                c, (Reason.UNKNOWN_INSTRUMENT, f"{c.symbol} is not a known derivative")
            )
            return
        try:
            tiers = validate_tiers(list(c.tiers), c.symbol)
        except (ValueError, TypeError) as exc:
            self._operator_reject(c, (Reason.INVALID_MARGIN_TIERS, str(exc)))
            return
        self._emit(
            ev.MarginTiersSet(
                seq=self.seq + 1,
                ts_event=c.ts,
                symbol=c.symbol,
                tiers=tiers,
                actor=c.actor,
                reason=c.reason,
            )
        )

    def _set_funding_rate(self, c: cmd_.SetFundingRate) -> None:
        inst = self.instruments.get(c.symbol)
        if (
            inst is None
            or inst.kind is not InstrumentKind.PERPETUAL
            or not inst.funding_interval_min
        ):
            self._reject_command(
                c, Reason.NOT_A_PERPETUAL, f"{c.symbol} is not a perpetual with funding"
            )
            return
        rate = c.rate
        if not isinstance(rate, Decimal) or not rate.is_finite() or abs(rate) >= 1:
            self._reject_command(
                c,
                Reason.INVALID_FUNDING_RATE,
                f"a funding rate is a fraction between -1 and 1, got {rate}",
            )
            return
        self._emit(ev.FundingRateSet(seq=self.seq + 1, ts_event=c.ts, symbol=c.symbol, rate=rate))

    def _deposit_insurance_fund(self, c: cmd_.DepositInsuranceFund) -> None:
        amount = c.amount
        if (
            not isinstance(amount, Decimal)
            or not amount.is_finite()
            or not amount
            or abs(amount) >= ABSURD
        ):
            self._operator_reject(
                c, (Reason.INVALID_AMOUNT, f"amount must be a non-zero number, got {amount}")
            )
            return
        have = self.liq.fund.get(c.asset, ZERO)
        if amount < 0 and have < -amount:
            self._operator_reject(
                c,
                (
                    Reason.INSUFFICIENT_BALANCE,
                    f"the {c.asset} insurance fund holds {plain(have)}: cannot take {plain(-amount)}",
                ),
            )
            return
        self._emit(
            ev.InsuranceFundDeposited(
                seq=self.seq + 1,
                ts_event=c.ts,
                asset=c.asset,
                amount=amount,
                actor=c.actor,
                reason=c.reason,
            )
        )

    # ------------------------------------------------------------------ funding
    def _funding_due(self, ts: int) -> None:
        """Settle funding for every perpetual whose funding time has come (once per boundary)."""
        liq = self.liq
        for symbol in sorted(liq.funding_rate):
            inst = self.instruments[symbol]
            interval = inst.funding_interval_min * MINUTE_NS
            last = liq.last_funding.get(symbol, 0)
            boundary = ts - ts % interval
            if boundary <= last:
                continue
            mark = self.mark.get(symbol)
            if mark is None:
                continue  # no mark price yet: settled at the next boundary that has one
            rate = liq.funding_rate[symbol]
            for pos in sorted(
                self.symbol_positions.get(symbol, ()), key=lambda p: (p.account_id, p.position_side)
            ):
                if pos.qty:
                    self._emit(
                        ev.FundingSettled(
                            seq=self.seq + 1,
                            ts_event=ts,
                            symbol=symbol,
                            asset=inst.settle_asset,
                            rate=rate,
                            mark=mark,
                            funding_ts=boundary,
                            account_id=pos.account_id,
                            position_side=pos.position_side,
                            qty=pos.qty,
                            # Longs pay shorts when the rate is positive.
                            amount=-pos.qty * inst.multiplier * mark * rate,
                        )
                    )
            if self._liquidates_here(inst):
                self._check_liquidations(symbol, ts)

    # ------------------------------------------------------------------ dated futures
    def _settle_future(self, c: cmd_.SettleFuture) -> None:
        inst = self.instruments.get(c.symbol)
        if inst is None or inst.kind is not InstrumentKind.FUTURE:
            self._operator_reject(
                c, (Reason.NOT_A_DATED_FUTURE, f"{c.symbol} is not a dated future")
            )
            return
        if not inst.tradable:
            self._operator_reject(c, (Reason.FUTURE_SETTLED, f"{c.symbol} is already settled"))
            return
        if inst.expiry_ts is not None and c.ts < inst.expiry_ts:
            self._operator_reject(
                c, (Reason.NOT_EXPIRED, f"{c.symbol} expires at {inst.expiry_ts} (ns), not yet")
            )
            return
        price = c.price
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0 or price >= ABSURD:
            self._operator_reject(
                c, (Reason.INVALID_PRICE, f"settlement price {price} is not valid")
            )
            return
        if any(
            case for case in self.liq.cases.values() if case.current and case.current[0] == c.symbol
        ):
            self._operator_reject(
                c, (Reason.LIQUIDATION_IN_PROGRESS, f"a liquidation on {c.symbol} is in progress")
            )
            return
        for live in self.deriv_live.values():
            for order_id in sorted(live):
                order = self.orders[order_id]
                if order.symbol == c.symbol and order.status is not OrderStatus.PENDING_CANCEL:
                    self._cancel_for(order, c.ts, Reason.FUTURE_SETTLED)
        self._emit(
            ev.FutureSettled(
                seq=self.seq + 1,
                ts_event=c.ts,
                symbol=c.symbol,
                price=price,
                actor=c.actor,
                reason=c.reason,
            )
        )
