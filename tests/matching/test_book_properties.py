"""Property tests: random sequences of submits, cancels and modifies against a naive model.

The reference book below is deliberately slow and obvious (a list in time order, sorted on every
use); the real book must agree with it on every result and on the resting orders after every
operation, and the invariants are checked on the real book directly as well.
"""

from __future__ import annotations

import random
from decimal import Decimal as D

from hypothesis import event, given, settings
from hypothesis import strategies as st

from atlas_oms.matching import Fill, OrderBook, RestingOrder
from atlas_oms.model.enums import SelfTradePrevention as STP
from atlas_oms.model.enums import Side, TimeInForce

BUY, SELL = Side.BUY, Side.SELL
ZERO = D(0)


class ReferenceBook:
    """The book's rules written the simplest way: a list of resting orders in time order."""

    def __init__(self, stp: STP) -> None:
        self.stp = stp
        self.orders: list[list] = []  # [order_id, account_id, side, price, leaves, stp_key]

    def _makers(self, side: Side, price: D | None) -> list[list]:
        opp = [o for o in self.orders if o[2] != side]
        if side is BUY:
            opp.sort(key=lambda o: o[3])
            return [o for o in opp if price is None or o[3] <= price]
        opp.sort(key=lambda o: -o[3])
        return [o for o in opp if price is None or o[3] >= price]

    def submit(self, oid, account, side, qty, price, tif, post_only, stp_key):
        key = account if stp_key is None else stp_key
        makers = self._makers(side, price)
        if makers and post_only:
            return [], ZERO, ZERO, False, qty, "POST_ONLY_WOULD_TAKE", ()
        if tif is TimeInForce.FOK:
            available = ZERO
            for m in makers:
                if m[5] == key:
                    if self.stp is STP.CANCEL_MAKER:
                        continue
                    break
                available += m[4]
            if available < qty:
                return [], ZERO, ZERO, False, qty, "FOK_NOT_FILLABLE", ()
        fills, stp_canceled, remaining, stopped = [], [], qty, False
        for m in makers:
            if m[5] == key:
                if self.stp is STP.CANCEL_TAKER:
                    stopped = True
                    break
                self.orders.remove(m)
                stp_canceled.append((m[0], m[4]))
                if self.stp is STP.CANCEL_BOTH:
                    stopped = True
                    break
                continue
            take = min(m[4], remaining)
            m[4] -= take
            remaining -= take
            fills.append(Fill(m[0], m[1], m[3], take, m[4]))
            if not m[4]:
                self.orders.remove(m)
            if not remaining:
                break
        stp_done = tuple(stp_canceled)
        if not remaining:
            return fills, qty, ZERO, False, ZERO, None, stp_done
        if stopped:
            reason = "SELF_TRADE_PREVENTED"
        elif price is None:
            reason = "MARKET_NO_LIQUIDITY"
        elif tif is TimeInForce.IOC:
            reason = "IOC_REMAINDER"
        else:
            self.orders.append([oid, account, side, price, remaining, key])
            return fills, qty - remaining, remaining, True, ZERO, None, stp_done
        return fills, qty - remaining, ZERO, False, remaining, reason, stp_done

    def find(self, oid):
        return next((o for o in self.orders if o[0] == oid), None)

    def cancel(self, oid):
        o = self.find(oid)
        if o is None:
            return None
        self.orders.remove(o)
        return o[4]

    def modify(self, oid, qty, price):
        o = self.find(oid)
        if o is None:
            return None
        if qty <= 0:
            self.orders.remove(o)
            return False, [], ZERO, ZERO, False, o[4], "MODIFY_TO_ZERO", ()
        if price == o[3] and qty <= o[4]:
            o[4] = qty
            return True, [], ZERO, qty, True, ZERO, None, ()
        self.orders.remove(o)
        result = self.submit(oid, o[1], o[2], qty, price, TimeInForce.GTC, False, o[5])
        return (False, *result)

    def in_priority(self) -> list[RestingOrder]:
        bids = sorted((o for o in self.orders if o[2] is BUY), key=lambda o: -o[3])
        asks = sorted((o for o in self.orders if o[2] is SELL), key=lambda o: o[3])
        return [RestingOrder(*o) for o in bids + asks]


# Every field is a sampled_from: hypothesis draws those close to uniformly, where one_of and
# small integer ranges lean hard towards their first/smallest choice and starve the book.
quantities = st.sampled_from([D(n) / 2 for n in range(1, 13)])  # 0.5 .. 6.0
prices = st.sampled_from([D(p) for p in range(97, 104)])


def _op(kind, account, side, qty, price, tif, post_only, stp_key, k, new_qty):
    if kind == "submit":
        return ("submit", account, side, qty, price, tif, post_only, stp_key)
    if kind == "cancel":
        return ("cancel", k)
    return ("modify", k, new_qty, price if price is not None else D(100))


operations = st.lists(
    st.builds(
        _op,
        st.sampled_from(["submit", "submit", "submit", "submit", "cancel", "modify", "modify"]),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from([BUY, SELL]),
        quantities,
        st.sampled_from([None, *(D(p) for p in range(97, 104))]),
        st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
        st.sampled_from([False, False, False, True]),
        st.sampled_from([None, None, None, "shared"]),
        st.integers(0, 79),
        st.sampled_from([D(n) / 2 for n in range(-1, 13)]),
    ),
    min_size=10,
    max_size=100,
)


def pick(resting: dict[int, object], k: int) -> int:
    """Turn a drawn index into a resting order id, or now and then into an unknown one."""
    ids = list(resting)
    return ids[k % len(ids)] if ids and k < 70 else 10_000 + k


