"""Transfers between an account and its sub-accounts (VEN-4), through the library API.

``Node.transfer(from, to, asset, amount)`` moves money between two accounts of one account tree
(an account and its sub-accounts at any depth: down, up, or across between two sub-accounts of
the same top-level account). One ``FundsTransferred`` event takes the amount from one balance
and adds the same Decimal to the other: money is never created or lost. What may leave an
account is what it could spend: its free balance (total less what orders and positions lock),
less a cash account's unsettled sale proceeds and its cross positions' unrealized losses.

Every refusal has its reason code and a sentence, is journaled as ``CommandRejected`` (the
sender's), and changes nothing else. Every scenario replays to the live digest.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_oms import CommandRefused, Instrument, ManualClock, Node, Reason
from atlas_oms.core.engine import Engine
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType, Side

D = Decimal
T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
SPOT = "BTC/USDT"
PERP = "BTC/USDT:USDT"
#: The trees: desk > desk.a > desk.a.1, desk > desk.b; other > other.x.
TREE = (
    ("desk", None),
    ("desk.a", "desk"),
    ("desk.a.1", "desk.a"),
    ("desk.b", "desk"),
    ("other", None),
    ("other.x", "other"),
)
DEPOSITS = {"desk": 10_000, "desk.a": 2_000, "other": 1_000_000}


def make_node(journal: Any = None) -> Node:
    node = (
        Node.in_memory(clock=ManualClock(T0))
        if journal is None
        else Node.open(str(journal), clock=ManualClock(T0))
    )
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.1", lot_size="0.001"))
    node.add_instrument(Instrument.perpetual(PERP, tick_size="0.1", lot_size="0.001"))
    for account, parent in TREE:
        node.open_account(account, parent_id=parent)
    for account, amount in DEPOSITS.items():
        node.deposit(account, "USDT", amount)
    node.deposit("other", "BTC", 100)
    node.update_prices(SPOT, last="10000", mark="10000")
    node.update_prices(PERP, last="10000", mark="10000")
    return node


@pytest.fixture
def node() -> Node:
    return make_node()


@pytest.fixture(autouse=True)
def _replays_to_the_live_digest(request: pytest.FixtureRequest, kit: Any) -> Any:
    n = request.getfixturevalue("node") if "node" in request.fixturenames else None
    yield
    if n is not None:
        assert kit.replay_digest(n.events()) == n.digest()
        kit.check_invariants(n.engine)


def usdt(node: Node, account: str) -> tuple[Decimal, Decimal, Decimal]:
    b = node.balance(account, "USDT")
    return b.total, b.locked, b.free


def total_usdt(node: Node) -> Decimal:
    return sum((b.total for b in node.balances() if b.asset == "USDT"), D(0))


def refused(node: Node, kit: Any, reason: Reason, *transfer: Any, **kw: Any) -> ev.CommandRejected:
    """Send a transfer that must be refused with ``reason`` and change nothing; return the
    journaled refusal."""
    before = kit.fingerprint(node.engine)
    seq = node.engine.seq
    with pytest.raises(CommandRefused) as info:
        node.transfer(*transfer, **kw)
    assert info.value.reason == reason, info.value
    assert kit.fingerprint(node.engine) == before
    out = list(node.events(seq + 1))
    assert [type(e) for e in out] == [ev.CommandRejected]
    event = out[0]
    assert isinstance(event, ev.CommandRejected)
    assert (event.command, event.reason, event.message) == (
        "TransferFunds",
        reason,
        info.value.message,
    )
    assert event.message.strip(), "no human sentence"
    return event


# ------------------------------------------------------------------------------ happy paths
def test_a_parent_funds_its_sub_account(node: Node) -> None:
    sent, got = node.transfer("desk", "desk.b", "USDT", "2500.25", reason="fund the b desk")
    assert (sent.account_id, sent.total, sent.free) == ("desk", D("7499.75"), D("7499.75"))
    assert (got.account_id, got.total, got.free) == ("desk.b", D("2500.25"), D("2500.25"))
    (event,) = node.transfers()
    assert (event.account_id, event.to_account_id, event.asset, event.amount, event.reason) == (
        "desk",
        "desk.b",
        "USDT",
        D("2500.25"),
        "fund the b desk",
    )


def test_a_sub_account_sends_back_to_its_parent(node: Node) -> None:
    sent, got = node.transfer("desk.a", "desk", "USDT", 2_000)  # everything it has
    assert (sent.total, sent.free) == (0, 0)
    assert got.total == D(12_000)
    assert node.transfers()[0].reason == "transfer"  # the default reason


def test_a_grandchild_and_its_grandparent_both_ways(node: Node) -> None:
    node.transfer("desk", "desk.a.1", "USDT", 300)
    assert usdt(node, "desk.a.1") == (D(300), D(0), D(300))
    node.transfer("desk.a.1", "desk", "USDT", 100)
    assert usdt(node, "desk.a.1") == (D(200), D(0), D(200))
    assert usdt(node, "desk") == (D(9_800), D(0), D(9_800))
    assert usdt(node, "desk.a") == (D(2_000), D(0), D(2_000))  # the account between: untouched


def test_two_sub_accounts_of_one_top_level_account(node: Node) -> None:
    node.transfer("desk.a", "desk.b", "USDT", 500)  # siblings
    node.transfer("desk.b", "desk.a.1", "USDT", 200)  # a child and its sibling's child
    assert usdt(node, "desk.a")[0] == D(1_500)
    assert usdt(node, "desk.b")[0] == D(300)
    assert usdt(node, "desk.a.1")[0] == D(200)


def test_any_asset_moves_and_the_total_of_every_balance_is_the_same(node: Node) -> None:
    before = total_usdt(node)
    node.transfer("other", "other.x", "BTC", "0.00000001")  # the smallest amount is fine
    node.transfer("other", "other.x", "USDT", "0.1")
    node.transfer("other.x", "other", "USDT", "0.05")
    assert node.balance("other.x", "BTC").total == D("0.00000001")
    assert node.balance("other", "BTC").total == D("99.99999999")
    assert total_usdt(node) == before


def test_transfers_lists_the_journal_and_an_account_sees_only_its_own(node: Node) -> None:
    node.transfer("desk", "desk.a", "USDT", 1)
    node.transfer("desk.a", "desk.b", "USDT", 2)
    node.transfer("other", "other.x", "USDT", 3)
    with pytest.raises(CommandRefused):
        node.transfer("desk", "other", "USDT", 4)  # refused: not a transfer
    assert [e.amount for e in node.transfers()] == [1, 2, 3]
    assert [e.amount for e in node.transfers("desk.a")] == [1, 2]  # received, then sent
    assert [e.amount for e in node.transfers("desk.b")] == [2]
    assert [e.amount for e in node.transfers("other.x")] == [3]
    assert node.transfers("desk.a.1") == []


# --------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("transfer", "reason", "sentence"),
    [
        (("mallory", "desk", "USDT", 1), Reason.UNKNOWN_ACCOUNT, "account mallory does not exist"),
        (
            ("desk", "mallory", "USDT", 1),
            Reason.UNKNOWN_ACCOUNT,
            "receiving account mallory does not exist",
        ),
        (("desk.a", "desk.a", "USDT", 1), Reason.INVALID_TRANSFER, "cannot transfer to itself"),
        (
            ("desk", "other", "USDT", 1),
            Reason.TRANSFER_NOT_ALLOWED,
            "accounts desk and other are not in one account tree",
        ),
        (
            ("other.x", "desk.a.1", "USDT", 1),
            Reason.TRANSFER_NOT_ALLOWED,
            "(their top-level accounts are other and desk)",
        ),
        *(
            (("desk", "desk.a", "USDT", amount), Reason.INVALID_AMOUNT, "positive finite number")
            for amount in ("0", "-1", "NaN", "sNaN", "Infinity", "-Infinity", "1e18", "1e30")
        ),
        (
            ("desk", "desk.a", "USDT", "10000.01"),
            Reason.INSUFFICIENT_BALANCE,
            "cannot transfer 10000.01 USDT from account desk: only 10000 is free",
        ),
        (
            ("desk.b", "desk", "USDT", "0.01"),  # never held any
            Reason.INSUFFICIENT_BALANCE,
            "only 0 is free",
        ),
        (("desk", "desk.a", "BTC", 1), Reason.INSUFFICIENT_BALANCE, "only 0 is free"),
    ],
    ids=lambda v: "-".join(map(str, v)) if isinstance(v, tuple) else None,
)
def test_a_refused_transfer_has_its_reason_and_changes_nothing(
    node: Node, kit: Any, transfer: tuple[Any, ...], reason: Reason, sentence: str
) -> None:
    event = refused(node, kit, reason, *transfer)
    assert sentence in event.message
    assert event.account_id == transfer[0]  # the sender's request
    assert node.transfers() == []


def test_the_order_of_the_checks(node: Node, kit: Any) -> None:
    """Which refusal wins when several apply: accounts first, then the tree, then the amount."""
    assert refused(node, kit, Reason.UNKNOWN_ACCOUNT, "x", "y", "USDT", -1).message == (
        "account x does not exist"
    )
    refused(node, kit, Reason.INVALID_TRANSFER, "desk", "desk", "USDT", -1)
    refused(node, kit, Reason.TRANSFER_NOT_ALLOWED, "desk", "other", "USDT", 10**9)
    refused(node, kit, Reason.INVALID_AMOUNT, "desk", "desk.a", "USDT", 0)


# ------------------------------------------------------------- what may not leave an account
def test_funds_reserved_by_open_orders_cannot_be_transferred(node: Node, kit: Any) -> None:
    bid = node.buy("desk", SPOT, "0.5", "9000")  # rests: locks 4,500 USDT
    assert usdt(node, "desk") == (D(10_000), D(4_500), D(5_500))
    message = refused(node, kit, Reason.INSUFFICIENT_BALANCE, "desk", "desk.a", "USDT", 5_501)
    assert message.message.endswith("only 5500 is free")
    node.transfer("desk", "desk.a", "USDT", 5_500)  # all of the free balance
    assert usdt(node, "desk") == (D(4_500), D(4_500), D(0))
    refused(node, kit, Reason.INSUFFICIENT_BALANCE, "desk", "desk.a", "USDT", "0.01")
    node.cancel("desk", bid.order_id)  # the reservation comes back
    node.transfer("desk", "desk.a", "USDT", 4_500)
    assert usdt(node, "desk") == (D(0), D(0), D(0))


def test_the_margin_of_a_position_cannot_be_transferred(node: Node, kit: Any) -> None:
    node.set_margin_mode("desk.a", PERP, "ISOLATED")
    node.set_leverage("desk.a", PERP, 10)
    node.sell("other", PERP, "1", "10000")
    node.buy("desk.a", PERP, "1")  # 1,000 USDT of isolated margin locked
    assert usdt(node, "desk.a") == (D(2_000), D(1_000), D(1_000))
    refused(node, kit, Reason.INSUFFICIENT_BALANCE, "desk.a", "desk", "USDT", "1000.01")
    # An isolated position's losses come out of its own margin: the free balance may all go.
    node.update_prices(PERP, mark="9700")
    node.transfer("desk.a", "desk", "USDT", 1_000)
    assert usdt(node, "desk.a") == (D(1_000), D(1_000), D(0))


def test_cross_unrealized_losses_stay_in_the_account(node: Node, kit: Any) -> None:
    node.set_leverage("desk.a", PERP, 10)
    node.sell("other", PERP, "1", "10000")
    node.buy("desk.a", PERP, "1")  # cross: 1,000 USDT of margin locked, 1,000 free
    node.update_prices(PERP, mark="9700")  # 300 of unrealized loss
    event = refused(node, kit, Reason.INSUFFICIENT_BALANCE, "desk.a", "desk", "USDT", 701)
    assert event.message == (
        "cannot transfer 701 USDT from account desk.a: only 700 can leave it "
        "(1000 free, less 300 of unrealized cross losses)"
    )
    node.transfer("desk.a", "desk", "USDT", 700)
    assert usdt(node, "desk.a") == (D(1_300), D(1_000), D(300))
    node.update_prices(PERP, mark="10100")  # no loss now (a profit adds nothing): 300 may go
    node.transfer("desk.a", "desk", "USDT", 300)
    refused(node, kit, Reason.INSUFFICIENT_BALANCE, "desk.a", "desk", "USDT", "0.01")


def test_unsettled_sale_proceeds_of_a_cash_account_cannot_be_transferred(kit: Any) -> None:
    monday = 1_767_625_200_000_000_000  # Monday 2026-01-05 15:00 UTC: the NYSE is open
    node = Node.in_memory(clock=ManualClock(monday))
    node.add_instrument(Instrument.equity("AAPL"))
    node.open_account("fund")  # cash accounts: the default
    node.open_account("fund.x", parent_id="fund")
    node.open_account("mm", equity_type="MARGIN")
    node.deposit("fund", "USD", 500)
    node.deposit("fund", "AAPL", 10)
    node.deposit("mm", "USD", 1_000_000)
    node.update_prices("AAPL", last="100")
    node.buy("mm", "AAPL", 10, "100")
    node.sell("fund", "AAPL", 10, "100")  # 1,000 USD of proceeds, settling T+1
    assert node.balance("fund", "USD").free == D(1_500)
    event = refused(node, kit, Reason.INSUFFICIENT_BALANCE, "fund", "fund.x", "USD", 501)
    assert event.message == (
        "cannot transfer 501 USD from account fund: only 500 can leave it "
        "(1500 free, less 1000 of unsettled sale proceeds)"
    )
    node.transfer("fund", "fund.x", "USD", 500)
    node.clock.set(monday + 86_400_000_000_000)  # Tuesday: Monday's sale has settled
    node.transfer("fund", "fund.x", "USD", 1_000)
    assert node.balance("fund.x", "USD").total == D(1_500)
    assert kit.replay_digest(node.events()) == node.digest()


# ---------------------------------------------------------------------- derivatives margin
def test_a_transfer_moves_both_accounts_liquidation_prices(node: Node) -> None:
    """Both accounts are re-indexed for liquidation: a transfer out of a cross account brings its
    liquidation price nearer, and the next mark beyond it liquidates the account."""
    node.set_leverage("desk.a", PERP, 10)
    node.sell("other", PERP, "1", "10000")
    node.buy("desk.a", PERP, "1")  # cross long, wallet 2,000
    node.update_prices(PERP, mark="10000")  # the index takes the position in
    assert not node.engine.state.liq_index.dirty
    far = node.position("desk.a", PERP).liquidation_price  # type: ignore[union-attr]
    node.transfer("desk.a", "desk", "USDT", 900)
    assert node.engine.state.liq_index.dirty == {"desk.a", "desk"}
    near = node.position("desk.a", PERP).liquidation_price  # type: ignore[union-attr]
    assert far is not None and near is not None and far < D(8_100) < D(8_900) < near
    node.buy("other", PERP, "1", "8000")  # a bid for the liquidation to sell into
    out = node.update_prices(PERP, mark="8900")  # beyond the new price, far above the old one
    started = [e for e in out if isinstance(e, ev.LiquidationStarted)]
    assert [e.account_id for e in started] == ["desk.a"]
    node.transfer("desk", "desk.a", "USDT", 1)  # money may always come in
    assert {"desk.a", "desk"} <= node.engine.state.liq_index.dirty


# ---------------------------------------------------------------------- audit and replay
def test_a_transfer_is_in_both_accounts_audit_trails_once(node: Node) -> None:
    node.transfer("desk", "desk.a.1", "USDT", 42, reason="seed")
    with pytest.raises(CommandRefused):
        node.transfer("desk.a.1", "other", "USDT", 1)
    seq = node.transfers()[0].seq
    for account in ("desk", "desk.a.1"):
        records = [r for r in node.audit(account) if r.event == "FundsTransferred"]
        assert [(r.seq, r.account_id) for r in records] == [(seq, account)]
        (record,) = records
        assert (record.symbol, record.qty, record.status_or_reason) == ("USDT", "42", "seed")
        assert record.detail["account_id"] == "desk"
        assert record.detail["to_account_id"] == "desk.a.1"
    assert [r.event for r in node.audit("desk.a")] == ["AccountOpened", "BalanceAdjusted"]
    tree = [r for r in node.audit("desk", include_subaccounts=True) if r.seq == seq]
    assert [r.account_id for r in tree] == ["desk"]  # one record, in the sender's name
    # The refused transfer is the sender's request only: the other tree never sees it.
    assert "CommandRejected" in {r.event for r in node.audit("desk.a.1")}
    assert "CommandRejected" not in {r.event for r in node.audit("other")}


def test_a_reopened_journal_has_the_same_transfers_and_digest(tmp_path: Path, kit: Any) -> None:
    path = tmp_path / "oms.db"
    live = make_node(path)
    live.transfer("desk", "desk.a", "USDT", "123.45")
    live.snapshot()
    live.transfer("desk.a", "desk.b", "USDT", "23.45")
    with pytest.raises(CommandRefused):
        live.transfer("desk.b", "other", "USDT", 1)
    digest, balances = live.digest(), live.balances()
    live.close()
    with Node.open(str(path)) as again:  # from the snapshot, then the journal
        assert again.digest() == digest and again.balances() == balances
        assert [e.amount for e in again.transfers()] == [D("123.45"), D("23.45")]
        assert kit.replay_digest(again.events()) == digest  # from seq 1, no snapshot


# ---------------------------------------------------------------- conservation, at random
ACCOUNTS = ("r", "r.a", "r.a.x", "r.b", "s", "s.a")
ASSETS = ("USDT", "BTC")
START = {"USDT": D(100_000), "BTC": D(10)}
AMOUNTS = st.one_of(
    st.decimals(min_value=D("0.0001"), max_value=D(60_000), places=4),
    st.sampled_from([D(0), D(-5), D("NaN"), D("Infinity"), D("1e30"), D(100_000), D(10)]),
)
TRANSFER = st.tuples(
    st.just("transfer"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(ASSETS),
    AMOUNTS,
)
#: A resting spot order locks funds (a buy its USDT, a sell its BTC), so transfers meet locks.
ORDER = st.tuples(
    st.just("order"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.decimals(min_value=D("0.001"), max_value=D(3), places=3),
    st.sampled_from([D(9_000), D(10_000), D(11_000)]),
)


class JournaledEngine(Engine):
    """An engine that keeps every event it emits, for the replay at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.journal: list[ev.EventBase] = []

    def handle(self, message: Any) -> list[ev.EventBase]:
        out = super().handle(message)
        self.journal.extend(out)
        return out


