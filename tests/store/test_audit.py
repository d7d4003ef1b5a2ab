"""The audit trail (PER-5): every event that concerns an account, in journal order, in columns.

An event concerns account A when it names A (its ``account_id``, a transfer's ``to_account_id``,
its intent's, the opened account's, or ``scope_id`` of an account-scoped event), when it names no
account and its ``order_id`` is one of A's orders, or when it is firm-wide (``scope ==
"global"``). The rule reads attributes, not class names, so stand-in risk events defined here
prove it for event types that do not exist yet.
"""

from __future__ import annotations

import csv
import io
import json
import random
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_oms import CommandRefused, Instrument, ManualClock, Node
from atlas_oms.model.account import Account
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import OrderType, Side
from atlas_oms.model.events import (
    AccountOpened,
    BalanceAdjusted,
    EventBase,
    FundsTransferred,
    OrderAccepted,
    OrderCanceled,
    OrderSubmitted,
)
from atlas_oms.store import AuditRecord, audit_trail, write_audit
from atlas_oms.store.audit import COLUMNS, iso_ns

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
ETH = Instrument.spot("ETH/USD", tick_size="0.01", lot_size="0.01", taker_fee="0.001")


# ------------------------------------------------------------------ stand-ins for risk events
class RiskLimitsSet(EventBase):
    scope: str
    scope_id: str
    actor: str
    reason: str


class KillSwitchTripped(EventBase):
    scope: str
    scope_id: str
    actor: str
    reason: str
    account_id: str | None = None


class RiskAlert(EventBase):
    scope: str
    scope_id: str
    actor: str
    reason: str
    account_id: str | None = None
    order_id: int | None = None


# ------------------------------------------------------------------ helpers
def opened(seq: int, account_id: str, parent_id: str | None = None) -> AccountOpened:
    return AccountOpened(
        seq=seq, ts_event=T0 + seq, account=Account(account_id=account_id, parent_id=parent_id)
    )


def submitted(seq: int, order_id: int, account_id: str, client_id: str) -> OrderSubmitted:
    intent = SubmitOrder(
        ts=T0 + seq,
        account_id=account_id,
        symbol="ETH/USD",
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        qty=Decimal("1.50"),
        price=Decimal("2000.10"),
        client_order_id=client_id,
    )
    return OrderSubmitted(
        seq=seq,
        ts_event=T0 + seq,
        order_id=order_id,
        intent=intent,
        reserved_asset="ETH",
        reserve_unit=Decimal(1),
        protection_price=None,
        trigger_price=None,
        expire_ts=None,
    )


def seqs(records: list[AuditRecord]) -> list[int]:
    return [r.seq for r in records]


def session() -> Node:
    """Two accounts trading against each other on the built-in exchange, and a sub-account."""
    node = Node.in_memory(clock=ManualClock(T0))
    node.add_instrument(ETH)
    for account, parent in (("alice", None), ("bob", None), ("alice-algo", "alice")):
        node.open_account(account, parent_id=parent)
        node.deposit(account, "USD", 100_000)
        node.deposit(account, "ETH", 50)
    ask = node.sell("bob", "ETH/USD", "2", "2000", client_order_id="bob-ask")
    node.buy("alice", "ETH/USD", "1.5", "2000", client_order_id="alice-bid")
    node.buy("alice-algo", "ETH/USD", "0.5", "2000")
    node.buy("alice", "ETH/USD", "0.001", "2000")  # denied: below the lot size
    rest = node.buy("alice", "ETH/USD", "1", "1990", client_order_id="alice-rest")
    node.modify("alice", rest.order_id, price="1991")
    node.cancel("alice", client_order_id="alice-rest")
    with pytest.raises(CommandRefused):
        node.cancel("alice", ask.order_id)  # bob's order: alice's refused request
    return node


def oracle(node: Node, account_ids: set[str]) -> list[int]:
    """The seqs that concern ``account_ids``, from the engine's own order book-keeping."""
    out = []
    for event in node.events():
        named = getattr(event, "account_id", None)
        if named is None and hasattr(event, "intent"):
            named = event.intent.account_id
        if named is None and hasattr(event, "account"):
            named = event.account.account_id
        if named is None and getattr(event, "order_id", None) is not None:
            named = node.engine.state.orders[event.order_id].account_id
        if named in account_ids:
            out.append(event.seq)
    return out