def check_invariants(book: OrderBook) -> None:
    assert not book.is_crossed()
    resting = list(book.orders_in_priority())
    assert len(resting) == len(book)
    for side in (BUY, SELL):
        depth = book.depth(side, levels=10_000)
        leaves = [o.leaves_qty for o in resting if o.side is side]
        assert sum((qty for _, qty in depth), ZERO) == sum(leaves, ZERO)
        assert all(qty > 0 for _, qty in depth)
        assert all(q > 0 for q in leaves)
        levels = [p for p, _ in depth]
        assert levels == sorted(levels, reverse=side is BUY)
    bid, ask = book.best_bid(), book.best_ask()
    assert bid == max((o.price for o in resting if o.side is BUY), default=None)
    assert ask == min((o.price for o in resting if o.side is SELL), default=None)


def check_fills(fills: list[Fill], taker_qty: D, before: dict[int, RestingOrder]) -> None:
    assert sum((f.qty for f in fills), ZERO) <= taker_qty
    for f in fills:
        maker = before[f.maker_order_id]
        assert ZERO < f.qty <= maker.leaves_qty
        assert f.maker_leaves_qty == maker.leaves_qty - f.qty
        assert f.price == maker.price


TIFS = [TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]


def random_operations(rnd: random.Random, n: int) -> list[tuple]:
    """Draw a long, evenly mixed sequence (hypothesis's own lists are short and repetitive)."""
    ops: list[tuple] = []
    for _ in range(n):
        kind = rnd.random()
        price = D(rnd.randint(97, 103))
        if kind < 0.6:
            ops.append(
                (
                    "submit",
                    rnd.choice("abc"),
                    rnd.choice([BUY, SELL]),
                    D(rnd.randint(1, 12)) / 2,
                    None if rnd.random() < 0.15 else price,
                    rnd.choice(TIFS),
                    rnd.random() < 0.15,
                    "shared" if rnd.random() < 0.2 else None,
                )
            )
        elif kind < 0.8:
            ops.append(("cancel", rnd.randint(0, 79)))
        else:
            ops.append(("modify", rnd.randint(0, 79), D(rnd.randint(-1, 12)) / 2, price))
    return ops


@settings(max_examples=300, deadline=None)
@given(stp=st.sampled_from(list(STP)), ops=operations)
def test_random_operations_agree_with_the_reference_and_keep_the_invariants(stp, ops) -> None:
    run_against_reference(stp, ops)


@settings(max_examples=60, deadline=None)
@given(stp=st.sampled_from(list(STP)), seed=st.integers(0, 2**32))
def test_long_random_sessions_agree_with_the_reference_and_keep_the_invariants(stp, seed) -> None:
    # A seed, not st.randoms(): 400 operations of recorded choices trip hypothesis's size checks.
    run_against_reference(stp, random_operations(random.Random(seed), 400))


def run_against_reference(stp: STP, ops: list[tuple]) -> None:
    book, ref = OrderBook("X", stp), ReferenceBook(stp)
    next_id = 0
    for op in ops:
        before = {o.order_id: o for o in book.orders_in_priority()}
        if op[0] == "submit":
            _, account, side, qty, price, tif, post_only, stp_key = op
            next_id += 1
            r = book.submit(next_id, account, side, qty, price, tif, post_only, stp_key)
            got = (r.fills, r.filled_qty, r.leaves_qty, r.rested, r.canceled_qty, r.reason)
            assert (*got, r.stp_canceled) == ref.submit(
                next_id, account, side, qty, price, tif, post_only, stp_key
            )
            assert r.filled_qty + r.canceled_qty + r.leaves_qty == qty
            assert r.filled_qty == sum((f.qty for f in r.fills), ZERO)
            assert r.rested == (r.leaves_qty > 0)
            event(f"submit {tif} {r.reason} fills={min(len(r.fills), 3)}")
            check_fills(r.fills, qty, before)
        elif op[0] == "cancel":
            oid = pick(before, op[1])
            assert book.cancel(oid) == ref.cancel(oid)
        else:
            _, k, qty, price = op
            oid = pick(before, k)
            m = book.modify(oid, qty, price)
            expected = ref.modify(oid, qty, price)
            if m is None:
                assert expected is None
            else:
                assert (
                    m.priority_kept, m.fills, m.filled_qty, m.leaves_qty, m.rested,
                    m.canceled_qty, m.reason, m.stp_canceled,
                ) == expected  # fmt: skip
                if qty > 0:
                    assert m.filled_qty + m.canceled_qty + m.leaves_qty == qty
                check_fills(m.fills, max(qty, ZERO), before)
        check_invariants(book)
        assert list(book.orders_in_priority()) == ref.in_priority()


@settings(max_examples=100, deadline=None)
@given(stp=st.sampled_from(list(STP)), ops=operations)
def test_restore_of_any_reachable_book_reproduces_its_priority(stp, ops) -> None:
    book = OrderBook("X", stp)
    for i, op in enumerate(ops):
        if op[0] == "submit":
            _, account, side, qty, price, tif, post_only, stp_key = op
            book.submit(i, account, side, qty, price, tif, post_only, stp_key)
        elif op[0] == "cancel":
            book.cancel(pick(dict.fromkeys(o.order_id for o in book.orders_in_priority()), op[1]))
        else:
            oid = pick(dict.fromkeys(o.order_id for o in book.orders_in_priority()), op[1])
            book.modify(oid, op[2], op[3])
    snapshot = list(book.orders_in_priority())
    restored = OrderBook("X", stp)
    restored.restore(snapshot)
    assert list(restored.orders_in_priority()) == snapshot
    assert restored.depth(BUY, 100) == book.depth(BUY, 100)
    assert restored.depth(SELL, 100) == book.depth(SELL, 100)
