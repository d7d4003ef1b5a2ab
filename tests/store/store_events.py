"""Helpers for the store tests: realistic engine steps with consecutive seqs.

A plain module with a unique name (imported as ``store_events``), not a conftest: test modules
import its functions directly, hypothesis tests included.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import LiquiditySide, OrderType, Side
from atlas_oms.model.events import (
    BalanceAdjusted,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderSubmitted,
    PricesUpdated,
)


def _event(kind: int, seq: int) -> Event:
    """Return one realistic event; ``kind`` picks its class, ``seq`` numbers it."""
    ts = 1_700_000_000_000_000_000 + seq * 1_000
    order_id = seq // 3 + 1
    match kind % 6:
        case 0:
            intent = SubmitOrder(
                ts=ts,
                account_id="acc-1",
                symbol="BTC/USDT",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                qty=Decimal("0.015"),
                price=Decimal("64123.45"),
                client_order_id=f"c-{seq}",
            )
            return OrderSubmitted(
                seq=seq,
                ts_event=ts,
                order_id=order_id,
                intent=intent,
                reserved_asset="USDT",
                reserve_unit=Decimal("64123.45"),
                protection_price=None,
                trigger_price=None,
                expire_ts=None,
            )
        case 1:
            return OrderAccepted(seq=seq, ts_event=ts, order_id=order_id, venue_order_id=f"v{seq}")
        case 2 | 3:
            return OrderFilled(
                seq=seq,
                ts_event=ts,
                order_id=order_id,
                account_id="acc-1",
                symbol="BTC/USDT",
                side=Side.SELL,
                exec_id=f"e-{seq}",
                trade_id=f"t-{seq}",
                last_qty=Decimal("0.005"),
                last_px=Decimal("64123.45") + Decimal(seq % 7) / 100,
                liquidity_side=LiquiditySide.MAKER,
                fee=Decimal("0.0320617"),
                fee_asset="USDT",
            )
        case 4:
            return OrderCanceled(seq=seq, ts_event=ts, order_id=order_id, reason="USER")
        case _:
            return BalanceAdjusted(
                seq=seq,
                ts_event=ts,
                account_id="acc-1",
                asset="USDT",
                amount=Decimal("1E-18") * seq,
                reason="deposit",
            )


def build_steps(sizes: Sequence[int], start_seq: int = 1) -> list[list[Event]]:
    """Return one step per size, each that many events, seqs consecutive from ``start_seq``."""
    steps: list[list[Event]] = []
    seq = start_seq
    for size in sizes:
        steps.append([_event(seq + i, seq + i) for i in range(size)])
        seq += size
    return steps


def price_update(seq: int) -> Event:
    """Return a one-event step's event: a price update."""
    return PricesUpdated(seq=seq, ts_event=seq, symbol="BTC/USDT", last=Decimal("64000.5"))


def flat(steps: Sequence[Sequence[Event]]) -> list[Event]:
    """Concatenate steps."""
    return [event for step in steps for event in step]
