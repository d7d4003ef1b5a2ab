"""The state as a snapshot: typed msgspec records of everything the digest covers plus what the
fold keeps besides (counters, windows, pending work), and the way back.

:func:`export_state` makes a :class:`StateSnapshot`; :func:`restore_state` loads one into a fresh
state and rebuilds the derived indexes (triggers, exposure, live-order and position indexes).
``SCHEMA`` names this layout: bump it when a record changes, and older snapshots are refused
(the runtime then replays the journal from the start and says so). The records mirror the state's
classes field for field; a test fails when a class gains a field its record lacks.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from atlas_oms.core.algos.state import AlgoState
from atlas_oms.core.algos.state import restore as restore_algos
from atlas_oms.core.derivatives.book import Case
from atlas_oms.core.equities.calendar import UsMarketBook
from atlas_oms.core.orders.link_book import OrderList
from atlas_oms.core.orders.order import Order
from atlas_oms.core.policy.bar_book import SymbolBars
from atlas_oms.core.policy.desk import CyclesBook
from atlas_oms.core.policy.trade_state import TradeState, params_from
from atlas_oms.core.risk.book import BreakerStatus, RateWindow
from atlas_oms.core.sor.pair_state import PairState, restore_pairs
from atlas_oms.core.state.booking import FirmExposure, track
from atlas_oms.core.state.positions import Balance, Lot, Position
from atlas_oms.core.venues.records import VenueRecord, export_venues, restore_venues
from atlas_oms.model import events as ev
from atlas_oms.model.account import Account
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import (
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode
from atlas_oms.model.risk import BreakerConfig, BreakerState, MarketStatus, RiskLimits, Scope

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

#: The snapshot layout's version (see the module's docstring).
SCHEMA = 2

ZERO = Decimal(0)


class _Record(msgspec.Struct, array_like=True, gc=False):
    """Records are encoded as arrays (field order is the layout: change it only with SCHEMA)."""


class OrderRecord(_Record):
    order_id: int
    account_id: str
    symbol: str
    venue: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    trigger_type: TriggerType
    trailing_offset: Decimal | None
    trailing_offset_type: TrailingOffsetType
    limit_offset: Decimal | None
    tif: TimeInForce
    expire_ts: int | None
    post_only: bool
    reduce_only: bool
    position_side: PositionSide
    client_order_id: str | None
    tag: str | None
    ts_init: int
    ts_last: int
    status: OrderStatus
    cum_qty: Decimal
    leaves_qty: Decimal
    cum_notional: Decimal
    fees: Decimal
    fee_asset: str | None
    fill_count: int
    venue_order_id: str | None
    accepted: bool
    held: bool
    triggered: bool
    watermark: Decimal | None
    protection_price: Decimal | None
    reserved_asset: str | None
    reserve_unit: Decimal
    reserved: Decimal
    pending: tuple[Decimal, Decimal | None, Decimal | None, Decimal] | None
    reason: str | None
    priority_seq: int
    intent: SubmitOrder | None


#: Order fields a snapshot keeps: all but the ``refs`` lookup cache, in declaration order.
ORDER_RECORD_FIELDS = OrderRecord.__struct_fields__


class PositionRecord(_Record):
    account_id: str
    symbol: str
    position_side: PositionSide
    multiplier: Decimal
    qty: Decimal
    cost: Decimal
    lots: list[Lot]
    closed_lots: int
    realized_pnl: Decimal
    fees: Decimal
    margin: Decimal
    trade_count: int
    ts_last: int


class BalanceRecord(_Record):
    account_id: str
    asset: str
    total: Decimal
    locked: Decimal


class WindowRecord(_Record):
    """A rate window; ``key`` is an account id, or a strategy scope's id with ``strategy``."""

    key: str
    strategy: bool
    base: int
    total: int
    secs: list[int]
    cums: list[int]


class BreakerRecord(_Record):
    scope: Scope
    scope_id: str
    config: BreakerConfig
    state: str
    cause: str | None
    message: str
    tripped_at: int | None
    cooldown_until: int | None
    auto_reset_at: int | None
    day: int | None
    start_equity: Decimal | None
    peak_equity: Decimal | None
    consecutive_losses: int
    consecutive_errors: int
    pnl: Decimal
    trips: int
    touched_seq: int