def conservation_engine() -> JournaledEngine:
    engine = JournaledEngine()
    engine.handle(
        c.AddInstrument(ts=1, instrument=Instrument.spot(SPOT, tick_size="0.1", lot_size="0.001"))
    )
    for account in ACCOUNTS:
        parent = account.rpartition(".")[0] or None
        engine.handle(c.OpenAccount(ts=1, account_id=account, parent_id=parent))
        for asset, amount in START.items():
            engine.handle(c.AdjustBalance(ts=1, account_id=account, asset=asset, amount=amount))
    return engine


def tree_of(account: str) -> str:
    return account.split(".")[0]


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.one_of(TRANSFER, TRANSFER, ORDER), max_size=40))
def test_random_transfers_conserve_every_asset_and_never_overdraw(
    steps: list[tuple[Any, ...]], kit: Any
) -> None:
    engine = conservation_engine()
    totals = {asset: START[asset] * len(ACCOUNTS) for asset in ASSETS}
    ts = 1
    for step in steps:
        ts += 1_000
        if step[0] == "order":
            _, account, side, qty, price = step
            engine.handle(
                c.SubmitOrder(
                    ts=ts,
                    account_id=account,
                    symbol=SPOT,
                    side=side,
                    order_type=OrderType.LIMIT,
                    qty=qty,
                    price=price,
                )
            )
            engine.take_requests()  # no venue: the order stays open, its funds locked
            continue
        _, src, dst, asset, amount = step
        free_before = {
            a: (
                engine.state.balances[(a, asset)].free
                if (a, asset) in engine.state.balances
                else D(0)
            )
            for a in ACCOUNTS
        }
        before = kit.fingerprint(engine)
        out = engine.handle(
            c.TransferFunds(ts=ts, account_id=src, to_account_id=dst, asset=asset, amount=amount)
        )
        assert len(out) == 1
        (event,) = out
        if isinstance(event, ev.FundsTransferred):
            assert src != dst and tree_of(src) == tree_of(dst)
            assert amount.is_finite() and 0 < amount <= free_before[src]
            assert engine.state.balances[(src, asset)].free == free_before[src] - amount
            assert engine.state.balances[(dst, asset)].free == free_before[dst] + amount
        else:
            assert isinstance(event, ev.CommandRejected)
            assert kit.fingerprint(engine) == before
            should_pass = (
                src != dst
                and tree_of(src) == tree_of(dst)
                and amount.is_finite()
                and 0 < amount < D("1e18")
                and amount <= free_before[src]
            )
            assert not should_pass, event
        for asset_ in ASSETS:
            held = sum(
                (b.total for (_, a), b in engine.state.balances.items() if a == asset_), D(0)
            )
            assert held == totals[asset_], f"{asset_}: {held} != {totals[asset_]}"
        assert all(b.free >= 0 for b in engine.state.balances.values()), engine.state.balances
    kit.check_invariants(engine)
    replayed = Engine()
    replayed.apply_all(engine.journal)
    assert replayed.digest() == engine.digest()
