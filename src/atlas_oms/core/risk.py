"""The pre-trade risk engine and the risk operations: limits, trading states, kill switches,
circuit breakers, the market-order policy, protective-order failures and ratio monitoring.

A mixin of :class:`~atlas_oms.core.engine.Engine`. Submit and modify pass through
:meth:`RiskChecks._risk_submit` / :meth:`RiskChecks._risk_modify` (cancels never do); a refusal
becomes ``OrderDenied`` / ``OrderModifyRejected`` with a reason code. Everything here is a
function of the state and the message: the same journal gives the same decisions.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from atlas_oms.core.orders import Order
from atlas_oms.core.risk_state import GLOBAL_KEY, BreakerStatus, ScopeKey
from atlas_oms.core.sessions import iso_utc, scheduled_status
from atlas_oms.core.state import EngineState
from atlas_oms.core.validation import Refusal, plain
from atlas_oms.model import commands as cmd_
from atlas_oms.model import events as ev
from atlas_oms.model.enums import (
    DERIVATIVE_KINDS,
    MARKET_TYPES,
    TRAILING_TYPES,
    TRIGGERED_TYPES,
    InstrumentKind,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    Side,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import (
    AlertLevel,
    BreakerConfig,
    BreakerState,
    DuplicateAction,
    MarketOrderReason,
    MarketStatus,
    RiskLimits,
    Scope,
    TradingState,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)
MINUTE_NS = 60_000_000_000
DAY_NS = 86_400_000_000_000
#: Retries of a rejected protective order when no limit says otherwise.
DEFAULT_PROTECTIVE_RETRIES = 3
PROTECTIVE_TYPES = frozenset(
    {
        OrderType.STOP_MARKET,
        OrderType.STOP_LIMIT,
        OrderType.TRAILING_STOP_MARKET,
        OrderType.TRAILING_STOP_LIMIT,
    }
)
_MIN_FIELDS = (
    "max_order_qty",
    "max_order_notional",
    "price_band_pct",
    "max_open_orders",
    "max_position_qty",
    "max_position_notional",
    "max_firm_net_qty",
    "max_firm_gross_qty",
    "max_orders_per_second",
    "max_orders_per_minute",
    "max_orders_per_hour",
    "protective_retry_limit",
    "order_trade_ratio_warn",
    "cancel_replace_ratio_warn",
)
_ANY_FIELDS = ("luld", "market_order_policy", "protective_failure_flatten")
_TRADING_SCOPES = (Scope.GLOBAL, Scope.ACCOUNT, Scope.STRATEGY)


class Limits:
    """The limits in force for one (account, instrument, strategy): per field, the tightest set."""

    __slots__ = (
        *_MIN_FIELDS,
        *_ANY_FIELDS,
        "cancel_replace_ratio_clear",
        "cancel_replace_window_s",
        "duplicate_refuse",
        "duplicate_window_ns",
        "order_trade_ratio_clear",
        "order_trade_window_s",
        "ratio_min_orders",
        "rates",
        "ratios",
    )

    def __init__(self, layers: list[RiskLimits]) -> None:
        for name in _MIN_FIELDS:
            values = [v for lim in layers if (v := getattr(lim, name)) is not None]
            setattr(self, name, min(values) if values else None)
        for name in _ANY_FIELDS:
            setattr(self, name, any(getattr(lim, name) for lim in layers))
        self.protective_failure_flatten = all(lim.protective_failure_flatten for lim in layers)
        windows = [lim.duplicate_window_ms for lim in layers if lim.duplicate_window_ms]
        self.duplicate_window_ns = max(windows) * 1_000_000 if windows else 0
        self.duplicate_refuse = any(
            lim.duplicate_action is DuplicateAction.REFUSE
            for lim in layers
            if lim.duplicate_window_ms
        )
        # Ratio monitoring reads the nearest scope that sets it (they are per account).
        self.order_trade_ratio_clear = next(
            (lim.order_trade_ratio_clear for lim in layers if lim.order_trade_ratio_warn), ZERO
        )
        self.order_trade_window_s = next(
            (lim.order_trade_window_s for lim in layers if lim.order_trade_ratio_warn), 3600
        )
        self.cancel_replace_ratio_clear = next(
            (lim.cancel_replace_ratio_clear for lim in layers if lim.cancel_replace_ratio_warn),
            ZERO,
        )
        self.cancel_replace_window_s = next(
            (lim.cancel_replace_window_s for lim in layers if lim.cancel_replace_ratio_warn), 1800
        )
        self.ratio_min_orders = min((lim.ratio_min_orders for lim in layers), default=20)
        self.rates = tuple(
            (window, limit)
            for window, limit in (
                (1, self.max_orders_per_second),
                (60, self.max_orders_per_minute),
                (3600, self.max_orders_per_hour),
            )
            if limit is not None
        )
        #: The ratios monitored (those with a warning level): (code, cleared code, warning level,
        #: clear level, window in seconds, whether the numerator is the order count itself).
        self.ratios = tuple(
            ratio
            for ratio in (
                (
                    Reason.ORDER_TRADE_RATIO,
                    Reason.ORDER_TRADE_RATIO_CLEARED,
                    self.order_trade_ratio_warn,
                    self.order_trade_ratio_clear,
                    self.order_trade_window_s,
                    True,
                ),
                (
                    Reason.CANCEL_REPLACE_RATIO,
                    Reason.CANCEL_REPLACE_RATIO_CLEARED,
                    self.cancel_replace_ratio_warn,
                    self.cancel_replace_ratio_clear,
                    self.cancel_replace_window_s,
                    False,
                ),
            )
            if ratio[2] is not None
        )


class RiskChecks(EngineState):
    """Pre-trade checks and risk operations (mixed into the engine)."""

    _limits_cache: dict[tuple[str, str, str | None], Limits | None]
    _limits_version: int
    _dup_warning: str | None

    # ------------------------------------------------------------------ effective limits
    def limits_for(self, account_id: str, symbol: str, tag: str | None) -> Limits | None:
        """The limits in force for an order, or None when no scope sets any."""
        risk = self.risk
        if not risk.limits:
            return None
        if self._limits_version != risk.version:
            self._limits_cache = {}
            self._limits_version = risk.version
        key = (account_id, symbol, tag)
        try:
            return self._limits_cache[key]
        except KeyError:
            pass
        table = risk.limits
        layers = [
            lim
            for k in (
                GLOBAL_KEY,
                (Scope.INSTRUMENT, symbol),
                *((Scope.ACCOUNT, a) for a in risk.chain(account_id)),
                *(((Scope.STRATEGY, tag),) if tag is not None else ()),
            )
            if (lim := table.get(k)) is not None  # type: ignore[arg-type]
        ]
        limits = Limits(layers) if layers else None
        if len(self._limits_cache) > 100_000:
            self._limits_cache.clear()
        self._limits_cache[key] = limits
        return limits

    # ------------------------------------------------------------------ sessions
    def market_status(self, inst: Instrument, ts: int) -> MarketStatus:
        """The instrument's session now: an operator's override, else its schedule."""
        status = self.risk.market_status.get(inst.symbol)
        if status is not None:
            return status  # type: ignore[no-any-return]
        if inst.session is None:
            return MarketStatus.OPEN
        return scheduled_status(inst.session, ts)

    # ------------------------------------------------------------------ pre-trade: submit
    def _risk_submit(
        self, c: cmd_.SubmitOrder, inst: Instrument, worst: Decimal | None
    ) -> Refusal | None:
        """Every pre-trade risk check of a new order, cheapest and most decisive first.

        ``worst`` is the price the order may execute at in the worst case (its limit, or the
        protection bound of a market order), used for notional limits; None when unknown.
        """
        risk = self.risk
        if not risk.active and inst.session is None:
            return None
        if inst.session is not None or risk.market_status:
            status = self.market_status(inst, c.ts)
            if status is not MarketStatus.OPEN:
                refusal = self._session_refusal(c, inst, status)
                if refusal:
                    return refusal
        if (
            c.market_reason is MarketOrderReason.KILL_SWITCH
            and c.reduce_only
            and (c.tag == _FLATTEN_TAG)
        ):
            # A kill switch's own flattening: it only reduces, and no limit may keep it from
            # closing the position (a fat-finger limit smaller than the position, an open breaker).
            return None
        if risk.gated:
            refusal = self._gates(c, inst)
            if refusal:
                return refusal
        lim = self.limits_for(c.account_id, c.symbol, c.tag)
        if lim is None:
            return None
        qty = c.qty
        otype = c.order_type
        if lim.market_order_policy and otype in MARKET_TYPES and c.market_reason is None:
            return (
                Reason.MARKET_ORDER_NOT_ALLOWED,
                "the market-order policy allows a market order only with a reason: "
                + ", ".join(r.value for r in MarketOrderReason),
            )
        if lim.rates:
            refusal = self._rate_refusal(c.account_id, c.ts, lim)
            if refusal:
                return refusal
        if lim.max_order_qty is not None or lim.max_order_notional is not None:
            refusal = self._size_refusal(qty, worst, inst, lim)
            if refusal:
                return refusal
        if lim.price_band_pct is not None or (lim.luld and inst.kind is InstrumentKind.EQUITY):
            px = c.price
            if px is not None:
                refusal = self._band_refusal(inst, px, "limit price", lim)
                if refusal:
                    return refusal
            px = c.trigger_price
            if px is not None:
                refusal = self._band_refusal(inst, px, "trigger price", lim)
                if refusal:
                    return refusal
        if (
            lim.max_open_orders is not None
            and self.open_orders.get(c.account_id, 0) >= lim.max_open_orders
        ):
            return (
                Reason.TOO_MANY_OPEN_ORDERS,
                f"account {c.account_id} already has {lim.max_open_orders} open orders (the limit)",
            )
        if (
            lim.max_position_qty is not None
            or lim.max_position_notional is not None
            or lim.max_firm_net_qty is not None
            or lim.max_firm_gross_qty is not None
        ):  # reduce-only too: two reducing orders can together flip a position
            refusal = self._exposure_refusal(
                c.account_id, inst, c.side, c.position_side or _BOTH, qty, worst, lim
            )
            if refusal:
                return refusal
        if lim.duplicate_window_ns:
            seen = risk.recent.get((c.account_id, c.symbol, c.side, qty, c.price))
            if seen is not None and c.ts - seen <= lim.duplicate_window_ns:
                text = (
                    f"the same order ({c.side} {qty} {c.symbol} at {c.price}) was sent "
                    f"{(c.ts - seen) // 1_000_000} ms ago"
                )
                if lim.duplicate_refuse:
                    return Reason.DUPLICATE_ORDER, text
                self._dup_warning = f"possible duplicate: {text}"
        return None

    def _session_refusal(
        self, c: cmd_.SubmitOrder, inst: Instrument, status: MarketStatus
    ) -> Refusal | None:
        if status is MarketStatus.HALTED:
            return Reason.INSTRUMENT_HALTED, f"{inst.symbol} is halted"
        if status is MarketStatus.CLOSED:
            return Reason.MARKET_CLOSED, f"the market for {inst.symbol} is closed"
        # Pre- or post-market: equities trade only limit orders flagged for extended hours.
        if not c.extended_hours:
            return (
                Reason.EXTENDED_HOURS_REQUIRED,
                f"{inst.symbol} is in its {status.value.lower().replace('_', '-')} session: "
                "set extended_hours to trade outside regular hours",
            )
        if c.order_type is not OrderType.LIMIT:
            return (
                Reason.MARKET_CLOSED,
                f"only limit orders trade in {inst.symbol}'s extended-hours session",
            )
        return None

    def _gates(self, c: cmd_.SubmitOrder, inst: Instrument) -> Refusal | None:
        """Kill switches, circuit breakers and trading states, tightest first."""
        risk = self.risk
        tag = c.tag
        own_flatten = c.market_reason is _KILL_REASON and c.reduce_only
        if risk.kills and not own_flatten:
            for key in self._scope_keys(risk.chain(c.account_id), tag):
                kill = risk.kills.get(key)
                if kill is not None:
                    return (
                        Reason.KILL_SWITCH_ACTIVE,
                        f"the {_name(key)} kill switch is active ({kill.reason}, by {kill.actor})",
                    )
        if risk.breakers:
            for key, b in risk.breakers_of(c.account_id, tag):
                if b.state is _OPEN and not self._auto_reset(key, b, c.ts):
                    return (
                        Reason.CIRCUIT_BREAKER_OPEN,
                        f"the {_name(key)} circuit breaker is open ({b.cause}: {b.message})",
                    )
                if b.state is _CLOSED and not own_flatten and self._breaker_rate_trip(key, b, c.ts):
                    return (
                        Reason.CIRCUIT_BREAKER_OPEN,
                        f"the {_name(key)} circuit breaker tripped: {b.message}",
                    )
        if risk.states and not own_flatten and c.retry_of is None:
            tightest = None
            for key in self._scope_keys(risk.chain(c.account_id), tag):
                change = risk.states.get(key)
                if change is not None and (tightest is None or change.state is TradingState.HALTED):
                    tightest = (key, change)
            if tightest is not None:
                key, change = tightest
                if change.state is TradingState.HALTED:
                    return (
                        Reason.TRADING_HALTED,
                        f"trading is halted for {_name(key)} ({change.reason}, by {change.actor})",
                    )
                if not self._reduces(
                    c.account_id, inst, c.side, c.position_side or PositionSide.BOTH, c.qty
                ):
                    return (
                        Reason.TRADING_REDUCING,
                        f"{_name(key)} may only reduce exposure: {c.side} {c.qty} {c.symbol} does not",
                    )
        return None

    @staticmethod
    def _scope_keys(chain: tuple[str, ...], tag: str | None) -> list[ScopeKey]:
        keys: list[ScopeKey] = [GLOBAL_KEY, *((Scope.ACCOUNT, a) for a in chain)]
        if tag is not None:
            keys.append((Scope.STRATEGY, tag))
        return keys

    def _reduces(
        self, account_id: str, inst: Instrument, side: Side, pside: PositionSide, qty: Decimal
    ) -> bool:
        """Whether an order only reduces the position, counting the reducing orders already open."""
        pos = self.positions.get((account_id, inst.symbol, pside))
        if pos is None or not pos.qty:
            return False
        if side is Side.SELL:
            return pos.qty > 0 and qty + pos.open_sell <= pos.qty
        return pos.qty < 0 and qty + pos.open_buy <= -pos.qty

    @staticmethod
    def _size_refusal(
        qty: Decimal, worst: Decimal | None, inst: Instrument, lim: Limits
    ) -> Refusal | None:
        """Fat finger: the order's quantity, and its notional at its worst price."""
        if lim.max_order_qty is not None and qty > lim.max_order_qty:
            return (
                Reason.ORDER_QTY_TOO_LARGE,
                f"quantity {qty} is above the order limit {plain(lim.max_order_qty)}",
            )
        if lim.max_order_notional is not None and worst is not None:
            notional = qty * worst * inst.multiplier
            if notional > lim.max_order_notional:
                return (
                    Reason.ORDER_NOTIONAL_TOO_LARGE,
                    f"notional {plain(notional)} is above the order limit {plain(lim.max_order_notional)}",
                )
        return None

    def _rate_refusal(self, account_id: str, ts: int, lim: Limits) -> Refusal | None:
        window = self.risk.rates.get(account_id)
        if window is None:
            return None
        held = window.total - window.base  # everything the window still holds: an upper bound
        for seconds, limit in lim.rates:
            if held >= limit and window.since(ts, seconds) >= limit:
                return (
                    Reason.RATE_LIMIT_EXCEEDED,
                    f"account {account_id} may send {limit} orders and modifies per "
                    f"{_PER[seconds]}",
                )
        return None

    def _band_refusal(
        self, inst: Instrument, px: Decimal, what: str, lim: Limits
    ) -> Refusal | None:
        ref = self.reference_price(inst.symbol, prefer_mark=inst.is_derivative)
        if ref is None:
            return None  # nothing to measure against yet: the first price sets the reference
        if lim.price_band_pct is not None:
            band = ref * lim.price_band_pct / HUNDRED
            if abs(px - ref) > band:
                return (
                    Reason.PRICE_OUTSIDE_BAND,
                    f"{what} {px} is more than {plain(lim.price_band_pct)}% from the reference "
                    f"{ref} (band {plain(ref - band)} to {plain(ref + band)})",
                )
        if lim.luld and inst.kind is InstrumentKind.EQUITY:
            band = luld_band(ref)
            if abs(px - ref) > band:
                return (
                    Reason.PRICE_OUTSIDE_BAND,
                    f"{what} {px} is outside the limit-up/limit-down band "
                    f"{plain(ref - band)} to {plain(ref + band)} around {ref}",
                )
        return None

    def _exposure_refusal(
        self,
        account_id: str,
        inst: Instrument,
        side: Side,
        pside: PositionSide,
        qty: Decimal,
        worst: Decimal | None,
        lim: Limits,
    ) -> Refusal | None:
        """Projected position = position + open orders on the same side + this order."""
        pos = self.positions.get((account_id, inst.symbol, pside))
        held = pos.qty if pos is not None else ZERO
        buy = side is _BUY
        if buy:
            projected = held + (pos.open_buy if pos is not None else ZERO) + qty
        else:
            projected = held - (pos.open_sell if pos is not None else ZERO) - qty
        grows = projected > 0 if buy else projected < 0
        if grows:
            size = abs(projected)
            if lim.max_position_qty is not None and size > lim.max_position_qty:
                return (
                    Reason.POSITION_LIMIT,
                    f"{inst.symbol} position would reach {plain(size)} with open orders "
                    f"(limit {plain(lim.max_position_qty)})",
                )
            if lim.max_position_notional is not None:
                px = worst if worst is not None else self.reference_price(inst.symbol)
                if px is not None:
                    notional = size * px * inst.multiplier
                    if notional > lim.max_position_notional:
                        return (
                            Reason.POSITION_NOTIONAL_LIMIT,
                            f"{inst.symbol} position would be worth {plain(notional)} "
                            f"(limit {plain(lim.max_position_notional)})",
                        )
        if lim.max_firm_net_qty is not None or lim.max_firm_gross_qty is not None:
            net, gross, open_buy, open_sell = self.firm.get(inst.symbol) or (ZERO,) * 4
            if lim.max_firm_net_qty is not None:
                firm_net = net + open_buy + qty if buy else net - open_sell - qty
                if abs(firm_net) > lim.max_firm_net_qty and (firm_net > 0 if buy else firm_net < 0):
                    return (
                        Reason.FIRM_NET_LIMIT,
                        f"all accounts' net {inst.symbol} position would reach {plain(firm_net)} "
                        f"with open orders (limit {plain(lim.max_firm_net_qty)})",
                    )
            if lim.max_firm_gross_qty is not None:
                firm_gross = gross + open_buy + open_sell + qty
                if firm_gross > lim.max_firm_gross_qty:
                    return (
                        Reason.FIRM_GROSS_LIMIT,
                        f"all accounts' gross {inst.symbol} exposure would reach "
                        f"{plain(firm_gross)} (limit {plain(lim.max_firm_gross_qty)})",
                    )
        return None

    # ------------------------------------------------------------------ pre-trade: modify
    def _risk_modify(
        self,
        order: Order,
        inst: Instrument,
        qty: Decimal,
        price: Decimal | None,
        trigger: Decimal | None,
        worst: Decimal | None,
        ts: int,
    ) -> Refusal | None:
        """A modify is a new promise: gates, rates, fat finger, band and the added exposure."""
        risk = self.risk
        added = qty - order.qty
        if risk.gated:
            chain = risk.chain(order.account_id)
            for key in self._scope_keys(chain, order.tag):
                kill = risk.kills.get(key)
                if kill is not None:
                    return (
                        Reason.KILL_SWITCH_ACTIVE,
                        f"the {_name(key)} kill switch is active ({kill.reason})",
                    )
                change = risk.states.get(key)
                if change is not None and (change.state is TradingState.HALTED or added > 0):
                    reason = (
                        Reason.TRADING_HALTED
                        if change.state is TradingState.HALTED
                        else Reason.TRADING_REDUCING
                    )
                    return reason, f"{_name(key)} is {change.state}: the order may not grow"
            for key, b in risk.breakers_of(order.account_id, order.tag):
                if b.state is BreakerState.OPEN and not self._auto_reset(key, b, ts):
                    return (
                        Reason.CIRCUIT_BREAKER_OPEN,
                        f"the {_name(key)} circuit breaker is open ({b.cause})",
                    )
        lim = self.limits_for(order.account_id, order.symbol, order.tag)
        if lim is None:
            return None
        if lim.rates:
            refusal = self._rate_refusal(order.account_id, ts, lim)
            if refusal:
                return refusal
        if lim.max_order_qty is not None or lim.max_order_notional is not None:
            refusal = self._size_refusal(qty, worst, inst, lim)
            if refusal:
                return refusal
        if lim.price_band_pct is not None or (lim.luld and inst.kind is InstrumentKind.EQUITY):
            for what, px, old in (
                ("limit price", price, order.price),
                ("trigger price", trigger, order.trigger_price),
            ):
                if px is not None and px != old:
                    refusal = self._band_refusal(inst, px, what, lim)
                    if refusal:
                        return refusal
        if added > 0:
            return self._exposure_refusal(
                order.account_id, inst, order.side, order.position_side, added, worst, lim
            )
        return None

    # ------------------------------------------------------------------ after each step
    def _risk_after(self, out: list[ev.EventBase], ts: int) -> None:
        """React to what a step did: protective rejections, breaker measures, ratios, flattening.

        Each decision is taken only where its inputs moved in this step: a breaker after a fill
        that realized P&L or a system error (equity drift is measured on the timer), a ratio's
        warning after its numerator grew, its all-clear after a fill.
        """
        risk = self.risk
        orders = self.orders
        filled: dict[str, str | None] = {}
        errors: dict[str, str | None] = {}
        submitted: set[str] = set()
        amended: set[str] = set()
        ratios = risk.count_ratios
        for e in list(out):
            cls = e.__class__
            if cls is _FILLED:
                order = orders[e.order_id]  # type: ignore[attr-defined]
                filled[order.account_id] = order.tag
            elif cls is _REJECTED:
                order = orders[e.order_id]  # type: ignore[attr-defined]
                errors[order.account_id] = order.tag
                if order.order_type in PROTECTIVE_TYPES:
                    self._protective_rejected(order, e.reason, ts)  # type: ignore[attr-defined]
            elif ratios:
                if cls is _SUBMITTED:
                    submitted.add(e.intent.account_id)  # type: ignore[attr-defined]
                elif cls in _AMEND_EVENTS:
                    amended.add(self._account_of(e))
        first = out[0].seq
        if risk.breakers and risk.touched_seq >= first:
            for account_id, tag in {**errors, **filled}.items():
                for key, b in risk.breakers_of(account_id, tag):
                    if b.state is _CLOSED and b.touched_seq >= first:
                        self._evaluate_breaker(key, b, ts)
        if ratios:
            flags = risk.ratio_flags
            cleared = (
                {a for a in filled if (a, _OT) in flags or (a, _CR) in flags} if flags else set()
            )
            for account_id in sorted(submitted | amended | cleared):
                self._check_ratios(
                    account_id,
                    ts,
                    account_id in submitted,
                    account_id in amended,
                    account_id in filled,
                )
        if risk.flatten_todo:
            self._flatten_ready(ts)

    def _account_of(self, e: Any) -> str:
        account_id = getattr(e, "account_id", None)
        if account_id is None:
            intent = getattr(e, "intent", None)
            account_id = intent.account_id if intent is not None else None
        if account_id is None:
            account_id = self.orders[e.order_id].account_id
        return account_id  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ protective orders
    def _protective_rejected(self, order: Order, reason: str, ts: int) -> None:
        """RSK-4: the venue refused a stop while its position has no other stop."""
        pos = self.positions.get((order.account_id, order.symbol, order.position_side))
        if pos is None or not pos.qty or (pos.qty > 0) != (order.side is Side.SELL):
            return  # nothing to protect
        for other in self.orders.values():
            if (
                other.is_live
                and other.account_id == order.account_id
                and other.symbol == order.symbol
                and other.side is order.side
                and other.position_side is order.position_side
                and other.order_type in PROTECTIVE_TYPES
            ):
                return  # still protected by another stop
        risk = self.risk
        root = risk.retry_root.get(order.order_id, order.order_id)
        done = risk.retries.get(root, 0)
        lim = self.limits_for(order.account_id, order.symbol, order.tag)
        limit = (
            lim.protective_retry_limit
            if lim is not None and lim.protective_retry_limit is not None
            else DEFAULT_PROTECTIVE_RETRIES
        )
        retry = done < limit
        self._emit(
            ev.RiskAlert(
                seq=self.seq + 1,
                ts_event=ts,
                level=AlertLevel.CRITICAL,
                code=Reason.PROTECTIVE_ORDER_REJECTED,
                message=(
                    f"the venue rejected protective {order.order_type} #{order.order_id} "
                    f"({reason}); the {order.symbol} position {pos.qty} is unprotected: "
                    + (f"retry {done + 1} of {limit}" if retry else "no retries left")
                ),
                account_id=order.account_id,
                order_id=order.order_id,
                symbol=order.symbol,
            )
        )
        if retry:
            self._submit(
                cmd_.SubmitOrder(
                    ts=ts,
                    account_id=order.account_id,
                    symbol=order.symbol,
                    side=order.side,
                    order_type=order.order_type,
                    qty=order.qty - order.cum_qty,
                    price=None if order.order_type in TRAILING_TYPES else order.price,
                    trigger_price=order.trigger_price,
                    trigger_type=order.trigger_type,
                    trailing_offset=order.trailing_offset,
                    trailing_offset_type=order.trailing_offset_type,
                    limit_offset=order.limit_offset,
                    reduce_only=order.reduce_only,
                    position_side=(
                        None if order.position_side is PositionSide.BOTH else order.position_side
                    ),
                    tag=order.tag,
                    market_reason=(
                        MarketOrderReason.STOP_MARKET_FALLBACK
                        if order.order_type in MARKET_TYPES
                        else None
                    ),
                    retry_of=order.order_id,
                )
            )
            return
        flatten = lim.protective_failure_flatten if lim is not None else True
        self._trip_kill(
            Scope.ACCOUNT,
            order.account_id,
            "risk",
            f"{Reason.PROTECTIVE_RETRIES_EXHAUSTED}: protective order #{root} rejected "
            f"{done + 1} times",
            flatten,
            ts,
        )

    # ------------------------------------------------------------------ kill switch
    def _trip_kill(
        self, scope: Scope, scope_id: str, actor: str, reason: str, flatten: bool, ts: int
    ) -> None:
        """Block the scope, cancel its open orders, and (``flatten``) close its positions."""
        self._emit(
            ev.KillSwitchTripped(
                seq=self.seq + 1,
                ts_event=ts,
                scope=scope,
                scope_id=scope_id,
                actor=actor,
                reason=reason,
                flatten=flatten,
            )
        )
        self._cancel_scope(scope, scope_id, ts, Reason.KILL_SWITCH)
        if self.risk.flatten_todo:
            self._flatten_ready(ts)

    def _cancel_scope(self, scope: Scope, scope_id: str, ts: int, reason: Reason) -> None:
        live = [
            o
            for o in self.orders.values()
            if o.leaves_qty
            and o.is_live
            and self.in_scope(scope, scope_id, o.account_id, o.tag)
            and o.status is not OrderStatus.PENDING_CANCEL
            and not (  # the kill switch's own flattening orders stay
                scope is not None and o.tag == _FLATTEN_TAG
            )
            and o.order_id not in self.liq.orders  # a liquidation runs to its end
        ]
        for order in live:
            self._cancel_for(order, ts, reason)

    def _flatten_ready(self, ts: int) -> None:
        """Flatten each account whose open orders are gone (their reservations are free)."""
        for account_id, kill in sorted(self.risk.flatten_todo.items()):
            if self.open_orders.get(account_id, 0):
                continue
            self._emit(
                ev.AccountFlattening(
                    seq=self.seq + 1,
                    ts_event=ts,
                    account_id=account_id,
                    scope=kill.scope,
                    scope_id=kill.scope_id,
                    actor=kill.actor,
                    reason=kill.reason,
                )
            )
            hedge = self.accounts[account_id].position_mode is PositionMode.HEDGE
            for pos in list(self.account_positions.get(account_id, ())):
                if not pos.qty:
                    continue
                before = self.seq
                self._submit(
                    cmd_.SubmitOrder(
                        ts=ts,
                        account_id=account_id,
                        symbol=pos.symbol,
                        side=Side.SELL if pos.qty > 0 else Side.BUY,
                        order_type=OrderType.MARKET,
                        qty=abs(pos.qty),
                        reduce_only=True,
                        position_side=pos.position_side if hedge else None,
                        market_reason=MarketOrderReason.KILL_SWITCH,
                        tag=_FLATTEN_TAG,
                    )
                )
                denied = next(
                    (e for e in self._out if e.seq > before and isinstance(e, ev.OrderDenied)),
                    None,
                )
                if denied is not None:
                    self._emit(
                        ev.RiskAlert(
                            seq=self.seq + 1,
                            ts_event=ts,
                            level=AlertLevel.CRITICAL,
                            code=Reason.KILL_SWITCH_FLATTEN_FAILED,
                            message=f"could not flatten {pos.symbol} {pos.qty}: {denied.message}",
                            account_id=account_id,
                            order_id=denied.order_id,
                            symbol=pos.symbol,
                        )
                    )

    # ------------------------------------------------------------------ circuit breaker
    def equity(self, scope: Scope, scope_id: str) -> Decimal | None:
        """The equity a breaker measures: an account's (with its sub-accounts) in the breaker's
        currency; a strategy's capital plus its realized P&L net of fees."""
        b = self.risk.breakers.get((scope, scope_id))
        if b is None:
            return None
        return self._equity(scope, scope_id, b)

    def _equity(self, scope: Scope, scope_id: str, b: BreakerStatus) -> Decimal:
        """:meth:`equity` of the breaker ``b`` of that scope."""
        if scope is Scope.STRATEGY:
            return (b.config.capital or ZERO) + b.pnl
        if b.config.capital is not None:
            return b.config.capital + b.pnl
        return self.account_equity(scope_id, b.config.currency)

    def account_equity(self, account_id: str, currency: str) -> Decimal:
        """Cash in ``currency``, other assets at their last price in it, and the unrealized P&L
        of derivatives settled in it, over the account and its sub-accounts. Assets without a
        price in ``currency`` are left out."""
        total = ZERO
        balances = self.account_balances
        positions = self.account_positions
        instruments = self.instruments
        for acct in self.risk.family(account_id):
            for bal in balances.get(acct, ()):
                amount = bal.total
                if not amount:
                    continue
                if bal.asset == currency:
                    total += amount
                else:
                    px = self._asset_price(bal.asset, currency)
                    if px is not None:
                        total += amount * px
            for pos in positions.get(acct, ()):
                if pos.qty:
                    inst = instruments[pos.symbol]
                    if inst.kind in DERIVATIVE_KINDS and inst.settle_asset == currency:
                        total += pos.unrealized_pnl(
                            self.reference_price(pos.symbol, prefer_mark=True)
                        )
        return total

    def _asset_price(self, asset: str, currency: str) -> Decimal | None:
        px = self.last.get(f"{asset}/{currency}")
        if px is None:
            inst = self.instruments.get(asset)
            if inst is not None and inst.quote == currency and not inst.is_derivative:
                px = self.last.get(asset)
        return px

    def _evaluate_breaker(self, key: ScopeKey, b: BreakerStatus, ts: int) -> None:
        cfg = b.config
        if cfg.max_consecutive_losses and b.consecutive_losses >= cfg.max_consecutive_losses:
            self._trip_breaker(
                key,
                b,
                Reason.CONSECUTIVE_LOSSES,
                f"{b.consecutive_losses} losing trades in a row (limit {cfg.max_consecutive_losses})",
                ts,
            )
            return
        if cfg.max_consecutive_errors and b.consecutive_errors >= cfg.max_consecutive_errors:
            self._trip_breaker(
                key,
                b,
                Reason.CONSECUTIVE_ERRORS,
                f"{b.consecutive_errors} venue errors in a row (limit {cfg.max_consecutive_errors})",
                ts,
            )
            return
        if cfg.max_daily_loss_pct is None and cfg.max_drawdown_pct is None:
            return
        equity = self._equity(key[0], key[1], b)
        if equity is None:
            return
        self._mark_equity(key, b, equity, ts)
        start, peak = b.start_equity, b.peak_equity
        # At or above the start (the peak) the loss (the drawdown) is not positive: no division.
        if (
            cfg.max_daily_loss_pct is not None
            and start
            and start > 0
            and (equity < start or cfg.max_daily_loss_pct <= 0)
        ):
            loss_pct = (start - equity) / start * HUNDRED
            if loss_pct >= cfg.max_daily_loss_pct:
                self._trip_breaker(
                    key,
                    b,
                    Reason.DAILY_LOSS_LIMIT,
                    f"down {plain(round(loss_pct, 4))}% today ({plain(start)} -> {plain(equity)}; "
                    f"limit {plain(cfg.max_daily_loss_pct)}%)",
                    ts,
                )
                return
        if (
            cfg.max_drawdown_pct is not None
            and peak
            and peak > 0
            and (equity < peak or cfg.max_drawdown_pct <= 0)
        ):
            dd_pct = (peak - equity) / peak * HUNDRED
            if dd_pct >= cfg.max_drawdown_pct:
                self._trip_breaker(
                    key,
                    b,
                    Reason.MAX_DRAWDOWN,
                    f"{plain(round(dd_pct, 4))}% below the peak {plain(peak)} "
                    f"(limit {plain(cfg.max_drawdown_pct)}%)",
                    ts,
                )

    def _mark_equity(
        self, key: ScopeKey, b: BreakerStatus, equity: Decimal, ts: int, rebase: bool = False
    ) -> None:
        day = ts // DAY_NS
        if rebase or b.day != day or b.peak_equity is None or equity > b.peak_equity:
            new_day = rebase or b.day != day or b.start_equity is None
            self._emit(
                ev.BreakerEquityMarked(
                    seq=self.seq + 1,
                    ts_event=ts,
                    scope=key[0],
                    scope_id=key[1],
                    day=day,
                    start_equity=equity if new_day else b.start_equity,  # type: ignore[arg-type]
                    peak_equity=(
                        equity if rebase or b.peak_equity is None else max(b.peak_equity, equity)
                    ),
                )
            )

    def _breaker_rate_trip(self, key: ScopeKey, b: BreakerStatus, ts: int) -> bool:
        cfg = b.config
        if cfg.max_orders_per_minute is None and cfg.max_orders_per_hour is None:
            return False
        window = self.risk.rates.get(key[1] if key[0] is _ACCOUNT else key)
        if window is None:
            return False
        for seconds, limit in ((60, cfg.max_orders_per_minute), (3600, cfg.max_orders_per_hour)):
            if limit is not None and window.since(ts, seconds) >= limit:
                self._trip_breaker(
                    key,
                    b,
                    Reason.ORDER_RATE,
                    f"more than {limit} orders per {_PER[seconds]}: a runaway order loop?",
                    ts,
                )
                return True
        return False

    def _trip_breaker(
        self, key: ScopeKey, b: BreakerStatus, cause: Reason, message: str, ts: int
    ) -> None:
        cfg = b.config
        auto = (
            None
            if cfg.require_manual_reset or cfg.auto_reset_after_minutes is None
            else ts + max(cfg.auto_reset_after_minutes, cfg.cooldown_minutes) * MINUTE_NS
        )
        self._emit(
            ev.CircuitBreakerTripped(
                seq=self.seq + 1,
                ts_event=ts,
                scope=key[0],
                scope_id=key[1],
                cause=cause,
                message=message,
                cooldown_until=ts + cfg.cooldown_minutes * MINUTE_NS,
                auto_reset_at=auto,
                reason=cause,
            )
        )

    def _auto_reset(self, key: ScopeKey, b: BreakerStatus, ts: int) -> bool:
        """Reset an open breaker whose automatic reset is due; return whether it reset."""
        if b.auto_reset_at is None or ts < b.auto_reset_at:
            return False
        self._reset_breaker(key, b, "risk", "automatic reset after the configured time", ts, True)
        return True

    def _reset_breaker(
        self, key: ScopeKey, b: BreakerStatus, actor: str, reason: str, ts: int, automatic: bool
    ) -> None:
        self._emit(
            ev.CircuitBreakerReset(
                seq=self.seq + 1,
                ts_event=ts,
                scope=key[0],
                scope_id=key[1],
                actor=actor,
                reason=reason,
                automatic=automatic,
            )
        )
        # A reset accepts the losses so far: daily loss and drawdown count from here.
        equity = self.equity(*key)
        if equity is not None:
            self._mark_equity(key, b, equity, ts, rebase=True)

    def _risk_sweep(self, ts: int) -> None:
        """The timer's pass: due automatic resets, then every closed breaker measured again."""
        for key, b in sorted(self.risk.breakers.items()):
            if b.state is BreakerState.OPEN:
                self._auto_reset(key, b, ts)
            else:
                self._evaluate_breaker(key, b, ts)

    def breaker_report(self, scope: Scope, scope_id: str, ts: int) -> dict[str, Any] | None:
        """The status report of one breaker (seed 003 ``get_status``), or None if none is set."""
        key = (scope, scope_id)
        b = self.risk.breakers.get(key)
        if b is None:
            return None
        equity = self.equity(scope, scope_id)
        start, peak = b.start_equity, b.peak_equity
        window = self.risk.rates.get(scope_id if scope is Scope.ACCOUNT else key)
        return {
            "scope": scope.value,
            "scope_id": scope_id,
            "state": b.state.value,
            "cause": b.cause,
            "message": b.message,
            "tripped_at": b.tripped_at,
            "may_reset_at": b.cooldown_until,
            "auto_reset_at": b.auto_reset_at,
            "equity": equity,
            "start_of_day_equity": start,
            "peak_equity": peak,
            "daily_pnl": equity - start if equity is not None and start is not None else None,
            "daily_loss_pct": (
                (start - equity) / start * HUNDRED if equity is not None and start else None
            ),
            "drawdown_pct": (
                (peak - equity) / peak * HUNDRED if equity is not None and peak else None
            ),
            "consecutive_losses": b.consecutive_losses,
            "consecutive_errors": b.consecutive_errors,
            "orders_last_minute": window.since(ts, 60) if window else 0,
            "orders_last_hour": window.since(ts, 3600) if window else 0,
            "trips": b.trips,
            "config": b.config,
        }

    # ------------------------------------------------------------------ ratios (RSK-6)
    def _check_ratios(
        self,
        account_id: str,
        ts: int,
        submitted: bool = True,
        amended: bool = True,
        filled: bool = True,
    ) -> None:
        """A warning when a ratio crosses its level, another when it falls below its clear level.

        ratio = numerator / max(fills, 1) over the ratio's window; only what the decision needs
        is counted (no fills when the numerator is 0, the orders only against a crossing)."""
        lim = self.limits_for(account_id, "", None)
        if lim is None or not lim.ratios:
            return
        risk = self.risk
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
                        self._alert(AlertLevel.WARNING, code, account_id, text, ts)
            elif ratio < clear:
                text = f"back to {plain(ratio)}:1 (below {plain(clear)}:1)"
                self._alert(AlertLevel.WARNING, cleared, account_id, text, ts)

    def _alert(self, level: AlertLevel, code: Reason, account_id: str, text: str, ts: int) -> None:
        self._emit(
            ev.RiskAlert(
                seq=self.seq + 1,
                ts_event=ts,
                level=level,
                code=code,
                message=f"{code}: {text}",
                account_id=account_id,
            )
        )

    # ------------------------------------------------------------------ operator commands
    def _scope_refusal(self, c: Any, allowed: tuple[Scope, ...]) -> Refusal | None:
        if not isinstance(c.actor, str) or not c.actor.strip():
            return Reason.MISSING_ACTOR, "say who acts: actor must not be empty"
        scope = c.scope
        if scope not in allowed:
            return (
                Reason.INVALID_SCOPE,
                f"{type(c).__name__} applies to scopes {', '.join(s.value for s in allowed)}",
            )
        sid = c.scope_id
        if scope is Scope.GLOBAL and sid:
            return Reason.INVALID_SCOPE, "the global scope has no id"
        if scope is Scope.ACCOUNT and sid not in self.accounts:
            return Reason.UNKNOWN_ACCOUNT, f"account {sid} does not exist"
        if scope is Scope.INSTRUMENT and sid not in self.instruments:
            return Reason.UNKNOWN_INSTRUMENT, f"instrument {sid} does not exist"
        if scope is Scope.STRATEGY and not sid:
            return Reason.INVALID_SCOPE, "a strategy scope needs the strategy's tag"
        return None

    def _operator_reject(self, c: Any, refusal: Refusal) -> None:
        account = c.scope_id if getattr(c, "scope", None) is Scope.ACCOUNT else None
        self._emit(
            ev.CommandRejected(
                seq=self.seq + 1,
                ts_event=c.ts,
                command=type(c).__name__,
                reason=refusal[0],
                message=refusal[1],
                account_id=account,
                actor=c.actor if isinstance(c.actor, str) and c.actor else None,
            )
        )

    def _set_risk_limits(self, c: cmd_.SetRiskLimits) -> None:
        refusal = self._scope_refusal(c, tuple(Scope)) or _limits_refusal(c.scope, c.limits)
        key = (c.scope, c.scope_id)
        b = self.risk.breakers.get(key)
        if (
            refusal is None
            and b is not None
            and b.state is BreakerState.OPEN
            and c.limits.breaker is None
        ):
            refusal = (
                Reason.INVALID_LIMITS,
                f"the {_name(key)} circuit breaker is open: reset it before removing it",
            )
        if refusal:
            self._operator_reject(c, refusal)
            return
        self._emit(
            ev.RiskLimitsSet(
                seq=self.seq + 1,
                ts_event=c.ts,
                scope=c.scope,
                scope_id=c.scope_id,
                limits=c.limits,
                actor=c.actor,
                reason=c.reason,
            )
        )
        b = self.risk.breakers.get((c.scope, c.scope_id))
        if b is not None and b.day is None:
            equity = self.equity(c.scope, c.scope_id)
            if equity is not None:
                self._mark_equity((c.scope, c.scope_id), b, equity, c.ts)

    def _set_trading_state(self, c: cmd_.SetTradingState) -> None:
        refusal = self._scope_refusal(c, _TRADING_SCOPES)
        if refusal is None and not isinstance(c.state, TradingState):
            refusal = Reason.INVALID_FIELD, f"unknown trading state {c.state!r}"
        if refusal:
            self._operator_reject(c, refusal)
            return
        self._emit(
            ev.TradingStateChanged(
                seq=self.seq + 1,
                ts_event=c.ts,
                scope=c.scope,
                scope_id=c.scope_id,
                state=c.state,
                actor=c.actor,
                reason=c.reason,
            )
        )

    def _trip_kill_switch(self, c: cmd_.TripKillSwitch) -> None:
        refusal = self._scope_refusal(c, _TRADING_SCOPES)
        if refusal is None and c.flatten and c.scope is Scope.STRATEGY:
            refusal = (
                Reason.INVALID_SCOPE,
                "positions belong to accounts, not strategies: flatten an account or globally",
            )
        if refusal:
            self._operator_reject(c, refusal)
            return
        self._trip_kill(c.scope, c.scope_id, c.actor, c.reason, c.flatten, c.ts)

    def _reset_kill_switch(self, c: cmd_.ResetKillSwitch) -> None:
        refusal = self._scope_refusal(c, _TRADING_SCOPES)
        if refusal is None and (c.scope, c.scope_id) not in self.risk.kills:
            refusal = (
                Reason.KILL_SWITCH_NOT_ACTIVE,
                f"no kill switch is active for {_name((c.scope, c.scope_id))}",
            )
        if refusal is None and not c.reason.strip():
            refusal = Reason.INVALID_FIELD, "resetting a kill switch needs a reason"
        if refusal:
            self._operator_reject(c, refusal)
            return
        self._emit(
            ev.KillSwitchReset(
                seq=self.seq + 1,
                ts_event=c.ts,
                scope=c.scope,
                scope_id=c.scope_id,
                actor=c.actor,
                reason=c.reason,
            )
        )

    def _reset_circuit_breaker(self, c: cmd_.ResetCircuitBreaker) -> None:
        refusal = self._scope_refusal(c, (Scope.ACCOUNT, Scope.STRATEGY))
        key = (c.scope, c.scope_id)
        b = self.risk.breakers.get(key)
        if refusal is None and b is None:
            refusal = Reason.INVALID_SCOPE, f"no circuit breaker is configured for {_name(key)}"
        if refusal is None and b is not None:
            if b.state is not BreakerState.OPEN:
                refusal = Reason.BREAKER_NOT_OPEN, f"the {_name(key)} circuit breaker is not open"
            elif b.cooldown_until is not None and c.ts < b.cooldown_until:
                refusal = (
                    Reason.BREAKER_COOLING_DOWN,
                    f"the {_name(key)} circuit breaker cools down until "
                    f"{iso_utc(b.cooldown_until)} "
                    f"({math.ceil((b.cooldown_until - c.ts) / MINUTE_NS)} min left)",
                )
        if refusal:
            self._operator_reject(c, refusal)
            return
        assert b is not None
        self._reset_breaker(key, b, c.actor, c.reason, c.ts, automatic=False)

    def _set_market_status(self, c: cmd_.SetMarketStatus) -> None:
        refusal: Refusal | None = None
        if not isinstance(c.actor, str) or not c.actor.strip():
            refusal = Reason.MISSING_ACTOR, "say who acts: actor must not be empty"
        elif c.symbol not in self.instruments:
            refusal = Reason.UNKNOWN_INSTRUMENT, f"instrument {c.symbol} does not exist"
        if refusal:
            self._operator_reject(c, refusal)
            return
        self._emit(
            ev.MarketStatusChanged(
                seq=self.seq + 1,
                ts_event=c.ts,
                symbol=c.symbol,
                status=c.status,
                actor=c.actor,
                reason=c.reason,
            )
        )

    # Provided by the engine.
    _submit: Any
    _emit: Any
    outbox: list[Any]
    _out: list[ev.EventBase]