class RiskRecord(_Record):
    limits: list[tuple[Scope, str, RiskLimits]]
    states: list[ev.TradingStateChanged]
    kills: list[ev.KillSwitchTripped]
    breakers: list[BreakerRecord]
    market_status: list[tuple[str, MarketStatus]]
    parents: list[tuple[str, str | None]]
    rates: list[WindowRecord]
    orders_w: list[WindowRecord]
    fills_w: list[WindowRecord]
    amends_w: list[WindowRecord]
    ratio_flags: list[tuple[str, str]]
    recent: list[tuple[str, str, Side, Decimal, Decimal | None, int]]
    recent_pruned_at: int
    retries: list[tuple[int, int]]
    retry_root: list[tuple[int, int]]
    flatten_todo: list[tuple[str, ev.KillSwitchTripped]]
    touched_seq: int


class CaseRecord(_Record):
    case_id: int
    account_id: str
    mode: MarginMode
    asset: str
    todo: list[tuple[str, PositionSide]]
    current: tuple[str, PositionSide] | None
    stage: str | None
    order_id: int | None
    bankruptcy: Decimal | None
    settled_qty: Decimal
    settled_notional: Decimal
    shortfall: Decimal


class LiqRecord(_Record):
    margin_mode: list[tuple[str, str, MarginMode]]
    fund: list[tuple[str, Decimal]]
    funding_rate: list[tuple[str, Decimal]]
    last_funding: list[tuple[str, int]]
    funding_total: list[tuple[str, str, PositionSide, Decimal]]
    cases: list[CaseRecord]
    next_case_id: int
    frozen: list[tuple[str, str, int]]
    orders: list[tuple[int, int]]
    liquidations: int
    adl_count: int


class StateSnapshot(msgspec.Struct, gc=False):
    """The whole state at ``seq``."""

    schema: int
    seq: int
    next_order_id: int
    instruments: list[Instrument]
    accounts: list[Account]
    orders: list[OrderRecord]
    client_ids: list[tuple[str, str, int]]
    positions: list[PositionRecord]
    balances: list[BalanceRecord]
    leverage: list[tuple[str, str, Decimal]]
    last: list[tuple[str, Decimal]]
    mark: list[tuple[str, Decimal]]
    fills: list[ev.OrderFilled]
    busted: list[str]
    expiries: list[tuple[int, int]]
    unsettled: list[tuple[str, str, list[tuple[int, Decimal]]]]
    risk: RiskRecord
    liq: LiqRecord
    #: Retention (core/retention.py); None in snapshots written before it: derived then.
    terminal: list[tuple[int, int]] | None = None
    client_id_queue: list[tuple[int, str, str, int]] | None = None
    archived: int = 0
    #: External venue accounts (core/venues/); None when there are none (and in older snapshots).
    venues: VenueRecord | None = None
    #: Linked orders (core/orders/links.py); None when there are none (and in older snapshots).
    links: list[OrderList] | None = None
    #: Managed trades (core/policy/trade_state.py); None when there are none (and before them).
    trades: list[TradeState] | None = None
    #: The execution policy's parameter overrides (``PolicyParamsSet``); None: the defaults.
    policy_overrides: list[tuple[str, str]] | None = None
    #: Per symbol: 1-minute bars and indicators (core/policy/bar_book.py); None: none.
    bar_book: list[SymbolBars] | None = None
    #: Desks and pre-market prints (core/policy/desk.py); None when empty (and before them).
    cycles: CyclesBook | None = None
    #: US markets: calendars, day trades, close equity, corporate actions; None when empty.
    us_markets: UsMarketBook | None = None
    #: Parent orders (core/algos/state.py); None when there are none (and in older snapshots).
    algos: list[AlgoState] | None = None
    #: Paired arbitrage orders in flight (core/sor/pair_state.py); None when there are none.
    pairs: list[PairState] | None = None


# ---------------------------------------------------------------------------------- export
def _window(key: Any, w: RateWindow) -> WindowRecord:
    strategy = isinstance(key, tuple)
    return WindowRecord(key[1] if strategy else key, strategy, w.base, w.total, w.secs, w.cums)


