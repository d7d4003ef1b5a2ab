"""Pure translation between FIX 4.4 fields and Atlas's commands, events and views.

A FIX message here is a plain ``dict[int, str]`` (tag -> value) on the way in and a list of
``(tag, value)`` pairs on the way out: nothing in this module touches QuickFIX, the node or a
clock, so the FIX order-state matrices are unit-tested on their own (tests/fix/test_translate.py).

:class:`OrderTrack` is the gateway's picture of one order as the client knows it (ClOrdID chain,
CumQty, AvgPx, OrdStatus): :meth:`OrderTrack.apply` folds one durable event into it and returns the
ExecutionReport fields the event means (ExecType per FIX 4.4 Volume 4, "Order State Change
Matrices"); :func:`status_report` is the answer to an OrderStatusRequest (ExecType I).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from atlas_oms.core.views import OrderView
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus, OrderType, Side, TimeInForce

Fields = list[tuple[int, str]]

# ---------------------------------------------------------------------- tags used
ACCOUNT, AVG_PX, CL_ORD_ID, CUM_QTY, EXEC_ID, EXEC_INST = 1, 6, 11, 14, 17, 18
LAST_PX, LAST_QTY, MSG_TYPE, ORDER_ID, ORDER_QTY, ORD_STATUS = 31, 32, 35, 37, 38, 39
ORD_TYPE, ORIG_CL_ORD_ID, PRICE, SIDE, SYMBOL, TEXT, TIF = 40, 41, 44, 54, 55, 58, 59
TRANSACT_TIME, STOP_PX, ORD_REJ_REASON, EXPIRE_TIME = 60, 99, 103, 126
CXL_REJ_REASON, CXL_REJ_RESPONSE_TO, EXEC_TYPE, LEAVES_QTY = 102, 434, 150, 151
MASS_CANCEL_REQUEST_TYPE, MASS_CANCEL_RESPONSE, MASS_CANCEL_REJECT_REASON = 530, 531, 532
TOTAL_AFFECTED_ORDERS = 533
MAX_FLOOR = 111

ORD_TYPES = {
    "1": OrderType.MARKET,
    "2": OrderType.LIMIT,
    "3": OrderType.STOP_MARKET,
    "4": OrderType.STOP_LIMIT,
}
FIX_ORD_TYPE = {
    OrderType.MARKET: "1",
    OrderType.LIMIT: "2",
    OrderType.STOP_MARKET: "3",
    OrderType.STOP_LIMIT: "4",
    OrderType.TAKE_PROFIT_MARKET: "3",
    OrderType.TAKE_PROFIT_LIMIT: "4",
    OrderType.TRAILING_STOP_MARKET: "3",
    OrderType.TRAILING_STOP_LIMIT: "4",
}
SIDES = {"1": Side.BUY, "2": Side.SELL}
FIX_SIDE = {Side.BUY: "1", Side.SELL: "2"}
TIFS = {
    "0": TimeInForce.DAY,
    "1": TimeInForce.GTC,
    "3": TimeInForce.IOC,
    "4": TimeInForce.FOK,
    "6": TimeInForce.GTD,
}
FIX_TIF = {v: k for k, v in TIFS.items()}
#: OrdStatus(39) of each Atlas status.
FIX_STATUS = {
    OrderStatus.INITIALIZED: "A",
    OrderStatus.SUBMITTED: "A",
    OrderStatus.ACCEPTED: "0",
    OrderStatus.TRIGGERED: "0",
    OrderStatus.PARTIALLY_FILLED: "1",
    OrderStatus.FILLED: "2",
    OrderStatus.CANCELED: "4",
    OrderStatus.PENDING_CANCEL: "6",
    OrderStatus.DENIED: "8",
    OrderStatus.REJECTED: "8",
    OrderStatus.PENDING_REPLACE: "E",
    OrderStatus.EXPIRED: "C",
}
#: OrdRejReason(103) of a refused order (the Text carries the reason code itself).
ORD_REJ_REASON_OF = {
    "UNKNOWN_INSTRUMENT": "1",
    "INSTRUMENT_NOT_TRADABLE": "2",
    "MARKET_CLOSED": "2",
    "DUPLICATE_CLIENT_ORDER_ID": "6",
    "UNKNOWN_ACCOUNT": "15",
    "INSUFFICIENT_BALANCE": "3",
    "MAX_ORDER_QTY": "3",
    "MAX_NOTIONAL": "3",
    "MAX_POSITION": "3",
}
#: CxlRejReason(102) of a refused cancel or replace.
CXL_REJ_REASON_OF = {
    "ORDER_NOT_LIVE": "0",
    "UNKNOWN_ORDER": "1",
    "ORDER_PENDING": "3",
    "DUPLICATE_CLIENT_ORDER_ID": "6",
}
#: Statuses after which an order changes no more (LeavesQty 0; the gateway may forget it).
TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.DENIED,
    }
)


class FixInvalid(Exception):
    """A field the gateway cannot take: answered with a reject carrying ``reason`` and ``text``."""

    def __init__(self, reason: str, text: str, tag: int | None = None) -> None:
        super().__init__(f"{reason}: {text}")
        self.reason = reason
        self.text = text
        self.tag = tag


def decimal_of(fields: dict[int, str], tag: int, name: str) -> Decimal | None:
    raw = fields.get(tag)
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FixInvalid("INVALID_FIELD", f"{name}({tag}) is not a number: {raw!r}", tag) from None
    if not value.is_finite():
        raise FixInvalid("INVALID_FIELD", f"{name}({tag}) is not a finite number", tag)
    return value


def fix_time(raw: str) -> int:
    """A UTCTimestamp (``YYYYMMDD-HH:MM:SS[.sss]``) as epoch nanoseconds."""
    for fmt in ("%Y%m%d-%H:%M:%S.%f", "%Y%m%d-%H:%M:%S"):
        try:
            return int(datetime.strptime(raw, fmt).replace(tzinfo=UTC).timestamp() * 1e9)
        except ValueError:
            continue
    raise FixInvalid("INVALID_EXPIRE_TIME", f"ExpireTime(126) is not a UTCTimestamp: {raw!r}", 126)


def utc_timestamp(ns: int) -> str:
    """Epoch nanoseconds as a FIX UTCTimestamp with milliseconds."""
    moment = datetime.fromtimestamp(ns / 1e9, tz=UTC)
    return moment.strftime("%Y%m%d-%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def submit_fields(fields: dict[int, str], account_id: str) -> dict[str, Any]:
    """A NewOrderSingle(D) as :class:`~atlas_oms.model.commands.SubmitOrder` fields (without
    ``ts``); raise :class:`FixInvalid` for what Atlas cannot take."""
    ord_type = ORD_TYPES.get(fields.get(ORD_TYPE, ""))
    if ord_type is None:
        raise FixInvalid(
            "UNSUPPORTED_ORD_TYPE",
            f"OrdType(40)={fields.get(ORD_TYPE)!r}: supported 1 market, 2 limit, 3 stop, "
            "4 stop limit",
            ORD_TYPE,
        )
    side = SIDES.get(fields.get(SIDE, ""))
    if side is None:
        raise FixInvalid(
            "UNSUPPORTED_SIDE", f"Side(54)={fields.get(SIDE)!r}: 1 buy or 2 sell", SIDE
        )
    tif = TIFS.get(fields.get(TIF, "0" if ord_type is OrderType.MARKET else "1"))
    if tif is None:
        raise FixInvalid(
            "INVALID_TIME_IN_FORCE",
            f"TimeInForce(59)={fields.get(TIF)!r}: supported 0 DAY, 1 GTC, 3 IOC, 4 FOK, 6 GTD",
            TIF,
        )
    qty = decimal_of(fields, ORDER_QTY, "OrderQty")
    if qty is None:
        raise FixInvalid("INVALID_QUANTITY", "OrderQty(38) is required", ORDER_QTY)
    inst = fields.get(EXEC_INST, "").split()
    unknown = [i for i in inst if i not in ("6", "E")]
    if unknown:
        raise FixInvalid(
            "UNSUPPORTED_EXEC_INST",
            f"ExecInst(18) {' '.join(unknown)}: supported 6 (participate, don't initiate: "
            "post only) and E (do not increase: reduce only)",
            EXEC_INST,
        )
    out: dict[str, Any] = {
        "account_id": account_id,
        "symbol": fields.get(SYMBOL, ""),
        "side": side,
        "order_type": ord_type,
        "qty": qty,
        "price": decimal_of(fields, PRICE, "Price"),
        "trigger_price": decimal_of(fields, STOP_PX, "StopPx"),
        "tif": tif,
        "client_order_id": fields.get(CL_ORD_ID),
        "post_only": "6" in inst,
        "reduce_only": "E" in inst,
    }
    if MAX_FLOOR in fields:
        out["display_qty"] = decimal_of(fields, MAX_FLOOR, "MaxFloor")
    if EXPIRE_TIME in fields:
        out["expire_ts"] = fix_time(fields[EXPIRE_TIME])
    return out


def same_order(track: OrderTrack, fields: dict[int, str]) -> None:
    """A cancel/replace may change quantity, price and stop price only: another Symbol, Side,
    OrdType or TimeInForce is refused (FIX lets a broker refuse what it cannot amend)."""
    checks = (
        (SYMBOL, "Symbol", track.symbol),
        (SIDE, "Side", FIX_SIDE[track.side]),
        (ORD_TYPE, "OrdType", FIX_ORD_TYPE[track.order_type]),
        (TIF, "TimeInForce", FIX_TIF.get(track.tif)),
    )
    for tag, name, now in checks:
        given = fields.get(tag)
        if given is not None and now is not None and given != now:
            raise FixInvalid(
                "UNSUPPORTED_CHANGE",
                f"{name}({tag}) cannot be changed by a replace ({now!r} -> {given!r}): "
                "cancel and send a new order",
                tag,
            )


def dec(value: Decimal | None) -> str:
    """An exact decimal string, never an exponent (0 for None)."""
    if value is None:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@dataclass
class OrderTrack:
    """One order as its FIX client knows it. ``cl_ord_id`` is the current (last accepted)
    ClOrdID; ``pending`` the ClOrdID of a cancel or replace request in flight and its kind
    ("F" or "G"); ``acked``: a New (or a first report) was sent."""

    order_id: int
    account_id: str
    symbol: str
    side: Side
    order_type: OrderType
    tif: TimeInForce
    qty: Decimal
    price: Decimal | None
    stop_px: Decimal | None
    cl_ord_id: str
    status: OrderStatus = OrderStatus.SUBMITTED
    cum_qty: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    pending: tuple[str, str] | None = None
    acked: bool = False
    #: Events up to this seq are already in the picture (seeded from a view at start).
    seen_seq: int = 0
    history: list[str] = field(default_factory=list)
    #: PENDING_CANCEL / PENDING_REPLACE while the venue has not answered the request: FIX's
    #: order state precedence shows it over (Partially) Filled in the fills that race it.
    in_pending: OrderStatus | None = None

    @classmethod
    def of_view(cls, view: OrderView, cl_ord_id: str, seen_seq: int = 0) -> OrderTrack:
        avg = view.avg_px or Decimal(0)
        return cls(
            order_id=view.order_id,
            account_id=view.account_id,
            symbol=view.symbol,
            side=view.side,
            order_type=view.order_type,
            tif=view.tif,
            qty=view.qty,
            price=view.price,
            stop_px=view.trigger_price,
            cl_ord_id=cl_ord_id,
            status=view.status,
            cum_qty=view.cum_qty,
            notional=avg * view.cum_qty,
            acked=True,
            seen_seq=seen_seq,
        )

    @property
    def leaves(self) -> Decimal:
        if self.status in TERMINAL:
            return Decimal(0)
        return max(Decimal(0), self.qty - self.cum_qty)

    @property
    def ord_status(self) -> str:
        """OrdStatus(39) now: a pending cancel or replace outranks (partially) filled."""
        return FIX_STATUS[self.in_pending if self.in_pending is not None else self.status]

    @property
    def avg_px(self) -> Decimal:
        return self.notional / self.cum_qty if self.cum_qty else Decimal(0)

    def report(
        self,
        exec_id: str,
        exec_type: str,
        ts: int,
        *,
        text: str | None = None,
        ord_status: str | None = None,
        **extra: str,
    ) -> Fields:
        """An ExecutionReport(8) of this order as it now is (``ord_status``: OrdStatus(39) when
        it is not the status's own, e.g. pending over filled)."""
        out: Fields = [
            (ORDER_ID, str(self.order_id)),
            (CL_ORD_ID, extra.pop("cl_ord_id", self.cl_ord_id)),
        ]
        orig = extra.pop("orig_cl_ord_id", None)
        if orig is not None:
            out.append((ORIG_CL_ORD_ID, orig))
        out += [
            (EXEC_ID, exec_id),
            (EXEC_TYPE, exec_type),
            (ORD_STATUS, ord_status or self.ord_status),
            (ACCOUNT, self.account_id),
            (SYMBOL, self.symbol),
            (SIDE, FIX_SIDE[self.side]),
            (ORD_TYPE, FIX_ORD_TYPE[self.order_type]),
            (TIF, FIX_TIF[self.tif]),
            (ORDER_QTY, dec(self.qty)),
        ]
        if self.price is not None:
            out.append((PRICE, dec(self.price)))
        if self.stop_px is not None:
            out.append((STOP_PX, dec(self.stop_px)))
        out += [
            (CUM_QTY, dec(self.cum_qty)),
            (LEAVES_QTY, dec(self.leaves)),
            (AVG_PX, dec(self.avg_px.quantize(Decimal("1e-12")) if self.cum_qty else None)),
            (TRANSACT_TIME, utc_timestamp(ts)),
        ]
        out += [(int(k.removeprefix("t")), v) for k, v in extra.items()]
        if text:
            out.append((TEXT, text))
        self.history.append(exec_type)
        return out

    def apply(self, event: ev.EventBase) -> list[tuple[str, Fields]]:
        """Fold one durable event of this order; return the messages it means for the client
        (``(MsgType, fields)``: ExecutionReports, or an OrderCancelReject for a venue's refusal
        of a cancel or replace in flight)."""
        seeded = event.seq <= self.seen_seq  # already in the picture: report, do not re-add
        eid = f"{self.order_id}-{event.seq}"
        ts = event.ts_event
        out: list[tuple[str, Fields]] = []

        def new_first() -> None:
            if not self.acked:
                self.acked = True
                before = self.status
                self.status = OrderStatus.ACCEPTED
                out.append(("8", self.report(f"{eid}-0", "0", ts)))
                self.status = before

        if isinstance(
            event,
            ev.OrderCanceled
            | ev.OrderReplaced
            | ev.OrderExpired
            | ev.OrderCancelRejected
            | ev.OrderModifyRejected,
        ):
            self.in_pending = None  # the request is answered (or the order is done)
        match event:
            case ev.OrderAccepted():
                if not self.acked:
                    self.status = OrderStatus.ACCEPTED
                    new_first()
            case ev.OrderDenied() | ev.OrderRejected():
                self.status = OrderStatus.REJECTED
                self.acked = True
                reason = event.reason
                out.append(
                    (
                        "8",
                        self.report(
                            eid,
                            "8",
                            ts,
                            text=f"{reason}: {event.message}",
                            t103=ORD_REJ_REASON_OF.get(reason, "99"),
                        ),
                    )
                )
            case ev.OrderTriggered():
                if event.price is not None:
                    self.price = event.price
                self.status = OrderStatus.TRIGGERED
                new_first()
                # FIX 4.4 has no ExecType L (Triggered, FIX 5.0): a Restated (D) report,
                # ExecRestatementReason 3 (repricing), tells that the stop now works.
                out.append(("8", self.report(eid, "D", ts, text="TRIGGERED", t378="3")))
            case ev.OrderFilled():
                new_first()
                if not seeded:
                    self.cum_qty += event.last_qty
                    self.notional += event.last_qty * event.last_px
                if event.order_status is not None:
                    self.status = event.order_status
                elif self.cum_qty >= self.qty:
                    self.status = OrderStatus.FILLED
                else:
                    self.status = OrderStatus.PARTIALLY_FILLED
                shown = FIX_STATUS[self.in_pending] if self.in_pending is not None else None
                fills = {"t32": dec(event.last_qty), "t31": dec(event.last_px)}
                out.append(("8", self.report(eid, "F", ts, ord_status=shown, **fills)))
            case ev.OrderPendingCancel():
                new_first()
                self.status = self.in_pending = OrderStatus.PENDING_CANCEL
                out.append(("8", self.report(eid, "6", ts, **self._pending_ids("F"))))
            case ev.OrderPendingReplace():
                new_first()
                self.status = self.in_pending = OrderStatus.PENDING_REPLACE
                out.append(("8", self.report(eid, "E", ts, **self._pending_ids("G"))))
            case ev.OrderCanceled():
                new_first()
                self.status = OrderStatus.CANCELED
                ids = self._pending_ids("F")
                why = None if ids else f"{event.reason}"
                if self.pending is not None and self.pending[1] == "F":
                    self.cl_ord_id = self.pending[0]
                self.pending = None
                out.append(("8", self.report(eid, "4", ts, text=why, **ids)))
            case ev.OrderReplaced():
                new_first()
                self.qty = event.qty
                self.price = event.price
                self.stop_px = event.trigger_price
                ids = self._pending_ids("G")
                if event.order_status is not None:
                    self.status = event.order_status
                else:
                    self.status = (
                        OrderStatus.PARTIALLY_FILLED if self.cum_qty else OrderStatus.ACCEPTED
                    )
                if self.pending is not None and self.pending[1] == "G":
                    self.cl_ord_id = self.pending[0]
                self.pending = None
                out.append(("8", self.report(eid, "5", ts, **ids)))
            case ev.OrderExpired():
                new_first()
                self.status = OrderStatus.EXPIRED
                out.append(("8", self.report(eid, "C", ts)))
            case ev.OrderCancelRejected() | ev.OrderModifyRejected():
                # A venue's refusal of a cancel or replace in flight (the engine's own refusals
                # are answered by the request's handler, which clears ``pending`` first).
                if event.order_status is not None:
                    self.status = event.order_status
                if self.pending is not None:
                    kind = self.pending[1]
                    cl = self.pending[0]
                    self.pending = None
                    out.append(
                        ("9", cancel_reject(self, cl, kind, event.reason, event.message, ts=ts))
                    )
            case ev.OrderFillBusted():
                if event.order_status is not None:
                    self.status = event.order_status
                out.append(("8", self.report(eid, "H", ts, t19=event.exec_id)))
            case ev.OrderFillCorrected():
                if event.order_status is not None:
                    self.status = event.order_status
                out.append(("8", self.report(eid, "G", ts, t19=event.exec_id)))
            case _:
                pass
        return out

    def _pending_ids(self, kind: str) -> dict[str, str]:
        """ClOrdID/OrigClOrdID of a report answering a cancel (F) or replace (G) in flight: the
        request's new ClOrdID, and the one it replaces. Empty: no such request (unsolicited)."""
        if self.pending is None or self.pending[1] != kind:
            return {}
        return {"cl_ord_id": self.pending[0], "orig_cl_ord_id": self.cl_ord_id}


def cancel_reject(
    track: OrderTrack | None,
    cl_ord_id: str,
    kind: str,
    reason: str,
    message: str,
    orig_cl_ord_id: str | None = None,
    order_id: str | None = None,
    ts: int | None = None,
) -> Fields:
    """An OrderCancelReject(9): ``kind`` is the refused request's MsgType (F cancel, G replace).
    OrigClOrdID is the last accepted ClOrdID of the order (FIX 4.4 D, "OrigClOrdID set to last
    accepted ClOrdID"), or the request's own for an unknown order."""
    status = "8" if track is None else track.ord_status
    orig = orig_cl_ord_id if track is None else track.cl_ord_id
    stamp = [(TRANSACT_TIME, utc_timestamp(ts))] if ts is not None else []
    return [
        (ORDER_ID, order_id or (str(track.order_id) if track is not None else "NONE")),
        (CL_ORD_ID, cl_ord_id),
        (ORIG_CL_ORD_ID, orig or "NONE"),
        (ORD_STATUS, status),
        *stamp,
        (CXL_REJ_RESPONSE_TO, "1" if kind == "F" else "2"),
        (CXL_REJ_REASON, CXL_REJ_REASON_OF.get(reason, "99")),
        (TEXT, f"{reason}: {message}"),
    ]


def rejected_order(fields: dict[int, str], exec_id: str, reason: str, text: str, ts: int) -> Fields:
    """An ExecutionReport(8) ExecType 8 for a NewOrderSingle refused before it became an order
    (malformed, unauthorized, rate limited): no OrderID ("NONE"), nothing filled."""
    out: Fields = [
        (ORDER_ID, "NONE"),
        (CL_ORD_ID, fields.get(CL_ORD_ID, "NONE")),
        (EXEC_ID, exec_id),
        (EXEC_TYPE, "8"),
        (ORD_STATUS, "8"),
        (SYMBOL, fields.get(SYMBOL, "NONE")),
        (SIDE, fields.get(SIDE, "1")),
        (CUM_QTY, "0"),
        (LEAVES_QTY, "0"),
        (AVG_PX, "0"),
        (ORD_REJ_REASON, ORD_REJ_REASON_OF.get(reason, "99")),
        (TRANSACT_TIME, utc_timestamp(ts)),
        (TEXT, f"{reason}: {text}"),
    ]
    if ACCOUNT in fields:
        out.append((ACCOUNT, fields[ACCOUNT]))
    return out


def status_report(track: OrderTrack, exec_id: str, ts: int, status_req_id: str | None) -> Fields:
    """The answer to an OrderStatusRequest(H): ExecType I with the order as it is."""
    extra = {"t790": status_req_id} if status_req_id else {}
    out = track.report(exec_id, "I", ts, **extra)
    track.history.pop()  # a status answer is not part of the order's history
    return out


__all__ = [
    "FixInvalid",
    "OrderTrack",
    "cancel_reject",
    "dec",
    "rejected_order",
    "status_report",
    "submit_fields",
    "utc_timestamp",
]
