"""What a run records per account: its fills, round trips and equity curve (backtest/records.py).

The recorder listens to the node's events (fills) and is told after every market event
(:meth:`Recorder.sample`). Equity (quote balance + spot holdings at the last price, or a
derivative position's unrealized P&L) is recomputed after a market event only for an account that
holds a position or got a fill since the last sample; otherwise the last value is carried forward
(one ``EquityPoint`` per distinct event time and account; cheap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from atlas_oms.backtest.records import EquityPoint, FillRecord, TradeRecord
from atlas_oms.model import events as ev
from atlas_oms.model.enums import InstrumentKind, OrderType, PositionSide, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.node import Node

__all__ = ["Recorder"]

_ZERO = Decimal(0)
_SIDES = (PositionSide.BOTH, PositionSide.LONG, PositionSide.SHORT)


class _RoundTrip:
    __slots__ = ("buys", "entry_side", "fees", "max_qty", "opened_ts", "qty", "sells", "trade_ids")

    def __init__(self, side: Side, ts: int) -> None:
        self.entry_side = side
        self.opened_ts = ts
        self.qty = _ZERO  # signed
        self.max_qty = _ZERO
        self.buys: list[tuple[Decimal, Decimal]] = []
        self.sells: list[tuple[Decimal, Decimal]] = []
        self.fees = _ZERO
        #: The managed trades (issue 13) whose fills this round trip holds, in order.
        self.trade_ids: dict[str, None] = {}


class Recorder:
    """Fills, round trips and equity of the accounts ``strategies`` names (account -> strategy)."""

    def __init__(
        self,
        node: Node,
        instruments: Mapping[str, Instrument],
        strategies: Mapping[str, str],
        price_of: Callable[[str], Decimal | None],
    ) -> None:
        self.node = node
        self.instruments = dict(instruments)
        self.strategies = dict(strategies)
        self.price_of = price_of
        self.fills: dict[str, list[FillRecord]] = {a: [] for a in strategies}
        self.trades: dict[str, list[TradeRecord]] = {a: [] for a in strategies}
        self.equity: dict[str, list[EquityPoint]] = {a: [] for a in strategies}
        self._open: dict[tuple[str, str], _RoundTrip] = {}
        self._reference: dict[int, Decimal | None] = {}
        self._dirty: set[str] = set(strategies)
        self._exposed: set[str] = set()
        self._last_ts = -1
        node.subscribe(self._on_events)

    # ----------------------------------------------------------------- fills and round trips
    def _on_events(self, events: list[Any]) -> None:
        for e in events:
            cls = e.__class__
            if cls is ev.OrderSubmitted:
                intent = e.intent
                if intent.account_id in self.strategies:
                    ref = intent.price if intent.order_type is OrderType.LIMIT else None
                    self._reference[e.order_id] = (
                        ref if ref is not None else self.price_of(intent.symbol)
                    )
            elif cls is ev.OrderFilled and e.account_id in self.strategies:
                self._fill(e)

    def _fill(self, f: ev.OrderFilled) -> None:
        account = f.account_id
        inst = self.instruments.get(f.symbol)
        ref = self._reference.get(f.order_id)
        sign = 1 if f.side is Side.BUY else -1
        slippage = (f.last_px - ref) * sign if ref is not None else _ZERO
        order = self.node.get_order(f.order_id)
        trade_id = self.node.trade_of_order(f.order_id)
        self.fills[account].append(
            FillRecord(
                account_id=account,
                strategy=self.strategies[account],
                symbol=f.symbol,
                order_id=f.order_id,
                client_order_id=order.client_order_id if order is not None else None,
                side=f.side,
                qty=f.last_qty,
                price=f.last_px,
                fee=f.fee,
                fee_asset=f.fee_asset,
                liquidity=f.liquidity_side.value,
                ts=f.ts_event,
                reference_price=ref,
                slippage=slippage,
                trade_id=trade_id,
                tranche=self._role(trade_id, f.order_id) if trade_id is not None else None,
            )
        )
        fee_quote = f.fee * f.last_px if inst is not None and f.fee_asset == inst.base else f.fee
        self._round_trip(
            account, f.symbol, f.side, f.last_qty, f.last_px, fee_quote, f.ts_event, trade_id
        )
        self._dirty.add(account)

    def _round_trip(
        self,
        account: str,
        symbol: str,
        side: Side,
        qty: Decimal,
        px: Decimal,
        fee: Decimal,
        ts: int,
        trade_id: str | None,
    ) -> None:
        key = (account, symbol)
        rt = self._open.get(key)
        if rt is None:
            rt = self._open[key] = _RoundTrip(side, ts)
        if trade_id is not None:
            rt.trade_ids[trade_id] = None
        signed = qty if side is Side.BUY else -qty
        before = rt.qty
        after = before + signed
        if before and after and (before > 0) != (after > 0):  # a flip: close, then open the rest
            closing = abs(before)
            part = fee * closing / qty
            self._book(rt, side, closing, px, part)
            rt.qty = _ZERO
            self._close(account, symbol, rt, ts, trade_id)
            rest = qty - closing
            rt = self._open[key] = _RoundTrip(side, ts)
            self._book(rt, side, rest, px, fee - part)
            rt.qty = rest if side is Side.BUY else -rest
            rt.max_qty = rest
            return
        self._book(rt, side, qty, px, fee)
        rt.qty = after
        if abs(after) > rt.max_qty:
            rt.max_qty = abs(after)
        if not after:
            self._close(account, symbol, rt, ts, trade_id)
            del self._open[key]

    def _role(self, trade_id: str, order_id: int) -> str | None:
        """A managed trade's order's part: ``ENTRY``, ``T1``, ``T2``... (a tranche's target),
        ``STOP``, or ``EXIT`` (market, scale-out, forced-close exits)."""
        view = self.node.managed_trade(trade_id)
        if view is None:
            return None
        for role, orders in (
            ("ENTRY", view.entries),
            ("STOP", view.stops),
            ("TARGET", view.target_orders),
            ("EXIT", view.exits),
        ):
            for o in orders:
                if o.order_id == order_id:
                    return f"T{o.tranche}" if role == "TARGET" and o.tranche else role
        return None

    def _tranche_pnl(self, trade_ids: Iterable[str]) -> dict[str, Decimal]:
        """Realized P&L (before fees, against the entry average) per part of the managed
        trades: each tranche's target (``T1``...), the stops (``STOP``), the other exits
        (``EXIT``), summed over ``trade_ids``."""
        out: dict[str, Decimal] = {}
        for trade_id in trade_ids:
            view = self.node.managed_trade(trade_id)
            if view is None:
                continue
            for t in view.tranches:
                if t.filled_qty:
                    key = f"T{t.index}"
                    out[key] = out.get(key, _ZERO) + t.realized_pnl
            for role, orders in (("STOP", view.stops), ("EXIT", view.exits)):
                for o in orders:
                    if o.cum_qty and o.realized_pnl is not None:
                        out[role] = out.get(role, _ZERO) + o.realized_pnl
        return out

    @staticmethod
    def _book(rt: _RoundTrip, side: Side, qty: Decimal, px: Decimal, fee: Decimal) -> None:
        (rt.buys if side is Side.BUY else rt.sells).append((qty, px))
        rt.fees += fee

    def _close(
        self, account: str, symbol: str, rt: _RoundTrip, ts: int, trade_id: str | None
    ) -> None:
        bought = sum((q * p for q, p in rt.buys), _ZERO)
        sold = sum((q * p for q, p in rt.sells), _ZERO)
        bq = sum((q for q, _ in rt.buys), _ZERO)
        sq = sum((q for q, _ in rt.sells), _ZERO)
        inst = self.instruments.get(symbol)
        mult = inst.multiplier if inst is not None else Decimal(1)
        entry, exit_ = (
            (bought / bq, sold / sq)
            if rt.entry_side is Side.BUY
            else (
                sold / sq,
                bought / bq,
            )
        )
        tick = inst.tick_size if inst is not None else None
        if tick is not None:
            entry, exit_ = entry.quantize(tick), exit_.quantize(tick)
        self.trades[account].append(
            TradeRecord(
                account_id=account,
                strategy=self.strategies[account],
                symbol=symbol,
                side=rt.entry_side,
                qty=rt.max_qty,
                entry_price=entry,
                exit_price=exit_,
                opened_ts=rt.opened_ts,
                closed_ts=ts,
                pnl=(sold - bought) * mult - rt.fees,
                fees=rt.fees,
                trade_id=trade_id,
                tranche_pnl=self._tranche_pnl(rt.trade_ids) if rt.trade_ids else {},
            )
        )

    # ----------------------------------------------------------------- equity
    def sample(self, ts: int, exposed: set[str]) -> None:
        """One equity point per account at ``ts``: recomputed for accounts with a position
        (``exposed``) or a fill since the last sample, carried forward for the others."""
        same = ts == self._last_ts
        self._last_ts = ts
        dirty = self._dirty
        for account, points in self.equity.items():
            if account in dirty or account in exposed or not points:
                point = self._point(account, ts)
            else:
                last = points[-1]
                point = (
                    last if same else EquityPoint(ts=ts, equity=last.equity, exposure=last.exposure)
                )
            if same and points:
                points[-1] = point
            else:
                points.append(point)
        dirty.clear()

    def _point(self, account: str, ts: int) -> EquityPoint:
        node = self.node
        equity = _ZERO
        exposure = _ZERO
        quotes: set[str] = set()
        for symbol, inst in self.instruments.items():
            price = self.price_of(symbol)
            if inst.kind is InstrumentKind.SPOT or inst.kind is InstrumentKind.EQUITY:
                quotes.add(inst.quote)
                held = node.balance(account, inst.base).total
                if held and price is not None:
                    equity += held * price
                    exposure += abs(held) * price
            else:
                quotes.add(inst.settle_asset)
                if price is None:
                    continue
                for side in _SIDES:
                    p = node.position(account, symbol, side)
                    if p is not None and p.qty and p.avg_entry_px is not None:
                        equity += (price - p.avg_entry_px) * p.qty * inst.multiplier
                        exposure += abs(p.qty) * price * inst.multiplier
        for asset in sorted(quotes):
            equity += node.balance(account, asset).total
        return EquityPoint(ts=ts, equity=equity, exposure=exposure)