def export_state(state: State) -> StateSnapshot:
    """The state's data (no derived indexes) as a :class:`StateSnapshot`."""
    risk = state.risk
    liq = state.liq
    return StateSnapshot(
        schema=SCHEMA,
        seq=state.seq,
        next_order_id=state.next_order_id,
        instruments=list(state.instruments.values()),
        accounts=list(state.accounts.values()),
        orders=[
            OrderRecord(*[getattr(o, f) for f in ORDER_RECORD_FIELDS])
            for o in state.orders.values()
        ],
        client_ids=[(a, c, i) for (a, c), i in state.client_ids.items()],
        positions=[
            PositionRecord(
                p.account_id,
                p.symbol,
                p.position_side,
                p.multiplier,
                p.qty,
                p.cost,
                list(p.lots),
                p.closed_lots,
                p.realized_pnl,
                p.fees,
                p.margin,
                p.trade_count,
                p.ts_last,
            )
            for p in state.positions.values()
        ],
        balances=[BalanceRecord(a, s, b.total, b.locked) for (a, s), b in state.balances.items()],
        leverage=[(a, s, v) for (a, s), v in state.leverage.items()],
        last=list(state.last.items()),
        mark=list(state.mark.items()),
        fills=list(state.fills.values()),
        busted=sorted(state.busted),
        expiries=list(state.expiries),
        unsettled=[
            (a, cur, sorted(entries.items()))
            for (a, cur), entries in state.equities.unsettled.items()
        ],
        terminal=list(state.terminal.items()),
        client_id_queue=list(state.client_id_queue),
        archived=state.archived,
        venues=export_venues(state.venues),
        links=[msgspec.structs.replace(x) for x in state.links.lists.values()] or None,
        trades=list(state.trades.values()) or None,
        policy_overrides=list(state.policy_overrides) or None,
        bar_book=state.bar_book.export(),
        cycles=state.cycles if state.cycles.desks or state.cycles.prints else None,
        us_markets=state.equities.us or None,
        algos=list(state.algos.values()) or None,
        pairs=[msgspec.structs.replace(p) for p in state.pairs.values()] or None,
        risk=RiskRecord(
            limits=[(k[0], k[1], v) for k, v in risk.limits.items()],
            states=list(risk.states.values()),
            kills=list(risk.kills.values()),
            breakers=[
                BreakerRecord(
                    k[0],
                    k[1],
                    b.config,
                    b.state.value,
                    b.cause,
                    b.message,
                    b.tripped_at,
                    b.cooldown_until,
                    b.auto_reset_at,
                    b.day,
                    b.start_equity,
                    b.peak_equity,
                    b.consecutive_losses,
                    b.consecutive_errors,
                    b.pnl,
                    b.trips,
                    b.touched_seq,
                )
                for k, b in risk.breakers.items()
            ],
            market_status=list(risk.market_status.items()),
            parents=list(risk.parents.items()),
            rates=[_window(k, w) for k, w in risk.rates.items()],
            orders_w=[_window(k, w) for k, w in risk.orders_w.items()],
            fills_w=[_window(k, w) for k, w in risk.fills_w.items()],
            amends_w=[_window(k, w) for k, w in risk.amends_w.items()],
            ratio_flags=sorted(risk.ratio_flags),
            recent=[(*k, t) for k, t in risk.recent.items()],
            recent_pruned_at=risk.recent_pruned_at,
            retries=list(risk.retries.items()),
            retry_root=list(risk.retry_root.items()),
            flatten_todo=list(risk.flatten_todo.items()),
            touched_seq=risk.touched_seq,
        ),
        liq=LiqRecord(
            margin_mode=[(a, s, mode) for (a, s), mode in liq.margin_mode.items()],
            fund=list(liq.fund.items()),
            funding_rate=list(liq.funding_rate.items()),
            last_funding=list(liq.last_funding.items()),
            funding_total=[(a, s, side, v) for (a, s, side), v in liq.funding_total.items()],
            cases=[
                CaseRecord(
                    c.case_id,
                    c.account_id,
                    c.mode,
                    c.asset,
                    list(c.todo),
                    c.current,
                    c.stage,
                    c.order_id,
                    c.bankruptcy,
                    c.settled_qty,
                    c.settled_notional,
                    c.shortfall,
                )
                for c in liq.cases.values()
            ],
            next_case_id=liq.next_case_id,
            frozen=[(a, s, case_id) for (a, s), case_id in liq.frozen.items()],
            orders=list(liq.orders.items()),
            liquidations=liq.liquidations,
            adl_count=liq.adl_count,
        ),
    )