def luld_band(ref: Decimal) -> Decimal:
    """Limit-up/limit-down price band half-width (Tier 1 percentages, outside the open and close):
    5% above $3.00, 20% from $0.75 to $3.00, below that the lesser of $0.15 and 75%."""
    if ref > 3:
        return ref * Decimal("0.05")
    if ref >= Decimal("0.75"):
        return ref * Decimal("0.20")
    return min(Decimal("0.15"), ref * Decimal("0.75"))


def _limits_refusal(scope: Scope, limits: Any) -> Refusal | None:
    if not isinstance(limits, RiskLimits):
        return Reason.INVALID_LIMITS, "limits must be a RiskLimits"
    for name in _MIN_FIELDS:
        value = getattr(limits, name)
        if value is None:
            continue
        if isinstance(value, Decimal):
            if not value.is_finite() or value <= 0:
                return Reason.INVALID_LIMITS, f"{name} must be positive, got {value}"
        elif not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return Reason.INVALID_LIMITS, f"{name} must be a positive integer, got {value!r}"
    if limits.price_band_pct is not None and limits.price_band_pct >= 100:
        return Reason.INVALID_LIMITS, "price_band_pct must be below 100"
    if limits.duplicate_window_ms is not None and limits.duplicate_window_ms <= 0:
        return Reason.INVALID_LIMITS, "duplicate_window_ms must be positive"
    for name in ("order_trade_window_s", "cancel_replace_window_s"):
        if not 0 < getattr(limits, name) <= 3600:
            return Reason.INVALID_LIMITS, f"{name} must be between 1 and 3600 seconds"
    for warn, clear in (
        (limits.order_trade_ratio_warn, limits.order_trade_ratio_clear),
        (limits.cancel_replace_ratio_warn, limits.cancel_replace_ratio_clear),
    ):
        if warn is not None and not 0 <= clear <= warn:
            return Reason.INVALID_LIMITS, "a ratio's clear level must be at or below its warning"
    breaker = limits.breaker
    if breaker is not None:
        refusal = _breaker_refusal(scope, breaker)
        if refusal:
            return refusal
    return None


