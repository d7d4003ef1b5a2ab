"""The fake OKX v5 venue's state (pure, no I/O): instruments, one unified account per API key
(spot balances and SWAP positions in one account, as OKX's unified account), orders, fills and a
tiny matching rule (a book of the venue's own quotes; a market or crossing order takes it).

Quantities are OKX's: spot ``sz`` in base currency, SWAP ``sz`` in contracts (``ctVal`` BTC each).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

D = Decimal
ZERO = D(0)
ONE = D(1)


class OkxError(Exception):
    """A refusal in OKX's words: ``code`` (the envelope's, or the item's ``sCode``), ``msg``,
    the HTTP status, and whether it is per item (``sCode`` inside ``data``) or the envelope's."""

    def __init__(self, code: str, msg: str, status: int = 200, *, item: bool = False) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.item = item


@dataclass(frozen=True)
class Inst:
    inst_id: str
    inst_type: str  # SPOT | SWAP
    base: str
    quote: str
    tick: Decimal
    lot: Decimal
    min_sz: Decimal
    ct_val: Decimal = ONE

    @property
    def settle(self) -> str:
        return self.quote if self.inst_type == "SWAP" else ""


INSTRUMENTS = {
    "BTC-USDT": Inst("BTC-USDT", "SPOT", "BTC", "USDT", D("0.1"), D("0.00000001"), D("0.00001")),
    "BTC-USDT-SWAP": Inst(
        "BTC-USDT-SWAP", "SWAP", "BTC", "USDT", D("0.1"), D("0.01"), D("0.01"), D("0.01")
    ),
}


@dataclass
class Order:
    ord_id: str
    cl_ord_id: str
    account: str
    inst: Inst
    side: str
    ord_type: str
    px: Decimal | None
    sz: Decimal
    pos_side: str = "net"
    reduce_only: bool = False
    acc_fill_sz: Decimal = ZERO
    avg_px: Decimal | None = None
    state: str = "live"
    c_time: int = 0
    u_time: int = 0
    fee: Decimal = ZERO  # OKX sign: negative is charged
    fee_ccy: str = ""
    cancel_source: str = ""
    last: Fill | None = None

    @property
    def leaves(self) -> Decimal:
        return self.sz - self.acc_fill_sz

    @property
    def is_open(self) -> bool:
        return self.state in ("live", "partially_filled")


@dataclass
class Fill:
    trade_id: str
    bill_id: str
    order: Order
    px: Decimal
    sz: Decimal
    fee: Decimal
    fee_ccy: str
    exec_type: str  # M | T
    ts: int


@dataclass
class Position:
    pos: Decimal  # signed contracts (net) or positive (long/short legs)
    avg_px: Decimal
    c_time: int


@dataclass
class Account:
    name: str
    api_key: str
    secret: str
    passphrase: str
    cash: dict[str, Decimal] = field(default_factory=dict)
    hedge: bool = False
    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    maker: Decimal = field(default_factory=lambda: D("0.0008"))
    taker: Decimal = field(default_factory=lambda: D("0.001"))
    swap_maker: Decimal = field(default_factory=lambda: D("0.0002"))
    swap_taker: Decimal = field(default_factory=lambda: D("0.0005"))
    #: SWAP instruments margined isolated (``mgnMode`` isolated); the others are cross.
    isolated: set[str] = field(default_factory=set)


#: The fake's leverage and maintenance margin rate (BTC-USDT-SWAP tier 1) of every position.
FAKE_LEVER = D(10)
FAKE_MMR = D("0.004")