# ---------------------------------------------------------------------------------- restore
def _windows(records: list[WindowRecord]) -> dict[Any, RateWindow]:
    out: dict[Any, RateWindow] = {}
    for r in records:
        w = RateWindow()
        w.base, w.total, w.secs, w.cums = r.base, r.total, r.secs, r.cums
        out[(Scope.STRATEGY, r.key) if r.strategy else r.key] = w
    return out


def restore_state(state: State, snap: StateSnapshot) -> None:
    """Load ``snap`` into a fresh ``state`` (its dictionaries are filled, not replaced: adapters
    hold references to some) and rebuild the derived indexes."""
    if state.seq:
        raise ValueError("a snapshot is restored only into a fresh state")
    if snap.schema != SCHEMA:
        raise ValueError(f"snapshot schema {snap.schema} is not {SCHEMA}")
    state.seq = snap.seq
    state.next_order_id = snap.next_order_id
    state.instruments.update((i.symbol, i) for i in snap.instruments)
    state.accounts.update((a.account_id, a) for a in snap.accounts)
    for r in snap.orders:
        state.orders[r.order_id] = Order(*[getattr(r, f) for f in ORDER_RECORD_FIELDS])
    state.client_ids.update(((a, c), i) for a, c, i in snap.client_ids)
    for p in snap.positions:
        pos = Position(p.account_id, p.symbol, p.position_side, p.multiplier)
        pos.qty, pos.cost, pos.lots = p.qty, p.cost, deque(p.lots)
        pos.closed_lots, pos.realized_pnl, pos.fees = p.closed_lots, p.realized_pnl, p.fees
        pos.margin, pos.trade_count, pos.ts_last = p.margin, p.trade_count, p.ts_last
        state.positions[(p.account_id, p.symbol, p.position_side)] = pos
    for b in snap.balances:
        bal = state.balances[(b.account_id, b.asset)] = Balance(b.asset)
        bal.total, bal.locked = b.total, b.locked
    state.leverage.update(((a, s), v) for a, s, v in snap.leverage)
    state.last.update(snap.last)
    state.mark.update(snap.mark)
    state.fills.update((f.exec_id, f) for f in snap.fills)
    state.busted.update(snap.busted)
    state.expiries.update(snap.expiries)
    state.equities.unsettled.update(((a, c), dict(entries)) for a, c, entries in snap.unsettled)
    if snap.us_markets is not None:
        state.equities.us = snap.us_markets
        for order_id, release_ts in snap.us_markets.queued.items():
            state.orders[order_id].session_release = release_ts
    _restore_risk(state, snap.risk)
    _restore_liq(state, snap.liq)
    _restore_retention(state, snap)
    restore_venues(state.venues, snap.venues)
    state.links.restore(snap.links)
    if snap.policy_overrides:
        state.policy_overrides = tuple(tuple(x) for x in snap.policy_overrides)  # type: ignore[misc]
        state.policy = params_from(state.policy_overrides)
    state.bar_book.restore(snap.bar_book)
    if snap.cycles is not None:
        state.cycles = snap.cycles
    for t in snap.trades or ():
        state.trades[t.trade_id] = t
        for order_id in (*t.entry_orders, *t.exit_orders):
            state.trade_orders[order_id] = t.trade_id
    restore_algos(state, snap.algos)
    restore_pairs(state, snap.pairs)
    rebuild_indexes(state)


def _restore_retention(state: State, snap: StateSnapshot) -> None:
    state.archived = snap.archived
    if snap.terminal is not None:
        state.terminal.update(snap.terminal)
    else:  # an older snapshot: every order is in it
        ended = sorted((o.ts_last, i) for i, o in state.orders.items() if not o.is_live)
        state.terminal.update((i, ts) for ts, i in ended)
    if snap.client_id_queue is not None:
        state.client_id_queue.extend(snap.client_id_queue)
    else:
        orders = state.orders
        state.client_id_queue.extend(
            sorted((orders[i].ts_init, a, c, i) for (a, c), i in state.client_ids.items())
        )


