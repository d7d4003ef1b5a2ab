"""The derivatives venue as tables and JSON: margin tiers, positions with their margin figures,
cross-margin accounts, and liquidation cases rebuilt from their events (start, steps with their
fills and fund transfers, ADL rounds, end) for ``atlas futures`` and the demo.

Tables round for reading (prices to the instrument's tick, money to 2 decimals); the JSON forms
keep every number exact, as a string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.cli.tables import fmt, grouped, money, pct, price, render
from atlas_oms.core.views import PositionView
from atlas_oms.model import events as ev
from atlas_oms.model.margin import MarginTier

__all__ = [
    "LiquidationCase",
    "Step",
    "case_json",
    "case_text",
    "cross_margin_table",
    "liquidation_cases",
    "position_json",
    "positions_table",
    "tiers_json",
    "tiers_table",
]


# ---------------------------------------------------------------------------------------- tiers
def tiers_table(tiers: Sequence[MarginTier]) -> str:
    """A tier table: notional band, maximum leverage, maintenance rate and amount (Binance's cum)."""
    rows = [
        [
            f"tier {t.bracket}",
            grouped(t.floor),
            grouped(t.cap),
            fmt(t.max_leverage) + "x",
            pct(t.maint_margin_rate),
            grouped(t.maint_amount),
        ]
        for t in tiers
    ]
    headers = ["bracket", "notional from", "up to", "max lev.", "maint. rate", "maint. amount"]
    return render(headers, rows, align="lrrrrr")


def tiers_json(tiers: Sequence[MarginTier]) -> list[dict[str, Any]]:
    """The tiers with exact decimal strings."""
    return [msgspec.to_builtins(t) for t in tiers]


# ------------------------------------------------------------------------------------ positions
POSITION_HEADERS = [
    "account",
    "symbol",
    "qty",
    "entry",
    "mark",
    "unreal. P&L",
    "mode",
    "lev.",
    "margin",
    "margin ratio",
    "liq. price",
    "bankr. price",
]


def positions_table(views: Iterable[PositionView], ticks: Mapping[str, Decimal]) -> str:
    """Derivative positions with their margin figures; prices rounded to each symbol's tick.

    ``margin`` is the margin the position holds; ``margin ratio`` is maintenance margin over margin
    balance: the position's for ISOLATED, the account's for CROSS (liquidation at 100%).
    """
    views = list(views)
    hedge = any(v.position_side != "BOTH" for v in views)
    headers = list(POSITION_HEADERS)
    if hedge:
        headers.insert(2, "side")
    rows = []
    for v in views:
        tick = ticks.get(v.symbol)
        row = [
            v.account_id,
            v.symbol,
            v.qty,
            price(v.avg_entry_px, tick),
            price(v.mark_px, tick),
            money(v.unrealized_pnl),
            v.margin_mode or "-",
            fmt(v.leverage) + "x" if v.leverage is not None else "-",
            money(v.margin),
            pct(v.margin_ratio),
            price(v.liquidation_price, tick),
            price(v.bankruptcy_price, tick),
        ]
        if hedge:
            row.insert(2, str(v.position_side))
        rows.append(row)
    return render(headers, rows)


def position_json(view: PositionView) -> dict[str, Any]:
    """A position view with exact decimal strings (its lots left out)."""
    data: dict[str, Any] = msgspec.to_builtins(view)
    data.pop("lots", None)
    return data


def cross_margin_table(rows: Sequence[dict[str, Any]]) -> str:
    """Cross-margin figures per account and settlement asset (``Node.account_margin``)."""
    return render(
        ["account", "asset", "wallet", "margin balance", "maint. margin", "margin ratio"],
        [
            [
                r["account_id"],
                r["asset"],
                money(r["wallet_balance"]),
                money(r["margin_balance"]),
                money(r["maint_margin"]),
                pct(r["margin_ratio"]),
            ]
            for r in rows
        ],
    )


# --------------------------------------------------------------------------------- liquidations
ZERO = Decimal(0)


_LIQ_EVENTS = (
    ev.LiquidationStarted,
    ev.LiquidationStep,
    ev.LiquidationFundTransfer,
    ev.PositionAutoDeleveraged,
    ev.LiquidationFinished,
)


class Step(msgspec.Struct, kw_only=True):
    """One step of a case: a BOOK or FUND order with its fills and fund transfers, an ADL round
    with its counterparties, or CLOSED (the position was already flat)."""

    event: ev.LiquidationStep
    fills: list[ev.OrderFilled] = msgspec.field(default_factory=list)
    #: trade id -> the accounts on the other side of each fill.
    makers: dict[str, str] = msgspec.field(default_factory=dict)
    transfers: list[ev.LiquidationFundTransfer] = msgspec.field(default_factory=list)
    adl: list[ev.PositionAutoDeleveraged] = msgspec.field(default_factory=list)

    @property
    def filled(self) -> Decimal:
        if self.adl:
            return sum((a.qty for a in self.adl), ZERO)
        return sum((f.last_qty for f in self.fills), ZERO)

    @property
    def avg_px(self) -> Decimal | None:
        if self.adl:
            return self.adl[0].price
        qty = self.filled
        if not qty:
            return None
        return sum((f.last_qty * f.last_px for f in self.fills), ZERO) / qty

    @property
    def to_fund(self) -> Decimal:
        return sum((t.amount for t in self.transfers), ZERO)


class LiquidationCase(msgspec.Struct, kw_only=True):
    """A liquidation as its events tell it: start, steps, end (None while in progress)."""

    started: ev.LiquidationStarted
    steps: list[Step] = msgspec.field(default_factory=list)
    finished: ev.LiquidationFinished | None = None

    @property
    def case_id(self) -> int:
        return self.started.case_id

    @property
    def to_fund(self) -> Decimal:
        return sum((s.to_fund for s in self.steps), ZERO)

    def accounts(self) -> set[str]:
        """The liquidated account and every ADL counterparty."""
        out = {self.started.account_id}
        for step in self.steps:
            out.update(a.account_id for a in step.adl)
        return out


def liquidation_cases(
    events: Iterable[ev.EventBase], fills: Iterable[ev.OrderFilled] = ()
) -> list[LiquidationCase]:
    """Group liquidation events into cases, in order. ``fills`` (every fill the engine knows, e.g.
    ``node.fills()``) supplies the liquidation orders' fills and their makers; fills among
    ``events`` are used as well."""
    cases: dict[int, LiquidationCase] = {}
    by_order: dict[int, Step] = {}
    current: dict[int, Step] = {}
    seen: list[ev.OrderFilled] = []
    for e in events:
        if isinstance(e, ev.OrderFilled):
            seen.append(e)
        if not isinstance(e, _LIQ_EVENTS):
            continue
        if isinstance(e, ev.LiquidationStarted):
            cases[e.case_id] = LiquidationCase(started=e)
            continue
        case = cases.get(e.case_id)
        if case is None:  # the case started before the events given: not shown
            continue
        if isinstance(e, ev.LiquidationStep):
            step = Step(event=e)
            case.steps.append(step)
            current[e.case_id] = step
            if e.order_id is not None:
                by_order[e.order_id] = step
        elif isinstance(e, ev.LiquidationFundTransfer):
            target = by_order.get(e.order_id)
            if target is not None:
                target.transfers.append(e)
        elif isinstance(e, ev.PositionAutoDeleveraged):
            # ADL comes in pairs; the counterparty's side names the account closed against.
            if e.case_id in current and not e.liquidated:
                current[e.case_id].adl.append(e)
        else:
            case.finished = e
    if by_order:
        all_fills: dict[str, ev.OrderFilled] = {f.exec_id: f for f in fills}
        for f in seen:
            all_fills.setdefault(f.exec_id, f)
        ordered = sorted(all_fills.values(), key=lambda f: f.seq)
        trades = {f.trade_id for f in ordered if f.order_id in by_order}
        others: dict[str, list[str]] = {}
        for f in ordered:
            if f.trade_id in trades and f.order_id not in by_order:
                others.setdefault(f.trade_id, []).append(f.account_id)
        for f in ordered:
            owner = by_order.get(f.order_id)
            if owner is not None:
                owner.fills.append(f)
                owner.makers[f.trade_id] = ", ".join(others.get(f.trade_id, ["?"]))
    return list(cases.values())


def _case_title(case: LiquidationCase, tick: Decimal | None) -> str:
    s = case.started
    what = s.symbol if s.mode == "ISOLATED" else f"all {s.asset} positions"
    state = (
        "in progress"
        if case.finished is None
        else "finished"
        + (f", {fmt(case.finished.shortfall)} left open" if case.finished.shortfall else "")
    )
    return (
        f"liquidation #{s.case_id}: {s.account_id} {s.mode} ({what}) at mark "
        f"{price(s.mark, tick)}: margin balance {money(s.margin_balance)} <= maintenance "
        f"{money(s.maint_margin)} {s.asset}; {state}"
    )


def case_text(case: LiquidationCase, ticks: Mapping[str, Decimal]) -> str:
    """One case: a title line, then one row per order fill, ADL counterparty or closed position.

    ``vs bankr.`` is the fill price less the bankruptcy price (per unit, + in the liquidated
    account's favour); ``to fund`` is what went to (+) or came from (-) the insurance fund.
    """
    s = case.started
    rows: list[list[Any]] = []
    for step in case.steps:
        e = step.event
        tick = ticks.get(e.symbol)
        bankr = price(e.bankruptcy_price, tick)
        if e.stage in ("BOOK", "FUND"):
            limit = f"#{e.order_id} IOC {price(e.price, tick)}"
            # A long is closed by selling: a fill above the bankruptcy price is a surplus.
            long = not step.fills or step.fills[0].side == "SELL"
            if not step.fills:
                rows.append([e.stage, e.symbol, limit, bankr, "0", "-", "-", "-", "no fill"])
            for i, f in enumerate(step.fills):
                diff = (f.last_px - e.bankruptcy_price) * (1 if long else -1)
                last = i == len(step.fills) - 1
                rows.append(
                    [
                        e.stage if not i else "",
                        e.symbol if not i else "",
                        limit if not i else "",
                        bankr if not i else "",
                        f.last_qty,
                        price(f.last_px, tick),
                        price(diff, tick) if diff <= 0 else "+" + price(diff, tick),
                        money(step.to_fund, sign=True) if last else "",
                        "book: " + step.makers.get(f.trade_id, "?"),
                    ]
                )
        elif e.stage == "ADL":
            if not step.adl:
                rows.append([e.stage, e.symbol, "-", bankr, "0", "-", "-", "-", "no counterparty"])
            for i, a in enumerate(step.adl):
                rows.append(
                    [
                        e.stage if not i else "",
                        e.symbol if not i else "",
                        "-",
                        bankr if not i else "",
                        a.qty,
                        price(a.price, tick),
                        "0",
                        "-",
                        f"ADL rank {a.rank}: {a.account_id}"
                        + (f" {a.position_side}" if a.position_side != "BOTH" else ""),
                    ]
                )
        else:
            rows.append([e.stage, e.symbol, "-", "-", "-", "-", "-", "-", "already flat"])
    headers = [
        "stage",
        "symbol",
        "order",
        "bankr. price",
        "qty",
        "price",
        "vs bankr.",
        "to fund",
        "counterparty",
    ]
    table = render(headers, rows, align="lllrrrrrl")
    total = case.to_fund
    tail = f"  insurance fund {money(total, sign=True)} {s.asset} from this case"
    return "\n".join([_case_title(case, ticks.get(s.symbol)), table, tail])


def case_json(case: LiquidationCase) -> dict[str, Any]:
    """A case with exact decimal strings: the start event's fields, its steps and its end."""
    steps = []
    for step in case.steps:
        e = step.event
        steps.append(
            {
                "stage": e.stage,
                "symbol": e.symbol,
                "position_side": e.position_side,
                "bankruptcy_price": e.bankruptcy_price,
                "order_id": e.order_id,
                "price": e.price,
                "fills": [
                    {
                        "seq": f.seq,
                        "qty": f.last_qty,
                        "price": f.last_px,
                        "vs_bankruptcy": f.last_px - e.bankruptcy_price,
                        "counterparty": step.makers.get(f.trade_id),
                    }
                    for f in step.fills
                ],
                "to_fund": step.to_fund,
                "adl": [
                    {
                        "seq": a.seq,
                        "counterparty_id": a.account_id,
                        "counterparty_side": a.position_side,
                        "qty": a.qty,
                        "price": a.price,
                        "rank": a.rank,
                    }
                    for a in step.adl
                ],
            }
        )
    started = {
        k: v for k, v in msgspec.to_builtins(case.started).items() if k not in ("type", "positions")
    }
    started["positions"] = [list(p) for p in case.started.positions]
    return msgspec.to_builtins(
        {
            **started,
            "steps": steps,
            "to_fund": case.to_fund,
            "finished": None
            if case.finished is None
            else {"seq": case.finished.seq, "shortfall": case.finished.shortfall},
        }
    )