def position_figures(
    acct: Account,
    inst: Inst,
    side: str,
    pos: Position,
    mark: Decimal,
    others: list[tuple[Inst, str, Position, Decimal]],
) -> dict[str, str]:
    """OKX's figures of one SWAP position, by OKX's published margin-ratio rule (help centre
    6997123251341: margin ratio = (margin balance) / (maintenance margin + fees to close)), the
    fake's own implementation with one tier: ``mmr = |q|·mark·MMR`` (an amount, as OKX's
    ``mmr`` field), the fee to close ``|q|·P·taker``; isolated margin = value at entry / lever.
    ``liqPx`` is the price ``P`` where ``margin + q·(P − E) = |q|·P·(MMR + taker)``; cross: the
    margin is the USDT cash plus the other positions' P&L less their maintenance and fees."""
    q = pos.pos * inst.ct_val
    if side == "short":
        q = -abs(q)
    elif side == "long":
        q = abs(q)
    size = abs(q)
    value_entry = size * pos.avg_px
    upl = q * (mark - pos.avg_px)
    mmr = size * mark * FAKE_MMR
    fee = size * mark * acct.swap_taker
    isolated = inst.inst_id in acct.isolated
    if isolated:
        margin = value_entry / FAKE_LEVER
    else:
        margin = acct.cash.get(inst.settle, ZERO)
        for o_inst, o_side, o_pos, o_mark in others:
            oq = o_pos.pos * o_inst.ct_val * (-1 if o_side == "short" else 1)
            margin += oq * (o_mark - o_pos.avg_px)
            margin -= abs(oq) * o_mark * (FAKE_MMR + acct.swap_taker)
    den = size * (FAKE_MMR + acct.swap_taker) - q
    liq = (margin - q * pos.avg_px) / den if den else ZERO
    ratio = (margin + upl) / (mmr + fee) if mmr + fee else ZERO
    out = {
        "markPx": fmt(mark),
        "upl": fmt(upl),
        "liqPx": fmt(liq.quantize(D("0.1"))) if liq > 0 else "",
        "mmr": fmt(mmr),
        "mgnRatio": fmt(ratio.quantize(D("0.0001"))),
        "imr": "" if isolated else fmt(size * mark / FAKE_LEVER),
        "margin": fmt(margin) if isolated else "",
        "lever": fmt(FAKE_LEVER),
        "mgnMode": "isolated" if isolated else "cross",
    }
    return out


def fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


@dataclass
class Quote:
    side: str
    px: Decimal
    sz: Decimal


