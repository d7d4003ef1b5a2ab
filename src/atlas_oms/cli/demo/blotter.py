"""The demo's report after trading: the blotter, one row per trade, positions and balances."""

from __future__ import annotations

from typing import Any

from atlas_oms.cli.demo.story import Story
from atlas_oms.cli.tables import fmt, render
from atlas_oms.model.enums import OrderType

__all__ = ["blotter"]

_BLOTTER = ["id", "account", "symbol", "side", "type", "qty", "price", "status", "filled"]
_POSITIONS = ["account", "symbol", "qty", "avg entry", "mark", "realized", "unreal.", "fees"]


def _orders(story: Story) -> None:
    story.section("Blotter")
    rows = []
    for o in story.node.orders():
        price = fmt(o.price)
        if o.order_type not in (OrderType.LIMIT, OrderType.MARKET) and o.trigger_price:
            stop = f"stop {fmt(o.trigger_price)}"
            price = f"{price} {stop}" if o.price is not None else stop
        kind = o.order_type + ("/" + o.tif if o.tif != "GTC" else "")
        rows.append(
            [
                *(o.order_id, o.account_id, o.symbol, o.side, kind, o.qty, price, o.status),
                *(o.cum_qty, fmt(o.avg_px, 2), o.reason or ""),
            ]
        )
    print(render([*_BLOTTER, "avg px", "reason"], rows))


def _trades(story: Story) -> None:
    story.section("Fills (one row per trade: buyer and seller order, M = maker)")
    trades: dict[str, dict[str, Any]] = {}
    for f in story.node.fills():
        t = trades.setdefault(f.trade_id, {"symbol": f.symbol, "qty": f.last_qty})
        t["px"] = f.last_px
        maker = " M" if f.liquidity_side == "MAKER" else ""
        t[f.side] = f"#{f.order_id} {f.account_id}{maker}"
        t[f.side + "fee"] = f"{fmt(f.fee)} {f.fee_asset}"
    headers = ["trade", "symbol", "qty", "price", "buyer", "buyer fee", "seller", "seller fee"]
    rows = [
        [k, t["symbol"], t["qty"], t["px"], t["BUY"], t["BUYfee"], t["SELL"], t["SELLfee"]]
        for k, t in trades.items()
    ]
    print(render(headers, rows))


def _positions(story: Story) -> None:
    story.section("Positions (FIFO lots; unrealized at mark or last)")
    rows = []
    for p in story.node.positions():
        lots = ", ".join(f"{fmt(lot.qty)}@{fmt(lot.price)}" for lot in p.lots[:3])
        if len(p.lots) > 3:
            lots += f", +{len(p.lots) - 3}"
        rows.append(
            [
                *(p.account_id, p.symbol, p.qty, fmt(p.avg_entry_px, 2), fmt(p.mark_px)),
                *(fmt(p.realized_pnl, 2), fmt(p.unrealized_pnl, 2), fmt(p.fees, 4), lots),
            ]
        )
    print(render([*_POSITIONS, "lots"], rows))


def _balances(story: Story) -> None:
    story.section("Balances")
    rows = [
        [b.account_id, b.asset, fmt(b.total, 8), fmt(b.locked, 8), fmt(b.free, 8)]
        for b in story.node.balances()
    ]
    print(render(["account", "asset", "total", "locked", "free"], rows))


def blotter(story: Story) -> None:
    """Print the blotter, the trades, the positions and the balances."""
    _orders(story)
    _trades(story)
    _positions(story)
    _balances(story)