# ------------------------------------------------------------------ which events
def test_a_trail_is_every_event_naming_the_account_or_its_orders_in_journal_order() -> None:
    node = session()
    trail = audit_trail(node.events(), "alice")
    assert seqs(trail) == oracle(node, {"alice"})
    assert seqs(trail) == sorted(seqs(trail))
    assert {r.account_id for r in trail} == {"alice"}
    assert {
        "AccountOpened",
        "BalanceAdjusted",
        "OrderSubmitted",
        "OrderFilled",
        "OrderDenied",
        "OrderPendingReplace",
        "OrderReplaced",
        "OrderPendingCancel",
        "OrderCanceled",
        "OrderCancelRejected",
    } <= {r.event for r in trail}


def test_two_accounts_trading_against_each_other_never_share_a_record() -> None:
    node = session()
    alice, bob = audit_trail(node.events(), "alice"), audit_trail(node.events(), "bob")
    assert seqs(bob) == oracle(node, {"bob"})
    assert not set(seqs(alice)) & set(seqs(bob))
    fills = {r.detail["trade_id"]: r for r in alice if r.event == "OrderFilled"}
    assert fills and all(r.detail["account_id"] == "alice" for r in fills.values())
    assert all(r.client_order_id != "bob-ask" for r in alice)


def test_a_refused_request_quoting_another_accounts_order_is_the_senders() -> None:
    node = session()
    bob_order = next(o for o in node.orders("bob"))
    refused = [r for r in audit_trail(node.events(), "alice") if r.event == "OrderCancelRejected"]
    assert [(r.order_id, r.account_id) for r in refused] == [(bob_order.order_id, "alice")]
    # bob's order details do not travel with alice's mistake, and bob's trail does not show it
    assert refused[0].client_order_id is None and refused[0].symbol is None
    assert "OrderCancelRejected" not in {r.event for r in audit_trail(node.events(), "bob")}


def test_an_account_nobody_ever_named_has_an_empty_trail() -> None:
    assert audit_trail(session().events(), "carol") == []


# ------------------------------------------------------------------ the generic rule
def test_the_rule_is_generic_account_scope_global_scope_and_order_ids() -> None:
    events: list[EventBase] = [
        opened(1, "a"),
        opened(2, "b"),
        submitted(3, 1, "a", "a-1"),
        submitted(4, 2, "b", "b-1"),
        RiskLimitsSet(
            seq=5, ts_event=T0, scope="account", scope_id="a", actor="risk", reason="LIMITS"
        ),
        RiskLimitsSet(
            seq=6, ts_event=T0, scope="account", scope_id="b", actor="risk", reason="LIMITS"
        ),
        KillSwitchTripped(
            seq=7, ts_event=T0, scope="global", scope_id="firm", actor="ops", reason="HALT"
        ),
        RiskLimitsSet(
            seq=8, ts_event=T0, scope="strategy", scope_id="s1", actor="risk", reason="LIMITS"
        ),
        RiskAlert(
            seq=9,
            ts_event=T0,
            scope="strategy",
            scope_id="s1",
            actor="engine",
            reason="FAT",
            order_id=1,
        ),
        RiskAlert(
            seq=10,
            ts_event=T0,
            scope="strategy",
            scope_id="s1",
            actor="engine",
            reason="FAT",
            order_id=2,
        ),
        KillSwitchTripped(
            seq=11,
            ts_event=T0,
            scope="account",
            scope_id="b",
            actor="ops",
            reason="X",
            account_id="b",
        ),
        RiskAlert(
            seq=12,
            ts_event=T0,
            scope="strategy",
            scope_id="s2",
            actor="engine",
            reason="Y",
            account_id="a",
        ),
        OrderAccepted(seq=13, ts_event=T0, order_id=1, venue_order_id="v1"),
        OrderCanceled(seq=14, ts_event=T0, order_id=2, reason="CANCELED_BY_USER"),
    ]
    trail = audit_trail(events, "a")
    assert seqs(trail) == [1, 3, 5, 7, 9, 12, 13]
    assert seqs(audit_trail(events, "b")) == [2, 4, 6, 7, 10, 11, 14]
    assert seqs(audit_trail(events, "nobody")) == [7]  # firm-wide actions govern every account
    by_seq = {r.seq: r for r in trail}
    assert (by_seq[5].event, by_seq[5].account_id, by_seq[5].actor) == (
        "RiskLimitsSet",
        "a",
        "risk",
    )
    assert by_seq[5].status_or_reason == "LIMITS"
    assert (by_seq[7].account_id, by_seq[7].actor, by_seq[7].status_or_reason) == (
        None,
        "ops",
        "HALT",
    )
    # an alert about one of a's orders carries the order's columns from its submission
    alert = by_seq[9]
    assert (alert.account_id, alert.order_id, alert.client_order_id) == ("a", 1, "a-1")
    assert (alert.symbol, alert.side, alert.detail["type"]) == ("ETH/USD", "SELL", "RiskAlert")