class FakeOkxVenue:
    """Orders, fills, balances and positions of the fake's accounts."""

    def __init__(self, accounts: list[Account]) -> None:
        self.accounts = {a.name: a for a in accounts}
        self.by_key = {a.api_key: a for a in accounts}
        self.orders: dict[str, Order] = {}
        self.quotes: dict[str, list[Quote]] = {i: [] for i in INSTRUMENTS}
        self.last: dict[str, Decimal] = {i: D("60000") for i in INSTRUMENTS}
        self.clock_offset_ms = 0
        self._ids = itertools.count(700_000_000_000_001)
        self._trades = itertools.count(9_000_001)
        self._bills = itertools.count(5_000_001)
        #: Called with each changed order (the private stream pushes it).
        self.listeners: list[object] = []
        self.on_change: list[object] = []
        #: Called with an instrument id when the house quotes of it change (its order book).
        self.on_book: list[Callable[[str], None]] = []

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def inst(self, inst_id: str) -> Inst:
        found = INSTRUMENTS.get(inst_id)
        if found is None:
            raise OkxError("51001", "Instrument ID doesn't exist.", item=True)
        return found

    # ------------------------------------------------------------------ orders
    def find(self, account: str, inst_id: str, ord_id: str, cl_ord_id: str) -> Order | None:
        for o in self.orders.values():
            if o.account != account or (inst_id and o.inst.inst_id != inst_id):
                continue
            if (ord_id and o.ord_id == ord_id) or (
                not ord_id and cl_ord_id and o.cl_ord_id == cl_ord_id
            ):
                return o
        return None

    def place(self, acct: Account, p: dict[str, str]) -> Order:
        inst = self.inst(str(p.get("instId", "")))
        cl = str(p.get("clOrdId") or "")
        if cl:
            if len(cl) > 32 or not cl.isalnum():
                raise OkxError("51000", "Parameter clOrdId error", item=True)
            if any(
                o.cl_ord_id == cl and o.account == acct.name and o.is_open
                for o in self.orders.values()
            ):
                raise OkxError("51016", "Duplicated client order ID", item=True)
        side = str(p.get("side", ""))
        ord_type = str(p.get("ordType", ""))
        if side not in ("buy", "sell") or ord_type not in (
            "limit",
            "market",
            "post_only",
            "ioc",
            "fok",
        ):
            raise OkxError("51000", "Parameter side or ordType error", item=True)
        try:
            sz = D(str(p.get("sz")))
            px = D(str(p["px"])) if p.get("px") not in (None, "") else None
        except Exception as e:
            raise OkxError("51000", "Parameter sz error", item=True) from e
        if sz < inst.min_sz or sz % inst.lot:
            raise OkxError(
                "51020", "Your order should meet or exceed the minimum order amount.", item=True
            )
        if ord_type != "market" and (px is None or px <= 0 or px % inst.tick):
            raise OkxError("51006", "Order price is not within the price limit", item=True)
        pos_side = str(p.get("posSide") or "net")
        if inst.inst_type == "SWAP":
            if acct.hedge and pos_side not in ("long", "short"):
                raise OkxError("51000", "Parameter posSide error", item=True)
            if not acct.hedge and pos_side != "net":
                raise OkxError("51000", "Parameter posSide error", item=True)
        elif pos_side != "net":
            raise OkxError("51000", "Parameter posSide error", item=True)
        self._check_funds(acct, inst, side, sz, px)
        now = self.now_ms()
        o = Order(
            ord_id=str(next(self._ids)),
            cl_ord_id=cl,
            account=acct.name,
            inst=inst,
            side=side,
            ord_type=ord_type,
            px=px,
            sz=sz,
            pos_side=pos_side,
            reduce_only=str(p.get("reduceOnly", "")).lower() == "true",
            c_time=now,
            u_time=now,
        )
        self.orders[o.ord_id] = o
        self._notify(o)
        self._match(o)
        return o

    def _check_funds(
        self, acct: Account, inst: Inst, side: str, sz: Decimal, px: Decimal | None
    ) -> None:
        if inst.inst_type != "SPOT":
            return
        price = px or self.last[inst.inst_id]
        if side == "buy":
            need, ccy = sz * price, inst.quote
        else:
            need, ccy = sz, inst.base
        if self.available(acct, ccy) < need:
            raise OkxError("51008", "Order failed. Insufficient balance.", item=True)

    def available(self, acct: Account, ccy: str) -> Decimal:
        return acct.cash.get(ccy, ZERO) - self.frozen(acct, ccy)

    def frozen(self, acct: Account, ccy: str) -> Decimal:
        total = ZERO
        for o in self.orders.values():
            if o.account != acct.name or not o.is_open or o.inst.inst_type != "SPOT":
                continue
            if o.side == "buy" and ccy == o.inst.quote and o.px is not None:
                total += o.leaves * o.px
            elif o.side == "sell" and ccy == o.inst.base:
                total += o.leaves
        return total

    def _self_trade_prevention(self, o: Order) -> None:
        """OKX's mandatory STP (since 2024-03-14), default ``cancel_maker``: a resting order of
        the same account that the new order would trade with is canceled (``cancelSource``
        ``32``) and the new order goes on."""
        for rest in list(self.orders.values()):
            if rest is o or rest.account != o.account or not rest.is_open:
                continue
            if rest.inst is not o.inst or rest.side == o.side or rest.px is None:
                continue
            crosses = o.px is None or (o.px >= rest.px if o.side == "buy" else o.px <= rest.px)
            if crosses:
                self.cancel(rest, source="32")

    def _match(self, o: Order) -> None:
        self._self_trade_prevention(o)
        book = sorted(
            (q for q in self.quotes[o.inst.inst_id] if q.side != o.side),
            key=lambda q: q.px if o.side == "buy" else -q.px,
        )
        for q in book:
            if not o.is_open:
                break
            crosses = o.px is None or (o.px >= q.px if o.side == "buy" else o.px <= q.px)
            if not crosses:
                break
            if o.ord_type == "post_only":
                self.cancel(o, source="post_only")
                return
            take = min(q.sz, o.leaves)
            q.sz -= take
            if q.sz <= 0:
                self.quotes[o.inst.inst_id].remove(q)
            self.fill(o, take, q.px, taker=True)
        if o.is_open and (o.ord_type in ("market", "ioc", "fok")):
            if o.ord_type == "market" and o.leaves > 0:
                self.fill(o, o.leaves, self.last[o.inst.inst_id], taker=True)
            else:
                self.cancel(o, source="ioc")

    def cancel(self, o: Order, source: str = "user") -> Order:
        if not o.is_open:
            raise OkxError(
                "51400",
                "Order cancellation failed as the order has been filled, canceled or does not exist.",
                item=True,
            )
        o.state = "canceled"
        o.cancel_source = source
        o.u_time = self.now_ms()
        o.last = None
        self._notify(o)
        return o

    def amend(self, o: Order, new_sz: Decimal | None, new_px: Decimal | None) -> Order:
        if not o.is_open:
            raise OkxError(
                "51503",
                "Order modification failed as the order has been filled, canceled or does not exist.",
                item=True,
            )
        if new_sz is not None:
            if new_sz <= o.acc_fill_sz:
                # OKX: a new size not above the filled size cancels the rest.
                o.sz = new_sz if new_sz > o.acc_fill_sz else o.acc_fill_sz
                return self.cancel(o, source="amend")
            o.sz = new_sz
        if new_px is not None:
            o.px = new_px
        o.u_time = self.now_ms()
        o.last = None
        self._notify(o)
        self._match(o)
        return o

    # ------------------------------------------------------------------ fills
    def fill(
        self, o: Order, sz: Decimal, px: Decimal | None = None, *, taker: bool = False
    ) -> Fill:
        assert o.is_open and 0 < sz <= o.leaves, (o.state, sz, o.leaves)
        acct = self.accounts[o.account]
        price = px if px is not None else (o.px or self.last[o.inst.inst_id])
        inst = o.inst
        if inst.inst_type == "SPOT":
            rate = acct.taker if taker else acct.maker
            if o.side == "buy":
                fee_ccy, fee = inst.base, -(sz * rate)
                acct.cash[inst.base] = acct.cash.get(inst.base, ZERO) + sz + fee
                acct.cash[inst.quote] = acct.cash.get(inst.quote, ZERO) - sz * price
            else:
                fee_ccy, fee = inst.quote, -(sz * price * rate)
                acct.cash[inst.base] = acct.cash.get(inst.base, ZERO) - sz
                acct.cash[inst.quote] = acct.cash.get(inst.quote, ZERO) + sz * price + fee
        else:
            rate = acct.swap_taker if taker else acct.swap_maker
            fee_ccy, fee = inst.settle, -(sz * inst.ct_val * price * rate)
            pnl = self._book_position(acct, o, sz, price)
            acct.cash[fee_ccy] = acct.cash.get(fee_ccy, ZERO) + pnl + fee
        ts = self.now_ms()
        f = Fill(
            trade_id=str(next(self._trades)),
            bill_id=str(next(self._bills)),
            order=o,
            px=price,
            sz=sz,
            fee=fee,
            fee_ccy=fee_ccy,
            exec_type="T" if taker else "M",
            ts=ts,
        )
        acct.fills.append(f)
        prev = o.acc_fill_sz
        o.acc_fill_sz += sz
        o.avg_px = price if o.avg_px is None else (o.avg_px * prev + price * sz) / o.acc_fill_sz
        o.fee += fee
        o.fee_ccy = fee_ccy
        o.state = "filled" if o.leaves == 0 else "partially_filled"
        o.u_time = ts
        o.last = f
        self.last[inst.inst_id] = price
        self._notify(o)
        return f

    def _book_position(self, acct: Account, o: Order, sz: Decimal, px: Decimal) -> Decimal:
        inst = o.inst
        key = (inst.inst_id, o.pos_side)
        pos = acct.positions.get(key)
        if o.pos_side == "net":
            signed = sz if o.side == "buy" else -sz
        else:
            opening = (o.pos_side == "long") == (o.side == "buy")
            signed = sz if opening else -sz
        if pos is None or pos.pos == 0:
            acct.positions[key] = Position(signed, px, self.now_ms())
            return ZERO
        pnl = ZERO
        if (pos.pos > 0) == (signed > 0):
            total = pos.pos + signed
            pos.avg_px = (pos.avg_px * abs(pos.pos) + px * abs(signed)) / abs(total)
            pos.pos = total
            return ZERO
        closing = min(abs(signed), abs(pos.pos))
        direction = 1 if (pos.pos > 0 or o.pos_side == "long") else -1
        if o.pos_side == "short":
            direction = -1
        pnl = (px - pos.avg_px) * closing * inst.ct_val * direction
        rest = pos.pos + signed
        if o.pos_side != "net":
            rest = pos.pos - closing
        if rest == 0:
            del acct.positions[key]
        elif (rest > 0) != (pos.pos > 0) and o.pos_side == "net":
            acct.positions[key] = Position(rest, px, self.now_ms())
        else:
            pos.pos = rest
        return pnl

    def _notify(self, o: Order) -> None:
        for listener in self.on_change:
            listener(o)  # type: ignore[operator]

    # ------------------------------------------------------------------ the house
    def house_quote(self, inst_id: str, side: str, px: Decimal, sz: Decimal) -> None:
        self.quotes[inst_id].append(Quote(side, px, sz))
        for listener in self.on_book:
            listener(inst_id)

    def remove_house_quotes(self, inst_id: str, side: str | None = None) -> None:
        """Take the house's quotes of ``inst_id`` (one side, or both) off the book."""
        self.quotes[inst_id] = [q for q in self.quotes[inst_id] if side not in (None, q.side)]
        for listener in self.on_book:
            listener(inst_id)