def _restore_risk(state: State, r: RiskRecord) -> None:
    risk = state.risk
    risk.limits.update(((s, i), v) for s, i, v in r.limits)
    risk.states.update(((e.scope, e.scope_id), e) for e in r.states)
    risk.kills.update(((e.scope, e.scope_id), e) for e in r.kills)
    for b in r.breakers:
        status = risk.breakers[(b.scope, b.scope_id)] = BreakerStatus(b.config)
        status.state = BreakerState(b.state)
        status.cause, status.message = b.cause, b.message
        status.tripped_at, status.cooldown_until = b.tripped_at, b.cooldown_until
        status.auto_reset_at, status.day = b.auto_reset_at, b.day
        status.start_equity, status.peak_equity = b.start_equity, b.peak_equity
        status.consecutive_losses, status.consecutive_errors = (
            b.consecutive_losses,
            b.consecutive_errors,
        )
        status.pnl, status.trips, status.touched_seq = b.pnl, b.trips, b.touched_seq
    risk.market_status.update(r.market_status)
    for account_id, parent_id in r.parents:
        risk.on_account(account_id, parent_id)
    risk.rates = _windows(r.rates)
    risk.orders_w = _windows(r.orders_w)
    risk.fills_w = _windows(r.fills_w)
    risk.amends_w = _windows(r.amends_w)
    risk.ratio_flags = set(r.ratio_flags)
    risk.recent = {(a, s, side, q, p): t for a, s, side, q, p, t in r.recent}
    risk.recent_pruned_at = r.recent_pruned_at
    risk.retries = dict(r.retries)
    risk.retry_root = dict(r.retry_root)
    risk.flatten_todo = dict(r.flatten_todo)
    risk.touched_seq = r.touched_seq
    risk.recount()
    risk.version += 1
    risk.refresh()


def _restore_liq(state: State, r: LiqRecord) -> None:
    liq = state.liq
    liq.margin_mode.update(((a, s), m) for a, s, m in r.margin_mode)
    liq.fund.update(r.fund)
    liq.funding_rate.update(r.funding_rate)
    liq.last_funding.update(r.last_funding)
    liq.funding_total.update(((a, s, side), v) for a, s, side, v in r.funding_total)
    for c in r.cases:
        case = liq.cases[c.case_id] = Case(c.case_id, c.account_id, c.mode, c.asset, list(c.todo))
        case.current, case.stage, case.order_id = c.current, c.stage, c.order_id
        case.bankruptcy, case.settled_qty = c.bankruptcy, c.settled_qty
        case.settled_notional, case.shortfall = c.settled_notional, c.shortfall
    liq.next_case_id = r.next_case_id
    liq.frozen.update(((a, s), i) for a, s, i in r.frozen)
    liq.orders.update(r.orders)
    liq.liquidations = r.liquidations
    liq.adl_count = r.adl_count


def rebuild_indexes(state: State) -> None:
    """Rebuild every derived index from the orders, positions and balances."""
    state.account_positions.clear()
    state.account_balances.clear()
    state.symbol_positions.clear()
    state.deriv_live.clear()
    state.open_orders.clear()
    state.firm.clear()
    state.refs_cache.clear()
    state.liq_index.clear()
    state.order_fills.clear()
    for exec_id, fill in state.fills.items():
        order_fills = state.order_fills
        order_fills[fill.order_id] = (*order_fills.get(fill.order_id, ()), exec_id)
    for (account_id, _), bal in state.balances.items():
        state.account_balances.setdefault(account_id, []).append(bal)
    for pos in state.positions.values():
        state.account_positions.setdefault(pos.account_id, []).append(pos)
        state.symbol_positions.setdefault(pos.symbol, []).append(pos)
        state.liq_index.dirty.add(pos.account_id)
        pos.open_buy = pos.open_sell = ZERO
        firm = state.firm.get(pos.symbol)
        if firm is None:
            firm = state.firm[pos.symbol] = FirmExposure()
        firm.net += pos.qty
        firm.gross += abs(pos.qty)
    for order in state.orders.values():
        order.refs = None
        if order.leaves_qty:
            track(state, order, ZERO)
    for order in state.orders.values():
        if (
            order.held
            and order.is_live
            and order.accepted
            and order.trigger_price is not None
            and order.session_release is None
        ):
            state.triggers.add(
                order.order_id,
                order.symbol,
                order.trigger_type,
                order.side,
                order.order_type,
                order.trigger_price,
            )


def encode_snapshot(snap: StateSnapshot) -> bytes:
    return msgspec.msgpack.encode(snap)


def decode_snapshot(data: bytes) -> StateSnapshot:
    return msgspec.msgpack.decode(data, type=StateSnapshot)