# ------------------------------------------------------------------ sub-accounts
def test_sub_accounts_at_any_depth_count_when_asked_even_when_opened_later() -> None:
    events: list[EventBase] = [
        opened(1, "desk"),
        opened(2, "other"),
        opened(3, "desk-a", parent_id="desk"),
        submitted(4, 1, "desk-a", "x"),
        submitted(5, 2, "other", "y"),
        OrderAccepted(seq=6, ts_event=T0, order_id=1, venue_order_id=None),
        opened(7, "desk-a-1", parent_id="desk-a"),  # a grandchild, opened after activity
        BalanceAdjusted(
            seq=8, ts_event=T0, account_id="desk-a-1", asset="USD", amount=Decimal(5), reason="d"
        ),
        opened(9, "other-a", parent_id="other"),
        RiskLimitsSet(
            seq=10, ts_event=T0, scope="account", scope_id="desk-a-1", actor="r", reason="L"
        ),
    ]
    assert seqs(audit_trail(events, "desk")) == [1]
    assert seqs(audit_trail(events, "desk", include_subaccounts=True)) == [1, 3, 4, 6, 7, 8, 10]
    assert seqs(audit_trail(events, "desk-a", include_subaccounts=True)) == [3, 4, 6, 7, 8, 10]


def test_sub_account_trail_of_a_live_session_is_the_union_of_the_tree() -> None:
    node = session()
    tree = audit_trail(node.events(), "alice", include_subaccounts=True)
    assert seqs(tree) == oracle(node, {"alice", "alice-algo"})
    assert {r.account_id for r in tree} == {"alice", "alice-algo"}


# ------------------------------------------------------------------ transfers
def test_a_transfer_is_in_the_trails_of_both_its_accounts_once_each() -> None:
    def moved(seq: int, src: str, dst: str, amount: str, reason: str) -> FundsTransferred:
        return FundsTransferred(
            seq=seq,
            ts_event=T0 + seq,
            account_id=src,
            to_account_id=dst,
            asset="USD",
            amount=Decimal(amount),
            reason=reason,
        )

    events: list[EventBase] = [
        opened(1, "desk"),
        opened(2, "desk-a", parent_id="desk"),
        opened(3, "other"),
        moved(4, "desk", "desk-a", "7.50", "fund"),
        moved(5, "desk-a", "desk", "2", "back"),
    ]
    assert seqs(audit_trail(events, "desk")) == [1, 4, 5]
    assert seqs(audit_trail(events, "desk-a")) == [2, 4, 5]
    assert seqs(audit_trail(events, "other")) == [3]
    received = audit_trail(events, "desk-a")[1]
    assert (received.event, received.account_id, received.symbol, received.qty) == (
        "FundsTransferred",
        "desk-a",
        "USD",
        "7.50",
    )
    assert received.status_or_reason == "fund"
    assert (received.detail["account_id"], received.detail["to_account_id"]) == ("desk", "desk-a")
    # The tree's trail has each transfer once, in the name of the account that sent it.
    tree = audit_trail(events, "desk", include_subaccounts=True)
    assert [(r.seq, r.account_id) for r in tree if r.event == "FundsTransferred"] == [
        (4, "desk"),
        (5, "desk-a"),
    ]


