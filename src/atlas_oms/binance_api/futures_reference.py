"""Binance USDⓈ-M reference and market data built from the Atlas node: ``exchangeInfo`` (with
the price, lot-size and notional filters), ``premiumIndex``, the funding history, the next
funding time and the account's ``income``. Pure translation like :mod:`futures_wire` (whose
number, symbol and time helpers it uses)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.binance_api.futures_wire import (
    fapi_symbol,
    fixed,
    margin_asset,
    ms,
    perpetuals,
    places,
    plain,
    s8,
)
from atlas_oms.model import events as ev

if TYPE_CHECKING:
    from atlas_oms.model.instrument import Instrument
    from atlas_oms.runtime.queries import Queries


def _filters(inst: Instrument) -> list[dict[str, Any]]:
    lot = {
        "filterType": "LOT_SIZE",
        "minQty": plain(max(inst.min_qty, inst.lot_size)),
        "maxQty": plain(inst.max_qty) if inst.max_qty is not None else "100000000",
        "stepSize": plain(inst.lot_size),
    }
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": plain(inst.tick_size),
            "maxPrice": "100000000",
            "tickSize": plain(inst.tick_size),
        },
        lot,
        dict(lot, filterType="MARKET_LOT_SIZE"),
        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
        {"filterType": "MIN_NOTIONAL", "notional": plain(inst.min_notional)},
    ]


def exchange_info(node: Queries, now_ms: int, rate_limits: list[dict[str, Any]]) -> dict[str, Any]:
    """``GET /fapi/v1/exchangeInfo`` from the node's perpetuals."""
    symbols = []
    assets = set()
    for sym, inst in perpetuals(node).items():
        tiers = node.margin_tiers(inst.symbol)
        first = tiers[0]
        assets.add(margin_asset(inst))
        symbols.append(
            {
                "symbol": sym,
                "pair": sym,
                "contractType": "PERPETUAL",
                "deliveryDate": 4133404800000,
                "onboardDate": 1569398400000,
                "status": "TRADING" if inst.tradable else "BREAK",
                "maintMarginPercent": plain(first.maint_margin_rate * 100),
                "requiredMarginPercent": plain(100 / first.max_leverage),
                "baseAsset": inst.base,
                "quoteAsset": inst.quote,
                "marginAsset": margin_asset(inst),
                "pricePrecision": places(inst.tick_size),
                "quantityPrecision": places(inst.lot_size),
                "baseAssetPrecision": 8,
                "quotePrecision": 8,
                "underlyingType": "COIN",
                "underlyingSubType": [],
                "settlePlan": 0,
                "triggerProtect": "0.0500",
                "liquidationFee": "0",
                "marketTakeBound": "0.05",
                "maxMoveOrderLimit": 10000,
                "filters": _filters(inst),
                "orderTypes": [
                    "LIMIT",
                    "MARKET",
                    "STOP",
                    "STOP_MARKET",
                    "TAKE_PROFIT",
                    "TAKE_PROFIT_MARKET",
                ],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
                "permissionSets": [],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": rate_limits,
        "exchangeFilters": [],
        "assets": [
            {"asset": a, "marginAvailable": True, "autoAssetExchange": "-10000"}
            for a in sorted(assets)
        ],
        "symbols": symbols,
    }


def premium_index(node: Queries, inst: Instrument, now_ms: int) -> dict[str, Any]:
    """``GET /fapi/v1/premiumIndex``: the node's mark price, its funding rate and when the next
    settlement is due. Atlas has no separate index price: the index shows the mark."""
    mark = node.mark_price(inst.symbol) or node.reference_price(inst.symbol)
    funding = node.funding(inst.symbol)
    return {
        "symbol": fapi_symbol(inst),
        "markPrice": s8(mark),
        "indexPrice": s8(mark),
        "estimatedSettlePrice": s8(mark),
        "lastFundingRate": fixed(funding.rate, 8),
        "interestRate": "0.00000000",
        "nextFundingTime": next_funding_ms(funding.next_funding_ts, funding.interval_min, now_ms),
        "time": now_ms,
    }


def next_funding_ms(next_ns: int | None, interval_min: int, now_ms: int) -> int:
    """The next settlement (ms): the node's, or before any settlement (or when it is past) the
    next interval boundary after now, where Atlas settles funding (00:00, 08:00, 16:00 UTC)."""
    due = ms(next_ns)
    step = interval_min * 60_000
    if due > now_ms or not step:
        return due
    return (now_ms // step + 1) * step


def funding_history(node: Queries, inst: Instrument, limit: int = 100) -> list[dict[str, Any]]:
    """``GET /fapi/v1/fundingRate``: one row per settlement of the perpetual (oldest first)."""
    rows: dict[int, dict[str, Any]] = {}
    for e in node.events():
        if isinstance(e, ev.FundingSettled) and e.symbol == inst.symbol:
            rows.setdefault(
                e.funding_ts,
                {
                    "symbol": fapi_symbol(inst),
                    "fundingRate": fixed(e.rate, 8),
                    "fundingTime": ms(e.funding_ts),
                    "markPrice": s8(e.mark),
                },
            )
    return list(rows.values())[-limit:]


def income(node: Queries, account_id: str) -> list[dict[str, Any]]:
    """``GET /fapi/v1/income`` rows of the account, oldest first: FUNDING_FEE (each funding
    settlement of its positions), COMMISSION (each perpetual execution's fee) and TRANSFER
    (deposits and withdrawals). Realized P&L is not itemized per execution (Atlas books it on
    the position)."""
    perps = {inst.symbol: inst for inst in perpetuals(node).values()}
    rows: list[dict[str, Any]] = []

    def row(kind: str, amount: Decimal, asset: str, e: ev.EventBase, symbol: str = "") -> None:
        inst = perps.get(symbol)
        rows.append(
            {
                "symbol": fapi_symbol(inst) if inst is not None else "",
                "incomeType": kind,
                "income": s8(amount),
                "asset": asset,
                "info": kind,
                "time": ms(e.ts_event),
                "tranId": e.seq,
                "tradeId": str(e.seq) if kind == "COMMISSION" else "",
            }
        )

    for e in node.events():
        if isinstance(e, ev.FundingSettled) and e.account_id == account_id:
            row("FUNDING_FEE", e.amount, e.asset, e, e.symbol)
        elif isinstance(e, ev.OrderFilled) and e.account_id == account_id and e.symbol in perps:
            if e.fee:
                row("COMMISSION", -e.fee, e.fee_asset, e, e.symbol)
        elif isinstance(e, ev.BalanceAdjusted) and e.account_id == account_id:
            row("TRANSFER", e.amount, e.asset, e)
    return rows