def _breaker_refusal(scope: Scope, cfg: BreakerConfig) -> Refusal | None:
    if scope not in (Scope.ACCOUNT, Scope.STRATEGY):
        return Reason.INVALID_SCOPE, "circuit breakers are per account or per strategy"
    if scope is Scope.STRATEGY and cfg.capital is None:
        return (
            Reason.INVALID_LIMITS,
            "a strategy breaker needs its capital: a strategy has no balance to measure",
        )
    for name in ("max_daily_loss_pct", "max_drawdown_pct"):
        value = getattr(cfg, name)
        if value is not None and not (value.is_finite() and 0 < value <= 100):
            return Reason.INVALID_LIMITS, f"breaker {name} must be within (0, 100], got {value}"
    for name in (
        "max_consecutive_losses",
        "max_orders_per_minute",
        "max_orders_per_hour",
        "max_consecutive_errors",
        "auto_reset_after_minutes",
    ):
        value = getattr(cfg, name)
        if value is not None and value <= 0:
            return Reason.INVALID_LIMITS, f"breaker {name} must be positive, got {value}"
    if cfg.cooldown_minutes < 0:
        return Reason.INVALID_LIMITS, "breaker cooldown_minutes must not be negative"
    if cfg.capital is not None and not (cfg.capital.is_finite() and cfg.capital > 0):
        return Reason.INVALID_LIMITS, f"breaker capital must be positive, got {cfg.capital}"
    return None


def _name(key: ScopeKey) -> str:
    scope, sid = key
    return "global" if scope is Scope.GLOBAL else f"{scope.value} {sid}"


_PER = {1: "second", 60: "minute", 3600: "hour"}
_FLATTEN_TAG = "kill-switch"
#: Events that count as a cancel or replace for the cancel/replace ratio.
_AMEND_EVENTS = frozenset(
    {ev.OrderPendingCancel, ev.OrderCanceled, ev.OrderPendingReplace, ev.OrderReplaced}
)
_FILLED = ev.OrderFilled
_REJECTED = ev.OrderRejected
_SUBMITTED = ev.OrderSubmitted
_CLOSED = BreakerState.CLOSED
_OT = Reason.ORDER_TRADE_RATIO
_CR = Reason.CANCEL_REPLACE_RATIO
# Enum members read on every check (a class attribute of an enum is a slow lookup).
_OPEN = BreakerState.OPEN
_BUY = Side.BUY
_BOTH = PositionSide.BOTH
_ACCOUNT = Scope.ACCOUNT
_KILL_REASON = MarketOrderReason.KILL_SWITCH
_ = (TRIGGERED_TYPES,)