def test_a_live_transfer_between_alice_and_her_sub_account_is_in_both_trails() -> None:
    node = session()
    node.transfer("alice", "alice-algo", "USD", "1000.5")
    with pytest.raises(CommandRefused):
        node.transfer("alice-algo", "bob", "USD", 1)  # another tree: refused, alice-algo's
    (event,) = node.transfers()
    for account in ("alice", "alice-algo"):
        assert event.seq in seqs(node.audit(account))
    assert event.seq not in seqs(node.audit("bob"))
    refusal = [r for r in node.audit("alice-algo") if r.event == "CommandRejected"]
    assert [r.status_or_reason for r in refusal] == ["TRANSFER_NOT_ALLOWED"]
    assert "CommandRejected" not in {r.event for r in node.audit("bob")}


# ------------------------------------------------------------------ columns
def test_columns_come_from_whatever_the_event_carries() -> None:
    node = session()
    trail = audit_trail(node.events(), "alice")
    first = {}
    for r in trail:
        first.setdefault(r.event, r)
    sub = first["OrderSubmitted"]
    assert (sub.client_order_id, sub.symbol, sub.side) == ("alice-bid", "ETH/USD", "BUY")
    assert (sub.qty, sub.price, sub.status_or_reason) == ("1.5", "2000", None)
    fill = first["OrderFilled"]
    assert (fill.order_id, fill.client_order_id, fill.qty, fill.price) == (
        sub.order_id,
        "alice-bid",
        "1.5",
        "2000",
    )
    canceled = first["OrderCanceled"]  # carries only order_id: the rest from the submission
    assert (canceled.client_order_id, canceled.symbol, canceled.side) == (
        "alice-rest",
        "ETH/USD",
        "BUY",
    )
    assert canceled.status_or_reason == "CANCELED_BY_USER" and canceled.qty is None
    replaced = first["OrderReplaced"]
    assert (replaced.qty, replaced.price) == ("1", "1991")
    denied = first["OrderDenied"]
    assert denied.status_or_reason == "QUANTITY_NOT_MULTIPLE_OF_LOT" and denied.qty == "0.001"
    deposit = first["BalanceAdjusted"]
    assert (deposit.symbol, deposit.qty, deposit.status_or_reason) == ("USD", "100000", "deposit")
    assert first["AccountOpened"].account_id == "alice"
    assert all(r.actor is None for r in trail)  # no event of today's engine names an actor
    for r in trail:
        assert r.detail["type"] == r.event and r.detail["seq"] == r.seq
        assert r.time_utc == iso_ns(r.ts_event)


def test_the_detail_is_the_whole_event_with_exact_decimal_strings() -> None:
    event = submitted(3, 1, "a", "a-1")
    (record,) = audit_trail([event], "a")
    assert record.detail == json.loads(msgspec.json.encode(event))
    assert record.detail["intent"]["qty"] == "1.50"  # as journaled, not normalised
    assert record.qty == "1.50" and record.price == "2000.10"


def test_time_is_iso_8601_utc_to_the_nanosecond() -> None:
    assert iso_ns(T0) == "2026-01-01T00:00:00.000000000Z"
    assert iso_ns(T0 + 1_500_000_001) == "2026-01-01T00:00:01.500000001Z"
    assert iso_ns(-1) == "1969-12-31T23:59:59.999999999Z"
    assert iso_ns(10**30) == str(10**30)  # beyond year 9999: the raw value, never a crash


# ------------------------------------------------------------------ JSON Lines and CSV
def test_jsonl_is_one_object_per_record_and_decodes_to_the_same_records(tmp_path: Path) -> None:
    trail = audit_trail(session().events(), "alice", include_subaccounts=True)
    path = tmp_path / "alice.jsonl"
    assert write_audit(iter(trail), path, "jsonl") == len(trail)
    lines = path.read_bytes().splitlines()
    assert [msgspec.json.decode(line, type=AuditRecord) for line in lines] == trail
    assert list(json.loads(lines[0])) == list(COLUMNS)
    fill = next(json.loads(line) for line in lines if b'"OrderFilled"' in line)
    assert isinstance(fill["qty"], str) and isinstance(fill["detail"]["fee"], str)


