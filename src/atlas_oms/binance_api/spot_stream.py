"""The spot user data stream (``executionReport``, ``outboundAccountPosition``,
``balanceUpdate``) from durable node events, for both of its transports: the WebSocket API's
``userDataStream.subscribe.signature`` (spot_ws.py) and the listenKey socket
(``/ws/<listenKey>``, spot_listen.py).

Exactness (durable_push.py): payloads are built when the node processes the batch (balances and
cumulative quantities are exactly those the batch made) and pushed only once the journal holds
it. Built only for accounts with a connected sender.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.binance_api.durable_push import ORDER_EVENTS, UserStream
from atlas_oms.binance_api.server import now_ms, num
from atlas_oms.binance_api.spot_wire import execution_report, ms
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus

if TYPE_CHECKING:
    from atlas_oms.binance_api.symbols import Symbols
    from atlas_oms.model.instrument import Instrument
    from atlas_oms.runtime.queries import Queries

ZERO = Decimal(0)


class SpotUserStream(UserStream):
    """Connected spot user streams by account (a sender per WS-API subscription or listenKey
    socket); ``build`` makes the payloads of one processed batch."""

    what = "spot user-stream events"

    def __init__(self, node: Queries, symbols: Symbols) -> None:
        super().__init__(node)
        self.symbols = symbols
        self._exec_ids = 0

    def build(
        self, events: list[ev.EventBase], accounts: set[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        node = self.node
        out: list[tuple[str, dict[str, Any]]] = []
        touched: dict[str, set[str]] = {}
        for e in events:
            if isinstance(e, ev.BalanceAdjusted | ev.FundsTransferred):
                legs = [
                    (e.account_id, -e.amount if isinstance(e, ev.FundsTransferred) else e.amount)
                ]
                if isinstance(e, ev.FundsTransferred):
                    legs.append((e.to_account_id, e.amount))
                for account, delta in legs:
                    if account not in accounts:
                        continue
                    out.append(
                        (
                            account,
                            {
                                "e": "balanceUpdate",
                                "E": ms(e.ts_event),
                                "a": e.asset,
                                "d": num(delta),
                                "T": ms(e.ts_event),
                            },
                        )
                    )
                    touched.setdefault(account, set()).add(e.asset)
                continue
            report = self._report(e, accounts)
            if report is None:
                continue
            account, payload, inst = report
            out.append((account, payload))
            touched.setdefault(account, set()).update((inst.base, inst.quote))
            if isinstance(e, ev.OrderFilled):
                touched[account].add(e.fee_asset)
        now = now_ms()
        for account, assets in touched.items():
            rows = [node.balance(account, a) for a in sorted(assets) if a]
            out.append(
                (
                    account,
                    {
                        "e": "outboundAccountPosition",
                        "E": now,
                        "u": now,
                        "B": [{"a": b.asset, "f": num(b.free), "l": num(b.locked)} for b in rows],
                    },
                )
            )
        return out

    def _report(
        self, e: ev.EventBase, accounts: set[str]
    ) -> tuple[str, dict[str, Any], Instrument] | None:
        """The executionReport of one order event (None: not a spot order's of ``accounts``)."""
        if not isinstance(e, ORDER_EVENTS):
            return None
        node = self.node
        view = node.get_order(e.order_id)
        if view is None or view.account_id not in accounts:
            return None
        symbol_id = self.symbols.id_of(view.symbol)
        inst = self.symbols.get(symbol_id)
        if symbol_id is None or inst is None:
            return None
        self._exec_ids += 1
        fill = e if isinstance(e, ev.OrderFilled) else None
        fills = [f for f in node.order_fills(e.order_id) if f.seq <= e.seq]
        cum = sum((f.last_qty for f in fills), ZERO)
        quote = sum((f.last_qty * f.last_px for f in fills), ZERO)
        if isinstance(e, ev.OrderAccepted):
            x, status = "NEW", "NEW"
        elif isinstance(e, ev.OrderFilled):
            x = "TRADE"
            status = (
                "FILLED"
                if e.order_status is OrderStatus.FILLED or cum >= view.qty
                else "PARTIALLY_FILLED"
            )
        elif isinstance(e, ev.OrderCanceled):
            expired = str(view.tif) in ("IOC", "FOK") or str(view.order_type) == "MARKET"
            x = status = "EXPIRED" if expired else "CANCELED"
        elif isinstance(e, ev.OrderExpired):
            x = status = "EXPIRED"
        elif isinstance(e, ev.OrderRejected):
            x = status = "REJECTED"
        else:
            x, status = "REPLACED", "PARTIALLY_FILLED" if cum else "NEW"
        payload = execution_report(view, symbol_id, x, e.ts_event, self._exec_ids, fill, status)
        payload["z"] = num(cum)
        payload["Z"] = num(quote)
        payload["w"] = status in ("NEW", "PARTIALLY_FILLED")
        return view.account_id, payload, inst


__all__ = ["SpotUserStream"]