def test_jsonl_goes_to_binary_and_text_files_alike() -> None:
    trail = audit_trail(session().events(), "bob")
    binary, text = io.BytesIO(), io.StringIO()
    write_audit(trail, binary, "jsonl")
    write_audit(trail, text, "jsonl")
    assert binary.getvalue().decode() == text.getvalue()


def test_csv_has_the_record_columns_and_reads_back_with_dict_reader(tmp_path: Path) -> None:
    trail = audit_trail(session().events(), "alice", include_subaccounts=True)
    path = tmp_path / "alice.csv"
    assert write_audit(trail, str(path), "csv") == len(trail)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == COLUMNS
    assert [int(row["seq"]) for row in rows] == seqs(trail)
    for row, record in zip(rows, trail, strict=True):
        for column in COLUMNS[:-1]:
            value = getattr(record, column)
            assert row[column] == ("" if value is None else str(value)), column
        assert json.loads(row["detail"]) == record.detail
        assert "\n" not in row["detail"] and ", " not in row["detail"]  # compact


def test_csv_goes_to_binary_and_text_files_alike() -> None:
    trail = audit_trail(session().events(), "bob")
    binary, text = io.BytesIO(), io.StringIO()
    assert write_audit(trail, binary, "csv") == write_audit(trail, text, "csv") == len(trail)
    assert binary.getvalue().decode() == text.getvalue()
    assert not binary.closed  # the caller's file stays open


def test_an_empty_trail_writes_a_header_only_csv_and_an_empty_jsonl(tmp_path: Path) -> None:
    assert write_audit([], tmp_path / "e.csv", "csv") == 0
    assert (tmp_path / "e.csv").read_text().strip() == ",".join(COLUMNS)
    assert write_audit([], tmp_path / "e.jsonl", "jsonl") == 0
    assert (tmp_path / "e.jsonl").read_bytes() == b""


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown audit format"):
        write_audit([], io.StringIO(), "xml")  # type: ignore[arg-type]


# ------------------------------------------------------------------ the rule, at random
ACCOUNTS = ("a", "b", "c", "a-1")


def random_session(seed: int) -> Node:
    rng = random.Random(seed)
    node = Node.in_memory(clock=ManualClock(T0))
    node.add_instrument(ETH)
    for account in ACCOUNTS:
        node.open_account(account, parent_id="a" if account == "a-1" else None)
        node.deposit(account, "USD", 1_000_000)
        node.deposit(account, "ETH", 100)
    for _ in range(40):
        node.clock.advance(1_000)
        account = rng.choice(ACCOUNTS)
        orders = sorted(node.engine.state.orders)
        if orders and rng.random() < 0.3:
            order_id = rng.choice(orders)  # sometimes another account's order: refused
            try:
                if rng.random() < 0.5:
                    node.cancel(account, order_id)
                else:
                    node.modify(account, order_id, price=str(rng.randint(1990, 2010)))
            except CommandRefused:
                pass
            continue
        side = rng.choice(("BUY", "SELL"))
        qty = rng.choice(("0.5", "1", "0.005"))  # 0.005: denied
        price = None if rng.random() < 0.2 else str(rng.randint(1995, 2005))
        node.submit(account, "ETH/USD", side, "LIMIT" if price else "MARKET", qty, price)
    return node


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_every_event_lands_in_exactly_the_trails_of_the_accounts_it_concerns(seed: int) -> None:
    node = random_session(seed)
    events = list(node.events())
    for account in ACCOUNTS:
        assert seqs(audit_trail(events, account)) == oracle(node, {account})
    tree = audit_trail(events, "a", include_subaccounts=True)
    assert seqs(tree) == oracle(node, {"a", "a-1"})
    covered = sorted(s for account in ("a", "b", "c") for s in seqs(audit_trail(events, account)))
    covered += seqs(audit_trail(events, "a-1"))
    concerning = [
        e.seq
        for e in events
        if type(e).__name__ not in ("InstrumentAdded", "PricesUpdated")  # no account's
    ]
    assert sorted(covered) == concerning  # nothing missing, nothing twice
